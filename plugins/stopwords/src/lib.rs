//! Built-in token filter that removes stopwords: the bundled Snowball lists for English and
//! Italian (see `lists/README.md` for their source) plus words the caller supplies.
//!
//! Matching is case-insensitive: a token is removed when its Unicode lowercase form is in the
//! set, and the set itself is lowercased. Both languages are on by default because the
//! reference workflow for Italian newspaper corpora removes both lists, since such texts
//! quote English. For English-only corpora, pass `"languages": ["english"]`, because the
//! Italian list contains words that are content words in English (`come`, `era`, `dove`).

use std::cell::RefCell;
use std::collections::HashSet;

use serde::Deserialize;

wit_bindgen::generate!({ world: "token-filter", path: "../wit" });

use topica::plugin::types::PluginKind;

const ENGLISH: &str = include_str!("../lists/english.txt");
const ITALIAN: &str = include_str!("../lists/italian.txt");

/// Default settings, as `info` reports them.
const DEFAULT_SETTINGS: &str = r#"{"languages":["english","italian"],"extra":[]}"#;

/// A bundled stopword list.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Language {
    /// 179 words, nltk's augmented Snowball list.
    English,
    /// 279 words, the Snowball list.
    Italian,
}

impl Language {
    fn words(self) -> &'static str {
        match self {
            Language::English => ENGLISH,
            Language::Italian => ITALIAN,
        }
    }
}

/// The filter's settings, parsed from the JSON passed to `configure`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    /// Bundled lists to use (default `["english", "italian"]`, and it may be empty).
    languages: Vec<Language>,
    /// Further words to remove, matched case-insensitively (default none).
    extra: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            languages: vec![Language::English, Language::Italian],
            extra: Vec::new(),
        }
    }
}

impl Settings {
    fn stopwords(&self) -> HashSet<String> {
        let bundled = self
            .languages
            .iter()
            .flat_map(|language| language.words().lines());
        let extra = self.extra.iter().map(String::as_str);
        bundled
            .chain(extra)
            .map(str::trim)
            .filter(|word| !word.is_empty())
            .map(str::to_lowercase)
            .collect()
    }
}

thread_local! {
    static STOPWORDS: RefCell<HashSet<String>> = RefCell::new(Settings::default().stopwords());
}

struct Stopwords;

impl Guest for Stopwords {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "stopwords".to_owned(),
            version: "0.1.0".to_owned(),
            kind: PluginKind::TokenFilter,
            description: "Removes English and Italian Snowball stopwords and extra words, \
                          ignoring case."
                .to_owned(),
            default_settings: DEFAULT_SETTINGS.to_owned(),
        }
    }

    fn configure(settings: String) -> Result<(), PluginError> {
        let parsed = parse_settings(&settings)?;
        STOPWORDS.with(|current| *current.borrow_mut() = parsed.stopwords());
        Ok(())
    }

    fn apply(docs: Vec<Vec<String>>) -> Result<Vec<Vec<String>>, PluginError> {
        STOPWORDS.with(|current| {
            let stopwords = current.borrow();
            let filtered = docs
                .into_iter()
                .map(|doc| {
                    doc.into_iter()
                        .filter(|token| !stopwords.contains(&token.to_lowercase()))
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
                "invalid stopwords settings: {error}; expected a JSON object such as {DEFAULT_SETTINGS}"
            ))
        })?;
    serde_path_to_error::deserialize(serde_json::Value::Object(object)).map_err(|error| {
        PluginError::InvalidSettings(format!(
            "invalid stopwords setting `{}`: {}",
            error.path(),
            error.inner()
        ))
    })
}

export!(Stopwords);
