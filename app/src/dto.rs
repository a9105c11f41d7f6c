//! Data sent from the server to the browser.
//!
//! These types travel as JSON in server-function responses and in the serialized resources that
//! hydration reads. JSON has no NaN or infinity, so every `f64` must be finite, or the browser
//! fails to decode the page's data.

use serde::{Deserialize, Serialize};

/// One row of the corpora table on the home page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CorpusSummary {
    /// The corpus name, unique within a data directory.
    pub name: String,
    /// Number of documents stored for the corpus.
    pub documents: u64,
    /// Number of distinct collections the documents belong to.
    pub collections: u64,
    /// Date of the oldest dated document (`YYYY-MM-DD`), or `None` when no document has a date.
    pub first_date: Option<String>,
    /// Date of the newest dated document (`YYYY-MM-DD`), or `None` when no document has a date.
    pub last_date: Option<String>,
    /// Creation time as an RFC 3339 timestamp.
    pub created_at: String,
}

/// One row of the runs table on the home page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The tracker's run id, used in the run page's URL (`/runs/{run_id}`).
    pub run_id: String,
    /// Name of the corpus the model was trained on.
    pub corpus: String,
    /// Number of topics the model was trained with.
    pub num_topics: u32,
    /// Run status as the tracker reports it, for example `running`, `finished` or `failed`.
    pub status: String,
    /// Start time as an RFC 3339 timestamp.
    pub started_at: String,
    /// Mean c_v coherence over topics, or `None` when it has not been computed.
    pub c_v: Option<f64>,
}

/// The home page's data: every corpus and every run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    /// Corpora, in the order the backend returns them.
    pub corpora: Vec<CorpusSummary>,
    /// Runs, newest first, as `Backend::list_runs` returns them.
    pub runs: Vec<RunSummary>,
}

/// Everything the run page shows about one trained model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    /// The tracker's run id.
    pub run_id: String,
    /// Name of the corpus the model was trained on.
    pub corpus: String,
    /// Run status as the tracker reports it, for example `running`, `finished` or `failed`.
    pub status: String,
    /// Start time as an RFC 3339 timestamp.
    pub started_at: String,
    /// Logged parameters as `(name, value)` pairs, shown in the given order.
    pub params: Vec<(String, String)>,
    /// Topics ordered by id.
    pub topics: Vec<TopicView>,
    /// One entry per coherence measure that was computed (c_v, u_mass, c_npmi, c_uci).
    pub coherence: Vec<MeasureView>,
    /// Log-likelihood per logged training step, oldest first. May be empty.
    pub log_likelihood: Vec<f64>,
}

/// One topic's most probable words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopicView {
    /// Topic id, from 0 to `num_topics - 1`.
    pub id: u32,
    /// `(word, probability)` pairs, most probable first. The reader chooses how many the page
    /// shows, up to the length of this list, so this length is the slider's maximum.
    pub words: Vec<(String, f64)>,
}

/// One coherence measure for a model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeasureView {
    /// Measure name as gensim spells it: `c_v`, `u_mass`, `c_npmi` or `c_uci`.
    pub measure: String,
    /// Mean over topics.
    pub overall: f64,
    /// Coherence of each topic, indexed by topic id; `None` for a topic with too few of its
    /// words in the texts to score. Empty when only the overall value exists.
    pub per_topic: Vec<Option<f64>>,
}

impl RunDetail {
    /// Returns each measure's coherence for one topic as `(measure, value)` pairs.
    pub fn topic_coherence(&self, topic_id: u32) -> Vec<(String, f64)> {
        self.coherence
            .iter()
            .filter_map(|measure| {
                let value = (*measure.per_topic.get(topic_id as usize)?)?;
                Some((measure.measure.clone(), value))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail_with(coherence: Vec<MeasureView>) -> RunDetail {
        RunDetail {
            run_id: "r1".into(),
            corpus: "c".into(),
            status: "finished".into(),
            started_at: "2024-01-01T00:00:00Z".into(),
            params: vec![],
            topics: vec![],
            coherence,
            log_likelihood: vec![],
        }
    }

    #[test]
    fn topic_coherence_picks_topic_index() {
        let detail = detail_with(vec![
            MeasureView {
                measure: "c_v".into(),
                overall: 0.5,
                per_topic: vec![Some(0.4), Some(0.6)],
            },
            MeasureView {
                measure: "u_mass".into(),
                overall: -2.0,
                per_topic: vec![Some(-1.0), Some(-3.0)],
            },
        ]);

        let values = detail.topic_coherence(1);

        assert_eq!(
            values,
            vec![("c_v".to_string(), 0.6), ("u_mass".to_string(), -3.0)]
        );
    }

    #[test]
    fn topic_coherence_skips_overall_only_measures() {
        let detail = detail_with(vec![MeasureView {
            measure: "c_npmi".into(),
            overall: 0.1,
            per_topic: vec![],
        }]);

        assert!(detail.topic_coherence(0).is_empty());
    }
}
