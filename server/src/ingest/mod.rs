//! Ingest: reads a folder or zip of `.txt` files, a CSV file or a JSONL file into documents,
//! and reports every file or row it could not use and why.
//!
//! Reading never writes to disk. The store receives the whole corpus in one atomic call, so a
//! failure or a kill midway leaves no half corpus.

pub mod dates;
mod files;
mod tabular;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::store::{CorpusInfo, NewDocument, Store, StoreError};
use dates::{DatePattern, DateProblem};

/// Field names for CSV and JSONL input.
#[derive(Debug, Clone)]
pub struct FieldNames {
    /// Column or key holding the text (default `text`); required.
    pub text: String,
    /// Column or key holding the document id (default `id`); rows without one get `row-N`.
    pub id: String,
    /// Column or key holding the date (default `date`).
    pub date: String,
    /// Column or key holding the title (default `title`).
    pub title: String,
    /// Column or key holding the collection (default `collection`).
    pub collection: String,
}

impl Default for FieldNames {
    fn default() -> Self {
        Self {
            text: "text".into(),
            id: "id".into(),
            date: "date".into(),
            title: "title".into(),
            collection: "collection".into(),
        }
    }
}

/// How to read the input.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Pattern for dates in `.txt` file names (default `%Y-%m-%d`).
    pub date_pattern: DatePattern,
    pub fields: FieldNames,
    /// Largest file or zip entry read, in bytes (default 256 MiB); larger ones are skipped.
    pub max_file_bytes: u64,
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            date_pattern: DatePattern::new(dates::DEFAULT_DATE_PATTERN)
                .expect("the default pattern is valid"),
            fields: FieldNames::default(),
            max_file_bytes: 256 * 1024 * 1024,
        }
    }
}

/// A file, zip entry, row or line that was not stored, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    /// Path inside the input (or `line N` / `row N` for tabular input).
    pub item: String,
    pub reason: String,
}

/// A document whose date was missing or impossible; it is stored undated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DateIssue {
    pub doc_id: String,
    /// `missing` or `impossible`.
    pub problem: &'static str,
    /// The text that looked like a date, for impossible ones.
    pub value: Option<String>,
}

/// A document left out because another one has the same text or id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Duplicate {
    pub doc_id: String,
    pub duplicate_of: String,
    /// `text` or `id`.
    pub kind: &'static str,
}

/// Summary of one ingest, for the command's output.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    pub corpus: String,
    pub source: String,
    pub documents_stored: usize,
    pub collections: Vec<String>,
    pub skipped: Vec<Skipped>,
    pub date_issues: Vec<DateIssue>,
    /// Ids of documents with no text besides whitespace; they are not stored.
    pub empty_documents: Vec<String>,
    pub duplicates: Vec<Duplicate>,
}

/// Failures of ingest; after any of them nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The input path does not exist.
    #[error("input not found: {0}")]
    NotFound(PathBuf),
    /// The input is neither a folder nor a supported file type.
    #[error("unsupported input {0}: expected a folder, or a .zip, .txt, .csv or .jsonl file")]
    Unsupported(PathBuf),
    /// The zip archive could not be opened.
    #[error("corrupt zip archive {path}: {cause}")]
    CorruptZip { path: PathBuf, cause: String },
    /// The input could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A CSV or JSONL file is not valid UTF-8.
    #[error(
        "{path} is not valid UTF-8 (first invalid byte at offset {offset}): convert it to UTF-8 and retry"
    )]
    NotUtf8 { path: PathBuf, offset: usize },
    /// A CSV file has no column with the text field's name.
    #[error(
        "{path} has no text column {column:?} (columns: {available}): name the text column with --text-field"
    )]
    MissingTextColumn {
        path: PathBuf,
        column: String,
        available: String,
    },
    /// A CSV file could not be parsed at all.
    #[error("invalid CSV {path}: {cause}")]
    InvalidCsv { path: PathBuf, cause: String },
    /// The corpus name is empty, too long or contains control characters.
    #[error("invalid corpus name {0:?}: use 1 to 200 characters without control characters")]
    InvalidCorpusName(String),
    /// Nothing usable was found.
    #[error("no documents found in {path}: {detail}")]
    Empty { path: PathBuf, detail: String },
    /// The store rejected the corpus.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads `path`, stores it as corpus `name` (replacing an existing one only when `replace` is
/// set) and returns the report.
pub async fn ingest(
    store: &dyn Store,
    path: &Path,
    name: &str,
    options: &IngestOptions,
    replace: bool,
) -> Result<(IngestReport, CorpusInfo), IngestError> {
    let name_is_valid = !name.trim().is_empty()
        && name.chars().count() <= 200
        && !name.chars().any(char::is_control);
    if !name_is_valid {
        return Err(IngestError::InvalidCorpusName(name.to_owned()));
    }
    if !replace && store.corpus(name).await.is_ok() {
        return Err(StoreError::CorpusExists(name.to_owned()).into());
    }

    let path_owned = path.to_path_buf();
    let options_owned = options.clone();
    let (documents, mut report) =
        tokio::task::spawn_blocking(move || read_input(&path_owned, &options_owned))
            .await
            .expect("the ingest reader does not panic")?;

    report.corpus = name.to_owned();
    report.source = path.display().to_string();
    let info = store
        .create_corpus(name, &report.source, documents, replace)
        .await?;
    report.documents_stored = info.document_count as usize;
    report.collections = info.collections.clone();
    Ok((report, info))
}

/// Reads and checks the input without storing it.
pub fn read_input(
    path: &Path,
    options: &IngestOptions,
) -> Result<(Vec<NewDocument>, IngestReport), IngestError> {
    if !path.exists() {
        return Err(IngestError::NotFound(path.to_path_buf()));
    }
    let mut report = IngestReport::default();
    let extension = path
        .extension()
        .and_then(|ext| ext.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();

    let candidates = if path.is_dir() {
        let files = files::read_folder(path, options, &mut report)?;
        files::text_documents(files, options, &mut report)
    } else {
        match extension.as_str() {
            "zip" => {
                let files = files::read_zip(path, options, &mut report)?;
                files::text_documents(files, options, &mut report)
            }
            "txt" => {
                let files = files::read_single(path, options, &mut report)?;
                files::text_documents(files, options, &mut report)
            }
            "csv" => tabular::read_csv(path, options, &mut report)?,
            "jsonl" | "ndjson" => tabular::read_jsonl(path, options, &mut report)?,
            _ => return Err(IngestError::Unsupported(path.to_path_buf())),
        }
    };

    let documents = drop_empty_and_duplicates(candidates, &mut report);
    if documents.is_empty() {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
            detail: empty_detail(&report),
        });
    }
    Ok((documents, report))
}

fn drop_empty_and_duplicates(
    candidates: Vec<NewDocument>,
    report: &mut IngestReport,
) -> Vec<NewDocument> {
    let mut by_text: HashMap<[u8; 32], String> = HashMap::new();
    let mut by_id: HashMap<String, ()> = HashMap::new();
    let mut documents = Vec::with_capacity(candidates.len());

    for document in candidates {
        if document.text.trim().is_empty() {
            report.empty_documents.push(document.doc_id);
            continue;
        }
        if by_id.contains_key(&document.doc_id) {
            report.duplicates.push(Duplicate {
                duplicate_of: document.doc_id.clone(),
                doc_id: document.doc_id,
                kind: "id",
            });
            continue;
        }
        let digest: [u8; 32] = Sha256::digest(document.text.as_bytes()).into();
        if let Some(first) = by_text.get(&digest) {
            report.duplicates.push(Duplicate {
                doc_id: document.doc_id,
                duplicate_of: first.clone(),
                kind: "text",
            });
            continue;
        }
        by_text.insert(digest, document.doc_id.clone());
        by_id.insert(document.doc_id.clone(), ());
        documents.push(document);
    }
    documents
}

fn empty_detail(report: &IngestReport) -> String {
    let mut parts = Vec::new();
    if !report.empty_documents.is_empty() {
        parts.push(format!(
            "{} empty document(s)",
            report.empty_documents.len()
        ));
    }
    if !report.duplicates.is_empty() {
        parts.push(format!("{} duplicate(s)", report.duplicates.len()));
    }
    if !report.skipped.is_empty() {
        let examples: Vec<String> = report
            .skipped
            .iter()
            .take(3)
            .map(|skipped| format!("{} ({})", skipped.item, skipped.reason))
            .collect();
        parts.push(format!(
            "{} item(s) skipped, such as {}",
            report.skipped.len(),
            examples.join(", ")
        ));
    }
    if parts.is_empty() {
        "the input holds no .txt files, rows or lines".into()
    } else {
        parts.join("; ")
    }
}

/// Records a date problem for a document.
fn note_date_problem(report: &mut IngestReport, doc_id: &str, problem: DateProblem) {
    let (problem, value) = match problem {
        DateProblem::Missing => ("missing", None),
        DateProblem::Impossible(value) => ("impossible", Some(value)),
    };
    report.date_issues.push(DateIssue {
        doc_id: doc_id.to_owned(),
        problem,
        value,
    });
}
