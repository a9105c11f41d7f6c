//! The model artifact: building from training output, JSON round trip, version check and
//! validation on load.

use topica_core::lda::{LdaParams, train};
use topica_core::model::{FORMAT_VERSION, ModelError, TopicModel, TrainerInfo};

fn trained_model() -> TopicModel {
    let docs = vec![
        vec![(0u32, 4u32), (1, 3)],
        vec![(2, 5), (3, 2)],
        vec![(0, 1), (3, 6)],
    ];
    let mut params = LdaParams::new(2);
    params.iterations = 20;
    params.seed = 3;
    let output = train(&params.validate().unwrap(), &docs, 4, |_, _, _| true).unwrap();
    let vocabulary = ["tax", "budget", "war", "peace"].map(String::from).to_vec();
    let trainer = TrainerInfo {
        name: "lda".into(),
        version: "0.1.0".into(),
        hash: "sha256:00".into(),
    };
    TopicModel::from_lda_output(&output, &params, vocabulary, "pipeline-1".into(), trainer).unwrap()
}

#[test]
fn model_round_trips_through_json() {
    let model = trained_model();
    assert_eq!(model.format_version, FORMAT_VERSION);
    assert_eq!(model.num_documents, 3);
    assert_eq!(model.num_tokens, 21);
    let loaded = TopicModel::from_bytes(&model.to_bytes().unwrap()).unwrap();
    assert_eq!(loaded, model);
}

#[test]
fn unknown_format_version_rejected() {
    let mut json: serde_json::Value =
        serde_json::from_slice(&trained_model().to_bytes().unwrap()).unwrap();
    json["format_version"] = 7.into();
    // A future version may rename fields; the version check must come first.
    json.as_object_mut().unwrap().remove("topic_word");
    let error = TopicModel::from_bytes(&serde_json::to_vec(&json).unwrap()).unwrap_err();
    assert!(
        matches!(error, ModelError::UnsupportedVersion { found: 7 }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "model format version 7 is not supported by this Topica (supports 1); retrain or upgrade"
    );
}

#[test]
fn inconsistent_model_rejected_on_load() {
    let model = trained_model();
    let corrupt = |edit: &dyn Fn(&mut TopicModel)| {
        let mut copy = model.clone();
        edit(&mut copy);
        TopicModel::from_bytes(&copy.to_bytes().unwrap())
            .unwrap_err()
            .to_string()
    };
    assert!(
        corrupt(&|m| m.topic_word.pop().map(drop).unwrap_or(()))
            .contains("topic_word has 7 counts")
    );
    assert!(corrupt(&|m| m.alpha.push(0.1)).contains("alpha has 3 values"));
    assert!(corrupt(&|m| m.alpha[0] = -1.0).contains("alpha[0] = -1"));
    assert!(corrupt(&|m| m.eta = 0.0).contains("eta = 0"));
    assert!(corrupt(&|m| m.num_topics = 0).contains("num_topics = 0"));
    assert!(
        corrupt(&|m| m.vocabulary.push("extra".into()))
            .contains("expected num_topics x vocabulary size")
    );

    let error = TopicModel::from_bytes(b"{not json").unwrap_err();
    assert!(matches!(error, ModelError::Json(_)), "{error:?}");
}

#[test]
fn phi_rows_sum_to_one() {
    let model = trained_model();
    let phi = model.phi();
    for (k, row) in phi.chunks(model.vocab_size()).enumerate() {
        let sum: f64 = row.iter().sum();
        assert!((sum - 1.0).abs() < 1e-12, "topic {k} sums to {sum}");
        assert!(row.iter().all(|p| p.is_finite() && *p > 0.0));
    }
}

#[test]
fn top_words_name_vocabulary() {
    let model = trained_model();
    let top = model.top_words(0, 2).unwrap();
    assert_eq!(top.len(), 2);
    let phi = model.phi();
    for (word, weight) in &top {
        let id = model.vocabulary.iter().position(|w| w == word).unwrap();
        assert_eq!(*weight, phi[id]);
    }
    let error = model.top_words(2, 5).unwrap_err();
    assert_eq!(
        error.to_string(),
        "topic 2 does not exist: the model has 2 topics (0 to 1)"
    );
}

#[test]
fn model_infers_with_its_topics() {
    let model = trained_model();
    let theta = model
        .fixed_topics()
        .unwrap()
        .infer(&[vec![(0u32, 3u32)], vec![]], 20, 0)
        .unwrap();
    for row in &theta {
        let sum: f64 = row.iter().sum();
        assert!((sum - 1.0).abs() < 1e-6);
    }
}
