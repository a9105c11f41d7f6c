//! The web app's routes: server-rendered Leptos pages, their server functions, the browser
//! bundle under `/pkg` and the static files from `public/`.
//!
//! The bundle is built by `cargo xtask site` into `<target>/site`. Without it the pages still
//! render on the server, but nothing in them responds to clicks.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};
use topica_app::{App, Backend, shell};
use tower_http::services::ServeDir;

/// File stem of the bundle that `cargo xtask site` writes (`topica.js`, `topica_bg.wasm`,
/// `topica.css`).
const OUTPUT_NAME: &str = "topica";
/// Folder below the site root that contains the bundle, served at `/pkg`.
const PKG_FOLDER: &str = "pkg";

/// Returns `<target>/site`, where `cargo xtask site` writes the bundle when this binary was
/// built with the same `CARGO_TARGET_DIR` (or none, meaning `<workspace>/target`).
///
/// The path is fixed at compile time, so an installed binary or a container image should pass
/// its site root explicitly instead.
pub fn default_site_root() -> PathBuf {
    let target_dir = match option_env!("CARGO_TARGET_DIR") {
        Some(target_dir) => PathBuf::from(target_dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("target"),
    };
    target_dir.join("site")
}

/// Builds the router for the web app.
///
/// Every page request and server-function call gets `backend` as an `Arc<dyn Backend>` Leptos
/// context. The router has a fallback, which serves files below `site_root` and renders the
/// app's 404 page for anything else, so merge routers without a fallback into it.
pub fn router(backend: Arc<dyn Backend>, site_root: PathBuf) -> Router {
    let bundle = site_root.join(PKG_FOLDER).join(format!("{OUTPUT_NAME}.js"));
    if !bundle.is_file() {
        tracing::warn!(
            bundle = %bundle.display(),
            "the browser bundle is missing, so pages will render but not respond to input; \
             build it with `cargo xtask site` or pass the folder it was built into"
        );
    }

    let options = leptos_options(&site_root);
    let routes = generate_route_list(App);
    let provide_backend = move || provide_context(backend.clone());

    Router::new()
        .leptos_routes_with_context(&options, routes, provide_backend.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .nest_service("/pkg", ServeDir::new(site_root.join(PKG_FOLDER)))
        .fallback(file_and_error_handler_with_context(provide_backend, shell))
        .with_state(options)
}

/// Returns the options cargo-leptos would otherwise pass through environment variables.
fn leptos_options(site_root: &Path) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(site_root.to_string_lossy().as_ref())
        .site_pkg_dir(PKG_FOLDER)
        .build()
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, to_bytes};
    use axum::http::{Request, StatusCode};
    use topica_app::dto::{CorpusSummary, MeasureView, RunDetail, RunSummary, TopicView};
    use tower::ServiceExt;

    use super::*;

    /// One corpus and one finished run with two topics; `broken` makes every call fail.
    struct FakeBackend {
        broken: bool,
    }

    fn fake_run() -> RunDetail {
        RunDetail {
            run_id: "run-1".into(),
            corpus: "letters".into(),
            status: "finished".into(),
            started_at: "2024-05-01T10:00:00Z".into(),
            params: vec![
                ("num_topics".into(), "2".into()),
                ("alpha".into(), "0.1".into()),
            ],
            topics: vec![
                TopicView {
                    id: 0,
                    words: vec![("harbour".into(), 0.12), ("ship".into(), 0.08)],
                },
                TopicView {
                    id: 1,
                    words: vec![("wheat".into(), 0.2), ("harvest".into(), 0.1)],
                },
            ],
            coherence: vec![MeasureView {
                measure: "c_v".into(),
                overall: 0.55,
                per_topic: vec![Some(0.5), Some(0.6)],
            }],
            log_likelihood: vec![-900.0, -850.0, -840.0],
        }
    }

    #[async_trait::async_trait]
    impl Backend for FakeBackend {
        async fn list_corpora(&self) -> Result<Vec<CorpusSummary>, String> {
            if self.broken {
                return Err("disk /secret/path is full".into());
            }
            Ok(vec![CorpusSummary {
                name: "letters".into(),
                documents: 120,
                collections: 3,
                first_date: Some("1850-01-01".into()),
                last_date: Some("1899-12-31".into()),
                created_at: "2024-05-01T09:00:00Z".into(),
            }])
        }

        async fn list_runs(&self) -> Result<Vec<RunSummary>, String> {
            Ok(vec![RunSummary {
                run_id: "run-1".into(),
                corpus: "letters".into(),
                num_topics: 2,
                status: "finished".into(),
                started_at: "2024-05-01T10:00:00Z".into(),
                c_v: Some(0.55),
            }])
        }

        async fn run_detail(&self, run_id: &str) -> Result<Option<RunDetail>, String> {
            if self.broken {
                return Err("database /secret/path is locked".into());
            }
            Ok((run_id == "run-1").then(fake_run))
        }
    }

    fn test_router(broken: bool) -> (Router, tempfile::TempDir) {
        let site_root = tempfile::tempdir().unwrap();
        let pkg = site_root.path().join(PKG_FOLDER);
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("topica.js"), "export default function () {}").unwrap();
        std::fs::write(site_root.path().join("favicon.svg"), "<svg/>").unwrap();

        let router = router(
            Arc::new(FakeBackend { broken }),
            site_root.path().to_path_buf(),
        );
        (router, site_root)
    }

    async fn get(router: Router, uri: &str) -> (StatusCode, String) {
        let request = Request::get(uri).body(Body::empty()).unwrap();
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn home_lists_corpora_and_runs() {
        let (router, _site) = test_router(false);

        let (status, html) = get(router, "/").await;

        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("letters"), "corpus name missing: {html}");
        assert!(
            html.contains(r#"href="/runs/run-1""#),
            "run link missing: {html}"
        );
        assert!(
            html.contains("/pkg/topica.js"),
            "hydration script missing: {html}"
        );
        assert!(
            html.contains("/pkg/topica_bg.wasm"),
            "wasm preload missing: {html}"
        );
    }

    #[tokio::test]
    async fn run_page_shows_topics() {
        let (router, _site) = test_router(false);

        let (status, html) = get(router, "/runs/run-1").await;

        assert_eq!(status, StatusCode::OK);
        for word in ["harbour", "ship", "wheat", "harvest"] {
            assert!(html.contains(word), "word {word} missing: {html}");
        }
        assert!(html.contains("0.550"), "overall c_v missing: {html}");
        assert!(
            html.contains("<polyline"),
            "log-likelihood sparkline missing: {html}"
        );
    }

    #[tokio::test]
    async fn unknown_run_is_404() {
        let (router, _site) = test_router(false);

        let (status, html) = get(router, "/runs/nope").await;

        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(
            html.contains("No run has the id"),
            "message missing: {html}"
        );
    }

    #[tokio::test]
    async fn unknown_path_is_404() {
        let (router, _site) = test_router(false);

        let (status, html) = get(router, "/no/such/page").await;

        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(html.contains("Not found"), "404 page missing: {html}");
    }

    #[tokio::test]
    async fn backend_error_hides_cause() {
        let (router, _site) = test_router(true);

        let (status, html) = get(router, "/runs/run-1").await;

        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            html.contains("Could not load the run."),
            "message missing: {html}"
        );
        assert!(
            !html.contains("/secret/path"),
            "internal cause leaked: {html}"
        );
    }

    #[tokio::test]
    async fn server_function_returns_run() {
        let (router, _site) = test_router(false);
        let request = Request::post("/ui/api/run")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("run_id=run-1"))
            .unwrap();

        let response = router.oneshot(request).await.unwrap();

        assert_eq!(response.status(), StatusCode::OK);
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let detail: Option<RunDetail> = serde_json::from_slice(&body).unwrap();
        assert_eq!(detail, Some(fake_run()));
    }

    #[tokio::test]
    async fn bundle_and_static_files_served() {
        let (router, _site) = test_router(false);

        let (bundle_status, _) = get(router.clone(), "/pkg/topica.js").await;
        let (favicon_status, _) = get(router.clone(), "/favicon.svg").await;
        let (missing_status, _) = get(router, "/pkg/missing.js").await;

        assert_eq!(bundle_status, StatusCode::OK);
        assert_eq!(favicon_status, StatusCode::OK);
        assert_eq!(missing_status, StatusCode::NOT_FOUND);
    }
}
