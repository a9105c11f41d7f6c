//! The fallback shown by every `ErrorBoundary`.

use leptos::prelude::*;

/// Lists the errors caught by an `ErrorBoundary` in words a reader can act on.
#[component]
pub fn ErrorList(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <div class="error" role="alert">
            <p>"This page could not be loaded."</p>
            <ul>
                {move || {
                    errors
                        .get()
                        .into_iter()
                        .map(|(_, error)| view! { <li>{describe(&error)}</li> })
                        .collect_view()
                }}
            </ul>
        </div>
    }
}

/// Returns the server's own message for a server-function error, which the server keeps free of
/// internal detail, and the full text for anything else (for example a network failure).
fn describe(error: &leptos::error::Error) -> String {
    match (***error).downcast_ref::<ServerFnError>() {
        Some(ServerFnError::ServerError(message)) => message.clone(),
        Some(ServerFnError::Request(_)) => {
            "The server could not be reached. Check that it is running, then reload.".to_string()
        }
        _ => error.to_string(),
    }
}
