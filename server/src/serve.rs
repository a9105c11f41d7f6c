//! `topica serve`: the axum server with the web app, health probes and the data the pages read.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use topica_app::Backend;
use topica_app::dto::{CorpusSummary, MeasureView, RunDetail, RunSummary, TopicView};
use tower_http::trace::TraceLayer;

use crate::cli::ServeCommand;
use crate::context::Context;
use crate::kpi::{COHERENCE_ARTIFACT, KpiReport, load_model};
use crate::tracker::{RunRecord, TrackerError};

/// Words per topic sent to the run page; its slider shows a prefix of them.
const PAGE_TOP_WORDS: usize = 20;

/// Serves the web pages from the store and tracker of a data directory.
pub struct DataBackend {
    context: Context,
}

fn rfc3339_from_millis(millis: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|moment| {
            moment
                .format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn run_summary(run: &RunRecord) -> RunSummary {
    RunSummary {
        run_id: run.run_id.clone(),
        corpus: run.params.get("corpus").cloned().unwrap_or_default(),
        num_topics: run
            .params
            .get("num_topics")
            .and_then(|value| value.parse().ok())
            .unwrap_or(0),
        status: run.status.to_string().to_lowercase(),
        started_at: rfc3339_from_millis(run.start_time),
        c_v: run
            .metrics
            .get("coherence_c_v")
            .copied()
            .filter(|value| value.is_finite()),
    }
}

/// Replaces a non-finite value, which JSON cannot carry, with 0.
fn finite(value: f64) -> f64 {
    if value.is_finite() { value } else { 0.0 }
}

#[async_trait::async_trait]
impl Backend for DataBackend {
    async fn list_corpora(&self) -> Result<Vec<CorpusSummary>, String> {
        let corpora = self
            .context
            .store
            .list_corpora()
            .await
            .map_err(|error| error.to_string())?;
        Ok(corpora
            .into_iter()
            .map(|corpus| CorpusSummary {
                name: corpus.name,
                documents: corpus.document_count,
                collections: corpus.collections.len() as u64,
                first_date: corpus.first_date,
                last_date: corpus.last_date,
                created_at: corpus.created_at,
            })
            .collect())
    }

    async fn list_runs(&self) -> Result<Vec<RunSummary>, String> {
        let runs = self
            .context
            .tracker
            .list_runs(None)
            .await
            .map_err(|error| error.to_string())?;
        Ok(runs.iter().map(run_summary).collect())
    }

    async fn run_detail(&self, run_id: &str) -> Result<Option<RunDetail>, String> {
        let run = match self.context.tracker.get_run(run_id).await {
            Ok(run) => run,
            Err(TrackerError::RunNotFound(_)) => return Ok(None),
            Err(error) => return Err(error.to_string()),
        };
        let summary = run_summary(&run);

        let topics = match load_model(&self.context, run_id).await {
            Ok(model) => (0..model.num_topics as usize)
                .map(|topic| TopicView {
                    id: topic as u32,
                    words: model
                        .top_words(topic, PAGE_TOP_WORDS)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(word, weight)| (word, finite(weight)))
                        .collect(),
                })
                .collect(),
            // A run that failed or is still training has no model yet.
            Err(_) => Vec::new(),
        };

        let coherence = match self
            .context
            .tracker
            .load_artifact(run_id, COHERENCE_ARTIFACT)
            .await
        {
            Ok(bytes) => {
                let report: KpiReport =
                    serde_json::from_slice(&bytes).map_err(|error| error.to_string())?;
                report
                    .scores
                    .into_iter()
                    .map(|score| MeasureView {
                        measure: score.measure,
                        overall: finite(score.overall),
                        per_topic: score
                            .per_topic
                            .into_iter()
                            .map(|value| value.filter(|value| value.is_finite()))
                            .collect(),
                    })
                    .collect()
            }
            Err(TrackerError::ArtifactNotFound { .. }) => Vec::new(),
            Err(error) => return Err(error.to_string()),
        };

        let log_likelihood = self
            .context
            .tracker
            .metric_history(run_id, "log_likelihood")
            .await
            .map_err(|error| error.to_string())?
            .into_iter()
            .map(|metric| finite(metric.value))
            .collect();

        Ok(Some(RunDetail {
            run_id: summary.run_id,
            corpus: summary.corpus,
            status: summary.status,
            started_at: summary.started_at,
            params: run.params.into_iter().collect(),
            topics,
            coherence,
            log_likelihood,
        }))
    }
}

/// Returns 200 when the store and the tracker respond, 503 otherwise, so a load balancer only
/// sends traffic to an instance that can serve it.
async fn readiness(State(context): State<Context>) -> (StatusCode, &'static str) {
    if let Err(error) = context.store.list_corpora().await {
        tracing::warn!(%error, "not ready: the store does not respond");
        return (StatusCode::SERVICE_UNAVAILABLE, "store unavailable");
    }
    if let Err(error) = context.tracker.list_runs(Some("topica.readiness")).await {
        tracing::warn!(%error, "not ready: the tracker does not respond");
        return (StatusCode::SERVICE_UNAVAILABLE, "tracker unavailable");
    }
    (StatusCode::OK, "ready")
}

/// Builds the whole HTTP application: probes and the web app.
pub fn app(context: Context, site_root: PathBuf) -> Router {
    let backend: Arc<dyn Backend> = Arc::new(DataBackend {
        context: context.clone(),
    });
    let probes = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readiness))
        .with_state(context);
    probes
        .merge(crate::web::router(backend, site_root))
        .layer(TraceLayer::new_for_http())
}

/// Listens on the given address until Ctrl-C or SIGTERM.
pub async fn serve(context: Context, command: ServeCommand) -> anyhow::Result<()> {
    let site_root = command
        .site_root
        .unwrap_or_else(crate::web::default_site_root);
    let listener = tokio::net::TcpListener::bind(command.addr)
        .await
        .map_err(|error| anyhow::anyhow!("cannot listen on {}: {error}", command.addr))?;
    tracing::info!(addr = %command.addr, site_root = %site_root.display(), data_dir = %context.data_dir.display(), "server started");
    axum::serve(listener, app(context, site_root))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("server stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    async fn get_status(app: Router, uri: &str) -> StatusCode {
        let request = Request::builder().uri(uri).body(Body::empty()).unwrap();
        app.oneshot(request).await.unwrap().status()
    }

    #[tokio::test]
    async fn probes_answer_on_a_fresh_data_dir() {
        let data = tempfile::tempdir().unwrap();
        let context = Context::open(data.path()).await.unwrap();
        let app = app(context, data.path().join("site"));
        assert_eq!(get_status(app.clone(), "/healthz").await, StatusCode::OK);
        assert_eq!(get_status(app, "/readyz").await, StatusCode::OK);
    }

    #[tokio::test]
    async fn readiness_fails_when_tracker_is_unreachable() {
        let data = tempfile::tempdir().unwrap();
        let tracking =
            crate::context::TrackerChoice::from_flags(Some("http://127.0.0.1:9".to_owned()));
        let context = Context::open_with_choices(
            data.path(),
            &crate::context::StoreChoice::Sqlite,
            &tracking,
        )
        .await
        .unwrap();
        let app = app(context, data.path().join("site"));
        assert_eq!(
            get_status(app, "/readyz").await,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
