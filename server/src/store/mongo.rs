//! The MongoDB store for deployments.
//!
//! Writes do not use transactions, because a standalone `mongod` has none. A write stores its
//! data under a fresh id and then points one record at that id in a single-document write, which
//! MongoDB applies atomically:
//!
//! - `create_corpus` writes the documents under a new generation id (`corpus_id`), then inserts
//!   or replaces the corpus's entry in `corpora`, which names that generation.
//! - `save_tokens` writes the token lists and the dictionary under a new `token_set_id`, then
//!   inserts or replaces the `pipelines` entry for (generation, pipeline), which names that set.
//!
//! Readers start from those records, so they see either the previous data or all of the new
//! data. A killed write leaves only data that no record points at. Garbage collection
//! (`garbage.rs`) deletes such data after each write and at connect.
//!
//! Collections: `corpora`, `documents`, `pipelines`, `tokens`, `dictionary_chunks`, `staging`.

mod garbage;
mod records;

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{Binary, Document as BsonDocument, doc};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, Collection, Database, IndexModel};
use serde::de::DeserializeOwned;

use self::records::{
    CorpusRecord, DictionaryChunk, DocumentIdRecord, DocumentRecord, PipelineEntry, StagingEntry,
    StagingKind, TokenRecord,
};
use super::{
    CorpusInfo, Document, DocumentTokens, NewDocument, PipelineRecord, Store, StoreError,
    check_document_sizes, check_token_positions,
};

/// Database used when neither the caller nor the URI names one.
const DEFAULT_DATABASE: &str = "topica";

/// Server selection and connect timeout unless the URI sets them. The driver's own server
/// selection default (mongodb 3.9) is 30 s, and 5 s lets a command fail quickly when the server
/// is down.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Documents or token lists per `insert_many` call. The staging lease is renewed after each.
const BATCH_SIZE: usize = 1000;

/// MongoDB's limit on one BSON document, 16 MiB (the `maxBsonObjectSize` that servers report).
const BSON_MAX_DOCUMENT_BYTES: u64 = 16 * 1024 * 1024;

/// Bytes of dictionary JSON per `dictionary_chunks` entry, well below the BSON limit.
const DICTIONARY_CHUNK_BYTES: usize = 8 * 1024 * 1024;

/// How long a write may go without renewing its staging entry before garbage collection treats
/// it as abandoned and deletes its data. It must exceed the time one batch takes to write.
const DEFAULT_STAGING_LEASE: Duration = Duration::from_secs(15 * 60);

/// Reads of a corpus that a concurrent replacement can cut short are retried this many times.
const READ_ATTEMPTS: usize = 3;

/// MongoDB's error code for a unique index violation.
const DUPLICATE_KEY: i32 = 11000;

/// A store in one MongoDB database.
#[derive(Clone)]
pub struct MongoStore {
    database: Database,
    /// The URI's hosts, for error messages. The URI itself may contain a password.
    server: String,
    staging_lease: Duration,
}

impl MongoStore {
    /// Connects to the MongoDB deployment at `uri`, creates the indexes the store's queries use,
    /// and collects garbage left by interrupted writes.
    ///
    /// The database is `database` when given, else the one in the URI's path, else `topica`.
    /// Server selection and connecting time out after 5 s unless the URI sets
    /// `serverSelectionTimeoutMS` or `connectTimeoutMS`. After a lost connection the driver
    /// reconnects by itself on the next operation.
    pub async fn connect(uri: &str, database: Option<&str>) -> Result<Self, StoreError> {
        let mut options = ClientOptions::parse(uri)
            .await
            .map_err(|error| StoreError::InvalidMongoUri(Box::new(error)))?;
        options
            .app_name
            .get_or_insert_with(|| String::from("topica"));
        options
            .server_selection_timeout
            .get_or_insert(DEFAULT_TIMEOUT);
        options.connect_timeout.get_or_insert(DEFAULT_TIMEOUT);
        let server = options
            .hosts
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let database_name = database
            .map(str::to_owned)
            .or_else(|| options.default_database.clone())
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());

        let client = Client::with_options(options)
            .map_err(|error| StoreError::InvalidMongoUri(Box::new(error)))?;
        let store = Self {
            database: client.database(&database_name),
            server,
            staging_lease: DEFAULT_STAGING_LEASE,
        };
        store
            .database
            .run_command(doc! { "ping": 1 })
            .await
            .map_err(|error| store.error("connect", error))?;
        store.create_indexes().await?;
        store.collect_garbage_logged().await;

        tracing::info!(server = %store.server, database = %database_name, "connected to MongoDB");
        Ok(store)
    }

    /// Returns the name of the database the store uses.
    pub fn database_name(&self) -> &str {
        self.database.name()
    }

    async fn create_indexes(&self) -> Result<(), StoreError> {
        let unique = |keys: BsonDocument| {
            IndexModel::builder()
                .keys(keys)
                .options(IndexOptions::builder().unique(true).build())
                .build()
        };
        let operation = "create indexes";
        self.document_records()
            .create_indexes([
                unique(doc! { "corpus_id": 1, "position": 1 }),
                unique(doc! { "corpus_id": 1, "doc_id": 1 }),
            ])
            .await
            .map_err(|error| self.error(operation, error))?;
        self.pipeline_entries()
            .create_indexes([unique(doc! { "corpus_id": 1, "pipeline_id": 1 })])
            .await
            .map_err(|error| self.error(operation, error))?;
        self.token_records()
            .create_indexes([unique(doc! { "token_set_id": 1, "position": 1 })])
            .await
            .map_err(|error| self.error(operation, error))?;
        self.dictionary_chunks()
            .create_indexes([unique(doc! { "token_set_id": 1, "part": 1 })])
            .await
            .map_err(|error| self.error(operation, error))?;
        Ok(())
    }

    fn corpus_records(&self) -> Collection<CorpusRecord> {
        self.database.collection("corpora")
    }

    fn document_records(&self) -> Collection<DocumentRecord> {
        self.database.collection("documents")
    }

    fn pipeline_entries(&self) -> Collection<PipelineEntry> {
        self.database.collection("pipelines")
    }

    fn token_records(&self) -> Collection<TokenRecord> {
        self.database.collection("tokens")
    }

    fn dictionary_chunks(&self) -> Collection<DictionaryChunk> {
        self.database.collection("dictionary_chunks")
    }

    fn staging(&self) -> Collection<StagingEntry> {
        self.database.collection("staging")
    }

    /// Wraps a driver error: a lost connection or an unreachable server becomes
    /// `MongoUnavailable`, anything else `Mongo`.
    fn error(&self, operation: impl Into<String>, cause: mongodb::error::Error) -> StoreError {
        let server = self.server.clone();
        let operation = operation.into();
        let connection_failed = matches!(
            *cause.kind,
            ErrorKind::Io(_)
                | ErrorKind::ConnectionPoolCleared { .. }
                | ErrorKind::ServerSelection { .. }
        );
        let cause = Box::new(cause);
        if connection_failed {
            StoreError::MongoUnavailable {
                server,
                operation,
                cause,
            }
        } else {
            StoreError::Mongo {
                server,
                operation,
                cause,
            }
        }
    }

    async fn find_all<T>(
        &self,
        collection: &Collection<T>,
        filter: BsonDocument,
        sort: BsonDocument,
        operation: &str,
    ) -> Result<Vec<T>, StoreError>
    where
        T: DeserializeOwned + Send + Sync,
    {
        collection
            .find(filter)
            .sort(sort)
            .await
            .map_err(|error| self.error(operation, error))?
            .try_collect()
            .await
            .map_err(|error| self.error(operation, error))
    }

    async fn find_corpus(
        &self,
        name: &str,
        operation: &str,
    ) -> Result<Option<CorpusRecord>, StoreError> {
        self.corpus_records()
            .find_one(doc! { "_id": name })
            .await
            .map_err(|error| self.error(operation, error))
    }

    async fn require_corpus(
        &self,
        name: &str,
        operation: &str,
    ) -> Result<CorpusRecord, StoreError> {
        self.find_corpus(name, operation)
            .await?
            .ok_or_else(|| StoreError::CorpusNotFound(name.to_owned()))
    }

    /// Writes the documents of a staged generation, then makes it the visible one.
    async fn write_generation(
        &self,
        record: &CorpusRecord,
        documents: Vec<NewDocument>,
        replace: bool,
        operation: &str,
    ) -> Result<(), StoreError> {
        let mut remaining = documents.into_iter().enumerate().peekable();
        while remaining.peek().is_some() {
            let batch: Vec<DocumentRecord> = remaining
                .by_ref()
                .take(BATCH_SIZE)
                .map(|(position, document)| {
                    DocumentRecord::new(record.corpus_id, position, document)
                })
                .collect();
            // The unique index on (corpus_id, doc_id) finds duplicate ids, possibly after earlier
            // batches were written. `end_staging` then discards the staged generation.
            self.document_records()
                .insert_many(&batch)
                .await
                .map_err(|error| {
                    match duplicate_key_index(&error).and_then(|index| batch.get(index)) {
                        Some(duplicate) => {
                            StoreError::DuplicateDocumentId(duplicate.doc_id.clone())
                        }
                        None => self.error(operation, error),
                    }
                })?;
            self.renew_staging(record.corpus_id, &record.name, operation)
                .await?;
        }

        let stored = self
            .document_records()
            .count_documents(doc! { "corpus_id": record.corpus_id })
            .await
            .map_err(|error| self.error(operation, error))?;
        if stored != record.document_count as u64 {
            return Err(StoreError::ConcurrentChange {
                corpus: record.name.clone(),
                operation: operation.to_owned(),
            });
        }

        if replace {
            self.corpus_records()
                .replace_one(doc! { "_id": &record.name }, record)
                .upsert(true)
                .await
                .map_err(|error| {
                    if is_duplicate_key(&error) {
                        StoreError::ConcurrentChange {
                            corpus: record.name.clone(),
                            operation: operation.to_owned(),
                        }
                    } else {
                        self.error(operation, error)
                    }
                })?;
        } else {
            self.corpus_records()
                .insert_one(record)
                .await
                .map_err(|error| {
                    if is_duplicate_key(&error) {
                        StoreError::CorpusExists(record.name.clone())
                    } else {
                        self.error(operation, error)
                    }
                })?;
        }
        tracing::debug!(corpus = %record.name, corpus_id = %record.corpus_id, "switched the corpus to a new generation");
        Ok(())
    }

    /// Writes a staged token set and its dictionary, then makes it the visible one for the
    /// pipeline on the corpus generation `corpus`.
    async fn write_token_set(
        &self,
        corpus: &CorpusRecord,
        pipeline: &PipelineRecord,
        token_set_id: ObjectId,
        tokens: Vec<DocumentTokens>,
        doc_ids: Vec<String>,
        operation: &str,
    ) -> Result<(), StoreError> {
        let description = serde_json::to_string(&pipeline.description)
            .map_err(|error| StoreError::Corrupt(format!("pipeline description: {error}")))?;
        let dictionary = serde_json::to_vec(&pipeline.dictionary)
            .map_err(|error| StoreError::Corrupt(format!("pipeline dictionary: {error}")))?;
        let chunks: Vec<DictionaryChunk> = dictionary
            .chunks(DICTIONARY_CHUNK_BYTES)
            .enumerate()
            .map(|(part, bytes)| DictionaryChunk {
                token_set_id,
                part: part as i64,
                bytes: Binary {
                    subtype: BinarySubtype::Generic,
                    bytes: bytes.to_vec(),
                },
            })
            .collect();
        for chunk in &chunks {
            self.dictionary_chunks()
                .insert_one(chunk)
                .await
                .map_err(|error| self.error(operation, error))?;
        }

        let mut remaining = tokens.into_iter().zip(doc_ids).peekable();
        while remaining.peek().is_some() {
            let batch: Vec<TokenRecord> = remaining
                .by_ref()
                .take(BATCH_SIZE)
                .map(|(entry, doc_id)| TokenRecord {
                    token_set_id,
                    position: entry.position as i64,
                    doc_id,
                    tokens: entry.tokens,
                })
                .collect();
            for record in &batch {
                check_token_record_size(record)?;
            }
            self.token_records()
                .insert_many(&batch)
                .await
                .map_err(|error| self.error(operation, error))?;
            self.renew_staging(token_set_id, &corpus.name, operation)
                .await?;
        }

        let entry = PipelineEntry {
            corpus_id: corpus.corpus_id,
            pipeline_id: pipeline.pipeline_id.clone(),
            token_set_id,
            description,
            dictionary_chunks: chunks.len() as i64,
            created_at: pipeline.created_at.clone(),
        };
        self.renew_staging(token_set_id, &corpus.name, operation)
            .await?;
        self.pipeline_entries()
            .replace_one(
                doc! { "corpus_id": corpus.corpus_id, "pipeline_id": &pipeline.pipeline_id },
                &entry,
            )
            .upsert(true)
            .await
            .map_err(|error| {
                if is_duplicate_key(&error) {
                    StoreError::ConcurrentChange {
                        corpus: corpus.name.clone(),
                        operation: operation.to_owned(),
                    }
                } else {
                    self.error(operation, error)
                }
            })?;

        // A corpus replaced or deleted meanwhile makes this entry garbage of a dead generation.
        let current = self.find_corpus(&corpus.name, operation).await?;
        if current.map(|record| record.corpus_id) != Some(corpus.corpus_id) {
            return Err(StoreError::ConcurrentChange {
                corpus: corpus.name.clone(),
                operation: operation.to_owned(),
            });
        }
        Ok(())
    }

    /// Reads the ids of a generation's documents in position order.
    async fn document_ids(
        &self,
        corpus: &CorpusRecord,
        operation: &str,
    ) -> Result<Vec<String>, StoreError> {
        let records: Vec<DocumentIdRecord> = self
            .document_records()
            .clone_with_type::<DocumentIdRecord>()
            .find(doc! { "corpus_id": corpus.corpus_id })
            .projection(doc! { "_id": 0, "position": 1, "doc_id": 1 })
            .sort(doc! { "position": 1 })
            .await
            .map_err(|error| self.error(operation, error))?
            .try_collect()
            .await
            .map_err(|error| self.error(operation, error))?;
        let complete = records.len() as i64 == corpus.document_count
            && records
                .iter()
                .enumerate()
                .all(|(index, record)| record.position == index as i64);
        if !complete {
            return Err(StoreError::ConcurrentChange {
                corpus: corpus.name.clone(),
                operation: operation.to_owned(),
            });
        }
        Ok(records.into_iter().map(|record| record.doc_id).collect())
    }

    /// Joins pipeline entries with their dictionary chunks; returns `None` when chunks are
    /// missing because a concurrent write replaced an entry between the two reads.
    fn assemble_pipelines(
        entries: Vec<PipelineEntry>,
        chunks: Vec<DictionaryChunk>,
    ) -> Result<Option<Vec<PipelineRecord>>, StoreError> {
        let mut dictionaries: HashMap<ObjectId, (i64, Vec<u8>)> = HashMap::new();
        for chunk in chunks {
            let (count, bytes) = dictionaries.entry(chunk.token_set_id).or_default();
            *count += 1;
            bytes.extend_from_slice(&chunk.bytes.bytes);
        }

        let mut pipelines = Vec::with_capacity(entries.len());
        for entry in entries {
            let Some((count, bytes)) = dictionaries.remove(&entry.token_set_id) else {
                return Ok(None);
            };
            if count != entry.dictionary_chunks {
                return Ok(None);
            }
            let description = serde_json::from_str(&entry.description).map_err(|error| {
                StoreError::Corrupt(format!(
                    "description of pipeline {}: {error}",
                    entry.pipeline_id
                ))
            })?;
            let dictionary = serde_json::from_slice(&bytes).map_err(|error| {
                StoreError::Corrupt(format!(
                    "dictionary of pipeline {}: {error}",
                    entry.pipeline_id
                ))
            })?;
            pipelines.push(PipelineRecord {
                pipeline_id: entry.pipeline_id,
                description,
                dictionary,
                created_at: entry.created_at,
            });
        }
        Ok(Some(pipelines))
    }
}

#[async_trait]
impl Store for MongoStore {
    async fn create_corpus(
        &self,
        name: &str,
        source: &str,
        documents: Vec<NewDocument>,
        replace: bool,
    ) -> Result<CorpusInfo, StoreError> {
        let operation = format!("store corpus {name:?}");
        check_document_sizes(&documents)?;
        if !replace && self.find_corpus(name, &operation).await?.is_some() {
            return Err(StoreError::CorpusExists(name.to_owned()));
        }

        let record = CorpusRecord::new(name, source, ObjectId::new(), &documents);
        self.begin_staging(record.corpus_id, StagingKind::Corpus, name, &operation)
            .await?;
        let written = self
            .write_generation(&record, documents, replace, &operation)
            .await;
        self.end_staging(record.corpus_id).await;
        written?;

        tracing::info!(corpus = name, corpus_id = %record.corpus_id, documents = record.document_count, "stored corpus");
        record.info()
    }

    async fn list_corpora(&self) -> Result<Vec<CorpusInfo>, StoreError> {
        let records = self
            .find_all(
                &self.corpus_records(),
                doc! {},
                doc! { "_id": 1 },
                "list corpora",
            )
            .await?;
        records.iter().map(CorpusRecord::info).collect()
    }

    async fn corpus(&self, name: &str) -> Result<CorpusInfo, StoreError> {
        self.require_corpus(name, &format!("read corpus {name:?}"))
            .await?
            .info()
    }

    async fn delete_corpus(&self, name: &str) -> Result<bool, StoreError> {
        let result = self
            .corpus_records()
            .delete_one(doc! { "_id": name })
            .await
            .map_err(|error| self.error(format!("delete corpus {name:?}"), error))?;
        let deleted = result.deleted_count > 0;
        if deleted {
            tracing::info!(corpus = name, "deleted corpus");
            self.collect_garbage_logged().await;
        }
        Ok(deleted)
    }

    async fn documents(&self, name: &str) -> Result<Vec<Document>, StoreError> {
        let operation = format!("read the documents of corpus {name:?}");
        for _ in 0..READ_ATTEMPTS {
            let corpus = self.require_corpus(name, &operation).await?;
            let filter = doc! { "corpus_id": corpus.corpus_id };
            let records = self
                .find_all(
                    &self.document_records(),
                    filter,
                    doc! { "position": 1 },
                    &operation,
                )
                .await?;
            // Fewer documents than the record lists means the corpus was replaced and garbage
            // collection deleted the generation while it was read: read the new one.
            if records.len() as i64 == corpus.document_count {
                return records
                    .into_iter()
                    .map(DocumentRecord::into_document)
                    .collect();
            }
        }
        Err(StoreError::Corrupt(format!(
            "corpus {name:?} lists a document count that differs from its stored documents in {READ_ATTEMPTS} reads"
        )))
    }

    async fn save_tokens(
        &self,
        name: &str,
        pipeline: &PipelineRecord,
        tokens: Vec<DocumentTokens>,
    ) -> Result<(), StoreError> {
        let operation = format!(
            "store the tokens of corpus {name:?} for pipeline {}",
            pipeline.pipeline_id
        );
        let corpus = self.require_corpus(name, &operation).await?;
        let document_count = corpus.document_count;
        check_token_positions(name, &tokens, document_count)?;
        // Token lists carry the stored documents' ids, as the SQLite store's join returns them.
        let doc_ids = self.document_ids(&corpus, &operation).await?;

        let token_set_id = ObjectId::new();
        self.begin_staging(token_set_id, StagingKind::TokenSet, name, &operation)
            .await?;
        let written = self
            .write_token_set(&corpus, pipeline, token_set_id, tokens, doc_ids, &operation)
            .await;
        self.end_staging(token_set_id).await;
        written?;

        tracing::info!(corpus = name, pipeline_id = %pipeline.pipeline_id, %token_set_id, "stored tokens");
        Ok(())
    }

    async fn tokens(
        &self,
        name: &str,
        pipeline_id: &str,
    ) -> Result<Vec<DocumentTokens>, StoreError> {
        let operation = format!("read the tokens of corpus {name:?} for pipeline {pipeline_id}");
        for _ in 0..READ_ATTEMPTS {
            let corpus = self.require_corpus(name, &operation).await?;
            let entry = self
                .pipeline_entries()
                .find_one(doc! { "corpus_id": corpus.corpus_id, "pipeline_id": pipeline_id })
                .await
                .map_err(|error| self.error(&operation, error))?
                .ok_or_else(|| StoreError::PipelineNotFound {
                    corpus: name.to_owned(),
                    pipeline_id: pipeline_id.to_owned(),
                })?;
            let filter = doc! { "token_set_id": entry.token_set_id };
            let records = self
                .find_all(
                    &self.token_records(),
                    filter,
                    doc! { "position": 1 },
                    &operation,
                )
                .await?;
            // As in `documents`: a replaced token set may be collected while it is read.
            if records.len() as i64 == corpus.document_count {
                return records
                    .into_iter()
                    .map(TokenRecord::into_document_tokens)
                    .collect();
            }
        }
        Err(StoreError::Corrupt(format!(
            "tokens of corpus {name:?} for pipeline {pipeline_id} differ in count from its documents in {READ_ATTEMPTS} reads"
        )))
    }

    async fn pipelines(&self, name: &str) -> Result<Vec<PipelineRecord>, StoreError> {
        let operation = format!("read the pipelines of corpus {name:?}");
        for _ in 0..READ_ATTEMPTS {
            let corpus = self.require_corpus(name, &operation).await?;
            let entries = self
                .find_all(
                    &self.pipeline_entries(),
                    doc! { "corpus_id": corpus.corpus_id },
                    doc! { "created_at": -1, "token_set_id": -1 },
                    &operation,
                )
                .await?;
            let token_set_ids: Vec<ObjectId> =
                entries.iter().map(|entry| entry.token_set_id).collect();
            let chunks = self
                .find_all(
                    &self.dictionary_chunks(),
                    doc! { "token_set_id": { "$in": token_set_ids } },
                    doc! { "token_set_id": 1, "part": 1 },
                    &operation,
                )
                .await?;
            if let Some(pipelines) = Self::assemble_pipelines(entries, chunks)? {
                return Ok(pipelines);
            }
        }
        Err(StoreError::Corrupt(format!(
            "pipelines of corpus {name:?} miss dictionary chunks in {READ_ATTEMPTS} reads"
        )))
    }
}

/// Rejects a token list whose BSON document would exceed MongoDB's limit. Only lists near the
/// limit are serialised to measure them.
fn check_token_record_size(record: &TokenRecord) -> Result<(), StoreError> {
    // Upper bound: an array element costs its text, a type byte, its decimal index with a NUL
    // (at most 11 bytes), a 4-byte length and a NUL. 256 bytes cover the other fields.
    let upper_bound = 256
        + record.doc_id.len()
        + record
            .tokens
            .iter()
            .map(|token| token.len() + 17)
            .sum::<usize>();
    if upper_bound as u64 <= BSON_MAX_DOCUMENT_BYTES {
        return Ok(());
    }
    let size_bytes = mongodb::bson::to_vec(record)
        .map_err(|error| {
            StoreError::Corrupt(format!("tokens of document {}: {error}", record.doc_id))
        })?
        .len() as u64;
    if size_bytes > BSON_MAX_DOCUMENT_BYTES {
        return Err(StoreError::DocumentTooLarge {
            doc_id: record.doc_id.clone(),
            size_bytes,
            max_bytes: BSON_MAX_DOCUMENT_BYTES,
        });
    }
    Ok(())
}

fn is_duplicate_key(error: &mongodb::error::Error) -> bool {
    match &*error.kind {
        ErrorKind::Write(WriteFailure::WriteError(write_error)) => {
            write_error.code == DUPLICATE_KEY
        }
        ErrorKind::Command(command_error) => command_error.code == DUPLICATE_KEY,
        ErrorKind::InsertMany(_) => duplicate_key_index(error).is_some(),
        _ => false,
    }
}

/// Returns the input index of the document that broke a unique index in `insert_many`.
fn duplicate_key_index(error: &mongodb::error::Error) -> Option<usize> {
    let ErrorKind::InsertMany(insert_error) = &*error.kind else {
        return None;
    };
    insert_error
        .write_errors
        .as_ref()?
        .iter()
        .find(|write_error| write_error.code == DUPLICATE_KEY)
        .map(|write_error| write_error.index)
}

#[cfg(test)]
mod tests {
    use std::panic::AssertUnwindSafe;
    use std::time::SystemTime;

    use futures_util::FutureExt;
    use mongodb::bson::DateTime;

    use super::*;

    /// Connects to a fresh database on the test server, runs `test`, and drops the database.
    async fn with_test_database<F>(test: impl FnOnce(MongoStore, String) -> F)
    where
        F: Future<Output = ()>,
    {
        let uri = std::env::var("TOPICA_TEST_MONGODB_URI").expect(
            "TOPICA_TEST_MONGODB_URI is not set: start the test server with \
             `eval \"$(scripts/mongodb-test-server)\"` and run the tests again",
        );
        let name = format!("topica_test_{}", ObjectId::new().to_hex());
        let store = MongoStore::connect(&uri, Some(&name)).await.unwrap();
        let database = store.database.clone();

        let outcome = AssertUnwindSafe(test(store, uri)).catch_unwind().await;
        database.drop().await.unwrap();
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }

    fn documents(count: usize) -> Vec<NewDocument> {
        (0..count)
            .map(|index| NewDocument::new(format!("d{index}"), format!("text {index}")))
            .collect()
    }

    fn token_lists(count: usize) -> Vec<DocumentTokens> {
        (0..count)
            .map(|index| DocumentTokens {
                position: index as u64,
                doc_id: format!("d{index}"),
                tokens: vec!["t".into()],
            })
            .collect()
    }

    fn pipeline() -> PipelineRecord {
        PipelineRecord {
            pipeline_id: "p1".into(),
            description: serde_json::json!({}),
            dictionary: serde_json::json!({ "token2id": { "t": 0 } }),
            created_at: "2024-01-01T00:00:00Z".into(),
        }
    }

    async fn count<T: Send + Sync>(collection: Collection<T>, filter: BsonDocument) -> u64 {
        collection.count_documents(filter).await.unwrap()
    }

    #[tokio::test]
    async fn abandoned_write_is_collected_at_connect() {
        with_test_database(|store, uri| async move {
            store
                .create_corpus("kept", "/in", documents(2), false)
                .await
                .unwrap();

            // A write killed midway: its writer stopped renewing the staging entry an hour ago.
            let abandoned = ObjectId::new();
            let an_hour_ago =
                DateTime::from_system_time(SystemTime::now() - Duration::from_secs(3600));
            let entry = StagingEntry {
                id: abandoned,
                kind: StagingKind::Corpus,
                name: "kept".into(),
                updated_at: an_hour_ago,
            };
            store.staging().insert_one(&entry).await.unwrap();
            let half_written =
                DocumentRecord::new(abandoned, 0, NewDocument::new("x".into(), "half".into()));
            store
                .document_records()
                .insert_one(&half_written)
                .await
                .unwrap();

            // A write still in progress.
            let in_progress = ObjectId::new();
            store
                .begin_staging(in_progress, StagingKind::Corpus, "other", "test")
                .await
                .unwrap();
            let staged = DocumentRecord::new(
                in_progress,
                0,
                NewDocument::new("y".into(), "staged".into()),
            );
            store.document_records().insert_one(&staged).await.unwrap();

            let reconnected = MongoStore::connect(&uri, Some(store.database_name()))
                .await
                .unwrap();
            assert_eq!(
                count(store.document_records(), doc! { "corpus_id": abandoned }).await,
                0
            );
            assert_eq!(count(store.staging(), doc! { "_id": abandoned }).await, 0);
            assert_eq!(
                count(store.document_records(), doc! { "corpus_id": in_progress }).await,
                1
            );
            assert_eq!(count(store.staging(), doc! { "_id": in_progress }).await, 1);
            assert_eq!(reconnected.documents("kept").await.unwrap().len(), 2);
        })
        .await;
    }

    #[tokio::test]
    async fn replaced_and_deleted_data_is_removed() {
        with_test_database(|store, _uri| async move {
            store
                .create_corpus("c", "/in", documents(3), false)
                .await
                .unwrap();
            store
                .save_tokens("c", &pipeline(), token_lists(3))
                .await
                .unwrap();
            store
                .save_tokens("c", &pipeline(), token_lists(3))
                .await
                .unwrap();
            assert_eq!(count(store.token_records(), doc! {}).await, 3);
            assert_eq!(count(store.dictionary_chunks(), doc! {}).await, 1);

            store
                .create_corpus("c", "/in", documents(2), true)
                .await
                .unwrap();
            assert_eq!(count(store.document_records(), doc! {}).await, 2);
            assert_eq!(count(store.pipeline_entries(), doc! {}).await, 0);
            assert_eq!(count(store.token_records(), doc! {}).await, 0);
            assert_eq!(count(store.dictionary_chunks(), doc! {}).await, 0);
            assert_eq!(count(store.staging(), doc! {}).await, 0);

            store
                .save_tokens("c", &pipeline(), token_lists(2))
                .await
                .unwrap();
            assert!(store.delete_corpus("c").await.unwrap());
            for collection in [
                "corpora",
                "documents",
                "pipelines",
                "tokens",
                "dictionary_chunks",
                "staging",
            ] {
                let remaining = count(
                    store.database.collection::<BsonDocument>(collection),
                    doc! {},
                )
                .await;
                assert_eq!(remaining, 0, "{collection}");
            }
        })
        .await;
    }
}
