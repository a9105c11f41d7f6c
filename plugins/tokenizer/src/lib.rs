//! Built-in tokenizer plugin: Unicode normalisation, then Unicode word boundaries (UAX #29),
//! then elisions split at the apostrophe.
//!
//! UAX #29 keeps `l'uomo` and `dell’anno` as one word because an apostrophe between letters
//! does not break a word. With `split_elisions` on, such words are split at every apostrophe
//! and the apostrophe is dropped, so `dell'anno` gives `dell` and `anno`. The bare article is
//! the form the Snowball Italian stopword list contains (`l`, `dell`, `all`, `nell`), and
//! English contractions split the same way (`don't` gives `don` and `t`, both English
//! stopwords). Tokens keep their case, and numbers such as `1897` or `3.5` stay tokens.

use std::cell::RefCell;

use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

wit_bindgen::generate!({ world: "tokenizer", path: "../wit" });

use topica::plugin::types::PluginKind;

/// Characters treated as an apostrophe: ASCII `'`, the typographic `’` (U+2019) and the
/// modifier letter apostrophe `ʼ` (U+02BC).
const APOSTROPHES: [char; 3] = ['\'', '\u{2019}', '\u{02BC}'];

/// Default settings, as `info` reports them.
const DEFAULT_SETTINGS: &str = r#"{"normalization":"nfc","split_elisions":true}"#;

/// Unicode normalisation form applied before segmentation.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Normalization {
    /// Canonical composition: NFC and NFD spellings of `città` give the same token.
    #[default]
    Nfc,
    /// Compatibility composition: also folds ligatures and width variants (`ﬁ` becomes `fi`).
    Nfkc,
}

/// The tokenizer's settings, parsed from the JSON passed to `configure`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    /// Normalisation form, `"nfc"` (default) or `"nfkc"`.
    normalization: Normalization,
    /// Whether words are split at apostrophes (default `true`).
    split_elisions: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            normalization: Normalization::Nfc,
            split_elisions: true,
        }
    }
}

thread_local! {
    static SETTINGS: RefCell<Settings> = RefCell::new(Settings::default());
}

struct Tokenizer;

impl Guest for Tokenizer {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "tokenizer".to_owned(),
            version: "0.1.0".to_owned(),
            kind: PluginKind::Tokenizer,
            description: "Splits text at Unicode word boundaries after NFC normalisation, \
                          with elisions such as l'uomo split into l and uomo."
                .to_owned(),
            default_settings: DEFAULT_SETTINGS.to_owned(),
        }
    }

    fn configure(settings: String) -> Result<(), PluginError> {
        let parsed = parse_settings(&settings)?;
        SETTINGS.with(|current| *current.borrow_mut() = parsed);
        Ok(())
    }

    fn tokenize(texts: Vec<String>) -> Result<Vec<Vec<String>>, PluginError> {
        let settings = SETTINGS.with(|current| current.borrow().clone());
        Ok(texts
            .iter()
            .map(|text| tokenize_text(text, &settings))
            .collect())
    }
}

fn tokenize_text(text: &str, settings: &Settings) -> Vec<String> {
    let normalized: String = match settings.normalization {
        Normalization::Nfc => text.nfc().collect(),
        Normalization::Nfkc => text.nfkc().collect(),
    };

    let mut tokens = Vec::new();
    for word in normalized.unicode_words() {
        if settings.split_elisions {
            let pieces = word.split(APOSTROPHES).filter(|piece| !piece.is_empty());
            tokens.extend(pieces.map(str::to_owned));
        } else {
            tokens.push(word.to_owned());
        }
    }
    tokens
}

/// Parses the settings JSON object; an error names the field and the rejected value.
fn parse_settings(json: &str) -> Result<Settings, PluginError> {
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(json).map_err(|error| {
            PluginError::InvalidSettings(format!(
                "invalid tokenizer settings: {error}; expected a JSON object such as {DEFAULT_SETTINGS}"
            ))
        })?;
    serde_path_to_error::deserialize(serde_json::Value::Object(object)).map_err(|error| {
        PluginError::InvalidSettings(format!(
            "invalid tokenizer setting `{}`: {}",
            error.path(),
            error.inner()
        ))
    })
}

export!(Tokenizer);
