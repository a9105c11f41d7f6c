//! The embedded default store: one SQLite file under the data directory.

use std::path::Path;
use std::str::FromStr;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
};
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};

use super::{
    CorpusInfo, Document, DocumentTokens, NewDocument, PipelineRecord, Store, StoreError,
    check_document_sizes, check_token_positions, corpus_version, now_rfc3339,
};

/// Rows per multi-row INSERT. One statement per row costs a round trip to SQLite's worker thread
/// each, and 256 rows of 10 columns stay far below SQLite's default limit of 32,766 parameters.
const ROWS_PER_INSERT: usize = 256;

/// A store in one SQLite database file, written in transactions so that a crash leaves no half
/// corpus behind.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self { pool })
    }

    async fn corpus_id(
        executor: &mut Transaction<'_, Sqlite>,
        name: &str,
    ) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT id FROM corpora WHERE name = ?")
            .bind(name)
            .fetch_optional(&mut **executor)
            .await?;
        Ok(row.map(|row| row.get::<i64, _>(0)))
    }

    async fn require_corpus_id(&self, name: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT id FROM corpora WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| row.get::<i64, _>(0))
            .ok_or_else(|| StoreError::CorpusNotFound(name.to_owned()))
    }

    async fn corpus_info(&self, row: &SqliteRow) -> Result<CorpusInfo, StoreError> {
        let id: i64 = row.get("id");
        let collections: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT collection FROM documents WHERE corpus_id = ? AND collection IS NOT NULL ORDER BY collection",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let (first_date, last_date): (Option<String>, Option<String>) = sqlx::query_as(
            "SELECT MIN(date), MAX(date) FROM documents WHERE corpus_id = ? AND date IS NOT NULL",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(CorpusInfo {
            name: row.get("name"),
            version: row.get("version"),
            source: row.get("source"),
            created_at: row.get("created_at"),
            document_count: row.get::<i64, _>("document_count") as u64,
            collections,
            first_date,
            last_date,
        })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_corpus(
        &self,
        name: &str,
        source: &str,
        documents: Vec<NewDocument>,
        replace: bool,
    ) -> Result<CorpusInfo, StoreError> {
        let mut seen = std::collections::HashSet::new();
        for document in &documents {
            if !seen.insert(document.doc_id.as_str()) {
                return Err(StoreError::DuplicateDocumentId(document.doc_id.clone()));
            }
        }
        check_document_sizes(&documents)?;

        let mut tx = self.pool.begin().await?;
        if let Some(existing) = Self::corpus_id(&mut tx, name).await? {
            if !replace {
                return Err(StoreError::CorpusExists(name.to_owned()));
            }
            sqlx::query("DELETE FROM corpora WHERE id = ?")
                .bind(existing)
                .execute(&mut *tx)
                .await?;
        }

        let corpus_id: i64 = sqlx::query_scalar(
            "INSERT INTO corpora (name, version, source, created_at, document_count) VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(name)
        .bind(corpus_version(&documents))
        .bind(source)
        .bind(now_rfc3339())
        .bind(documents.len() as i64)
        .fetch_one(&mut *tx)
        .await?;

        let rows: Vec<(usize, &NewDocument)> = documents.iter().enumerate().collect();
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let mut insert = QueryBuilder::new(
                "INSERT INTO documents (corpus_id, position, doc_id, collection, date, title, file_name, text, char_count, word_count) ",
            );
            insert.push_values(chunk, |mut row, (position, document)| {
                row.push_bind(corpus_id)
                    .push_bind(*position as i64)
                    .push_bind(&document.doc_id)
                    .push_bind(&document.collection)
                    .push_bind(&document.date)
                    .push_bind(&document.title)
                    .push_bind(&document.file_name)
                    .push_bind(&document.text)
                    .push_bind(document.char_count as i64)
                    .push_bind(document.word_count as i64);
            });
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;

        self.corpus(name).await
    }

    async fn list_corpora(&self) -> Result<Vec<CorpusInfo>, StoreError> {
        let rows = sqlx::query("SELECT * FROM corpora ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        let mut corpora = Vec::with_capacity(rows.len());
        for row in &rows {
            corpora.push(self.corpus_info(row).await?);
        }
        Ok(corpora)
    }

    async fn corpus(&self, name: &str) -> Result<CorpusInfo, StoreError> {
        let row = sqlx::query("SELECT * FROM corpora WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::CorpusNotFound(name.to_owned()))?;
        self.corpus_info(&row).await
    }

    async fn delete_corpus(&self, name: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM corpora WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn documents(&self, name: &str) -> Result<Vec<Document>, StoreError> {
        let corpus_id = self.require_corpus_id(name).await?;
        let rows = sqlx::query("SELECT * FROM documents WHERE corpus_id = ? ORDER BY position")
            .bind(corpus_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|row| Document {
                position: row.get::<i64, _>("position") as u64,
                content: NewDocument {
                    doc_id: row.get("doc_id"),
                    collection: row.get("collection"),
                    date: row.get("date"),
                    title: row.get("title"),
                    file_name: row.get("file_name"),
                    text: row.get("text"),
                    char_count: row.get::<i64, _>("char_count") as u64,
                    word_count: row.get::<i64, _>("word_count") as u64,
                },
            })
            .collect())
    }

    async fn save_tokens(
        &self,
        name: &str,
        pipeline: &PipelineRecord,
        tokens: Vec<DocumentTokens>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let corpus_id = Self::corpus_id(&mut tx, name)
            .await?
            .ok_or_else(|| StoreError::CorpusNotFound(name.to_owned()))?;

        let document_count: i64 =
            sqlx::query_scalar("SELECT document_count FROM corpora WHERE id = ?")
                .bind(corpus_id)
                .fetch_one(&mut *tx)
                .await?;
        check_token_positions(name, &tokens, document_count)?;

        sqlx::query("DELETE FROM pipelines WHERE corpus_id = ? AND pipeline_id = ?")
            .bind(corpus_id)
            .bind(&pipeline.pipeline_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO pipelines (corpus_id, pipeline_id, description, dictionary, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(corpus_id)
        .bind(&pipeline.pipeline_id)
        .bind(pipeline.description.to_string())
        .bind(pipeline.dictionary.to_string())
        .bind(&pipeline.created_at)
        .execute(&mut *tx)
        .await?;

        for chunk in tokens.chunks(ROWS_PER_INSERT) {
            let rows = chunk
                .iter()
                .map(|entry| {
                    serde_json::to_string(&entry.tokens)
                        .map(|json| (entry.position as i64, json))
                        .map_err(|error| StoreError::Corrupt(error.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut insert =
                QueryBuilder::new("INSERT INTO tokens (corpus_id, pipeline_id, position, tokens) ");
            insert.push_values(rows, |mut row, (position, json)| {
                row.push_bind(corpus_id)
                    .push_bind(&pipeline.pipeline_id)
                    .push_bind(position)
                    .push_bind(json);
            });
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn tokens(
        &self,
        name: &str,
        pipeline_id: &str,
    ) -> Result<Vec<DocumentTokens>, StoreError> {
        let corpus_id = self.require_corpus_id(name).await?;
        let rows = sqlx::query(
            "SELECT t.position, d.doc_id, t.tokens FROM tokens t \
             JOIN documents d ON d.corpus_id = t.corpus_id AND d.position = t.position \
             WHERE t.corpus_id = ? AND t.pipeline_id = ? ORDER BY t.position",
        )
        .bind(corpus_id)
        .bind(pipeline_id)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Err(StoreError::PipelineNotFound {
                corpus: name.to_owned(),
                pipeline_id: pipeline_id.to_owned(),
            });
        }
        rows.iter()
            .map(|row| {
                let json: String = row.get("tokens");
                let tokens = serde_json::from_str(&json).map_err(|error| {
                    StoreError::Corrupt(format!(
                        "tokens of document {}: {error}",
                        row.get::<String, _>("doc_id")
                    ))
                })?;
                Ok(DocumentTokens {
                    position: row.get::<i64, _>("position") as u64,
                    doc_id: row.get("doc_id"),
                    tokens,
                })
            })
            .collect()
    }

    async fn pipelines(&self, name: &str) -> Result<Vec<PipelineRecord>, StoreError> {
        let corpus_id = self.require_corpus_id(name).await?;
        let rows = sqlx::query(
            "SELECT pipeline_id, description, dictionary, created_at FROM pipelines WHERE corpus_id = ? ORDER BY created_at DESC, rowid DESC",
        )
        .bind(corpus_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let parse = |column: &str| -> Result<serde_json::Value, StoreError> {
                    serde_json::from_str(&row.get::<String, _>(column))
                        .map_err(|error| StoreError::Corrupt(format!("pipeline {column}: {error}")))
                };
                Ok(PipelineRecord {
                    pipeline_id: row.get("pipeline_id"),
                    description: parse("description")?,
                    dictionary: parse("dictionary")?,
                    created_at: row.get("created_at"),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(id: &str, text: &str, collection: Option<&str>, date: Option<&str>) -> NewDocument {
        let mut document = NewDocument::new(id.into(), text.into());
        document.collection = collection.map(Into::into);
        document.date = date.map(Into::into);
        document
    }

    async fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("test.sqlite"))
            .await
            .unwrap();
        (dir, store)
    }

    fn pipeline(id: &str) -> PipelineRecord {
        PipelineRecord {
            pipeline_id: id.into(),
            description: serde_json::json!({ "steps": [] }),
            dictionary: serde_json::json!({}),
            created_at: now_rfc3339(),
        }
    }

    #[tokio::test]
    async fn corpus_round_trip_keeps_metadata() {
        let (_dir, store) = store().await;
        let documents = vec![
            document(
                "b/1901-01-01.txt",
                "due parole",
                Some("b"),
                Some("1901-01-01"),
            ),
            document("a/1899.txt", "three words here", Some("a"), Some("1899")),
            document("top.txt", "no collection", None, None),
        ];
        let info = store
            .create_corpus("letters", "/in", documents.clone(), false)
            .await
            .unwrap();
        assert_eq!(info.document_count, 3);
        assert_eq!(info.collections, ["a", "b"]);
        assert_eq!(info.first_date.as_deref(), Some("1899"));
        assert_eq!(info.last_date.as_deref(), Some("1901-01-01"));

        let stored = store.documents("letters").await.unwrap();
        let contents: Vec<NewDocument> = stored
            .iter()
            .map(|document| document.content.clone())
            .collect();
        assert_eq!(contents, documents);
        assert_eq!(stored[2].position, 2);
        assert_eq!(stored[0].content.word_count, 2);
    }

    #[tokio::test]
    async fn existing_corpus_is_replaced_only_on_request() {
        let (_dir, store) = store().await;
        store
            .create_corpus("c", "/in", vec![document("1", "one", None, None)], false)
            .await
            .unwrap();
        let error = store
            .create_corpus("c", "/in", vec![document("2", "two", None, None)], false)
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::CorpusExists(_)), "{error}");
        assert_eq!(store.documents("c").await.unwrap()[0].content.doc_id, "1");

        let info = store
            .create_corpus(
                "c",
                "/in",
                vec![
                    document("2", "two", None, None),
                    document("3", "three", None, None),
                ],
                true,
            )
            .await
            .unwrap();
        assert_eq!(info.document_count, 2);
        assert_eq!(store.list_corpora().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn duplicate_ids_store_nothing() {
        let (_dir, store) = store().await;
        let documents = vec![
            document("same", "one", None, None),
            document("same", "two", None, None),
        ];
        let error = store
            .create_corpus("dup", "/in", documents, false)
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::DuplicateDocumentId(ref id) if id == "same"),
            "{error}"
        );
        assert!(store.list_corpora().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn tokens_round_trip_per_pipeline() {
        let (_dir, store) = store().await;
        store
            .create_corpus(
                "c",
                "/in",
                vec![
                    document("x", "a b", None, None),
                    document("y", "c", None, None),
                ],
                false,
            )
            .await
            .unwrap();
        let tokens = vec![
            DocumentTokens {
                position: 0,
                doc_id: "x".into(),
                tokens: vec!["a".into(), "b".into()],
            },
            DocumentTokens {
                position: 1,
                doc_id: "y".into(),
                tokens: vec![],
            },
        ];
        store
            .save_tokens("c", &pipeline("p1"), tokens.clone())
            .await
            .unwrap();
        assert_eq!(store.tokens("c", "p1").await.unwrap(), tokens);
        assert_eq!(store.pipelines("c").await.unwrap()[0].pipeline_id, "p1");

        let error = store.tokens("c", "p2").await.unwrap_err();
        assert!(
            matches!(error, StoreError::PipelineNotFound { .. }),
            "{error}"
        );

        let error = store
            .save_tokens("c", &pipeline("p3"), tokens[..1].to_vec())
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::TokensMismatch { .. }),
            "{error}"
        );
        assert!(
            store
                .pipelines("c")
                .await
                .unwrap()
                .iter()
                .all(|record| record.pipeline_id != "p3")
        );

        assert!(store.delete_corpus("c").await.unwrap());
        assert!(!store.delete_corpus("c").await.unwrap());
        let error = store.tokens("c", "p1").await.unwrap_err();
        assert!(matches!(error, StoreError::CorpusNotFound(_)), "{error}");
    }
}
