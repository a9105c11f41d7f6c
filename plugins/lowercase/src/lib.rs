//! Built-in token filter that lowercases every token with Unicode's full lowercase mapping
//! (`str::to_lowercase`), so `Città` becomes `città` and `ΣΟΦΟΣ` becomes `σοφος`.
//!
//! It takes no settings: `configure` accepts only an empty JSON object.

use serde::Deserialize;

wit_bindgen::generate!({ world: "token-filter", path: "../wit" });

use topica::plugin::types::PluginKind;

/// Default settings, as `info` reports them.
const DEFAULT_SETTINGS: &str = "{}";

/// The settings object, which has no fields; any field is rejected.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {}

struct Lowercase;

impl Guest for Lowercase {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "lowercase".to_owned(),
            version: "0.1.0".to_owned(),
            kind: PluginKind::TokenFilter,
            description: "Lowercases every token with Unicode's full lowercase mapping.".to_owned(),
            default_settings: DEFAULT_SETTINGS.to_owned(),
        }
    }

    fn configure(settings: String) -> Result<(), PluginError> {
        parse_settings(&settings).map(drop)
    }

    fn apply(docs: Vec<Vec<String>>) -> Result<Vec<Vec<String>>, PluginError> {
        let lowercased = docs
            .into_iter()
            .map(|doc| doc.iter().map(|token| token.to_lowercase()).collect())
            .collect();
        Ok(lowercased)
    }
}

/// Parses the settings JSON object; an error names the field and the rejected value.
fn parse_settings(json: &str) -> Result<Settings, PluginError> {
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(json).map_err(|error| {
            PluginError::InvalidSettings(format!(
                "invalid lowercase settings: {error}; expected a JSON object such as {DEFAULT_SETTINGS}"
            ))
        })?;
    serde_path_to_error::deserialize(serde_json::Value::Object(object)).map_err(|error| {
        PluginError::InvalidSettings(format!(
            "invalid lowercase setting `{}`: {}",
            error.path(),
            error.inner()
        ))
    })
}

export!(Lowercase);
