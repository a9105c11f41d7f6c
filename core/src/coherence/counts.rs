//! Occurrence and co-occurrence counts of topic words, over sliding windows or documents.
//!
//! Only topic words are tracked: each gets a small integer id, every other token maps to
//! [`OTHER`], and pair counts live in a dense triangular table over the topic words.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::CoherenceError;

/// Id of a token that is not a topic word.
const OTHER: u32 = u32::MAX;

/// The ids of the distinct topic words, `0..len()` in order of first appearance.
pub(super) struct TopicWordIndex<'a> {
    ids: HashMap<&'a str, u32, BuildHasherDefault<FxHasher>>,
}

impl<'a> TopicWordIndex<'a> {
    pub(super) fn new(words: impl Iterator<Item = &'a str>) -> Self {
        let mut ids: HashMap<&'a str, u32, BuildHasherDefault<FxHasher>> = HashMap::default();
        for word in words {
            let next = ids.len() as u32;
            ids.entry(word).or_insert(next);
        }
        Self { ids }
    }

    pub(super) fn id(&self, word: &str) -> Option<u32> {
        self.ids.get(word).copied()
    }

    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    /// Writes the id of each token into `ids`, [`OTHER`] for tokens that are not topic words.
    fn map_tokens<S: AsRef<str>>(&self, tokens: &[S], ids: &mut Vec<u32>) {
        ids.clear();
        ids.extend(tokens.iter().map(|token| self.id(token.as_ref()).unwrap_or(OTHER)));
    }
}

/// How many counting units (windows or documents) contain each topic word and each pair.
pub(super) struct CooccurrenceCounts {
    /// Number of windows or documents, including those without topic words.
    units: u64,
    occurrences: Vec<u64>,
    /// Pair counts for ids `a < b` at `b * (b - 1) / 2 + a`. 32 bits, like gensim's counts.
    pairs: Vec<u32>,
}

impl CooccurrenceCounts {
    fn new(words: usize) -> Self {
        Self {
            units: 0,
            occurrences: vec![0; words],
            pairs: vec![0; words * words.saturating_sub(1) / 2],
        }
    }

    /// Returns the number of windows or documents counted.
    pub(super) fn units(&self) -> u64 {
        self.units
    }

    /// Returns the number of windows or documents that contain word `id`.
    pub(super) fn occurrences(&self, id: u32) -> u64 {
        self.occurrences[id as usize]
    }

    /// Returns the number of windows or documents that contain both words, or the
    /// occurrences of the word when `a == b`.
    pub(super) fn cooccurrences(&self, a: u32, b: u32) -> u64 {
        if a == b {
            self.occurrences(a)
        } else {
            u64::from(self.pairs[pair_index(a, b)])
        }
    }

    /// Counts topic words per document, like gensim's `p_boolean_document`.
    pub(super) fn from_documents<D, S>(index: &TopicWordIndex<'_>, texts: &[D]) -> Self
    where
        D: AsRef<[S]>,
        S: AsRef<str>,
    {
        let mut counts = Self::new(index.len());
        let mut ids = Vec::new();
        let mut present = Vec::new();
        // `seen_in[id]` is 1 + the index of the last document where the word was seen.
        let mut seen_in = vec![0_usize; index.len()];

        for (document, text) in texts.iter().enumerate() {
            index.map_tokens(text.as_ref(), &mut ids);
            present.clear();
            for &id in ids.iter().filter(|&&id| id != OTHER) {
                if seen_in[id as usize] != document + 1 {
                    seen_in[id as usize] = document + 1;
                    present.push(id);
                }
            }

            for (i, &a) in present.iter().enumerate() {
                counts.occurrences[a as usize] += 1;
                for &b in &present[..i] {
                    counts.pairs[pair_index(a, b)] += 1;
                }
            }
        }
        counts.units = texts.len() as u64;
        counts
    }

    /// Counts topic words per sliding window of `window_size` tokens, like gensim's
    /// `p_boolean_sliding_window` with its `WordOccurrenceAccumulator`.
    ///
    /// A text shorter than the window is one window, and an empty text is one window
    /// without words. gensim does not recompute the set of words in each window: when a
    /// window slides, it unmarks the token that left and marks the token that entered, so a
    /// word that left is counted absent even when it still occurs later in the window. That
    /// behaviour is reproduced here so values agree with gensim.
    ///
    /// Instead of visiting every window, each word's presence is kept as an interval of
    /// windows: when a word is unmarked, the windows it shared with every marked word are
    /// added at once.
    ///
    /// # Errors
    ///
    /// Returns [`CoherenceError::TooManyWindows`] when the texts form more windows than the
    /// 32-bit pair counters hold.
    pub(super) fn from_sliding_windows<D, S>(
        index: &TopicWordIndex<'_>,
        texts: &[D],
        window_size: usize,
    ) -> Result<Self, CoherenceError>
    where
        D: AsRef<[S]>,
        S: AsRef<str>,
    {
        let windows: u64 = texts
            .iter()
            .map(|text| windows_in(text.as_ref().len(), window_size) as u64)
            .sum();
        if windows > u64::from(u32::MAX) {
            return Err(CoherenceError::TooManyWindows { windows });
        }

        let mut counts = Self::new(index.len());
        let mut marked = MarkedWords::new(index.len());
        let mut ids = Vec::new();
        for text in texts {
            index.map_tokens(text.as_ref(), &mut ids);
            let windows = windows_in(ids.len(), window_size);

            for &id in &ids[..ids.len().min(window_size)] {
                marked.mark(id, 0);
            }
            for window in 1..windows {
                marked.unmark(ids[window - 1], window, &mut counts);
                marked.mark(ids[window + window_size - 1], window);
            }
            marked.unmark_all(windows, &mut counts);
        }
        counts.units = windows;
        Ok(counts)
    }
}

/// Returns how many windows gensim forms from a text of `len` tokens.
fn windows_in(len: usize, window_size: usize) -> usize {
    if len < window_size { 1 } else { len - window_size + 1 }
}

fn pair_index(a: u32, b: u32) -> usize {
    let (low, high) = if a < b { (a, b) } else { (b, a) };
    let high = high as usize;
    high * (high - 1) / 2 + low as usize
}

/// The topic words marked present in the current window of one text, with the window where
/// each mark started.
struct MarkedWords {
    marked: Vec<u32>,
    /// Position of each word in `marked`, or [`OTHER`] when it is not marked.
    position: Vec<u32>,
    since: Vec<usize>,
}

impl MarkedWords {
    fn new(words: usize) -> Self {
        Self {
            marked: Vec::new(),
            position: vec![OTHER; words],
            since: vec![0; words],
        }
    }

    fn mark(&mut self, id: u32, window: usize) {
        if id == OTHER || self.position[id as usize] != OTHER {
            return;
        }
        self.position[id as usize] = self.marked.len() as u32;
        self.marked.push(id);
        self.since[id as usize] = window;
    }

    /// Unmarks `id` from `window` on and counts the windows before it.
    fn unmark(&mut self, id: u32, window: usize, counts: &mut CooccurrenceCounts) {
        if id == OTHER {
            return;
        }
        let position = self.position[id as usize];
        if position == OTHER {
            return;
        }
        self.marked.swap_remove(position as usize);
        if let Some(&moved) = self.marked.get(position as usize) {
            self.position[moved as usize] = position;
        }
        self.position[id as usize] = OTHER;

        let since = self.since[id as usize];
        counts.occurrences[id as usize] += (window - since) as u64;
        for &other in &self.marked {
            let shared = window - since.max(self.since[other as usize]);
            counts.pairs[pair_index(id, other)] += shared as u32;
        }
    }

    fn unmark_all(&mut self, window: usize, counts: &mut CooccurrenceCounts) {
        while let Some(&id) = self.marked.last() {
            self.unmark(id, window, counts);
        }
    }
}

/// The multiply-rotate hash of rustc (`FxHasher`): fast on short keys such as words, and
/// deterministic. Not resistant to crafted collisions, which does not matter for a lookup
/// table of topic words.
#[derive(Default, Clone, Copy)]
pub(super) struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("chunk of 8 bytes")));
        }
        let mut tail = [0_u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(tail) ^ ((rest.len() as u64) << 56));
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts windows the way gensim's accumulator does, one window at a time.
    fn naive_windows(texts: &[Vec<&str>], words: &[&str], window_size: usize) -> (u64, Vec<u64>, Vec<Vec<u64>>) {
        let n = words.len();
        let id = |token: &str| words.iter().position(|w| *w == token);
        let mut occurrences = vec![0; n];
        let mut pairs = vec![vec![0; n]; n];
        let mut windows = 0;
        for text in texts {
            let count = windows_in(text.len(), window_size);
            let mut marked = vec![false; n];
            for t in 0..count {
                if t == 0 {
                    for token in &text[..text.len().min(window_size)] {
                        if let Some(i) = id(token) { marked[i] = true; }
                    }
                } else {
                    if let Some(i) = id(text[t - 1]) { marked[i] = false; }
                    if let Some(i) = id(text[t + window_size - 1]) { marked[i] = true; }
                }
                for a in 0..n {
                    if !marked[a] { continue; }
                    occurrences[a] += 1;
                    for b in 0..n {
                        if marked[b] && a != b { pairs[a][b] += 1; }
                    }
                }
                windows += 1;
            }
        }
        (windows, occurrences, pairs)
    }

    #[test]
    fn intervals_match_window_by_window() {
        let texts: Vec<Vec<&str>> = [
            "a b x a c b b x x a",
            "c",
            "",
            "a a a b",
            "x b x c a x x b a c c a b",
        ]
        .iter()
        .map(|text| text.split_whitespace().collect())
        .collect();
        let words = ["a", "b", "c"];
        let index = TopicWordIndex::new(words.into_iter());

        for window_size in 1..=8 {
            let counts = CooccurrenceCounts::from_sliding_windows(&index, &texts, window_size).unwrap();
            let (windows, occurrences, pairs) = naive_windows(&texts, &words, window_size);

            assert_eq!(counts.units(), windows, "window {window_size}");
            for a in 0..3 {
                assert_eq!(counts.occurrences(a), occurrences[a as usize], "window {window_size}");
                for b in 0..3 {
                    if a != b {
                        assert_eq!(counts.cooccurrences(a, b), pairs[a as usize][b as usize], "window {window_size}, pair {a} {b}");
                    }
                }
            }
        }
    }

    #[test]
    fn departed_word_is_unmarked_like_gensim() {
        // Windows of 3 over "a b a c": [a b a], then "a" leaves and "c" enters, so gensim
        // counts [b a c] without "a".
        let texts = [vec!["a", "b", "a", "c"]];
        let index = TopicWordIndex::new(["a", "b", "c"].into_iter());

        let counts = CooccurrenceCounts::from_sliding_windows(&index, &texts, 3).unwrap();

        assert_eq!(counts.units(), 2);
        assert_eq!(counts.occurrences(0), 1);
        assert_eq!(counts.occurrences(1), 2);
        assert_eq!(counts.cooccurrences(1, 2), 1);
    }

    #[test]
    fn documents_count_each_word_once() {
        let texts = [vec!["a", "a", "b"], vec![], vec!["b", "x"]];
        let index = TopicWordIndex::new(["a", "b"].into_iter());

        let counts = CooccurrenceCounts::from_documents(&index, &texts);

        assert_eq!(counts.units(), 3);
        assert_eq!(counts.occurrences(0), 1);
        assert_eq!(counts.occurrences(1), 2);
        assert_eq!(counts.cooccurrences(0, 1), 1);
        assert_eq!(counts.cooccurrences(1, 1), 2);
    }
}
