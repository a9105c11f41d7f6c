//! Built-in corpus filter that joins frequent collocations into one token with gensim's
//! `Phrases` semantics, so `new york` becomes `new_york` when the bigram scores above
//! `threshold`. The statistics and scoring live in `topica_core::phrases`, and this plugin only
//! connects them to the corpus-filter world. `fit` adds every document of a batch to the
//! counts, and `apply` rewrites a batch with the fitted model.

use std::cell::RefCell;

use serde::Deserialize;
use topica_core::phrases::{Phrases, PhrasesSettings};

wit_bindgen::generate!({ world: "corpus-filter", path: "../wit" });

use topica::plugin::types::PluginKind;

/// Default settings, as `info` reports them.
const DEFAULT_SETTINGS: &str = r#"{"min_count":5,"threshold":10.0,"delimiter":"_","connector_words":[],"max_vocab_size":2000000}"#;

/// The plugin's settings, parsed from the JSON passed to `configure`, with gensim's defaults.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    /// Bigrams seen fewer times than this are never joined (default 5).
    min_count: u64,
    /// Minimum score for joining a bigram, gensim's default scorer (default 10.0).
    threshold: f64,
    /// Text placed between the joined tokens (default `"_"`).
    delimiter: String,
    /// Words that may sit inside a phrase without breaking it, such as `of` in
    /// `bank_of_america` (default none).
    connector_words: Vec<String>,
    /// Vocabulary entries (unigrams plus bigrams) above which rare entries are pruned while
    /// counting (default 2,000,000). gensim's default of 40,000,000 needs several GB, more
    /// than a wasm32 plugin can address; 2,000,000 entries fit in the host's default memory
    /// limit for text steps (estimated at about 100 bytes an entry).
    max_vocab_size: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            min_count: 5,
            threshold: 10.0,
            delimiter: "_".to_owned(),
            connector_words: Vec::new(),
            max_vocab_size: 2_000_000,
        }
    }
}

thread_local! {
    static MODEL: RefCell<Option<Phrases>> = const { RefCell::new(None) };
}

struct PhrasesPlugin;

impl Guest for PhrasesPlugin {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "phrases".to_owned(),
            version: "0.1.0".to_owned(),
            kind: PluginKind::CorpusFilter,
            description: "Joins frequent bigrams such as new_york, with gensim Phrases scoring."
                .to_owned(),
            default_settings: DEFAULT_SETTINGS.to_owned(),
        }
    }

    fn configure(settings: String) -> Result<(), PluginError> {
        let parsed = parse_settings(&settings)?;

        let settings = PhrasesSettings {
            min_count: parsed.min_count,
            threshold: parsed.threshold,
            delimiter: parsed.delimiter,
            connector_words: parsed.connector_words.into_iter().collect(),
            max_vocab_size: parsed.max_vocab_size,
        };
        let phrases = Phrases::new(settings).map_err(|error| {
            PluginError::InvalidSettings(format!("invalid phrases settings: {error}"))
        })?;
        MODEL.with(|model| *model.borrow_mut() = Some(phrases));
        Ok(())
    }

    fn fit(docs: Vec<Vec<String>>) -> Result<(), PluginError> {
        with_model(|model| {
            for doc in &docs {
                model.add_document(doc);
            }
        })
    }

    fn apply(docs: Vec<Vec<String>>) -> Result<Vec<Vec<String>>, PluginError> {
        with_model(|model| docs.iter().map(|doc| model.apply(doc)).collect())
    }
}

/// Runs `action` on the configured model, or fails when `configure` has not run.
fn with_model<R>(action: impl FnOnce(&mut Phrases) -> R) -> Result<R, PluginError> {
    MODEL.with(|model| match model.borrow_mut().as_mut() {
        Some(model) => Ok(action(model)),
        None => Err(PluginError::Failed(
            "phrases was called before configure; call configure with the settings first"
                .to_owned(),
        )),
    })
}

/// Parses the settings JSON object; an error names the field and the rejected value.
fn parse_settings(json: &str) -> Result<Settings, PluginError> {
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(json).map_err(|error| {
            PluginError::InvalidSettings(format!(
                "invalid phrases settings: {error}; expected a JSON object such as {DEFAULT_SETTINGS}"
            ))
        })?;
    serde_path_to_error::deserialize(serde_json::Value::Object(object)).map_err(|error| {
        PluginError::InvalidSettings(format!(
            "invalid phrases setting `{}`: {}",
            error.path(),
            error.inner()
        ))
    })
}

export!(PhrasesPlugin);
