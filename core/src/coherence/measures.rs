//! Segmentation and confirmation measures of gensim's `topic_coherence` package.
//!
//! Every function takes a topic as ids of words that occur in the texts, so every occurrence
//! count is at least 1 and no logarithm or division gets a zero.

use super::counts::CooccurrenceCounts;
use super::{EPSILON, Measure};

/// Returns the coherence of one topic, or `None` when it has no segment to average.
pub(super) fn topic_coherence(
    measure: Measure,
    ids: &[u32],
    counts: &CooccurrenceCounts,
) -> Option<f64> {
    let units = counts.units() as f64;
    match measure {
        Measure::CV => c_v(ids, counts, units),
        Measure::UMass => u_mass(ids, counts, units),
        Measure::CNpmi => one_one_mean(ids, |a, b| npmi(a, b, counts, units)),
        Measure::CUci => one_one_mean(ids, |a, b| log_ratio(a, b, counts, units)),
    }
}

/// Returns the arithmetic mean of `values`, which must not be empty.
pub(super) fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// gensim's `log_conditional_probability` over the one-preceding segmentation (`s_one_pre`):
/// each word paired with every word before it.
fn u_mass(ids: &[u32], counts: &CooccurrenceCounts, units: f64) -> Option<f64> {
    let mut segments = Vec::with_capacity(ids.len() * ids.len() / 2);
    for (i, &w_prime) in ids.iter().enumerate().skip(1) {
        for &w_star in &ids[..i] {
            let joint = counts.cooccurrences(w_prime, w_star) as f64 / units;
            let given = counts.occurrences(w_star) as f64 / units;
            segments.push(((joint + EPSILON) / given).ln());
        }
    }
    (!segments.is_empty()).then(|| mean(&segments))
}

/// Mean of `confirm(w', w*)` over the one-one segmentation (`s_one_one`): every ordered pair
/// of distinct positions.
fn one_one_mean(ids: &[u32], confirm: impl Fn(u32, u32) -> f64) -> Option<f64> {
    let mut segments = Vec::with_capacity(ids.len() * ids.len());
    for (i, &w_prime) in ids.iter().enumerate() {
        for (j, &w_star) in ids.iter().enumerate() {
            if i != j {
                segments.push(confirm(w_prime, w_star));
            }
        }
    }
    (!segments.is_empty()).then(|| mean(&segments))
}

/// gensim's `log_ratio_measure`: `ln((P(a, b) + eps) / (P(a) P(b)))`.
fn log_ratio(a: u32, b: u32, counts: &CooccurrenceCounts, units: f64) -> f64 {
    let joint = counts.cooccurrences(a, b) as f64 / units;
    let p_a = counts.occurrences(a) as f64 / units;
    let p_b = counts.occurrences(b) as f64 / units;
    ((joint + EPSILON) / (p_a * p_b)).ln()
}

/// gensim's normalized `log_ratio_measure`: the log ratio divided by `-ln(P(a, b) + eps)`.
fn npmi(a: u32, b: u32, counts: &CooccurrenceCounts, units: f64) -> f64 {
    let joint = counts.cooccurrences(a, b) as f64 / units;
    log_ratio(a, b, counts, units) / -(joint + EPSILON).ln()
}

/// gensim's `cosine_similarity` over the one-set segmentation (`s_one_set`), with NPMI
/// context vectors and gamma 1.
///
/// The context vector of a word has one entry per distinct topic word `u`: the NPMI of the
/// pair, times how often `u` is listed in the topic. The topic's vector sums the vectors of
/// its words. Each segment is the cosine between one word's vector and the topic's vector.
fn c_v(ids: &[u32], counts: &CooccurrenceCounts, units: f64) -> Option<f64> {
    if ids.is_empty() {
        return None;
    }

    // Distinct words with their multiplicity, and the position of each listed word.
    let mut distinct: Vec<u32> = Vec::with_capacity(ids.len());
    let mut multiplicity: Vec<f64> = Vec::with_capacity(ids.len());
    let mut slot_of: Vec<usize> = Vec::with_capacity(ids.len());
    for &id in ids {
        let slot = distinct.iter().position(|&d| d == id).unwrap_or_else(|| {
            distinct.push(id);
            multiplicity.push(0.0);
            distinct.len() - 1
        });
        multiplicity[slot] += 1.0;
        slot_of.push(slot);
    }

    let n = distinct.len();
    let mut similarity = vec![0.0; n * n];
    for k in 0..n {
        for l in k..n {
            let value = npmi(distinct[k], distinct[l], counts, units);
            similarity[k * n + l] = value;
            similarity[l * n + k] = value;
        }
    }

    let mut topic_vector = vec![0.0; n];
    for (l, entry) in topic_vector.iter_mut().enumerate() {
        let column_sum: f64 = (0..n)
            .map(|k| multiplicity[k] * similarity[k * n + l])
            .sum();
        *entry = multiplicity[l] * column_sum;
    }
    let topic_norm = topic_vector.iter().map(|v| v * v).sum::<f64>().sqrt();

    let mut word_vector = vec![0.0; n];
    let segments: Vec<f64> = slot_of
        .iter()
        .map(|&k| {
            for (l, entry) in word_vector.iter_mut().enumerate() {
                *entry = multiplicity[l] * similarity[k * n + l];
            }
            let dot: f64 = word_vector
                .iter()
                .zip(&topic_vector)
                .map(|(a, b)| a * b)
                .sum();
            let norm = word_vector.iter().map(|v| v * v).sum::<f64>().sqrt();
            cosine(dot, norm * topic_norm)
        })
        .collect();
    Some(mean(&segments))
}

/// Returns `dot / norms`, or 0 when a vector is zero (where gensim returns NaN).
fn cosine(dot: f64, norms: f64) -> f64 {
    // NOTE: a zero context vector needs NPMI values that cancel exactly. That has not been
    // observed on real texts, and scoring it 0 is a guess at the least surprising value.
    if norms > 0.0 { dot / norms } else { 0.0 }
}
