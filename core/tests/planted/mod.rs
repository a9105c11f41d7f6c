//! A synthetic corpus with planted topics, shared by the training tests.

#![allow(dead_code)]

use topica_core::lda::rng::Xoshiro256PlusPlus;

pub const TRUE_TOPICS: usize = 5;
pub const WORDS_PER_TOPIC: usize = 20;
pub const VOCAB_SIZE: usize = TRUE_TOPICS * WORDS_PER_TOPIC;

/// Draws from Gamma(shape, 1) by Marsaglia and Tsang's method, boosted for shape < 1.
fn gamma(rng: &mut Xoshiro256PlusPlus, shape: f64) -> f64 {
    if shape < 1.0 {
        let u = rng.next_f64().max(f64::MIN_POSITIVE);
        return gamma(rng, shape + 1.0) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        // Box-Muller normal.
        let u1 = rng.next_f64().max(f64::MIN_POSITIVE);
        let u2 = rng.next_f64();
        let x = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = rng.next_f64().max(f64::MIN_POSITIVE);
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

fn dirichlet(rng: &mut Xoshiro256PlusPlus, concentration: f64, size: usize) -> Vec<f64> {
    let draws: Vec<f64> = (0..size).map(|_| gamma(rng, concentration)).collect();
    let sum: f64 = draws.iter().sum();
    draws.into_iter().map(|g| g / sum).collect()
}

fn categorical(rng: &mut Xoshiro256PlusPlus, probabilities: &[f64]) -> usize {
    let u = rng.next_f64();
    let mut running = 0.0;
    for (index, p) in probabilities.iter().enumerate() {
        running += p;
        if u < running {
            return index;
        }
    }
    probabilities.len() - 1
}

/// True topics with disjoint supports: topic k puts Zipf weights 1/r (r = 1..=20) on words
/// 20k..20k+19 and nothing elsewhere.
pub fn true_topics() -> Vec<Vec<f64>> {
    let harmonic: f64 = (1..=WORDS_PER_TOPIC).map(|r| 1.0 / r as f64).sum();
    (0..TRUE_TOPICS)
        .map(|k| {
            (0..VOCAB_SIZE)
                .map(|w| {
                    if w / WORDS_PER_TOPIC == k {
                        1.0 / ((w % WORDS_PER_TOPIC + 1) as f64 * harmonic)
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect()
}

/// 300 documents of 50 to 149 tokens, each a Dirichlet(0.3) mixture of the true topics.
pub fn planted_corpus(seed: u64) -> Vec<Vec<(u32, u32)>> {
    let topics = true_topics();
    let mut rng = Xoshiro256PlusPlus::new(seed);
    (0..300)
        .map(|_| {
            let theta = dirichlet(&mut rng, 0.3, TRUE_TOPICS);
            let length = 50 + rng.below(100);
            let mut counts = vec![0u32; VOCAB_SIZE];
            for _ in 0..length {
                let topic = categorical(&mut rng, &theta);
                counts[categorical(&mut rng, &topics[topic])] += 1;
            }
            counts
                .into_iter()
                .enumerate()
                .filter(|(_, c)| *c > 0)
                .map(|(w, c)| (w as u32, c))
                .collect()
        })
        .collect()
}

pub fn hellinger(p: &[f64], q: &[f64]) -> f64 {
    let sum: f64 = p
        .iter()
        .zip(q)
        .map(|(a, b)| (a.sqrt() - b.sqrt()).powi(2))
        .sum();
    (sum / 2.0).sqrt()
}

/// Asserts that each true topic is close to a distinct learned topic. `phi` is row-major
/// `K x VOCAB_SIZE`.
///
/// Two true topics are at Hellinger distance 1 because their supports are disjoint. About 6,000
/// tokens per topic put the sampling noise near 0.05, while a topic that merged two true topics
/// would be at 0.54.
pub fn assert_planted_topics_recovered(phi: &[f64]) {
    let learned: Vec<&[f64]> = phi.chunks(VOCAB_SIZE).collect();
    let mut used = vec![false; learned.len()];
    for (k, truth) in true_topics().iter().enumerate() {
        let (best, distance) = learned
            .iter()
            .enumerate()
            .map(|(j, phi)| (j, hellinger(truth, phi)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        assert!(
            distance < 0.1,
            "true topic {k}: nearest learned topic {best} is at Hellinger distance {distance:.3}"
        );
        assert!(
            !used[best],
            "learned topic {best} is the nearest to two true topics"
        );
        used[best] = true;
    }
}
