//! A tracker in plain files under the data directory, one folder per run:
//! `runs/<run_id>/run.json` (info, params, tags), `metrics.jsonl` (every value, appended) and
//! `artifacts/`.

use std::path::{Component, Path, PathBuf};

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{Metric, RunRecord, RunStatus, Tracker, TrackerError, now_millis};

/// Runs kept as files below one folder.
#[derive(Debug, Clone)]
pub struct LocalTracker {
    root: PathBuf,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> TrackerError + '_ {
    move |source| TrackerError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl LocalTracker {
    /// Uses (and creates when needed) `root` as the tracking folder.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn runs_dir(&self) -> PathBuf {
        self.root.join("runs")
    }

    fn run_dir(&self, run_id: &str) -> Result<PathBuf, TrackerError> {
        let valid = !run_id.is_empty() && run_id.bytes().all(|b| b.is_ascii_alphanumeric());
        let dir = self.runs_dir().join(run_id);
        if !valid || !dir.join("run.json").exists() {
            return Err(TrackerError::RunNotFound(run_id.to_owned()));
        }
        Ok(dir)
    }

    fn new_run_id() -> String {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let mut hasher = Sha256::new();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos())
            .unwrap_or(0);
        hasher.update(nanos.to_le_bytes());
        hasher.update(std::process::id().to_le_bytes());
        hasher.update(
            COUNTER
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                .to_le_bytes(),
        );
        hex::encode(&hasher.finalize()[..16])
    }

    async fn read_record(&self, dir: &Path) -> Result<RunRecord, TrackerError> {
        let path = dir.join("run.json");
        let bytes = tokio::fs::read(&path).await.map_err(io_error(&path))?;
        serde_json::from_slice(&bytes).map_err(|error| TrackerError::Corrupt {
            path: path.display().to_string(),
            cause: error.to_string(),
        })
    }

    /// Writes `run.json` through a temporary file and a rename, so readers never see half a file.
    async fn write_record(&self, dir: &Path, record: &RunRecord) -> Result<(), TrackerError> {
        let path = dir.join("run.json");
        let temporary = dir.join("run.json.tmp");
        let bytes = serde_json::to_vec_pretty(record).expect("run records serialise");
        tokio::fs::write(&temporary, bytes)
            .await
            .map_err(io_error(&temporary))?;
        tokio::fs::rename(&temporary, &path)
            .await
            .map_err(io_error(&path))
    }

    async fn update<F>(&self, run_id: &str, change: F) -> Result<(), TrackerError>
    where
        F: FnOnce(&mut RunRecord) -> Result<(), TrackerError> + Send,
    {
        let dir = self.run_dir(run_id)?;
        let mut record = self.read_record(&dir).await?;
        change(&mut record)?;
        self.write_record(&dir, &record).await
    }

    fn artifact_path(dir: &Path, path: &str) -> Result<PathBuf, TrackerError> {
        let relative = Path::new(path);
        let safe = !path.is_empty()
            && relative
                .components()
                .all(|component| matches!(component, Component::Normal(_)));
        if !safe {
            return Err(TrackerError::InvalidArtifactPath(path.to_owned()));
        }
        Ok(dir.join("artifacts").join(relative))
    }

    async fn all_metrics(&self, dir: &Path) -> Result<Vec<Metric>, TrackerError> {
        let path = dir.join("metrics.jsonl");
        let content = match tokio::fs::read_to_string(&path).await {
            Ok(content) => content,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(io_error(&path)(error)),
        };
        content
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line).map_err(|error| TrackerError::Corrupt {
                    path: path.display().to_string(),
                    cause: error.to_string(),
                })
            })
            .collect()
    }
}

#[async_trait]
impl Tracker for LocalTracker {
    fn location(&self) -> String {
        format!("local tracker at {}", self.root.display())
    }

    async fn create_run(
        &self,
        experiment: &str,
        run_name: &str,
        tags: &[(String, String)],
    ) -> Result<RunRecord, TrackerError> {
        let run_id = Self::new_run_id();
        let dir = self.runs_dir().join(&run_id);
        tokio::fs::create_dir_all(dir.join("artifacts"))
            .await
            .map_err(io_error(&dir))?;
        let record = RunRecord {
            run_id,
            experiment: experiment.to_owned(),
            run_name: run_name.to_owned(),
            status: RunStatus::Running,
            start_time: now_millis(),
            end_time: None,
            params: Default::default(),
            metrics: Default::default(),
            tags: tags.iter().cloned().collect(),
        };
        self.write_record(&dir, &record).await?;
        Ok(record)
    }

    async fn log_params(
        &self,
        run_id: &str,
        params: &[(String, String)],
    ) -> Result<(), TrackerError> {
        self.update(run_id, |record| {
            for (key, value) in params {
                if let Some(existing) = record.params.get(key)
                    && existing != value
                {
                    return Err(TrackerError::ParamChanged {
                        run_id: record.run_id.clone(),
                        key: key.clone(),
                        existing: existing.clone(),
                        new: value.clone(),
                    });
                }
                record.params.insert(key.clone(), value.clone());
            }
            Ok(())
        })
        .await
    }

    async fn log_metrics(&self, run_id: &str, metrics: &[Metric]) -> Result<(), TrackerError> {
        let dir = self.run_dir(run_id)?;
        let path = dir.join("metrics.jsonl");
        let mut lines = String::new();
        for metric in metrics {
            lines.push_str(&serde_json::to_string(metric).expect("metrics serialise"));
            lines.push('\n');
        }
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .await
            .map_err(io_error(&path))?;
        file.write_all(lines.as_bytes())
            .await
            .map_err(io_error(&path))?;
        file.flush().await.map_err(io_error(&path))?;

        self.update(run_id, |record| {
            for metric in metrics {
                record.metrics.insert(metric.key.clone(), metric.value);
            }
            Ok(())
        })
        .await
    }

    async fn set_tags(&self, run_id: &str, tags: &[(String, String)]) -> Result<(), TrackerError> {
        self.update(run_id, |record| {
            record.tags.extend(tags.iter().cloned());
            Ok(())
        })
        .await
    }

    async fn log_artifact(
        &self,
        run_id: &str,
        path: &str,
        bytes: Vec<u8>,
    ) -> Result<(), TrackerError> {
        let dir = self.run_dir(run_id)?;
        let target = Self::artifact_path(&dir, path)?;
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(io_error(parent))?;
        }
        let temporary = target.with_extension("partial");
        tokio::fs::write(&temporary, bytes)
            .await
            .map_err(io_error(&temporary))?;
        tokio::fs::rename(&temporary, &target)
            .await
            .map_err(io_error(&target))
    }

    async fn load_artifact(&self, run_id: &str, path: &str) -> Result<Vec<u8>, TrackerError> {
        let dir = self.run_dir(run_id)?;
        let target = Self::artifact_path(&dir, path)?;
        match tokio::fs::read(&target).await {
            Ok(bytes) => Ok(bytes),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                Err(TrackerError::ArtifactNotFound {
                    run_id: run_id.to_owned(),
                    path: path.to_owned(),
                })
            }
            Err(error) => Err(io_error(&target)(error)),
        }
    }

    async fn finish_run(
        &self,
        run_id: &str,
        status: RunStatus,
        error: Option<&str>,
    ) -> Result<(), TrackerError> {
        self.update(run_id, |record| {
            record.status = status;
            record.end_time = Some(now_millis());
            if let Some(error) = error {
                record.tags.insert("topica.error".into(), error.to_owned());
            }
            Ok(())
        })
        .await
    }

    async fn get_run(&self, run_id: &str) -> Result<RunRecord, TrackerError> {
        let dir = self.run_dir(run_id)?;
        self.read_record(&dir).await
    }

    async fn metric_history(&self, run_id: &str, key: &str) -> Result<Vec<Metric>, TrackerError> {
        let dir = self.run_dir(run_id)?;
        let mut history: Vec<Metric> = self
            .all_metrics(&dir)
            .await?
            .into_iter()
            .filter(|metric| metric.key == key)
            .collect();
        history.sort_by_key(|metric| metric.step);
        Ok(history)
    }

    async fn list_runs(&self, experiment: Option<&str>) -> Result<Vec<RunRecord>, TrackerError> {
        let dir = self.runs_dir();
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(io_error(&dir)(error)),
        };
        let mut runs = Vec::new();
        while let Some(entry) = entries.next_entry().await.map_err(io_error(&dir))? {
            if !entry.path().join("run.json").exists() {
                continue;
            }
            let record = self.read_record(&entry.path()).await?;
            if experiment.is_none_or(|name| name == record.experiment) {
                runs.push(record);
            }
        }
        runs.sort_by(|a, b| {
            b.start_time
                .cmp(&a.start_time)
                .then_with(|| a.run_id.cmp(&b.run_id))
        });
        Ok(runs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn run_lifecycle_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let tracker = LocalTracker::new(dir.path());
        let run = tracker
            .create_run("topica", "lda-k5", &[("corpus".into(), "lee".into())])
            .await
            .unwrap();
        assert_eq!(run.status, RunStatus::Running);

        tracker
            .log_params(&run.run_id, &[("num_topics".into(), "5".into())])
            .await
            .unwrap();
        tracker
            .log_metrics(
                &run.run_id,
                &[
                    Metric::now("log_likelihood", -10.0, 0),
                    Metric::now("log_likelihood", -8.0, 10),
                ],
            )
            .await
            .unwrap();
        tracker
            .log_artifact(&run.run_id, "model/model.json", b"{}".to_vec())
            .await
            .unwrap();
        tracker
            .finish_run(&run.run_id, RunStatus::Finished, None)
            .await
            .unwrap();

        let stored = tracker.get_run(&run.run_id).await.unwrap();
        assert_eq!(stored.status, RunStatus::Finished);
        assert_eq!(stored.params["num_topics"], "5");
        assert_eq!(stored.metrics["log_likelihood"], -8.0);
        assert_eq!(stored.tags["corpus"], "lee");
        let history = tracker
            .metric_history(&run.run_id, "log_likelihood")
            .await
            .unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(
            tracker
                .load_artifact(&run.run_id, "model/model.json")
                .await
                .unwrap(),
            b"{}"
        );
        assert_eq!(tracker.list_runs(Some("topica")).await.unwrap().len(), 1);
        assert!(tracker.list_runs(Some("other")).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn changed_param_and_bad_paths_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let tracker = LocalTracker::new(dir.path());
        let run = tracker.create_run("topica", "run", &[]).await.unwrap();
        tracker
            .log_params(&run.run_id, &[("seed".into(), "1".into())])
            .await
            .unwrap();

        let error = tracker
            .log_params(&run.run_id, &[("seed".into(), "2".into())])
            .await
            .unwrap_err();
        assert!(
            matches!(error, TrackerError::ParamChanged { .. }),
            "{error}"
        );
        let error = tracker
            .log_artifact(&run.run_id, "../escape", vec![])
            .await
            .unwrap_err();
        assert!(
            matches!(error, TrackerError::InvalidArtifactPath(_)),
            "{error}"
        );
        let error = tracker.get_run("../../etc").await.unwrap_err();
        assert!(matches!(error, TrackerError::RunNotFound(_)), "{error}");
        let error = tracker
            .load_artifact(&run.run_id, "missing.json")
            .await
            .unwrap_err();
        assert!(
            matches!(error, TrackerError::ArtifactNotFound { .. }),
            "{error}"
        );
    }
}
