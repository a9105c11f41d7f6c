//! `MlflowTracker` against a real MLflow 3.17 server.
//!
//! Start one with `eval "$(scripts/mlflow-test-server start)"`, which sets
//! `TOPICA_TEST_MLFLOW_URI` and `TOPICA_TEST_PYTHON` (the virtual environment's python with the
//! `mlflow` package, for the test that downloads a model with MLflow's own client). Every test
//! uses fresh experiment and model names, so the suite can run again on the same server.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use topica_server::tracker::{
    Metric, MlflowTracker, ModelRegistry, RunStatus, Tracker, TrackerError,
};

const START_HINT: &str = "start a test server with `eval \"$(scripts/mlflow-test-server start)\"`";

fn mlflow_uri() -> String {
    std::env::var("TOPICA_TEST_MLFLOW_URI").unwrap_or_else(|_| {
        panic!("TOPICA_TEST_MLFLOW_URI is not set: {START_HINT}, then run the tests again")
    })
}

fn tracker() -> MlflowTracker {
    MlflowTracker::new(&mlflow_uri()).expect("TOPICA_TEST_MLFLOW_URI is a valid URL")
}

/// Returns a name no earlier test run used, such as `lifecycle-1733350000123-4`.
fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let millis = topica_server::tracker::now_millis();
    format!(
        "{prefix}-{millis}-{}",
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

/// A run id of the right shape that no server has.
const UNKNOWN_RUN_ID: &str = "0123456789abcdef0123456789abcdef";

#[tokio::test]
async fn run_lifecycle_round_trips() {
    let tracker = tracker();
    let experiment = unique("lifecycle");
    let run = tracker
        .create_run(&experiment, "lda-k5", &pairs(&[("topica.corpus", "lee")]))
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Running);
    assert_eq!(run.experiment, experiment);
    assert_eq!(run.run_name, "lda-k5");

    let params = pairs(&[
        ("num_topics", "5"),
        ("seed", "0"),
        ("alpha", "0.1"),
        ("iterations", "007"),
        ("eta", "1e3"),
        ("corpus", "lee"),
    ]);
    tracker.log_params(&run.run_id, &params).await.unwrap();
    tracker
        .log_params(&run.run_id, &pairs(&[("num_topics", "5")]))
        .await
        .unwrap();
    let error = tracker
        .log_params(&run.run_id, &pairs(&[("num_topics", "6")]))
        .await
        .unwrap_err();
    assert!(
        matches!(error, TrackerError::ParamChanged { .. }),
        "{error}"
    );

    let metrics = [
        Metric::now("log_likelihood", -7.5, 2),
        Metric::now("log_likelihood", -10.0, 0),
        Metric::now("log_likelihood", -8.25, 1),
        Metric::now("training_seconds", 1.5, 0),
    ];
    tracker.log_metrics(&run.run_id, &metrics).await.unwrap();
    tracker
        .set_tags(
            &run.run_id,
            &pairs(&[("stage", "draft"), ("owner", "test")]),
        )
        .await
        .unwrap();
    tracker
        .set_tags(&run.run_id, &pairs(&[("stage", "final")]))
        .await
        .unwrap();
    tracker
        .finish_run(&run.run_id, RunStatus::Finished, None)
        .await
        .unwrap();

    let stored = tracker.get_run(&run.run_id).await.unwrap();
    assert_eq!(stored.status, RunStatus::Finished);
    assert!(
        stored.end_time.is_some_and(|end| end >= stored.start_time),
        "{:?}",
        stored.end_time
    );
    for (key, value) in &params {
        assert_eq!(stored.params.get(key), Some(value), "param {key}");
    }
    assert_eq!(stored.metrics.get("log_likelihood"), Some(&-7.5));
    assert_eq!(stored.metrics.get("training_seconds"), Some(&1.5));
    assert_eq!(
        stored.tags.get("topica.corpus").map(String::as_str),
        Some("lee")
    );
    assert_eq!(stored.tags.get("stage").map(String::as_str), Some("final"));
    assert_eq!(stored.tags.get("owner").map(String::as_str), Some("test"));
    assert!(!stored.tags.contains_key("topica.error"));

    let history = tracker
        .metric_history(&run.run_id, "log_likelihood")
        .await
        .unwrap();
    let steps: Vec<i64> = history.iter().map(|metric| metric.step).collect();
    let values: Vec<f64> = history.iter().map(|metric| metric.value).collect();
    assert_eq!(steps, [0, 1, 2]);
    assert_eq!(values, [-10.0, -8.25, -7.5]);
    assert_eq!(history[0].timestamp, metrics[1].timestamp);
    assert!(
        tracker
            .metric_history(&run.run_id, "never_logged")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn batches_and_long_params_fit_mlflow_limits() {
    let tracker = tracker();
    let run = tracker
        .create_run(&unique("limits"), "limits", &[])
        .await
        .unwrap();

    // 250 parameters and 2500 metric values need three requests each.
    let params: Vec<(String, String)> = (0..250)
        .map(|index| (format!("p{index:03}"), index.to_string()))
        .collect();
    tracker.log_params(&run.run_id, &params).await.unwrap();
    let metrics: Vec<Metric> = (0..2500)
        .map(|step| Metric::now("loss", f64::from(step) * 0.5, i64::from(step)))
        .collect();
    tracker.log_metrics(&run.run_id, &metrics).await.unwrap();

    let stopwords: String = (0..2000)
        .map(|index| format!("word{index}"))
        .collect::<Vec<_>>()
        .join(",");
    assert!(stopwords.len() > 6000);
    tracker
        .log_params(&run.run_id, &[("stopwords".to_owned(), stopwords.clone())])
        .await
        .unwrap();
    tracker
        .log_params(&run.run_id, &[("stopwords".to_owned(), stopwords.clone())])
        .await
        .unwrap();
    let error = tracker
        .log_params(
            &run.run_id,
            &[("stopwords".to_owned(), format!("{stopwords},extra"))],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, TrackerError::ParamChanged { .. }),
        "{error}"
    );

    let stored = tracker.get_run(&run.run_id).await.unwrap();
    assert_eq!(stored.params.len(), 251);
    assert_eq!(stored.params["p249"], "249");
    let reference = &stored.params["stopwords"];
    assert!(
        reference.contains("artifact params/stopwords.txt"),
        "{reference}"
    );
    let artifact = tracker
        .load_artifact(&run.run_id, "params/stopwords.txt")
        .await
        .unwrap();
    assert_eq!(String::from_utf8(artifact).unwrap(), stopwords);

    let history = tracker.metric_history(&run.run_id, "loss").await.unwrap();
    assert_eq!(history.len(), 2500);
    assert!(history.windows(2).all(|pair| pair[0].step < pair[1].step));
    assert_eq!(history[2499].value, 1249.5);
}

#[tokio::test]
async fn artifacts_round_trip() {
    let tracker = tracker();
    let run = tracker
        .create_run(&unique("artifacts"), "artifacts", &[])
        .await
        .unwrap();

    let json = br#"{"num_topics": 5}"#.to_vec();
    tracker
        .log_artifact(&run.run_id, "model/model.json", json.clone())
        .await
        .unwrap();
    tracker
        .log_artifact(
            &run.run_id,
            "tables/per topic/topics (k=5) é.csv",
            b"topic,word\n0,a\n".to_vec(),
        )
        .await
        .unwrap();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let binary: Vec<u8> = (0..1 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    tracker
        .log_artifact(&run.run_id, "blobs/random.bin", binary.clone())
        .await
        .unwrap();

    assert_eq!(
        tracker
            .load_artifact(&run.run_id, "model/model.json")
            .await
            .unwrap(),
        json
    );
    assert_eq!(
        tracker
            .load_artifact(&run.run_id, "tables/per topic/topics (k=5) é.csv")
            .await
            .unwrap(),
        b"topic,word\n0,a\n"
    );
    let loaded = tracker
        .load_artifact(&run.run_id, "blobs/random.bin")
        .await
        .unwrap();
    assert_eq!(loaded.len(), binary.len());
    assert!(loaded == binary, "the 1 MiB artifact came back changed");

    tracker
        .log_artifact(&run.run_id, "model/model.json", b"{}".to_vec())
        .await
        .unwrap();
    assert_eq!(
        tracker
            .load_artifact(&run.run_id, "model/model.json")
            .await
            .unwrap(),
        b"{}"
    );

    let error = tracker
        .load_artifact(&run.run_id, "model/missing.json")
        .await
        .unwrap_err();
    assert!(
        matches!(error, TrackerError::ArtifactNotFound { .. }),
        "{error}"
    );
    for path in [
        "../escape.json",
        "/etc/passwd",
        "model/../../x",
        "",
        "topics#1.csv",
    ] {
        let error = tracker
            .log_artifact(&run.run_id, path, vec![1])
            .await
            .unwrap_err();
        assert!(
            matches!(error, TrackerError::InvalidArtifactPath(_)),
            "{path:?}: {error}"
        );
    }
}

#[tokio::test]
async fn failed_run_keeps_error_tag() {
    let tracker = tracker();
    let run = tracker
        .create_run(&unique("failed"), "failed", &[])
        .await
        .unwrap();
    tracker
        .finish_run(
            &run.run_id,
            RunStatus::Failed,
            Some("plugin lda@0.1.0 timed out after 30 s"),
        )
        .await
        .unwrap();

    let stored = tracker.get_run(&run.run_id).await.unwrap();
    assert_eq!(stored.status, RunStatus::Failed);
    assert!(stored.end_time.is_some());
    assert_eq!(
        stored.tags["topica.error"],
        "plugin lda@0.1.0 timed out after 30 s"
    );

    let long_run = tracker
        .create_run(&unique("failed"), "long error", &[])
        .await
        .unwrap();
    let long_error = "e".repeat(9000);
    tracker
        .finish_run(&long_run.run_id, RunStatus::Failed, Some(&long_error))
        .await
        .unwrap();
    let stored = tracker.get_run(&long_run.run_id).await.unwrap();
    assert_eq!(stored.status, RunStatus::Failed);
    assert_eq!(stored.tags["topica.error"].len(), 8000);
}

#[tokio::test]
async fn list_runs_newest_first() {
    let tracker = tracker();
    let experiment = unique("listing");
    let mut run_ids = Vec::new();
    for name in ["first", "second", "third"] {
        run_ids.push(
            tracker
                .create_run(&experiment, name, &[])
                .await
                .unwrap()
                .run_id,
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let listed = tracker.list_runs(Some(&experiment)).await.unwrap();
    let listed_ids: Vec<&str> = listed.iter().map(|run| run.run_id.as_str()).collect();
    assert_eq!(
        listed_ids,
        [
            run_ids[2].as_str(),
            run_ids[1].as_str(),
            run_ids[0].as_str()
        ]
    );
    assert!(listed.iter().all(|run| run.experiment == experiment));
    assert_eq!(listed[0].run_name, "third");

    let everything = tracker.list_runs(None).await.unwrap();
    for run_id in &run_ids {
        assert!(
            everything.iter().any(|run| &run.run_id == run_id),
            "run {run_id} missing from list_runs(None)"
        );
    }
    assert!(
        everything
            .windows(2)
            .all(|pair| pair[0].start_time >= pair[1].start_time)
    );
    assert!(
        tracker
            .list_runs(Some(&unique("no-such-experiment")))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn experiment_created_on_demand() {
    let experiment = unique("on-demand");
    let first = tracker().create_run(&experiment, "a", &[]).await.unwrap();
    // A second tracker has no cached experiment id and must find the one just created.
    let second = tracker().create_run(&experiment, "b", &[]).await.unwrap();
    assert_eq!(first.experiment, experiment);
    assert_eq!(second.experiment, experiment);
    assert_eq!(
        tracker().list_runs(Some(&experiment)).await.unwrap().len(),
        2
    );
}

#[tokio::test]
async fn registry_versions_and_aliases() {
    let tracker = tracker();
    let experiment = unique("registry");
    let model = unique("topica-lda");
    let first = tracker.create_run(&experiment, "k5", &[]).await.unwrap();
    let second = tracker.create_run(&experiment, "k8", &[]).await.unwrap();
    for run in [&first, &second] {
        tracker
            .log_artifact(&run.run_id, "model/model.json", b"{}".to_vec())
            .await
            .unwrap();
    }

    let version = tracker
        .register_model_version(&model, &first.run_id, "model")
        .await
        .unwrap();
    assert_eq!(version.version, "1");
    assert_eq!(version.run_id, first.run_id);
    assert!(
        version.source.starts_with("mlflow-artifacts:/"),
        "{}",
        version.source
    );
    assert!(
        version
            .source
            .ends_with(&format!("/{}/artifacts/model", first.run_id)),
        "{}",
        version.source
    );
    let version = tracker
        .register_model_version(&model, &second.run_id, "model")
        .await
        .unwrap();
    assert_eq!(version.version, "2");

    tracker.set_alias(&model, "champion", "2").await.unwrap();
    let resolved = tracker
        .resolve(&format!("models:/{model}@champion"))
        .await
        .unwrap();
    assert_eq!(resolved.run_id, second.run_id);
    assert_eq!(resolved.version, "2");
    assert_eq!(resolved.aliases, ["champion"]);
    let resolved = tracker
        .resolve(&format!("models:/{model}/1"))
        .await
        .unwrap();
    assert_eq!(resolved.run_id, first.run_id);
    assert!(resolved.aliases.is_empty());

    tracker.set_alias(&model, "champion", "1").await.unwrap();
    assert_eq!(
        tracker
            .resolve(&format!("models:/{model}@champion"))
            .await
            .unwrap()
            .version,
        "1"
    );

    let error = tracker
        .resolve(&format!("models:/{model}@staging"))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "model {model} has no alias staging: set it with `topica model promote --name {model} --version V --alias staging`"
        )
    );
    let error = tracker
        .resolve(&format!("models:/{model}/9"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, TrackerError::ModelVersionNotFound { .. }),
        "{error}"
    );
    let error = tracker
        .resolve("models:/no-such-model-anywhere@champion")
        .await
        .unwrap_err();
    assert!(matches!(error, TrackerError::ModelNotFound(_)), "{error}");
    let error = tracker
        .set_alias(&model, "champion", "9")
        .await
        .unwrap_err();
    assert!(
        matches!(error, TrackerError::ModelVersionNotFound { .. }),
        "{error}"
    );
    let error = tracker.set_alias(&model, "v3", "1").await.unwrap_err();
    assert!(
        matches!(error, TrackerError::InvalidAlias { .. }),
        "{error}"
    );

    let empty = tracker
        .create_run(&experiment, "no model", &[])
        .await
        .unwrap();
    let error = tracker
        .register_model_version(&model, &empty.run_id, "model")
        .await
        .unwrap_err();
    assert!(
        matches!(error, TrackerError::ArtifactNotFound { .. }),
        "{error}"
    );
    let error = tracker
        .register_model_version(&model, UNKNOWN_RUN_ID, "model")
        .await
        .unwrap_err();
    assert!(matches!(error, TrackerError::RunNotFound(_)), "{error}");
}

#[tokio::test]
async fn unknown_run_is_not_found() {
    let tracker = tracker();
    let error = tracker.get_run(UNKNOWN_RUN_ID).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("run \"{UNKNOWN_RUN_ID}\" not found: `topica runs` lists the tracked runs")
    );

    let error = tracker
        .log_params(UNKNOWN_RUN_ID, &pairs(&[("a", "1")]))
        .await
        .unwrap_err();
    assert!(matches!(error, TrackerError::RunNotFound(_)), "{error}");
    let error = tracker
        .log_metrics(UNKNOWN_RUN_ID, &[Metric::now("m", 1.0, 0)])
        .await
        .unwrap_err();
    assert!(matches!(error, TrackerError::RunNotFound(_)), "{error}");
    let error = tracker
        .metric_history(UNKNOWN_RUN_ID, "m")
        .await
        .unwrap_err();
    assert!(matches!(error, TrackerError::RunNotFound(_)), "{error}");
    let error = tracker
        .load_artifact(UNKNOWN_RUN_ID, "model/model.json")
        .await
        .unwrap_err();
    assert!(matches!(error, TrackerError::RunNotFound(_)), "{error}");
    let error = tracker
        .finish_run(UNKNOWN_RUN_ID, RunStatus::Finished, None)
        .await
        .unwrap_err();
    assert!(matches!(error, TrackerError::RunNotFound(_)), "{error}");
}

#[tokio::test]
async fn mlflow_errors_name_status_and_code() {
    let tracker = tracker();
    let run = tracker
        .create_run(&unique("errors"), "errors", &[])
        .await
        .unwrap();
    let long_key = "k".repeat(300);
    let error = tracker
        .set_tags(&run.run_id, &[(long_key, "v".to_owned())])
        .await
        .unwrap_err();

    let message = error.to_string();
    assert!(
        matches!(error, TrackerError::Mlflow { status: 400, .. }),
        "{message}"
    );
    let base = mlflow_uri();
    let expected_start = format!(
        "MLflow at {} returned 400 INVALID_PARAMETER_VALUE",
        base.trim_end_matches('/')
    );
    assert!(message.starts_with(&expected_start), "{message}");
    assert!(
        message.contains("POST /api/2.0/mlflow/runs/log-batch"),
        "{message}"
    );
}

#[tokio::test]
async fn unreachable_server_names_url() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let tracker = MlflowTracker::with_timeout(&url, Duration::from_secs(5)).unwrap();

    let error = tracker
        .create_run("topica", "nowhere", &[])
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, TrackerError::MlflowUnreachable { .. }),
        "{message}"
    );
    assert!(
        message.starts_with(&format!("cannot reach MLflow at {url}: ")),
        "{message}"
    );
    assert!(message.contains("MLFLOW_TRACKING_URI"), "{message}");
    assert_eq!(tracker.location(), format!("MLflow at {url}"));
}

#[tokio::test]
async fn python_client_downloads_registered_model() {
    let python = std::env::var("TOPICA_TEST_PYTHON").unwrap_or_else(|_| {
        panic!("TOPICA_TEST_PYTHON is not set: {START_HINT}, which also sets it")
    });
    let tracker = tracker();
    let model = unique("topica-python");
    let run = tracker
        .create_run(&unique("python"), "python", &[])
        .await
        .unwrap();
    let model_json =
        br#"{"format_version": 1, "num_topics": 3, "vocabulary": ["a", "b"]}"#.to_vec();
    tracker
        .log_artifact(&run.run_id, "model/model.json", model_json.clone())
        .await
        .unwrap();
    tracker
        .log_artifact(&run.run_id, "doc_topics.json", b"[]".to_vec())
        .await
        .unwrap();
    let version = tracker
        .register_model_version(&model, &run.run_id, "model")
        .await
        .unwrap();
    tracker
        .set_alias(&model, "champion", &version.version)
        .await
        .unwrap();

    let destination = tempfile::tempdir().unwrap();
    let script = "import sys, mlflow\n\
                  mlflow.set_tracking_uri(sys.argv[1])\n\
                  print(mlflow.artifacts.download_artifacts(sys.argv[2], dst_path=sys.argv[3]))\n";
    let output = std::process::Command::new(&python)
        .args([
            "-c",
            script,
            &mlflow_uri(),
            &format!("models:/{model}@champion"),
        ])
        .arg(destination.path())
        .output()
        .unwrap_or_else(|error| panic!("cannot run {python}: {error}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the MLflow Python client failed: {stderr}"
    );

    let downloaded = std::path::PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    let bytes = std::fs::read(downloaded.join("model.json"))
        .unwrap_or_else(|error| panic!("no model.json in {}: {error}", downloaded.display()));
    assert_eq!(bytes, model_json);
    assert!(
        !downloaded.join("doc_topics.json").exists(),
        "the download reached outside the model folder"
    );
}
