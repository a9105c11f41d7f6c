//! Built-in topic-model plugin: LDA trained by collapsed Gibbs sampling, from
//! `topica_core::lda`.
//!
//! The train request carries the common settings (`num-topics`, `iterations`, `alpha`, `eta`,
//! `seed`); its `settings` JSON carries the rest. `settings` may repeat a common setting, for
//! example when a caller passes the default settings back unchanged, but then the two values
//! must agree.
//!
//! The plugin also exports the `partitioned-sampler` interface, one `sampler` per partition of
//! the documents, for the host's partitioned training (`topica_core::lda::partitioned`).

// The export glue that wit-bindgen generates for `sampler.create` takes one argument per field
// of `partition-request`.
#![allow(clippy::too_many_arguments)]

use std::cell::RefCell;

use serde::Deserialize;
use topica_core::lda::partitioned::{self, PartitionSampler};
use topica_core::lda::{self, FixedTopics, LdaError, LdaParams};

wit_bindgen::generate!({ world: "partitioned-topic-model", path: "../wit" });

use exports::topica::plugin::partitioned_sampler::{
    self, CountDelta, GuestSampler, PartitionRequest, Sampler,
};
use topica::plugin::host;
use topica::plugin::types::PluginKind;

/// Settings accepted in the train request's `settings` JSON. Every field is optional; an absent
/// field takes the request's value or the default of [`LdaParams`].
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    iterations: Option<u32>,
    alpha: Option<f64>,
    eta: Option<f64>,
    seed: Option<u64>,
    optimize_alpha_every: Option<u32>,
    optimize_alpha_burn_in: Option<u32>,
    log_likelihood_every: Option<u32>,
}

/// Returns the default settings: every [`LdaParams`] field except `num_topics`, which has no
/// default.
fn default_settings() -> String {
    let defaults = LdaParams::new(1);
    serde_json::json!({
        "iterations": defaults.iterations,
        "alpha": defaults.alpha,
        "eta": defaults.eta,
        "seed": defaults.seed,
        "optimize_alpha_every": defaults.optimize_alpha_every,
        "optimize_alpha_burn_in": defaults.optimize_alpha_burn_in,
        "log_likelihood_every": defaults.log_likelihood_every,
    })
    .to_string()
}

/// Rejects a setting that repeats a request field with another value.
fn check_agrees<T: PartialEq + std::fmt::Display>(
    name: &str,
    in_settings: Option<T>,
    in_request: T,
) -> Result<(), PluginError> {
    match in_settings {
        Some(value) if value != in_request => Err(PluginError::InvalidSettings(format!(
            "settings.{name} = {value} disagrees with the request's {name} = {in_request}: set it in one place"
        ))),
        _ => Ok(()),
    }
}

/// Parses a request's `settings` JSON; empty text means no settings.
fn parse_settings(text: &str) -> Result<Settings, PluginError> {
    let text = text.trim();
    let settings: Settings = if text.is_empty() {
        Settings::default()
    } else {
        serde_json::from_str(text).map_err(|error| {
            PluginError::InvalidSettings(format!(
                "settings are not valid: {error}; expected a JSON object such as {}",
                default_settings()
            ))
        })?
    };
    Ok(settings)
}

/// Builds the sampler's settings from the request and its `settings` JSON.
fn params_from_request(request: &TrainRequest) -> Result<LdaParams, PluginError> {
    let settings = parse_settings(&request.settings)?;
    check_agrees("iterations", settings.iterations, request.iterations)?;
    check_agrees("alpha", settings.alpha, request.alpha)?;
    check_agrees("eta", settings.eta, request.eta)?;
    check_agrees("seed", settings.seed, request.seed)?;

    let mut params = LdaParams::new(request.num_topics);
    params.iterations = request.iterations;
    params.alpha = request.alpha;
    params.eta = request.eta;
    params.seed = request.seed;
    params.optimize_alpha_every = settings
        .optimize_alpha_every
        .unwrap_or(params.optimize_alpha_every);
    params.optimize_alpha_burn_in = settings
        .optimize_alpha_burn_in
        .unwrap_or(params.optimize_alpha_burn_in);
    params.log_likelihood_every = settings
        .log_likelihood_every
        .unwrap_or(params.log_likelihood_every);
    Ok(params)
}

/// Builds one partition's settings from its request. The host runs the sweep schedule and the
/// alpha optimisation, so only the priors and the seed matter here. `iterations` and the
/// schedule settings are accepted and ignored, so that the host can pass the train request's
/// settings unchanged.
fn params_from_partition_request(request: &PartitionRequest) -> Result<LdaParams, PluginError> {
    let settings = parse_settings(&request.settings)?;
    check_agrees("alpha", settings.alpha, request.alpha)?;
    check_agrees("eta", settings.eta, request.eta)?;
    check_agrees("seed", settings.seed, request.seed)?;

    let mut params = LdaParams::new(request.num_topics);
    params.alpha = request.alpha;
    params.eta = request.eta;
    params.seed = request.seed;
    Ok(params)
}

/// Maps a sampler error to the contract's error: bad settings, bad input, or a failure.
fn to_plugin_error(error: LdaError) -> PluginError {
    let message = error.to_string();
    match error {
        LdaError::Params(_) => PluginError::InvalidSettings(message),
        LdaError::WordOutOfRange { .. }
        | LdaError::TooManyTokens(_)
        | LdaError::InvalidTopics(_)
        | LdaError::InferIterations
        | LdaError::Partitions
        | LdaError::InvalidPartitionInput(_) => PluginError::InvalidInput(message),
        LdaError::Cancelled { .. } => PluginError::Failed(message),
    }
}

struct LdaPlugin;

impl Guest for LdaPlugin {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "lda".into(),
            version: "0.1.0".into(),
            kind: PluginKind::TopicModel,
            description:
                "LDA by collapsed Gibbs sampling, with optional asymmetric alpha optimisation"
                    .into(),
            default_settings: default_settings(),
        }
    }

    fn train(request: TrainRequest) -> Result<TrainedModel, PluginError> {
        let params = params_from_request(&request)?;
        let valid = params
            .validate()
            .map_err(|error| to_plugin_error(error.into()))?;
        let output = lda::train(&valid, &request.docs, request.vocab_size, host::progress)
            .map_err(to_plugin_error)?;
        Ok(TrainedModel {
            topic_word: output.topic_word,
            doc_topic: output.doc_topic,
            alpha: output.alpha,
            eta: output.eta,
            log_likelihood: output.log_likelihood,
        })
    }

    fn infer(topics: TopicState, request: InferRequest) -> Result<Vec<Vec<f64>>, PluginError> {
        let fixed = FixedTopics::new(
            topics.num_topics,
            topics.vocab_size,
            &topics.topic_word,
            &topics.alpha,
            topics.eta,
        )
        .map_err(to_plugin_error)?;
        fixed
            .infer(&request.docs, request.iterations, request.seed)
            .map_err(to_plugin_error)
    }
}

fn to_wit_delta(delta: partitioned::CountDelta) -> CountDelta {
    CountDelta {
        cells: delta.cells,
        changes: delta.changes,
    }
}

/// One partition of a partitioned training run. The `sampler` resource's methods take `&self`,
/// so the state sits in a `RefCell`; an instance runs one call at a time.
struct PartitionState(RefCell<PartitionSampler>);

impl partitioned_sampler::Guest for LdaPlugin {
    type Sampler = PartitionState;
}

impl GuestSampler for PartitionState {
    fn create(request: PartitionRequest) -> Result<Sampler, PluginError> {
        let params = params_from_partition_request(&request)?;
        let valid = params
            .validate()
            .map_err(|error| to_plugin_error(error.into()))?;
        let sampler = PartitionSampler::new(
            &valid,
            &request.docs,
            request.vocab_size,
            request.partition,
            request.first_doc as usize,
        )
        .map_err(to_plugin_error)?;
        Ok(Sampler::new(PartitionState(RefCell::new(sampler))))
    }

    fn delta(&self) -> CountDelta {
        to_wit_delta(self.0.borrow().delta())
    }

    fn sweep(&self, merged: CountDelta, alpha: Vec<f64>) -> Result<CountDelta, PluginError> {
        let merged = partitioned::CountDelta {
            cells: merged.cells,
            changes: merged.changes,
        };
        self.0
            .borrow_mut()
            .sweep(&merged, &alpha)
            .map(to_wit_delta)
            .map_err(to_plugin_error)
    }

    fn document_log_likelihood(&self, alpha: Vec<f64>) -> Result<f64, PluginError> {
        self.0
            .borrow()
            .document_log_likelihood(&alpha)
            .map_err(to_plugin_error)
    }

    fn doc_topic(&self) -> Vec<u32> {
        self.0.borrow().doc_topic().to_vec()
    }
}

export!(LdaPlugin);
