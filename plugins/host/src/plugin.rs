//! Plugin identity and self-description: what a loaded plugin is and what it reports.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use crate::bindings::types;

/// Kind of plugin, which fixes the WIT world it implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PluginKind {
    /// Text in, tokens out (world `tokenizer`).
    Tokenizer,
    /// Tokens in, tokens out, one document at a time (world `token-filter`).
    TokenFilter,
    /// Fits corpus statistics, then rewrites tokens (world `corpus-filter`).
    CorpusFilter,
    /// Trains a topic model and infers topic distributions (world `topic-model`).
    TopicModel,
}

impl PluginKind {
    /// Returns the kind's WIT name, such as `token-filter`.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Tokenizer => "tokenizer",
            PluginKind::TokenFilter => "token-filter",
            PluginKind::CorpusFilter => "corpus-filter",
            PluginKind::TopicModel => "topic-model",
        }
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl From<types::PluginKind> for PluginKind {
    fn from(kind: types::PluginKind) -> Self {
        match kind {
            types::PluginKind::Tokenizer => PluginKind::Tokenizer,
            types::PluginKind::TokenFilter => PluginKind::TokenFilter,
            types::PluginKind::CorpusFilter => PluginKind::CorpusFilter,
            types::PluginKind::TopicModel => PluginKind::TopicModel,
        }
    }
}

/// A plugin's self-description, returned by its `info` export.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PluginInfo {
    /// Stable name used in pipelines, such as `stopwords`.
    pub name: String,
    /// Semantic version of the plugin's behaviour.
    pub version: String,
    /// The world the plugin implements.
    pub kind: PluginKind,
    /// One line for listings.
    pub description: String,
    /// JSON object with every setting and its default value.
    pub default_settings: String,
}

impl From<types::PluginInfo> for PluginInfo {
    fn from(info: types::PluginInfo) -> Self {
        Self {
            name: info.name,
            version: info.version,
            kind: info.kind.into(),
            description: info.description,
            default_settings: info.default_settings,
        }
    }
}

/// An error a plugin returned itself, as opposed to a trap the host caught.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "message")]
pub enum PluginFailure {
    /// The settings JSON was rejected; the message names the field and the value.
    #[error("invalid settings: {0}")]
    InvalidSettings(String),
    /// The input was rejected; the message names the document or value.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Any other failure.
    #[error("{0}")]
    Failed(String),
}

impl From<types::PluginError> for PluginFailure {
    fn from(error: types::PluginError) -> Self {
        match error {
            types::PluginError::InvalidSettings(message) => PluginFailure::InvalidSettings(message),
            types::PluginError::InvalidInput(message) => PluginFailure::InvalidInput(message),
            types::PluginError::Failed(message) => PluginFailure::Failed(message),
        }
    }
}

/// The identity a pipeline records for each step: name and version from the plugin's `info`,
/// and the SHA-256 of the component's bytes, which pins the exact code that ran.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PluginId {
    /// Name from `info`.
    pub name: String,
    /// Version from `info`.
    pub version: String,
    /// Lowercase hex SHA-256 of the component bytes.
    pub sha256: String,
}

impl fmt::Display for PluginId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = self.sha256.get(..12).unwrap_or(&self.sha256);
        write!(formatter, "{}@{} (sha256 {short})", self.name, self.version)
    }
}

/// Returns the lowercase hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A loaded plugin: its identity, its `info` and its compiled component. Cloning is cheap.
#[derive(Clone)]
pub struct PluginRef {
    pub(crate) id: PluginId,
    pub(crate) info: PluginInfo,
    pub(crate) component: Component,
}

impl PluginRef {
    /// Returns the identity to record with results.
    pub fn id(&self) -> &PluginId {
        &self.id
    }

    /// Returns what the plugin reported from `info`.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// Returns the plugin's name.
    pub fn name(&self) -> &str {
        &self.id.name
    }

    /// Returns the plugin's kind.
    pub fn kind(&self) -> PluginKind {
        self.info.kind
    }
}

impl fmt::Debug for PluginRef {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PluginRef")
            .field("id", &self.id)
            .field("kind", &self.info.kind)
            .finish_non_exhaustive()
    }
}
