//! Approximate distributed Gibbs sampling over partitions of documents: AD-LDA (Newman,
//! Asuncion, Smyth and Welling, "Distributed algorithms for topic models", JMLR 2009), the
//! scheme of MALLET's `ParallelTopicModel`.
//!
//! The documents are split into P contiguous partitions, balanced by token count. Every sweep,
//! each partition resamples its own tokens against a private copy of the topic-word counts that
//! equals the global counts after the previous sweep, and draws from random stream `p` of the
//! seed. Then the partitions' count changes are added to the global counts. Each partition reads
//! only that snapshot and its own state, and integer addition is exact, so the model depends only
//! on the documents, the settings and P: never on how many threads run the partitions, or in
//! which order. With P = 1 the result equals [`super::train`] bit for bit.
//!
//! The pieces are split so that a partition can live in its own WebAssembly instance:
//! [`PartitionSampler`] is one partition, [`MergedCounts`] is the global table that the caller
//! keeps, and [`run_partitioned`] drives the sweeps over any [`Partitions`] implementation.
//! [`train_partitioned`] runs every partition in this thread, as the reference.

use std::ops::Range;

use super::likelihood::LogLikelihood;
use super::rng::Xoshiro256PlusPlus;
use super::sampler::{self, MoveRecorder, SweepBuffers};
use super::state::{self, DocumentTokens, DocumentTopics, TopicWordCounts};
use super::{LdaError, LdaOutput, ValidLdaParams, alpha, empty_topics};

/// Changes of topic-word counts: `changes[i]` is added to cell `cells[i]`, where
/// `cell = word * num_topics + topic`. Each cell appears at most once, in the order it was
/// first changed.
///
/// Two flat lists rather than a list of pairs, because wasmtime copies lists of integers across
/// the Wasm boundary in bulk but lowers and lifts a list of tuples element by element.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CountDelta {
    /// Cell indices, `word * num_topics + topic`.
    pub cells: Vec<u32>,
    /// The change of each cell, aligned with `cells`.
    pub changes: Vec<i32>,
}

impl CountDelta {
    /// Returns the number of changed cells.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Returns whether no cell changed.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Returns the `(cell, change)` pairs, rejecting lists of unequal lengths.
    fn pairs(&self) -> Result<impl Iterator<Item = (u32, i32)> + '_, LdaError> {
        if self.cells.len() != self.changes.len() {
            return Err(LdaError::InvalidPartitionInput(format!(
                "a count delta has {} cells but {} changes: the two lists must align",
                self.cells.len(),
                self.changes.len()
            )));
        }
        Ok(self.cells.iter().copied().zip(self.changes.iter().copied()))
    }

    fn push(&mut self, cell: u32, change: i32) {
        self.cells.push(cell);
        self.changes.push(change);
    }
}

/// Splits `docs` into `partitions` contiguous ranges with about equal numbers of tokens.
///
/// Depends only on the documents' lengths and `partitions`. A range is empty when there are
/// more partitions than documents, or when one long document spans several partitions' shares.
pub fn partition_ranges<B: AsRef<[(u32, u32)]>>(docs: &[B], partitions: u32) -> Vec<Range<usize>> {
    let lengths: Vec<u64> = docs
        .iter()
        .map(|doc| {
            doc.as_ref()
                .iter()
                .map(|&(_, count)| u64::from(count))
                .sum()
        })
        .collect();
    let total: u128 = lengths.iter().map(|&length| u128::from(length)).sum();
    let partitions = partitions.max(1);

    let mut ranges = Vec::with_capacity(partitions as usize);
    let mut start = 0;
    let mut end = 0;
    let mut cumulative: u128 = 0;
    for partition in 1..=partitions {
        let target = total * u128::from(partition) / u128::from(partitions);
        while end < docs.len() && cumulative < target {
            cumulative += u128::from(lengths[end]);
            end += 1;
        }
        if partition == partitions {
            end = docs.len();
        }
        ranges.push(start..end);
        start = end;
    }
    ranges
}

/// One partition of documents: its tokens, their topics, and its own copy of the topic-word
/// counts.
pub struct PartitionSampler {
    tokens: DocumentTokens,
    state: DocumentTopics,
    /// The global counts after the last merge plus this partition's changes since then.
    counts: TopicWordCounts,
    /// This partition's changes since the last merge.
    pending: PendingChanges,
    /// Sweeps since the last full check of the counts against this partition's tokens.
    sweeps_since_check: u32,
    eta: f64,
    rng: Xoshiro256PlusPlus,
    buffers: SweepBuffers,
    likelihood: LogLikelihood,
}

impl PartitionSampler {
    /// Expands the partition's documents and gives every token a random topic drawn from stream
    /// `partition` of the seed. `first_doc` is the index of `docs[0]` in the whole corpus, used
    /// in error messages.
    ///
    /// The initial counts are pending: the first [`Self::delta`] returns them.
    pub fn new<B: AsRef<[(u32, u32)]>>(
        params: &ValidLdaParams,
        docs: &[B],
        vocab_size: u32,
        partition: u32,
        first_doc: usize,
    ) -> Result<Self, LdaError> {
        let settings = params.get();
        let num_topics = settings.num_topics as usize;
        let tokens = DocumentTokens::from_bags(docs, vocab_size).map_err(|error| match error {
            LdaError::WordOutOfRange {
                doc,
                word,
                vocab_size,
            } => LdaError::WordOutOfRange {
                doc: first_doc + doc,
                word,
                vocab_size,
            },
            other => other,
        })?;

        let mut rng = Xoshiro256PlusPlus::for_stream(settings.seed, u64::from(partition));
        let (state, counts) = state::initialize(&tokens, num_topics, vocab_size as usize, &mut rng);
        let mut pending = PendingChanges::new(counts.word_topic.len(), num_topics);
        for (cell, &count) in counts.word_topic.iter().enumerate() {
            if count > 0 {
                pending.add(cell, count as i32);
            }
        }

        Ok(Self {
            tokens,
            state,
            counts,
            pending,
            sweeps_since_check: 0,
            eta: settings.eta,
            rng,
            buffers: SweepBuffers::new(num_topics),
            likelihood: LogLikelihood::new(settings.eta),
        })
    }

    /// Returns this partition's count changes since the last merge.
    pub fn delta(&self) -> CountDelta {
        let mut delta = CountDelta::default();
        for &cell in &self.pending.touched {
            let change = self.pending.changes[cell as usize];
            if change != 0 {
                delta.push(cell, change);
            }
        }
        delta
    }

    /// Brings the private counts to the global counts after a merge, then resamples every token
    /// of the partition and returns the partition's changes.
    ///
    /// `merged` is the sum of every partition's delta from the last round, this one's included,
    /// as [`MergedCounts::merge`] returns it.
    pub fn sweep(&mut self, merged: &CountDelta, alpha: &[f64]) -> Result<CountDelta, LdaError> {
        let num_topics = self.counts.num_topics;
        check_alpha(alpha, num_topics)?;
        self.apply_merged(merged)?;

        sampler::sweep(
            &self.tokens,
            &mut self.state,
            &mut self.counts,
            alpha,
            self.eta,
            &mut self.rng,
            &mut self.buffers,
            &mut self.pending,
        )
        .map_err(|underflow| missing_own_tokens(underflow.cell as usize))?;
        Ok(self.delta())
    }

    /// Returns the document part of the joint log-likelihood for this partition's documents;
    /// the global part comes from [`MergedCounts::topic_log_likelihood`].
    pub fn document_log_likelihood(&self, alpha: &[f64]) -> Result<f64, LdaError> {
        check_alpha(alpha, self.counts.num_topics)?;
        Ok(self
            .likelihood
            .document_part(&self.tokens, &self.state, alpha))
    }

    /// Returns the document-topic counts, row-major `docs x num_topics`.
    pub fn doc_topic(&self) -> &[u32] {
        &self.state.doc_topic
    }

    /// Returns the number of tokens in this partition.
    pub fn num_tokens(&self) -> usize {
        self.tokens.words.len()
    }

    /// Replaces this partition's pending changes by the merged changes of all partitions.
    fn apply_merged(&mut self, merged: &CountDelta) -> Result<(), LdaError> {
        let cells = self.counts.word_topic.len();
        let pairs = merged.pairs()?;
        if let Some(cell) = merged.cells.iter().find(|&&cell| cell as usize >= cells) {
            return Err(LdaError::InvalidPartitionInput(format!(
                "cell {cell} is outside the {cells} cells of the topic-word counts"
            )));
        }

        for &cell in &self.pending.touched {
            let change = std::mem::take(&mut self.pending.changes[cell as usize]);
            self.pending.is_touched[cell as usize] = false;
            add_to_cell(&mut self.counts, cell, -change)?;
        }
        self.pending.touched.clear();

        for (cell, change) in pairs {
            add_to_cell(&mut self.counts, cell, change)?;
        }
        // The sampler catches a cell that drops below zero as it happens. A full comparison
        // with this partition's tokens also catches counts that are wrong but not yet
        // exhausted. It costs a pass over the tokens, so it runs on the first sweep and then
        // every FULL_CHECK_EVERY sweeps.
        if self.sweeps_since_check == 0 {
            self.check_own_tokens_counted()?;
        }
        self.sweeps_since_check = (self.sweeps_since_check + 1) % FULL_CHECK_EVERY;
        Ok(())
    }

    /// Checks that every cell counts at least this partition's own tokens, which holds when
    /// `merged` included this partition's delta. Uses `pending`, all zero here, as scratch.
    fn check_own_tokens_counted(&mut self) -> Result<(), LdaError> {
        let num_topics = self.counts.num_topics;
        let cells = self
            .tokens
            .words
            .iter()
            .zip(&self.state.topics)
            .map(|(&word, &topic)| word as usize * num_topics + topic as usize);
        let mut missing = None;
        for cell in cells.clone() {
            self.pending.changes[cell] += 1;
            if self.pending.changes[cell] as u32 > self.counts.word_topic[cell] {
                missing = Some(cell);
            }
        }
        for cell in cells {
            self.pending.changes[cell] = 0;
        }
        match missing {
            Some(cell) => Err(missing_own_tokens(cell)),
            None => Ok(()),
        }
    }
}

/// Sweeps between two full checks of a partition's counts against its own tokens.
const FULL_CHECK_EVERY: u32 = 16;

/// Returns the error for counts that miss some of a partition's own tokens in `cell`.
fn missing_own_tokens(cell: usize) -> LdaError {
    LdaError::InvalidPartitionInput(format!(
        "cell {cell} counts fewer tokens than this partition assigns to it: pass the sum of every partition's last delta"
    ))
}

/// A partition's count changes since the last merge.
struct PendingChanges {
    num_topics: usize,
    /// Dense changes, `vocab_size x num_topics`.
    changes: Vec<i32>,
    /// Cells of `changes` changed since the last merge, each once, in first-change order. A
    /// cell stays listed when its change returns to 0.
    touched: Vec<u32>,
    /// Whether each cell is in `touched`.
    is_touched: Vec<bool>,
}

impl PendingChanges {
    fn new(cells: usize, num_topics: usize) -> Self {
        Self {
            num_topics,
            changes: vec![0; cells],
            touched: Vec::new(),
            is_touched: vec![false; cells],
        }
    }

    #[inline]
    fn add(&mut self, cell: usize, change: i32) {
        if !self.is_touched[cell] {
            self.is_touched[cell] = true;
            self.touched.push(cell as u32);
        }
        self.changes[cell] += change;
    }
}

impl MoveRecorder for PendingChanges {
    #[inline]
    fn moved(&mut self, word: u32, old: usize, new: usize) {
        let row = word as usize * self.num_topics;
        self.add(row + old, -1);
        self.add(row + new, 1);
    }
}

/// Adds `change` to one cell and its topic total, rejecting a result below zero.
fn add_to_cell(counts: &mut TopicWordCounts, cell: u32, change: i32) -> Result<(), LdaError> {
    let topic = cell as usize % counts.num_topics;
    let count = counts.word_topic[cell as usize].checked_add_signed(change);
    let total = counts.topic_totals[topic].checked_add_signed(change);
    let (Some(count), Some(total)) = (count, total) else {
        return Err(LdaError::InvalidPartitionInput(format!(
            "adding {change} to cell {cell} makes a count negative: pass the sum of every partition's last delta"
        )));
    };
    counts.word_topic[cell as usize] = count;
    counts.topic_totals[topic] = total;
    Ok(())
}

fn check_alpha(alpha: &[f64], num_topics: usize) -> Result<(), LdaError> {
    if alpha.len() != num_topics {
        return Err(LdaError::InvalidPartitionInput(format!(
            "alpha has {} values, expected one per topic ({num_topics})",
            alpha.len()
        )));
    }
    if let Some(value) = alpha.iter().find(|a| !(a.is_finite() && **a > 0.0)) {
        return Err(LdaError::InvalidPartitionInput(format!(
            "alpha contains {value}: every value must be finite and > 0"
        )));
    }
    Ok(())
}

/// The global topic-word counts: the sum of every partition's deltas.
pub struct MergedCounts {
    counts: TopicWordCounts,
    /// Sum of the current round's deltas per cell, zero outside `touched`.
    sums: Vec<i64>,
    touched: Vec<u32>,
    likelihood: LogLikelihood,
}

impl MergedCounts {
    /// Creates all-zero counts.
    pub fn new(num_topics: u32, vocab_size: u32, eta: f64) -> Self {
        let counts = TopicWordCounts::zeros(num_topics as usize, vocab_size as usize);
        Self {
            sums: vec![0; counts.word_topic.len()],
            counts,
            touched: Vec::new(),
            likelihood: LogLikelihood::new(eta),
        }
    }

    /// Adds one round of deltas, one per partition in partition order, and returns their sum,
    /// which every partition's next [`PartitionSampler::sweep`] takes.
    pub fn merge<'a>(
        &mut self,
        deltas: impl IntoIterator<Item = &'a CountDelta>,
    ) -> Result<CountDelta, LdaError> {
        let cells = self.sums.len();
        for delta in deltas {
            for (cell, change) in delta.pairs()? {
                let Some(sum) = self.sums.get_mut(cell as usize) else {
                    return Err(LdaError::InvalidPartitionInput(format!(
                        "cell {cell} is outside the {cells} cells of the topic-word counts"
                    )));
                };
                if *sum == 0 {
                    self.touched.push(cell);
                }
                *sum += i64::from(change);
            }
        }

        let num_topics = self.counts.num_topics;
        let mut merged = CountDelta::default();
        for &cell in &self.touched {
            let change = std::mem::take(&mut self.sums[cell as usize]);
            if change == 0 {
                continue;
            }
            let count = i64::from(self.counts.word_topic[cell as usize]) + change;
            let total = i64::from(self.counts.topic_totals[cell as usize % num_topics]) + change;
            let (Ok(count), Ok(total), Ok(change)) = (
                u32::try_from(count),
                u32::try_from(total),
                i32::try_from(change),
            ) else {
                return Err(LdaError::InvalidPartitionInput(format!(
                    "cell {cell} would hold {count} tokens after the merge"
                )));
            };
            self.counts.word_topic[cell as usize] = count;
            self.counts.topic_totals[cell as usize % num_topics] = total;
            merged.push(cell, change);
        }
        self.touched.clear();
        Ok(merged)
    }

    /// Returns the topic part of the joint log-likelihood.
    pub fn topic_log_likelihood(&self) -> f64 {
        self.likelihood.topic_part(&self.counts)
    }

    /// Returns the counts row-major `num_topics x vocab_size`, the layout of
    /// [`LdaOutput::topic_word`].
    pub fn topic_word(&self) -> Vec<u32> {
        self.counts.to_topic_major()
    }

    /// Returns the tokens per topic.
    pub fn topic_totals(&self) -> &[u32] {
        &self.counts.topic_totals
    }
}

/// The partitions of one training run, wherever they run. Every method returns one value per
/// partition, in partition order.
pub trait Partitions {
    /// The error of running a partition.
    type Error;

    /// Returns every partition's changes since the last merge: after creation, its initial
    /// counts.
    fn deltas(&mut self) -> Result<Vec<CountDelta>, Self::Error>;

    /// Runs [`PartitionSampler::sweep`] on every partition.
    fn sweep(&mut self, merged: &CountDelta, alpha: &[f64])
    -> Result<Vec<CountDelta>, Self::Error>;

    /// Runs [`PartitionSampler::document_log_likelihood`] on every partition.
    fn document_log_likelihood(&mut self, alpha: &[f64]) -> Result<Vec<f64>, Self::Error>;

    /// Returns every partition's document-topic counts.
    fn doc_topic(&mut self) -> Result<Vec<Vec<u32>>, Self::Error>;
}

/// A failure of [`run_partitioned`]: of the sampling itself, or of running a partition.
#[derive(Debug)]
pub enum PartitionedError<E> {
    /// Invalid input, a merge error or cancellation.
    Lda(LdaError),
    /// A partition failed to run.
    Partition(E),
}

/// Trains LDA by AD-LDA over `partitions`, with the schedule of [`super::train`]: alpha
/// optimisation and progress reports after the same sweeps, and the same log-likelihood.
///
/// Alpha optimisation uses every partition's document-topic counts, fetched after the sweeps
/// that need it. `num_tokens` is the corpus size, used only for the output.
pub fn run_partitioned<P, F>(
    params: &ValidLdaParams,
    vocab_size: u32,
    num_tokens: u64,
    partitions: &mut P,
    mut progress: F,
) -> Result<LdaOutput, PartitionedError<P::Error>>
where
    P: Partitions,
    F: FnMut(u32, u32, f64) -> bool,
{
    let settings = params.get();
    let mut global = MergedCounts::new(settings.num_topics, vocab_size, settings.eta);
    let mut alpha = vec![settings.alpha; settings.num_topics as usize];
    let mut log_likelihood = Vec::new();
    let mut log_likelihood_iterations = Vec::new();

    let deltas = partitions.deltas().map_err(PartitionedError::Partition)?;
    let mut merged = merge_round(&mut global, &deltas)?;

    for iteration in 1..=settings.iterations {
        let deltas = partitions
            .sweep(&merged, &alpha)
            .map_err(PartitionedError::Partition)?;
        merged = merge_round(&mut global, &deltas)?;

        if params.optimizes_alpha_after(iteration) {
            let doc_topic = partitions
                .doc_topic()
                .map_err(PartitionedError::Partition)?;
            let doc_topic = doc_topic.concat();
            let lengths = doc_topic
                .chunks_exact(alpha.len())
                .map(|row| row.iter().map(|&count| count as usize).sum());
            alpha::optimize_alpha(&mut alpha, &doc_topic, lengths);
        }

        if params.reports_after(iteration) {
            let parts = partitions
                .document_log_likelihood(&alpha)
                .map_err(PartitionedError::Partition)?;
            let document_part = parts.iter().fold(0.0, |sum, part| sum + part);
            let value = document_part + global.topic_log_likelihood();
            log_likelihood.push(value);
            log_likelihood_iterations.push(iteration);
            if !progress(iteration, settings.iterations, value) {
                return Err(PartitionedError::Lda(LdaError::Cancelled { iteration }));
            }
        }
    }

    let doc_topic = partitions
        .doc_topic()
        .map_err(PartitionedError::Partition)?
        .concat();
    Ok(LdaOutput {
        num_topics: settings.num_topics,
        vocab_size,
        topic_word: global.topic_word(),
        doc_topic,
        alpha,
        eta: settings.eta,
        log_likelihood,
        log_likelihood_iterations,
        empty_topics: empty_topics(global.topic_totals()),
        num_tokens,
    })
}

fn merge_round<E>(
    global: &mut MergedCounts,
    deltas: &[CountDelta],
) -> Result<CountDelta, PartitionedError<E>> {
    global.merge(deltas).map_err(PartitionedError::Lda)
}

/// Partitions that all run in the calling thread.
struct LocalPartitions(Vec<PartitionSampler>);

impl Partitions for LocalPartitions {
    type Error = LdaError;

    fn deltas(&mut self) -> Result<Vec<CountDelta>, LdaError> {
        Ok(self.0.iter().map(PartitionSampler::delta).collect())
    }

    fn sweep(&mut self, merged: &CountDelta, alpha: &[f64]) -> Result<Vec<CountDelta>, LdaError> {
        self.0
            .iter_mut()
            .map(|partition| partition.sweep(merged, alpha))
            .collect()
    }

    fn document_log_likelihood(&mut self, alpha: &[f64]) -> Result<Vec<f64>, LdaError> {
        self.0
            .iter()
            .map(|partition| partition.document_log_likelihood(alpha))
            .collect()
    }

    fn doc_topic(&mut self) -> Result<Vec<Vec<u32>>, LdaError> {
        Ok(self
            .0
            .iter()
            .map(|partition| partition.doc_topic().to_vec())
            .collect())
    }
}

/// Trains LDA by AD-LDA over `partitions` partitions, all sampled in this thread.
///
/// This is the reference for parallel runners: any runner of the same partitions must return
/// the same output, bit for bit. Progress and cancellation work as in [`super::train`].
pub fn train_partitioned<B, F>(
    params: &ValidLdaParams,
    docs: &[B],
    vocab_size: u32,
    partitions: u32,
    progress: F,
) -> Result<LdaOutput, LdaError>
where
    B: AsRef<[(u32, u32)]>,
    F: FnMut(u32, u32, f64) -> bool,
{
    if partitions == 0 {
        return Err(LdaError::Partitions);
    }
    let mut samplers = Vec::with_capacity(partitions as usize);
    for (index, range) in partition_ranges(docs, partitions).into_iter().enumerate() {
        let first_doc = range.start;
        samplers.push(PartitionSampler::new(
            params,
            &docs[range],
            vocab_size,
            index as u32,
            first_doc,
        )?);
    }
    let num_tokens = samplers.iter().map(|s| s.num_tokens() as u64).sum();

    let mut local = LocalPartitions(samplers);
    run_partitioned(params, vocab_size, num_tokens, &mut local, progress).map_err(|error| {
        match error {
            PartitionedError::Lda(error) | PartitionedError::Partition(error) => error,
        }
    })
}
