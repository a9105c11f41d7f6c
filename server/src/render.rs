//! Text renderings of command reports, for `--format text`.

use std::fmt::Write as _;

use crate::infer::InferReport;
use crate::ingest::IngestReport;
use crate::kpi::KpiReport;
use crate::preprocess::PreprocessReport;
use crate::sweep::SweepReport;
use crate::train::TrainReport;

/// Joins at most `limit` items and appends how many more there are.
pub(crate) fn list_some(items: impl ExactSizeIterator<Item = String>, limit: usize) -> String {
    let total = items.len();
    let mut shown: Vec<String> = items.take(limit).collect();
    if total > limit {
        shown.push(format!("and {} more", total - limit));
    }
    shown.join(", ")
}

pub(crate) fn render_ingest(report: &IngestReport) -> String {
    let mut text = String::new();
    let noun = if report.documents_stored == 1 {
        "document"
    } else {
        "documents"
    };
    let _ = writeln!(
        text,
        "Stored {} {noun} in corpus {:?} from {}",
        report.documents_stored, report.corpus, report.source
    );
    if !report.collections.is_empty() {
        let _ = writeln!(text, "  collections: {}", report.collections.join(", "));
    }

    if !report.skipped.is_empty() {
        let _ = writeln!(text, "  skipped {} item(s):", report.skipped.len());
        for skipped in &report.skipped {
            let _ = writeln!(text, "    {}: {}", skipped.item, skipped.reason);
        }
    }

    let impossible: Vec<String> = report
        .date_issues
        .iter()
        .filter(|issue| issue.problem == "impossible")
        .map(|issue| {
            format!(
                "{} ({})",
                issue.doc_id,
                issue.value.as_deref().unwrap_or("")
            )
        })
        .collect();
    if !impossible.is_empty() {
        let _ = writeln!(
            text,
            "  impossible dates, stored undated: {}",
            list_some(impossible.into_iter(), 20)
        );
    }

    let missing: Vec<String> = report
        .date_issues
        .iter()
        .filter(|issue| issue.problem == "missing")
        .map(|issue| issue.doc_id.clone())
        .collect();
    if !missing.is_empty() {
        let _ = writeln!(
            text,
            "  no date, stored undated: {}",
            list_some(missing.into_iter(), 20)
        );
    }

    if !report.empty_documents.is_empty() {
        let _ = writeln!(
            text,
            "  empty documents, not stored: {}",
            list_some(report.empty_documents.iter().cloned(), 20)
        );
    }

    if !report.duplicates.is_empty() {
        let duplicates = report.duplicates.iter().map(|duplicate| {
            format!(
                "{} (same {} as {})",
                duplicate.doc_id, duplicate.kind, duplicate.duplicate_of
            )
        });
        let _ = writeln!(
            text,
            "  duplicates, not stored: {}",
            list_some(duplicates, 20)
        );
    }
    text
}

pub(crate) fn render_preprocess(report: &PreprocessReport) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Preprocessed {} documents of {:?}: {} tokens, vocabulary {} -> {} after filtering (pipeline {})",
        report.documents,
        report.corpus,
        report.tokens,
        report.vocabulary_before_filter,
        report.vocabulary,
        report.pipeline_id
    );
    if !report.empty_after_plugins.is_empty() {
        let _ = writeln!(
            text,
            "  no tokens left after the plugin chain, excluded from training: {}",
            list_some(report.empty_after_plugins.iter().cloned(), 20)
        );
    }
    if !report.empty_after_filter.is_empty() {
        let _ = writeln!(
            text,
            "  no dictionary words left, excluded from training: {}",
            list_some(report.empty_after_filter.iter().cloned(), 20)
        );
    }
    text
}

pub(crate) fn render_train(report: &TrainReport) -> String {
    let mut text = String::new();
    for warning in &report.warnings {
        let _ = writeln!(text, "warning: {warning}");
    }
    let _ = writeln!(
        text,
        "Run {}: {} topics on {} documents ({} tokens), {} iterations, seed {}, {:.2} s",
        report.run_id,
        report.num_topics,
        report.documents,
        report.tokens,
        report.iterations,
        report.seed,
        report.seconds
    );
    if let (Some(name), Some(version)) = (&report.registered_model, &report.model_version) {
        let _ = writeln!(text, "  registered as models:/{name}/{version}");
    }
    if !report.empty_topics.is_empty() {
        let _ = writeln!(
            text,
            "  topics that received no tokens: {:?}",
            report.empty_topics
        );
    }
    for topic in &report.topics {
        let words: Vec<String> = topic
            .words
            .iter()
            .map(|(word, weight)| format!("{word} ({weight:.3})"))
            .collect();
        let _ = writeln!(text, "  topic {:>2}: {}", topic.topic, words.join(", "));
    }
    text
}

/// Topics shown per text by [`render_infer`].
const INFER_TOP_TOPICS: usize = 3;

pub(crate) fn render_infer(report: &InferReport) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Topics of {} under run {} ({} topics, {} sweeps, seed {})",
        match report.documents.len() {
            1 => "1 text".to_owned(),
            count => format!("{count} texts"),
        },
        report.run_id,
        report.num_topics,
        report.iterations,
        report.seed
    );
    if !report.skipped_steps.is_empty() {
        let _ = writeln!(
            text,
            "  not applied: {} (corpus statistics from training are not stored with the model)",
            report.skipped_steps.join(", ")
        );
    }
    if !report.changed_steps.is_empty() {
        let _ = writeln!(
            text,
            "  warning: {} is another build than the one the run used",
            report.changed_steps.join(", ")
        );
    }
    for document in &report.documents {
        let coverage = match document.oov_share {
            Some(share) => format!(
                "{} tokens, {:.1} % outside the vocabulary",
                document.tokens,
                share * 100.0
            ),
            None => "no tokens after preprocessing".to_owned(),
        };
        let _ = writeln!(text, "{}: {coverage}", document.id);
        if !document.oov_words.is_empty() {
            let _ = writeln!(
                text,
                "  outside the vocabulary: {}",
                document.oov_words.join(", ")
            );
        }
        if document.prior_only {
            let _ = writeln!(
                text,
                "  no word of the vocabulary: the distribution is the model's prior"
            );
        }
        let mut ranked: Vec<(usize, f64)> = document.topics.iter().copied().enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for (topic, probability) in ranked.into_iter().take(INFER_TOP_TOPICS) {
            let words = report
                .topic_words
                .get(topic)
                .map_or_else(String::new, |words| words.join(" "));
            let _ = writeln!(text, "  topic {topic:>3}  {probability:.3}  {words}");
        }
    }
    text
}

pub(crate) fn render_kpi(report: &KpiReport) -> String {
    let mut text = String::new();
    let overall: Vec<String> = report
        .scores
        .iter()
        .map(|score| format!("{} {:.4}", score.measure, score.overall))
        .collect();
    let _ = writeln!(
        text,
        "Coherence of run {} (top {} words): {}",
        report.run_id,
        report.top_n,
        overall.join(", ")
    );
    let topics = report
        .scores
        .first()
        .map_or(0, |score| score.per_topic.len());
    let header: Vec<String> = report
        .scores
        .iter()
        .map(|score| format!("{:>8}", score.measure))
        .collect();
    let _ = writeln!(text, "  topic {}", header.join(" "));
    for topic in 0..topics {
        let values: Vec<String> = report
            .scores
            .iter()
            .map(|score| match score.per_topic[topic] {
                Some(value) => format!("{value:>8.4}"),
                None => format!("{:>8}", "-"),
            })
            .collect();
        let _ = writeln!(text, "  {topic:>5} {}", values.join(" "));
    }
    for score in &report.scores {
        if !score.missing_words.is_empty() {
            let missing = score
                .missing_words
                .iter()
                .map(|(topic, word)| format!("{word} (topic {topic})"));
            let _ = writeln!(
                text,
                "  {}: words absent from the texts: {}",
                score.measure,
                list_some(missing, 10)
            );
        }
    }
    text
}

pub(crate) fn render_sweep(report: &SweepReport) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Sweep {} on {:?}: {} models in {:.1} s with {} workers; best c_v at K={}",
        report.parent_run_id,
        report.corpus,
        report.models.len(),
        report.seconds,
        report.workers,
        report.best_num_topics
    );
    let _ = writeln!(
        text,
        "  {:>3} {:>8} {:>8} {:>8}  run",
        "K", "c_v", "u_mass", "c_npmi"
    );
    for entry in &report.models {
        let _ = writeln!(
            text,
            "  {:>3} {:>8.4} {:>8.4} {:>8.4}  {}",
            entry.num_topics, entry.c_v, entry.u_mass, entry.c_npmi, entry.run_id
        );
    }
    for entry in &report.models {
        let _ = writeln!(text, "\nK={} (c_v {:.4})", entry.num_topics, entry.c_v);
        for (topic, words) in entry.topics.iter().enumerate() {
            let _ = writeln!(text, "  topic {topic:>2}: {}", words.join(" "));
        }
    }
    text
}
