//! The data source behind the server functions, implemented by the server crate.
//!
//! The app cannot depend on the server crate, so the server implements [`Backend`] and the
//! router provides it to every request as an `Arc<dyn Backend>` Leptos context.

use std::sync::Arc;

use leptos::prelude::*;

use crate::dto::{CorpusSummary, RunDetail, RunSummary};

/// Read access to corpora and runs for the web pages.
///
/// Errors are plain strings that are only logged. The browser receives a generic message
/// instead, so a cause may contain paths, SQL or other internal detail.
#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Lists every corpus.
    async fn list_corpora(&self) -> Result<Vec<CorpusSummary>, String>;

    /// Lists every run, newest first.
    async fn list_runs(&self) -> Result<Vec<RunSummary>, String>;

    /// Loads one run, or returns `Ok(None)` when no run has this id.
    async fn run_detail(&self, run_id: &str) -> Result<Option<RunDetail>, String>;
}

/// Returns the backend the router provided for this request.
pub(crate) fn backend() -> Result<Arc<dyn Backend>, ServerFnError> {
    use_context::<Arc<dyn Backend>>().ok_or_else(|| {
        tracing::error!("no Backend in the Leptos context: the router must provide one");
        ServerFnError::new("The server is misconfigured. See the server log.")
    })
}

/// Logs a backend failure with its cause and returns the message the browser may see.
pub(crate) fn load_failed(data: &str, cause: String) -> ServerFnError {
    tracing::error!(error = %cause, "loading {data} for the web app failed");
    ServerFnError::new(format!(
        "Could not load {data}. See the server log for details."
    ))
}
