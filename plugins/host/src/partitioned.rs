//! Partitioned training: one topic-model instance per partition of the documents, run on
//! several threads, with the global counts merged here.
//!
//! The sampling scheme is `topica_core::lda::partitioned` (AD-LDA). Each instance contains its
//! partition's tokens, topics and a private copy of the topic-word counts. Per sweep it receives
//! the merged count changes of the previous sweep and returns its own, so only changes cross the
//! Wasm boundary. The merge sums integers and the log-likelihood adds the partitions' parts in
//! partition order, so the model depends on the number of partitions but not on the number of
//! worker threads.
//!
//! NOTE: the topic part of the log-likelihood is computed here, natively, and the document part
//! in the guest. Native and Wasm `ln` may differ in the last bit, so with one partition the
//! log-likelihood can differ from `TopicModel::train`'s in the last bits; the counts do not.

use std::sync::Arc;
use std::time::Instant;

use topica_core::lda::partitioned::{
    CountDelta, PartitionedError, Partitions, partition_ranges, run_partitioned,
};
use topica_core::lda::{LdaError, LdaParams, ValidLdaParams};
use wasmtime::component::ResourceAny;

use crate::bindings::partitioned_topic_model::PartitionedTopicModel;
use crate::bindings::partitioned_topic_model::exports::topica::plugin::partitioned_sampler::{
    self as wit, PartitionRequest,
};
use crate::error::Error;
use crate::host::HostInner;
use crate::limits::SandboxLimits;
use crate::plugin::{PluginFailure, PluginKind, PluginRef};
use crate::sandbox::Sandbox;
use crate::text::expect_kind;
use crate::topic_model::{TrainRequest, TrainedModel};

/// The split of a [`crate::PluginHost::train_partitioned`] run over instances and threads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partitioning {
    /// Number of partitions of the documents, at least 1. The model depends on it: equal
    /// seeds, documents and partitions give equal models. With the built-in `lda`, one partition
    /// gives the counts and alpha of [`crate::TopicModel::train`].
    pub partitions: u32,
    /// Threads that run the partitions, at least 1; more than `partitions` adds nothing. The
    /// model does not depend on it.
    pub workers: usize,
}

/// One partition's instance and its `sampler` resource.
struct PartitionInstance {
    sandbox: Sandbox,
    bindings: PartitionedTopicModel,
    sampler: ResourceAny,
}

impl PartitionInstance {
    fn new(
        host: &Arc<HostInner>,
        plugin: &PluginRef,
        limits: &SandboxLimits,
        request: &PartitionRequest,
        deadline: Instant,
    ) -> Result<Self, Error> {
        let mut sandbox = Sandbox::new(host.clone(), plugin, limits)?;
        let instance = sandbox.instantiate(host)?;
        let bindings =
            PartitionedTopicModel::new(&mut sandbox.store, &instance).map_err(|error| {
                Error::InvalidComponent {
                    plugin: plugin.name().to_owned(),
                    reason: format!(
                        "it does not export the `partitioned-sampler` interface that partitioned \
                     training needs ({error:#}); train with one partition instead"
                    ),
                }
            })?;
        let sampler = {
            let guest = bindings.topica_plugin_partitioned_sampler().sampler();
            sandbox.call_until(deadline, |store| guest.call_create(store, request))?
        };
        Ok(Self {
            sandbox,
            bindings,
            sampler,
        })
    }

    fn delta(&mut self, deadline: Instant) -> Result<CountDelta, Error> {
        let guest = self.bindings.topica_plugin_partitioned_sampler().sampler();
        let sampler = self.sampler;
        let delta = self
            .sandbox
            .call_until(deadline, |store| guest.call_delta(store, sampler).map(Ok))?;
        Ok(from_wit(delta))
    }

    fn sweep(
        &mut self,
        merged: &wit::CountDelta,
        alpha: &[f64],
        deadline: Instant,
    ) -> Result<CountDelta, Error> {
        let guest = self.bindings.topica_plugin_partitioned_sampler().sampler();
        let sampler = self.sampler;
        let delta = self.sandbox.call_until(deadline, |store| {
            guest.call_sweep(store, sampler, merged, alpha)
        })?;
        Ok(from_wit(delta))
    }

    fn document_log_likelihood(&mut self, alpha: &[f64], deadline: Instant) -> Result<f64, Error> {
        let guest = self.bindings.topica_plugin_partitioned_sampler().sampler();
        let sampler = self.sampler;
        self.sandbox.call_until(deadline, |store| {
            guest.call_document_log_likelihood(store, sampler, alpha)
        })
    }

    fn doc_topic(&mut self, deadline: Instant) -> Result<Vec<u32>, Error> {
        let guest = self.bindings.topica_plugin_partitioned_sampler().sampler();
        let sampler = self.sampler;
        self.sandbox.call_until(deadline, |store| {
            guest.call_doc_topic(store, sampler).map(Ok)
        })
    }
}

/// Every partition's instance, run on up to `workers` threads.
struct InstancePartitions {
    instances: Vec<PartitionInstance>,
    workers: usize,
    deadline: Instant,
}

impl InstancePartitions {
    /// Runs `task` on every instance and returns the results in partition order. Thread `t`
    /// runs a contiguous block of partitions, one after the other. The first error in
    /// partition order is returned.
    fn run<T: Send>(
        &mut self,
        task: impl Fn(&mut PartitionInstance, Instant) -> Result<T, Error> + Sync,
    ) -> Result<Vec<T>, Error> {
        let deadline = self.deadline;
        if self.workers <= 1 || self.instances.len() <= 1 {
            return self
                .instances
                .iter_mut()
                .map(|instance| task(instance, deadline))
                .collect();
        }

        let block = self.instances.len().div_ceil(self.workers);
        let task = &task;
        let results: Vec<Vec<Result<T, Error>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .instances
                .chunks_mut(block)
                .map(|chunk| {
                    scope.spawn(move || {
                        chunk
                            .iter_mut()
                            .map(|instance| task(instance, deadline))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| match handle.join() {
                    Ok(results) => results,
                    Err(panic) => std::panic::resume_unwind(panic),
                })
                .collect()
        });
        results.into_iter().flatten().collect()
    }
}

impl Partitions for InstancePartitions {
    type Error = Error;

    fn deltas(&mut self) -> Result<Vec<CountDelta>, Error> {
        self.run(|instance, deadline| instance.delta(deadline))
    }

    fn sweep(&mut self, merged: &CountDelta, alpha: &[f64]) -> Result<Vec<CountDelta>, Error> {
        // One copy in the bindings' type, shared by every instance.
        let merged = wit::CountDelta {
            cells: merged.cells.clone(),
            changes: merged.changes.clone(),
        };
        self.run(|instance, deadline| instance.sweep(&merged, alpha, deadline))
    }

    fn document_log_likelihood(&mut self, alpha: &[f64]) -> Result<Vec<f64>, Error> {
        self.run(|instance, deadline| instance.document_log_likelihood(alpha, deadline))
    }

    fn doc_topic(&mut self) -> Result<Vec<Vec<u32>>, Error> {
        self.run(|instance, deadline| instance.doc_topic(deadline))
    }
}

fn from_wit(delta: wit::CountDelta) -> CountDelta {
    CountDelta {
        cells: delta.cells,
        changes: delta.changes,
    }
}

/// Runs [`crate::PluginHost::train_partitioned`].
pub(crate) fn train(
    host: Arc<HostInner>,
    plugin: &PluginRef,
    limits: &SandboxLimits,
    request: &TrainRequest,
    partitioning: &Partitioning,
    progress: impl FnMut(u32, u32, f64) -> bool,
) -> Result<TrainedModel, Error> {
    expect_kind(plugin, PluginKind::TopicModel)?;
    limits.validate()?;
    check_partitioning(partitioning)?;
    let deadline = Instant::now() + limits.deadline;
    let params = schedule_params(plugin, request)?;

    let vocab_size = request.vocab_size;
    let num_tokens: u64 = request
        .docs
        .iter()
        .flatten()
        .map(|&(_, count)| u64::from(count))
        .sum();
    let mut instances = Vec::with_capacity(partitioning.partitions as usize);
    for (index, range) in partition_ranges(&request.docs, partitioning.partitions)
        .into_iter()
        .enumerate()
    {
        let partition_request = PartitionRequest {
            num_topics: request.num_topics,
            vocab_size,
            alpha: request.alpha,
            eta: request.eta,
            seed: request.seed,
            partition: index as u32,
            first_doc: u32::try_from(range.start).unwrap_or(u32::MAX),
            settings: request.settings.clone(),
            docs: request.docs[range].to_vec(),
        };
        instances.push(PartitionInstance::new(
            &host,
            plugin,
            limits,
            &partition_request,
            deadline,
        )?);
    }

    let mut partitions = InstancePartitions {
        instances,
        workers: partitioning.workers,
        deadline,
    };
    let output = run_partitioned(&params, vocab_size, num_tokens, &mut partitions, progress)
        .map_err(|error| match error {
            PartitionedError::Partition(error) => error,
            PartitionedError::Lda(LdaError::Cancelled { .. }) => Error::Cancelled {
                plugin: plugin.name().to_owned(),
            },
            PartitionedError::Lda(error) => Error::Plugin {
                plugin: plugin.name().to_owned(),
                error: PluginFailure::Failed(error.to_string()),
            },
        })?;

    Ok(TrainedModel {
        topic_word: output.topic_word,
        doc_topic: output.doc_topic,
        alpha: output.alpha,
        eta: output.eta,
        log_likelihood: output.log_likelihood,
    })
}

fn check_partitioning(partitioning: &Partitioning) -> Result<(), Error> {
    if partitioning.partitions == 0 {
        return Err(Error::InvalidPartitioning(
            "partitions = 0: use at least 1 partition of documents".to_owned(),
        ));
    }
    if partitioning.workers == 0 {
        return Err(Error::InvalidPartitioning(
            "workers = 0: use at least 1 thread".to_owned(),
        ));
    }
    Ok(())
}

/// Reads the settings that the host needs to drive the sweeps: the request's common settings
/// and, from its `settings` JSON, `log_likelihood_every`, `optimize_alpha_every` and
/// `optimize_alpha_burn_in`. Every other key goes to the plugin unchanged, which validates it.
fn schedule_params(plugin: &PluginRef, request: &TrainRequest) -> Result<ValidLdaParams, Error> {
    let invalid = |message: String| Error::Plugin {
        plugin: plugin.name().to_owned(),
        error: PluginFailure::InvalidSettings(message),
    };
    let text = request.settings.trim();
    let settings: serde_json::Map<String, serde_json::Value> = if text.is_empty() {
        serde_json::Map::new()
    } else {
        serde_json::from_str(text)
            .map_err(|error| invalid(format!("settings are not a JSON object: {error}")))?
    };
    let read_u32 = |name: &str, default: u32| -> Result<u32, Error> {
        match settings.get(name) {
            None => Ok(default),
            Some(value) => value
                .as_u64()
                .and_then(|value| u32::try_from(value).ok())
                .ok_or_else(|| {
                    invalid(format!(
                        "settings.{name} = {value} is invalid: use a whole number from 0 to {}",
                        u32::MAX
                    ))
                }),
        }
    };

    let mut params = LdaParams::new(request.num_topics);
    params.iterations = request.iterations;
    params.alpha = request.alpha;
    params.eta = request.eta;
    params.seed = request.seed;
    params.log_likelihood_every = read_u32("log_likelihood_every", params.log_likelihood_every)?;
    params.optimize_alpha_every = read_u32("optimize_alpha_every", params.optimize_alpha_every)?;
    params.optimize_alpha_burn_in =
        read_u32("optimize_alpha_burn_in", params.optimize_alpha_burn_in)?;
    params
        .validate()
        .map_err(|error| invalid(error.to_string()))
}
