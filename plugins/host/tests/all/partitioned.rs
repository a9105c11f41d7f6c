use std::sync::{Arc, Mutex};
use std::time::Duration;

use topica_core::lda::LdaParams;
use topica_core::lda::partitioned::train_partitioned;
use topica_plugin_host::{Error, Partitioning, SandboxLimits, TrainRequest, TrainedModel};

use crate::host;

#[path = "../../../../core/tests/planted/mod.rs"]
mod planted;

use planted::{TRUE_TOPICS, VOCAB_SIZE, assert_planted_topics_recovered, planted_corpus};

fn planted_request(num_topics: u32, iterations: u32, seed: u64, settings: &str) -> TrainRequest {
    TrainRequest {
        num_topics,
        vocab_size: VOCAB_SIZE as u32,
        iterations,
        alpha: 0.1,
        eta: 0.01,
        seed,
        settings: settings.to_owned(),
        docs: planted_corpus(5),
    }
}

fn train(request: &TrainRequest, partitions: u32, workers: usize) -> Result<TrainedModel, Error> {
    let plugin = host().builtin("lda").unwrap();
    host().train_partitioned(
        &plugin,
        &SandboxLimits::training(),
        request,
        &Partitioning {
            partitions,
            workers,
        },
        |_, _, _| true,
    )
}

fn log_likelihood_bits(model: &TrainedModel) -> Vec<u64> {
    model.log_likelihood.iter().map(|x| x.to_bits()).collect()
}

/// Checks log-likelihoods computed partly natively against ones computed elsewhere: `ln` of the
/// native libm and of the Wasm guest's may differ in the last bit.
fn assert_log_likelihoods_close(got: &[f64], expected: &[f64]) {
    assert_eq!(got.len(), expected.len(), "{got:?} != {expected:?}");
    for (index, (a, b)) in got.iter().zip(expected).enumerate() {
        assert!(
            (a - b).abs() <= 1e-12 * b.abs(),
            "log-likelihood {index}: {a} != {b}"
        );
    }
}

const ALPHA_SETTINGS: &str =
    r#"{"optimize_alpha_every": 5, "optimize_alpha_burn_in": 10, "log_likelihood_every": 5}"#;

#[test]
fn partitioned_identical_for_any_workers() {
    let request = planted_request(6, 30, 3, ALPHA_SETTINGS);
    let one = train(&request, 4, 1).unwrap();
    for workers in [2, 3] {
        let other = train(&request, 4, workers).unwrap();
        assert_eq!(other.topic_word, one.topic_word, "{workers} workers");
        assert_eq!(other.doc_topic, one.doc_topic, "{workers} workers");
        assert_eq!(other.alpha, one.alpha, "{workers} workers");
        assert_eq!(
            log_likelihood_bits(&other),
            log_likelihood_bits(&one),
            "{workers} workers"
        );
    }
}

#[test]
fn partitioned_matches_native_reference() {
    let request = planted_request(6, 30, 3, ALPHA_SETTINGS);
    let model = train(&request, 3, 2).unwrap();

    let mut params = LdaParams::new(6);
    params.iterations = 30;
    params.seed = 3;
    params.optimize_alpha_every = 5;
    params.optimize_alpha_burn_in = 10;
    params.log_likelihood_every = 5;
    let reference = train_partitioned(
        &params.validate().unwrap(),
        &request.docs,
        VOCAB_SIZE as u32,
        3,
        |_, _, _| true,
    )
    .unwrap();

    assert_eq!(model.topic_word, reference.topic_word);
    assert_eq!(model.doc_topic, reference.doc_topic);
    assert_eq!(model.alpha, reference.alpha);
    assert_log_likelihoods_close(&model.log_likelihood, &reference.log_likelihood);
}

#[test]
fn one_partition_matches_single_instance() {
    let request = planted_request(5, 20, 8, ALPHA_SETTINGS);
    let plugin = host().builtin("lda").unwrap();
    let mut model = host()
        .topic_model(&plugin, &SandboxLimits::training())
        .unwrap();
    let single = model.train(&request, |_, _, _| true).unwrap();
    let partitioned = train(&request, 1, 2).unwrap();
    assert_eq!(partitioned.topic_word, single.topic_word);
    assert_eq!(partitioned.doc_topic, single.doc_topic);
    assert_eq!(partitioned.alpha, single.alpha);
    assert_log_likelihoods_close(&partitioned.log_likelihood, &single.log_likelihood);
}

#[test]
fn partitioned_conserves_tokens() {
    let request = planted_request(7, 15, 0, "{}");
    let model = train(&request, 5, 2).unwrap();
    let tokens: u32 = request.docs.iter().flatten().map(|&(_, c)| c).sum();
    assert_eq!(model.topic_word.iter().sum::<u32>(), tokens);
    for (d, doc) in request.docs.iter().enumerate() {
        let length: u32 = doc.iter().map(|&(_, c)| c).sum();
        let row = &model.doc_topic[d * 7..(d + 1) * 7];
        assert_eq!(row.iter().sum::<u32>(), length, "document {d}");
    }
}

#[test]
fn partitioned_recovers_planted_topics() {
    let mut request = planted_request(TRUE_TOPICS as u32, 300, 1, "{}");
    request.docs = planted_corpus(11);
    let model = train(&request, 4, 2).unwrap();
    let phi = topica_core::lda::topic_word_distribution(&model.topic_word, TRUE_TOPICS, model.eta);
    assert_planted_topics_recovered(&phi);
}

#[test]
fn partitioned_reports_progress_and_cancels() {
    let request = planted_request(4, 30, 0, "{}");
    let plugin = host().builtin("lda").unwrap();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&calls);
    let error = host()
        .train_partitioned(
            &plugin,
            &SandboxLimits::training(),
            &request,
            &Partitioning {
                partitions: 3,
                workers: 2,
            },
            move |iteration, total, _| {
                recorded.lock().unwrap().push((iteration, total));
                iteration < 20
            },
        )
        .unwrap_err();
    assert!(matches!(error, Error::Cancelled { .. }), "{error}");
    assert_eq!(*calls.lock().unwrap(), vec![(10, 30), (20, 30)]);
}

#[test]
fn partitioned_zero_partitions_rejected() {
    let request = planted_request(4, 5, 0, "{}");
    let error = train(&request, 0, 1).unwrap_err();
    assert!(matches!(error, Error::InvalidPartitioning(_)), "{error}");
    let error = train(&request, 2, 0).unwrap_err();
    assert!(matches!(error, Error::InvalidPartitioning(_)), "{error}");
}

#[test]
fn partitioned_invalid_settings_rejected() {
    let request = planted_request(4, 5, 0, r#"{"log_likelihood_every": 0}"#);
    let error = train(&request, 2, 1).unwrap_err();
    assert!(
        error.to_string().contains("log_likelihood_every"),
        "{error}"
    );

    let request = planted_request(4, 5, 0, r#"{"no_such_setting": 1}"#);
    let error = train(&request, 2, 1).unwrap_err();
    assert!(error.to_string().contains("no_such_setting"), "{error}");
}

#[test]
fn partitioned_deadline_covers_whole_run() {
    let request = planted_request(20, 100_000, 0, "{}");
    let plugin = host().builtin("lda").unwrap();
    let limits = SandboxLimits::training().with_deadline(Duration::from_millis(300));
    let error = host()
        .train_partitioned(
            &plugin,
            &limits,
            &request,
            &Partitioning {
                partitions: 2,
                workers: 2,
            },
            |_, _, _| true,
        )
        .unwrap_err();
    assert!(matches!(error, Error::TimedOut { .. }), "{error}");
}
