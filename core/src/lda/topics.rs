//! Distributions derived from counts: topic-word φ, document-topic θ and top words.

/// Returns φ, row-major `num_topics x vocab_size`: `φ_kw = (n_kw + η) / (n_k + Vη)`.
///
/// Every row sums to 1 (within rounding) and is positive, including rows of topics that hold no
/// tokens, which become uniform. `topic_word` is row-major `num_topics x vocab_size`.
pub fn topic_word_distribution(topic_word: &[u32], num_topics: usize, eta: f64) -> Vec<f64> {
    if num_topics == 0 {
        return Vec::new();
    }
    let vocab_size = topic_word.len() / num_topics;
    let v_eta = vocab_size as f64 * eta;
    let mut phi = Vec::with_capacity(topic_word.len());
    for row in topic_word.chunks_exact(vocab_size.max(1)) {
        let total: u64 = row.iter().map(|&c| u64::from(c)).sum();
        let denominator = total as f64 + v_eta;
        phi.extend(row.iter().map(|&c| (f64::from(c) + eta) / denominator));
    }
    phi
}

/// Returns θ, row-major `docs x num_topics`: `θ_dk = (n_dk + α_k) / (n_d + Σα)`.
///
/// A document without tokens gets the normalised prior `α / Σα`. `doc_topic` is row-major
/// `docs x alpha.len()`.
pub fn document_topic_distribution(doc_topic: &[u32], alpha: &[f64]) -> Vec<f64> {
    if alpha.is_empty() {
        return Vec::new();
    }
    let alpha_sum: f64 = alpha.iter().sum();
    let mut theta = Vec::with_capacity(doc_topic.len());
    for row in doc_topic.chunks_exact(alpha.len()) {
        let length: u64 = row.iter().map(|&c| u64::from(c)).sum();
        let denominator = length as f64 + alpha_sum;
        theta.extend(
            row.iter()
                .zip(alpha)
                .map(|(&c, &a)| (f64::from(c) + a) / denominator),
        );
    }
    theta
}

/// Returns the `n` most probable words of topic `topic` as `(word id, φ_kw)`, most probable
/// first; ties go to the lower word id. Returns fewer than `n` pairs when the vocabulary is
/// smaller.
///
/// # Panics
///
/// Panics if `topic >= num_topics`.
pub fn top_words(
    topic_word: &[u32],
    num_topics: usize,
    eta: f64,
    topic: usize,
    n: usize,
) -> Vec<(u32, f64)> {
    assert!(
        topic < num_topics,
        "topic {topic} is out of range: the model has {num_topics} topics"
    );
    let vocab_size = topic_word.len() / num_topics;
    let row = &topic_word[topic * vocab_size..(topic + 1) * vocab_size];
    let total: u64 = row.iter().map(|&c| u64::from(c)).sum();
    let denominator = total as f64 + vocab_size as f64 * eta;

    let mut ids: Vec<u32> = (0..vocab_size as u32).collect();
    let by_count_then_id =
        |a: &u32, b: &u32| row[*b as usize].cmp(&row[*a as usize]).then(a.cmp(b));
    let n = n.min(vocab_size);
    if n < vocab_size && n > 0 {
        ids.select_nth_unstable_by(n - 1, by_count_then_id);
    }
    ids.truncate(n);
    ids.sort_unstable_by(by_count_then_id);
    ids.into_iter()
        .map(|w| (w, (f64::from(row[w as usize]) + eta) / denominator))
        .collect()
}

/// Returns the topics without tokens, given the number of tokens per topic. Such topics still
/// have a uniform φ row because of eta.
pub fn empty_topics(topic_totals: &[u32]) -> Vec<u32> {
    topic_totals
        .iter()
        .enumerate()
        .filter(|(_, total)| **total == 0)
        .map(|(k, _)| k as u32)
        .collect()
}
