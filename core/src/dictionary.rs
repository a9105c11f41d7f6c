//! The vocabulary: a mapping between tokens and integer ids, with gensim's semantics.
//!
//! [`Dictionary`] reproduces `gensim.corpora.Dictionary` (gensim 4.4): the same ids for the same
//! documents, the same document and collection frequencies, and the same
//! [`filter_extremes`](Dictionary::filter_extremes) result, including tie-breaking and the
//! renumbering of the ids that remain. The integration test `core/tests/gensim.rs` checks this
//! against values written by gensim itself.

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

/// Vocabulary size above which [`Dictionary::from_documents`] prunes rare tokens, as gensim's
/// `Dictionary(documents)` does with its default `prune_at=2000000`.
///
/// The check runs before every 10,000th document and keeps the `PRUNE_AT` tokens with the
/// highest document frequency, so a corpus with more distinct tokens loses some of them.
pub const PRUNE_AT: usize = 2_000_000;

/// Interval, in documents, between the vocabulary size checks of [`Dictionary::from_documents`].
const PRUNE_CHECK_EVERY: usize = 10_000;

/// A mapping between tokens and dense ids `0..len()`, with corpus statistics.
///
/// Ids are assigned in gensim's order: each new document's unseen tokens get the next ids in
/// the order of their code points. Serialized as the token list in id order plus the
/// statistics, so the vocabulary can travel inside a model artifact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DictionaryData", into = "DictionaryData")]
pub struct Dictionary {
    id2token: Vec<String>,
    token2id: HashMap<String, u32>,
    dfs: Vec<u64>,
    cfs: Vec<u64>,
    num_docs: u64,
    num_pos: u64,
    num_nnz: u64,
}

impl Dictionary {
    /// Creates an empty dictionary.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a dictionary from tokenized documents, like gensim's `Dictionary(documents)`.
    ///
    /// Prunes the vocabulary to [`PRUNE_AT`] tokens when it grows larger, at the same points
    /// as gensim does.
    pub fn from_documents<I, D, S>(documents: I) -> Self
    where
        I: IntoIterator<Item = D>,
        D: AsRef<[S]>,
        S: AsRef<str>,
    {
        let mut dictionary = Self::new();
        for (index, document) in documents.into_iter().enumerate() {
            if index % PRUNE_CHECK_EVERY == 0 && dictionary.len() > PRUNE_AT {
                dictionary.keep_most_frequent(PRUNE_AT);
            }
            dictionary.add_document(document.as_ref());
        }
        dictionary
    }

    /// Adds one document: assigns ids to its new tokens, updates the statistics and returns
    /// its bag of words (gensim's `doc2bow(document, allow_update=True)`).
    pub fn add_document<S: AsRef<str>>(&mut self, tokens: &[S]) -> Vec<(u32, u32)> {
        let counts = count_tokens(tokens);

        // gensim gives the new tokens of a document the next ids in sorted token order.
        let mut new_tokens: Vec<&str> = counts
            .keys()
            .copied()
            .filter(|token| !self.token2id.contains_key(*token))
            .collect();
        new_tokens.sort_unstable();
        for token in new_tokens {
            self.push_token(token.to_owned(), 0, 0);
        }

        let bow = self.bow_from_counts(&counts);
        self.num_docs += 1;
        self.num_pos += tokens.len() as u64;
        self.num_nnz += bow.len() as u64;
        for &(id, count) in &bow {
            self.dfs[id as usize] += 1;
            self.cfs[id as usize] += u64::from(count);
        }
        bow
    }

    /// Converts a document to a bag of words: `(id, count)` pairs sorted by id.
    ///
    /// Tokens that are not in the dictionary are ignored.
    pub fn doc2bow<S: AsRef<str>>(&self, tokens: &[S]) -> Vec<(u32, u32)> {
        self.bow_from_counts(&count_tokens(tokens))
    }

    /// Returns the id of `token`, or `None` when it is not in the dictionary.
    pub fn token2id(&self, token: &str) -> Option<u32> {
        self.token2id.get(token).copied()
    }

    /// Returns the token with id `id`, or `None` when `id >= len()`.
    pub fn id2token(&self, id: u32) -> Option<&str> {
        self.id2token.get(id as usize).map(String::as_str)
    }

    /// Returns all tokens in id order, so `tokens()[id]` is the token with that id.
    pub fn tokens(&self) -> &[String] {
        &self.id2token
    }

    /// Returns the document frequencies indexed by id: how many documents contain each token.
    pub fn dfs(&self) -> &[u64] {
        &self.dfs
    }

    /// Returns the collection frequencies indexed by id: how often each token occurs in total.
    pub fn cfs(&self) -> &[u64] {
        &self.cfs
    }

    /// Returns the number of documents added.
    pub fn num_docs(&self) -> u64 {
        self.num_docs
    }

    /// Returns the number of tokens added, counting every occurrence, known or not.
    ///
    /// Like gensim, filtering leaves this count unchanged.
    pub fn num_pos(&self) -> u64 {
        self.num_pos
    }

    /// Returns the sum over added documents of their number of distinct tokens.
    ///
    /// Like gensim, filtering leaves this count unchanged.
    pub fn num_nnz(&self) -> u64 {
        self.num_nnz
    }

    /// Returns the number of tokens in the dictionary.
    pub fn len(&self) -> usize {
        self.id2token.len()
    }

    /// Returns `true` when the dictionary has no tokens.
    pub fn is_empty(&self) -> bool {
        self.id2token.is_empty()
    }

    /// Removes rare and frequent tokens, like gensim's `filter_extremes`, and renumbers the
    /// remaining tokens `0..len()` in their previous id order.
    ///
    /// A token stays when `no_below <= df <= floor(no_above * num_docs)` or when it is in
    /// `keep_tokens`. Of those, the `keep_n` with the highest document frequency stay
    /// (`keep_tokens` rank first). Ties keep the lower id, as gensim's stable sort does.
    ///
    /// # Errors
    ///
    /// Returns the first invalid field of `settings`; the dictionary is then unchanged.
    pub fn filter_extremes(
        &mut self,
        settings: &FilterExtremes,
    ) -> Result<FilterReport, FilterExtremesError> {
        settings.validate()?;

        // gensim truncates the product, so `no_above = 0.5` of 301 documents allows 150.
        let no_above_abs = (settings.no_above * self.num_docs as f64) as u64;
        let keep_ids: HashSet<u32> = settings
            .keep_tokens
            .iter()
            .filter_map(|token| self.token2id(token))
            .collect();

        let mut report = FilterReport {
            tokens_before: self.len(),
            tokens_after: 0,
            removed_below: 0,
            removed_above: 0,
            removed_by_keep_n: 0,
            no_above_abs,
        };
        let mut good_ids: Vec<u32> = Vec::with_capacity(self.len());
        for (id, &df) in self.dfs.iter().enumerate() {
            let id = id as u32;
            if keep_ids.contains(&id) || (settings.no_below <= df && df <= no_above_abs) {
                good_ids.push(id);
            } else if df < settings.no_below {
                report.removed_below += 1;
            } else {
                report.removed_above += 1;
            }
        }

        // A stable sort by descending rank keeps ties in id order, like Python's
        // `list.sort(key=..., reverse=True)`.
        let rank = |id: u32| {
            if keep_ids.contains(&id) {
                self.num_docs
            } else {
                self.dfs[id as usize]
            }
        };
        good_ids.sort_by_key(|&id| Reverse(rank(id)));
        if let Some(keep_n) = settings.keep_n {
            report.removed_by_keep_n = good_ids.len().saturating_sub(keep_n);
            good_ids.truncate(keep_n);
        }

        self.retain_ids(good_ids);
        report.tokens_after = self.len();
        Ok(report)
    }

    /// Keeps the `keep_n` tokens with the highest document frequency, like gensim's
    /// `filter_extremes(no_below=0, no_above=1.0, keep_n=keep_n)`.
    fn keep_most_frequent(&mut self, keep_n: usize) {
        let mut ids: Vec<u32> = (0..self.len() as u32).collect();
        ids.sort_by_key(|&id| Reverse(self.dfs[id as usize]));
        ids.truncate(keep_n);
        self.retain_ids(ids);
    }

    /// Keeps only `ids` and renumbers them in ascending order of their old ids, like gensim's
    /// `filter_tokens(good_ids=...)` followed by `compactify()`.
    fn retain_ids(&mut self, mut ids: Vec<u32>) {
        ids.sort_unstable();
        ids.dedup();

        let old_tokens = std::mem::take(&mut self.id2token);
        let old_dfs = std::mem::take(&mut self.dfs);
        let old_cfs = std::mem::take(&mut self.cfs);
        let mut old_tokens: Vec<Option<String>> = old_tokens.into_iter().map(Some).collect();
        self.token2id.clear();
        for old_id in ids {
            let old_id = old_id as usize;
            if let Some(token) = old_tokens[old_id].take() {
                self.push_token(token, old_dfs[old_id], old_cfs[old_id]);
            }
        }
    }

    fn push_token(&mut self, token: String, df: u64, cf: u64) {
        let id = self.id2token.len() as u32;
        self.token2id.insert(token.clone(), id);
        self.id2token.push(token);
        self.dfs.push(df);
        self.cfs.push(cf);
    }

    fn bow_from_counts(&self, counts: &HashMap<&str, u32>) -> Vec<(u32, u32)> {
        let mut bow: Vec<(u32, u32)> = counts
            .iter()
            .filter_map(|(token, &count)| self.token2id(token).map(|id| (id, count)))
            .collect();
        bow.sort_unstable();
        bow
    }
}

fn count_tokens<S: AsRef<str>>(tokens: &[S]) -> HashMap<&str, u32> {
    let mut counts: HashMap<&str, u32> = HashMap::with_capacity(tokens.len());
    for token in tokens {
        *counts.entry(token.as_ref()).or_insert(0) += 1;
    }
    counts
}

/// Settings of [`Dictionary::filter_extremes`], with gensim's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilterExtremes {
    /// Minimum number of documents a token must occur in to stay (absolute count).
    /// Default: 5.
    pub no_below: u64,
    /// Maximum fraction of documents a token may occur in to stay, inclusive, in `(0, 1]`.
    /// The cap in documents is `floor(no_above * num_docs)`. Default: 0.5.
    pub no_above: f64,
    /// Number of most frequent tokens to keep after the two bounds above, or `None` to keep
    /// all of them. Default: `Some(100000)`.
    pub keep_n: Option<usize>,
    /// Tokens that stay whatever their frequency and that rank first for `keep_n`. Tokens not
    /// in the dictionary are ignored. Default: none.
    pub keep_tokens: Vec<String>,
}

impl Default for FilterExtremes {
    fn default() -> Self {
        Self {
            no_below: 5,
            no_above: 0.5,
            keep_n: Some(100_000),
            keep_tokens: Vec::new(),
        }
    }
}

impl FilterExtremes {
    /// Checks every field and returns the first invalid one.
    pub fn validate(&self) -> Result<(), FilterExtremesError> {
        if !(self.no_above > 0.0 && self.no_above <= 1.0) {
            return Err(FilterExtremesError::NoAbove(self.no_above));
        }
        if self.keep_n == Some(0) {
            return Err(FilterExtremesError::KeepN);
        }
        Ok(())
    }
}

/// An invalid [`FilterExtremes`] field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FilterExtremesError {
    /// `no_above` is not a fraction in `(0, 1]`.
    #[error(
        "invalid no_above {0}: it is a fraction of documents in (0, 1]; use 1.0 to keep tokens that occur in every document"
    )]
    NoAbove(f64),
    /// `keep_n` is zero, which would remove every token.
    #[error("invalid keep_n 0: it would remove every token; use at least 1, or none to keep all")]
    KeepN,
}

/// Counts of the tokens that [`Dictionary::filter_extremes`] kept and removed.
///
/// A token below `no_below` and kept by neither bound is counted in `removed_below` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterReport {
    /// Number of tokens before filtering.
    pub tokens_before: usize,
    /// Number of tokens after filtering.
    pub tokens_after: usize,
    /// Tokens removed because they occur in fewer than `no_below` documents.
    pub removed_below: usize,
    /// Tokens removed because they occur in more than `no_above_abs` documents.
    pub removed_above: usize,
    /// Tokens that passed both bounds but fell outside the `keep_n` most frequent.
    pub removed_by_keep_n: usize,
    /// The cap in documents derived from `no_above`: `floor(no_above * num_docs)`.
    pub no_above_abs: u64,
}

impl FilterReport {
    /// Returns the number of tokens removed.
    pub fn removed(&self) -> usize {
        self.tokens_before - self.tokens_after
    }

    /// Returns `true` when filtering removed every token of a non-empty dictionary.
    pub fn removed_all(&self) -> bool {
        self.tokens_before > 0 && self.tokens_after == 0
    }
}

impl fmt::Display for FilterReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "kept {} of {} tokens: {} in too few documents, {} in more than {} documents, {} beyond keep_n",
            self.tokens_after,
            self.tokens_before,
            self.removed_below,
            self.removed_above,
            self.no_above_abs,
            self.removed_by_keep_n
        )
    }
}

/// The serialized form of a [`Dictionary`]: tokens in id order and per-id statistics.
#[derive(Serialize, Deserialize)]
struct DictionaryData {
    tokens: Vec<String>,
    dfs: Vec<u64>,
    cfs: Vec<u64>,
    num_docs: u64,
    num_pos: u64,
    num_nnz: u64,
}

impl From<Dictionary> for DictionaryData {
    fn from(dictionary: Dictionary) -> Self {
        Self {
            tokens: dictionary.id2token,
            dfs: dictionary.dfs,
            cfs: dictionary.cfs,
            num_docs: dictionary.num_docs,
            num_pos: dictionary.num_pos,
            num_nnz: dictionary.num_nnz,
        }
    }
}

impl TryFrom<DictionaryData> for Dictionary {
    type Error = String;

    fn try_from(data: DictionaryData) -> Result<Self, Self::Error> {
        let len = data.tokens.len();
        if data.dfs.len() != len || data.cfs.len() != len {
            return Err(format!(
                "invalid dictionary: {len} tokens but {} dfs and {} cfs; each list needs one entry per token",
                data.dfs.len(),
                data.cfs.len()
            ));
        }

        let mut dictionary = Dictionary {
            num_docs: data.num_docs,
            num_pos: data.num_pos,
            num_nnz: data.num_nnz,
            ..Dictionary::default()
        };
        for ((token, df), cf) in data.tokens.into_iter().zip(data.dfs).zip(data.cfs) {
            if dictionary.token2id.contains_key(&token) {
                return Err(format!(
                    "invalid dictionary: token {token:?} occurs twice; each token needs one id"
                ));
            }
            dictionary.push_token(token, df, cf);
        }
        Ok(dictionary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(texts: &[&str]) -> Vec<Vec<String>> {
        texts
            .iter()
            .map(|text| text.split_whitespace().map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn ids_follow_gensim_order() {
        let dictionary = Dictionary::from_documents(docs(&["máma mele maso", "ema má máma"]));

        // gensim 4.4: {'maso': 0, 'mele': 1, 'máma': 2, 'ema': 3, 'má': 4}
        assert_eq!(dictionary.tokens(), ["maso", "mele", "máma", "ema", "má"]);
        assert_eq!(dictionary.dfs(), [1, 1, 2, 1, 1]);
        assert_eq!(dictionary.num_docs(), 2);
        assert_eq!(dictionary.num_pos(), 6);
    }

    #[test]
    fn doc2bow_ignores_unknown_tokens() {
        let dictionary = Dictionary::from_documents(docs(&["a b c", "c d"]));

        let bow = dictionary.doc2bow(&["d", "x", "a", "d"]);

        assert_eq!(bow, [(0, 1), (3, 2)]);
        assert_eq!(dictionary.token2id("x"), None);
        assert_eq!(dictionary.id2token(3), Some("d"));
        assert_eq!(dictionary.id2token(4), None);
    }

    #[test]
    fn empty_documents_count_as_documents() {
        let dictionary = Dictionary::from_documents(docs(&["", "a", ""]));

        assert_eq!(dictionary.len(), 1);
        assert_eq!(dictionary.num_docs(), 3);
        assert!(!dictionary.is_empty());
        assert!(Dictionary::new().is_empty());
    }

    #[test]
    fn no_above_one_is_inclusive() {
        let mut dictionary = Dictionary::from_documents(docs(&["a b", "a c", "a"]));
        let settings = FilterExtremes {
            no_below: 1,
            no_above: 1.0,
            keep_n: None,
            keep_tokens: Vec::new(),
        };

        let report = dictionary.filter_extremes(&settings).unwrap();

        assert_eq!(dictionary.tokens(), ["a", "b", "c"]);
        assert_eq!(report.removed(), 0);
    }

    #[test]
    fn no_above_cap_is_truncated() {
        // 0.5 * 3 documents = 1.5, truncated to 1, so "a" (df 2) goes.
        let mut dictionary = Dictionary::from_documents(docs(&["a b", "a c", "d"]));
        let settings = FilterExtremes {
            no_below: 1,
            ..FilterExtremes::default()
        };

        let report = dictionary.filter_extremes(&settings).unwrap();

        assert_eq!(dictionary.tokens(), ["b", "c", "d"]);
        assert_eq!(report.no_above_abs, 1);
        assert_eq!(report.removed_above, 1);
    }

    #[test]
    fn keep_tokens_survive_every_bound() {
        let mut dictionary =
            Dictionary::from_documents(docs(&["a b rare", "a b", "a b", "a c", "a c"]));
        let settings = FilterExtremes {
            no_below: 2,
            no_above: 0.5,
            keep_n: Some(2),
            keep_tokens: vec!["rare".into(), "a".into(), "missing".into()],
        };

        let report = dictionary.filter_extremes(&settings).unwrap();

        // "a" is above no_above and "rare" below no_below, but both are kept and rank first,
        // so keep_n = 2 leaves no room for "c". "b" (df 3) is above the cap of 2 documents.
        assert_eq!(dictionary.tokens(), ["a", "rare"]);
        assert_eq!(dictionary.dfs(), [5, 1]);
        assert_eq!(report.removed_by_keep_n, 1);
        assert_eq!(report.removed_above, 1);
    }

    #[test]
    fn keep_n_ties_keep_lower_ids() {
        let mut dictionary = Dictionary::from_documents(docs(&["d c b a", "x"]));
        let settings = FilterExtremes {
            no_below: 1,
            no_above: 1.0,
            keep_n: Some(2),
            keep_tokens: Vec::new(),
        };

        dictionary.filter_extremes(&settings).unwrap();

        assert_eq!(dictionary.tokens(), ["a", "b"]);
        assert_eq!(dictionary.token2id("b"), Some(1));
    }

    #[test]
    fn filtering_everything_is_reported() {
        let mut dictionary = Dictionary::from_documents(docs(&["a b", "c"]));

        let report = dictionary
            .filter_extremes(&FilterExtremes::default())
            .unwrap();

        assert!(dictionary.is_empty());
        assert!(report.removed_all());
        assert_eq!(report.removed_below, 3);
        assert_eq!(dictionary.num_docs(), 2);
    }

    #[test]
    fn invalid_settings_are_rejected() {
        for no_above in [0.0, -0.1, 1.5, f64::NAN] {
            let settings = FilterExtremes {
                no_above,
                ..FilterExtremes::default()
            };
            let error = settings.validate().unwrap_err();
            assert!(
                matches!(error, FilterExtremesError::NoAbove(_)),
                "{no_above}"
            );
            assert!(error.to_string().contains(&no_above.to_string()));
        }

        let settings = FilterExtremes {
            keep_n: Some(0),
            ..FilterExtremes::default()
        };
        assert_eq!(settings.validate(), Err(FilterExtremesError::KeepN));
    }

    #[test]
    fn invalid_settings_leave_dictionary_unchanged() {
        let mut dictionary = Dictionary::from_documents(docs(&["a b"]));
        let settings = FilterExtremes {
            no_above: 2.0,
            ..FilterExtremes::default()
        };

        assert!(dictionary.filter_extremes(&settings).is_err());
        assert_eq!(dictionary.len(), 2);
    }

    #[test]
    fn serde_round_trip_keeps_lookups() {
        let dictionary = Dictionary::from_documents(docs(&["b a", "c a"]));

        let json = serde_json::to_string(&dictionary).unwrap();
        let loaded: Dictionary = serde_json::from_str(&json).unwrap();

        assert_eq!(loaded, dictionary);
        assert_eq!(loaded.token2id("c"), Some(2));
    }

    #[test]
    fn deserialize_rejects_duplicate_tokens() {
        let json =
            r#"{"tokens":["a","a"],"dfs":[1,1],"cfs":[1,1],"num_docs":1,"num_pos":2,"num_nnz":1}"#;

        let error = serde_json::from_str::<Dictionary>(json).unwrap_err();

        assert!(error.to_string().contains("occurs twice"), "{error}");
    }
}
