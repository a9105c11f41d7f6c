//! Runs Topica's WebAssembly plugins under wasmtime, each in its own sandbox.
//!
//! Plugins are components for the worlds in `plugins/wit/topica.wit`: tokenizers, token
//! filters, corpus filters and topic models. A [`PluginHost`] has one engine, compiles each
//! component once (cached by its SHA-256), and embeds the built-in plugins. Every instance
//! runs in its own store with no imports except the topic model's progress callback, so it
//! has no file system, network or clock, and every call runs under the memory limit and
//! deadline of its [`SandboxLimits`]. Breaking either becomes a typed [`Error`] that names the
//! plugin.
//!
//! ```
//! use topica_plugin_host::{PluginHost, TextPipeline};
//!
//! let host = PluginHost::new()?;
//! let pipeline = TextPipeline::new(
//!     &host,
//!     [("tokenizer", "{}"), ("lowercase", "{}"), ("stopwords", r#"{"languages":["italian"]}"#)],
//! )?;
//! let tokens = pipeline.run(&["L'uomo è tornato.".to_owned()])?;
//! assert_eq!(tokens, [["uomo", "tornato"]]);
//! # Ok::<(), topica_plugin_host::Error>(())
//! ```

mod bindings;
mod error;
mod host;
mod limits;
mod partitioned;
mod pipeline;
mod plugin;
mod sandbox;
mod text;
mod topic_model;

pub use error::Error;
pub use host::{HostOptions, PluginHost};
pub use limits::SandboxLimits;
pub use partitioned::Partitioning;
pub use pipeline::{PipelineProgress, StepPlugin, StepRecord, TextPipeline};
pub use plugin::{PluginFailure, PluginId, PluginInfo, PluginKind, PluginRef};
pub use text::{CorpusFilter, TokenFilter, Tokenizer};
pub use topic_model::{InferRequest, TopicModel, TopicState, TrainRequest, TrainedModel};

/// Folder the plugins were embedded from, as the build script found it. Tests load
/// test-only plugins such as `misbehave.wasm` from here.
pub const PLUGIN_DIR: &str = env!("TOPICA_PLUGIN_DIR");
