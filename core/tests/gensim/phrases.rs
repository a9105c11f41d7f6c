use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use topica_core::phrases::{Phrases, PhrasesSettings, english_connector_words};

use crate::{lee_texts, load_reference};

#[derive(Deserialize)]
struct Reference {
    phrased_docs_stored: usize,
    cases: Vec<PhrasesCase>,
}

#[derive(Deserialize)]
struct PhrasesCase {
    name: String,
    input: String,
    settings: GensimPhrasesSettings,
    vocab_len: usize,
    corpus_word_count: u64,
    phrases: BTreeMap<String, f64>,
    phrased: Vec<Vec<String>>,
    phrase_token_count: usize,
}

#[derive(Deserialize)]
struct GensimPhrasesSettings {
    min_count: Option<u64>,
    threshold: Option<f64>,
    delimiter: Option<String>,
    connector_words: Option<BTreeSet<String>>,
    max_vocab_size: Option<usize>,
}

impl GensimPhrasesSettings {
    fn to_settings(&self) -> PhrasesSettings {
        let defaults = PhrasesSettings::default();
        PhrasesSettings {
            min_count: self.min_count.unwrap_or(defaults.min_count),
            threshold: self.threshold.unwrap_or(defaults.threshold),
            delimiter: self.delimiter.clone().unwrap_or(defaults.delimiter),
            connector_words: self.connector_words.clone().unwrap_or_default(),
            max_vocab_size: self.max_vocab_size.unwrap_or(defaults.max_vocab_size),
        }
    }
}

#[test]
fn phrases_match_gensim() {
    let reference: Reference = load_reference("phrases.json");
    let lee = lee_texts();
    assert_eq!(reference.cases.len(), 4);

    for case in &reference.cases {
        let name = &case.name;
        let documents = if case.input == "raw" {
            &lee.raw
        } else {
            &lee.texts
        };
        let phrases = Phrases::fit(case.settings.to_settings(), documents).unwrap();

        assert_eq!(
            phrases.vocab_len(),
            case.vocab_len,
            "{name}: vocabulary size"
        );
        assert_eq!(
            phrases.corpus_word_count(),
            case.corpus_word_count,
            "{name}"
        );

        let exported = phrases.export_phrases();
        let expected: Vec<&String> = case.phrases.keys().collect();
        assert_eq!(
            exported.keys().collect::<Vec<_>>(),
            expected,
            "{name}: exported phrases"
        );
        for (phrase, score) in &exported {
            let expected = case.phrases[phrase];
            assert!(
                (score - expected).abs() <= 1e-9 * expected.abs(),
                "{name}: score of {phrase} is {score}, gensim {expected}"
            );
        }

        for (index, expected) in case.phrased.iter().enumerate() {
            assert_eq!(
                &phrases.apply(&documents[index]),
                expected,
                "{name}: document {index}"
            );
        }
        assert_eq!(case.phrased.len(), reference.phrased_docs_stored);

        let delimiter = &phrases.settings().delimiter;
        let phrase_tokens: usize = documents
            .iter()
            .map(|document| {
                let output = phrases.apply(document);
                output
                    .iter()
                    .filter(|token| token.contains(delimiter.as_str()))
                    .count()
            })
            .sum();
        assert_eq!(
            phrase_tokens, case.phrase_token_count,
            "{name}: phrase tokens in all documents"
        );
    }
}

#[test]
fn english_connector_words_match_gensim() {
    let reference: Reference = load_reference("phrases.json");

    let from_gensim = reference.cases[1].settings.connector_words.clone().unwrap();

    assert_eq!(english_connector_words(), from_gensim);
}
