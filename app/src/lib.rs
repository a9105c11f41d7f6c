//! Topica's web app: pages, components, server functions and the DTOs they exchange.
//!
//! The same crate compiles twice. With the `ssr` feature the server renders pages and runs the
//! server functions against a [`Backend`]. With the `hydrate` feature the browser bundle takes
//! over the server-rendered HTML, after which controls such as the words-per-topic slider work
//! without further requests.

pub mod api;
mod components;
pub mod dto;
mod pages;

#[cfg(feature = "ssr")]
mod backend;

#[cfg(feature = "ssr")]
pub use backend::Backend;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::pages::{HomePage, NotFound, RunPage};

/// Renders the HTML document around [`App`]: the hydration scripts and the tags that pages add
/// with `leptos_meta`.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Renders the app's root: the header and the routes.
///
/// `<main>` gets `data-hydrated="true"` once the browser bundle has hydrated the page, because
/// effects run only in the browser. Tests wait for it before using client-side controls.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <Stylesheet id="topica" href="/pkg/topica.css" />
        <Title formatter=|page: String| format!("{page} · Topica") />
        <Router>
            <header class="site-header">
                <a href="/" class="brand">
                    "Topica"
                </a>
            </header>
            <main data-hydrated=move || hydrated.get().then_some("true")>
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("") view=HomePage />
                    // Rendered in full before the response starts, so a missing run can set
                    // the status to 404 before the headers are sent.
                    <Route path=path!("/runs/:id") view=RunPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}
