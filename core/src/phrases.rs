//! Collocation detection: joins frequent word pairs such as `new york` into `new_york`.
//!
//! [`Phrases`] reproduces `gensim.models.Phrases` (gensim 4.4) with its default scorer,
//! `original_scorer` from Mikolov et al. (2013):
//!
//! ```text
//! score(a, b) = (count(a_b) - min_count) / (count(a) * count(b)) * len(vocab)
//! ```
//!
//! where `vocab` counts unigrams and bigrams together. A pair is a phrase when its score is
//! greater than `threshold`. Connector words (for example `of`) may sit inside a phrase
//! (`bank_of_america`) but never start or end one. The integration test `core/tests/gensim.rs`
//! checks vocabulary sizes, exported phrases and transformed documents against gensim.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

/// Settings of [`Phrases`], with gensim's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PhrasesSettings {
    /// Subtracted from every bigram count in the score, so rarer bigrams score lower (at
    /// least 1). Default: 5.
    pub min_count: u64,
    /// Score a pair must exceed to become a phrase (positive). Default: 10.0.
    pub threshold: f64,
    /// String that joins the words of a phrase (not empty). Default: `"_"`.
    pub delimiter: String,
    /// Words allowed inside a phrase but never at its start or end. gensim suggests
    /// `a an the for of with without at from to in on by and or` for English.
    /// Default: none.
    pub connector_words: BTreeSet<String>,
    /// Number of vocabulary entries (unigrams plus bigrams) above which rare entries are
    /// pruned while counting (at least 1). Default: 40,000,000, which needs several GB.
    pub max_vocab_size: usize,
}

impl Default for PhrasesSettings {
    fn default() -> Self {
        Self {
            min_count: 5,
            threshold: 10.0,
            delimiter: "_".to_owned(),
            connector_words: BTreeSet::new(),
            max_vocab_size: 40_000_000,
        }
    }
}

impl PhrasesSettings {
    /// Checks every field and returns the first invalid one.
    pub fn validate(&self) -> Result<(), PhrasesSettingsError> {
        if self.min_count == 0 {
            return Err(PhrasesSettingsError::MinCount);
        }
        if !(self.threshold > 0.0 && self.threshold.is_finite()) {
            return Err(PhrasesSettingsError::Threshold(self.threshold));
        }
        if self.delimiter.is_empty() {
            return Err(PhrasesSettingsError::Delimiter);
        }
        if self.max_vocab_size == 0 {
            return Err(PhrasesSettingsError::MaxVocabSize);
        }
        Ok(())
    }
}

/// An invalid [`PhrasesSettings`] field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PhrasesSettingsError {
    /// `min_count` is zero.
    #[error("invalid min_count 0: use at least 1 (the default is 5)")]
    MinCount,
    /// `threshold` is not a positive finite number.
    #[error(
        "invalid threshold {0}: the default scorer needs a positive finite threshold, such as 10.0"
    )]
    Threshold(f64),
    /// `delimiter` is empty, so a phrase would be indistinguishable from a single word.
    #[error("invalid delimiter \"\": use a non-empty string such as \"_\"")]
    Delimiter,
    /// `max_vocab_size` is zero.
    #[error("invalid max_vocab_size 0: use at least 1 (the default is 40000000)")]
    MaxVocabSize,
}

/// A phrase detector fitted on a stream of documents.
///
/// Fitting documents one by one with [`add_document`](Self::add_document) gives the same
/// model as gensim's `Phrases(documents)` on all of them at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PhrasesData", into = "PhrasesData")]
pub struct Phrases {
    settings: PhrasesSettings,
    /// Counts of unigrams and of bigrams (joined with the delimiter, connector words included).
    vocab: HashMap<String, u64>,
    /// Entries counted fewer times than this are dropped at the next pruning (gensim's
    /// `min_reduce` inside `_learn_vocab`).
    min_reduce: u64,
    /// Number of tokens fitted, connector words included.
    corpus_word_count: u64,
}

impl Phrases {
    /// Creates an empty detector.
    ///
    /// # Errors
    ///
    /// Returns the first invalid field of `settings`.
    pub fn new(settings: PhrasesSettings) -> Result<Self, PhrasesSettingsError> {
        settings.validate()?;
        Ok(Self {
            settings,
            vocab: HashMap::new(),
            min_reduce: 1,
            corpus_word_count: 0,
        })
    }

    /// Creates a detector and fits it on `documents`.
    ///
    /// # Errors
    ///
    /// Returns the first invalid field of `settings`.
    pub fn fit<D, S>(
        settings: PhrasesSettings,
        documents: &[D],
    ) -> Result<Self, PhrasesSettingsError>
    where
        D: AsRef<[S]>,
        S: AsRef<str>,
    {
        let mut phrases = Self::new(settings)?;
        for document in documents {
            phrases.add_document(document.as_ref());
        }
        Ok(phrases)
    }

    /// Returns the settings.
    pub fn settings(&self) -> &PhrasesSettings {
        &self.settings
    }

    /// Returns the number of vocabulary entries: distinct unigrams plus distinct bigrams.
    pub fn vocab_len(&self) -> usize {
        self.vocab.len()
    }

    /// Returns the number of tokens fitted, connector words included.
    pub fn corpus_word_count(&self) -> u64 {
        self.corpus_word_count
    }

    /// Counts the unigrams and bigrams of one document.
    ///
    /// Like gensim's `_learn_vocab`, every non-connector word is counted and forms a bigram
    /// with the previous non-connector word, connector words in between included. When the
    /// vocabulary exceeds `max_vocab_size` after a document, entries counted fewer than
    /// `n` times are dropped, where `n` starts at 1 and grows by one at each pruning.
    pub fn add_document<S: AsRef<str>>(&mut self, tokens: &[S]) {
        let connectors = &self.settings.connector_words;
        let delimiter = self.settings.delimiter.as_str();
        let mut start: Option<&str> = None;
        let mut in_between: Vec<&str> = Vec::new();
        let mut bigram = String::new();

        for token in tokens {
            let word = token.as_ref();
            if !connectors.contains(word) {
                increment(&mut self.vocab, word);
                if let Some(start_word) = start {
                    join_into(&mut bigram, delimiter, start_word, &in_between, word);
                    increment(&mut self.vocab, &bigram);
                }
                start = Some(word);
                in_between.clear();
            } else if start.is_some() {
                in_between.push(word);
            }
        }
        self.corpus_word_count += tokens.len() as u64;

        if self.vocab.len() > self.settings.max_vocab_size {
            let min_reduce = self.min_reduce;
            self.vocab.retain(|_, count| *count >= min_reduce);
            self.min_reduce += 1;
        }
    }

    /// Returns `tokens` with every detected phrase joined into one token, like gensim's
    /// `phrases[tokens]`.
    ///
    /// Reads left to right and joins greedily: once `a b` is a phrase, `b` cannot start
    /// another one, so `a b c` gives at most `a_b c`.
    pub fn apply<S: AsRef<str>>(&self, tokens: &[S]) -> Vec<String> {
        let connectors = &self.settings.connector_words;
        let mut output = Vec::with_capacity(tokens.len());
        let mut start: Option<&str> = None;
        let mut in_between: Vec<&str> = Vec::new();

        for token in tokens {
            let word = token.as_ref();
            if connectors.contains(word) {
                if start.is_some() {
                    in_between.push(word);
                } else {
                    output.push(word.to_owned());
                }
                continue;
            }

            let Some(start_word) = start else {
                start = non_empty(word);
                continue;
            };
            if let Some(phrase) = self.score_candidate(start_word, word, &in_between) {
                output.push(phrase.0);
                start = None;
            } else {
                output.push(start_word.to_owned());
                output.extend(in_between.iter().map(|&w| w.to_owned()));
                start = non_empty(word);
            }
            in_between.clear();
        }

        if let Some(start_word) = start {
            output.push(start_word.to_owned());
            output.extend(in_between.iter().map(|&w| w.to_owned()));
        }
        output
    }

    /// Returns every phrase in the vocabulary that scores above the threshold, with its score,
    /// like gensim's `export_phrases()`.
    pub fn export_phrases(&self) -> BTreeMap<String, f64> {
        let delimiter = self.settings.delimiter.as_str();
        let mut phrases = BTreeMap::new();
        for entry in self.vocab.keys() {
            let words: Vec<&str> = entry.split(delimiter).collect();
            let [first, middle @ .., last] = words.as_slice() else {
                continue;
            };
            if let Some((phrase, score)) = self.score_candidate(first, last, middle) {
                phrases.insert(phrase, score);
            }
        }
        phrases
    }

    /// Returns the joined phrase and its score when `a (in_between) b` is a phrase.
    fn score_candidate(&self, a: &str, b: &str, in_between: &[&str]) -> Option<(String, f64)> {
        let a_count = self.count(a).filter(|&count| count > 0)?;
        let b_count = self.count(b).filter(|&count| count > 0)?;
        let mut phrase = String::new();
        join_into(&mut phrase, &self.settings.delimiter, a, in_between, b);
        let phrase_count = self.count(&phrase).filter(|&count| count > 0)?;

        let score = original_score(
            a_count,
            b_count,
            phrase_count,
            self.vocab.len() as u64,
            self.settings.min_count,
        );
        (score > self.settings.threshold).then_some((phrase, score))
    }

    fn count(&self, entry: &str) -> Option<u64> {
        self.vocab.get(entry).copied()
    }
}

/// gensim's `original_scorer`, computed in the same order to give the same floating-point
/// result.
fn original_score(
    a_count: u64,
    b_count: u64,
    bigram_count: u64,
    len_vocab: u64,
    min_count: u64,
) -> f64 {
    let denominator = u128::from(a_count) * u128::from(b_count);
    let numerator = i128::from(bigram_count) - i128::from(min_count);
    numerator as f64 / denominator as f64 * len_vocab as f64
}

/// Returns `word` as the start of a candidate phrase, or `None` when it is empty.
///
/// NOTE: gensim tests the start word for truthiness, so an empty token never starts a phrase
/// and is dropped from the output unless it ends one. This is reproduced.
fn non_empty(word: &str) -> Option<&str> {
    Some(word).filter(|word| !word.is_empty())
}

fn increment(vocab: &mut HashMap<String, u64>, entry: &str) {
    if let Some(count) = vocab.get_mut(entry) {
        *count += 1;
    } else {
        vocab.insert(entry.to_owned(), 1);
    }
}

fn join_into(buffer: &mut String, delimiter: &str, first: &str, middle: &[&str], last: &str) {
    buffer.clear();
    buffer.push_str(first);
    for word in middle.iter().chain(std::iter::once(&last)) {
        buffer.push_str(delimiter);
        buffer.push_str(word);
    }
}

/// The serialized form of [`Phrases`]: the vocabulary sorted by entry, so equal models
/// serialize to equal bytes.
#[derive(Serialize, Deserialize)]
struct PhrasesData {
    settings: PhrasesSettings,
    vocab: BTreeMap<String, u64>,
    min_reduce: u64,
    corpus_word_count: u64,
}

impl From<Phrases> for PhrasesData {
    fn from(phrases: Phrases) -> Self {
        Self {
            settings: phrases.settings,
            vocab: phrases.vocab.into_iter().collect(),
            min_reduce: phrases.min_reduce,
            corpus_word_count: phrases.corpus_word_count,
        }
    }
}

impl TryFrom<PhrasesData> for Phrases {
    type Error = PhrasesSettingsError;

    fn try_from(data: PhrasesData) -> Result<Self, Self::Error> {
        data.settings.validate()?;
        Ok(Self {
            settings: data.settings,
            vocab: data.vocab.into_iter().collect(),
            min_reduce: data.min_reduce,
            corpus_word_count: data.corpus_word_count,
        })
    }
}

/// Returns gensim's `ENGLISH_CONNECTOR_WORDS`: articles, some prepositions and conjunctions.
pub fn english_connector_words() -> BTreeSet<String> {
    const WORDS: [&str; 15] = [
        "a", "an", "the", "for", "of", "with", "without", "at", "from", "to", "in", "on", "by",
        "and", "or",
    ];
    WORDS.iter().map(|&word| word.to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    fn fitted(settings: PhrasesSettings, texts: &[&str]) -> Phrases {
        let documents: Vec<Vec<String>> = texts.iter().map(|text| tokens(text)).collect();
        Phrases::fit(settings, &documents).unwrap()
    }

    fn low_threshold() -> PhrasesSettings {
        PhrasesSettings {
            min_count: 1,
            threshold: 1.0,
            ..PhrasesSettings::default()
        }
    }

    #[test]
    fn frequent_pair_becomes_phrase() {
        let phrases = fitted(
            low_threshold(),
            &["new york is big", "new york city", "york new", "big city"],
        );

        assert_eq!(
            phrases.apply(&tokens("in new york today")),
            tokens("in new_york today")
        );
    }

    #[test]
    fn vocab_counts_unigrams_and_bigrams() {
        let phrases = fitted(PhrasesSettings::default(), &["a b a b", "b"]);

        // Unigrams a, b and bigrams a_b, b_a.
        assert_eq!(phrases.vocab_len(), 4);
        assert_eq!(phrases.corpus_word_count(), 5);
    }

    #[test]
    fn connector_words_join_inside_phrase() {
        let settings = PhrasesSettings {
            connector_words: english_connector_words(),
            ..low_threshold()
        };
        let phrases = fitted(
            settings,
            &[
                "bank of america",
                "the bank of america",
                "bank of america",
                "river side",
            ],
        );

        let output = phrases.apply(&tokens("the bank of america of"));

        assert_eq!(output, tokens("the bank_of_america of"));
    }

    #[test]
    fn greedy_left_to_right() {
        let phrases = fitted(low_threshold(), &["a b c", "a b c", "x y"]);

        assert_eq!(phrases.apply(&tokens("a b c")), tokens("a_b c"));
    }

    #[test]
    fn empty_token_is_dropped_like_gensim() {
        let documents = vec![vec!["a", "", "b"], vec!["a", "", "b"], vec!["x", ""]];
        let phrases = Phrases::fit(low_threshold(), &documents).unwrap();

        // gensim 4.4 returns ['a_', 'b', 'c'] and ['x'] for these inputs.
        assert_eq!(phrases.apply(&["a", "", "b", "", "c"]), ["a_", "b", "c"]);
        assert_eq!(phrases.apply(&["", "x"]), ["x"]);
    }

    #[test]
    fn empty_input_gives_empty_output() {
        let phrases = fitted(low_threshold(), &["a b"]);

        assert!(phrases.apply::<String>(&[]).is_empty());
        assert!(
            Phrases::new(PhrasesSettings::default())
                .unwrap()
                .export_phrases()
                .is_empty()
        );
    }

    #[test]
    fn pruning_drops_rare_entries() {
        let settings = PhrasesSettings {
            max_vocab_size: 3,
            ..low_threshold()
        };
        // After the first document the vocabulary contains a, b, c, a_b, b_c (5 > 3) but pruning
        // keeps count >= 1; after the second it drops entries counted once.
        let phrases = fitted(settings, &["a b c", "a b"]);

        assert_eq!(phrases.vocab_len(), 3);
        assert_eq!(phrases.min_reduce, 3);
    }

    #[test]
    fn invalid_settings_are_rejected() {
        let cases = [
            (
                PhrasesSettings {
                    min_count: 0,
                    ..Default::default()
                },
                "min_count 0",
            ),
            (
                PhrasesSettings {
                    threshold: -1.0,
                    ..Default::default()
                },
                "threshold -1",
            ),
            (
                PhrasesSettings {
                    threshold: f64::NAN,
                    ..Default::default()
                },
                "threshold NaN",
            ),
            (
                PhrasesSettings {
                    delimiter: String::new(),
                    ..Default::default()
                },
                "delimiter",
            ),
            (
                PhrasesSettings {
                    max_vocab_size: 0,
                    ..Default::default()
                },
                "max_vocab_size 0",
            ),
        ];
        for (settings, quoted) in cases {
            let error = Phrases::new(settings).unwrap_err();
            assert!(error.to_string().contains(quoted), "{error}");
        }
    }

    #[test]
    fn serde_round_trip_keeps_phrases() {
        let phrases = fitted(low_threshold(), &["new york", "new york", "old york"]);

        let json = serde_json::to_string(&phrases).unwrap();
        let loaded: Phrases = serde_json::from_str(&json).unwrap();

        assert_eq!(loaded, phrases);
        assert_eq!(loaded.export_phrases(), phrases.export_phrases());
    }
}
