//! One collapsed Gibbs sweep over a partition of documents.
//!
//! The full conditional of token i's topic (Griffiths and Steyvers 2004) is
//!
//! ```text
//! p(z_i = k | rest) ∝ (n_dk + alpha_k) * (n_wk + eta) / (n_k + V * eta)
//! ```
//!
//! with every count excluding token i. At 10 to 50 topics it is cheaper to evaluate these K
//! weights densely than to keep the sorted sparse lists of SparseLDA (Yao, Mimno and McCallum
//! 2009) up to date. The document factor `(n_dk + alpha_k) / (n_k + V * eta)` is cached per
//! topic and changes in two entries per token. Each token then costs one pass of K
//! multiply-adds over the word's contiguous count row and a search of the running sums.
//!
//! NOTE: the cost grows linearly with K. For hundreds of topics, an alias-table
//! Metropolis-Hastings sampler (LightLDA, WarpLDA) would scale better.

use super::rng::Xoshiro256PlusPlus;
use super::state::{DocumentTokens, DocumentTopics, TopicWordCounts};

/// Receives every token whose topic a sweep changed.
pub(crate) trait MoveRecorder {
    /// Token of word `word` moved from topic `old` to topic `new`.
    fn moved(&mut self, word: u32, old: usize, new: usize);
}

/// Ignores the moves, for a sampler that keeps the only copy of the counts.
pub(crate) struct IgnoreMoves;

impl MoveRecorder for IgnoreMoves {
    #[inline]
    fn moved(&mut self, _word: u32, _old: usize, _new: usize) {}
}

/// A token whose topic-word cell or topic total is already zero before the token leaves it.
///
/// The counts then miss tokens that the partition assigns. That happens only when a partition
/// was brought up to date with changes that do not include its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Underflow {
    /// The cell `word * num_topics + topic`.
    pub cell: u32,
}

/// Scratch buffers reused across documents, so that a sweep does not allocate.
pub(crate) struct SweepBuffers {
    /// `1 / (n_k + V * eta)` per topic, kept in step with the topic totals.
    inverse_denominators: Vec<f64>,
    /// `(n_dk + alpha_k) / (n_k + V * eta)` per topic for the current document.
    doc_factors: Vec<f64>,
    /// The K unnormalised weights of the current token, padded with zeros to whole blocks.
    weights: Vec<f64>,
    /// Running sums of the weights over blocks of [`BLOCK`] topics.
    block_sums: Vec<f64>,
}

impl SweepBuffers {
    /// Allocates buffers for `num_topics` topics.
    pub fn new(num_topics: usize) -> Self {
        Self {
            inverse_denominators: vec![0.0; num_topics],
            doc_factors: vec![0.0; num_topics],
            weights: vec![0.0; num_topics.div_ceil(BLOCK) * BLOCK],
            block_sums: vec![0.0; num_topics.div_ceil(BLOCK)],
        }
    }
}

/// Resamples the topic of every token of every document in `tokens`, in order.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sweep(
    tokens: &DocumentTokens,
    state: &mut DocumentTopics,
    counts: &mut TopicWordCounts,
    alpha: &[f64],
    eta: f64,
    rng: &mut Xoshiro256PlusPlus,
    buffers: &mut SweepBuffers,
    moves: &mut impl MoveRecorder,
) -> Result<(), Underflow> {
    let num_topics = counts.num_topics;
    let vocab_size = counts.word_topic.len() / num_topics;
    let v_eta = vocab_size as f64 * eta;

    for (inverse, &total) in buffers
        .inverse_denominators
        .iter_mut()
        .zip(&counts.topic_totals)
    {
        *inverse = 1.0 / (f64::from(total) + v_eta);
    }

    for doc in 0..tokens.num_docs() {
        let range = tokens.doc_offsets[doc]..tokens.doc_offsets[doc + 1];
        let doc_row = &mut state.doc_topic[doc * num_topics..(doc + 1) * num_topics];
        sweep_document(
            &tokens.words[range.clone()],
            &mut state.topics[range],
            doc_row,
            counts,
            alpha,
            eta,
            v_eta,
            rng,
            buffers,
            moves,
        )?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
#[inline]
fn sweep_document(
    words: &[u32],
    topics: &mut [u16],
    doc_row: &mut [u32],
    counts: &mut TopicWordCounts,
    alpha: &[f64],
    eta: f64,
    v_eta: f64,
    rng: &mut Xoshiro256PlusPlus,
    buffers: &mut SweepBuffers,
    moves: &mut impl MoveRecorder,
) -> Result<(), Underflow> {
    let num_topics = counts.num_topics;
    let SweepBuffers {
        inverse_denominators,
        doc_factors,
        weights,
        block_sums,
    } = buffers;
    let inverse_denominators = &mut inverse_denominators[..num_topics];
    let doc_factors = &mut doc_factors[..num_topics];
    let alpha = &alpha[..num_topics];
    let doc_row = &mut doc_row[..num_topics];

    for k in 0..num_topics {
        doc_factors[k] = (f64::from(doc_row[k]) + alpha[k]) * inverse_denominators[k];
    }

    for (&word, topic) in words.iter().zip(topics.iter_mut()) {
        let row_start = word as usize * num_topics;
        let word_row = &mut counts.word_topic[row_start..row_start + num_topics];

        // Remove the token from every count. Only a partition whose counts were brought up to
        // date with the wrong changes can hold a zero here.
        let old = *topic as usize;
        if word_row[old] == 0 || counts.topic_totals[old] == 0 {
            return Err(Underflow {
                cell: (row_start + old) as u32,
            });
        }
        doc_row[old] -= 1;
        word_row[old] -= 1;
        counts.topic_totals[old] -= 1;
        inverse_denominators[old] = 1.0 / (f64::from(counts.topic_totals[old]) + v_eta);
        doc_factors[old] = (f64::from(doc_row[old]) + alpha[old]) * inverse_denominators[old];

        let new = draw_topic(doc_factors, word_row, eta, weights, block_sums, rng);

        if new != old {
            moves.moved(word, old, new);
        }

        // Add the token back under its new topic.
        *topic = new as u16;
        doc_row[new] += 1;
        word_row[new] += 1;
        counts.topic_totals[new] += 1;
        inverse_denominators[new] = 1.0 / (f64::from(counts.topic_totals[new]) + v_eta);
        doc_factors[new] = (f64::from(doc_row[new]) + alpha[new]) * inverse_denominators[new];
    }
    Ok(())
}

/// Topics per block of the two-level search in [`draw_topic`].
const BLOCK: usize = 4;

/// Draws a topic with probability proportional to `doc_factors[k] * (word_row[k] + eta)`.
///
/// The weights are computed in one pass without a loop-carried dependency, summed per block of
/// [`BLOCK`] topics, and searched first by block, then inside the chosen block. This keeps the
/// chain of dependent additions at about K / 4 + 4 instead of K. The order of additions is
/// fixed, so the draw is reproducible.
#[inline]
fn draw_topic(
    doc_factors: &[f64],
    word_row: &[u32],
    eta: f64,
    weights: &mut [f64],
    block_sums: &mut [f64],
    rng: &mut Xoshiro256PlusPlus,
) -> usize {
    let num_topics = doc_factors.len();
    for ((weight, &factor), &count) in weights.iter_mut().zip(doc_factors).zip(word_row) {
        *weight = factor * (f64::from(count) + eta);
    }

    let mut total = 0.0;
    for (block_sum, block) in block_sums.iter_mut().zip(weights.chunks_exact(BLOCK)) {
        total += (block[0] + block[1]) + (block[2] + block[3]);
        *block_sum = total;
    }

    let u = rng.next_f64() * total;
    let last_block = block_sums.len() - 1;
    // Rounding can leave u at the total; the last block and its last topic then take it.
    let block = block_sums[..last_block]
        .iter()
        .position(|&c| c > u)
        .unwrap_or(last_block);
    let start = block * BLOCK;
    let end = (start + BLOCK).min(num_topics);
    let mut running = if block == 0 {
        0.0
    } else {
        block_sums[block - 1]
    };
    for (k, &weight) in weights[start..end - 1].iter().enumerate() {
        running += weight;
        if running > u {
            return start + k;
        }
    }
    end - 1
}
