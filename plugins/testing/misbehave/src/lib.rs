//! Test-only token filter that breaks the sandbox's rules on request, so the host's tests can
//! check that every failure becomes the right typed error. It is never shipped or embedded.
//!
//! The setting `behaviour` selects what `apply` does: `none` returns the documents unchanged,
//! `loop` spins forever, `allocate` grows memory until an allocation fails, `panic` panics
//! (a trap, because plugins are built with `panic = "abort"`) and `fail` returns
//! `plugin-error.failed`.

use std::cell::Cell;

use serde::Deserialize;

wit_bindgen::generate!({ world: "token-filter", path: "../../wit" });

use topica::plugin::types::PluginKind;

/// Default settings, as `info` reports them.
const DEFAULT_SETTINGS: &str = r#"{"behaviour":"none"}"#;

/// Behaviour of `apply`.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Behaviour {
    /// Returns the documents unchanged.
    #[default]
    None,
    /// Spins forever without returning.
    Loop,
    /// Allocates and touches 1 MiB blocks until an allocation fails.
    Allocate,
    /// Panics, which traps.
    Panic,
    /// Returns `plugin-error.failed`.
    Fail,
}

/// Settings parsed from the JSON passed to `configure`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    /// Behaviour of `apply` (default `none`).
    behaviour: Behaviour,
}

thread_local! {
    static BEHAVIOUR: Cell<Behaviour> = const { Cell::new(Behaviour::None) };
}

struct Misbehave;

impl Guest for Misbehave {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "misbehave".to_owned(),
            version: "0.1.0".to_owned(),
            kind: PluginKind::TokenFilter,
            description: "Test-only filter that loops, allocates, traps or fails on request."
                .to_owned(),
            default_settings: DEFAULT_SETTINGS.to_owned(),
        }
    }

    fn configure(settings: String) -> Result<(), PluginError> {
        let parsed = parse_settings(&settings)?;
        BEHAVIOUR.with(|behaviour| behaviour.set(parsed.behaviour));
        Ok(())
    }

    fn apply(docs: Vec<Vec<String>>) -> Result<Vec<Vec<String>>, PluginError> {
        match BEHAVIOUR.with(Cell::get) {
            Behaviour::None => Ok(docs),
            Behaviour::Loop => spin_forever(),
            Behaviour::Allocate => allocate_until_failure(),
            Behaviour::Panic => panic!("misbehave plugin panicked on request"),
            Behaviour::Fail => Err(PluginError::Failed(
                "misbehave plugin failed on request".to_owned(),
            )),
        }
    }
}

fn spin_forever() -> ! {
    let mut counter: u64 = 0;
    loop {
        counter = std::hint::black_box(counter.wrapping_add(1));
    }
}

fn allocate_until_failure() -> ! {
    const BLOCK_BYTES: usize = 1 << 20;
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    loop {
        // Filling the block keeps the optimiser from dropping the allocation.
        blocks.push(vec![1; BLOCK_BYTES]);
        std::hint::black_box(&blocks);
    }
}

/// Parses the settings JSON object; an error names the field and the rejected value.
fn parse_settings(json: &str) -> Result<Settings, PluginError> {
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(json).map_err(|error| {
            PluginError::InvalidSettings(format!(
                "invalid misbehave settings: {error}; expected a JSON object such as {DEFAULT_SETTINGS}"
            ))
        })?;
    serde_path_to_error::deserialize(serde_json::Value::Object(object)).map_err(|error| {
        PluginError::InvalidSettings(format!(
            "invalid misbehave setting `{}`: {}",
            error.path(),
            error.inner()
        ))
    })
}

export!(Misbehave);
