//! A convenience runner for a text pipeline: one tokenizer, then token filters and corpus
//! filters, run over a list of texts in batches.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
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
    workers: NonZeroUsize,
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
            workers: thread::available_parallelism().unwrap_or(NonZeroUsize::MIN),
        };
        pipeline.check_settings()?;
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

    /// Sets how many instances of a tokenizer or token filter run at once, each on its own
    /// thread. Default: the number of CPU cores. The output does not depend on it, as long as
    /// these plugins treat every document on its own, as their interface requires.
    pub fn with_workers(mut self, workers: NonZeroUsize) -> Self {
        self.workers = workers;
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
    ///
    /// The tokenizer and the token filters work on each document alone, so each of them runs
    /// in up to [`TextPipeline::with_workers`] instances at once, on contiguous shares of the
    /// documents. The output keeps the documents' order. A corpus filter runs in one instance,
    /// because its statistics must cover every document.
    pub fn run_with_progress(
        &self,
        texts: &[String],
        mut progress: impl FnMut(&PipelineProgress) -> bool,
    ) -> Result<Vec<Vec<String>>, Error> {
        let steps = self.steps.len();
        let total = texts.len();
        let batch_size = self.batch_size.get();
        let workers = self.workers.get().min(total.div_ceil(batch_size)).max(1);
        let mut docs = Vec::new();

        for (step, (plugin, record)) in self.steps.iter().enumerate() {
            let settings = record.settings.to_string();
            let mut report = |phase: &'static str, done: usize, started: Instant| {
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
                        plugin: plugin.name().to_owned(),
                    })
                }
            };

            docs = match plugin.kind() {
                PluginKind::Tokenizer => {
                    let mut instances = (0..workers)
                        .map(|_| self.host.tokenizer(plugin, &settings, &self.limits))
                        .collect::<Result<Vec<_>, _>>()?;
                    let started = Instant::now();
                    let tokenize = |tokenizer: &mut Tokenizer, batch: &[String]| {
                        let tokens = tokenizer.tokenize(batch)?;
                        check_len(tokenizer.plugin(), batch.len(), tokens.len())?;
                        Ok(tokens)
                    };
                    self.per_document(&mut instances, texts, tokenize, |done| {
                        report("tokenize", done, started)
                    })?
                }
                PluginKind::TokenFilter => {
                    let mut instances = (0..workers)
                        .map(|_| self.host.token_filter(plugin, &settings, &self.limits))
                        .collect::<Result<Vec<_>, _>>()?;
                    let started = Instant::now();
                    let apply = |filter: &mut TokenFilter, batch: &[Vec<String>]| {
                        let tokens = filter.apply(batch)?;
                        check_len(filter.plugin(), batch.len(), tokens.len())?;
                        Ok(tokens)
                    };
                    self.per_document(&mut instances, &docs, apply, |done| {
                        report("apply", done, started)
                    })?
                }
                _ => {
                    let mut filter = self.host.corpus_filter(plugin, &settings, &self.limits)?;
                    let started = Instant::now();
                    let mut fitted = 0;
                    for batch in docs.chunks(batch_size) {
                        filter.fit(batch)?;
                        fitted += batch.len();
                        report("fit", fitted, started)?;
                    }
                    let apply = |filter: &mut CorpusFilter, batch: &[Vec<String>]| {
                        let tokens = filter.apply(batch)?;
                        check_len(filter.plugin(), batch.len(), tokens.len())?;
                        Ok(tokens)
                    };
                    self.per_document(std::slice::from_mut(&mut filter), &docs, apply, |done| {
                        report("apply", done, started)
                    })?
                }
            };
        }
        Ok(docs)
    }

    /// Passes `inputs` to `call` in batches, on one thread per instance, each instance taking a
    /// contiguous share of the inputs, and returns the outputs in the inputs' order.
    ///
    /// `report` runs on this thread after every batch with the number of inputs done. An error
    /// from it or from `call` stops the other threads after their current batch.
    fn per_document<S: Send, I: Sync>(
        &self,
        instances: &mut [S],
        inputs: &[I],
        call: impl Fn(&mut S, &[I]) -> Result<Vec<Vec<String>>, Error> + Sync,
        mut report: impl FnMut(usize) -> Result<(), Error>,
    ) -> Result<Vec<Vec<String>>, Error> {
        let batch_size = self.batch_size.get();
        if let [instance] = instances {
            let mut outputs = Vec::with_capacity(inputs.len());
            for batch in inputs.chunks(batch_size) {
                outputs.extend(call(instance, batch)?);
                report(outputs.len())?;
            }
            return Ok(outputs);
        }

        let share = inputs.len().div_ceil(instances.len()).max(1);
        let stop = AtomicBool::new(false);
        let mut report_error = None;
        let (sender, receiver) = mpsc::channel::<usize>();
        let parts: Vec<Result<Vec<Vec<String>>, Error>> = thread::scope(|scope| {
            let handles: Vec<_> = instances
                .iter_mut()
                .zip(inputs.chunks(share))
                .map(|(instance, part)| {
                    let (sender, call, stop) = (sender.clone(), &call, &stop);
                    scope.spawn(move || {
                        let mut outputs = Vec::with_capacity(part.len());
                        for batch in part.chunks(batch_size) {
                            if stop.load(Ordering::Relaxed) {
                                break;
                            }
                            match call(instance, batch) {
                                Ok(tokens) => outputs.extend(tokens),
                                Err(error) => {
                                    stop.store(true, Ordering::Relaxed);
                                    return Err(error);
                                }
                            }
                            // The receiver lives until every thread has ended.
                            let _ = sender.send(batch.len());
                        }
                        Ok(outputs)
                    })
                })
                .collect();
            drop(sender);

            // The loop ends when every thread has dropped its sender.
            let mut done = 0;
            for count in receiver {
                done += count;
                if report_error.is_none()
                    && let Err(error) = report(done)
                {
                    report_error = Some(error);
                    stop.store(true, Ordering::Relaxed);
                }
            }
            handles
                .into_iter()
                .map(|handle| match handle.join() {
                    Ok(part) => part,
                    Err(panic) => std::panic::resume_unwind(panic),
                })
                .collect()
        });

        let mut outputs = Vec::with_capacity(inputs.len());
        for part in parts {
            outputs.extend(part?);
        }
        match report_error {
            Some(error) => Err(error),
            None => Ok(outputs),
        }
    }

    /// Creates and configures one instance of every step, so that invalid settings fail when
    /// the pipeline is built.
    fn check_settings(&self) -> Result<(), Error> {
        for (plugin, record) in &self.steps {
            let settings = record.settings.to_string();
            match plugin.kind() {
                PluginKind::Tokenizer => {
                    self.host.tokenizer(plugin, &settings, &self.limits)?;
                }
                PluginKind::TokenFilter => {
                    self.host.token_filter(plugin, &settings, &self.limits)?;
                }
                _ => {
                    self.host.corpus_filter(plugin, &settings, &self.limits)?;
                }
            }
        }
        Ok(())
    }
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
