//! Fold-in inference: edge cases, normalisation, determinism and recovery of a known topic.

use topica_core::lda::{FixedTopics, LdaError};

/// Three topics over six words: topic k owns words 2k and 2k + 1.
fn block_topics(alpha: &[f64]) -> FixedTopics {
    let mut topic_word = vec![0u32; 3 * 6];
    for k in 0..3 {
        topic_word[k * 6 + 2 * k] = 500;
        topic_word[k * 6 + 2 * k + 1] = 300;
    }
    FixedTopics::new(3, 6, &topic_word, alpha, 0.01).unwrap()
}

fn assert_distribution(theta: &[f64], num_topics: usize) {
    assert_eq!(theta.len(), num_topics);
    assert!(
        theta.iter().all(|p| p.is_finite() && *p >= 0.0),
        "{theta:?}"
    );
    let sum: f64 = theta.iter().sum();
    assert!((sum - 1.0).abs() < 1e-6, "sums to {sum}: {theta:?}");
}

#[test]
fn empty_and_oov_docs_return_prior() {
    let alpha = [0.2, 0.5, 0.3];
    let topics = block_topics(&alpha);
    let docs: Vec<Vec<(u32, u32)>> = vec![vec![], vec![(6, 3), (99, 1)], vec![(2, 0)]];
    let result = topics.infer(&docs, 20, 0).unwrap();
    for theta in &result {
        assert_distribution(theta, 3);
        for (p, expected) in theta.iter().zip([0.2, 0.5, 0.3]) {
            assert!((p - expected).abs() < 1e-12, "{theta:?}");
        }
    }
}

#[test]
fn known_words_pick_their_topic() {
    let topics = block_topics(&[0.1; 3]);
    let docs = vec![
        vec![(2u32, 10u32), (3, 5)],
        vec![(0, 4), (7, 2)],
        vec![(0, 5), (4, 5)],
    ];
    let result = topics.infer(&docs, 50, 9).unwrap();
    for theta in &result {
        assert_distribution(theta, 3);
    }
    assert!(result[0][1] > 0.9, "{:?}", result[0]);
    // Word 7 is out of vocabulary, so only word 0 counts.
    assert!(result[1][0] > 0.8, "{:?}", result[1]);
    assert!(result[2][0] > 0.3, "{:?}", result[2]);
    assert!(result[2][2] > 0.3, "{:?}", result[2]);
}

#[test]
fn inference_deterministic_and_batch_independent() {
    let topics = block_topics(&[0.1; 3]);
    let docs = vec![vec![(0u32, 3u32), (2, 3), (4, 3)], vec![(1, 2), (5, 7)]];
    let batch = topics.infer(&docs, 30, 4).unwrap();
    assert_eq!(batch, topics.infer(&docs, 30, 4).unwrap());

    // Document 0 alone gives the same result as in the batch.
    assert_eq!(topics.infer(&docs[..1], 30, 4).unwrap()[0], batch[0]);

    // These topics leave every assignment to chance, so another seed must change the result.
    let flat = FixedTopics::new(3, 6, &[0; 18], &[0.1; 3], 0.01).unwrap();
    assert_ne!(
        flat.infer(&docs, 30, 4).unwrap(),
        flat.infer(&docs, 30, 5).unwrap()
    );
}

#[test]
fn inference_rejects_zero_iterations() {
    let topics = block_topics(&[0.1; 3]);
    let error = topics.infer(&[vec![(0u32, 1u32)]], 0, 0).unwrap_err();
    assert_eq!(error, LdaError::InferIterations);
}

#[test]
fn inconsistent_topics_rejected() {
    // (num_topics, vocab_size, topic_word, alpha, eta, expected message)
    type Case = (u32, u32, Vec<u32>, Vec<f64>, f64, &'static str);
    let cases: Vec<Case> = vec![
        (0, 4, vec![], vec![], 0.01, "num_topics = 0"),
        (
            2,
            4,
            vec![0; 7],
            vec![0.1; 2],
            0.01,
            "topic_word has 7 counts",
        ),
        (2, 4, vec![0; 8], vec![0.1; 3], 0.01, "alpha has 3 values"),
        (
            2,
            4,
            vec![0; 8],
            vec![0.1, f64::NAN],
            0.01,
            "alpha[1] = NaN",
        ),
        (2, 4, vec![0; 8], vec![0.1, 0.1], 0.0, "eta = 0"),
    ];
    for (k, v, topic_word, alpha, eta, message) in cases {
        let error = FixedTopics::new(k, v, &topic_word, &alpha, eta).unwrap_err();
        assert!(
            error.to_string().contains(message),
            "expected {message:?} in {error}"
        );
    }
}

#[test]
fn untrained_topics_give_finite_distributions() {
    // All counts zero: every word is equally likely under every topic.
    let topics = FixedTopics::new(4, 3, &[0; 12], &[0.05; 4], 0.01).unwrap();
    let result = topics.infer(&[vec![(0u32, 2u32), (1, 1)]], 10, 1).unwrap();
    assert_distribution(&result[0], 4);
}
