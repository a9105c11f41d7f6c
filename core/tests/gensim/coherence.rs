use serde::Deserialize;
use topica_core::coherence::{CoherenceSettings, Measure, MissingWord, coherence};

use crate::{lee_texts, load_reference};

/// Agreement required with gensim, per topic and overall.
const TOLERANCE: f64 = 1e-3;

#[derive(Deserialize)]
struct Reference {
    topics: Vec<Vec<String>>,
    cases: Vec<CoherenceCase>,
}

#[derive(Deserialize)]
struct CoherenceCase {
    texts: String,
    measure: String,
    top_n: usize,
    window_size: Option<usize>,
    per_topic: Vec<f64>,
    overall: f64,
    missing_words: Vec<GensimMissingWord>,
}

#[derive(Deserialize)]
struct GensimMissingWord {
    topic: usize,
    word: String,
}

/// Returns the texts of the "filtered_texts" cases: `texts` without the tokens that
/// `filter_extremes` with default settings removes.
fn filtered_texts(texts: &[Vec<String>]) -> Vec<Vec<String>> {
    #[derive(Deserialize)]
    struct Filtered {
        filter_extremes: Vec<FilterCase>,
    }
    #[derive(Deserialize)]
    struct FilterCase {
        result: KeptTokens,
    }
    #[derive(Deserialize)]
    struct KeptTokens {
        tokens: Vec<String>,
    }

    let reference: Filtered = load_reference("dictionary.json");
    let kept: std::collections::HashSet<String> = reference.filter_extremes[0]
        .result
        .tokens
        .iter()
        .cloned()
        .collect();
    texts
        .iter()
        .map(|text| {
            text.iter()
                .filter(|token| kept.contains(*token))
                .cloned()
                .collect()
        })
        .collect()
}

#[test]
fn coherence_matches_gensim() {
    let reference: Reference = load_reference("coherence.json");
    let texts = lee_texts().texts;
    let filtered = filtered_texts(&texts);
    assert_eq!(reference.cases.len(), 22);

    let mut max_difference = 0.0_f64;
    for case in &reference.cases {
        let measure: Measure = case.measure.parse().unwrap();
        let settings = CoherenceSettings {
            measure,
            top_n: case.top_n,
            window_size: case.window_size,
        };
        let name = format!(
            "{} {measure} top_n={} window={:?}",
            case.texts, case.top_n, case.window_size
        );
        let corpus = if case.texts == "texts" {
            &texts
        } else {
            &filtered
        };

        let score = coherence(&reference.topics, corpus, &settings).unwrap();

        assert_eq!(score.per_topic.len(), case.per_topic.len(), "{name}");
        for (topic, (actual, expected)) in score.per_topic.iter().zip(&case.per_topic).enumerate() {
            let actual = actual.unwrap_or_else(|| panic!("{name}: topic {topic} has no value"));
            let difference = (actual - expected).abs();
            max_difference = max_difference.max(difference);
            assert!(
                difference < TOLERANCE,
                "{name}: topic {topic} is {actual}, gensim {expected}"
            );
        }
        let difference = (score.overall - case.overall).abs();
        max_difference = max_difference.max(difference);
        assert!(
            difference < TOLERANCE,
            "{name}: overall is {}, gensim {}",
            score.overall,
            case.overall
        );

        let expected_missing: Vec<MissingWord> = case
            .missing_words
            .iter()
            .map(|missing| MissingWord {
                topic: missing.topic,
                word: missing.word.clone(),
            })
            .collect();
        assert_eq!(
            score.missing_words, expected_missing,
            "{name}: missing words"
        );
    }
    eprintln!("largest difference from gensim: {max_difference:e}");
}

#[test]
fn missing_word_topic_is_reported() {
    let reference: Reference = load_reference("coherence.json");
    let texts = lee_texts().texts;

    let score = coherence(
        &reference.topics,
        &texts,
        &CoherenceSettings::new(Measure::CV),
    )
    .unwrap();

    let last_topic = reference.topics.len() - 1;
    assert_eq!(
        score.missing_words,
        [MissingWord {
            topic: last_topic,
            word: "xylophonist".into()
        }]
    );
    assert!(
        score
            .per_topic
            .iter()
            .all(|value| value.is_some_and(f64::is_finite))
    );
}
