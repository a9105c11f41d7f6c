//! The `topica` binary's library: CLI commands, the HTTP server, the embedded store and tracker,
//! and the glue to the plugin host.

pub mod cli;
pub mod commands;
pub mod context;
pub mod export;
pub mod infer;
pub mod ingest;
pub mod kpi;
pub mod preprocess;
mod render;
pub mod serve;
pub mod store;
pub mod sweep;
pub mod tracker;
pub mod train;
pub mod web;
