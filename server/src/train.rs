//! Training: bag-of-words from the stored tokens, the LDA plugin in the sandbox, and a tracked
//! run with parameters, per-iteration log-likelihood and the model artifact.

use std::time::Instant;

use serde::Serialize;
use topica_core::dictionary::Dictionary;
use topica_core::lda::LdaParams;
use topica_core::model::{TopicModel, TrainerInfo};
use topica_plugin_host::{Partitioning, SandboxLimits, TrainRequest};

use crate::context::Context;
use crate::store::{PipelineRecord, StoreError};
use crate::tracker::{Metric, RunStatus};

/// Artifact paths inside a run.
pub const MODEL_FOLDER: &str = "model";
pub const MODEL_ARTIFACT: &str = "model/model.json";
pub const DOC_TOPICS_ARTIFACT: &str = "doc_topics.json";
pub const TOPICS_CSV_ARTIFACT: &str = "topics.csv";
pub const PIPELINE_ARTIFACT: &str = "pipeline.json";

/// Number of top words per topic shown in reports and written to `topics.csv`.
const REPORTED_TOP_WORDS: usize = 10;

/// The split of one training run over plugin instances and threads; see
/// [`topica_plugin_host::Partitioning`]. The model depends on `partitions` but not on
/// `workers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parallelism {
    /// Partitions of the documents, at least 1; 1 trains in a single plugin instance.
    pub partitions: u32,
    /// Threads that run the partitions, at least 1.
    pub workers: usize,
}

impl Parallelism {
    /// One partition in one instance: the trainer's own `train`.
    pub const SINGLE: Self = Self {
        partitions: 1,
        workers: 1,
    };

    /// Returns the number of threads that actually run: never more than the partitions.
    pub fn workers_used(&self) -> usize {
        self.workers.min(self.partitions as usize).max(1)
    }
}

/// Settings of one training run.
#[derive(Debug, Clone)]
pub struct TrainJob {
    pub corpus: String,
    /// Pipeline id whose tokens to use; the latest pipeline when `None`.
    pub pipeline_id: Option<String>,
    pub params: LdaParams,
    pub experiment: String,
    /// Registered model that the trained model becomes a new version of; `None` registers
    /// nothing (sweeps register no versions).
    pub registered_model: Option<String>,
    /// Parent run of a sweep, recorded as MLflow's `mlflow.parentRunId` tag.
    pub parent_run_id: Option<String>,
    /// Print training progress on stderr.
    pub show_progress: bool,
}

/// A topic's top words with their probabilities.
#[derive(Debug, Clone, Serialize)]
pub struct TopicSummary {
    pub topic: usize,
    pub words: Vec<(String, f64)>,
}

/// Result of one training run.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    pub run_id: String,
    pub corpus: String,
    pub pipeline_id: String,
    pub num_topics: u32,
    pub iterations: u32,
    pub seed: u64,
    pub documents: usize,
    pub tokens: u64,
    /// Documents with no dictionary words, left out of training.
    pub excluded_documents: Vec<String>,
    /// Topics that received no tokens.
    pub empty_topics: Vec<usize>,
    pub final_log_likelihood: Option<f64>,
    pub seconds: f64,
    pub registered_model: Option<String>,
    /// Version of `registered_model` this run's model became.
    pub model_version: Option<String>,
    pub topics: Vec<TopicSummary>,
    pub warnings: Vec<String>,
}

/// Failures of `topica train`.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("invalid training settings: {0}")]
    InvalidParams(String),
    #[error(
        "no document of corpus {0:?} has any dictionary word left: relax the dictionary filters and preprocess again"
    )]
    NoDocuments(String),
    #[error("pipeline {pipeline_id} of corpus {corpus:?} has a corrupt dictionary: {cause}")]
    CorruptDictionary {
        corpus: String,
        pipeline_id: String,
        cause: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Plugin(#[from] topica_plugin_host::Error),
    #[error(transparent)]
    Tracker(#[from] crate::tracker::TrackerError),
    /// The trainer returned a model that fails validation.
    #[error("the trainer returned an invalid model: {0}")]
    InvalidModel(String),
}

/// The training documents of a pipeline, converted with its dictionary.
pub struct TrainingCorpus {
    pub pipeline: PipelineRecord,
    pub dictionary: Dictionary,
    /// Document ids, aligned with `bows`.
    pub doc_ids: Vec<String>,
    pub bows: Vec<Vec<(u32, u32)>>,
    /// For each of `bows`, the index of its token lists in `all_texts`.
    pub included: Vec<usize>,
    /// Every document's token lists before dictionary filtering, excluded ones included.
    pub all_texts: Vec<Vec<String>>,
    /// Ids aligned with `all_texts`.
    pub all_doc_ids: Vec<String>,
    /// Documents left out because no dictionary word remained.
    pub excluded: Vec<String>,
}

/// The [`DOC_TOPICS_ARTIFACT`]: document-topic counts, row-major `doc_ids x num_topics`.
#[derive(Serialize)]
struct DocTopicsArtifact<'a> {
    num_topics: u32,
    doc_ids: &'a [String],
    counts: &'a [u32],
}

/// Loads a pipeline's tokens and turns them into bag-of-words documents.
pub async fn load_training_corpus(
    context: &Context,
    corpus: &str,
    pipeline_id: Option<&str>,
) -> Result<TrainingCorpus, TrainError> {
    let pipelines = context.store.pipelines(corpus).await?;
    let pipeline = match pipeline_id {
        Some(id) => pipelines
            .into_iter()
            .find(|record| record.pipeline_id == id)
            .ok_or_else(|| StoreError::PipelineNotFound {
                corpus: corpus.to_owned(),
                pipeline_id: id.to_owned(),
            })?,
        None => pipelines
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::NotPreprocessed(corpus.to_owned()))?,
    };
    let dictionary: Dictionary =
        serde_json::from_value(pipeline.dictionary.clone()).map_err(|error| {
            TrainError::CorruptDictionary {
                corpus: corpus.to_owned(),
                pipeline_id: pipeline.pipeline_id.clone(),
                cause: error.to_string(),
            }
        })?;

    let tokens = context.store.tokens(corpus, &pipeline.pipeline_id).await?;
    let mut training = TrainingCorpus {
        pipeline,
        dictionary,
        doc_ids: Vec::new(),
        bows: Vec::new(),
        included: Vec::new(),
        all_texts: Vec::new(),
        all_doc_ids: Vec::new(),
        excluded: Vec::new(),
    };
    for entry in tokens {
        let bow = training.dictionary.doc2bow(&entry.tokens);
        if bow.is_empty() {
            training.excluded.push(entry.doc_id.clone());
        } else {
            training.doc_ids.push(entry.doc_id.clone());
            training.bows.push(bow);
            training.included.push(training.all_texts.len());
        }
        training.all_texts.push(entry.tokens);
        training.all_doc_ids.push(entry.doc_id);
    }
    Ok(training)
}

impl TrainingCorpus {
    /// Returns the token lists before dictionary filtering of the documents in `bows`, in order.
    pub fn texts(&self) -> impl Iterator<Item = &Vec<String>> {
        self.included.iter().map(|&index| &self.all_texts[index])
    }
}

/// Trains a model in a single plugin instance and tracks it as a run; see [`train_with`].
pub async fn train(context: &Context, request: &TrainJob) -> Result<TrainReport, TrainError> {
    train_with(context, request, Parallelism::SINGLE).await
}

/// Trains a model over `parallelism.partitions` partitions and tracks it as a run. A run whose
/// training fails is marked FAILED with the error.
pub async fn train_with(
    context: &Context,
    request: &TrainJob,
    parallelism: Parallelism,
) -> Result<TrainReport, TrainError> {
    if parallelism.partitions == 0 || parallelism.workers == 0 {
        return Err(TrainError::InvalidParams(format!(
            "partitions = {} and workers = {} are invalid: use at least 1 of each",
            parallelism.partitions, parallelism.workers
        )));
    }
    request
        .params
        .validate()
        .map_err(|error| TrainError::InvalidParams(error.to_string()))?;
    let mut training =
        load_training_corpus(context, &request.corpus, request.pipeline_id.as_deref()).await?;
    // The sampler needs only the bags of words, so the token strings are freed before it starts.
    training.all_texts = Vec::new();
    if training.bows.is_empty() {
        return Err(TrainError::NoDocuments(request.corpus.clone()));
    }
    let corpus_info = context.store.corpus(&request.corpus).await?;

    let mut warnings = Vec::new();
    if request.params.num_topics as usize > training.bows.len() {
        let warning = format!(
            "{} topics for {} documents: more topics than documents rarely gives distinct topics",
            request.params.num_topics,
            training.bows.len()
        );
        tracing::warn!("{warning}");
        warnings.push(warning);
    }

    let params = &request.params;
    let run_name = format!(
        "{}-k{}-seed{}",
        request.corpus, params.num_topics, params.seed
    );
    let mut tags = vec![
        ("topica.corpus".to_owned(), request.corpus.clone()),
        (
            "topica.pipeline_id".to_owned(),
            training.pipeline.pipeline_id.clone(),
        ),
        (
            "topica.version".to_owned(),
            env!("CARGO_PKG_VERSION").to_owned(),
        ),
    ];
    if let Some(parent) = &request.parent_run_id {
        tags.push(("mlflow.parentRunId".to_owned(), parent.clone()));
    }
    let run = context
        .tracker
        .create_run(&request.experiment, &run_name, &tags)
        .await?;
    let span = tracing::info_span!("train", run_id = %run.run_id, corpus = %request.corpus);
    let _guard = span.enter();
    tracing::info!(
        num_topics = params.num_topics,
        documents = training.bows.len(),
        "training started"
    );

    let outcome = run_training(
        context,
        &run.run_id,
        request,
        &training,
        &corpus_info.version,
        parallelism,
    )
    .await;
    match outcome {
        Ok(mut report) => {
            context
                .tracker
                .finish_run(&run.run_id, RunStatus::Finished, None)
                .await?;
            report.warnings = warnings;
            report.excluded_documents = training.excluded.clone();
            tracing::info!(seconds = report.seconds, "training finished");
            Ok(report)
        }
        Err(error) => {
            let message = error.to_string();
            if let Err(tracking_error) = context
                .tracker
                .finish_run(&run.run_id, RunStatus::Failed, Some(&message))
                .await
            {
                tracing::error!(%tracking_error, "could not mark the failed run as FAILED");
            }
            Err(error)
        }
    }
}

async fn run_training(
    context: &Context,
    run_id: &str,
    request: &TrainJob,
    training: &TrainingCorpus,
    corpus_version: &str,
    parallelism: Parallelism,
) -> Result<TrainReport, TrainError> {
    let params = request.params.clone();
    let plugin = context.host.builtin("lda")?;
    let plugin_id = plugin.id().clone();
    let tokens: u64 = training
        .bows
        .iter()
        .flatten()
        .map(|&(_, count)| u64::from(count))
        .sum();

    let mut logged_params = vec![
        ("num_topics".to_owned(), params.num_topics.to_string()),
        ("iterations".to_owned(), params.iterations.to_string()),
        ("alpha".to_owned(), params.alpha.to_string()),
        ("eta".to_owned(), params.eta.to_string()),
        ("seed".to_owned(), params.seed.to_string()),
        ("workers".to_owned(), parallelism.workers_used().to_string()),
        ("partitions".to_owned(), parallelism.partitions.to_string()),
        ("corpus".to_owned(), request.corpus.clone()),
        ("corpus_version".to_owned(), corpus_version.to_owned()),
        (
            "pipeline_id".to_owned(),
            training.pipeline.pipeline_id.clone(),
        ),
        (
            "trainer".to_owned(),
            format!("{}@{}", plugin_id.name, plugin_id.version),
        ),
        ("trainer_sha256".to_owned(), plugin_id.sha256.clone()),
        ("documents".to_owned(), training.bows.len().to_string()),
        (
            "vocabulary".to_owned(),
            training.dictionary.len().to_string(),
        ),
        (
            "topica_version".to_owned(),
            env!("CARGO_PKG_VERSION").to_owned(),
        ),
        (
            "preprocessing_plugins".to_owned(),
            plugin_list(&training.pipeline.description),
        ),
    ];
    logged_params.sort();
    context.tracker.log_params(run_id, &logged_params).await?;
    context
        .tracker
        .log_artifact(
            run_id,
            PIPELINE_ARTIFACT,
            serde_json::to_vec_pretty(&training.pipeline.description)
                .expect("JSON values serialise"),
        )
        .await?;

    let started = Instant::now();
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<(u32, u32, f64)>();
    let host = context.host.clone();
    let plugin_request = TrainRequest {
        num_topics: params.num_topics,
        vocab_size: training.dictionary.len() as u32,
        iterations: params.iterations,
        alpha: params.alpha,
        eta: params.eta,
        seed: params.seed,
        settings: serde_json::json!({
            "optimize_alpha_every": params.optimize_alpha_every,
            "optimize_alpha_burn_in": params.optimize_alpha_burn_in,
            "log_likelihood_every": params.log_likelihood_every,
        })
        .to_string(),
        docs: training.bows.clone(),
    };
    let training_task = tokio::task::spawn_blocking(move || {
        let progress = move |iteration, total, log_likelihood| {
            let _ = sender.send((iteration, total, log_likelihood));
            true
        };
        if parallelism.partitions == 1 {
            let mut model = host.topic_model(&plugin, &SandboxLimits::training())?;
            return model.train(&plugin_request, progress);
        }
        let partitioning = Partitioning {
            partitions: parallelism.partitions,
            workers: parallelism.workers_used(),
        };
        host.train_partitioned(
            &plugin,
            &SandboxLimits::training(),
            &plugin_request,
            &partitioning,
            progress,
        )
    });

    let mut last_printed = 0u32;
    let mut log_likelihood_iterations = Vec::new();
    while let Some((iteration, total, log_likelihood)) = receiver.recv().await {
        log_likelihood_iterations.push(iteration);
        context
            .tracker
            .log_metrics(
                run_id,
                &[Metric::now(
                    "log_likelihood",
                    log_likelihood,
                    i64::from(iteration),
                )],
            )
            .await?;
        if request.show_progress
            && (iteration >= last_printed + total.div_ceil(10) || iteration == total)
        {
            last_printed = iteration;
            eprintln!("  iteration {iteration}/{total}  log-likelihood {log_likelihood:.1}");
        }
    }
    let trained = training_task
        .await
        .expect("the training task does not panic")?;
    let seconds = started.elapsed().as_secs_f64();

    let model = TopicModel {
        format_version: topica_core::model::FORMAT_VERSION,
        num_topics: params.num_topics,
        vocabulary: training.dictionary.tokens().to_vec(),
        topic_word: trained.topic_word,
        alpha: trained.alpha,
        eta: trained.eta,
        iterations: params.iterations,
        seed: params.seed,
        pipeline_id: training.pipeline.pipeline_id.clone(),
        trainer: TrainerInfo {
            name: plugin_id.name.clone(),
            version: plugin_id.version.clone(),
            hash: plugin_id.sha256.clone(),
        },
        log_likelihood: trained.log_likelihood.clone(),
        log_likelihood_iterations,
        num_documents: training.bows.len() as u64,
        num_tokens: tokens,
    };
    model
        .validate()
        .map_err(|error| TrainError::InvalidModel(error.to_string()))?;
    let model_bytes = model
        .to_bytes()
        .map_err(|error| TrainError::InvalidModel(error.to_string()))?;
    context
        .tracker
        .log_artifact(run_id, MODEL_ARTIFACT, model_bytes)
        .await?;

    // Serialised from borrowed slices, because a `serde_json::Value` tree of the counts would
    // take tens of bytes per count, the largest allocation of a run with many documents.
    let doc_topics = DocTopicsArtifact {
        num_topics: params.num_topics,
        doc_ids: &training.doc_ids,
        counts: &trained.doc_topic,
    };
    context
        .tracker
        .log_artifact(
            run_id,
            DOC_TOPICS_ARTIFACT,
            serde_json::to_vec(&doc_topics).expect("document topics serialise"),
        )
        .await?;

    let topics = topic_summaries(&model, REPORTED_TOP_WORDS);
    context
        .tracker
        .log_artifact(
            run_id,
            TOPICS_CSV_ARTIFACT,
            topics_csv(&topics).into_bytes(),
        )
        .await?;
    let empty_topics: Vec<usize> = (0..model.num_topics as usize)
        .filter(|&topic| {
            let row =
                &model.topic_word[topic * model.vocab_size()..(topic + 1) * model.vocab_size()];
            row.iter().all(|&count| count == 0)
        })
        .collect();
    context
        .tracker
        .log_metrics(
            run_id,
            &[
                Metric::now("training_seconds", seconds, 0),
                Metric::now("empty_topics", empty_topics.len() as f64, 0),
            ],
        )
        .await?;

    let mut model_version = None;
    if let Some(name) = &request.registered_model {
        let version = context
            .registry
            .register_model_version(name, run_id, MODEL_FOLDER)
            .await?;
        tracing::info!(model = %name, version = %version.version, "model version registered");
        model_version = Some(version.version);
    }

    Ok(TrainReport {
        registered_model: request.registered_model.clone(),
        model_version,
        run_id: run_id.to_owned(),
        corpus: request.corpus.clone(),
        pipeline_id: training.pipeline.pipeline_id.clone(),
        num_topics: params.num_topics,
        iterations: params.iterations,
        seed: params.seed,
        documents: training.bows.len(),
        tokens,
        excluded_documents: Vec::new(),
        empty_topics,
        final_log_likelihood: trained.log_likelihood.last().copied(),
        seconds,
        topics,
        warnings: Vec::new(),
    })
}

/// Lists the preprocessing steps' plugins as `name@version#sha256-prefix`, comma-separated; the
/// full description, settings included, is the `pipeline.json` artifact.
fn plugin_list(description: &serde_json::Value) -> String {
    let steps = description["steps"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    steps
        .iter()
        .map(|step| {
            let plugin = &step["plugin"];
            let sha256 = plugin["sha256"].as_str().unwrap_or_default();
            format!(
                "{}@{}#{}",
                plugin["name"].as_str().unwrap_or("?"),
                plugin["version"].as_str().unwrap_or("?"),
                &sha256[..sha256.len().min(12)]
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Top words of every topic.
pub fn topic_summaries(model: &TopicModel, top_n: usize) -> Vec<TopicSummary> {
    (0..model.num_topics as usize)
        .map(|topic| TopicSummary {
            topic,
            words: model.top_words(topic, top_n).unwrap_or_default(),
        })
        .collect()
}

/// Renders topics as CSV: `topic,rank,word,weight`.
pub fn topics_csv(topics: &[TopicSummary]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(["topic", "rank", "word", "weight"])
        .expect("writing to memory succeeds");
    for summary in topics {
        for (rank, (word, weight)) in summary.words.iter().enumerate() {
            writer
                .write_record([
                    summary.topic.to_string(),
                    (rank + 1).to_string(),
                    word.clone(),
                    format!("{weight:.6}"),
                ])
                .expect("writing to memory succeeds");
        }
    }
    String::from_utf8(writer.into_inner().expect("writing to memory succeeds"))
        .expect("CSV of UTF-8 strings is UTF-8")
}
