//! `.txt` files from a folder, a zip archive or a single file.

use std::fs;
use std::io::Read;
use std::path::{Component, Path};

use super::{IngestError, IngestOptions, IngestReport, Skipped, note_date_problem};
use crate::store::NewDocument;

/// A file's bytes with its path relative to the input root, using `/` separators.
pub(super) struct RawFile {
    pub relative_path: String,
    pub bytes: Vec<u8>,
}

fn skip(report: &mut IngestReport, item: impl Into<String>, reason: impl Into<String>) {
    report.skipped.push(Skipped {
        item: item.into(),
        reason: reason.into(),
    });
}

fn is_hidden(relative_path: &str) -> bool {
    relative_path
        .split('/')
        .any(|part| part.starts_with('.') || part == "__MACOSX")
}

/// Reads every regular file below `root`, sorted by relative path. Symbolic links are skipped so
/// that ingest never reads outside the folder it was given.
pub(super) fn read_folder(
    root: &Path,
    options: &IngestOptions,
    report: &mut IngestReport,
) -> Result<Vec<RawFile>, IngestError> {
    let mut paths = Vec::new();
    collect_paths(root, root, &mut paths, report)?;
    paths.sort();

    let mut files = Vec::with_capacity(paths.len());
    for relative_path in paths {
        let full_path = root.join(&relative_path);
        match read_limited(&full_path, options.max_file_bytes) {
            Ok(bytes) => files.push(RawFile {
                relative_path,
                bytes,
            }),
            Err(reason) => skip(report, relative_path, reason),
        }
    }
    Ok(files)
}

fn collect_paths(
    root: &Path,
    dir: &Path,
    paths: &mut Vec<String>,
    report: &mut IngestReport,
) -> Result<(), IngestError> {
    let entries = fs::read_dir(dir).map_err(|source| IngestError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| IngestError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        let relative = path
            .strip_prefix(root)
            .expect("read_dir yields children of its argument")
            .components()
            .filter_map(|component| match component {
                Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("/");
        let file_type = match entry.file_type() {
            Ok(file_type) => file_type,
            Err(error) => {
                skip(report, relative, format!("unreadable: {error}"));
                continue;
            }
        };
        if file_type.is_symlink() {
            skip(report, relative, "symbolic link (not followed)");
        } else if file_type.is_dir() {
            collect_paths(root, &path, paths, report)?;
        } else if file_type.is_file() {
            paths.push(relative);
        }
    }
    Ok(())
}

fn read_limited(path: &Path, max_bytes: u64) -> Result<Vec<u8>, String> {
    let file = fs::File::open(path).map_err(|error| format!("unreadable: {error}"))?;
    let mut bytes = Vec::new();
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| format!("unreadable: {error}"))?;
    if bytes.len() as u64 > max_bytes {
        return Err(format!("larger than the {max_bytes}-byte limit per file"));
    }
    Ok(bytes)
}

/// Reads one `.txt` file as a corpus of one document.
pub(super) fn read_single(
    path: &Path,
    options: &IngestOptions,
    report: &mut IngestReport,
) -> Result<Vec<RawFile>, IngestError> {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    match read_limited(path, options.max_file_bytes) {
        Ok(bytes) => Ok(vec![RawFile {
            relative_path: name,
            bytes,
        }]),
        Err(reason) => {
            skip(report, name, reason);
            Ok(Vec::new())
        }
    }
}

/// Reads every file entry of a zip archive into memory. Entries whose path would leave the
/// archive (`../`, absolute paths) are reported and never written anywhere. When every entry sits
/// in one top-level folder, that folder is dropped so its sub-folders become the collections.
pub(super) fn read_zip(
    path: &Path,
    options: &IngestOptions,
    report: &mut IngestReport,
) -> Result<Vec<RawFile>, IngestError> {
    let file = fs::File::open(path).map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut archive = zip::ZipArchive::new(file).map_err(|error| IngestError::CorruptZip {
        path: path.to_path_buf(),
        cause: error.to_string(),
    })?;

    let mut files = Vec::new();
    for index in 0..archive.len() {
        let mut entry = match archive.by_index(index) {
            Ok(entry) => entry,
            Err(error) => {
                skip(
                    report,
                    format!("entry #{index}"),
                    format!("unreadable zip entry: {error}"),
                );
                continue;
            }
        };
        let raw_name = entry.name().to_owned();
        if entry.is_dir() {
            continue;
        }
        let Some(safe_path) = entry.enclosed_name() else {
            skip(
                report,
                raw_name,
                "unsafe path in zip (it leaves the archive); not extracted",
            );
            continue;
        };
        if entry.is_symlink() {
            skip(report, raw_name, "symbolic link in zip; not extracted");
            continue;
        }
        if entry.size() > options.max_file_bytes {
            skip(
                report,
                raw_name,
                format!(
                    "larger than the {}-byte limit per file",
                    options.max_file_bytes
                ),
            );
            continue;
        }
        let relative_path = safe_path
            .components()
            .filter_map(|component| match component {
                Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("/");
        let mut bytes = Vec::new();
        let read = (&mut entry)
            .take(options.max_file_bytes + 1)
            .read_to_end(&mut bytes);
        match read {
            Ok(_) if bytes.len() as u64 > options.max_file_bytes => skip(
                report,
                raw_name,
                format!(
                    "larger than the {}-byte limit per file",
                    options.max_file_bytes
                ),
            ),
            Ok(_) => files.push(RawFile {
                relative_path,
                bytes,
            }),
            Err(error) => skip(report, raw_name, format!("unreadable zip entry: {error}")),
        }
    }

    strip_common_top_folder(&mut files);
    files.sort_by(|a, b| a.relative_path.cmp(&b.relative_path));
    Ok(files)
}

fn strip_common_top_folder(files: &mut [RawFile]) {
    let visible: Vec<&RawFile> = files
        .iter()
        .filter(|file| !is_hidden(&file.relative_path))
        .collect();
    let Some(first) = visible.first() else { return };
    let Some((top, _)) = first.relative_path.split_once('/') else {
        return;
    };
    let prefix = format!("{top}/");
    if visible
        .iter()
        .all(|file| file.relative_path.starts_with(&prefix))
    {
        for file in files.iter_mut() {
            if let Some(rest) = file.relative_path.strip_prefix(&prefix) {
                file.relative_path = rest.to_owned();
            }
        }
    }
}

/// Turns raw files into documents: `.txt` only, UTF-8 only, folder as collection, date from the
/// file name.
pub(super) fn text_documents(
    files: Vec<RawFile>,
    options: &IngestOptions,
    report: &mut IngestReport,
) -> Vec<NewDocument> {
    let mut documents = Vec::with_capacity(files.len());
    for RawFile {
        relative_path,
        bytes,
    } in files
    {
        if is_hidden(&relative_path) {
            skip(report, relative_path, "hidden or system file");
            continue;
        }
        if !relative_path.to_ascii_lowercase().ends_with(".txt") {
            skip(report, relative_path, "not a .txt file");
            continue;
        }
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(error) => {
                let offset = error.utf8_error().valid_up_to();
                skip(
                    report,
                    relative_path,
                    format!("not UTF-8 (first invalid byte at offset {offset})"),
                );
                continue;
            }
        };
        let text = text
            .strip_prefix('\u{feff}')
            .map(str::to_owned)
            .unwrap_or(text);

        let (collection, file_name) = match relative_path.rsplit_once('/') {
            Some((folder, name)) => (Some(folder.to_owned()), name.to_owned()),
            None => (None, relative_path.clone()),
        };
        let title = file_name
            .rsplit_once('.')
            .map(|(stem, _)| stem.to_owned())
            .unwrap_or_else(|| file_name.clone());

        let mut document = NewDocument::new(relative_path.clone(), text);
        match options.date_pattern.find(&file_name) {
            Ok(date) => document.date = Some(date),
            Err(problem) => note_date_problem(report, &relative_path, problem),
        }
        document.collection = collection;
        document.title = Some(title);
        document.file_name = Some(file_name);
        documents.push(document);
    }
    documents
}
