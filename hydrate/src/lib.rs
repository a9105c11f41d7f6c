//! Browser entry point: `cargo xtask site` turns this crate into `pkg/topica.js` and
//! `pkg/topica_bg.wasm`, and the script that `HydrationScripts` puts in each page calls
//! [`hydrate`] once both have loaded.

use wasm_bindgen::prelude::wasm_bindgen;

/// Attaches the app to the server-rendered `<body>`, after which its controls respond.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(topica_app::App);
}
