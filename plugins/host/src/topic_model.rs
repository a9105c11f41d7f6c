//! Handle for topic-model plugins: training with a progress callback, and fold-in inference.

use std::sync::Arc;

use crate::bindings;
use crate::error::Error;
use crate::host::HostInner;
use crate::limits::SandboxLimits;
use crate::plugin::{PluginKind, PluginRef};
use crate::sandbox::{Sandbox, StoreData};
use crate::text::expect_kind;

pub use crate::bindings::topic_model::topica::plugin::topic_model_types::{
    InferRequest, TopicState, TrainRequest, TrainedModel,
};

/// A topic-model instance. An instance keeps the memory its calls grew, so create a new one
/// for each training run of a sweep. Several instances can train in parallel on different
/// threads.
pub struct TopicModel {
    sandbox: Sandbox,
    bindings: bindings::topic_model::TopicModel,
}

impl TopicModel {
    pub(crate) fn new(
        host: Arc<HostInner>,
        plugin: &PluginRef,
        limits: &SandboxLimits,
    ) -> Result<Self, Error> {
        expect_kind(plugin, PluginKind::TopicModel)?;
        let mut sandbox = Sandbox::new(host.clone(), plugin, limits)?;
        let instance = sandbox.instantiate(&host)?;
        let bindings = bindings::topic_model::TopicModel::new(&mut sandbox.store, &instance)
            .map_err(|error| Error::InvalidComponent {
                plugin: plugin.name().to_owned(),
                reason: format!("{error:#}"),
            })?;
        Ok(Self { sandbox, bindings })
    }

    /// Trains a model. The plugin calls `progress(iteration, total, log_likelihood)` as it
    /// goes. When `progress` returns false, the plugin is asked to stop, and an error it then
    /// returns is reported as [`Error::Cancelled`]. The call runs under the instance's
    /// deadline, so long training needs [`SandboxLimits::training`] or a longer deadline.
    pub fn train(
        &mut self,
        request: &TrainRequest,
        progress: impl FnMut(u32, u32, f64) -> bool + Send + 'static,
    ) -> Result<TrainedModel, Error> {
        self.sandbox.store.data_mut().progress = Some(Box::new(progress));
        let bindings = &self.bindings;
        let result = self
            .sandbox
            .call(|store| bindings.call_train(store, request));
        self.sandbox.store.data_mut().progress = None;
        result
    }

    /// Folds new documents into fixed topics and returns one distribution over topics per
    /// document.
    pub fn infer(
        &mut self,
        topics: &TopicState,
        request: &InferRequest,
    ) -> Result<Vec<Vec<f64>>, Error> {
        let bindings = &self.bindings;
        self.sandbox
            .call(|store| bindings.call_infer(store, topics, request))
    }

    /// Returns the plugin this instance runs.
    pub fn plugin(&self) -> &PluginRef {
        &self.sandbox.plugin
    }
}

impl bindings::topic_model::topica::plugin::host::Host for StoreData {
    fn progress(&mut self, iteration: u32, total: u32, log_likelihood: f64) -> bool {
        let keep_going = match self.progress.as_mut() {
            Some(progress) => progress(iteration, total, log_likelihood),
            None => true,
        };
        if !keep_going {
            self.stop_requested = true;
        }
        keep_going
    }
}

// The shared interfaces contain only types, so their host traits have no methods.
impl bindings::topic_model::topica::plugin::types::Host for StoreData {}
impl bindings::topic_model::topica::plugin::topic_model_types::Host for StoreData {}
