//! Built-in token filter that keeps a token only when every character is alphabetic
//! (`char::is_alphabetic`, so accented and non-Latin letters count) and its length in
//! characters, not bytes, lies within `min_length..=max_length`. `città` has 5 characters.
//! Numbers, tokens with digits, hyphens or other marks, and short tokens are dropped.

use std::cell::RefCell;

use serde::Deserialize;

wit_bindgen::generate!({ world: "token-filter", path: "../wit" });

use topica::plugin::types::PluginKind;

/// Default settings, as `info` reports them.
const DEFAULT_SETTINGS: &str = r#"{"min_length":3,"max_length":null}"#;

/// The filter's settings, parsed from the JSON passed to `configure`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    /// Minimum token length in characters (default 3, at least 1).
    min_length: usize,
    /// Maximum token length in characters (default `null`: no maximum).
    max_length: Option<usize>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            min_length: 3,
            max_length: None,
        }
    }
}

impl Settings {
    fn validate(&self) -> Result<(), PluginError> {
        if self.min_length == 0 {
            return Err(PluginError::InvalidSettings(
                "invalid alpha-filter setting `min_length`: 0; use 1 or more".to_owned(),
            ));
        }
        if let Some(max_length) = self.max_length
            && max_length < self.min_length
        {
            return Err(PluginError::InvalidSettings(format!(
                "invalid alpha-filter setting `max_length`: {max_length} is below `min_length` {}; \
                 raise it or set it to null for no maximum",
                self.min_length
            )));
        }
        Ok(())
    }

    fn keeps(&self, token: &str) -> bool {
        let length = token.chars().count();
        let long_enough = length >= self.min_length;
        let short_enough = self
            .max_length
            .is_none_or(|max_length| length <= max_length);
        long_enough && short_enough && token.chars().all(char::is_alphabetic)
    }
}

thread_local! {
    static SETTINGS: RefCell<Settings> = RefCell::new(Settings::default());
}

struct AlphaFilter;

impl Guest for AlphaFilter {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "alpha-filter".to_owned(),
            version: "0.1.0".to_owned(),
            kind: PluginKind::TokenFilter,
            description: "Keeps tokens made only of letters, with a length in characters \
                          between min_length and max_length."
                .to_owned(),
            default_settings: DEFAULT_SETTINGS.to_owned(),
        }
    }

    fn configure(settings: String) -> Result<(), PluginError> {
        let parsed = parse_settings(&settings)?;
        parsed.validate()?;
        SETTINGS.with(|current| *current.borrow_mut() = parsed);
        Ok(())
    }

    fn apply(docs: Vec<Vec<String>>) -> Result<Vec<Vec<String>>, PluginError> {
        SETTINGS.with(|current| {
            let settings = current.borrow();
            let filtered = docs
                .into_iter()
                .map(|doc| {
                    doc.into_iter()
                        .filter(|token| settings.keeps(token))
                        .collect()
                })
                .collect();
            Ok(filtered)
        })
    }
}

/// Parses the settings JSON object; an error names the field and the rejected value.
fn parse_settings(json: &str) -> Result<Settings, PluginError> {
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(json).map_err(|error| {
            PluginError::InvalidSettings(format!(
                "invalid alpha-filter settings: {error}; expected a JSON object such as {DEFAULT_SETTINGS}"
            ))
        })?;
    serde_path_to_error::deserialize(serde_json::Value::Object(object)).map_err(|error| {
        PluginError::InvalidSettings(format!(
            "invalid alpha-filter setting `{}`: {}",
            error.path(),
            error.inner()
        ))
    })
}

export!(AlphaFilter);
