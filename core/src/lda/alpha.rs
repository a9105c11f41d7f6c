//! Optimisation of an asymmetric document-topic prior alpha.
//!
//! This is Minka's fixed-point iteration for the Dirichlet-multinomial, written over count
//! histograms as in MALLET's `Dirichlet.learnParameters`. The digamma differences
//! ψ(α + n) - ψ(α) become running sums of 1 / (α + i), so the update needs only additions and
//! divisions and is bit-for-bit reproducible on every platform.

/// Shape of the gamma prior on each alpha_k, as in MALLET.
const GAMMA_SHAPE: f64 = 1.001;
/// Scale of the gamma prior on each alpha_k, as in MALLET.
const GAMMA_SCALE: f64 = 1.0;
/// Fixed-point rounds per optimisation. MALLET runs one. A few more get closer to the fixed point
/// for the current counts, and each costs only O(K · max n_dk), far less than a sweep.
const ROUNDS: usize = 5;

/// Updates `alpha` in place from the document-topic counts (row-major `docs x K`) and the
/// document lengths.
///
/// Leaves `alpha` unchanged when the update is undefined: no document has tokens, or an update
/// would not be finite and positive.
pub(crate) fn optimize_alpha(
    alpha: &mut [f64],
    doc_topic: &[u32],
    doc_lengths: impl Iterator<Item = usize>,
) {
    let num_topics = alpha.len();

    // doc_length_counts[n]: documents with n tokens.
    let mut doc_length_counts: Vec<u32> = Vec::new();
    for length in doc_lengths {
        if length >= doc_length_counts.len() {
            doc_length_counts.resize(length + 1, 0);
        }
        doc_length_counts[length] += 1;
    }
    if doc_length_counts.len() <= 1 {
        return;
    }

    // topic_doc_counts[k][n]: documents in which topic k has exactly n tokens.
    let mut topic_doc_counts: Vec<Vec<u32>> = vec![Vec::new(); num_topics];
    for row in doc_topic.chunks_exact(num_topics) {
        for (histogram, &count) in topic_doc_counts.iter_mut().zip(row) {
            let count = count as usize;
            if count >= histogram.len() {
                histogram.resize(count + 1, 0);
            }
            histogram[count] += 1;
        }
    }

    let mut updated = alpha.to_vec();
    for _ in 0..ROUNDS {
        let alpha_sum: f64 = updated.iter().sum();
        let mut denominator = 0.0;
        let mut digamma_difference = 0.0;
        for (n, &docs) in doc_length_counts.iter().enumerate().skip(1) {
            digamma_difference += 1.0 / (alpha_sum + n as f64 - 1.0);
            denominator += f64::from(docs) * digamma_difference;
        }
        denominator -= 1.0 / GAMMA_SCALE;
        if denominator <= 0.0 || denominator.is_nan() {
            return;
        }

        for (alpha_k, histogram) in updated.iter_mut().zip(&topic_doc_counts) {
            let old = *alpha_k;
            let mut numerator = 0.0;
            let mut digamma_difference = 0.0;
            for (n, &docs) in histogram.iter().enumerate().skip(1) {
                digamma_difference += 1.0 / (old + n as f64 - 1.0);
                numerator += f64::from(docs) * digamma_difference;
            }
            *alpha_k = old * (numerator + GAMMA_SHAPE) / denominator;
        }
    }

    if updated.iter().all(|a| a.is_finite() && *a > 0.0) {
        alpha.copy_from_slice(&updated);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_grows_for_topic_used_everywhere() {
        // Topic 0 has most tokens of every document, topic 1 few, topic 2 none.
        let doc_topic: Vec<u32> = (0..100).flat_map(|d| [20 + d % 5, d % 3, 0]).collect();
        let lengths: Vec<usize> = doc_topic
            .chunks(3)
            .map(|row| row.iter().sum::<u32>() as usize)
            .collect();
        let mut alpha = vec![0.1; 3];
        optimize_alpha(&mut alpha, &doc_topic, lengths.into_iter());
        assert!(alpha[0] > alpha[1], "alpha = {alpha:?}");
        assert!(alpha[1] > alpha[2], "alpha = {alpha:?}");
        assert!(
            alpha.iter().all(|a| a.is_finite() && *a > 0.0),
            "alpha = {alpha:?}"
        );
    }

    #[test]
    fn alpha_unchanged_without_tokens() {
        let mut alpha = vec![0.1; 2];
        optimize_alpha(&mut alpha, &[0, 0, 0, 0], [0usize, 0].into_iter());
        assert_eq!(alpha, vec![0.1; 2]);
    }
}
