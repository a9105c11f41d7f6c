//! A convenience runner for a text pipeline: one tokenizer, then token filters and corpus
//! filters, run over a list of texts in batches.

use std::num::NonZeroUsize;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::host::PluginHost;
use crate::limits::SandboxLimits;
use crate::plugin::{PluginFailure, PluginId, PluginKind, PluginRef};
use crate::text::{CorpusFilter, TokenFilter, Tokenizer};

/// Default number of documents passed to a plugin per call.
const DEFAULT_BATCH_SIZE: usize = 256;

/// The plugin of a pipeline step: a built-in plugin by name, or a plugin already loaded.
#[derive(Clone, Debug)]
pub enum StepPlugin {
    /// A built-in plugin, such as `stopwords`.
    Builtin(String),
    /// A plugin loaded with [`PluginHost::load_bytes`] or [`PluginHost::load_file`].
    Loaded(PluginRef),
}

impl From<&str> for StepPlugin {
    fn from(name: &str) -> Self {
        StepPlugin::Builtin(name.to_owned())
    }
}

impl From<String> for StepPlugin {
    fn from(name: String) -> Self {
        StepPlugin::Builtin(name)
    }
}

impl From<PluginRef> for StepPlugin {
    fn from(plugin: PluginRef) -> Self {
        StepPlugin::Loaded(plugin)
    }
}

/// Record of one step of a pipeline, enough to rerun it exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Name, version and component hash of the plugin.
    pub plugin: PluginId,
    /// The plugin's kind.
    pub kind: PluginKind,
    /// The effective settings: the plugin's defaults overlaid with the step's settings.
    pub settings: Value,
}

/// Progress of [`TextPipeline::run_with_progress`], reported after every batch.
#[derive(Clone, Debug, PartialEq)]
pub struct PipelineProgress {
    /// Index of the running step, from 0.
    pub step: usize,
    /// Number of steps.
    pub steps: usize,
    /// `tokenize`, `apply` or `fit`.
    pub phase: &'static str,
    /// Documents this phase has processed.
    pub done: usize,
    /// Documents in the corpus.
    pub total: usize,
    /// Seconds the running step has taken so far, all its phases together.
    pub step_seconds: f64,
}

/// An ordered list of text steps: first a tokenizer, then token filters and corpus filters.
///
/// Each run creates fresh instances, so runs are independent and a corpus filter's statistics
/// cover exactly the texts of its run. A pipeline is `Send` and `Sync`, but its runs are
/// CPU-bound and blocking: call it from a blocking thread, never from an async task.
pub struct TextPipeline {
    host: PluginHost,
    steps: Vec<(PluginRef, StepRecord)>,
    limits: SandboxLimits,
    batch_size: NonZeroUsize,
}

impl TextPipeline {
    /// Builds a pipeline from `(plugin, settings JSON)` pairs, resolving built-in names,
    /// checking the order of kinds and configuring every step once so invalid settings fail
    /// here, not halfway through a corpus.
    pub fn new<P, S>(
        host: &PluginHost,
        steps: impl IntoIterator<Item = (P, S)>,
    ) -> Result<Self, Error>
    where
        P: Into<StepPlugin>,
        S: AsRef<str>,
    {
        let mut resolved = Vec::new();
        for (index, (plugin, settings)) in steps.into_iter().enumerate() {
            let plugin = match plugin.into() {
                StepPlugin::Builtin(name) => host.builtin(&name)?,
                StepPlugin::Loaded(plugin) => plugin,
            };
            check_kind(index, &plugin)?;
            let settings = effective_settings(index, &plugin, settings.as_ref())?;
            let record = StepRecord {
                plugin: plugin.id().clone(),
                kind: plugin.kind(),
                settings,
            };
            resolved.push((plugin, record));
        }
        if resolved.is_empty() {
            return Err(Error::InvalidPipeline(
                "the pipeline has no steps; start it with a tokenizer such as `tokenizer`"
                    .to_owned(),
            ));
        }

        let pipeline = Self {
            host: host.clone(),
            steps: resolved,
            limits: SandboxLimits::text(),
            batch_size: NonZeroUsize::new(DEFAULT_BATCH_SIZE).expect("the default is positive"),
        };
        pipeline.instantiate()?;
        Ok(pipeline)
    }

    /// Sets the limits every step runs under. Default: [`SandboxLimits::text`].
    pub fn with_limits(mut self, limits: SandboxLimits) -> Result<Self, Error> {
        limits.validate()?;
        self.limits = limits;
        Ok(self)
    }

    /// Sets the number of documents passed to a plugin per call, which bounds the work done
    /// under one deadline. Default: 256.
    pub fn with_batch_size(mut self, batch_size: NonZeroUsize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Returns each step's plugin identity, kind and effective settings, in order.
    pub fn steps(&self) -> Vec<StepRecord> {
        self.steps
            .iter()
            .map(|(_, record)| record.clone())
            .collect()
    }

    /// Returns the lowercase hex SHA-256 of the steps' names, versions, component hashes
    /// and effective settings as canonical JSON (object keys sorted, no whitespace). Equal
    /// ids mean the same code ran with the same settings.
    ///
    /// NOTE: numbers are hashed as written, so a setting given as `10` and as `10.0` gives
    /// two ids.
    pub fn pipeline_id(&self) -> String {
        let steps: Vec<Value> = self
            .steps
            .iter()
            .map(|(_, record)| {
                serde_json::json!({
                    "name": record.plugin.name,
                    "version": record.plugin.version,
                    "sha256": record.plugin.sha256,
                    "settings": record.settings,
                })
            })
            .collect();
        let canonical = canonical_json(&Value::Array(steps));
        hex::encode(Sha256::digest(canonical.as_bytes()))
    }

    /// Runs every step over `texts` and returns one token list per text, in order.
    pub fn run(&self, texts: &[String]) -> Result<Vec<Vec<String>>, Error> {
        self.run_with_progress(texts, |_| true)
    }

    /// Runs the pipeline like [`TextPipeline::run`], calling `progress` after every batch;
    /// when `progress` returns false the run stops with [`Error::Cancelled`].
    pub fn run_with_progress(
        &self,
        texts: &[String],
        mut progress: impl FnMut(&PipelineProgress) -> bool,
    ) -> Result<Vec<Vec<String>>, Error> {
        let (mut tokenizer, mut filters) = self.instantiate()?;
        let steps = self.steps.len();
        let total = texts.len();
        let mut report =
            |step: usize, phase: &'static str, done: usize, plugin: &str, started: Instant| {
                let keep_going = progress(&PipelineProgress {
                    step,
                    steps,
                    phase,
                    done,
                    total,
                    step_seconds: started.elapsed().as_secs_f64(),
                });
                if keep_going {
                    Ok(())
                } else {
                    Err(Error::Cancelled {
                        plugin: plugin.to_owned(),
                    })
                }
            };

        let mut docs = Vec::with_capacity(total);
        let started = Instant::now();
        for batch in texts.chunks(self.batch_size.get()) {
            let tokens = tokenizer.tokenize(batch)?;
            check_len(tokenizer.plugin(), batch.len(), tokens.len())?;
            docs.extend(tokens);
            report(
                0,
                "tokenize",
                docs.len(),
                tokenizer.plugin().name(),
                started,
            )?;
        }

        for (offset, filter) in filters.iter_mut().enumerate() {
            let step = offset + 1;
            let started = Instant::now();
            docs = match filter {
                Filter::Token(filter) => {
                    let mut rewritten = Vec::with_capacity(total);
                    for batch in docs.chunks(self.batch_size.get()) {
                        let tokens = filter.apply(batch)?;
                        check_len(filter.plugin(), batch.len(), tokens.len())?;
                        rewritten.extend(tokens);
                        report(
                            step,
                            "apply",
                            rewritten.len(),
                            filter.plugin().name(),
                            started,
                        )?;
                    }
                    rewritten
                }
                Filter::Corpus(filter) => {
                    let mut fitted = 0;
                    for batch in docs.chunks(self.batch_size.get()) {
                        filter.fit(batch)?;
                        fitted += batch.len();
                        report(step, "fit", fitted, filter.plugin().name(), started)?;
                    }
                    let mut rewritten = Vec::with_capacity(total);
                    for batch in docs.chunks(self.batch_size.get()) {
                        let tokens = filter.apply(batch)?;
                        check_len(filter.plugin(), batch.len(), tokens.len())?;
                        rewritten.extend(tokens);
                        report(
                            step,
                            "apply",
                            rewritten.len(),
                            filter.plugin().name(),
                            started,
                        )?;
                    }
                    rewritten
                }
            };
        }
        Ok(docs)
    }

    /// Creates and configures a fresh instance of every step.
    fn instantiate(&self) -> Result<(Tokenizer, Vec<Filter>), Error> {
        let (first, rest) = self
            .steps
            .split_first()
            .expect("a pipeline has at least one step");
        let (plugin, record) = first;
        let tokenizer = self
            .host
            .tokenizer(plugin, &record.settings.to_string(), &self.limits)?;

        let mut filters = Vec::with_capacity(rest.len());
        for (plugin, record) in rest {
            let settings = record.settings.to_string();
            let filter = match plugin.kind() {
                PluginKind::TokenFilter => {
                    Filter::Token(self.host.token_filter(plugin, &settings, &self.limits)?)
                }
                _ => Filter::Corpus(self.host.corpus_filter(plugin, &settings, &self.limits)?),
            };
            filters.push(filter);
        }
        Ok((tokenizer, filters))
    }
}

enum Filter {
    Token(TokenFilter),
    Corpus(CorpusFilter),
}

/// Checks that step `index` may hold a plugin of this kind.
fn check_kind(index: usize, plugin: &PluginRef) -> Result<(), Error> {
    let kind = plugin.kind();
    let allowed = match index {
        0 => kind == PluginKind::Tokenizer,
        _ => matches!(kind, PluginKind::TokenFilter | PluginKind::CorpusFilter),
    };
    if allowed {
        return Ok(());
    }
    let expected = if index == 0 {
        "a tokenizer"
    } else {
        "a token-filter or corpus-filter"
    };
    Err(Error::InvalidPipeline(format!(
        "step {index} is `{}`, a {kind} plugin, but step {index} must be {expected}; a pipeline \
         is one tokenizer followed by filters",
        plugin.name()
    )))
}

/// Overlays the step's settings on the plugin's defaults. Keys the plugin does not know stay,
/// so that `configure` rejects them by name.
fn effective_settings(index: usize, plugin: &PluginRef, settings: &str) -> Result<Value, Error> {
    let settings = if settings.trim().is_empty() {
        "{}"
    } else {
        settings
    };
    let overrides: Map<String, Value> = serde_json::from_str(settings).map_err(|error| {
        Error::InvalidPipeline(format!(
            "the settings of step {index} (`{}`) are not a JSON object: {error}; got {settings:?}",
            plugin.name()
        ))
    })?;
    let mut merged: Map<String, Value> =
        serde_json::from_str(&plugin.info().default_settings).unwrap_or_default();
    merged.extend(overrides);
    Ok(Value::Object(merged))
}

/// Fails when a plugin returned a different number of documents than it was given.
fn check_len(plugin: &PluginRef, expected: usize, found: usize) -> Result<(), Error> {
    if expected == found {
        return Ok(());
    }
    Err(Error::Plugin {
        plugin: plugin.name().to_owned(),
        error: PluginFailure::Failed(format!(
            "returned {found} documents for a batch of {expected}; a step must return one token \
             list per input document"
        )),
    })
}

/// Serializes `value` with object keys sorted at every level and no whitespace.
fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|key| {
                    format!(
                        "{}:{}",
                        Value::String(key.clone()),
                        canonical_json(&map[key])
                    )
                })
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_nested_keys() {
        let value: Value =
            serde_json::from_str(r#"{"b": 1, "a": {"d": [2, {"f": 3, "e": 4}], "c": "x"}}"#)
                .unwrap();
        assert_eq!(
            canonical_json(&value),
            r#"{"a":{"c":"x","d":[2,{"e":4,"f":3}]},"b":1}"#
        );
    }
}
