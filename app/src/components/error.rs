//! The fallback every `ErrorBoundary` shows, and the error type pages hand to it.

use leptos::prelude::*;

/// Lists the errors caught by an `ErrorBoundary`, and sets the response status to 500 when
/// rendered on the server before the headers are sent (pages in `SsrMode::Async`).
#[component]
pub fn ErrorList(errors: ArcRwSignal<Errors>) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::INTERNAL_SERVER_ERROR);
    }

    view! {
        <div class="error" role="alert">
            <p>"This page could not be loaded."</p>
            <ul>
                {move || {
                    errors
                        .get()
                        .into_iter()
                        .map(|(_, error)| view! { <li>{error.to_string()}</li> })
                        .collect_view()
                }}
            </ul>
        </div>
    }
}

/// A failed data load, worded for the reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError(String);

impl From<ServerFnError> for LoadError {
    /// Keeps the server's own message for a server-side failure, because the server keeps it
    /// free of internal detail, and replaces transport failures with a hint.
    fn from(error: ServerFnError) -> Self {
        let message = match error {
            ServerFnError::ServerError(message) => message,
            ServerFnError::Request(_) => {
                "The server could not be reached. Check that it is running, then reload."
                    .to_string()
            }
            other => other.to_string(),
        };
        Self(message)
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for LoadError {}
