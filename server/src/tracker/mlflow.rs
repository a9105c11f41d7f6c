//! A tracker and model registry on an MLflow tracking server, through its REST API 2.0.
//!
//! Artifacts go through the server's artifact proxy (`mlflow server --serve-artifacts`): a run
//! whose `artifact_uri` is `mlflow-artifacts:/1/<run_id>/artifacts` keeps `model/model.json` at
//! `<base>/api/2.0/mlflow-artifacts/artifacts/1/<run_id>/artifacts/model/model.json`. Registered
//! model versions use that `mlflow-artifacts:/` URI as their `source`, so MLflow's own clients
//! can download a Topica model with `mlflow.artifacts.download_artifacts("models:/NAME@ALIAS")`.
//!
//! The limits below are MLflow 3.17's (`mlflow/utils/validation.py`).

mod client;
mod registry;
mod wire;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use self::client::Client;
use self::wire::KeyValue;
use super::{Metric, RunRecord, RunStatus, Tracker, TrackerError, now_millis};

/// Maximum parameters or tags in one `runs/log-batch` request.
const MAX_PARAMS_TAGS_PER_BATCH: usize = 100;
/// Maximum metric values in one `runs/log-batch` request.
const MAX_METRICS_PER_BATCH: usize = 1000;
/// Maximum characters of a parameter value. Longer values go into an artifact.
const MAX_PARAM_VALUE_CHARS: usize = 6000;
/// Maximum characters of a tag value. The error tag of a failed run is cut to this length.
const MAX_TAG_VALUE_CHARS: usize = 8000;
/// Runs or experiments requested per page of a search.
const SEARCH_PAGE_SIZE: i64 = 1000;
/// Artifact folder for parameter values longer than `MAX_PARAM_VALUE_CHARS`.
const LONG_PARAMS_FOLDER: &str = "params";

/// Tag holding the error message of a failed run.
const ERROR_TAG: &str = "topica.error";

const NOT_FOUND: &str = "RESOURCE_DOES_NOT_EXIST";
const ALREADY_EXISTS: &str = "RESOURCE_ALREADY_EXISTS";
const INVALID_PARAMETER: &str = "INVALID_PARAMETER_VALUE";

/// Runs, metrics, artifacts and registered models on an MLflow tracking server.
#[derive(Debug)]
pub struct MlflowTracker {
    client: Client,
    /// Experiment name to id, filled as experiments are looked up or created.
    experiment_ids: Mutex<HashMap<String, String>>,
    /// Experiment id to name, for run records.
    experiment_names: Mutex<HashMap<String, String>>,
    /// Run id to its `artifact_uri`, which never changes for a run.
    artifact_uris: Mutex<HashMap<String, String>>,
}

impl MlflowTracker {
    /// Default time limit of one request. An artifact upload of a large model must fit in it.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

    /// Connects lazily to the MLflow server at `base_url` (such as `http://127.0.0.1:5000`);
    /// nothing is sent until the first call. Requests time out after `DEFAULT_TIMEOUT`.
    pub fn new(base_url: &str) -> Result<Self, TrackerError> {
        Self::with_timeout(base_url, Self::DEFAULT_TIMEOUT)
    }

    /// Like `new`, with a time limit per request.
    pub fn with_timeout(base_url: &str, timeout: Duration) -> Result<Self, TrackerError> {
        Ok(Self {
            client: Client::new(base_url, timeout)?,
            experiment_ids: Default::default(),
            experiment_names: Default::default(),
            artifact_uris: Default::default(),
        })
    }

    /// Returns the server's base URL, without a password.
    pub fn base_url(&self) -> &str {
        self.client.base_url()
    }

    /// Returns the id of the active experiment `name`, creating the experiment when missing.
    async fn ensure_experiment(&self, name: &str) -> Result<String, TrackerError> {
        if let Some(id) = self
            .experiment_ids
            .lock()
            .expect("lock is not poisoned")
            .get(name)
        {
            return Ok(id.clone());
        }

        let id = match self.find_experiment(name).await? {
            Some(experiment) => experiment.experiment_id,
            None => {
                let body = wire::CreateExperiment { name };
                match self
                    .client
                    .post::<_, wire::CreateExperimentResponse>("mlflow/experiments/create", &body)
                    .await
                {
                    Ok(created) => {
                        tracing::info!(experiment = name, experiment_id = %created.experiment_id, "created MLflow experiment");
                        created.experiment_id
                    }
                    // Another process created it between the look-up and the create request.
                    Err(error) if has_error_code(&error, ALREADY_EXISTS) => {
                        match self.find_experiment(name).await? {
                            Some(experiment) => experiment.experiment_id,
                            None => return Err(error),
                        }
                    }
                    Err(error) => return Err(error),
                }
            }
        };
        self.remember_experiment(&id, name);
        Ok(id)
    }

    /// Looks an experiment up by name. A deleted experiment is an error because runs cannot
    /// start in it.
    async fn find_experiment(&self, name: &str) -> Result<Option<wire::Experiment>, TrackerError> {
        let found = self
            .client
            .get::<wire::ExperimentResponse>(
                "mlflow/experiments/get-by-name",
                &[("experiment_name", name)],
            )
            .await;
        match found {
            Ok(response) if response.experiment.lifecycle_stage == "deleted" => {
                Err(TrackerError::ExperimentDeleted(name.to_owned()))
            }
            Ok(response) => Ok(Some(response.experiment)),
            Err(error) if has_error_code(&error, NOT_FOUND) => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn experiment_name(&self, experiment_id: &str) -> Result<String, TrackerError> {
        if let Some(name) = self
            .experiment_names
            .lock()
            .expect("lock is not poisoned")
            .get(experiment_id)
        {
            return Ok(name.clone());
        }
        let response: wire::ExperimentResponse = self
            .client
            .get(
                "mlflow/experiments/get",
                &[("experiment_id", experiment_id)],
            )
            .await?;
        self.remember_experiment(experiment_id, &response.experiment.name);
        Ok(response.experiment.name)
    }

    fn remember_experiment(&self, id: &str, name: &str) {
        self.experiment_ids
            .lock()
            .expect("lock is not poisoned")
            .insert(name.to_owned(), id.to_owned());
        self.experiment_names
            .lock()
            .expect("lock is not poisoned")
            .insert(id.to_owned(), name.to_owned());
    }

    /// Fetches a run with its data and maps an unknown id to `RunNotFound`.
    async fn fetch_run(&self, run_id: &str) -> Result<wire::Run, TrackerError> {
        let response: wire::RunResponse = self
            .client
            .get("mlflow/runs/get", &[("run_id", run_id)])
            .await
            .map_err(run_not_found(run_id))?;
        self.artifact_uris
            .lock()
            .expect("lock is not poisoned")
            .insert(run_id.to_owned(), response.run.info.artifact_uri.clone());
        Ok(response.run)
    }

    async fn artifact_uri(&self, run_id: &str) -> Result<String, TrackerError> {
        if let Some(uri) = self
            .artifact_uris
            .lock()
            .expect("lock is not poisoned")
            .get(run_id)
        {
            return Ok(uri.clone());
        }
        Ok(self.fetch_run(run_id).await?.info.artifact_uri)
    }

    /// Builds the artifact proxy URL of `path` (already validated) in the run's artifact folder.
    async fn artifact_url(&self, run_id: &str, path: &str) -> Result<reqwest::Url, TrackerError> {
        let artifact_uri = self.artifact_uri(run_id).await?;
        let root = proxy_path(run_id, &artifact_uri)?;
        let segments = ["api", "2.0", "mlflow-artifacts", "artifacts"]
            .into_iter()
            .chain(root.split('/'))
            .chain(path.split('/'));
        Ok(self.client.url(segments))
    }

    async fn log_batch(&self, batch: wire::LogBatch<'_>) -> Result<(), TrackerError> {
        let run_id = batch.run_id;
        self.client
            .post::<_, wire::Empty>("mlflow/runs/log-batch", &batch)
            .await
            .map(drop)
            .map_err(run_not_found(run_id))
    }

    async fn to_record(&self, run: wire::Run) -> Result<RunRecord, TrackerError> {
        let experiment = self.experiment_name(&run.info.experiment_id).await?;
        let mut metrics = BTreeMap::new();
        for metric in run.data.metrics {
            metrics.insert(metric.key, metric.value);
        }
        Ok(RunRecord {
            run_id: run.info.run_id,
            experiment,
            run_name: run.info.run_name,
            status: parse_status(&run.info.status),
            start_time: run.info.start_time,
            end_time: run.info.end_time,
            params: run
                .data
                .params
                .into_iter()
                .map(|param| (param.key, param.value))
                .collect(),
            metrics,
            tags: run
                .data
                .tags
                .into_iter()
                .map(|tag| (tag.key, tag.value))
                .collect(),
        })
    }

    /// Returns the ids of every active experiment.
    async fn all_experiment_ids(&self) -> Result<Vec<String>, TrackerError> {
        let mut ids = Vec::new();
        let mut page_token = String::new();
        loop {
            let body = wire::SearchExperiments {
                max_results: SEARCH_PAGE_SIZE,
                page_token: Some(page_token.as_str()).filter(|token| !token.is_empty()),
            };
            let page: wire::SearchExperimentsResponse =
                self.client.post("mlflow/experiments/search", &body).await?;
            for experiment in page.experiments {
                self.remember_experiment(&experiment.experiment_id, &experiment.name);
                ids.push(experiment.experiment_id);
            }
            if page.next_page_token.is_empty() {
                return Ok(ids);
            }
            page_token = page.next_page_token;
        }
    }
}

#[async_trait]
impl Tracker for MlflowTracker {
    fn location(&self) -> String {
        format!("MLflow at {}", self.client.base_url())
    }

    async fn create_run(
        &self,
        experiment: &str,
        run_name: &str,
        tags: &[(String, String)],
    ) -> Result<RunRecord, TrackerError> {
        let experiment_id = self.ensure_experiment(experiment).await?;
        let body = wire::CreateRun {
            experiment_id: &experiment_id,
            run_name,
            start_time: now_millis(),
            tags: tags
                .iter()
                .map(|(key, value)| KeyValue::new(key, value))
                .collect(),
        };
        let response: wire::RunResponse = self.client.post("mlflow/runs/create", &body).await?;
        self.artifact_uris
            .lock()
            .expect("lock is not poisoned")
            .insert(
                response.run.info.run_id.clone(),
                response.run.info.artifact_uri.clone(),
            );
        self.to_record(response.run).await
    }

    /// Logs parameters in batches of 100. A value longer than MLflow's 6000-character limit is
    /// stored as the artifact `params/<key>.txt`, and the parameter holds a reference with the
    /// value's length and SHA-256 instead.
    async fn log_params(
        &self,
        run_id: &str,
        params: &[(String, String)],
    ) -> Result<(), TrackerError> {
        let run = self.fetch_run(run_id).await?;
        let mut logged: HashMap<String, String> = run
            .data
            .params
            .into_iter()
            .map(|param| (param.key, param.value))
            .collect();

        let mut batch = Vec::new();
        for (key, value) in params {
            let long = value.chars().count() > MAX_PARAM_VALUE_CHARS;
            let stored = if long {
                long_param_reference(key, value)
            } else {
                value.clone()
            };
            match logged.get(key) {
                Some(existing) if *existing == stored => continue,
                Some(existing) => {
                    return Err(TrackerError::ParamChanged {
                        run_id: run_id.to_owned(),
                        key: key.clone(),
                        existing: existing.clone(),
                        new: value.clone(),
                    });
                }
                None => {}
            }
            if long {
                let path = format!("{LONG_PARAMS_FOLDER}/{key}.txt");
                self.log_artifact(run_id, &path, value.clone().into_bytes())
                    .await?;
            }
            logged.insert(key.clone(), stored.clone());
            batch.push(KeyValue::new(key, &stored));
        }

        for chunk in batch.chunks(MAX_PARAMS_TAGS_PER_BATCH) {
            self.log_batch(wire::LogBatch {
                run_id,
                params: chunk.to_vec(),
                ..Default::default()
            })
            .await?;
        }
        Ok(())
    }

    /// Logs metric values in batches of 1000.
    async fn log_metrics(&self, run_id: &str, metrics: &[Metric]) -> Result<(), TrackerError> {
        for chunk in metrics.chunks(MAX_METRICS_PER_BATCH) {
            let messages = chunk
                .iter()
                .map(|metric| wire::MetricMessage {
                    key: metric.key.clone(),
                    value: metric.value,
                    step: metric.step,
                    timestamp: metric.timestamp,
                })
                .collect();
            self.log_batch(wire::LogBatch {
                run_id,
                metrics: messages,
                ..Default::default()
            })
            .await?;
        }
        Ok(())
    }

    /// Sets tags in batches of 100. MLflow rejects values longer than 8000 characters.
    async fn set_tags(&self, run_id: &str, tags: &[(String, String)]) -> Result<(), TrackerError> {
        let tags: Vec<KeyValue> = tags
            .iter()
            .map(|(key, value)| KeyValue::new(key, value))
            .collect();
        for chunk in tags.chunks(MAX_PARAMS_TAGS_PER_BATCH) {
            self.log_batch(wire::LogBatch {
                run_id,
                tags: chunk.to_vec(),
                ..Default::default()
            })
            .await?;
        }
        Ok(())
    }

    async fn log_artifact(
        &self,
        run_id: &str,
        path: &str,
        bytes: Vec<u8>,
    ) -> Result<(), TrackerError> {
        validate_artifact_path(path)?;
        let url = self.artifact_url(run_id, path).await?;
        self.client.put_bytes(url, bytes).await
    }

    async fn load_artifact(&self, run_id: &str, path: &str) -> Result<Vec<u8>, TrackerError> {
        validate_artifact_path(path)?;
        let url = self.artifact_url(run_id, path).await?;
        self.client.get_bytes(url).await.map_err(|error| {
            if has_error_code(&error, NOT_FOUND) {
                TrackerError::ArtifactNotFound {
                    run_id: run_id.to_owned(),
                    path: path.to_owned(),
                }
            } else {
                error
            }
        })
    }

    /// Sets the final status and end time. The error of a failed run becomes the tag
    /// `topica.error`, cut to MLflow's 8000-character tag limit.
    async fn finish_run(
        &self,
        run_id: &str,
        status: RunStatus,
        error: Option<&str>,
    ) -> Result<(), TrackerError> {
        if let Some(error) = error {
            let value: String = error.chars().take(MAX_TAG_VALUE_CHARS).collect();
            self.set_tags(run_id, &[(ERROR_TAG.to_owned(), value)])
                .await?;
        }
        let body = wire::UpdateRun {
            run_id,
            status: &status.to_string(),
            end_time: now_millis(),
        };
        self.client
            .post::<_, serde_json::Value>("mlflow/runs/update", &body)
            .await
            .map(drop)
            .map_err(run_not_found(run_id))
    }

    async fn get_run(&self, run_id: &str) -> Result<RunRecord, TrackerError> {
        let run = self.fetch_run(run_id).await?;
        self.to_record(run).await
    }

    /// Returns every value of one metric, ordered by step and then by timestamp.
    async fn metric_history(&self, run_id: &str, key: &str) -> Result<Vec<Metric>, TrackerError> {
        let mut history = Vec::new();
        let mut page_token = String::new();
        loop {
            let mut query = vec![("run_id", run_id), ("metric_key", key)];
            if !page_token.is_empty() {
                query.push(("page_token", page_token.as_str()));
            }
            let page: wire::MetricHistoryResponse = self
                .client
                .get("mlflow/metrics/get-history", &query)
                .await
                .map_err(run_not_found(run_id))?;
            history.extend(page.metrics.into_iter().map(|metric| Metric {
                key: metric.key,
                value: metric.value,
                step: metric.step,
                timestamp: metric.timestamp,
            }));
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }

        // MLflow 3.17 returns an empty history for an unknown run, so check that the run exists.
        if history.is_empty() {
            self.fetch_run(run_id).await?;
        }
        history.sort_by_key(|metric| (metric.step, metric.timestamp));
        Ok(history)
    }

    /// Lists active runs with `runs/search`, ordered by start time, newest first.
    async fn list_runs(&self, experiment: Option<&str>) -> Result<Vec<RunRecord>, TrackerError> {
        let experiment_ids = match experiment {
            Some(name) => match self.find_experiment(name).await {
                Ok(Some(found)) => {
                    self.remember_experiment(&found.experiment_id, name);
                    vec![found.experiment_id]
                }
                Ok(None) | Err(TrackerError::ExperimentDeleted(_)) => return Ok(Vec::new()),
                Err(error) => return Err(error),
            },
            None => self.all_experiment_ids().await?,
        };
        if experiment_ids.is_empty() {
            return Ok(Vec::new());
        }

        let mut runs = Vec::new();
        let mut page_token = String::new();
        loop {
            let body = wire::SearchRuns {
                experiment_ids: &experiment_ids,
                order_by: vec!["attributes.start_time DESC"],
                max_results: SEARCH_PAGE_SIZE,
                page_token: Some(page_token.as_str()).filter(|token| !token.is_empty()),
            };
            let page: wire::SearchRunsResponse =
                self.client.post("mlflow/runs/search", &body).await?;
            for run in page.runs {
                runs.push(self.to_record(run).await?);
            }
            if page.next_page_token.is_empty() {
                return Ok(runs);
            }
            page_token = page.next_page_token;
        }
    }
}

fn has_error_code(error: &TrackerError, code: &str) -> bool {
    matches!(error, TrackerError::Mlflow { error_code, .. } if error_code == code)
}

/// Maps MLflow's RESOURCE_DOES_NOT_EXIST on a run call to `RunNotFound`.
fn run_not_found(run_id: &str) -> impl FnOnce(TrackerError) -> TrackerError + '_ {
    move |error| {
        if has_error_code(&error, NOT_FOUND) {
            TrackerError::RunNotFound(run_id.to_owned())
        } else {
            error
        }
    }
}

/// Maps MLflow's run status names. SCHEDULED, which Topica never sets, counts as running.
fn parse_status(status: &str) -> RunStatus {
    match status {
        "FINISHED" => RunStatus::Finished,
        "FAILED" => RunStatus::Failed,
        "KILLED" => RunStatus::Killed,
        _ => RunStatus::Running,
    }
}

/// Returns the parameter value logged in place of a value too long for MLflow. It contains the
/// SHA-256, so logging the same long value again is accepted and a different one is rejected.
fn long_param_reference(key: &str, value: &str) -> String {
    let digest = hex::encode(Sha256::digest(value.as_bytes()));
    format!(
        "[{} characters in artifact {LONG_PARAMS_FOLDER}/{key}.txt, sha256 {digest}]",
        value.chars().count()
    )
}

/// Accepts a relative path of non-empty segments without `.` or `..`, as the local tracker does,
/// and without `#`, which MLflow 3.17's artifact proxy rejects as "Invalid path".
fn validate_artifact_path(path: &str) -> Result<(), TrackerError> {
    let valid = !path.is_empty()
        && !path.contains(['\\', '#'])
        && path
            .split('/')
            .all(|segment| !segment.is_empty() && segment != "." && segment != "..");
    if valid {
        Ok(())
    } else {
        Err(TrackerError::InvalidArtifactPath(path.to_owned()))
    }
}

/// Turns a run's `artifact_uri` into its path below the artifact proxy:
/// `mlflow-artifacts:/1/<run_id>/artifacts` (or `mlflow-artifacts://host:port/1/…`) becomes
/// `1/<run_id>/artifacts`.
fn proxy_path(run_id: &str, artifact_uri: &str) -> Result<String, TrackerError> {
    let unsupported = || TrackerError::UnsupportedArtifactUri {
        run_id: run_id.to_owned(),
        artifact_uri: artifact_uri.to_owned(),
    };
    let rest = artifact_uri
        .strip_prefix("mlflow-artifacts:")
        .ok_or_else(unsupported)?;
    let path = match rest.strip_prefix("//") {
        Some(with_authority) => with_authority
            .split_once('/')
            .map(|(_, path)| path)
            .unwrap_or(""),
        None => rest,
    };
    let path = path.trim_matches('/');
    if path.is_empty() {
        return Err(unsupported());
    }
    Ok(path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_path_follows_the_artifact_uri() {
        assert_eq!(
            proxy_path("r", "mlflow-artifacts:/1/r/artifacts").unwrap(),
            "1/r/artifacts"
        );
        assert_eq!(
            proxy_path("r", "mlflow-artifacts://mlflow:5000/7/r/artifacts/").unwrap(),
            "7/r/artifacts"
        );
        for uri in [
            "/mlruns/1/r/artifacts",
            "s3://bucket/1/r/artifacts",
            "mlflow-artifacts:/",
            "mlflow-artifacts://host",
        ] {
            let error = proxy_path("r", uri).unwrap_err();
            assert!(
                matches!(error, TrackerError::UnsupportedArtifactUri { .. }),
                "{uri}: {error}"
            );
        }
    }

    #[test]
    fn artifact_paths_stay_in_the_run_folder() {
        assert!(validate_artifact_path("model/model.json").is_ok());
        for path in [
            "",
            "/etc/passwd",
            "../x",
            "model/../../x",
            "a//b",
            "a/./b",
            "a\\b",
            "model/",
            "topics#1.csv",
        ] {
            assert!(
                validate_artifact_path(path).is_err(),
                "{path:?} was accepted"
            );
        }
    }

    #[test]
    fn long_param_reference_names_artifact() {
        let value = "x".repeat(10_000);
        let reference = long_param_reference("stopwords", &value);
        assert!(reference.chars().count() <= MAX_PARAM_VALUE_CHARS);
        assert!(
            reference.starts_with("[10000 characters in artifact params/stopwords.txt, sha256 "),
            "{reference}"
        );
        assert_ne!(
            reference,
            long_param_reference("stopwords", &"y".repeat(10_000))
        );
    }

    #[test]
    fn mlflow_statuses_map_to_run_statuses() {
        assert_eq!(parse_status("FINISHED"), RunStatus::Finished);
        assert_eq!(parse_status("FAILED"), RunStatus::Failed);
        assert_eq!(parse_status("KILLED"), RunStatus::Killed);
        assert_eq!(parse_status("SCHEDULED"), RunStatus::Running);
    }
}
