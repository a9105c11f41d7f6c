//! The storage interface: corpora, their documents, and the token lists each preprocessing
//! pipeline produced. `SqliteStore` is the embedded default; `MongoStore` keeps the same data in
//! MongoDB for deployments. Both pass one conformance suite (`server/tests/store_conformance.rs`).

mod mongo;
mod sqlite;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use mongo::MongoStore;
pub use sqlite::SqliteStore;

/// Maximum size of one document in bytes: its text plus its id and metadata strings, in UTF-8.
///
/// MongoDB rejects a BSON document over 16 MiB; this is 16 MiB less 16 KiB, which is more than the
/// field names and numbers add to a stored document. Every store enforces it, so a corpus that one
/// store accepts fits the other.
pub const MAX_DOCUMENT_BYTES: u64 = 16 * 1024 * 1024 - 16 * 1024;

/// A document as ingest produces it, before it has a place in a corpus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewDocument {
    /// Identifier unique within the corpus: the relative file path, or the CSV/JSONL id.
    pub doc_id: String,
    /// Sub-collection (the folder, or the collection field); `None` at the top level.
    pub collection: Option<String>,
    /// ISO 8601 date, possibly partial (`1970`, `1970-05`, `1970-05-21`).
    pub date: Option<String>,
    pub title: Option<String>,
    /// The source file's name, when the document came from a file of its own.
    pub file_name: Option<String>,
    pub text: String,
    /// Unicode scalar values in `text`.
    pub char_count: u64,
    /// Whitespace-separated words in `text`.
    pub word_count: u64,
}

impl NewDocument {
    /// Builds a document and computes its character and word counts.
    pub fn new(doc_id: String, text: String) -> Self {
        let char_count = text.chars().count() as u64;
        let word_count = text.split_whitespace().count() as u64;
        Self {
            doc_id,
            collection: None,
            date: None,
            title: None,
            file_name: None,
            text,
            char_count,
            word_count,
        }
    }
}

/// A stored document with its position in the corpus (its index in ingest order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub position: u64,
    #[serde(flatten)]
    pub content: NewDocument,
}

/// Description of a corpus, without its documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorpusInfo {
    pub name: String,
    /// Content hash of the documents (ids and texts), so a run can name the exact corpus it saw.
    pub version: String,
    /// Origin of the documents (a path or an upload name).
    pub source: String,
    /// RFC 3339 timestamp.
    pub created_at: String,
    pub document_count: u64,
    /// Distinct collections, sorted.
    pub collections: Vec<String>,
    pub first_date: Option<String>,
    pub last_date: Option<String>,
}

/// A preprocessing result recorded for a corpus: which pipeline ran and the dictionary it built.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineRecord {
    /// SHA-256 over every step's plugin identity and settings and the dictionary settings.
    pub pipeline_id: String,
    /// JSON description of the steps (plugin names, versions, hashes, settings).
    pub description: serde_json::Value,
    /// The filtered dictionary, serialised `topica_core::dictionary::Dictionary`.
    pub dictionary: serde_json::Value,
    pub created_at: String,
}

/// Token lists for one document under one pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentTokens {
    pub position: u64,
    pub doc_id: String,
    pub tokens: Vec<String>,
}

/// Failures of a store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The corpus name is taken and the caller did not ask to replace it.
    #[error("corpus {0:?} already exists: pass --replace to overwrite it, or choose another name")]
    CorpusExists(String),
    /// No corpus has this name.
    #[error("corpus {0:?} not found: `topica corpora` lists the stored corpora")]
    CorpusNotFound(String),
    /// No tokens were stored for this pipeline.
    #[error(
        "corpus {corpus:?} has no preprocessed tokens for pipeline {pipeline_id}: run `topica preprocess --corpus {corpus}` first"
    )]
    PipelineNotFound { corpus: String, pipeline_id: String },
    /// The corpus has never been preprocessed.
    #[error("corpus {0:?} has not been preprocessed: run `topica preprocess --corpus {0}` first")]
    NotPreprocessed(String),
    /// Two documents of one corpus share an id.
    #[error("duplicate document id {0:?}")]
    DuplicateDocumentId(String),
    /// A token list does not match the corpus's documents.
    #[error("token lists do not match corpus {corpus:?}: {reason}")]
    TokensMismatch { corpus: String, reason: String },
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The database schema could not be created or upgraded.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Stored JSON could not be read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A document is larger than `MAX_DOCUMENT_BYTES`.
    #[error(
        "document {doc_id:?} is {size_bytes} bytes, over the maximum of {max_bytes} bytes per document: split it into smaller documents"
    )]
    DocumentTooLarge {
        doc_id: String,
        size_bytes: u64,
        max_bytes: u64,
    },
    /// Another process replaced or deleted the corpus while this operation ran, or collected
    /// this operation's staged data after it stalled.
    #[error(
        "another process changed corpus {corpus:?} while this command tried to {operation}: run the command again"
    )]
    ConcurrentChange { corpus: String, operation: String },
    /// The MongoDB connection string could not be parsed. The driver's error is part of the
    /// message and not a `source`, so that error chains print it once.
    #[error("invalid MongoDB URI: {}. Expected mongodb://HOST:PORT[/DATABASE][?OPTIONS]", .0.kind)]
    InvalidMongoUri(Box<mongodb::error::Error>),
    /// The MongoDB server could not be reached or the connection broke.
    #[error("the connection to MongoDB at {server} failed while trying to {operation}: {}. No partial write is visible, and the next command reconnects: check that the server is running and reachable", .cause.kind)]
    MongoUnavailable {
        server: String,
        operation: String,
        cause: Box<mongodb::error::Error>,
    },
    /// A MongoDB command failed on the server.
    #[error("MongoDB at {server} failed to {operation}: {}", .cause.kind)]
    Mongo {
        server: String,
        operation: String,
        cause: Box<mongodb::error::Error>,
    },
}

/// Storage for corpora, documents and token lists.
///
/// Every write is atomic: a failure or a kill midway leaves the store as it was before.
#[async_trait]
pub trait Store: Send + Sync {
    /// Stores a new corpus with its documents, or replaces an existing one when `replace` is set.
    async fn create_corpus(
        &self,
        name: &str,
        source: &str,
        documents: Vec<NewDocument>,
        replace: bool,
    ) -> Result<CorpusInfo, StoreError>;

    /// Lists corpora sorted by name.
    async fn list_corpora(&self) -> Result<Vec<CorpusInfo>, StoreError>;

    /// Returns one corpus's description.
    async fn corpus(&self, name: &str) -> Result<CorpusInfo, StoreError>;

    /// Deletes a corpus, its documents and its tokens; returns false when it did not exist.
    async fn delete_corpus(&self, name: &str) -> Result<bool, StoreError>;

    /// Returns a corpus's documents in position order.
    async fn documents(&self, name: &str) -> Result<Vec<Document>, StoreError>;

    /// Stores the token lists of every document for one pipeline, replacing earlier ones for the
    /// same pipeline id. `tokens` must hold one entry per document position.
    async fn save_tokens(
        &self,
        name: &str,
        pipeline: &PipelineRecord,
        tokens: Vec<DocumentTokens>,
    ) -> Result<(), StoreError>;

    /// Returns the token lists stored for a pipeline, in position order.
    async fn tokens(
        &self,
        name: &str,
        pipeline_id: &str,
    ) -> Result<Vec<DocumentTokens>, StoreError>;

    /// Returns the pipelines run on a corpus, newest first.
    async fn pipelines(&self, name: &str) -> Result<Vec<PipelineRecord>, StoreError>;
}

/// Rejects the first document larger than `MAX_DOCUMENT_BYTES`.
pub(crate) fn check_document_sizes(documents: &[NewDocument]) -> Result<(), StoreError> {
    for document in documents {
        let metadata = [
            &document.collection,
            &document.date,
            &document.title,
            &document.file_name,
        ];
        let size_bytes = (document.doc_id.len()
            + document.text.len()
            + metadata
                .iter()
                .map(|field| field.as_deref().map_or(0, str::len))
                .sum::<usize>()) as u64;
        if size_bytes > MAX_DOCUMENT_BYTES {
            return Err(StoreError::DocumentTooLarge {
                doc_id: document.doc_id.clone(),
                size_bytes,
                max_bytes: MAX_DOCUMENT_BYTES,
            });
        }
    }
    Ok(())
}

/// Hashes document ids and texts in order, so equal corpora get equal versions in every store.
pub(crate) fn corpus_version(documents: &[NewDocument]) -> String {
    let mut hasher = Sha256::new();
    for document in documents {
        hasher.update(document.doc_id.as_bytes());
        hasher.update([0]);
        hasher.update(document.text.as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..8])
}

/// Checks that `tokens` holds one entry per document, in position order.
pub(crate) fn check_token_positions(
    name: &str,
    tokens: &[DocumentTokens],
    document_count: i64,
) -> Result<(), StoreError> {
    let positions_match = tokens.len() as i64 == document_count
        && tokens
            .iter()
            .enumerate()
            .all(|(index, entry)| entry.position == index as u64);
    if positions_match {
        return Ok(());
    }
    Err(StoreError::TokensMismatch {
        corpus: name.to_owned(),
        reason: format!(
            "expected one token list per document in position order ({document_count} documents), got {}",
            tokens.len()
        ),
    })
}

/// Returns the current time as an RFC 3339 string in UTC.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| String::from("1970-01-01T00:00:00Z"))
}
