//! Training speed on a real corpus, reported in token samples per second.
//!
//! A measurement of the native sampler, not a test: the benchmarks compare it with the same
//! sampler in Wasm. It needs a corpus file and takes about half a minute:
//!
//! ```text
//! TOPICA_SPEED_CORPUS=path/to/ungd_paragraphs.jsonl TOPICA_SPEED_STOPWORDS=path/to/english.txt \
//!     cargo run -p topica-core --release --example lda_speed
//! ```
//!
//! The corpus is JSON lines with a `text` field. Tokens are alphabetic runs longer than two
//! characters, lowercased, minus the stopwords, then words in fewer than 5 documents are dropped
//! (gensim's `filter_extremes(no_below=5)` without its other limits).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use topica_core::lda::{LdaParams, train};

fn load_bags(corpus: &str, stopwords: &str) -> (Vec<Vec<(u32, u32)>>, usize) {
    let stopwords: HashSet<String> = std::fs::read_to_string(stopwords)
        .expect("read the stopword list")
        .lines()
        .map(|line| line.trim().to_lowercase())
        .collect();
    let text = std::fs::read_to_string(corpus).expect("read the corpus");

    let mut docs: Vec<Vec<String>> = Vec::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let row: serde_json::Value = serde_json::from_str(line).expect("parse a JSON line");
        let body = row["text"].as_str().unwrap_or_default().to_lowercase();
        let tokens = body
            .split(|c: char| !c.is_alphabetic())
            .filter(|t| t.chars().count() > 2 && !stopwords.contains(*t))
            .map(str::to_owned)
            .collect();
        docs.push(tokens);
    }

    let mut doc_frequency: HashMap<&str, usize> = HashMap::new();
    for doc in &docs {
        for word in doc.iter().map(String::as_str).collect::<HashSet<_>>() {
            *doc_frequency.entry(word).or_default() += 1;
        }
    }
    let mut vocabulary: Vec<&str> = doc_frequency
        .iter()
        .filter(|(_, df)| **df >= 5)
        .map(|(w, _)| *w)
        .collect();
    vocabulary.sort_unstable();
    let ids: HashMap<&str, u32> = vocabulary
        .iter()
        .enumerate()
        .map(|(i, w)| (*w, i as u32))
        .collect();

    let bags = docs
        .iter()
        .map(|doc| {
            let mut bag: BTreeMap<u32, u32> = BTreeMap::new();
            for word in doc {
                if let Some(&id) = ids.get(word.as_str()) {
                    *bag.entry(id).or_default() += 1;
                }
            }
            bag.into_iter().collect()
        })
        .collect();
    (bags, vocabulary.len())
}

fn main() {
    let corpus = std::env::var("TOPICA_SPEED_CORPUS")
        .expect("set TOPICA_SPEED_CORPUS to a JSON lines corpus");
    let stopwords = std::env::var("TOPICA_SPEED_STOPWORDS")
        .expect("set TOPICA_SPEED_STOPWORDS to a stopword list");
    let num_topics: u32 = std::env::var("TOPICA_SPEED_TOPICS")
        .map_or(20, |k| k.parse().expect("TOPICA_SPEED_TOPICS is a number"));
    let iterations: u32 = std::env::var("TOPICA_SPEED_ITERATIONS").map_or(1000, |n| {
        n.parse().expect("TOPICA_SPEED_ITERATIONS is a number")
    });

    let (bags, vocab_size) = load_bags(&corpus, &stopwords);
    let mut params = LdaParams::new(num_topics);
    params.iterations = iterations;
    params.log_likelihood_every = 100;

    let start = Instant::now();
    let output = train(
        &params.validate().unwrap(),
        &bags,
        vocab_size as u32,
        |_, _, _| true,
    )
    .unwrap();
    let seconds = start.elapsed().as_secs_f64();

    let samples = output.num_tokens as f64 * f64::from(iterations);
    println!(
        "{} docs, {} words, {} tokens, K = {num_topics}, {iterations} sweeps: {seconds:.2} s, {:.1} M token samples/s, final log-likelihood {:.1}",
        bags.len(),
        vocab_size,
        output.num_tokens,
        samples / seconds / 1e6,
        output.log_likelihood.last().unwrap()
    );
    for topic in 0..num_topics as usize {
        let words: Vec<u32> = output
            .top_words(topic, 8)
            .into_iter()
            .map(|(w, _)| w)
            .collect();
        println!("topic {topic}: {words:?}");
    }
}
