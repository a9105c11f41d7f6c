//! Built-in token filter that replaces every token with its Snowball stem (the `rust-stemmers`
//! crate), for example English `running` to `run` and Italian `abbandonata` to `abbandon`.
//!
//! Snowball stemmers expect lowercase input, so put `lowercase` before this step.

use std::cell::RefCell;

use rust_stemmers::{Algorithm, Stemmer};
use serde::Deserialize;

wit_bindgen::generate!({ world: "token-filter", path: "../wit" });

use topica::plugin::types::PluginKind;

/// Snowball algorithms by the names `configure` accepts.
const LANGUAGES: [(&str, Algorithm); 18] = [
    ("arabic", Algorithm::Arabic),
    ("danish", Algorithm::Danish),
    ("dutch", Algorithm::Dutch),
    ("english", Algorithm::English),
    ("finnish", Algorithm::Finnish),
    ("french", Algorithm::French),
    ("german", Algorithm::German),
    ("greek", Algorithm::Greek),
    ("hungarian", Algorithm::Hungarian),
    ("italian", Algorithm::Italian),
    ("norwegian", Algorithm::Norwegian),
    ("portuguese", Algorithm::Portuguese),
    ("romanian", Algorithm::Romanian),
    ("russian", Algorithm::Russian),
    ("spanish", Algorithm::Spanish),
    ("swedish", Algorithm::Swedish),
    ("tamil", Algorithm::Tamil),
    ("turkish", Algorithm::Turkish),
];

/// Default settings, as `info` reports them.
const DEFAULT_SETTINGS: &str = r#"{"language":"english"}"#;

/// The stemmer's settings, parsed from the JSON passed to `configure`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    /// Snowball language, one of the names in `LANGUAGES` (default `"english"`).
    language: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            language: "english".to_owned(),
        }
    }
}

fn algorithm(language: &str) -> Result<Algorithm, PluginError> {
    LANGUAGES
        .iter()
        .find(|(name, _)| *name == language)
        .map(|(_, algorithm)| *algorithm)
        .ok_or_else(|| {
            let names: Vec<&str> = LANGUAGES.iter().map(|(name, _)| *name).collect();
            PluginError::InvalidSettings(format!(
                "invalid stemmer setting `language`: {language:?} has no Snowball stemmer; \
                 use one of {}",
                names.join(", ")
            ))
        })
}

thread_local! {
    static STEMMER: RefCell<Stemmer> = RefCell::new(Stemmer::create(Algorithm::English));
}

struct SnowballStemmer;

impl Guest for SnowballStemmer {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "stemmer".to_owned(),
            version: "0.1.0".to_owned(),
            kind: PluginKind::TokenFilter,
            description: "Replaces each token with its Snowball stem in the chosen language."
                .to_owned(),
            default_settings: DEFAULT_SETTINGS.to_owned(),
        }
    }

    fn configure(settings: String) -> Result<(), PluginError> {
        let parsed = parse_settings(&settings)?;
        let stemmer = Stemmer::create(algorithm(&parsed.language)?);
        STEMMER.with(|current| *current.borrow_mut() = stemmer);
        Ok(())
    }

    fn apply(docs: Vec<Vec<String>>) -> Result<Vec<Vec<String>>, PluginError> {
        STEMMER.with(|current| {
            let stemmer = current.borrow();
            let stemmed = docs
                .into_iter()
                .map(|doc| {
                    doc.iter()
                        .map(|token| stemmer.stem(token).into_owned())
                        .collect()
                })
                .collect();
            Ok(stemmed)
        })
    }
}

/// Parses the settings JSON object; an error names the field and the rejected value.
fn parse_settings(json: &str) -> Result<Settings, PluginError> {
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(json).map_err(|error| {
            PluginError::InvalidSettings(format!(
                "invalid stemmer settings: {error}; expected a JSON object such as {DEFAULT_SETTINGS}"
            ))
        })?;
    serde_path_to_error::deserialize(serde_json::Value::Object(object)).map_err(|error| {
        PluginError::InvalidSettings(format!(
            "invalid stemmer setting `{}`: {}",
            error.path(),
            error.inner()
        ))
    })
}

export!(SnowballStemmer);
