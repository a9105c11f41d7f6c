//! Latent Dirichlet allocation trained by collapsed Gibbs sampling.
//!
//! [`train`] takes documents as bags of words and returns topic-word and document-topic counts,
//! the final priors and the log-likelihood trace. [`FixedTopics::infer`] folds new documents into
//! trained topics. [`partitioned`] trains over partitions of documents that can run in parallel
//! elsewhere. Everything here is single-threaded and draws its randomness from
//! [`rng::Xoshiro256PlusPlus`], so a seed reproduces a model bit for bit, natively and in
//! WebAssembly.
//!
//! ```
//! use topica_core::lda::{train, LdaParams};
//!
//! let docs = vec![vec![(0, 3), (1, 2)], vec![(2, 4), (3, 1)]];
//! let mut params = LdaParams::new(2);
//! params.iterations = 50;
//! let output = train(&params.validate()?, &docs, 4, |_, _, _| true)?;
//! assert_eq!(output.topic_word.iter().sum::<u32>(), 10);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod alpha;
mod infer;
mod likelihood;
mod params;
pub mod partitioned;
pub mod rng;
mod sampler;
mod state;
mod topics;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use infer::{DEFAULT_INFER_ITERATIONS, FixedTopics};
pub use likelihood::ln_gamma;
pub use params::{
    DEFAULT_ALPHA, DEFAULT_ETA, DEFAULT_ITERATIONS, DEFAULT_LOG_LIKELIHOOD_EVERY,
    DEFAULT_OPTIMIZE_ALPHA_BURN_IN, DEFAULT_OPTIMIZE_ALPHA_EVERY, LdaParams, LdaParamsError,
    MAX_TOPICS, ValidLdaParams,
};
pub use topics::{document_topic_distribution, empty_topics, top_words, topic_word_distribution};

/// A failure of training or inference.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LdaError {
    /// The settings are invalid.
    #[error(transparent)]
    Params(#[from] LdaParamsError),
    /// A document contains a word id outside the vocabulary.
    #[error(
        "document {doc} contains word id {word}, but the vocabulary has {vocab_size} words: build the bags of words and the vocabulary from the same dictionary"
    )]
    WordOutOfRange {
        /// Index of the document in the input.
        doc: usize,
        /// The offending word id.
        word: u32,
        /// Number of words in the vocabulary.
        vocab_size: u32,
    },
    /// The corpus has more tokens than this platform can index.
    #[error(
        "the corpus has {0} tokens, more than this platform can address: split it or filter rare words"
    )]
    TooManyTokens(u64),
    /// The progress callback asked to stop.
    #[error("training was cancelled after iteration {iteration}")]
    Cancelled {
        /// The last completed sweep, 1-based.
        iteration: u32,
    },
    /// The topics given for inference are inconsistent; the message names the field.
    #[error("invalid topics for inference: {0}")]
    InvalidTopics(String),
    /// Partitioned training was asked for 0 partitions.
    #[error("partitions = 0 is invalid: set at least 1 partition of documents")]
    Partitions,
    /// A partitioned sampler got an inconsistent merged delta or alpha; the message names the
    /// value.
    #[error("invalid input for partitioned sampling: {0}")]
    InvalidPartitionInput(String),
    /// Inference was asked for 0 sweeps.
    #[error(
        "inference iterations = 0 is invalid: set at least 1 sweep (default {DEFAULT_INFER_ITERATIONS})"
    )]
    InferIterations,
}

/// A trained LDA model's counts and priors, the output of [`train`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LdaOutput {
    /// Number of topics K.
    pub num_topics: u32,
    /// Number of words V.
    pub vocab_size: u32,
    /// Topic-word counts, row-major `K x V`. Sums to the number of tokens.
    pub topic_word: Vec<u32>,
    /// Document-topic counts, row-major `docs x K`. Row d sums to the length of document d.
    pub doc_topic: Vec<u32>,
    /// Final document-topic prior per topic; asymmetric when alpha was optimised.
    pub alpha: Vec<f64>,
    /// Topic-word prior.
    pub eta: f64,
    /// Joint log-likelihood log p(w, z) after each reported sweep.
    pub log_likelihood: Vec<f64>,
    /// The 1-based sweep after which each `log_likelihood` value was computed.
    pub log_likelihood_iterations: Vec<u32>,
    /// Topics that hold no token at the end; their φ rows are uniform.
    pub empty_topics: Vec<u32>,
    /// Number of tokens sampled per sweep.
    pub num_tokens: u64,
}

impl LdaOutput {
    /// Returns φ, row-major `K x V`; see [`topic_word_distribution`].
    pub fn phi(&self) -> Vec<f64> {
        topic_word_distribution(&self.topic_word, self.num_topics as usize, self.eta)
    }

    /// Returns θ, row-major `docs x K`; see [`document_topic_distribution`].
    pub fn theta(&self) -> Vec<f64> {
        document_topic_distribution(&self.doc_topic, &self.alpha)
    }

    /// Returns the `n` most probable words of `topic`; see [`top_words`].
    pub fn top_words(&self, topic: usize, n: usize) -> Vec<(u32, f64)> {
        top_words(
            &self.topic_word,
            self.num_topics as usize,
            self.eta,
            topic,
            n,
        )
    }
}

/// Trains LDA on `docs`, bags of `(word id, count)` pairs with every id below `vocab_size`.
///
/// Each bag is expanded into tokens in the given order, every token gets a random topic, then
/// `iterations` Gibbs sweeps run over all documents in order. After every reported sweep (every
/// `log_likelihood_every` sweeps and the last), `progress(iteration, iterations,
/// log_likelihood)` is called with a 1-based iteration; returning `false` stops training with
/// [`LdaError::Cancelled`].
pub fn train<B, F>(
    params: &ValidLdaParams,
    docs: &[B],
    vocab_size: u32,
    mut progress: F,
) -> Result<LdaOutput, LdaError>
where
    B: AsRef<[(u32, u32)]>,
    F: FnMut(u32, u32, f64) -> bool,
{
    let settings = params.get();
    let num_topics = settings.num_topics as usize;
    let tokens = state::DocumentTokens::from_bags(docs, vocab_size)?;

    // One stream for the single partition: `partitioned` gives partition p the stream `p` of
    // the same seed, so one partition there reproduces this function.
    let mut rng = rng::Xoshiro256PlusPlus::for_stream(settings.seed, 0);
    let (mut doc_state, mut counts) =
        state::initialize(&tokens, num_topics, vocab_size as usize, &mut rng);
    let mut alpha = vec![settings.alpha; num_topics];
    let likelihood = likelihood::LogLikelihood::new(settings.eta);
    let mut buffers = sampler::SweepBuffers::new(num_topics);
    let mut log_likelihood = Vec::new();
    let mut log_likelihood_iterations = Vec::new();

    for iteration in 1..=settings.iterations {
        sampler::sweep(
            &tokens,
            &mut doc_state,
            &mut counts,
            &alpha,
            settings.eta,
            &mut rng,
            &mut buffers,
            &mut sampler::IgnoreMoves,
        )
        .expect("counts built from these tokens contain every token");

        if params.optimizes_alpha_after(iteration) {
            let lengths = tokens.doc_offsets.windows(2).map(|pair| pair[1] - pair[0]);
            alpha::optimize_alpha(&mut alpha, &doc_state.doc_topic, lengths);
        }

        if params.reports_after(iteration) {
            let value = likelihood.compute(&tokens, &doc_state, &counts, &alpha);
            log_likelihood.push(value);
            log_likelihood_iterations.push(iteration);
            if !progress(iteration, settings.iterations, value) {
                return Err(LdaError::Cancelled { iteration });
            }
        }
    }

    Ok(LdaOutput {
        num_topics: settings.num_topics,
        vocab_size,
        topic_word: counts.to_topic_major(),
        doc_topic: doc_state.doc_topic,
        alpha,
        eta: settings.eta,
        log_likelihood,
        log_likelihood_iterations,
        empty_topics: empty_topics(&counts.topic_totals),
        num_tokens: tokens.words.len() as u64,
    })
}
