//! Occurrence and co-occurrence counts of topic words, over sliding windows or documents.
//!
//! Only topic words are tracked: each gets a small integer id, every other token maps to
//! [`OTHER`], and pair counts live in a dense triangular table over the topic words.

use super::CoherenceError;

/// Id of a token that is not a topic word.
const OTHER: u32 = u32::MAX;

/// The ids of the distinct topic words, `0..len()` in order of first appearance.
///
/// An open-addressing table with linear probing, kept at most a quarter full. Looking up
/// tokens is most of the work of counting, and most tokens are not topic words, so a miss
/// usually costs one hash and one empty or mismatching slot, without a string comparison.
pub(super) struct TopicWordIndex<'a> {
    words: Vec<&'a str>,
    slots: Vec<Slot>,
    mask: usize,
}

#[derive(Clone, Copy)]
struct Slot {
    hash: u64,
    /// The word's id, or [`OTHER`] for an empty slot.
    id: u32,
}

impl<'a> TopicWordIndex<'a> {
    pub(super) fn new(words: impl Iterator<Item = &'a str>) -> Self {
        let words: Vec<&'a str> = words.collect();
        let capacity = (words.len() * 4).next_power_of_two().max(16);
        let mut index = Self {
            words: Vec::with_capacity(words.len()),
            slots: vec![Slot { hash: 0, id: OTHER }; capacity],
            mask: capacity - 1,
        };
        for word in words {
            index.insert(word);
        }
        index
    }

    fn insert(&mut self, word: &'a str) {
        let hash = word_hash(word.as_bytes());
        let mut slot = hash as usize & self.mask;
        loop {
            let Slot {
                hash: slot_hash,
                id,
            } = self.slots[slot];
            if id == OTHER {
                self.slots[slot] = Slot {
                    hash,
                    id: self.words.len() as u32,
                };
                self.words.push(word);
                return;
            }
            if slot_hash == hash && self.words[id as usize] == word {
                return;
            }
            slot = (slot + 1) & self.mask;
        }
    }

    pub(super) fn id(&self, word: &str) -> Option<u32> {
        let hash = word_hash(word.as_bytes());
        let mut slot = hash as usize & self.mask;
        loop {
            let Slot {
                hash: slot_hash,
                id,
            } = self.slots[slot];
            if id == OTHER {
                return None;
            }
            if slot_hash == hash && self.words[id as usize] == word {
                return Some(id);
            }
            slot = (slot + 1) & self.mask;
        }
    }

    pub(super) fn len(&self) -> usize {
        self.words.len()
    }

    /// Writes the id of each token into `ids`, [`OTHER`] for tokens that are not topic words.
    fn map_tokens<S: AsRef<str>>(&self, tokens: &[S], ids: &mut Vec<u32>) {
        ids.clear();
        ids.extend(
            tokens
                .iter()
                .map(|token| self.id(token.as_ref()).unwrap_or(OTHER)),
        );
    }
}

/// How many counting units (windows or documents) contain each topic word and each pair.
pub(super) struct CooccurrenceCounts {
    /// Number of windows or documents, including those without topic words.
    units: u64,
    occurrences: Vec<u64>,
    pairs: PairCounts,
}

enum PairCounts {
    /// Counts for ids `a < b` at `b * (b - 1) / 2 + a`, 32 bits like gensim's counts.
    /// Used for windows, where each window would need a set of its own.
    Table(Vec<u32>),
    /// One bit set of documents per word, `blocks` 64-bit blocks each; a pair's count is the
    /// size of the intersection. Used for documents: it costs one bit per word and document
    /// instead of one increment per pair of words in every document.
    DocumentSets { blocks: usize, bits: Vec<u64> },
}

impl CooccurrenceCounts {
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
            return self.occurrences(a);
        }
        match &self.pairs {
            PairCounts::Table(table) => u64::from(table[pair_index(a, b)]),
            PairCounts::DocumentSets { blocks, bits } => {
                let set_a = &bits[a as usize * blocks..][..*blocks];
                let set_b = &bits[b as usize * blocks..][..*blocks];
                set_a
                    .iter()
                    .zip(set_b)
                    .map(|(x, y)| u64::from((x & y).count_ones()))
                    .sum()
            }
        }
    }

    /// Counts topic words per document, like gensim's `p_boolean_document`.
    pub(super) fn from_documents<D, S>(index: &TopicWordIndex<'_>, texts: &[D]) -> Self
    where
        D: AsRef<[S]>,
        S: AsRef<str>,
    {
        let blocks = texts.len().div_ceil(64);
        let mut bits = vec![0_u64; blocks * index.len()];
        let mut occurrences = vec![0_u64; index.len()];

        for (document, text) in texts.iter().enumerate() {
            let (block, bit) = (document / 64, 1_u64 << (document % 64));
            for token in text.as_ref() {
                let Some(id) = index.id(token.as_ref()) else {
                    continue;
                };
                let set = &mut bits[id as usize * blocks + block];
                if *set & bit == 0 {
                    *set |= bit;
                    occurrences[id as usize] += 1;
                }
            }
        }

        Self {
            units: texts.len() as u64,
            occurrences,
            pairs: PairCounts::DocumentSets { blocks, bits },
        }
    }

    /// Counts topic words per sliding window of `window_size` tokens, like gensim's
    /// `p_boolean_sliding_window` with its `WordOccurrenceAccumulator`.
    ///
    /// A text shorter than the window is one window, and an empty text is one window
    /// without words. gensim does not recompute the set of words in each window. When a
    /// window slides, it unmarks the token that left and marks the token that entered. So a
    /// word that left is counted absent even when it still occurs later in the window, and
    /// this is reproduced here so values agree with gensim. (On the Lee corpus, counting true
    /// window sets moves one topic's c_v from gensim's 0.78 to 0.91.)
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

        let words = index.len();
        let mut counts = Self {
            units: 0,
            occurrences: vec![0; words],
            pairs: PairCounts::Table(vec![0; words * words.saturating_sub(1) / 2]),
        };
        let mut marked = MarkedWords::new(words);
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
    if len < window_size {
        1
    } else {
        len - window_size + 1
    }
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
        let PairCounts::Table(table) = &mut counts.pairs else {
            unreachable!("sliding windows are counted in a pair table");
        };
        for &other in &self.marked {
            let shared = window - since.max(self.since[other as usize]);
            table[pair_index(id, other)] += shared as u32;
        }
    }

    fn unmark_all(&mut self, window: usize, counts: &mut CooccurrenceCounts) {
        while let Some(&id) = self.marked.last() {
            self.unmark(id, window, counts);
        }
    }
}

/// Hashes a word from its length and at most its first and last 8 bytes, with one folded
/// 128-bit multiply (as in wyhash). Words that differ only in the middle collide, which
/// costs a string comparison, never a wrong id.
fn word_hash(bytes: &[u8]) -> u64 {
    let len = bytes.len();
    let (head, tail) = if len >= 8 {
        (read_u64(&bytes[..8]), read_u64(&bytes[len - 8..]))
    } else if len >= 4 {
        (
            u64::from(read_u32(&bytes[..4])),
            u64::from(read_u32(&bytes[len - 4..])),
        )
    } else if len > 0 {
        let spread =
            u64::from(bytes[0]) | u64::from(bytes[len / 2]) << 8 | u64::from(bytes[len - 1]) << 16;
        (spread, 0)
    } else {
        (0, 0)
    };

    let product = u128::from(head ^ 0xa076_1d64_78bd_642f)
        * u128::from(tail ^ 0xe703_7ed1_a0b4_28db ^ len as u64);
    (product as u64) ^ (product >> 64) as u64
}

fn read_u64(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().expect("8 bytes"))
}

fn read_u32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes(bytes.try_into().expect("4 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts windows the way gensim's accumulator does, one window at a time.
    fn naive_windows(
        texts: &[Vec<&str>],
        words: &[&str],
        window_size: usize,
    ) -> (u64, Vec<u64>, Vec<Vec<u64>>) {
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
                        if let Some(i) = id(token) {
                            marked[i] = true;
                        }
                    }
                } else {
                    if let Some(i) = id(text[t - 1]) {
                        marked[i] = false;
                    }
                    if let Some(i) = id(text[t + window_size - 1]) {
                        marked[i] = true;
                    }
                }
                for a in 0..n {
                    if !marked[a] {
                        continue;
                    }
                    occurrences[a] += 1;
                    for b in 0..n {
                        if marked[b] && a != b {
                            pairs[a][b] += 1;
                        }
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
            let counts =
                CooccurrenceCounts::from_sliding_windows(&index, &texts, window_size).unwrap();
            let (windows, occurrences, pairs) = naive_windows(&texts, &words, window_size);

            assert_eq!(counts.units(), windows, "window {window_size}");
            for a in 0..3 {
                assert_eq!(
                    counts.occurrences(a),
                    occurrences[a as usize],
                    "window {window_size}"
                );
                for b in 0..3 {
                    if a != b {
                        assert_eq!(
                            counts.cooccurrences(a, b),
                            pairs[a as usize][b as usize],
                            "window {window_size}, pair {a} {b}"
                        );
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
    fn index_finds_every_word() {
        let words: Vec<String> = (0..500).map(|i| format!("word{i}middle{i}end")).collect();
        let mut with_short = words.clone();
        with_short.extend(["", "a", "ab", "abc", "abcd", "abcdefgh"].map(String::from));
        let index = TopicWordIndex::new(with_short.iter().map(String::as_str).chain(["a"]));

        assert_eq!(index.len(), with_short.len());
        for (id, word) in with_short.iter().enumerate() {
            assert_eq!(index.id(word), Some(id as u32), "{word}");
        }
        assert_eq!(index.id("word1middle2end"), None);
        assert_eq!(index.id("abcdefgi"), None);
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
