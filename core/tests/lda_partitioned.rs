//! Partitioned (AD-LDA) training: equality with the serial sampler for one partition,
//! independence from the order partitions run in, planted-topic recovery and count
//! conservation.

use std::thread;

use topica_core::lda::partitioned::{
    CountDelta, PartitionSampler, Partitions, partition_ranges, run_partitioned, train_partitioned,
};
use topica_core::lda::{LdaError, LdaOutput, LdaParams, ValidLdaParams, train};

mod planted;

use planted::{TRUE_TOPICS, VOCAB_SIZE, assert_planted_topics_recovered, planted_corpus};

fn params(num_topics: u32, iterations: u32, seed: u64) -> ValidLdaParams {
    let mut params = LdaParams::new(num_topics);
    params.iterations = iterations;
    params.seed = seed;
    params.optimize_alpha_every = 5;
    params.optimize_alpha_burn_in = 10;
    params.log_likelihood_every = 5;
    params.validate().unwrap()
}

fn log_likelihood_bits(output: &LdaOutput) -> Vec<u64> {
    output.log_likelihood.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn one_partition_matches_serial_train() {
    let docs = planted_corpus(5);
    let params = params(7, 30, 3);
    let serial = train(&params, &docs, VOCAB_SIZE as u32, |_, _, _| true).unwrap();
    let partitioned =
        train_partitioned(&params, &docs, VOCAB_SIZE as u32, 1, |_, _, _| true).unwrap();

    assert_eq!(partitioned.topic_word, serial.topic_word);
    assert_eq!(partitioned.doc_topic, serial.doc_topic);
    assert_eq!(partitioned.alpha, serial.alpha);
    assert_eq!(
        log_likelihood_bits(&partitioned),
        log_likelihood_bits(&serial)
    );
    assert_eq!(partitioned, serial);
}

/// Runs every partition on its own thread, in reverse order of creation, to show that the
/// result does not depend on where or when a partition runs.
struct ThreadedPartitions(Vec<PartitionSampler>);

impl Partitions for ThreadedPartitions {
    type Error = LdaError;

    fn deltas(&mut self) -> Result<Vec<CountDelta>, LdaError> {
        Ok(self.0.iter().map(PartitionSampler::delta).collect())
    }

    fn sweep(&mut self, merged: &CountDelta, alpha: &[f64]) -> Result<Vec<CountDelta>, LdaError> {
        thread::scope(|scope| {
            let handles: Vec<_> = self
                .0
                .iter_mut()
                .rev()
                .map(|partition| scope.spawn(move || partition.sweep(merged, alpha)))
                .collect();
            let mut deltas: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
            deltas.reverse();
            deltas.into_iter().collect()
        })
    }

    fn document_log_likelihood(&mut self, alpha: &[f64]) -> Result<Vec<f64>, LdaError> {
        self.0
            .iter()
            .map(|partition| partition.document_log_likelihood(alpha))
            .collect()
    }

    fn doc_topic(&mut self) -> Result<Vec<Vec<u32>>, LdaError> {
        Ok(self.0.iter().map(|p| p.doc_topic().to_vec()).collect())
    }
}

#[test]
fn threads_give_same_model_as_reference() {
    let docs = planted_corpus(5);
    let params = params(6, 25, 9);
    let reference =
        train_partitioned(&params, &docs, VOCAB_SIZE as u32, 4, |_, _, _| true).unwrap();

    let samplers = partition_ranges(&docs, 4)
        .into_iter()
        .enumerate()
        .map(|(p, range)| {
            let first_doc = range.start;
            PartitionSampler::new(
                &params,
                &docs[range],
                VOCAB_SIZE as u32,
                p as u32,
                first_doc,
            )
            .unwrap()
        })
        .collect();
    let tokens = docs.iter().flatten().map(|&(_, c)| u64::from(c)).sum();
    let mut threaded = ThreadedPartitions(samplers);
    let output = run_partitioned(
        &params,
        VOCAB_SIZE as u32,
        tokens,
        &mut threaded,
        |_, _, _| true,
    )
    .unwrap();

    assert_eq!(output.topic_word, reference.topic_word);
    assert_eq!(output.doc_topic, reference.doc_topic);
    assert_eq!(
        log_likelihood_bits(&output),
        log_likelihood_bits(&reference)
    );
}

#[test]
fn planted_topics_recovered_with_four_partitions() {
    let docs = planted_corpus(11);
    let mut params = LdaParams::new(TRUE_TOPICS as u32);
    params.iterations = 300;
    params.seed = 1;
    let output = train_partitioned(
        &params.validate().unwrap(),
        &docs,
        VOCAB_SIZE as u32,
        4,
        |_, _, _| true,
    )
    .unwrap();
    assert_planted_topics_recovered(&output.phi());
}

#[test]
fn partitioned_token_counts_conserved() {
    let docs = planted_corpus(5);
    let params = params(7, 30, 0);
    let output = train_partitioned(&params, &docs, VOCAB_SIZE as u32, 3, |_, _, _| true).unwrap();

    let tokens: u64 = docs.iter().flatten().map(|&(_, c)| u64::from(c)).sum();
    assert_eq!(output.num_tokens, tokens);
    assert_eq!(
        output.topic_word.iter().map(|&c| u64::from(c)).sum::<u64>(),
        tokens
    );
    for (d, doc) in docs.iter().enumerate() {
        let row = &output.doc_topic[d * 7..(d + 1) * 7];
        let length: u32 = doc.iter().map(|&(_, c)| c).sum();
        assert_eq!(row.iter().sum::<u32>(), length, "document {d}");
    }
    let mut word_counts = vec![0u32; VOCAB_SIZE];
    for &(word, count) in docs.iter().flatten() {
        word_counts[word as usize] += count;
    }
    for (word, &expected) in word_counts.iter().enumerate() {
        let counted: u32 = (0..7)
            .map(|k| output.topic_word[k * VOCAB_SIZE + word])
            .sum();
        assert_eq!(counted, expected, "word {word}");
    }
}

#[test]
fn partition_count_changes_model() {
    let docs = planted_corpus(5);
    let params = params(5, 20, 4);
    let two = train_partitioned(&params, &docs, VOCAB_SIZE as u32, 2, |_, _, _| true).unwrap();
    let again = train_partitioned(&params, &docs, VOCAB_SIZE as u32, 2, |_, _, _| true).unwrap();
    let three = train_partitioned(&params, &docs, VOCAB_SIZE as u32, 3, |_, _, _| true).unwrap();
    assert_eq!(two, again);
    assert_ne!(two.doc_topic, three.doc_topic);
}

#[test]
fn partition_ranges_cover_documents_in_order() {
    let docs: Vec<Vec<(u32, u32)>> = (1..=10).map(|n| vec![(0, n)]).collect();
    let ranges = partition_ranges(&docs, 3);
    assert_eq!(ranges.len(), 3);
    assert_eq!(ranges[0].start, 0);
    assert_eq!(ranges[2].end, 10);
    for pair in ranges.windows(2) {
        assert_eq!(pair[0].end, pair[1].start);
    }
    // 55 tokens: the shares end at the first prefix sums reaching 18 and 36 tokens.
    assert_eq!(ranges, vec![0..6, 6..8, 8..10]);

    let few = partition_ranges(&docs[..2], 4);
    assert_eq!(few.len(), 4);
    assert_eq!(few.iter().map(|r| r.len()).sum::<usize>(), 2);
}

#[test]
fn more_partitions_than_documents_trains() {
    let docs = vec![vec![(0, 3), (1, 2)], vec![(2, 4)]];
    let params = params(2, 10, 0);
    let output = train_partitioned(&params, &docs, 3, 5, |_, _, _| true).unwrap();
    assert_eq!(output.topic_word.iter().sum::<u32>(), 9);
}

#[test]
fn zero_partitions_rejected() {
    let docs = vec![vec![(0, 1)]];
    let error = train_partitioned(&params(2, 5, 0), &docs, 1, 0, |_, _, _| true).unwrap_err();
    assert_eq!(error, LdaError::Partitions);
}

#[test]
fn word_out_of_range_names_corpus_document() {
    let docs = vec![vec![(0, 1)], vec![(1, 1)], vec![(9, 1)]];
    let error = train_partitioned(&params(2, 5, 0), &docs, 4, 3, |_, _, _| true).unwrap_err();
    assert_eq!(
        error,
        LdaError::WordOutOfRange {
            doc: 2,
            word: 9,
            vocab_size: 4
        }
    );
}

#[test]
fn inconsistent_merged_delta_rejected() {
    let docs = vec![vec![(0, 2), (1, 1)]];
    let params = params(2, 5, 0);
    let mut sampler = PartitionSampler::new(&params, &docs, 2, 0, 0).unwrap();
    // The sampler's own initial counts must come back merged; an empty merge removes them.
    let error = sampler.sweep(&CountDelta::default(), &[0.1, 0.1]);
    assert!(
        matches!(error, Err(LdaError::InvalidPartitionInput(_))),
        "{error:?}"
    );

    let mut sampler = PartitionSampler::new(&params, &docs, 2, 0, 0).unwrap();
    let outside = CountDelta {
        cells: vec![4],
        changes: vec![1],
    };
    let error = sampler.sweep(&outside, &[0.1, 0.1]);
    assert!(
        matches!(error, Err(LdaError::InvalidPartitionInput(_))),
        "{error:?}"
    );

    let mut sampler = PartitionSampler::new(&params, &docs, 2, 0, 0).unwrap();
    let mut unaligned = sampler.delta();
    unaligned.changes.pop();
    let error = sampler.sweep(&unaligned, &[0.1, 0.1]);
    assert!(
        matches!(error, Err(LdaError::InvalidPartitionInput(_))),
        "{error:?}"
    );

    let mut sampler = PartitionSampler::new(&params, &docs, 2, 0, 0).unwrap();
    let own = sampler.delta();
    assert!(sampler.sweep(&own, &[0.1, 0.1]).is_ok());
}

#[test]
fn forgotten_moves_rejected_between_checks() {
    // Twenty words of one token each: a token that moved in the first sweep finds its cell at 0
    // in counts that forget that sweep.
    let docs = vec![(0..20).map(|word| (word, 1)).collect::<Vec<(u32, u32)>>()];
    let params = params(2, 5, 0);
    let mut sampler = PartitionSampler::new(&params, &docs, 20, 0, 0).unwrap();
    let initial = sampler.delta();
    let moved = sampler.sweep(&initial, &[0.1, 0.1]).unwrap();
    assert!(!moved.is_empty(), "the first sweep moved no token");

    // The second sweep skips the full check, so the sampler itself must notice.
    let error = sampler.sweep(&CountDelta::default(), &[0.1, 0.1]);
    assert!(
        matches!(&error, Err(LdaError::InvalidPartitionInput(message)) if message.contains("fewer tokens")),
        "{error:?}"
    );
}

#[test]
fn progress_false_cancels_partitioned() {
    let docs = planted_corpus(5);
    let result = train_partitioned(&params(3, 30, 0), &docs, VOCAB_SIZE as u32, 2, |i, _, _| {
        i < 10
    });
    assert_eq!(result.unwrap_err(), LdaError::Cancelled { iteration: 10 });
}
