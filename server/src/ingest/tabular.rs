//! CSV and JSONL input: one document per row or line.

use std::path::Path;

use super::dates::parse_date_field;
use super::{IngestError, IngestOptions, IngestReport, Skipped, note_date_problem};
use crate::store::NewDocument;

fn read_utf8(path: &Path) -> Result<String, IngestError> {
    let bytes = std::fs::read(path).map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|error| IngestError::NotUtf8 {
        path: path.to_path_buf(),
        offset: error.utf8_error().valid_up_to(),
    })?;
    Ok(text
        .strip_prefix('\u{feff}')
        .map(str::to_owned)
        .unwrap_or(text))
}

/// Fills the optional metadata of a document from field values.
fn with_metadata(
    mut document: NewDocument,
    date: Option<String>,
    title: Option<String>,
    collection: Option<String>,
    report: &mut IngestReport,
) -> NewDocument {
    match date.as_deref().map(parse_date_field) {
        Some(Ok(date)) => document.date = Some(date),
        Some(Err(problem)) => note_date_problem(report, &document.doc_id, problem),
        None => {}
    }
    document.title = title.filter(|title| !title.trim().is_empty());
    document.collection = collection.filter(|collection| !collection.trim().is_empty());
    document
}

/// Reads a CSV file with a header row. The text column is required; id, date, title and
/// collection columns are used when present.
pub(super) fn read_csv(
    path: &Path,
    options: &IngestOptions,
    report: &mut IngestReport,
) -> Result<Vec<NewDocument>, IngestError> {
    let content = read_utf8(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(content.as_bytes());
    let headers = reader
        .headers()
        .map_err(|error| IngestError::InvalidCsv {
            path: path.to_path_buf(),
            cause: error.to_string(),
        })?
        .clone();
    let column = |name: &str| headers.iter().position(|header| header.trim() == name);
    let fields = &options.fields;
    let Some(text_column) = column(&fields.text) else {
        return Err(IngestError::MissingTextColumn {
            path: path.to_path_buf(),
            column: fields.text.clone(),
            available: headers
                .iter()
                .map(|h| format!("{h:?}"))
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let (id_column, date_column, title_column, collection_column) = (
        column(&fields.id),
        column(&fields.date),
        column(&fields.title),
        column(&fields.collection),
    );

    let mut documents = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let row_number = index + 1;
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                report.skipped.push(Skipped {
                    item: format!("row {row_number}"),
                    reason: format!("invalid CSV: {error}"),
                });
                continue;
            }
        };
        let value = |column: Option<usize>| column.and_then(|c| record.get(c)).map(str::to_owned);
        let Some(text) = value(Some(text_column)) else {
            report.skipped.push(Skipped {
                item: format!("row {row_number}"),
                reason: format!("the row has no {:?} field", fields.text),
            });
            continue;
        };
        let doc_id = value(id_column)
            .filter(|id| !id.trim().is_empty())
            .unwrap_or_else(|| format!("row-{row_number}"));
        let document = NewDocument::new(doc_id, text);
        documents.push(with_metadata(
            document,
            value(date_column),
            value(title_column),
            value(collection_column),
            report,
        ));
    }
    Ok(documents)
}

/// Renders a JSON scalar as text; ids and years are often numbers.
fn scalar_text(value: Option<&serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Reads a JSONL file: one JSON object per line, blank lines ignored.
pub(super) fn read_jsonl(
    path: &Path,
    options: &IngestOptions,
    report: &mut IngestReport,
) -> Result<Vec<NewDocument>, IngestError> {
    let content = read_utf8(path)?;
    let fields = &options.fields;
    let mut documents = Vec::new();
    let mut lines_with_objects = 0usize;

    for (index, line) in content.lines().enumerate() {
        let line_number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let item = format!("line {line_number}");
        let object = match serde_json::from_str::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(object)) => object,
            Ok(_) => {
                report.skipped.push(Skipped {
                    item,
                    reason: "not a JSON object".into(),
                });
                continue;
            }
            Err(error) => {
                report.skipped.push(Skipped {
                    item,
                    reason: format!("invalid JSON: {error}"),
                });
                continue;
            }
        };
        lines_with_objects += 1;
        let Some(serde_json::Value::String(text)) = object.get(&fields.text) else {
            report.skipped.push(Skipped {
                item,
                reason: format!("no string field {:?}", fields.text),
            });
            continue;
        };
        let doc_id = scalar_text(object.get(&fields.id))
            .filter(|id| !id.trim().is_empty())
            .unwrap_or_else(|| format!("line-{line_number}"));
        let document = NewDocument::new(doc_id, text.clone());
        documents.push(with_metadata(
            document,
            scalar_text(object.get(&fields.date)),
            scalar_text(object.get(&fields.title)),
            scalar_text(object.get(&fields.collection)),
            report,
        ));
    }

    if documents.is_empty() && lines_with_objects > 0 {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
            detail: format!(
                "none of its {lines_with_objects} JSON object(s) has a string field {:?}: name the text field with --text-field",
                fields.text
            ),
        });
    }
    Ok(documents)
}
