//! Server functions: the only way the pages fetch data.
//!
//! They are mounted under `/ui/api/` so they cannot clash with the JSON API under `/api/v1/`.

use leptos::prelude::*;

use crate::dto::{Overview, RunDetail};

/// Fetches the corpora and runs listed on the home page.
#[server(prefix = "/ui/api", endpoint = "overview")]
pub async fn get_overview() -> Result<Overview, ServerFnError> {
    use crate::backend::{backend, load_failed};

    let backend = backend()?;
    let corpora = backend
        .list_corpora()
        .await
        .map_err(|cause| load_failed("corpora", cause))?;
    let runs = backend
        .list_runs()
        .await
        .map_err(|cause| load_failed("runs", cause))?;

    Ok(Overview { corpora, runs })
}

/// Fetches one run, or `None` when no run has this id.
#[server(prefix = "/ui/api", endpoint = "run")]
pub async fn get_run(run_id: String) -> Result<Option<RunDetail>, ServerFnError> {
    use crate::backend::backend;

    backend()?.run_detail(&run_id).await.map_err(|cause| {
        tracing::error!(run_id = %run_id, error = %cause, "loading a run for the web app failed");
        ServerFnError::new("Could not load the run. See the server log for details.")
    })
}
