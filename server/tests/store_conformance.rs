//! Store conformance: every case in `cases` runs once against `SqliteStore` and once against
//! `MongoStore`, and both must behave the same.
//!
//! The MongoDB runs need a server whose URI is in `TOPICA_TEST_MONGODB_URI`;
//! `eval "$(scripts/mongodb-test-server)"` starts one and sets it. Each MongoDB run uses a fresh
//! database and drops it afterwards. Without the variable the MongoDB runs fail.
//!
//! Both stores reject a document over `MAX_DOCUMENT_BYTES` (MongoDB's 16 MiB limit less room for
//! field names), so that a corpus stored in one store fits the other.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use mongodb::bson::oid::ObjectId;
use topica_server::store::{MongoStore, SqliteStore};

const MONGODB_URI_VARIABLE: &str = "TOPICA_TEST_MONGODB_URI";

fn mongodb_uri() -> String {
    std::env::var(MONGODB_URI_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{MONGODB_URI_VARIABLE} is not set, so the MongoDB store cannot be tested: start the test \
             server with `eval \"$(scripts/mongodb-test-server)\"` and run the tests again \
             (`scripts/mongodb-test-server stop` stops it)"
        )
    })
}

async fn sqlite_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("conformance.sqlite"))
        .await
        .unwrap();
    (dir, store)
}

/// A randomly named database on the test server, dropped by `drop_database`.
struct TestDatabase {
    uri: String,
    name: String,
}

impl TestDatabase {
    fn new() -> Self {
        Self {
            uri: mongodb_uri(),
            name: format!("topica_test_{}", ObjectId::new().to_hex()),
        }
    }

    async fn connect(&self) -> MongoStore {
        MongoStore::connect(&self.uri, Some(&self.name))
            .await
            .unwrap()
    }

    async fn drop_database(&self) {
        let client = mongodb::Client::with_uri_str(&self.uri).await.unwrap();
        client.database(&self.name).drop().await.unwrap();
    }

    /// Runs `test`, drops the database whether or not `test` panicked, then passes a panic on.
    async fn run(&self, test: impl Future<Output = ()>) {
        let outcome = AssertUnwindSafe(test).catch_unwind().await;
        self.drop_database().await;
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }
}

/// Defines one test per store for each case in `cases`.
macro_rules! conformance_tests {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let (_dir, store) = super::sqlite_store().await;
                    super::cases::$case(&store).await;
                }
            )*
        }

        mod mongo {
            $(
                #[tokio::test]
                async fn $case() {
                    let database = super::TestDatabase::new();
                    let store = database.connect().await;
                    database.run(super::cases::$case(&store)).await;
                }
            )*
        }
    };
}

conformance_tests!(
    corpus_round_trip_keeps_metadata,
    empty_corpus_round_trips,
    large_corpus_keeps_order,
    corpora_are_listed_by_name,
    equal_documents_give_equal_versions,
    existing_corpus_is_replaced_only_on_request,
    replace_creates_missing_corpus,
    deleted_corpus_is_gone,
    duplicate_ids_store_nothing,
    failed_replacement_keeps_previous_corpus,
    tokens_round_trip_per_pipeline,
    saving_tokens_again_replaces_them,
    token_lists_carry_document_ids,
    token_count_mismatch_is_rejected,
    missing_corpus_and_pipeline_are_reported,
    oversize_document_is_rejected,
);

mod cases {
    use serde_json::json;
    use topica_server::store::{
        DocumentTokens, MAX_DOCUMENT_BYTES, NewDocument, PipelineRecord, Store, StoreError,
    };

    fn document(id: &str, text: &str) -> NewDocument {
        NewDocument::new(id.into(), text.into())
    }

    fn dated(id: &str, text: &str, collection: Option<&str>, date: Option<&str>) -> NewDocument {
        let mut document = document(id, text);
        document.collection = collection.map(Into::into);
        document.date = date.map(Into::into);
        document
    }

    fn numbered(count: usize) -> Vec<NewDocument> {
        (0..count)
            .map(|index| document(&format!("doc-{index:05}"), &format!("text number {index}")))
            .collect()
    }

    fn pipeline(id: &str, created_at: &str) -> PipelineRecord {
        PipelineRecord {
            pipeline_id: id.into(),
            description: json!({ "steps": [{ "plugin": "tokenizer", "version": "1.0.0" }] }),
            dictionary: json!({ "token2id": { "$dollar": 0, "dotted.word": 1, "città": 2 }, "num_docs": 2 }),
            created_at: created_at.into(),
        }
    }

    fn token_lists(documents: &[NewDocument], prefix: &str) -> Vec<DocumentTokens> {
        documents
            .iter()
            .enumerate()
            .map(|(position, document)| DocumentTokens {
                position: position as u64,
                doc_id: document.doc_id.clone(),
                tokens: vec![format!("{prefix}{position}"), "shared".into()],
            })
            .collect()
    }

    async fn doc_ids(store: &dyn Store, name: &str) -> Vec<String> {
        let documents = store.documents(name).await.unwrap();
        documents
            .into_iter()
            .map(|document| document.content.doc_id)
            .collect()
    }

    pub async fn corpus_round_trip_keeps_metadata(store: &dyn Store) {
        let mut titled = dated("top.txt", "no collection", None, None);
        titled.title = Some("A title".into());
        titled.file_name = Some("top.txt".into());
        let documents = vec![
            dated(
                "b/1901-01-01.txt",
                "due parole",
                Some("b"),
                Some("1901-01-01"),
            ),
            dated("a/1899.txt", "three words here", Some("a"), Some("1899")),
            titled,
        ];

        let info = store
            .create_corpus("letters", "/in/letters", documents.clone(), false)
            .await
            .unwrap();
        assert_eq!(info.name, "letters");
        assert_eq!(info.source, "/in/letters");
        assert_eq!(info.document_count, 3);
        assert_eq!(info.collections, ["a", "b"]);
        assert_eq!(info.first_date.as_deref(), Some("1899"));
        assert_eq!(info.last_date.as_deref(), Some("1901-01-01"));
        assert!(!info.version.is_empty());
        assert!(!info.created_at.is_empty());
        assert_eq!(store.corpus("letters").await.unwrap(), info);

        let stored = store.documents("letters").await.unwrap();
        let positions: Vec<u64> = stored.iter().map(|document| document.position).collect();
        assert_eq!(positions, [0, 1, 2]);
        let contents: Vec<NewDocument> = stored
            .into_iter()
            .map(|document| document.content)
            .collect();
        assert_eq!(contents, documents);
    }

    pub async fn empty_corpus_round_trips(store: &dyn Store) {
        let info = store
            .create_corpus("empty", "/in", Vec::new(), false)
            .await
            .unwrap();
        assert_eq!(info.document_count, 0);
        assert!(info.collections.is_empty());
        assert_eq!(info.first_date, None);
        assert!(store.documents("empty").await.unwrap().is_empty());
    }

    /// More documents than one MongoDB write batch (1000).
    pub async fn large_corpus_keeps_order(store: &dyn Store) {
        let documents = numbered(2500);
        store
            .create_corpus("large", "/in", documents.clone(), false)
            .await
            .unwrap();
        let expected_ids: Vec<String> = documents
            .iter()
            .map(|document| document.doc_id.clone())
            .collect();
        assert_eq!(doc_ids(store, "large").await, expected_ids);

        let tokens = token_lists(&documents, "t");
        store
            .save_tokens(
                "large",
                &pipeline("p", "2024-01-01T00:00:00Z"),
                tokens.clone(),
            )
            .await
            .unwrap();
        assert_eq!(store.tokens("large", "p").await.unwrap(), tokens);
    }

    pub async fn corpora_are_listed_by_name(store: &dyn Store) {
        assert!(store.list_corpora().await.unwrap().is_empty());

        for name in ["zeta", "alpha", "Mid"] {
            store
                .create_corpus(name, "/in", vec![document(name, "text")], false)
                .await
                .unwrap();
        }
        let listed = store.list_corpora().await.unwrap();
        let names: Vec<&str> = listed.iter().map(|info| info.name.as_str()).collect();
        assert_eq!(names, ["Mid", "alpha", "zeta"]);
        for info in &listed {
            assert_eq!(&store.corpus(&info.name).await.unwrap(), info);
        }
    }

    pub async fn equal_documents_give_equal_versions(store: &dyn Store) {
        let first = store
            .create_corpus("first", "/a", numbered(3), false)
            .await
            .unwrap();
        let second = store
            .create_corpus("second", "/b", numbered(3), false)
            .await
            .unwrap();
        let different = store
            .create_corpus("third", "/a", numbered(4), false)
            .await
            .unwrap();
        assert_eq!(first.version, second.version);
        assert_ne!(first.version, different.version);
    }

    pub async fn existing_corpus_is_replaced_only_on_request(store: &dyn Store) {
        store
            .create_corpus("c", "/old", vec![document("1", "one")], false)
            .await
            .unwrap();
        store
            .save_tokens(
                "c",
                &pipeline("p1", "2024-01-01T00:00:00Z"),
                token_lists(&[document("1", "one")], "t"),
            )
            .await
            .unwrap();

        let error = store
            .create_corpus("c", "/new", vec![document("2", "two")], false)
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::CorpusExists(ref name) if name == "c"),
            "{error}"
        );
        assert_eq!(doc_ids(store, "c").await, ["1"]);
        assert_eq!(store.corpus("c").await.unwrap().source, "/old");
        assert_eq!(store.tokens("c", "p1").await.unwrap().len(), 1);

        let replacement = vec![document("2", "two"), document("3", "three")];
        let info = store
            .create_corpus("c", "/new", replacement, true)
            .await
            .unwrap();
        assert_eq!(info.document_count, 2);
        assert_eq!(info.source, "/new");
        assert_eq!(doc_ids(store, "c").await, ["2", "3"]);
        assert_eq!(store.list_corpora().await.unwrap().len(), 1);

        // Tokens belonged to the replaced documents.
        assert!(store.pipelines("c").await.unwrap().is_empty());
        let error = store.tokens("c", "p1").await.unwrap_err();
        assert!(
            matches!(error, StoreError::PipelineNotFound { .. }),
            "{error}"
        );
    }

    pub async fn replace_creates_missing_corpus(store: &dyn Store) {
        let info = store
            .create_corpus("fresh", "/in", vec![document("1", "one")], true)
            .await
            .unwrap();
        assert_eq!(info.document_count, 1);
        assert_eq!(doc_ids(store, "fresh").await, ["1"]);
    }

    pub async fn deleted_corpus_is_gone(store: &dyn Store) {
        let documents = vec![document("x", "a b"), document("y", "c")];
        store
            .create_corpus("c", "/in", documents.clone(), false)
            .await
            .unwrap();
        store
            .create_corpus("other", "/in", vec![document("z", "z")], false)
            .await
            .unwrap();
        store
            .save_tokens(
                "c",
                &pipeline("p1", "2024-01-01T00:00:00Z"),
                token_lists(&documents, "t"),
            )
            .await
            .unwrap();

        assert!(store.delete_corpus("c").await.unwrap());
        assert!(!store.delete_corpus("c").await.unwrap());
        let names: Vec<String> = store
            .list_corpora()
            .await
            .unwrap()
            .into_iter()
            .map(|info| info.name)
            .collect();
        assert_eq!(names, ["other"]);
        let error = store.documents("c").await.unwrap_err();
        assert!(matches!(error, StoreError::CorpusNotFound(_)), "{error}");
        let error = store.tokens("c", "p1").await.unwrap_err();
        assert!(matches!(error, StoreError::CorpusNotFound(_)), "{error}");

        // A new corpus of the same name starts without the deleted one's pipelines.
        store
            .create_corpus("c", "/in", documents, false)
            .await
            .unwrap();
        assert!(store.pipelines("c").await.unwrap().is_empty());
        assert_eq!(doc_ids(store, "other").await, ["z"]);
    }

    pub async fn duplicate_ids_store_nothing(store: &dyn Store) {
        let documents = vec![
            document("same", "one"),
            document("other", "two"),
            document("same", "three"),
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
        let error = store.documents("dup").await.unwrap_err();
        assert!(matches!(error, StoreError::CorpusNotFound(_)), "{error}");
    }

    /// A duplicate id in the third batch of 1000 fails the write after the MongoDB store wrote two
    /// batches under a staging id. None of them may become visible.
    pub async fn failed_replacement_keeps_previous_corpus(store: &dyn Store) {
        let previous = store
            .create_corpus("c", "/old", numbered(3), false)
            .await
            .unwrap();
        let previous_documents = store.documents("c").await.unwrap();

        let mut documents = numbered(2500);
        documents[2400].doc_id = documents[5].doc_id.clone();
        let duplicate = documents[5].doc_id.clone();

        let error = store
            .create_corpus("c", "/new", documents.clone(), true)
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::DuplicateDocumentId(ref id) if *id == duplicate),
            "{error}"
        );
        assert_eq!(store.corpus("c").await.unwrap(), previous);
        assert_eq!(store.documents("c").await.unwrap(), previous_documents);

        let error = store
            .create_corpus("new", "/new", documents, false)
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::DuplicateDocumentId(_)),
            "{error}"
        );
        let names: Vec<String> = store
            .list_corpora()
            .await
            .unwrap()
            .into_iter()
            .map(|info| info.name)
            .collect();
        assert_eq!(names, ["c"]);
    }

    pub async fn tokens_round_trip_per_pipeline(store: &dyn Store) {
        let documents = vec![document("x", "a b"), document("y", "c")];
        store
            .create_corpus("c", "/in", documents.clone(), false)
            .await
            .unwrap();
        let older = pipeline("p1", "2024-01-01T00:00:00Z");
        let mut newer = pipeline("p2", "2024-02-01T00:00:00Z");
        newer.dictionary = json!({ "token2id": { "other": 0 } });
        let first_tokens = vec![
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
        let second_tokens = token_lists(&documents, "p2-");

        store
            .save_tokens("c", &older, first_tokens.clone())
            .await
            .unwrap();
        store
            .save_tokens("c", &newer, second_tokens.clone())
            .await
            .unwrap();

        assert_eq!(store.tokens("c", "p1").await.unwrap(), first_tokens);
        assert_eq!(store.tokens("c", "p2").await.unwrap(), second_tokens);
        assert_eq!(store.pipelines("c").await.unwrap(), [newer, older]);
    }

    pub async fn saving_tokens_again_replaces_them(store: &dyn Store) {
        let documents = numbered(3);
        store
            .create_corpus("c", "/in", documents.clone(), false)
            .await
            .unwrap();
        let mut record = pipeline("p1", "2024-01-01T00:00:00Z");
        store
            .save_tokens("c", &record, token_lists(&documents, "old-"))
            .await
            .unwrap();

        record.dictionary = json!({ "token2id": { "new": 0 } });
        record.created_at = "2024-03-01T00:00:00Z".into();
        let replacement = token_lists(&documents, "new-");
        store
            .save_tokens("c", &record, replacement.clone())
            .await
            .unwrap();

        assert_eq!(store.tokens("c", "p1").await.unwrap(), replacement);
        assert_eq!(store.pipelines("c").await.unwrap(), [record]);
    }

    /// Token lists name the stored documents, whatever id the caller passed.
    pub async fn token_lists_carry_document_ids(store: &dyn Store) {
        store
            .create_corpus(
                "c",
                "/in",
                vec![document("x", "a"), document("y", "b")],
                false,
            )
            .await
            .unwrap();
        let tokens = vec![
            DocumentTokens {
                position: 0,
                doc_id: "wrong".into(),
                tokens: vec!["a".into()],
            },
            DocumentTokens {
                position: 1,
                doc_id: "also wrong".into(),
                tokens: vec!["b".into()],
            },
        ];
        store
            .save_tokens("c", &pipeline("p1", "2024-01-01T00:00:00Z"), tokens)
            .await
            .unwrap();
        let stored = store.tokens("c", "p1").await.unwrap();
        let ids: Vec<&str> = stored.iter().map(|entry| entry.doc_id.as_str()).collect();
        assert_eq!(ids, ["x", "y"]);
    }

    pub async fn token_count_mismatch_is_rejected(store: &dyn Store) {
        let documents = numbered(3);
        store
            .create_corpus("c", "/in", documents.clone(), false)
            .await
            .unwrap();
        let kept = token_lists(&documents, "kept-");
        store
            .save_tokens("c", &pipeline("p1", "2024-01-01T00:00:00Z"), kept.clone())
            .await
            .unwrap();

        let too_few = kept[..2].to_vec();
        let error = store
            .save_tokens("c", &pipeline("p2", "2024-02-01T00:00:00Z"), too_few)
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::TokensMismatch { .. }),
            "{error}"
        );

        let mut out_of_order = kept.clone();
        out_of_order.swap(0, 1);
        let error = store
            .save_tokens("c", &pipeline("p2", "2024-02-01T00:00:00Z"), out_of_order)
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::TokensMismatch { .. }),
            "{error}"
        );

        let too_many = [kept.clone(), token_lists(&documents[..1], "extra-")].concat();
        let error = store
            .save_tokens("c", &pipeline("p1", "2024-02-01T00:00:00Z"), too_many)
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::TokensMismatch { .. }),
            "{error}"
        );

        let error = store.tokens("c", "p2").await.unwrap_err();
        assert!(
            matches!(error, StoreError::PipelineNotFound { .. }),
            "{error}"
        );
        let pipelines = store.pipelines("c").await.unwrap();
        let ids: Vec<&str> = pipelines
            .iter()
            .map(|record| record.pipeline_id.as_str())
            .collect();
        assert_eq!(ids, ["p1"]);
        assert_eq!(pipelines[0].created_at, "2024-01-01T00:00:00Z");
        assert_eq!(store.tokens("c", "p1").await.unwrap(), kept);
    }

    pub async fn missing_corpus_and_pipeline_are_reported(store: &dyn Store) {
        let not_found = |error: StoreError| matches!(error, StoreError::CorpusNotFound(ref name) if name == "nope");
        assert!(not_found(store.corpus("nope").await.unwrap_err()));
        assert!(not_found(store.documents("nope").await.unwrap_err()));
        assert!(not_found(store.pipelines("nope").await.unwrap_err()));
        assert!(not_found(store.tokens("nope", "p1").await.unwrap_err()));
        let record = pipeline("p1", "2024-01-01T00:00:00Z");
        assert!(not_found(
            store
                .save_tokens("nope", &record, Vec::new())
                .await
                .unwrap_err()
        ));
        assert!(!store.delete_corpus("nope").await.unwrap());

        store
            .create_corpus("c", "/in", vec![document("x", "a")], false)
            .await
            .unwrap();
        let error = store.tokens("c", "p1").await.unwrap_err();
        assert!(
            matches!(error, StoreError::PipelineNotFound { ref corpus, ref pipeline_id } if corpus == "c" && pipeline_id == "p1"),
            "{error}"
        );
        assert!(store.pipelines("c").await.unwrap().is_empty());
    }

    /// Both stores reject a document over `MAX_DOCUMENT_BYTES` and accept one of exactly that
    /// size, measured as id plus text plus metadata in UTF-8 bytes.
    pub async fn oversize_document_is_rejected(store: &dyn Store) {
        let id = "big.txt";
        let largest = MAX_DOCUMENT_BYTES as usize - id.len();

        let too_large = vec![
            document("small.txt", "fine"),
            document(id, &"x".repeat(largest + 1)),
        ];
        let error = store
            .create_corpus("big", "/in", too_large, false)
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                StoreError::DocumentTooLarge { ref doc_id, size_bytes, max_bytes }
                    if doc_id == id && size_bytes == MAX_DOCUMENT_BYTES + 1 && max_bytes == MAX_DOCUMENT_BYTES
            ),
            "{error}"
        );
        assert!(error.to_string().contains(id), "{error}");
        assert!(store.list_corpora().await.unwrap().is_empty());

        store
            .create_corpus(
                "big",
                "/in",
                vec![document(id, &"x".repeat(largest))],
                false,
            )
            .await
            .unwrap();
        let stored = store.documents("big").await.unwrap();
        assert_eq!(stored[0].content.text.len(), largest);
    }
}

/// MongoDB behaviour that SQLite has no counterpart for: connection handling and database names.
mod mongo_only {
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use mongodb::options::ClientOptions;
    use tokio::net::{TcpSocket, TcpStream};
    use tokio::task::AbortHandle;
    use topica_server::store::{MongoStore, NewDocument, Store, StoreError};

    use super::TestDatabase;

    /// A TCP proxy on 127.0.0.1 in front of the test server, so a test can cut the connection
    /// and restore it on the same port.
    struct Proxy {
        port: u16,
        target: String,
        tasks: Arc<Mutex<Vec<AbortHandle>>>,
    }

    impl Proxy {
        async fn start(target: String) -> Self {
            let mut proxy = Self {
                port: 0,
                target,
                tasks: Arc::default(),
            };
            proxy.listen().await;
            proxy
        }

        async fn listen(&mut self) {
            let socket = TcpSocket::new_v4().unwrap();
            socket.set_reuseaddr(true).unwrap();
            socket
                .bind(SocketAddr::from(([127, 0, 0, 1], self.port)))
                .unwrap();
            let listener = socket.listen(64).unwrap();
            self.port = listener.local_addr().unwrap().port();

            let target = self.target.clone();
            let tasks = Arc::clone(&self.tasks);
            let accept_loop = tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    let target = target.clone();
                    let connection = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(&target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    tasks.lock().unwrap().push(connection.abort_handle());
                }
            });
            self.tasks.lock().unwrap().push(accept_loop.abort_handle());
        }

        /// Closes the listener and every proxied connection.
        fn cut(&self) {
            for task in self.tasks.lock().unwrap().drain(..) {
                task.abort();
            }
        }

        fn uri(&self) -> String {
            // A direct connection keeps the driver on the proxy instead of the hosts the server
            // advertises.
            format!("mongodb://127.0.0.1:{}/?directConnection=true", self.port)
        }
    }

    impl Drop for Proxy {
        fn drop(&mut self) {
            self.cut();
        }
    }

    async fn test_server_address(uri: &str) -> String {
        let options = ClientOptions::parse(uri).await.unwrap();
        options.hosts[0].to_string()
    }

    fn documents(ids: &[&str]) -> Vec<NewDocument> {
        ids.iter()
            .map(|id| NewDocument::new((*id).into(), format!("text of {id}")))
            .collect()
    }

    #[tokio::test]
    async fn lost_connection_is_reported_and_recovered() {
        let database = TestDatabase::new();
        let mut proxy = Proxy::start(test_server_address(&database.uri).await).await;
        let store = MongoStore::connect(&proxy.uri(), Some(&database.name))
            .await
            .unwrap();

        database
            .run(async {
                store
                    .create_corpus("letters", "/in", documents(&["a", "b"]), false)
                    .await
                    .unwrap();
                let before = store.documents("letters").await.unwrap();

                proxy.cut();
                let started = Instant::now();
                let error = store
                    .create_corpus("letters", "/in", documents(&["c"]), true)
                    .await
                    .unwrap_err();
                assert!(
                    matches!(error, StoreError::MongoUnavailable { .. }),
                    "{error}"
                );
                let message = error.to_string();
                assert!(
                    message.contains(&format!("127.0.0.1:{}", proxy.port)),
                    "{message}"
                );
                assert!(message.contains("store corpus \"letters\""), "{message}");
                assert!(
                    started.elapsed() < Duration::from_secs(20),
                    "took {:?}",
                    started.elapsed()
                );

                let error = store.documents("letters").await.unwrap_err();
                assert!(
                    matches!(error, StoreError::MongoUnavailable { .. }),
                    "{error}"
                );

                proxy.listen().await;
                assert_eq!(store.documents("letters").await.unwrap(), before);
                store
                    .create_corpus("letters", "/in", documents(&["c"]), true)
                    .await
                    .unwrap();
                assert_eq!(store.corpus("letters").await.unwrap().document_count, 1);
            })
            .await;
    }

    #[tokio::test]
    async fn unreachable_server_fails_fast() {
        let unused_port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let uri = format!("mongodb://127.0.0.1:{unused_port}/?directConnection=true");

        let started = Instant::now();
        let error = MongoStore::connect(&uri, Some("topica_unreachable"))
            .await
            .err()
            .unwrap();
        assert!(
            matches!(error, StoreError::MongoUnavailable { .. }),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .contains(&format!("127.0.0.1:{unused_port}")),
            "{error}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "took {:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn invalid_uri_is_rejected() {
        let error = MongoStore::connect("http://127.0.0.1:27017", None)
            .await
            .err()
            .unwrap();
        assert!(matches!(error, StoreError::InvalidMongoUri(_)), "{error}");
    }

    #[tokio::test]
    async fn database_comes_from_argument_then_uri() {
        let database = TestDatabase::new();
        let address = test_server_address(&database.uri).await;
        let uri_with_database = format!(
            "mongodb://{address}/{}?directConnection=true",
            database.name
        );

        let from_uri = MongoStore::connect(&uri_with_database, None).await.unwrap();
        let from_argument = MongoStore::connect(&database.uri, Some(&database.name))
            .await
            .unwrap();

        database
            .run(async {
                assert_eq!(from_uri.database_name(), database.name);
                assert_eq!(from_argument.database_name(), database.name);
                from_uri
                    .create_corpus("c", "/in", documents(&["a"]), false)
                    .await
                    .unwrap();
                assert_eq!(from_argument.corpus("c").await.unwrap().document_count, 1);
            })
            .await;
    }
}
