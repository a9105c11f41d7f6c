use std::num::NonZeroUsize;

use topica_plugin_host::{Error, PluginKind, TextPipeline};

use crate::{host, run_pipeline, strings};

const ITALIAN_CHAIN: [(&str, &str); 5] = [
    ("tokenizer", "{}"),
    ("lowercase", "{}"),
    ("alpha-filter", r#"{"min_length":3}"#),
    ("stopwords", r#"{"languages":["italian"]}"#),
    ("stemmer", r#"{"language":"italian"}"#),
];

#[test]
fn italian_chain() {
    let output = run_pipeline(
        &ITALIAN_CHAIN,
        &["Dell'anno 1897, l’uomo abbandonò la città."],
    );
    assert_eq!(output, vec![strings(&["anno", "uom", "abbandon", "citt"])]);
}

#[test]
fn chain_with_phrases() {
    let steps = [
        ("tokenizer", "{}"),
        ("lowercase", "{}"),
        ("phrases", r#"{"min_count":2,"threshold":1.0}"#),
    ];
    let texts: Vec<String> = (0..30)
        .map(|index| format!("New York parola{index} numero{index}"))
        .collect();
    let pipeline = TextPipeline::new(host(), steps)
        .unwrap()
        .with_batch_size(NonZeroUsize::new(7).unwrap());
    let output = pipeline.run(&texts).unwrap();
    assert_eq!(output.len(), 30);
    assert_eq!(output[29], strings(&["new_york", "parola29", "numero29"]));
}

#[test]
fn batches_keep_order() {
    let texts: Vec<String> = (0..50).map(|index| format!("parola{index}")).collect();
    let pipeline = TextPipeline::new(host(), [("tokenizer", "{}")])
        .unwrap()
        .with_batch_size(NonZeroUsize::new(3).unwrap());
    let output = pipeline.run(&texts).unwrap();
    let expected: Vec<Vec<String>> = texts.iter().map(|text| vec![text.clone()]).collect();
    assert_eq!(output, expected);
}

#[test]
fn workers_do_not_change_the_output() {
    let texts: Vec<String> = (0..101)
        .map(|index| format!("Il Progresso, {index} maggio: l'uomo e la città N{index}."))
        .collect();
    let run = |workers: usize| {
        TextPipeline::new(host(), ITALIAN_CHAIN)
            .unwrap()
            .with_batch_size(NonZeroUsize::new(4).unwrap())
            .with_workers(NonZeroUsize::new(workers).unwrap())
            .run(&texts)
            .unwrap()
    };
    let sequential = run(1);
    assert_eq!(sequential.len(), texts.len());
    assert_eq!(
        sequential[100],
        strings(&["progress", "magg", "uom", "citt"])
    );
    assert_eq!(run(2), sequential);
    assert_eq!(run(3), sequential);
}

#[test]
fn progress_cancels_parallel_workers() {
    let texts: Vec<String> = (0..40).map(|index| format!("parola{index}")).collect();
    let pipeline = TextPipeline::new(host(), [("tokenizer", "{}"), ("lowercase", "{}")])
        .unwrap()
        .with_batch_size(NonZeroUsize::new(2).unwrap())
        .with_workers(NonZeroUsize::new(2).unwrap());
    let mut tokenized = Vec::new();
    let result = pipeline.run_with_progress(&texts, |progress| {
        tokenized.push(progress.done);
        progress.done < 10
    });
    assert!(matches!(result, Err(Error::Cancelled { ref plugin }) if plugin == "tokenizer"));
    // Each thread finishes at most the batch it is in when the stop comes.
    assert!(tokenized.len() < 20, "{tokenized:?}");
}

#[test]
fn pipeline_id_changes_with_settings() {
    let base = TextPipeline::new(host(), ITALIAN_CHAIN).unwrap();
    let same = TextPipeline::new(host(), ITALIAN_CHAIN).unwrap();
    let mut changed_steps = ITALIAN_CHAIN;
    changed_steps[2] = ("alpha-filter", r#"{"min_length":4}"#);
    let changed = TextPipeline::new(host(), changed_steps).unwrap();

    assert_eq!(base.pipeline_id(), same.pipeline_id());
    assert_ne!(base.pipeline_id(), changed.pipeline_id());
    assert_eq!(base.pipeline_id().len(), 64);
}

#[test]
fn pipeline_id_counts_defaults() {
    let implicit =
        TextPipeline::new(host(), [("tokenizer", "{}"), ("alpha-filter", "{}")]).unwrap();
    let explicit = TextPipeline::new(
        host(),
        [
            ("tokenizer", "{}"),
            ("alpha-filter", r#"{"max_length":null,"min_length":3}"#),
        ],
    )
    .unwrap();
    assert_eq!(implicit.pipeline_id(), explicit.pipeline_id());
}

#[test]
fn pipeline_id_changes_with_order() {
    let forward = TextPipeline::new(
        host(),
        [("tokenizer", "{}"), ("lowercase", "{}"), ("stemmer", "{}")],
    );
    let backward = TextPipeline::new(
        host(),
        [("tokenizer", "{}"), ("stemmer", "{}"), ("lowercase", "{}")],
    );
    assert_ne!(
        forward.unwrap().pipeline_id(),
        backward.unwrap().pipeline_id()
    );
}

#[test]
fn steps_record_identity() {
    let pipeline = TextPipeline::new(host(), ITALIAN_CHAIN).unwrap();
    let steps = pipeline.steps();
    assert_eq!(steps.len(), 5);
    assert_eq!(steps[0].plugin.name, "tokenizer");
    assert_eq!(steps[0].kind, PluginKind::Tokenizer);
    assert_eq!(steps[2].settings["min_length"], 3);
    assert_eq!(steps[4].plugin.version, "0.1.0");
    assert_eq!(steps[4].plugin.sha256.len(), 64);
}

#[test]
fn first_step_must_tokenize() {
    let result = TextPipeline::new(host(), [("lowercase", "{}")]);
    let Err(Error::InvalidPipeline(message)) = result else {
        panic!("expected an invalid pipeline")
    };
    assert!(
        message.contains("lowercase") && message.contains("tokenizer"),
        "{message}"
    );
}

#[test]
fn topic_model_is_not_a_step() {
    let result = TextPipeline::new(host(), [("tokenizer", "{}"), ("lda", "{}")]);
    assert!(matches!(result, Err(Error::InvalidPipeline(_))));
}

#[test]
fn unknown_builtin_is_rejected() {
    let result = TextPipeline::new(host(), [("tokenizer", "{}"), ("lemmatizer", "{}")]);
    let Err(Error::UnknownPlugin { name, builtins }) = result else {
        panic!("expected an unknown plugin")
    };
    assert_eq!(name, "lemmatizer");
    assert!(builtins.contains("stopwords"), "{builtins}");
}

#[test]
fn invalid_settings_fail_at_build() {
    let result = TextPipeline::new(
        host(),
        [("tokenizer", "{}"), ("stemmer", r#"{"language":"latin"}"#)],
    );
    let Err(error) = result else {
        panic!("expected invalid settings")
    };
    assert_eq!(error.plugin(), Some("stemmer"));
    assert!(error.to_string().contains("latin"), "{error}");
}

#[test]
fn settings_must_be_an_object() {
    let result = TextPipeline::new(host(), [("tokenizer", "[1, 2]")]);
    let Err(Error::InvalidPipeline(message)) = result else {
        panic!("expected an invalid pipeline")
    };
    assert!(message.contains("JSON object"), "{message}");
}

#[test]
fn progress_can_cancel() {
    // One worker, so that the reports come in a fixed order.
    let pipeline = TextPipeline::new(host(), [("tokenizer", "{}"), ("lowercase", "{}")])
        .unwrap()
        .with_batch_size(NonZeroUsize::new(2).unwrap())
        .with_workers(NonZeroUsize::MIN);
    let texts = strings(&["a", "b", "c", "d", "e"]);
    let mut reports = Vec::new();
    let result = pipeline.run_with_progress(&texts, |progress| {
        reports.push((progress.step, progress.phase, progress.done, progress.total));
        progress.step == 0
    });
    assert!(matches!(result, Err(Error::Cancelled { ref plugin }) if plugin == "lowercase"));
    assert_eq!(
        reports[..3],
        [
            (0, "tokenize", 2, 5),
            (0, "tokenize", 4, 5),
            (0, "tokenize", 5, 5)
        ]
    );
    assert_eq!(reports[3], (1, "apply", 2, 5));
}
