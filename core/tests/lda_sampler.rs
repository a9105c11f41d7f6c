//! Training: planted-topic recovery, determinism, count conservation, progress, cancellation,
//! priors and settings validation.

use topica_core::lda::{LdaError, LdaOutput, LdaParams, LdaParamsError, train};

mod planted;

use planted::{TRUE_TOPICS, VOCAB_SIZE, assert_planted_topics_recovered, planted_corpus};

fn train_planted(seed: u64, iterations: u32) -> LdaOutput {
    let docs = planted_corpus(11);
    let mut params = LdaParams::new(TRUE_TOPICS as u32);
    params.iterations = iterations;
    params.seed = seed;
    train(
        &params.validate().unwrap(),
        &docs,
        VOCAB_SIZE as u32,
        |_, _, _| true,
    )
    .unwrap()
}

#[test]
fn planted_topics_recovered() {
    let output = train_planted(1, 300);
    assert_planted_topics_recovered(&output.phi());
}

#[test]
fn log_likelihood_rises_during_training() {
    let output = train_planted(1, 100);
    let first = output.log_likelihood[0];
    let last = *output.log_likelihood.last().unwrap();
    assert!(last > first, "log-likelihood fell from {first} to {last}");
    assert!(output.log_likelihood.iter().all(|x| x.is_finite()));
    assert_eq!(
        output.log_likelihood_iterations,
        (1..=10).map(|i| i * 10).collect::<Vec<u32>>()
    );
}

#[test]
fn same_seed_gives_identical_output() {
    let a = train_planted(42, 40);
    let b = train_planted(42, 40);
    assert_eq!(a.topic_word, b.topic_word);
    assert_eq!(a.doc_topic, b.doc_topic);
    assert_eq!(a.alpha, b.alpha);
    assert_eq!(
        a.log_likelihood
            .iter()
            .map(|x| x.to_bits())
            .collect::<Vec<_>>(),
        b.log_likelihood
            .iter()
            .map(|x| x.to_bits())
            .collect::<Vec<_>>()
    );
    assert_eq!(a, b);
}

#[test]
fn different_seed_gives_different_counts() {
    let a = train_planted(42, 40);
    let b = train_planted(43, 40);
    assert_ne!(a.doc_topic, b.doc_topic);
    assert_ne!(a.topic_word, b.topic_word);
}

#[test]
fn token_counts_conserved() {
    let docs = planted_corpus(5);
    let mut params = LdaParams::new(7);
    params.iterations = 30;
    params.optimize_alpha_every = 5;
    params.optimize_alpha_burn_in = 10;
    let output = train(
        &params.validate().unwrap(),
        &docs,
        VOCAB_SIZE as u32,
        |_, _, _| true,
    )
    .unwrap();

    let num_tokens: u64 = docs.iter().flatten().map(|&(_, c)| u64::from(c)).sum();
    assert_eq!(output.num_tokens, num_tokens);
    assert_eq!(
        output.topic_word.iter().map(|&c| u64::from(c)).sum::<u64>(),
        num_tokens
    );
    assert_eq!(output.doc_topic.len(), docs.len() * 7);

    for (d, doc) in docs.iter().enumerate() {
        let length: u32 = doc.iter().map(|&(_, c)| c).sum();
        let row_sum: u32 = output.doc_topic[d * 7..(d + 1) * 7].iter().sum();
        assert_eq!(row_sum, length, "document {d}");
    }

    // Tokens per topic agree between the two tables.
    for k in 0..7 {
        let from_words: u32 = output.topic_word[k * VOCAB_SIZE..(k + 1) * VOCAB_SIZE]
            .iter()
            .sum();
        let from_docs: u32 = output.doc_topic.chunks(7).map(|row| row[k]).sum();
        assert_eq!(from_words, from_docs, "topic {k}");
    }

    // Tokens per word agree with the input.
    for w in 0..VOCAB_SIZE {
        let expected: u32 = docs
            .iter()
            .flatten()
            .filter(|(word, _)| *word as usize == w)
            .map(|&(_, c)| c)
            .sum();
        let got: u32 = (0..7).map(|k| output.topic_word[k * VOCAB_SIZE + w]).sum();
        assert_eq!(got, expected, "word {w}");
    }
}

#[test]
fn optimized_alpha_is_asymmetric_and_positive() {
    let docs = planted_corpus(5);
    let mut params = LdaParams::new(8);
    params.iterations = 60;
    params.optimize_alpha_every = 10;
    params.optimize_alpha_burn_in = 20;
    let output = train(
        &params.validate().unwrap(),
        &docs,
        VOCAB_SIZE as u32,
        |_, _, _| true,
    )
    .unwrap();

    assert_eq!(output.alpha.len(), 8);
    assert!(
        output.alpha.iter().all(|a| a.is_finite() && *a > 0.0),
        "alpha = {:?}",
        output.alpha
    );
    let min = output.alpha.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = output.alpha.iter().cloned().fold(0.0, f64::max);
    assert!(
        max > min * 1.01,
        "alpha stayed symmetric: {:?}",
        output.alpha
    );
}

#[test]
fn progress_reported_at_interval_and_end() {
    let docs = planted_corpus(5);
    let mut params = LdaParams::new(3);
    params.iterations = 25;
    params.log_likelihood_every = 10;
    let mut calls = Vec::new();
    let output = train(
        &params.validate().unwrap(),
        &docs,
        VOCAB_SIZE as u32,
        |iteration, total, value| {
            calls.push((iteration, total, value));
            true
        },
    )
    .unwrap();

    let iterations: Vec<u32> = calls.iter().map(|c| c.0).collect();
    assert_eq!(iterations, vec![10, 20, 25]);
    assert!(calls.iter().all(|c| c.1 == 25));
    assert_eq!(
        calls.iter().map(|c| c.2).collect::<Vec<_>>(),
        output.log_likelihood
    );
}

#[test]
fn progress_returning_false_cancels() {
    let docs = planted_corpus(5);
    let mut params = LdaParams::new(3);
    params.iterations = 100;
    params.log_likelihood_every = 5;
    let result = train(
        &params.validate().unwrap(),
        &docs,
        VOCAB_SIZE as u32,
        |iteration, _, _| iteration < 15,
    );
    assert_eq!(result.unwrap_err(), LdaError::Cancelled { iteration: 15 });
}

#[test]
fn word_out_of_range_rejected() {
    let docs = vec![vec![(0, 1)], vec![(3, 2), (10, 1)]];
    let params = LdaParams::new(2).validate().unwrap();
    let error = train(&params, &docs, 10, |_, _, _| true).unwrap_err();
    assert_eq!(
        error,
        LdaError::WordOutOfRange {
            doc: 1,
            word: 10,
            vocab_size: 10
        }
    );
    assert!(error.to_string().contains("word id 10"), "{error}");
}

#[test]
fn empty_topics_reported_with_uniform_phi() {
    // One token cannot fill three topics.
    let docs = vec![vec![(1u32, 1u32)], vec![]];
    let mut params = LdaParams::new(3);
    params.iterations = 5;
    let output = train(&params.validate().unwrap(), &docs, 4, |_, _, _| true).unwrap();

    assert_eq!(output.empty_topics.len(), 2);
    let phi = output.phi();
    for k in 0..3 {
        let row = &phi[k * 4..(k + 1) * 4];
        let sum: f64 = row.iter().sum();
        assert!((sum - 1.0).abs() < 1e-12, "topic {k} sums to {sum}");
        assert!(
            row.iter().all(|p| p.is_finite() && *p > 0.0),
            "topic {k}: {row:?}"
        );
        if output.empty_topics.contains(&(k as u32)) {
            assert!(
                row.iter().all(|p| (p - 0.25).abs() < 1e-12),
                "empty topic {k} is not uniform: {row:?}"
            );
        }
    }
    assert!(output.theta().iter().all(|p| p.is_finite() && *p > 0.0));
}

#[test]
fn empty_corpus_trains() {
    let docs: Vec<Vec<(u32, u32)>> = Vec::new();
    let mut params = LdaParams::new(2);
    params.iterations = 3;
    let output = train(&params.validate().unwrap(), &docs, 5, |_, _, _| true).unwrap();
    assert_eq!(output.topic_word, vec![0; 10]);
    assert_eq!(output.empty_topics, vec![0, 1]);
    assert_eq!(output.log_likelihood, vec![0.0]);
}

#[test]
fn top_words_sorted_by_weight() {
    let output = train_planted(1, 100);
    for topic in 0..TRUE_TOPICS {
        let top = output.top_words(topic, 10);
        assert_eq!(top.len(), 10);
        assert!(
            top.windows(2).all(|pair| pair[0].1 >= pair[1].1),
            "topic {topic}: {top:?}"
        );
    }
    assert_eq!(output.top_words(0, 1000).len(), VOCAB_SIZE);
}

#[test]
fn params_validation_names_bad_field() {
    let cases: Vec<(LdaParams, LdaParamsError, &str)> = vec![
        (
            LdaParams::new(0),
            LdaParamsError::NumTopics(0),
            "num_topics = 0",
        ),
        (
            LdaParams::new(70_000),
            LdaParamsError::NumTopics(70_000),
            "num_topics = 70000",
        ),
        (
            LdaParams {
                iterations: 0,
                ..LdaParams::new(5)
            },
            LdaParamsError::Iterations,
            "iterations = 0",
        ),
        (
            LdaParams {
                alpha: 0.0,
                ..LdaParams::new(5)
            },
            LdaParamsError::Alpha(0.0),
            "alpha = 0",
        ),
        (
            LdaParams {
                alpha: -1.5,
                ..LdaParams::new(5)
            },
            LdaParamsError::Alpha(-1.5),
            "alpha = -1.5",
        ),
        (
            LdaParams {
                eta: f64::INFINITY,
                ..LdaParams::new(5)
            },
            LdaParamsError::Eta(f64::INFINITY),
            "eta = inf",
        ),
        (
            LdaParams {
                log_likelihood_every: 0,
                ..LdaParams::new(5)
            },
            LdaParamsError::LogLikelihoodEvery,
            "log_likelihood_every = 0",
        ),
    ];
    for (params, expected, message) in cases {
        let error = params.validate().unwrap_err();
        assert_eq!(error, expected);
        assert!(
            error.to_string().contains(message),
            "{error:?} displays as {error}"
        );
    }

    let nan = LdaParams {
        alpha: f64::NAN,
        ..LdaParams::new(5)
    }
    .validate()
    .unwrap_err();
    assert!(matches!(nan, LdaParamsError::Alpha(a) if a.is_nan()));
    assert!(LdaParams::new(1).validate().is_ok());
}

#[test]
fn params_defaults_from_json() {
    let params: LdaParams = serde_json::from_str(r#"{"num_topics": 12}"#).unwrap();
    assert_eq!(params, LdaParams::new(12));
    let unknown =
        serde_json::from_str::<LdaParams>(r#"{"num_topics": 12, "topics": 3}"#).unwrap_err();
    assert!(unknown.to_string().contains("topics"), "{unknown}");
}
