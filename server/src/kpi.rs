//! KPI: topic coherence for a tracked run, computed on the model loaded back from the tracker.

use serde::{Deserialize, Serialize};
use topica_core::coherence::{self, CoherenceSettings, Measure};
use topica_core::model::TopicModel;

use crate::context::Context;
use crate::tracker::{Metric, TrackerError};
use crate::train::{MODEL_ARTIFACT, load_training_corpus};

/// Artifact with per-topic coherence.
pub const COHERENCE_ARTIFACT: &str = "coherence.json";

/// The measures `topica kpi` computes, in report order.
pub const MEASURES: [Measure; 3] = [Measure::CV, Measure::UMass, Measure::CNpmi];

/// One measure's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MeasureScore {
    pub measure: String,
    /// Mean over the topics that have a value.
    pub overall: f64,
    /// One value per topic; `None` for a topic with too few words in the texts to score.
    pub per_topic: Vec<Option<f64>>,
    /// Topic words that never occur in the texts the measure was computed on.
    pub missing_words: Vec<(usize, String)>,
}

/// Coherence of one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KpiReport {
    pub run_id: String,
    pub corpus: String,
    pub top_n: usize,
    pub scores: Vec<MeasureScore>,
}

/// Failures of `topica kpi`.
#[derive(Debug, thiserror::Error)]
pub enum KpiError {
    /// Boxed, like `Train`, because these errors are large and travel through many `?`s.
    #[error(transparent)]
    Tracker(Box<TrackerError>),
    #[error("the model of run {run_id} cannot be loaded: {cause}")]
    Model { run_id: String, cause: String },
    #[error("run {run_id} has no {param:?} parameter: it was not trained by Topica")]
    MissingParam { run_id: String, param: &'static str },
    #[error(
        "run {run_id} was trained on pipeline {model_pipeline} but its model records pipeline {artifact_pipeline}: the artifact does not belong to this run"
    )]
    PipelineMismatch {
        run_id: String,
        model_pipeline: String,
        artifact_pipeline: String,
    },
    #[error("invalid top_n {0}: use at least 2 words per topic")]
    InvalidTopN(usize),
    #[error("coherence failed: {0}")]
    Coherence(String),
    #[error(transparent)]
    Train(Box<crate::train::TrainError>),
}

impl From<TrackerError> for KpiError {
    fn from(error: TrackerError) -> Self {
        Self::Tracker(Box::new(error))
    }
}

impl From<crate::train::TrainError> for KpiError {
    fn from(error: crate::train::TrainError) -> Self {
        Self::Train(Box::new(error))
    }
}

/// Loads a run's model artifact and checks its format version.
pub async fn load_model(context: &Context, run_id: &str) -> Result<TopicModel, KpiError> {
    let bytes = context
        .tracker
        .load_artifact(run_id, MODEL_ARTIFACT)
        .await?;
    TopicModel::from_bytes(&bytes).map_err(|error| KpiError::Model {
        run_id: run_id.to_owned(),
        cause: error.to_string(),
    })
}

/// Computes c_v, u_mass and c_npmi for a run and logs them as metrics on the same run.
///
/// c_v and c_npmi slide their windows over every document's preprocessed token lists before
/// dictionary filtering; u_mass counts document co-occurrence in the filtered training documents.
pub async fn kpi(context: &Context, run_id: &str, top_n: usize) -> Result<KpiReport, KpiError> {
    if top_n < 2 {
        return Err(KpiError::InvalidTopN(top_n));
    }
    let run = context.tracker.get_run(run_id).await?;
    let model = load_model(context, run_id).await?;
    let param = |name: &'static str| {
        run.params.get(name).cloned().ok_or(KpiError::MissingParam {
            run_id: run_id.to_owned(),
            param: name,
        })
    };
    let corpus = param("corpus")?;
    let pipeline_id = param("pipeline_id")?;
    if model.pipeline_id != pipeline_id {
        return Err(KpiError::PipelineMismatch {
            run_id: run_id.to_owned(),
            model_pipeline: pipeline_id,
            artifact_pipeline: model.pipeline_id,
        });
    }

    let training = load_training_corpus(context, &corpus, Some(&pipeline_id)).await?;
    let topics: Vec<Vec<String>> = (0..model.num_topics as usize)
        .map(|topic| {
            let words = model
                .top_words(topic, top_n)
                .map_err(|error| KpiError::Model {
                    run_id: run_id.to_owned(),
                    cause: error.to_string(),
                })?;
            Ok(words.into_iter().map(|(word, _)| word).collect())
        })
        .collect::<Result<_, KpiError>>()?;

    let scores = tokio::task::spawn_blocking(move || {
        let filtered: Vec<Vec<String>> = training
            .texts()
            .map(|tokens| {
                tokens
                    .iter()
                    .filter(|token| training.dictionary.token2id(token).is_some())
                    .cloned()
                    .collect()
            })
            .collect();
        MEASURES
            .iter()
            .map(|&measure| {
                let texts = if measure == Measure::UMass {
                    &filtered
                } else {
                    &training.all_texts
                };
                let settings = CoherenceSettings {
                    measure,
                    top_n,
                    window_size: None,
                };
                coherence::coherence(&topics, texts, &settings)
                    .map(|score| MeasureScore {
                        measure: measure.to_string(),
                        overall: score.overall,
                        per_topic: score.per_topic,
                        missing_words: score
                            .missing_words
                            .into_iter()
                            .map(|missing| (missing.topic, missing.word))
                            .collect(),
                    })
                    .map_err(|error| KpiError::Coherence(error.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .expect("the coherence task does not panic")?;

    let metrics: Vec<Metric> = scores
        .iter()
        .map(|score| Metric::now(format!("coherence_{}", score.measure), score.overall, 0))
        .collect();
    context.tracker.log_metrics(run_id, &metrics).await?;
    let report = KpiReport {
        run_id: run_id.to_owned(),
        corpus,
        top_n,
        scores,
    };
    context
        .tracker
        .log_artifact(
            run_id,
            COHERENCE_ARTIFACT,
            serde_json::to_vec_pretty(&report).expect("reports serialise"),
        )
        .await?;
    Ok(report)
}
