//! Preprocessing: the plugin chain from a pipeline file, then the dictionary with gensim's
//! `filter_extremes`, with the tokens stored back with each document.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use topica_core::dictionary::{Dictionary, FilterExtremes};
use topica_plugin_host::{SandboxLimits, StepPlugin, TextPipeline};

use crate::context::Context;
use crate::store::{DocumentTokens, PipelineRecord, now_rfc3339};

/// One step of the chain: a plugin by name and its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepConfig {
    /// Built-in plugin name (`tokenizer`, `lowercase`, `alpha-filter`, `stopwords`, `stemmer`,
    /// `phrases`), or the path of a user plugin component ending in `.wasm`.
    pub plugin: String,
    /// Plugin settings; omitted ones take the plugin's defaults.
    #[serde(default = "empty_settings")]
    pub settings: serde_json::Value,
}

fn empty_settings() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

/// Sandbox limits for every plugin call of the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Wall-clock deadline of one plugin call (one batch of documents), in seconds (default 60).
    #[serde(default = "default_deadline_seconds")]
    pub deadline_seconds: f64,
    /// Linear memory a plugin instance may grow to, in MiB (default 512).
    #[serde(default = "default_memory_mib")]
    pub memory_mib: usize,
}

fn default_deadline_seconds() -> f64 {
    60.0
}

fn default_memory_mib() -> usize {
    512
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            deadline_seconds: default_deadline_seconds(),
            memory_mib: default_memory_mib(),
        }
    }
}

impl LimitsConfig {
    fn to_sandbox_limits(&self) -> Result<SandboxLimits, PreprocessError> {
        if !(self.deadline_seconds.is_finite() && self.deadline_seconds > 0.0) {
            return Err(PreprocessError::InvalidPipeline(format!(
                "invalid limits.deadline_seconds {}: use a positive number of seconds",
                self.deadline_seconds
            )));
        }
        let limits = SandboxLimits::text()
            .with_deadline(Duration::from_secs_f64(self.deadline_seconds))
            .with_memory_bytes(self.memory_mib.saturating_mul(1024 * 1024));
        limits.validate()?;
        Ok(limits)
    }
}

/// A pipeline file: the steps in order, the dictionary filters and the sandbox limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    #[serde(default = "default_steps")]
    pub steps: Vec<StepConfig>,
    #[serde(default)]
    pub dictionary: FilterExtremes,
    #[serde(default)]
    pub limits: LimitsConfig,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            steps: default_steps(),
            dictionary: FilterExtremes::default(),
            limits: LimitsConfig::default(),
        }
    }
}

/// Returns the default chain: tokenize, lowercase, keep alphabetic tokens of 3+ characters, drop English
/// and Italian stopwords, join frequent bigrams. Stemming is off by default.
pub fn default_steps() -> Vec<StepConfig> {
    let step = |plugin: &str, settings: serde_json::Value| StepConfig {
        plugin: plugin.into(),
        settings,
    };
    vec![
        step("tokenizer", empty_settings()),
        step("lowercase", empty_settings()),
        step("alpha-filter", serde_json::json!({ "min_length": 3 })),
        step(
            "stopwords",
            serde_json::json!({ "languages": ["english", "italian"] }),
        ),
        step(
            "phrases",
            serde_json::json!({ "min_count": 5, "threshold": 10.0 }),
        ),
    ]
}

/// Failures of `topica preprocess`.
#[derive(Debug, thiserror::Error)]
pub enum PreprocessError {
    /// The pipeline file could not be read or parsed.
    #[error("invalid pipeline file {path}: {cause}")]
    InvalidConfig { path: String, cause: String },
    /// The dictionary settings are invalid.
    #[error("invalid dictionary settings: {0}")]
    InvalidFilter(String),
    /// The pipeline has no tokenizer first, or names the same stopwords file twice, etc.
    #[error("invalid pipeline: {0}")]
    InvalidPipeline(String),
    /// Filtering removed every word.
    #[error(
        "dictionary filtering removed all {vocabulary} distinct tokens (no_below={no_below}, no_above={no_above}, keep_n={keep_n}): lower no_below or raise no_above in the [dictionary] section of the pipeline file"
    )]
    EmptyVocabulary {
        vocabulary: usize,
        no_below: u64,
        no_above: f64,
        keep_n: String,
    },
    /// A plugin failed, timed out or ran out of memory.
    #[error(transparent)]
    Plugin(#[from] topica_plugin_host::Error),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl PipelineConfig {
    /// Reads a pipeline file, or returns the defaults when `path` is `None`, and adds the words
    /// of an extra stopword file to the stopwords step.
    pub fn load(
        path: Option<&Path>,
        extra_stopwords: Option<&Path>,
    ) -> Result<Self, PreprocessError> {
        let mut config = match path {
            None => Self::default(),
            Some(path) => {
                let invalid = |cause: String| PreprocessError::InvalidConfig {
                    path: path.display().to_string(),
                    cause,
                };
                let text =
                    std::fs::read_to_string(path).map_err(|error| invalid(error.to_string()))?;
                toml::from_str(&text).map_err(|error| invalid(error.to_string()))?
            }
        };
        config
            .dictionary
            .validate()
            .map_err(|error| PreprocessError::InvalidFilter(error.to_string()))?;

        if let Some(file) = extra_stopwords {
            let text =
                std::fs::read_to_string(file).map_err(|error| PreprocessError::InvalidConfig {
                    path: file.display().to_string(),
                    cause: format!("cannot read the stopword file: {error}"),
                })?;
            let words: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with('#'))
                .map(str::to_owned)
                .collect();
            config.add_stopwords(words)?;
        }
        Ok(config)
    }

    fn add_stopwords(&mut self, words: Vec<String>) -> Result<(), PreprocessError> {
        let Some(step) = self
            .steps
            .iter_mut()
            .find(|step| step.plugin == "stopwords")
        else {
            return Err(PreprocessError::InvalidPipeline(
                "a stopword file was given but the pipeline has no `stopwords` step".into(),
            ));
        };
        let settings = step.settings.as_object_mut().ok_or_else(|| {
            PreprocessError::InvalidPipeline(
                "the settings of the `stopwords` step must be a table".into(),
            )
        })?;
        let extra = settings
            .entry("extra")
            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
        let Some(list) = extra.as_array_mut() else {
            return Err(PreprocessError::InvalidPipeline(
                "`extra` of the `stopwords` step must be a list of words".into(),
            ));
        };
        list.extend(words.into_iter().map(serde_json::Value::String));
        Ok(())
    }
}

/// Summary of one preprocessing run.
#[derive(Debug, Clone, Serialize)]
pub struct PreprocessReport {
    pub corpus: String,
    pub pipeline_id: String,
    pub documents: usize,
    /// Tokens after the plugin chain, before dictionary filtering.
    pub tokens: usize,
    /// Distinct tokens before and after dictionary filtering.
    pub vocabulary_before_filter: usize,
    pub vocabulary: usize,
    /// Documents with no tokens left after the plugin chain.
    pub empty_after_plugins: Vec<String>,
    /// Documents with no dictionary words left; they are excluded from training.
    pub empty_after_filter: Vec<String>,
    pub steps: serde_json::Value,
    pub timings: PreprocessTimings,
}

/// Durations of the parts of one preprocessing run, in seconds.
#[derive(Debug, Clone, Serialize)]
pub struct PreprocessTimings {
    /// Reading the documents from the store.
    pub read: f64,
    /// The plugin chain, instantiation included.
    pub chain: f64,
    /// Each step of the chain, in order, instantiation excluded.
    pub steps: Vec<StepTiming>,
    /// Building and filtering the dictionary.
    pub dictionary: f64,
    /// Writing the token lists and the dictionary to the store.
    pub store: f64,
}

/// Seconds one step of the chain took.
#[derive(Debug, Clone, Serialize)]
pub struct StepTiming {
    pub plugin: String,
    pub seconds: f64,
}

/// Runs the chain on every document of `corpus`, builds and filters the dictionary, and stores
/// the token lists under the pipeline id.
pub async fn preprocess(
    context: &Context,
    corpus: &str,
    config: &PipelineConfig,
) -> Result<PreprocessReport, PreprocessError> {
    let started = Instant::now();
    let documents = context.store.documents(corpus).await?;
    let read = started.elapsed().as_secs_f64();
    let texts: Vec<String> = documents
        .iter()
        .map(|document| document.content.text.clone())
        .collect();

    let limits = config.limits.to_sandbox_limits()?;
    let host = context.host.clone();
    let steps = config.steps.clone();
    let started = Instant::now();
    let (token_lists, chain_id, steps_description, step_seconds) =
        tokio::task::spawn_blocking(move || {
            let mut specs = Vec::with_capacity(steps.len());
            for step in &steps {
                // A plugin given as a path to a `.wasm` component is a user plugin.
                let plugin = if step.plugin.ends_with(".wasm") {
                    StepPlugin::Loaded(host.load_file(&step.plugin)?)
                } else {
                    StepPlugin::Builtin(step.plugin.clone())
                };
                specs.push((plugin, step.settings.to_string()));
            }
            let pipeline = TextPipeline::new(&host, specs)?.with_limits(limits)?;
            let mut step_seconds = vec![0.0; steps.len()];
            let tokens = pipeline.run_with_progress(&texts, |progress| {
                step_seconds[progress.step] = progress.step_seconds;
                true
            })?;
            let description =
                serde_json::to_value(pipeline.steps()).expect("step records serialise");
            Ok::<_, topica_plugin_host::Error>((
                tokens,
                pipeline.pipeline_id(),
                description,
                step_seconds,
            ))
        })
        .await
        .expect("the preprocessing task does not panic")?;
    let chain = started.elapsed().as_secs_f64();
    let steps = config
        .steps
        .iter()
        .zip(step_seconds)
        .map(|(step, seconds)| StepTiming {
            plugin: step.plugin.clone(),
            seconds,
        })
        .collect();

    let started = Instant::now();
    let mut dictionary = Dictionary::from_documents(token_lists.iter().map(Vec::as_slice));
    let vocabulary_before_filter = dictionary.len();
    dictionary
        .filter_extremes(&config.dictionary)
        .map_err(|error| PreprocessError::InvalidFilter(error.to_string()))?;
    if dictionary.is_empty() {
        let filter = &config.dictionary;
        return Err(PreprocessError::EmptyVocabulary {
            vocabulary: vocabulary_before_filter,
            no_below: filter.no_below,
            no_above: filter.no_above,
            keep_n: filter.keep_n.map_or("none".into(), |n| n.to_string()),
        });
    }

    let pipeline_id = pipeline_id(&chain_id, &config.dictionary);
    let description = serde_json::json!({
        "steps": steps_description,
        "dictionary": config.dictionary,
    });
    let record = PipelineRecord {
        pipeline_id: pipeline_id.clone(),
        description: description.clone(),
        dictionary: serde_json::to_value(&dictionary).expect("dictionaries serialise"),
        created_at: now_rfc3339(),
    };

    let mut empty_after_plugins = Vec::new();
    let mut empty_after_filter = Vec::new();
    let mut tokens_total = 0;
    let mut stored = Vec::with_capacity(documents.len());
    for (document, tokens) in documents.iter().zip(token_lists) {
        tokens_total += tokens.len();
        if tokens.is_empty() {
            empty_after_plugins.push(document.content.doc_id.clone());
        } else if dictionary.doc2bow(&tokens).is_empty() {
            empty_after_filter.push(document.content.doc_id.clone());
        }
        stored.push(DocumentTokens {
            position: document.position,
            doc_id: document.content.doc_id.clone(),
            tokens,
        });
    }
    let dictionary_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    context.store.save_tokens(corpus, &record, stored).await?;
    let store = started.elapsed().as_secs_f64();

    Ok(PreprocessReport {
        corpus: corpus.to_owned(),
        pipeline_id,
        documents: documents.len(),
        tokens: tokens_total,
        vocabulary_before_filter,
        vocabulary: dictionary.len(),
        empty_after_plugins,
        empty_after_filter,
        steps: description,
        timings: PreprocessTimings {
            read,
            chain,
            steps,
            dictionary: dictionary_seconds,
            store,
        },
    })
}

/// Hashes the plugin chain's id with the dictionary settings.
fn pipeline_id(chain_id: &str, filter: &FilterExtremes) -> String {
    let mut hasher = Sha256::new();
    hasher.update(chain_id.as_bytes());
    hasher.update(serde_json::to_vec(filter).expect("filter settings serialise"));
    hex::encode(&hasher.finalize()[..16])
}
