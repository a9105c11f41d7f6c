//! Built-in token filter that lowercases every token with Unicode's full lowercase mapping
//! (`str::to_lowercase`), so `Città` becomes `città` and `ΣΟΦΟΣ` becomes `σοφος`.
//!
//! It takes no settings: `configure` accepts only an empty JSON object.

use serde::Deserialize;

wit_bindgen::generate!({ world: "token-filter", path: "../wit" });

use topica::plugin::types::PluginKind;

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
            default_settings: "{}".to_owned(),
        }
    }

    fn configure(settings: String) -> Result<(), PluginError> {
        let mut deserializer = serde_json::Deserializer::from_str(&settings);
        let _: Settings = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|error| invalid_settings(error.inner()))?;
        deserializer.end().map_err(|error| invalid_settings(&error))
    }

    fn apply(docs: Vec<Vec<String>>) -> Result<Vec<Vec<String>>, PluginError> {
        let lowercased = docs
            .into_iter()
            .map(|doc| doc.iter().map(|token| token.to_lowercase()).collect())
            .collect();
        Ok(lowercased)
    }
}

fn invalid_settings(error: &serde_json::Error) -> PluginError {
    PluginError::InvalidSettings(format!(
        "invalid lowercase settings: {error}; this plugin takes no settings, so pass {{}}"
    ))
}

export!(Lowercase);
