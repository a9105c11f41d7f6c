//! The page for unknown paths and unknown runs.

use leptos::prelude::*;
use leptos_meta::Title;

/// Tells the reader the page does not exist and sets the response status to 404 during
/// server rendering.
#[component]
pub fn NotFound(
    /// What was not found, for example "No run has the id 42.".
    #[prop(optional, into)]
    message: Option<String>,
) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }

    let message = message.unwrap_or_else(|| "There is no page at this address.".to_string());
    view! {
        <Title text="Not found" />
        <section class="not-found">
            <h1>"Not found"</h1>
            <p>{message}</p>
            <p>
                <a href="/">"Back to corpora and runs"</a>
            </p>
        </section>
    }
}
