//! Compares the dictionary, phrases and coherence modules with gensim 4.4.
//!
//! The reference values are JSON files in `tests/gensim/`, written by
//! `tests/gensim/make_reference.py` from the Lee background corpus. Rerun that script (its
//! header says how) after changing the reference cases.

mod gensim {
    pub mod coherence;
    pub mod dictionary;
    pub mod phrases;
}

use std::path::PathBuf;

use serde::de::DeserializeOwned;

/// Reads and parses a reference file from `tests/gensim/`.
pub fn load_reference<T: DeserializeOwned>(name: &str) -> T {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/gensim")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "cannot read {}: {error}; run core/tests/gensim/make_reference.py to write it",
            path.display()
        )
    });
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("invalid reference file {}: {error}", path.display()))
}

/// The tokenized Lee documents that every reference was computed from.
#[derive(serde::Deserialize)]
pub struct LeeTexts {
    /// Lowercase `[a-z]+` tokens.
    pub raw: Vec<Vec<String>>,
    /// `raw` without stopwords and tokens shorter than 3 characters.
    pub texts: Vec<Vec<String>>,
}

pub fn lee_texts() -> LeeTexts {
    load_reference("lee_texts.json")
}
