//! Topic coherence: c_v, u_mass, c_npmi and c_uci with gensim's definitions.
//!
//! [`coherence`] reproduces gensim 4.4's `CoherenceModel(topics=..., texts=...,
//! dictionary=Dictionary(texts), coherence=..., topn=...)`, with the same windows, epsilon and
//! aggregation, so the values agree with gensim on the same topics and texts. The integration
//! test `core/tests/gensim.rs` checks every measure against values written by gensim.
//!
//! | measure  | counts from                         | segmentation | confirmation                                  |
//! |----------|-------------------------------------|--------------|-----------------------------------------------|
//! | `c_v`    | boolean sliding windows of 110      | one-set      | cosine of NPMI context vectors (gamma 1)      |
//! | `u_mass` | documents (boolean)                 | one-preceding| `ln((P(w', w*) + 1e-12) / P(w*))`             |
//! | `c_npmi` | boolean sliding windows of 10       | one-one      | `ln((P(w', w*) + 1e-12) / (P(w') P(w*))) / -ln(P(w', w*) + 1e-12)` |
//! | `c_uci`  | boolean sliding windows of 10       | one-one      | `ln((P(w', w*) + 1e-12) / (P(w') P(w*)))`     |
//!
//! Each topic's value is the mean over its segments, and the overall value is the mean over
//! topics.
//!
//! The caller chooses the texts: for the sliding-window measures, the tokenized documents
//! before dictionary filtering; for `u_mass`, the training documents after filtering.
//!
//! # Words missing from the texts
//!
//! gensim drops topic words that are missing from its dictionary, and with a dictionary built
//! from the texts those are exactly the words that never occur in them. This module does the
//! same (after cutting each topic to `top_n` words) and lists the dropped words in
//! [`CoherenceScore::missing_words`]. A topic left with too few words to form a segment (none
//! for `c_v`, fewer than two for the others) gets no value instead of gensim's NaN, and the
//! overall value is the mean over the topics that have one.

mod counts;
mod measures;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use self::counts::{CooccurrenceCounts, TopicWordIndex};

/// gensim's `EPSILON`, added to joint probabilities before taking logarithms.
pub const EPSILON: f64 = 1e-12;

/// A coherence measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Measure {
    /// `c_v` of Röder et al. (2015): indirect cosine similarity of NPMI context vectors.
    #[serde(rename = "c_v")]
    CV,
    /// `u_mass` of Mimno et al. (2011): log conditional probability over documents.
    #[serde(rename = "u_mass")]
    UMass,
    /// `c_npmi`: normalized pointwise mutual information over sliding windows.
    #[serde(rename = "c_npmi")]
    CNpmi,
    /// `c_uci` of Newman et al. (2010): pointwise mutual information over sliding windows.
    #[serde(rename = "c_uci")]
    CUci,
}

impl Measure {
    /// Every measure, in the order c_v, u_mass, c_npmi, c_uci.
    pub const ALL: [Measure; 4] = [Measure::CV, Measure::UMass, Measure::CNpmi, Measure::CUci];

    /// Returns gensim's name of the measure, such as `"c_v"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::CV => "c_v",
            Measure::UMass => "u_mass",
            Measure::CNpmi => "c_npmi",
            Measure::CUci => "c_uci",
        }
    }

    /// Returns gensim's default sliding window size: 110 for c_v, 10 for c_npmi and c_uci,
    /// and `None` for u_mass, which counts whole documents.
    pub fn default_window_size(self) -> Option<usize> {
        match self {
            Measure::CV => Some(110),
            Measure::UMass => None,
            Measure::CNpmi | Measure::CUci => Some(10),
        }
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Measure {
    type Err = CoherenceError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Measure::ALL
            .into_iter()
            .find(|measure| measure.as_str() == name)
            .ok_or_else(|| CoherenceError::UnknownMeasure(name.to_owned()))
    }
}

/// Settings of [`coherence`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoherenceSettings {
    /// The measure. Default: c_v.
    pub measure: Measure,
    /// Number of leading words of each topic to score (at least 1); shorter topics are scored
    /// whole. Default: 20, as gensim's `topn`.
    pub top_n: usize,
    /// Sliding window size in tokens (at least 1), or `None` for the measure's default
    /// ([`Measure::default_window_size`]). Ignored by u_mass. Default: `None`.
    pub window_size: Option<usize>,
}

impl Default for CoherenceSettings {
    fn default() -> Self {
        Self::new(Measure::CV)
    }
}

impl CoherenceSettings {
    /// Returns the default settings for `measure`.
    pub fn new(measure: Measure) -> Self {
        Self {
            measure,
            top_n: 20,
            window_size: None,
        }
    }

    /// Checks every field and returns the first invalid one.
    pub fn validate(&self) -> Result<(), CoherenceError> {
        if self.top_n == 0 {
            return Err(CoherenceError::TopN);
        }
        if self.window_size == Some(0) {
            return Err(CoherenceError::WindowSize);
        }
        Ok(())
    }

    /// Returns the window size used: `window_size`, the measure's default, or `None` for
    /// u_mass.
    pub fn effective_window_size(&self) -> Option<usize> {
        match self.measure {
            Measure::UMass => None,
            measure => self.window_size.or(measure.default_window_size()),
        }
    }
}

/// A topic word that never occurs in the texts, so it was left out of the topic's score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingWord {
    /// Index of the topic in the input.
    pub topic: usize,
    /// The word.
    pub word: String,
}

/// The result of [`coherence`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoherenceScore {
    /// The measure.
    pub measure: Measure,
    /// Number of leading words scored per topic.
    pub top_n: usize,
    /// Sliding window size used, or `None` for u_mass.
    pub window_size: Option<usize>,
    /// Mean of the topics' values, over the topics that have one. Always finite.
    pub overall: f64,
    /// Value of each topic, in input order: `None` when too few of its words occur in the
    /// texts (none for c_v, fewer than two for the others). Every value is finite.
    pub per_topic: Vec<Option<f64>>,
    /// Topic words that never occur in the texts, in topic order then word order.
    pub missing_words: Vec<MissingWord>,
}

/// An error from [`coherence`] or from parsing a [`Measure`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoherenceError {
    /// The measure name is not one of c_v, u_mass, c_npmi, c_uci.
    #[error("unknown coherence measure {0:?}: use one of c_v, u_mass, c_npmi, c_uci")]
    UnknownMeasure(String),
    /// `top_n` is zero.
    #[error("invalid top_n 0: score at least 1 word per topic (the default is 20)")]
    TopN,
    /// `window_size` is zero.
    #[error("invalid window_size 0: use at least 1 token, or none for the measure's default")]
    WindowSize,
    /// No topics were given.
    #[error("no topics to score: pass at least one topic")]
    NoTopics,
    /// A topic has no words.
    #[error("topic {topic} has no words: pass at least one word per topic")]
    EmptyTopic {
        /// Index of the topic.
        topic: usize,
    },
    /// No topic has enough words that occur in the texts, so there is nothing to average.
    #[error(
        "no topic has enough words in the texts to compute {measure} ({missing} of {total} topic words never occur): pass the texts the topics were trained on"
    )]
    NoScorableTopic {
        /// The measure.
        measure: Measure,
        /// Number of topic words (after cutting to `top_n`) that never occur in the texts.
        missing: usize,
        /// Number of topic words after cutting to `top_n`.
        total: usize,
    },
    /// There are more sliding windows than the 32-bit co-occurrence counters can hold.
    #[error(
        "the texts form {windows} windows, more than the 4294967295 the counters hold: score a sample of the texts"
    )]
    TooManyWindows {
        /// Number of windows the texts form.
        windows: u64,
    },
}

/// Computes the coherence of `topics` (each a list of words, best first) on `texts` (each a
/// list of tokens).
///
/// Each topic is cut to its first `settings.top_n` words. Words that never occur in `texts`
/// are left out and listed in [`CoherenceScore::missing_words`].
///
/// # Errors
///
/// Returns an error when `settings` is invalid, when there are no topics or an empty topic,
/// or when no topic has enough words in `texts` to be scored.
pub fn coherence<T, W, D, S>(
    topics: &[T],
    texts: &[D],
    settings: &CoherenceSettings,
) -> Result<CoherenceScore, CoherenceError>
where
    T: AsRef<[W]>,
    W: AsRef<str>,
    D: AsRef<[S]>,
    S: AsRef<str>,
{
    settings.validate()?;
    if topics.is_empty() {
        return Err(CoherenceError::NoTopics);
    }
    if let Some(topic) = topics.iter().position(|topic| topic.as_ref().is_empty()) {
        return Err(CoherenceError::EmptyTopic { topic });
    }

    let top_words: Vec<&[W]> = topics
        .iter()
        .map(|topic| {
            let words = topic.as_ref();
            &words[..words.len().min(settings.top_n)]
        })
        .collect();
    let index = TopicWordIndex::new(
        top_words
            .iter()
            .flat_map(|words| words.iter().map(AsRef::as_ref)),
    );
    let counts = match settings.effective_window_size() {
        Some(window_size) => CooccurrenceCounts::from_sliding_windows(&index, texts, window_size)?,
        None => CooccurrenceCounts::from_documents(&index, texts),
    };

    // Map each topic to the indices of its words that occur in the texts.
    let mut missing_words = Vec::new();
    let mut scorable_topics = Vec::with_capacity(top_words.len());
    for (topic, words) in top_words.iter().enumerate() {
        let mut ids = Vec::with_capacity(words.len());
        for word in words.iter().map(AsRef::as_ref) {
            match index.id(word).filter(|&id| counts.occurrences(id) > 0) {
                Some(id) => ids.push(id),
                None => missing_words.push(MissingWord {
                    topic,
                    word: word.to_owned(),
                }),
            }
        }
        scorable_topics.push(ids);
    }

    let per_topic: Vec<Option<f64>> = scorable_topics
        .iter()
        .map(|ids| measures::topic_coherence(settings.measure, ids, &counts))
        .collect();
    let values: Vec<f64> = per_topic.iter().flatten().copied().collect();
    if values.is_empty() {
        return Err(CoherenceError::NoScorableTopic {
            measure: settings.measure,
            missing: missing_words.len(),
            total: top_words.iter().map(|words| words.len()).sum(),
        });
    }

    Ok(CoherenceScore {
        measure: settings.measure,
        top_n: settings.top_n,
        window_size: settings.effective_window_size(),
        overall: measures::mean(&values),
        per_topic,
        missing_words,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[&str]) -> Vec<Vec<String>> {
        lines
            .iter()
            .map(|line| line.split_whitespace().map(str::to_owned).collect())
            .collect()
    }

    fn settings(measure: Measure) -> CoherenceSettings {
        CoherenceSettings::new(measure)
    }

    const CORPUS: [&str; 5] = [
        "apple banana cherry apple",
        "banana cherry date",
        "apple cherry",
        "date elder fig",
        "fig apple",
    ];

    #[test]
    fn measure_names_round_trip() {
        for measure in Measure::ALL {
            assert_eq!(measure.as_str().parse::<Measure>(), Ok(measure));
            assert_eq!(measure.to_string(), measure.as_str());
            let json = serde_json::to_string(&measure).unwrap();
            assert_eq!(json, format!("\"{measure}\""));
        }
        let error = "cv".parse::<Measure>().unwrap_err();
        assert!(error.to_string().contains("\"cv\""), "{error}");
    }

    #[test]
    fn every_measure_is_finite() {
        let topics = [
            vec!["apple", "banana", "cherry"],
            vec!["date", "fig", "elder"],
        ];
        for measure in Measure::ALL {
            let score = coherence(&topics, &texts(&CORPUS), &settings(measure)).unwrap();
            assert!(score.overall.is_finite(), "{measure}");
            assert_eq!(score.per_topic.len(), 2);
            assert!(
                score
                    .per_topic
                    .iter()
                    .all(|v| v.is_some_and(f64::is_finite)),
                "{measure}"
            );
            assert!(score.missing_words.is_empty());
        }
    }

    #[test]
    fn missing_word_is_reported_and_dropped() {
        let corpus = texts(&CORPUS);
        let with_missing = [vec!["apple", "zebra", "banana", "cherry"]];
        let without = [vec!["apple", "banana", "cherry"]];
        for measure in Measure::ALL {
            let score = coherence(&with_missing, &corpus, &settings(measure)).unwrap();
            let expected = coherence(&without, &corpus, &settings(measure)).unwrap();

            assert_eq!(score.overall, expected.overall, "{measure}");
            assert_eq!(
                score.missing_words,
                [MissingWord {
                    topic: 0,
                    word: "zebra".into()
                }]
            );
        }
    }

    #[test]
    fn all_words_missing_is_an_error() {
        let topics = [vec!["zebra", "yak"]];
        for measure in Measure::ALL {
            let error = coherence(&topics, &texts(&CORPUS), &settings(measure)).unwrap_err();
            assert_eq!(
                error,
                CoherenceError::NoScorableTopic {
                    measure,
                    missing: 2,
                    total: 2
                }
            );
        }
    }

    #[test]
    fn unscorable_topic_is_left_out_of_overall() {
        let corpus = texts(&CORPUS);
        let topics = [vec!["apple", "banana", "cherry"], vec!["zebra", "fig"]];
        let alone = [vec!["apple", "banana", "cherry"]];

        let score = coherence(&topics, &corpus, &settings(Measure::CNpmi)).unwrap();
        let expected = coherence(&alone, &corpus, &settings(Measure::CNpmi)).unwrap();

        assert_eq!(score.per_topic[1], None);
        assert_eq!(score.overall, expected.overall);
    }

    #[test]
    fn single_word_topic_scores_one_for_c_v() {
        // One word gives one segment comparing the word's context vector with itself.
        let score = coherence(
            &[vec!["apple", "zebra"]],
            &texts(&CORPUS),
            &settings(Measure::CV),
        )
        .unwrap();

        assert!((score.overall - 1.0).abs() < 1e-9, "{}", score.overall);
    }

    #[test]
    fn empty_texts_are_an_error() {
        let topics = [vec!["apple", "banana"]];
        let empty: Vec<Vec<String>> = Vec::new();
        for measure in Measure::ALL {
            let error = coherence(&topics, &empty, &settings(measure)).unwrap_err();
            assert!(
                matches!(error, CoherenceError::NoScorableTopic { .. }),
                "{measure}"
            );
            let error = coherence(&topics, &texts(&["", ""]), &settings(measure)).unwrap_err();
            assert!(
                matches!(error, CoherenceError::NoScorableTopic { .. }),
                "{measure}"
            );
        }
    }

    #[test]
    fn text_shorter_than_window_is_one_window() {
        // Window 110 covers each whole text, so each text is one window, as in gensim.
        let corpus = texts(&CORPUS);
        let topics = [vec!["apple", "banana"]];
        let window = CoherenceSettings {
            window_size: Some(110),
            ..settings(Measure::CUci)
        };
        let huge_window = CoherenceSettings {
            window_size: Some(1000),
            ..window
        };

        let short = coherence(&topics, &corpus, &window).unwrap();
        let long = coherence(&topics, &corpus, &huge_window).unwrap();

        // P(apple) = 3/5, P(banana) = 2/5, P(apple, banana) = 1/5, in both segment orders.
        let expected = ((0.2 + EPSILON) / (0.6 * 0.4)).ln();
        assert!(
            (short.overall - expected).abs() < 1e-12,
            "{}",
            short.overall
        );
        assert_eq!(short.overall, long.overall);
    }

    #[test]
    fn u_mass_matches_hand_computation() {
        let topics = [vec!["apple", "banana"]];

        let score = coherence(&topics, &texts(&CORPUS), &settings(Measure::UMass)).unwrap();

        // Segment (banana, apple): ln((P(banana, apple) + eps) / P(apple)) = ln((1/5) / (3/5)).
        let expected = ((1.0 / 5.0 + EPSILON) / (3.0 / 5.0)).ln();
        assert!(
            (score.overall - expected).abs() < 1e-12,
            "{}",
            score.overall
        );
    }

    #[test]
    fn top_n_cuts_topics() {
        let corpus = texts(&CORPUS);
        let long = [vec!["apple", "banana", "zebra"]];
        let cut = CoherenceSettings {
            top_n: 2,
            ..settings(Measure::UMass)
        };

        let score = coherence(&long, &corpus, &cut).unwrap();

        assert!(score.missing_words.is_empty());
        assert_eq!(score.top_n, 2);
    }

    #[test]
    fn invalid_input_is_rejected() {
        let corpus = texts(&CORPUS);
        let topics = [vec!["apple"]];
        let no_topics: [Vec<&str>; 0] = [];
        let zero_top_n = CoherenceSettings {
            top_n: 0,
            ..settings(Measure::CV)
        };
        let zero_window = CoherenceSettings {
            window_size: Some(0),
            ..settings(Measure::CV)
        };

        assert_eq!(
            coherence(&topics, &corpus, &zero_top_n),
            Err(CoherenceError::TopN)
        );
        assert_eq!(
            coherence(&topics, &corpus, &zero_window),
            Err(CoherenceError::WindowSize)
        );
        assert_eq!(
            coherence(&no_topics, &corpus, &settings(Measure::CV)),
            Err(CoherenceError::NoTopics)
        );
        assert_eq!(
            coherence(&[vec!["apple"], vec![]], &corpus, &settings(Measure::CV)),
            Err(CoherenceError::EmptyTopic { topic: 1 })
        );
    }
}
