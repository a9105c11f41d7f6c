//! The host's error type: every variant names the plugin it concerns.

use std::path::PathBuf;
use std::time::Duration;

use crate::plugin::{PluginFailure, PluginKind};

/// A failure to load, configure or run a plugin.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The call ran past its deadline and was interrupted.
    #[error(
        "plugin `{plugin}` timed out after {deadline:?}; raise `SandboxLimits::deadline` or pass \
         fewer documents per call"
    )]
    TimedOut {
        /// Name of the plugin.
        plugin: String,
        /// The deadline that was exceeded.
        deadline: Duration,
    },

    /// The plugin tried to grow its memory past the limit and trapped.
    #[error(
        "plugin `{plugin}` ran out of memory: it requested {requested} bytes of linear memory, \
         above the limit of {limit} bytes; raise `SandboxLimits::memory_bytes` or pass fewer \
         documents per call"
    )]
    OutOfMemory {
        /// Name of the plugin.
        plugin: String,
        /// The memory limit in bytes.
        limit: usize,
        /// Total linear memory in bytes that the rejected growth would have reached.
        requested: usize,
    },

    /// The plugin trapped: a panic, an `unreachable` instruction, an out-of-bounds access or a
    /// stack overflow.
    #[error("plugin `{plugin}` trapped: {message}")]
    Trapped {
        /// Name of the plugin.
        plugin: String,
        /// The trap and its WebAssembly backtrace as wasmtime reports them.
        message: String,
    },

    /// The plugin returned its own error, such as invalid settings.
    #[error("plugin `{plugin}` failed: {error}")]
    Plugin {
        /// Name of the plugin.
        plugin: String,
        /// The error the plugin returned.
        error: PluginFailure,
    },

    /// The plugin stopped training because the progress callback asked it to.
    #[error("plugin `{plugin}` stopped training because the progress callback returned false")]
    Cancelled {
        /// Name of the plugin.
        plugin: String,
    },

    /// The bytes are not a valid Topica plugin component.
    #[error("invalid plugin component {plugin}: {reason}")]
    InvalidComponent {
        /// The plugin's name when known, otherwise its file or its sha256.
        plugin: String,
        /// The problem and its fix.
        reason: String,
    },

    /// The plugin is of a different kind than the step needs.
    #[error("plugin `{plugin}` is a {found} plugin, but this step needs a {expected} plugin")]
    WrongKind {
        /// Name of the plugin.
        plugin: String,
        /// The kind the step needs.
        expected: PluginKind,
        /// The kind the plugin reports in `info`.
        found: PluginKind,
    },

    /// No built-in plugin has this name.
    #[error("no built-in plugin named `{name}`; the built-in plugins are {builtins}")]
    UnknownPlugin {
        /// The requested name.
        name: String,
        /// Comma-separated names of the built-in plugins.
        builtins: String,
    },

    /// An earlier trap or timeout left this plugin instance unusable.
    #[error(
        "plugin `{plugin}` cannot be called again after it trapped or timed out; create a new \
         handle"
    )]
    InstanceUnusable {
        /// Name of the plugin.
        plugin: String,
    },

    /// A sandbox limit is out of range.
    #[error("invalid sandbox limit `{field}`: {value}; {hint}")]
    InvalidLimits {
        /// The field of `SandboxLimits`.
        field: &'static str,
        /// The rejected value.
        value: String,
        /// The accepted range.
        hint: &'static str,
    },

    /// The pipeline's steps are in an order that cannot run, or a step's settings are not a
    /// JSON object.
    #[error("invalid pipeline: {0}")]
    InvalidPipeline(String),

    /// The settings of partitioned training are out of range; the message names the field.
    #[error("invalid partitioned training settings: {0}")]
    InvalidPartitioning(String),

    /// A plugin file could not be read.
    #[error("failed to read plugin file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },

    /// wasmtime could not create its engine or instantiate a plugin for a reason other than
    /// the ones above.
    #[error("wasmtime failed for plugin `{plugin}`: {message}")]
    Runtime {
        /// Name of the plugin, or `engine` for engine setup.
        plugin: String,
        /// wasmtime's error message.
        message: String,
    },
}

impl Error {
    /// Returns the name of the plugin the error concerns, when there is one.
    pub fn plugin(&self) -> Option<&str> {
        match self {
            Error::TimedOut { plugin, .. }
            | Error::OutOfMemory { plugin, .. }
            | Error::Trapped { plugin, .. }
            | Error::Plugin { plugin, .. }
            | Error::Cancelled { plugin }
            | Error::InvalidComponent { plugin, .. }
            | Error::WrongKind { plugin, .. }
            | Error::InstanceUnusable { plugin }
            | Error::Runtime { plugin, .. } => Some(plugin),
            Error::UnknownPlugin { name, .. } => Some(name),
            Error::InvalidLimits { .. }
            | Error::InvalidPipeline(_)
            | Error::InvalidPartitioning(_)
            | Error::Io { .. } => None,
        }
    }
}
