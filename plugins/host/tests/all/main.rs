//! Integration tests for the plugin host, one module per feature. Every test runs the real
//! plugin components that `cargo xtask plugins` built, never a native stand-in.

mod components;
mod filters;
mod partitioned;
mod phrases;
mod pipeline;
mod sandbox;
mod tokenizer;
mod topic_model;

use std::path::PathBuf;
use std::sync::OnceLock;

use topica_plugin_host::{PluginHost, PluginRef, SandboxLimits, TextPipeline};

/// Returns a host shared by all tests, so that each component is compiled once per run.
pub fn host() -> &'static PluginHost {
    static HOST: OnceLock<PluginHost> = OnceLock::new();
    HOST.get_or_init(|| PluginHost::new().expect("failed to create the plugin host"))
}

/// Loads the test-only `misbehave` plugin from the folder the built-ins were embedded from.
pub fn misbehave() -> PluginRef {
    let path = PathBuf::from(topica_plugin_host::PLUGIN_DIR).join("misbehave.wasm");
    host()
        .load_file(&path)
        .expect("misbehave.wasm missing: run `cargo xtask plugins`")
}

/// Converts string slices to owned strings.
pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

/// Runs one built-in token filter with `settings` over one document.
pub fn filter(name: &str, settings: &str, tokens: &[&str]) -> Vec<String> {
    let plugin = host().builtin(name).unwrap();
    let mut filter = host()
        .token_filter(&plugin, settings, &SandboxLimits::text())
        .unwrap();
    let mut output = filter.apply(&[strings(tokens)]).unwrap();
    output.pop().unwrap()
}

/// Runs a pipeline of built-in steps over `texts`.
pub fn run_pipeline(steps: &[(&str, &str)], texts: &[&str]) -> Vec<Vec<String>> {
    let pipeline = TextPipeline::new(host(), steps.iter().copied()).unwrap();
    pipeline.run(&strings(texts)).unwrap()
}
