//! The tracking interface: runs with parameters, metrics, tags and artifacts, shaped after
//! MLflow's so that an MLflow REST client can implement it too. `LocalTracker` is the embedded
//! default.

mod local;
mod mlflow;
pub mod registry;

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use local::LocalTracker;
pub use mlflow::MlflowTracker;
pub use registry::{LocalRegistry, ModelRegistry, ModelUri, ModelVersion};

/// Lifecycle state of a run, with MLflow's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    Running,
    Finished,
    Failed,
    Killed,
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            RunStatus::Running => "RUNNING",
            RunStatus::Finished => "FINISHED",
            RunStatus::Failed => "FAILED",
            RunStatus::Killed => "KILLED",
        };
        f.write_str(name)
    }
}

/// One metric value at one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    pub key: String,
    pub value: f64,
    pub step: i64,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
}

impl Metric {
    /// Builds a metric stamped with the current time.
    pub fn now(key: impl Into<String>, value: f64, step: i64) -> Self {
        Self {
            key: key.into(),
            value,
            step,
            timestamp: now_millis(),
        }
    }
}

/// A run and everything logged on it (metrics at their latest value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub run_id: String,
    pub experiment: String,
    pub run_name: String,
    pub status: RunStatus,
    /// Milliseconds since the Unix epoch.
    pub start_time: i64,
    pub end_time: Option<i64>,
    pub params: BTreeMap<String, String>,
    pub metrics: BTreeMap<String, f64>,
    pub tags: BTreeMap<String, String>,
}

/// Failures of a tracking call.
#[derive(Debug, thiserror::Error)]
pub enum TrackerError {
    /// No run has this id.
    #[error("run {0:?} not found: `topica runs` lists the tracked runs")]
    RunNotFound(String),
    /// The run has no artifact at this path.
    #[error("run {run_id} has no artifact {path:?}")]
    ArtifactNotFound { run_id: String, path: String },
    /// An artifact path would leave the run's artifact folder.
    #[error("invalid artifact path {0:?}: use a relative path without `..`")]
    InvalidArtifactPath(String),
    /// A parameter was logged twice with different values (MLflow forbids it too).
    #[error(
        "parameter {key:?} of run {run_id} is already {existing:?}; it cannot change to {new:?}"
    )]
    ParamChanged {
        run_id: String,
        key: String,
        existing: String,
        new: String,
    },
    /// Reading or writing the tracking folder failed.
    #[error("tracking storage failed at {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// Stored tracking data could not be parsed.
    #[error("tracking data is corrupt at {path}: {cause}")]
    Corrupt { path: String, cause: String },
    /// The MLflow tracking URI is not an http(s) URL.
    #[error(
        "invalid MLflow tracking URI {uri:?}: {cause} (expected a URL such as http://127.0.0.1:5000)"
    )]
    InvalidMlflowUri { uri: String, cause: String },
    /// MLflow returned an error response, with its `error_code` and `message`.
    #[error("MLflow at {base_url} returned {status} {error_code} for {method} {path}: {message}")]
    Mlflow {
        base_url: String,
        method: String,
        path: String,
        status: u16,
        error_code: String,
        message: String,
    },
    /// No connection to the MLflow server could be opened.
    #[error(
        "cannot reach MLflow at {url}: {cause} (is the server running? set --mlflow-uri or MLFLOW_TRACKING_URI)"
    )]
    MlflowUnreachable { url: String, cause: String },
    /// A request to MLflow timed out, broke off or returned a body that is not the expected JSON.
    #[error("MLflow request {method} {url} failed: {cause}")]
    MlflowRequest {
        method: String,
        url: String,
        cause: String,
    },
    /// The run's artifact URI is not served by MLflow's artifact proxy, so Topica cannot reach it.
    #[error(
        "run {run_id} keeps its artifacts at {artifact_uri}, which is not an mlflow-artifacts:/ URI: \
         start the MLflow server with --serve-artifacts"
    )]
    UnsupportedArtifactUri {
        run_id: String,
        artifact_uri: String,
    },
    /// The experiment exists in MLflow but is deleted, so no run can start in it.
    #[error("experiment {0:?} is deleted in MLflow: restore it or choose another experiment name")]
    ExperimentDeleted(String),
    /// A registered model name is empty or contains `/`, `:` or `@`.
    #[error("invalid model name {0:?}: use a non-empty name without `/`, `:` or `@`")]
    InvalidModelName(String),
    /// No registered model has this name.
    #[error("registered model {0:?} not found: register a run's model first")]
    ModelNotFound(String),
    /// The registered model has no such version.
    #[error("model {name} has no version {version}")]
    ModelVersionNotFound { name: String, version: String },
    /// The registered model has no such alias.
    #[error(
        "model {name} has no alias {alias}: set it with `topica model promote --name {name} --version V --alias {alias}`"
    )]
    AliasNotFound { name: String, alias: String },
    /// A model URI is not `models:/NAME@ALIAS` or `models:/NAME/VERSION`.
    #[error(
        "invalid model URI {uri:?}: {cause} (expected models:/NAME@ALIAS or models:/NAME/VERSION)"
    )]
    InvalidModelUri { uri: String, cause: String },
    /// An alias name is empty, too long, has characters other than letters, digits, `_` and `-`,
    /// or is reserved.
    #[error("invalid alias {alias:?} for model {name}: {cause}")]
    InvalidAlias {
        name: String,
        alias: String,
        cause: String,
    },
}

/// Records runs and their parameters, metrics and artifacts.
#[async_trait]
pub trait Tracker: Send + Sync {
    /// Returns where runs are kept, for messages ("local tracker at …", an MLflow URL).
    fn location(&self) -> String;

    /// Starts a run in `experiment` (created when missing) and returns it in state RUNNING.
    async fn create_run(
        &self,
        experiment: &str,
        run_name: &str,
        tags: &[(String, String)],
    ) -> Result<RunRecord, TrackerError>;

    /// Logs parameters; logging an existing key again with another value fails.
    async fn log_params(
        &self,
        run_id: &str,
        params: &[(String, String)],
    ) -> Result<(), TrackerError>;

    /// Logs metric values.
    async fn log_metrics(&self, run_id: &str, metrics: &[Metric]) -> Result<(), TrackerError>;

    /// Sets tags, overwriting earlier values.
    async fn set_tags(&self, run_id: &str, tags: &[(String, String)]) -> Result<(), TrackerError>;

    /// Stores an artifact under a relative path such as `model/model.json`.
    async fn log_artifact(
        &self,
        run_id: &str,
        path: &str,
        bytes: Vec<u8>,
    ) -> Result<(), TrackerError>;

    /// Reads an artifact back.
    async fn load_artifact(&self, run_id: &str, path: &str) -> Result<Vec<u8>, TrackerError>;

    /// Ends a run with a final status; a failed run keeps its error message as the tag
    /// `topica.error`.
    async fn finish_run(
        &self,
        run_id: &str,
        status: RunStatus,
        error: Option<&str>,
    ) -> Result<(), TrackerError>;

    /// Returns a run with its latest metric values.
    async fn get_run(&self, run_id: &str) -> Result<RunRecord, TrackerError>;

    /// Returns every logged value of one metric, in step order.
    async fn metric_history(&self, run_id: &str, key: &str) -> Result<Vec<Metric>, TrackerError>;

    /// Lists the runs of an experiment, newest first; `None` lists every experiment.
    async fn list_runs(&self, experiment: Option<&str>) -> Result<Vec<RunRecord>, TrackerError>;
}

/// Returns milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or(0)
}
