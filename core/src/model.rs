//! The trained topic model as a versioned artifact: what training writes, what the tracker
//! stores, and what inference and the analyses load back.
//!
//! The artifact is JSON. [`TopicModel::from_bytes`] reads the format version before anything
//! else, so an artifact from another version fails with a message naming both versions instead of
//! a confusing missing-field error.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::lda::{FixedTopics, LdaError, LdaOutput, LdaParams};

/// Version of the artifact layout that this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// The plugin (or other trainer) that produced a model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainerInfo {
    /// Stable name, such as `lda`.
    pub name: String,
    /// Semantic version of the trainer's behaviour.
    pub version: String,
    /// Content hash of the trainer's code, such as the SHA-256 of the plugin component.
    pub hash: String,
}

/// A trained topic model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicModel {
    /// Artifact layout version; [`FORMAT_VERSION`] for models written by this build.
    pub format_version: u32,
    /// Number of topics K.
    pub num_topics: u32,
    /// Words of the dictionary, indexed by word id. Its length is the vocabulary size V.
    pub vocabulary: Vec<String>,
    /// Topic-word counts, row-major `K x V`.
    pub topic_word: Vec<u32>,
    /// Document-topic prior per topic (asymmetric when it was optimised).
    pub alpha: Vec<f64>,
    /// Topic-word prior.
    pub eta: f64,
    /// Gibbs sweeps (or passes) run in training.
    pub iterations: u32,
    /// Seed of the training run.
    pub seed: u64,
    /// Identifier of the preprocessing pipeline whose tokens trained the model; new documents
    /// must go through the same pipeline before inference.
    pub pipeline_id: String,
    /// The trainer that produced the model.
    pub trainer: TrainerInfo,
    /// Log-likelihood after each reported training sweep.
    pub log_likelihood: Vec<f64>,
    /// The 1-based sweep of each `log_likelihood` value; empty when the trainer did not
    /// report them.
    #[serde(default)]
    pub log_likelihood_iterations: Vec<u32>,
    /// Number of training documents.
    pub num_documents: u64,
    /// Number of training tokens.
    pub num_tokens: u64,
}

/// A failure to read, write or check a [`TopicModel`].
#[derive(Debug, Error)]
pub enum ModelError {
    /// The bytes are not a JSON model artifact.
    #[error("the model artifact is not valid JSON: {0}; export the model again")]
    Json(#[from] serde_json::Error),
    /// The artifact was written in a format version this build does not read.
    #[error(
        "model format version {found} is not supported by this Topica (supports {FORMAT_VERSION}); retrain or upgrade"
    )]
    UnsupportedVersion {
        /// The version in the artifact.
        found: u32,
    },
    /// The artifact's fields disagree with each other or hold invalid values; the message names
    /// the field.
    #[error("invalid model: {0}")]
    Invalid(String),
    /// A topic index is out of range.
    #[error("topic {topic} does not exist: the model has {num_topics} topics (0 to {last})", last = num_topics.saturating_sub(1))]
    TopicOutOfRange {
        /// The requested topic.
        topic: usize,
        /// Number of topics in the model.
        num_topics: u32,
    },
}

#[derive(Deserialize)]
struct VersionOnly {
    format_version: u32,
}

impl TopicModel {
    /// Builds a model from the output of [`crate::lda::train`] and the settings that produced it,
    /// then checks it.
    pub fn from_lda_output(
        output: &LdaOutput,
        params: &LdaParams,
        vocabulary: Vec<String>,
        pipeline_id: String,
        trainer: TrainerInfo,
    ) -> Result<Self, ModelError> {
        let model = Self {
            format_version: FORMAT_VERSION,
            num_topics: output.num_topics,
            vocabulary,
            topic_word: output.topic_word.clone(),
            alpha: output.alpha.clone(),
            eta: output.eta,
            iterations: params.iterations,
            seed: params.seed,
            pipeline_id,
            trainer,
            log_likelihood: output.log_likelihood.clone(),
            log_likelihood_iterations: output.log_likelihood_iterations.clone(),
            num_documents: (output.doc_topic.len() / output.num_topics.max(1) as usize) as u64,
            num_tokens: output.num_tokens,
        };
        model.validate()?;
        Ok(model)
    }

    /// Serialises the model as JSON.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        Ok(serde_json::to_vec(self)?)
    }

    /// Reads a model written by [`TopicModel::to_bytes`], checking its format version first and
    /// its fields after.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let version: VersionOnly = serde_json::from_slice(bytes)?;
        if version.format_version != FORMAT_VERSION {
            return Err(ModelError::UnsupportedVersion {
                found: version.format_version,
            });
        }
        let model: Self = serde_json::from_slice(bytes)?;
        model.validate()?;
        Ok(model)
    }

    /// Checks that the lengths agree and that every value is finite and in range.
    pub fn validate(&self) -> Result<(), ModelError> {
        self.validate_lengths()?;
        self.validate_values()
    }

    fn validate_lengths(&self) -> Result<(), ModelError> {
        let k = self.num_topics as usize;
        let v = self.vocabulary.len();
        if self.format_version != FORMAT_VERSION {
            return Err(ModelError::UnsupportedVersion {
                found: self.format_version,
            });
        }
        if k == 0 {
            return Err(ModelError::Invalid(
                "num_topics = 0; a model has at least 1 topic".into(),
            ));
        }
        if self.topic_word.len() != k * v {
            return Err(ModelError::Invalid(format!(
                "topic_word has {} counts, expected num_topics x vocabulary size = {k} x {v} = {}",
                self.topic_word.len(),
                k * v
            )));
        }
        if self.alpha.len() != k {
            return Err(ModelError::Invalid(format!(
                "alpha has {} values, expected one per topic ({k})",
                self.alpha.len()
            )));
        }
        if !self.log_likelihood_iterations.is_empty()
            && self.log_likelihood_iterations.len() != self.log_likelihood.len()
        {
            return Err(ModelError::Invalid(format!(
                "log_likelihood_iterations has {} values but log_likelihood has {}",
                self.log_likelihood_iterations.len(),
                self.log_likelihood.len()
            )));
        }
        Ok(())
    }

    fn validate_values(&self) -> Result<(), ModelError> {
        if let Some((topic, value)) = self
            .alpha
            .iter()
            .enumerate()
            .find(|(_, a)| !(a.is_finite() && **a > 0.0))
        {
            return Err(ModelError::Invalid(format!(
                "alpha[{topic}] = {value}; every alpha must be finite and > 0"
            )));
        }
        if !(self.eta.is_finite() && self.eta > 0.0) {
            return Err(ModelError::Invalid(format!(
                "eta = {}; eta must be finite and > 0",
                self.eta
            )));
        }
        if let Some((index, value)) = self
            .log_likelihood
            .iter()
            .enumerate()
            .find(|(_, x)| !x.is_finite())
        {
            return Err(ModelError::Invalid(format!(
                "log_likelihood[{index}] = {value}; every value must be finite"
            )));
        }
        Ok(())
    }

    /// Returns the vocabulary size V.
    pub fn vocab_size(&self) -> usize {
        self.vocabulary.len()
    }

    /// Returns φ, row-major `K x V`, with `φ_kw = (n_kw + η) / (n_k + Vη)`; every row sums to 1.
    pub fn phi(&self) -> Vec<f64> {
        crate::lda::topic_word_distribution(&self.topic_word, self.num_topics as usize, self.eta)
    }

    /// Returns the `n` most probable words of `topic` with their φ probabilities, most probable
    /// first.
    pub fn top_words(&self, topic: usize, n: usize) -> Result<Vec<(String, f64)>, ModelError> {
        if topic >= self.num_topics as usize {
            return Err(ModelError::TopicOutOfRange {
                topic,
                num_topics: self.num_topics,
            });
        }
        let top = crate::lda::top_words(
            &self.topic_word,
            self.num_topics as usize,
            self.eta,
            topic,
            n,
        );
        Ok(top
            .into_iter()
            .map(|(word, weight)| (self.vocabulary[word as usize].clone(), weight))
            .collect())
    }

    /// Returns the topics prepared for fold-in inference.
    pub fn fixed_topics(&self) -> Result<FixedTopics, LdaError> {
        FixedTopics::new(
            self.num_topics,
            self.vocabulary.len() as u32,
            &self.topic_word,
            &self.alpha,
            self.eta,
        )
    }
}
