use topica_plugin_host::{Error, PluginFailure, SandboxLimits};

use crate::{host, strings};

/// Returns a corpus where `new york` occurs 40 times and no other pair occurs twice.
fn corpus() -> Vec<Vec<String>> {
    let mut docs = Vec::new();
    for index in 0..20 {
        let (before, after) = (format!("before{index}"), format!("after{index}"));
        docs.push(strings(&["new", "york", &after]));
        docs.push(strings(&[&before, "new", "york"]));
    }
    docs
}

#[test]
fn bigram_forms_after_fit() {
    let plugin = host().builtin("phrases").unwrap();
    let settings = r#"{"min_count":2,"threshold":1.0}"#;
    let mut phrases = host()
        .corpus_filter(&plugin, settings, &SandboxLimits::text())
        .unwrap();

    let docs = corpus();
    let (first, second) = docs.split_at(17);
    phrases.fit(first).unwrap();
    phrases.fit(second).unwrap();

    let output = phrases
        .apply(&[strings(&["new", "york", "is", "big"])])
        .unwrap();
    assert_eq!(output, vec![strings(&["new_york", "is", "big"])]);

    let output = phrases.apply(&[strings(&["after1", "before2"])]).unwrap();
    assert_eq!(output, vec![strings(&["after1", "before2"])]);
}

#[test]
fn delimiter_setting() {
    let plugin = host().builtin("phrases").unwrap();
    let settings = r#"{"min_count":2,"threshold":1.0,"delimiter":"-"}"#;
    let mut phrases = host()
        .corpus_filter(&plugin, settings, &SandboxLimits::text())
        .unwrap();
    phrases.fit(&corpus()).unwrap();
    let output = phrases
        .apply(&[strings(&["i", "love", "new", "york"])])
        .unwrap();
    assert!(output[0].contains(&"new-york".to_owned()), "{output:?}");
}

#[test]
fn nothing_joins_before_fit() {
    let plugin = host().builtin("phrases").unwrap();
    let mut phrases = host()
        .corpus_filter(&plugin, "{}", &SandboxLimits::text())
        .unwrap();
    let input = vec![strings(&["new", "york"])];
    assert_eq!(phrases.apply(&input).unwrap(), input);
}

#[test]
fn invalid_threshold_is_rejected() {
    let plugin = host().builtin("phrases").unwrap();
    let result = host().corpus_filter(&plugin, r#"{"threshold":-1.0}"#, &SandboxLimits::text());
    let Err(Error::Plugin {
        error: PluginFailure::InvalidSettings(message),
        ..
    }) = result
    else {
        panic!("expected invalid settings");
    };
    assert!(
        message.contains("threshold") && message.contains("-1"),
        "{message}"
    );
}
