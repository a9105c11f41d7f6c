//! LDA hyperparameters as an unchecked/checked pair: [`LdaParams`] is what callers fill in,
//! [`ValidLdaParams`] is what the sampler accepts, and [`LdaParams::validate`] is the only way
//! from one to the other.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Default number of Gibbs sweeps: MALLET's default, enough for the joint log-likelihood of
/// corpora of about a million tokens at 10 to 50 topics to level off.
pub const DEFAULT_ITERATIONS: u32 = 1000;
/// Default symmetric document-topic prior per topic (tomotopy's default).
pub const DEFAULT_ALPHA: f64 = 0.1;
/// Default symmetric topic-word prior (MALLET's and tomotopy's default).
pub const DEFAULT_ETA: f64 = 0.01;
/// Default interval, in sweeps, between two optimisations of an asymmetric alpha (tomotopy's
/// `optim_interval`). On the benchmark's ungd_paragraphs corpus at 10 topics (median of 3
/// seeds), it raised c_v@10 from 0.567 to 0.581 at 200 sweeps, and 500 sweeps with it beat
/// 1000 sweeps without it (0.591 against 0.559).
pub const DEFAULT_OPTIMIZE_ALPHA_EVERY: u32 = 10;
/// Default number of sweeps before the first alpha optimisation, so that the first estimate
/// comes from topics that have started to form.
pub const DEFAULT_OPTIMIZE_ALPHA_BURN_IN: u32 = 50;
/// Default interval between two log-likelihood computations and progress reports.
pub const DEFAULT_LOG_LIKELIHOOD_EVERY: u32 = 10;
/// Largest supported number of topics, because topic assignments are stored as `u16`.
pub const MAX_TOPICS: u32 = u16::MAX as u32;

/// LDA training settings before validation. Every field except `num_topics` has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdaParams {
    /// Number of topics K, from 1 to [`MAX_TOPICS`]. Required.
    pub num_topics: u32,
    /// Gibbs sweeps over the corpus. Default [`DEFAULT_ITERATIONS`].
    #[serde(default = "default_iterations")]
    pub iterations: u32,
    /// Initial symmetric document-topic prior per topic; finite and > 0. Default
    /// [`DEFAULT_ALPHA`]. The sum over topics is `num_topics * alpha`.
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Symmetric topic-word prior; finite and > 0. Default [`DEFAULT_ETA`]. It is never
    /// optimised.
    #[serde(default = "default_eta")]
    pub eta: f64,
    /// Seed of the pseudo-random generator. Default 0. Equal seeds and inputs give equal
    /// counts, bit for bit, natively and in WebAssembly.
    #[serde(default)]
    pub seed: u64,
    /// Interval, in sweeps, between two optimisations of an asymmetric alpha by Minka's fixed
    /// point (as in MALLET); 0 keeps alpha fixed and symmetric. Default
    /// [`DEFAULT_OPTIMIZE_ALPHA_EVERY`].
    #[serde(default = "default_optimize_alpha_every")]
    pub optimize_alpha_every: u32,
    /// Sweeps before the first alpha optimisation. Default [`DEFAULT_OPTIMIZE_ALPHA_BURN_IN`].
    /// Ignored when `optimize_alpha_every` is 0.
    #[serde(default = "default_burn_in")]
    pub optimize_alpha_burn_in: u32,
    /// Interval, in sweeps, between two log-likelihood computations and progress reports; the
    /// last sweep is always reported. Must be > 0. Default [`DEFAULT_LOG_LIKELIHOOD_EVERY`].
    /// Each computation costs about one sweep over the K x V topic-word counts.
    #[serde(default = "default_log_likelihood_every")]
    pub log_likelihood_every: u32,
}

fn default_iterations() -> u32 {
    DEFAULT_ITERATIONS
}

fn default_alpha() -> f64 {
    DEFAULT_ALPHA
}

fn default_eta() -> f64 {
    DEFAULT_ETA
}

fn default_optimize_alpha_every() -> u32 {
    DEFAULT_OPTIMIZE_ALPHA_EVERY
}

fn default_burn_in() -> u32 {
    DEFAULT_OPTIMIZE_ALPHA_BURN_IN
}

fn default_log_likelihood_every() -> u32 {
    DEFAULT_LOG_LIKELIHOOD_EVERY
}

/// An invalid field of [`LdaParams`]; the message quotes the value and the accepted range.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LdaParamsError {
    /// `num_topics` is 0 or above [`MAX_TOPICS`].
    #[error("num_topics = {0} is invalid: set it between 1 and {MAX_TOPICS}")]
    NumTopics(u32),
    /// `iterations` is 0.
    #[error("iterations = 0 is invalid: set at least 1 Gibbs sweep (default {DEFAULT_ITERATIONS})")]
    Iterations,
    /// `alpha` is not finite or not positive.
    #[error("alpha = {0} is invalid: set a finite value > 0 (default {DEFAULT_ALPHA})")]
    Alpha(f64),
    /// `eta` is not finite or not positive.
    #[error("eta = {0} is invalid: set a finite value > 0 (default {DEFAULT_ETA})")]
    Eta(f64),
    /// `log_likelihood_every` is 0.
    #[error(
        "log_likelihood_every = 0 is invalid: set the interval in sweeps, at least 1 (default {DEFAULT_LOG_LIKELIHOOD_EVERY})"
    )]
    LogLikelihoodEvery,
}

impl LdaParams {
    /// Creates settings for `num_topics` topics with every other field at its default.
    pub fn new(num_topics: u32) -> Self {
        Self {
            num_topics,
            iterations: DEFAULT_ITERATIONS,
            alpha: DEFAULT_ALPHA,
            eta: DEFAULT_ETA,
            seed: 0,
            optimize_alpha_every: DEFAULT_OPTIMIZE_ALPHA_EVERY,
            optimize_alpha_burn_in: DEFAULT_OPTIMIZE_ALPHA_BURN_IN,
            log_likelihood_every: DEFAULT_LOG_LIKELIHOOD_EVERY,
        }
    }

    /// Checks every field and returns the settings the sampler accepts.
    pub fn validate(&self) -> Result<ValidLdaParams, LdaParamsError> {
        if self.num_topics == 0 || self.num_topics > MAX_TOPICS {
            return Err(LdaParamsError::NumTopics(self.num_topics));
        }
        if self.iterations == 0 {
            return Err(LdaParamsError::Iterations);
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return Err(LdaParamsError::Alpha(self.alpha));
        }
        if !(self.eta.is_finite() && self.eta > 0.0) {
            return Err(LdaParamsError::Eta(self.eta));
        }
        if self.log_likelihood_every == 0 {
            return Err(LdaParamsError::LogLikelihoodEvery);
        }
        Ok(ValidLdaParams(self.clone()))
    }
}

/// Settings that passed [`LdaParams::validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidLdaParams(LdaParams);

impl ValidLdaParams {
    /// Returns the validated settings.
    pub fn get(&self) -> &LdaParams {
        &self.0
    }

    /// Returns whether sweep `iteration` (1-based) ends with an alpha optimisation.
    pub(crate) fn optimizes_alpha_after(&self, iteration: u32) -> bool {
        let every = self.0.optimize_alpha_every;
        every > 0
            && iteration > self.0.optimize_alpha_burn_in
            && (iteration - self.0.optimize_alpha_burn_in).is_multiple_of(every)
    }

    /// Returns whether sweep `iteration` (1-based) ends with a log-likelihood and a progress
    /// report.
    pub(crate) fn reports_after(&self, iteration: u32) -> bool {
        iteration.is_multiple_of(self.0.log_likelihood_every) || iteration == self.0.iterations
    }
}
