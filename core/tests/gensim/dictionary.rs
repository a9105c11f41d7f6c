use serde::Deserialize;
use topica_core::dictionary::{Dictionary, FilterExtremes, FilterExtremesError};

use crate::{lee_texts, load_reference};

#[derive(Deserialize)]
struct Reference {
    full: DictionaryState,
    filter_extremes: Vec<FilterCase>,
    doc2bow: Doc2BowCase,
}

#[derive(Deserialize)]
struct DictionaryState {
    tokens: Vec<String>,
    dfs: Vec<u64>,
    cfs: Vec<u64>,
    num_docs: u64,
    num_pos: u64,
    num_nnz: u64,
}

#[derive(Deserialize)]
struct FilterCase {
    settings: GensimFilterSettings,
    result: DictionaryState,
}

#[derive(Deserialize)]
struct GensimFilterSettings {
    no_below: u64,
    no_above: f64,
    keep_n: Option<usize>,
    keep_tokens: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Doc2BowCase {
    tokens: Vec<String>,
    bow: Vec<(u32, u32)>,
}

fn assert_same_state(dictionary: &Dictionary, expected: &DictionaryState, case: &str) {
    assert_eq!(
        dictionary.len(),
        expected.tokens.len(),
        "{case}: number of tokens"
    );
    let first_difference = dictionary
        .tokens()
        .iter()
        .zip(&expected.tokens)
        .position(|(actual, expected)| actual != expected);
    assert_eq!(
        first_difference, None,
        "{case}: first id whose token differs"
    );
    assert_eq!(dictionary.dfs(), expected.dfs, "{case}: dfs");
    assert_eq!(dictionary.cfs(), expected.cfs, "{case}: cfs");
    assert_eq!(dictionary.num_docs(), expected.num_docs, "{case}: num_docs");
    assert_eq!(dictionary.num_pos(), expected.num_pos, "{case}: num_pos");
    assert_eq!(dictionary.num_nnz(), expected.num_nnz, "{case}: num_nnz");
}

#[test]
fn dictionary_ids_match_gensim() {
    let reference: Reference = load_reference("dictionary.json");

    let dictionary = Dictionary::from_documents(&lee_texts().texts);

    assert_same_state(&dictionary, &reference.full, "Dictionary(texts)");
}

#[test]
fn filter_extremes_matches_gensim() {
    let reference: Reference = load_reference("dictionary.json");
    let full = Dictionary::from_documents(&lee_texts().texts);
    assert!(reference.filter_extremes.len() >= 5);

    for case in &reference.filter_extremes {
        let settings = FilterExtremes {
            no_below: case.settings.no_below,
            no_above: case.settings.no_above,
            keep_n: case.settings.keep_n,
            keep_tokens: case.settings.keep_tokens.clone().unwrap_or_default(),
        };
        let name = format!("{settings:?}");
        let mut dictionary = full.clone();

        // gensim accepts keep_n = 0 and removes everything; this crate rejects it instead.
        if settings.keep_n == Some(0) {
            assert!(case.result.tokens.is_empty(), "{name}");
            assert_eq!(
                dictionary.filter_extremes(&settings),
                Err(FilterExtremesError::KeepN)
            );
            continue;
        }

        let report = dictionary.filter_extremes(&settings).unwrap();

        assert_same_state(&dictionary, &case.result, &name);
        assert_eq!(report.tokens_before, full.len(), "{name}");
        assert_eq!(report.tokens_after, case.result.tokens.len(), "{name}");
        assert_eq!(
            report.removed_below + report.removed_above + report.removed_by_keep_n,
            report.removed(),
            "{name}: removal counts add up"
        );
        assert_eq!(
            report.removed_all(),
            case.result.tokens.is_empty(),
            "{name}"
        );
    }
}

#[test]
fn doc2bow_matches_gensim() {
    let reference: Reference = load_reference("dictionary.json");
    let dictionary = Dictionary::from_documents(&lee_texts().texts);

    assert_eq!(
        dictionary.doc2bow(&reference.doc2bow.tokens),
        reference.doc2bow.bow
    );
}

#[test]
fn dictionary_serde_round_trip() {
    let dictionary = Dictionary::from_documents(&lee_texts().texts);

    let json = serde_json::to_string(&dictionary).unwrap();
    let loaded: Dictionary = serde_json::from_str(&json).unwrap();

    assert_eq!(loaded, dictionary);
    assert_eq!(loaded.token2id("bushfire"), dictionary.token2id("bushfire"));
}
