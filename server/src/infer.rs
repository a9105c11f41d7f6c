//! Topic distributions of new texts under a tracked model: the run's preprocessing chain, the
//! model's vocabulary, then fold-in inference in the model's plugin.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use topica_core::lda::DEFAULT_INFER_ITERATIONS;
use topica_core::model::TopicModel;
use topica_plugin_host::{
    InferRequest, PluginHost, PluginKind, SandboxLimits, StepPlugin, StepRecord, TextPipeline,
    TopicState,
};

use crate::context::Context;
use crate::kpi::{KpiError, load_model};
use crate::train::PIPELINE_ARTIFACT;

/// One text to infer topics for.
#[derive(Debug, Clone)]
pub struct InputText {
    pub id: String,
    pub text: String,
}

/// A request of `topica infer`: the texts, the run whose model to use, and sampler settings.
#[derive(Debug, Clone)]
pub struct InferJob {
    pub run_id: String,
    pub texts: Vec<InputText>,
    /// Gibbs sweeps per document; default [`DEFAULT_INFER_ITERATIONS`].
    pub iterations: Option<u32>,
    pub seed: u64,
}

/// Topic distributions of the texts, with what the vocabulary did not cover.
#[derive(Debug, Clone, Serialize)]
pub struct InferReport {
    pub run_id: String,
    pub num_topics: u32,
    pub iterations: u32,
    pub seed: u64,
    /// Corpus filters of the run's chain that were not applied, because their statistics came
    /// from the training corpus and are not stored with the model.
    pub skipped_steps: Vec<String>,
    /// Steps whose built-in plugin is another build than the one the run used.
    pub changed_steps: Vec<String>,
    /// The most probable words of each topic, for reading the distributions.
    pub topic_words: Vec<Vec<String>>,
    pub documents: Vec<DocumentTopics>,
}

/// Words per topic in [`InferReport::topic_words`].
const TOPIC_WORDS: usize = 5;
/// Out-of-vocabulary words listed per text in [`DocumentTopics::oov_words`].
pub const OOV_WORDS: usize = 20;

/// The topic distribution of one text.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentTopics {
    pub id: String,
    /// Tokens after the preprocessing chain.
    pub tokens: usize,
    /// Tokens that are in the model's vocabulary.
    pub known_tokens: usize,
    /// Share of tokens outside the vocabulary, `(tokens - known_tokens) / tokens`. Absent when
    /// the chain left no token.
    pub oov_share: Option<f64>,
    /// The distinct tokens outside the vocabulary, in order of first appearance, at most
    /// [`OOV_WORDS`] of them.
    pub oov_words: Vec<String>,
    /// True when no token was in the vocabulary, so the distribution is the model's prior
    /// (alpha normalised).
    pub prior_only: bool,
    /// One probability per topic; they sum to 1.
    pub topics: Vec<f64>,
}

/// Failures of `topica infer`.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    #[error(transparent)]
    Model(#[from] KpiError),
    #[error("no texts to infer topics for: pass --text TEXT or --input FILE")]
    NoTexts,
    #[error("invalid iterations 0: use at least 1 Gibbs sweep per document")]
    ZeroIterations,
    #[error("the {PIPELINE_ARTIFACT} artifact of run {run_id} is not a Topica pipeline: {cause}")]
    Pipeline { run_id: String, cause: String },
    #[error(
        "step {index} of run {run_id} used the plugin `{plugin}`, which is not built into this Topica: inference needs the same chain the model was trained on"
    )]
    UnknownPlugin {
        run_id: String,
        index: usize,
        plugin: String,
    },
    /// Boxed, like the other commands' tracker errors, because it is large.
    #[error(transparent)]
    Tracker(Box<crate::tracker::TrackerError>),
    #[error(transparent)]
    Plugin(#[from] topica_plugin_host::Error),
}

impl From<crate::tracker::TrackerError> for InferError {
    fn from(error: crate::tracker::TrackerError) -> Self {
        Self::Tracker(Box::new(error))
    }
}

/// The `steps` of a run's pipeline artifact.
#[derive(serde::Deserialize)]
struct PipelineArtifact {
    steps: Vec<StepRecord>,
}

/// Runs the job: loads the model and the chain of `job.run_id`, preprocesses the texts, and
/// folds each one into the model's topics.
pub async fn infer(context: &Context, job: InferJob) -> Result<InferReport, InferError> {
    if job.texts.is_empty() {
        return Err(InferError::NoTexts);
    }
    let iterations = job.iterations.unwrap_or(DEFAULT_INFER_ITERATIONS);
    if iterations == 0 {
        return Err(InferError::ZeroIterations);
    }
    let model = load_model(context, &job.run_id).await?;
    let artifact = context
        .tracker
        .load_artifact(&job.run_id, PIPELINE_ARTIFACT)
        .await?;
    let pipeline: PipelineArtifact =
        serde_json::from_slice(&artifact).map_err(|error| InferError::Pipeline {
            run_id: job.run_id.clone(),
            cause: error.to_string(),
        })?;

    let host = context.host.clone();
    let run_id = job.run_id.clone();
    let seed = job.seed;
    tokio::task::spawn_blocking(move || {
        let chain = replay_chain(&host, &run_id, &pipeline.steps)?;
        let texts: Vec<String> = job.texts.iter().map(|input| input.text.clone()).collect();
        let token_lists = chain.pipeline.run(&texts)?;

        let (bags, coverage) = bags_of_words(&model, &token_lists);
        let topic_words = (0..model.num_topics as usize)
            .map(|topic| {
                model
                    .top_words(topic, TOPIC_WORDS)
                    .map(|words| words.into_iter().map(|(word, _)| word).collect())
            })
            .collect::<Result<Vec<Vec<String>>, _>>()
            .map_err(|error| {
                InferError::Model(KpiError::Model {
                    run_id: run_id.clone(),
                    cause: error.to_string(),
                })
            })?;
        let plugin = host.builtin(&model.trainer.name)?;
        let mut topic_model = host.topic_model(&plugin, &SandboxLimits::training())?;
        let state = TopicState {
            num_topics: model.num_topics,
            vocab_size: model.vocab_size() as u32,
            topic_word: model.topic_word.clone(),
            alpha: model.alpha.clone(),
            eta: model.eta,
        };
        let request = InferRequest {
            iterations,
            seed,
            docs: bags,
        };
        let distributions = topic_model.infer(&state, &request)?;

        let documents = job
            .texts
            .into_iter()
            .zip(coverage)
            .zip(distributions)
            .map(|((input, coverage), topics)| DocumentTopics {
                id: input.id,
                tokens: coverage.tokens,
                known_tokens: coverage.known_tokens,
                oov_words: coverage.oov_words,
                oov_share: (coverage.tokens > 0).then(|| {
                    (coverage.tokens - coverage.known_tokens) as f64 / coverage.tokens as f64
                }),
                prior_only: coverage.known_tokens == 0,
                topics,
            })
            .collect();
        Ok(InferReport {
            run_id,
            num_topics: model.num_topics,
            iterations,
            seed,
            skipped_steps: chain.skipped,
            changed_steps: chain.changed,
            topic_words,
            documents,
        })
    })
    .await
    .expect("the inference task does not panic")
}

/// The run's chain rebuilt from its step records, without its corpus filters.
struct ReplayedChain {
    pipeline: TextPipeline,
    skipped: Vec<String>,
    changed: Vec<String>,
}

fn replay_chain(
    host: &PluginHost,
    run_id: &str,
    steps: &[StepRecord],
) -> Result<ReplayedChain, InferError> {
    let mut specs = Vec::new();
    let mut skipped = Vec::new();
    let mut changed = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        let name = &step.plugin.name;
        if !PluginHost::builtin_names().any(|builtin| builtin == name) {
            return Err(InferError::UnknownPlugin {
                run_id: run_id.to_owned(),
                index,
                plugin: name.clone(),
            });
        }
        let builtin = host.builtin(name)?;
        // NOTE: a corpus filter, such as `phrases`, learned its statistics from the training
        // corpus, and the corpus-filter interface cannot export them. Inference skips it, so
        // the words it would have joined are looked up one by one.
        if step.kind == PluginKind::CorpusFilter {
            skipped.push(name.clone());
            continue;
        }
        if builtin.id().sha256 != step.plugin.sha256 {
            changed.push(name.clone());
        }
        specs.push((StepPlugin::Loaded(builtin), step.settings.to_string()));
    }
    let pipeline = TextPipeline::new(host, specs)?;
    Ok(ReplayedChain {
        pipeline,
        skipped,
        changed,
    })
}

/// How much of one text the model's vocabulary covers.
struct Coverage {
    tokens: usize,
    known_tokens: usize,
    oov_words: Vec<String>,
}

/// Maps each token list to a bag of word ids of the model's vocabulary, and measures how much
/// of each list the vocabulary covers.
fn bags_of_words(
    model: &TopicModel,
    token_lists: &[Vec<String>],
) -> (Vec<Vec<(u32, u32)>>, Vec<Coverage>) {
    let ids: HashMap<&str, u32> = model
        .vocabulary
        .iter()
        .enumerate()
        .map(|(id, word)| (word.as_str(), id as u32))
        .collect();
    let mut bags = Vec::with_capacity(token_lists.len());
    let mut coverage = Vec::with_capacity(token_lists.len());
    for tokens in token_lists {
        let mut bag: BTreeMap<u32, u32> = BTreeMap::new();
        let mut oov_words: Vec<String> = Vec::new();
        for token in tokens {
            match ids.get(token.as_str()) {
                Some(&id) => *bag.entry(id).or_default() += 1,
                None if oov_words.len() < OOV_WORDS && !oov_words.contains(token) => {
                    oov_words.push(token.clone());
                }
                None => {}
            }
        }
        let known: u32 = bag.values().sum();
        coverage.push(Coverage {
            tokens: tokens.len(),
            known_tokens: known as usize,
            oov_words,
        });
        bags.push(bag.into_iter().collect());
    }
    (bags, coverage)
}
