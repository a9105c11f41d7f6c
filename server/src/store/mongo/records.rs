//! The shapes `MongoStore` writes to its collections, and their conversions to the store's types.
//!
//! Counts and positions are stored as BSON 64-bit integers, because BSON has no unsigned type.

use std::collections::BTreeSet;

use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Binary, DateTime};
use serde::{Deserialize, Serialize};

use crate::store::{
    CorpusInfo, Document, DocumentTokens, NewDocument, StoreError, corpus_version, now_rfc3339,
};

/// An entry of the `corpora` collection: the one record per corpus name that makes a corpus
/// visible. Replacing it switches readers to another generation of documents in one write.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct CorpusRecord {
    #[serde(rename = "_id")]
    pub name: String,
    /// Generation id: the `corpus_id` of the visible documents and pipelines.
    pub corpus_id: ObjectId,
    pub version: String,
    pub source: String,
    pub created_at: String,
    pub document_count: i64,
    pub collections: Vec<String>,
    pub first_date: Option<String>,
    pub last_date: Option<String>,
}

impl CorpusRecord {
    /// Describes `documents` as generation `corpus_id` of corpus `name`.
    pub fn new(name: &str, source: &str, corpus_id: ObjectId, documents: &[NewDocument]) -> Self {
        let collections: BTreeSet<&str> = documents
            .iter()
            .filter_map(|document| document.collection.as_deref())
            .collect();
        let dates = || {
            documents
                .iter()
                .filter_map(|document| document.date.as_deref())
        };
        Self {
            name: name.to_owned(),
            corpus_id,
            version: corpus_version(documents),
            source: source.to_owned(),
            created_at: now_rfc3339(),
            document_count: documents.len() as i64,
            collections: collections.into_iter().map(str::to_owned).collect(),
            first_date: dates().min().map(str::to_owned),
            last_date: dates().max().map(str::to_owned),
        }
    }

    pub fn info(&self) -> Result<CorpusInfo, StoreError> {
        Ok(CorpusInfo {
            name: self.name.clone(),
            version: self.version.clone(),
            source: self.source.clone(),
            created_at: self.created_at.clone(),
            document_count: to_count("document_count", self.document_count)?,
            collections: self.collections.clone(),
            first_date: self.first_date.clone(),
            last_date: self.last_date.clone(),
        })
    }
}

/// An entry of the `documents` collection.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct DocumentRecord {
    pub corpus_id: ObjectId,
    pub position: i64,
    pub doc_id: String,
    pub collection: Option<String>,
    pub date: Option<String>,
    pub title: Option<String>,
    pub file_name: Option<String>,
    pub text: String,
    pub char_count: i64,
    pub word_count: i64,
}

impl DocumentRecord {
    pub fn new(corpus_id: ObjectId, position: usize, document: NewDocument) -> Self {
        Self {
            corpus_id,
            position: position as i64,
            doc_id: document.doc_id,
            collection: document.collection,
            date: document.date,
            title: document.title,
            file_name: document.file_name,
            text: document.text,
            char_count: document.char_count as i64,
            word_count: document.word_count as i64,
        }
    }

    pub fn into_document(self) -> Result<Document, StoreError> {
        Ok(Document {
            position: to_count("position", self.position)?,
            content: NewDocument {
                doc_id: self.doc_id,
                collection: self.collection,
                date: self.date,
                title: self.title,
                file_name: self.file_name,
                text: self.text,
                char_count: to_count("char_count", self.char_count)?,
                word_count: to_count("word_count", self.word_count)?,
            },
        })
    }
}

/// A document's position and id, read with a projection of `documents`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct DocumentIdRecord {
    pub position: i64,
    pub doc_id: String,
}

/// An entry of the `pipelines` collection: the pipeline run on one corpus generation, pointing at
/// the token set that is visible for it. Replacing it switches readers to new tokens in one write.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct PipelineEntry {
    pub corpus_id: ObjectId,
    pub pipeline_id: String,
    pub token_set_id: ObjectId,
    /// The description as JSON text, because its keys may start with `$` or contain `.`, which
    /// MongoDB field names may not.
    pub description: String,
    /// Number of `dictionary_chunks` entries that hold the dictionary's JSON text.
    pub dictionary_chunks: i64,
    pub created_at: String,
}

/// An entry of the `tokens` collection: one document's tokens in one token set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct TokenRecord {
    pub token_set_id: ObjectId,
    pub position: i64,
    pub doc_id: String,
    pub tokens: Vec<String>,
}

impl TokenRecord {
    pub fn into_document_tokens(self) -> Result<DocumentTokens, StoreError> {
        Ok(DocumentTokens {
            position: to_count("position", self.position)?,
            doc_id: self.doc_id,
            tokens: self.tokens,
        })
    }
}

/// An entry of the `dictionary_chunks` collection: part `part` of a token set's dictionary JSON.
/// A dictionary is split because it can outgrow MongoDB's 16 MiB document limit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct DictionaryChunk {
    pub token_set_id: ObjectId,
    pub part: i64,
    pub bytes: Binary,
}

/// What a staging entry protects from garbage collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum StagingKind {
    /// Documents written under a new `corpus_id`.
    Corpus,
    /// Tokens and dictionary chunks written under a new `token_set_id`.
    TokenSet,
}

/// An entry of the `staging` collection: a write in progress whose data no record points at yet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct StagingEntry {
    /// The `corpus_id` or `token_set_id` being written.
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub kind: StagingKind,
    /// Corpus name, for people reading the collection.
    pub name: String,
    /// Last time the writer showed it is alive; an entry older than the lease is abandoned.
    pub updated_at: DateTime,
}

fn to_count(field: &str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value)
        .map_err(|_| StoreError::Corrupt(format!("negative {field} {value} in MongoDB")))
}
