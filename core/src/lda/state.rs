//! The Gibbs sampler's state: token arrays and the count tables they imply.
//!
//! The layout is split for the parallel sampler to come. [`DocumentTokens`] and
//! [`DocumentTopics`] contain one partition of documents, which only the worker sampling that
//! partition changes. [`TopicWordCounts`] is the table that all partitions share: a parallel
//! sweep would copy it to each worker and merge the changes back in a fixed order.

use super::LdaError;

/// Documents expanded from bags of words into one flat array of word ids.
///
/// Each pair `(word, count)` becomes `count` consecutive copies of `word`, in the order the
/// pairs are given, so the same bags always give the same token order.
#[derive(Debug, Clone)]
pub(crate) struct DocumentTokens {
    /// Word id of every token, document after document.
    pub words: Vec<u32>,
    /// `doc_offsets[d]..doc_offsets[d + 1]` are the tokens of document `d`.
    pub doc_offsets: Vec<usize>,
}

impl DocumentTokens {
    /// Expands bags of words, rejecting any word id at or above `vocab_size`.
    pub fn from_bags<B: AsRef<[(u32, u32)]>>(
        docs: &[B],
        vocab_size: u32,
    ) -> Result<Self, LdaError> {
        let num_tokens: u64 = docs
            .iter()
            .flat_map(|doc| doc.as_ref().iter())
            .map(|&(_, count)| u64::from(count))
            .sum();
        let num_tokens =
            usize::try_from(num_tokens).map_err(|_| LdaError::TooManyTokens(num_tokens))?;

        let mut words = Vec::with_capacity(num_tokens);
        let mut doc_offsets = Vec::with_capacity(docs.len() + 1);
        doc_offsets.push(0);
        for (doc_index, doc) in docs.iter().enumerate() {
            for &(word, count) in doc.as_ref() {
                if word >= vocab_size {
                    return Err(LdaError::WordOutOfRange {
                        doc: doc_index,
                        word,
                        vocab_size,
                    });
                }
                words.extend(std::iter::repeat_n(word, count as usize));
            }
            doc_offsets.push(words.len());
        }
        Ok(Self { words, doc_offsets })
    }

    /// Returns the number of documents.
    pub fn num_docs(&self) -> usize {
        self.doc_offsets.len() - 1
    }

    /// Returns the word ids of document `doc`.
    pub fn doc(&self, doc: usize) -> &[u32] {
        &self.words[self.doc_offsets[doc]..self.doc_offsets[doc + 1]]
    }
}

/// Topic assignments and document-topic counts of one partition of documents.
#[derive(Debug, Clone)]
pub(crate) struct DocumentTopics {
    /// Topic of every token, aligned with [`DocumentTokens::words`].
    pub topics: Vec<u16>,
    /// Document-topic counts, row-major `docs x num_topics`.
    pub doc_topic: Vec<u32>,
}

/// Topic-word counts shared by every document, stored word-major so that the K counts of one
/// word, which the sampler reads for every token, are contiguous.
#[derive(Debug, Clone)]
pub(crate) struct TopicWordCounts {
    pub num_topics: usize,
    /// Counts, row-major `vocab_size x num_topics` (the transpose of the output layout).
    pub word_topic: Vec<u32>,
    /// Tokens per topic: column sums of `word_topic`.
    pub topic_totals: Vec<u32>,
}

impl TopicWordCounts {
    /// Creates an all-zero table.
    pub fn zeros(num_topics: usize, vocab_size: usize) -> Self {
        Self {
            num_topics,
            word_topic: vec![0; num_topics * vocab_size],
            topic_totals: vec![0; num_topics],
        }
    }

    /// Returns the counts in the output layout, row-major `num_topics x vocab_size`.
    pub fn to_topic_major(&self) -> Vec<u32> {
        let k = self.num_topics;
        let vocab_size = self.word_topic.len() / k;
        let mut topic_word = vec![0; self.word_topic.len()];
        for (word, row) in self.word_topic.chunks_exact(k).enumerate() {
            for (topic, &count) in row.iter().enumerate() {
                topic_word[topic * vocab_size + word] = count;
            }
        }
        topic_word
    }
}

/// Assigns every token a uniformly random topic and builds the counts that follow.
pub(crate) fn initialize(
    tokens: &DocumentTokens,
    num_topics: usize,
    vocab_size: usize,
    rng: &mut super::rng::Xoshiro256PlusPlus,
) -> (DocumentTopics, TopicWordCounts) {
    let mut counts = TopicWordCounts::zeros(num_topics, vocab_size);
    let mut topics = Vec::with_capacity(tokens.words.len());
    let mut doc_topic = vec![0u32; tokens.num_docs() * num_topics];

    for doc in 0..tokens.num_docs() {
        let doc_row = &mut doc_topic[doc * num_topics..(doc + 1) * num_topics];
        for &word in tokens.doc(doc) {
            let topic = rng.below(num_topics as u32) as usize;
            topics.push(topic as u16);
            doc_row[topic] += 1;
            counts.word_topic[word as usize * num_topics + topic] += 1;
            counts.topic_totals[topic] += 1;
        }
    }
    (DocumentTopics { topics, doc_topic }, counts)
}
