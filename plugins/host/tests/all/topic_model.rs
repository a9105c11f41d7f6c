use std::sync::{Arc, Mutex};

use topica_plugin_host::{Error, InferRequest, SandboxLimits, TopicState, TrainRequest};

use crate::host;

/// Two clearly separated topics: words 0-2 and words 3-5.
fn request() -> TrainRequest {
    let mut docs = Vec::new();
    for _ in 0..20 {
        docs.push(vec![(0, 3), (1, 2), (2, 3)]);
        docs.push(vec![(3, 3), (4, 2), (5, 3)]);
    }
    TrainRequest {
        num_topics: 2,
        vocab_size: 6,
        iterations: 50,
        alpha: 0.1,
        eta: 0.01,
        seed: 7,
        settings: "{}".to_owned(),
        docs,
    }
}

#[test]
fn train_reports_progress_and_shapes() {
    let plugin = host().builtin("lda").unwrap();
    let mut model = host()
        .topic_model(&plugin, &SandboxLimits::training())
        .unwrap();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&calls);

    let request = request();
    let trained = model
        .train(&request, move |iteration, total, _| {
            recorded.lock().unwrap().push((iteration, total));
            true
        })
        .unwrap();

    assert_eq!(trained.topic_word.len(), 2 * 6);
    assert_eq!(trained.doc_topic.len(), request.docs.len() * 2);
    let tokens: u32 = request.docs.iter().flatten().map(|(_, count)| count).sum();
    assert_eq!(trained.topic_word.iter().sum::<u32>(), tokens);
    let calls = calls.lock().unwrap();
    assert!(!calls.is_empty(), "the progress callback was never called");
    assert!(calls.iter().all(|(_, total)| *total == 50), "{calls:?}");
}

#[test]
fn infer_returns_distributions() {
    let plugin = host().builtin("lda").unwrap();
    let mut model = host()
        .topic_model(&plugin, &SandboxLimits::training())
        .unwrap();
    let request = request();
    let trained = model.train(&request, |_, _, _| true).unwrap();

    let topics = TopicState {
        num_topics: 2,
        vocab_size: 6,
        topic_word: trained.topic_word,
        alpha: trained.alpha,
        eta: trained.eta,
    };
    let infer = InferRequest {
        iterations: 20,
        seed: 1,
        docs: vec![vec![(0, 4)], vec![(5, 4)]],
    };
    let distributions = model.infer(&topics, &infer).unwrap();
    assert_eq!(distributions.len(), 2);
    for distribution in &distributions {
        assert_eq!(distribution.len(), 2);
        assert!(
            (distribution.iter().sum::<f64>() - 1.0).abs() < 1e-9,
            "{distribution:?}"
        );
    }
}

#[test]
fn progress_false_cancels() {
    let plugin = host().builtin("lda").unwrap();
    let mut model = host()
        .topic_model(&plugin, &SandboxLimits::training())
        .unwrap();
    let result = model.train(&request(), |_, _, _| false);
    match result {
        Err(Error::Cancelled { plugin }) => assert_eq!(plugin, "lda"),
        // A plugin may also stop early and return what it has.
        Ok(trained) => assert_eq!(trained.topic_word.len(), 12),
        Err(other) => panic!("expected a cancellation, got {other}"),
    }
}

#[test]
fn text_plugin_is_not_a_topic_model() {
    let plugin = host().builtin("stopwords").unwrap();
    let result = host().topic_model(&plugin, &SandboxLimits::training());
    assert!(matches!(result, Err(Error::WrongKind { .. })));
}
