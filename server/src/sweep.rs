//! `topica sweep`: one model per number of topics, trained in parallel plugin instances, each
//! scored with coherence and tracked as a child run of one parent run.

use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;
use topica_core::lda::LdaParams;

use crate::context::Context;
use crate::kpi::kpi;
use crate::tracker::{Metric, RunStatus};
use crate::train::{TrainJob, train};

/// Settings of one sweep.
#[derive(Debug, Clone)]
pub struct SweepJob {
    pub corpus: String,
    pub pipeline_id: Option<String>,
    pub topics: RangeInclusive<u32>,
    /// Settings shared by every model; `num_topics` is replaced per model.
    pub params: LdaParams,
    pub experiment: String,
    /// Models trained at the same time, each in its own plugin instance.
    pub workers: usize,
    /// Top words per topic for coherence.
    pub top_n: usize,
}

/// One model of the sweep.
#[derive(Debug, Clone, Serialize)]
pub struct SweepEntry {
    pub num_topics: u32,
    pub run_id: String,
    pub c_v: f64,
    pub u_mass: f64,
    pub c_npmi: f64,
    pub training_seconds: f64,
    /// Top words of each topic, most probable first.
    pub topics: Vec<Vec<String>>,
}

/// The sweep's results, sorted by number of topics.
#[derive(Debug, Clone, Serialize)]
pub struct SweepReport {
    pub parent_run_id: String,
    pub corpus: String,
    pub workers: usize,
    pub seconds: f64,
    /// Number of topics with the highest c_v.
    pub best_num_topics: u32,
    pub models: Vec<SweepEntry>,
}

/// Parses `3..19` or `3..=19` (both inclusive) or a single number.
pub fn parse_topic_range(text: &str) -> Result<RangeInclusive<u32>, String> {
    let invalid = || format!("invalid topic range {text:?}: write FIRST..LAST, such as 3..19");
    let (first, last) = match text.split_once("..") {
        Some((first, last)) => (first, last.trim_start_matches('=')),
        None => (text, text),
    };
    let first: u32 = first.trim().parse().map_err(|_| invalid())?;
    let last: u32 = last.trim().parse().map_err(|_| invalid())?;
    if first == 0 || first > last {
        return Err(format!(
            "invalid topic range {text:?}: FIRST must be at least 1 and at most LAST"
        ));
    }
    Ok(first..=last)
}

/// Trains and scores one model per number of topics.
pub async fn sweep(context: &Context, job: &SweepJob) -> anyhow::Result<SweepReport> {
    anyhow::ensure!(job.workers >= 1, "invalid workers 0: use at least 1");
    // Check the settings shared by every model before the parent run exists.
    job.params
        .validate()
        .map_err(|error| anyhow::anyhow!("invalid training settings: {error}"))?;
    let started = Instant::now();
    let run_name = format!(
        "{}-sweep-k{}-{}",
        job.corpus,
        job.topics.start(),
        job.topics.end()
    );
    let tags = vec![
        ("topica.corpus".to_owned(), job.corpus.clone()),
        ("topica.kind".to_owned(), "sweep".to_owned()),
    ];
    let parent = context
        .tracker
        .create_run(&job.experiment, &run_name, &tags)
        .await?;
    context
        .tracker
        .log_params(
            &parent.run_id,
            &[
                ("corpus".to_owned(), job.corpus.clone()),
                (
                    "topics".to_owned(),
                    format!("{}..{}", job.topics.start(), job.topics.end()),
                ),
                ("iterations".to_owned(), job.params.iterations.to_string()),
                ("alpha".to_owned(), job.params.alpha.to_string()),
                ("eta".to_owned(), job.params.eta.to_string()),
                ("seed".to_owned(), job.params.seed.to_string()),
                ("workers".to_owned(), job.workers.to_string()),
                ("top_n".to_owned(), job.top_n.to_string()),
            ],
        )
        .await?;

    match run_children(context, job, &parent.run_id).await {
        Ok(mut models) => {
            models.sort_by_key(|entry| entry.num_topics);
            // The per-K curve is `sweep_c_v` with K as the step. `coherence_c_v` stays reserved
            // for single models, so run listings never show one K's value as the sweep's.
            let mut metrics: Vec<Metric> = models
                .iter()
                .map(|entry| Metric::now("sweep_c_v", entry.c_v, i64::from(entry.num_topics)))
                .collect();
            let best = models.iter().max_by(|a, b| a.c_v.total_cmp(&b.c_v));
            let best_num_topics = best.map_or(0, |entry| entry.num_topics);
            if let Some(best) = best {
                metrics.push(Metric::now("best_c_v", best.c_v, 0));
                metrics.push(Metric::now(
                    "best_num_topics",
                    f64::from(best.num_topics),
                    0,
                ));
            }
            context
                .tracker
                .log_metrics(&parent.run_id, &metrics)
                .await?;
            context
                .tracker
                .finish_run(&parent.run_id, RunStatus::Finished, None)
                .await?;
            Ok(SweepReport {
                parent_run_id: parent.run_id,
                corpus: job.corpus.clone(),
                workers: job.workers,
                seconds: started.elapsed().as_secs_f64(),
                best_num_topics,
                models,
            })
        }
        Err(error) => {
            let message = format!("{error:#}");
            if let Err(tracking_error) = context
                .tracker
                .finish_run(&parent.run_id, RunStatus::Failed, Some(&message))
                .await
            {
                tracing::error!(%tracking_error, "could not mark the failed sweep as FAILED");
            }
            Err(error)
        }
    }
}

async fn run_children(
    context: &Context,
    job: &SweepJob,
    parent_run_id: &str,
) -> anyhow::Result<Vec<SweepEntry>> {
    let permits = Arc::new(tokio::sync::Semaphore::new(job.workers));
    let mut tasks = tokio::task::JoinSet::new();
    for num_topics in job.topics.clone() {
        let mut params = job.params.clone();
        params.num_topics = num_topics;
        let train_job = TrainJob {
            corpus: job.corpus.clone(),
            pipeline_id: job.pipeline_id.clone(),
            params,
            experiment: job.experiment.clone(),
            registered_model: None,
            parent_run_id: Some(parent_run_id.to_owned()),
            show_progress: false,
        };
        let context = context.clone();
        let permits = permits.clone();
        let top_n = job.top_n;
        tasks.spawn(async move {
            let _permit = permits
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let trained = train(&context, &train_job)
                .await
                .with_context(|| format!("training the model with {num_topics} topics failed"))?;
            let scored = kpi(&context, &trained.run_id, top_n)
                .await
                .with_context(|| format!("scoring the model with {num_topics} topics failed"))?;
            let overall = |measure: &str| {
                scored
                    .scores
                    .iter()
                    .find(|score| score.measure == measure)
                    .map_or(f64::NAN, |score| score.overall)
            };
            eprintln!(
                "  K={num_topics:<3} c_v {:.4}  ({:.1} s)",
                overall("c_v"),
                trained.seconds
            );
            Ok::<_, anyhow::Error>(SweepEntry {
                num_topics,
                run_id: trained.run_id,
                c_v: overall("c_v"),
                u_mass: overall("u_mass"),
                c_npmi: overall("c_npmi"),
                training_seconds: trained.seconds,
                topics: trained
                    .topics
                    .into_iter()
                    .map(|topic| topic.words.into_iter().map(|(word, _)| word).collect())
                    .collect(),
            })
        });
    }

    let mut models = Vec::new();
    while let Some(result) = tasks.join_next().await {
        models.push(result.expect("sweep tasks do not panic")?);
    }
    Ok(models)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_ranges_are_inclusive() {
        assert_eq!(parse_topic_range("3..19"), Ok(3..=19));
        assert_eq!(parse_topic_range("3..=19"), Ok(3..=19));
        assert_eq!(parse_topic_range("7"), Ok(7..=7));
    }

    #[test]
    fn invalid_topic_ranges_are_rejected() {
        assert!(
            parse_topic_range("0..5")
                .unwrap_err()
                .contains("at least 1")
        );
        assert!(
            parse_topic_range("9..3")
                .unwrap_err()
                .contains("at most LAST")
        );
        assert!(
            parse_topic_range("a..b")
                .unwrap_err()
                .contains("FIRST..LAST")
        );
    }
}
