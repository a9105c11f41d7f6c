//! Fold-in inference: topic distributions of new documents under fixed topics.
//!
//! Each document is sampled on its own with the topic-word counts held fixed, so
//! `p(z_i = k) ∝ (n_dk + α_k) (n_wk + η) / (n_k + Vη)` where only `n_dk` changes. The returned θ
//! is the average of `(n_dk + α_k) / (n_d + Σα)` over the second half of the sweeps, which has
//! less variance than the last sweep alone.

use super::LdaError;
use super::params::MAX_TOPICS;
use super::rng::Xoshiro256PlusPlus;

/// Default number of Gibbs sweeps per document (tomotopy's default for `infer`).
pub const DEFAULT_INFER_ITERATIONS: u32 = 100;

/// Fixed topics that new documents are folded into, stored for fast sampling.
#[derive(Debug, Clone)]
pub struct FixedTopics {
    num_topics: usize,
    vocab_size: usize,
    /// `(n_wk + η) / (n_k + Vη)`, row-major `vocab_size x num_topics`.
    word_weights: Vec<f64>,
    alpha: Vec<f64>,
}

impl FixedTopics {
    /// Checks and stores the topics. `topic_word` is row-major `num_topics x vocab_size`,
    /// `alpha` has one finite positive value per topic and `eta` is finite and positive.
    pub fn new(
        num_topics: u32,
        vocab_size: u32,
        topic_word: &[u32],
        alpha: &[f64],
        eta: f64,
    ) -> Result<Self, LdaError> {
        let k = num_topics as usize;
        let v = vocab_size as usize;
        if k == 0 || num_topics > MAX_TOPICS {
            return Err(LdaError::InvalidTopics(format!(
                "num_topics = {num_topics}; a model has between 1 and {MAX_TOPICS} topics"
            )));
        }
        if topic_word.len() != k * v {
            return Err(LdaError::InvalidTopics(format!(
                "topic_word has {} counts, expected num_topics x vocab_size = {k} x {v} = {}",
                topic_word.len(),
                k * v
            )));
        }
        if alpha.len() != k {
            return Err(LdaError::InvalidTopics(format!(
                "alpha has {} values, expected one per topic ({k})",
                alpha.len()
            )));
        }
        if let Some((topic, value)) = alpha
            .iter()
            .enumerate()
            .find(|(_, a)| !(a.is_finite() && **a > 0.0))
        {
            return Err(LdaError::InvalidTopics(format!(
                "alpha[{topic}] = {value}; every alpha must be finite and > 0"
            )));
        }
        if !(eta.is_finite() && eta > 0.0) {
            return Err(LdaError::InvalidTopics(format!(
                "eta = {eta}; eta must be finite and > 0"
            )));
        }

        let v_eta = v as f64 * eta;
        let mut word_weights = vec![0.0; k * v];
        for (topic, row) in topic_word.chunks_exact(v.max(1)).enumerate().take(k) {
            let total: u64 = row.iter().map(|&c| u64::from(c)).sum();
            let inverse = 1.0 / (total as f64 + v_eta);
            for (word, &count) in row.iter().enumerate() {
                word_weights[word * k + topic] = (f64::from(count) + eta) * inverse;
            }
        }
        Ok(Self {
            num_topics: k,
            vocab_size: v,
            word_weights,
            alpha: alpha.to_vec(),
        })
    }

    /// Returns the number of topics.
    pub fn num_topics(&self) -> usize {
        self.num_topics
    }

    /// Returns the normalised prior `α / Σα`, the distribution of a document with no known word.
    pub fn prior(&self) -> Vec<f64> {
        let alpha_sum: f64 = self.alpha.iter().sum();
        self.alpha.iter().map(|a| a / alpha_sum).collect()
    }

    /// Infers one topic distribution per document with `iterations` sweeps each (must be > 0).
    ///
    /// Word ids at or above the vocabulary size are skipped as out of vocabulary. Document `d`
    /// uses its own random stream derived from `seed` and `d`, so its result does not depend
    /// on the other documents in the batch. Each distribution has `num_topics` finite
    /// probabilities summing to 1.
    pub fn infer<B: AsRef<[(u32, u32)]>>(
        &self,
        docs: &[B],
        iterations: u32,
        seed: u64,
    ) -> Result<Vec<Vec<f64>>, LdaError> {
        if iterations == 0 {
            return Err(LdaError::InferIterations);
        }
        let mut buffers = InferBuffers::new(self.num_topics);
        Ok(docs
            .iter()
            .enumerate()
            .map(|(d, doc)| {
                let mut rng = Xoshiro256PlusPlus::for_stream(seed, d as u64);
                self.infer_document(doc.as_ref(), iterations, &mut rng, &mut buffers)
            })
            .collect())
    }

    fn infer_document(
        &self,
        doc: &[(u32, u32)],
        iterations: u32,
        rng: &mut Xoshiro256PlusPlus,
        buffers: &mut InferBuffers,
    ) -> Vec<f64> {
        let k = self.num_topics;
        let InferBuffers {
            words,
            topics,
            doc_topic,
            cumulative,
        } = buffers;

        words.clear();
        for &(word, count) in doc {
            if (word as usize) < self.vocab_size {
                words.extend(std::iter::repeat_n(word, count as usize));
            }
        }
        if words.is_empty() {
            return self.prior();
        }

        topics.clear();
        doc_topic.clear();
        doc_topic.resize(k, 0);
        for _ in 0..words.len() {
            let topic = rng.below(k as u32);
            topics.push(topic as u16);
            doc_topic[topic as usize] += 1;
        }

        let alpha_sum: f64 = self.alpha.iter().sum();
        let normaliser = 1.0 / (words.len() as f64 + alpha_sum);
        let first_averaged = iterations / 2;
        let mut theta = vec![0.0; k];

        for sweep in 0..iterations {
            for (&word, topic) in words.iter().zip(topics.iter_mut()) {
                doc_topic[*topic as usize] -= 1;
                let weights = &self.word_weights[word as usize * k..(word as usize + 1) * k];
                let mut total = 0.0;
                for t in 0..k {
                    total += (f64::from(doc_topic[t]) + self.alpha[t]) * weights[t];
                    cumulative[t] = total;
                }
                let u = rng.next_f64() * total;
                let new = cumulative[..k - 1]
                    .iter()
                    .position(|&c| c > u)
                    .unwrap_or(k - 1);
                *topic = new as u16;
                doc_topic[new] += 1;
            }
            if sweep >= first_averaged {
                for t in 0..k {
                    theta[t] += (f64::from(doc_topic[t]) + self.alpha[t]) * normaliser;
                }
            }
        }

        // Renormalise the average so that rounding leaves the sum at 1 within 1e-15.
        let sum: f64 = theta.iter().sum();
        theta.iter_mut().for_each(|p| *p /= sum);
        theta
    }
}

struct InferBuffers {
    words: Vec<u32>,
    topics: Vec<u16>,
    doc_topic: Vec<u32>,
    cumulative: Vec<f64>,
}

impl InferBuffers {
    fn new(num_topics: usize) -> Self {
        Self {
            words: Vec::new(),
            topics: Vec::new(),
            doc_topic: Vec::new(),
            cumulative: vec![0.0; num_topics],
        }
    }
}
