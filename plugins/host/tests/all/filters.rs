use topica_plugin_host::{Error, PluginFailure, SandboxLimits};

use crate::{filter, host};

/// Returns the invalid-settings message a built-in token filter gives for `settings`.
fn invalid_settings(name: &str, settings: &str) -> String {
    let plugin = host().builtin(name).unwrap();
    match host().token_filter(&plugin, settings, &SandboxLimits::text()) {
        Err(Error::Plugin {
            plugin,
            error: PluginFailure::InvalidSettings(message),
        }) => {
            assert_eq!(plugin, name);
            message
        }
        Err(other) => panic!("expected invalid settings, got {other}"),
        Ok(_) => panic!("expected invalid settings, got a configured filter"),
    }
}

#[test]
fn lowercase_is_unicode_aware() {
    assert_eq!(
        filter("lowercase", "{}", &["Città", "PERCHÉ", "ΣΟΦΟΣ"]),
        ["città", "perché", "σοφος"]
    );
}

#[test]
fn lowercase_rejects_settings() {
    let message = invalid_settings("lowercase", r#"{"locale":"tr"}"#);
    assert!(message.contains("locale"), "{message}");
}

#[test]
fn alpha_filter_counts_chars_not_bytes() {
    let settings = r#"{"min_length":5}"#;
    // `città` is 5 characters but 6 bytes; `casa` is 4 characters.
    assert_eq!(
        filter("alpha-filter", settings, &["città", "casa", "perché"]),
        ["città", "perché"]
    );
}

#[test]
fn alpha_filter_drops_digits_and_marks() {
    let tokens = ["1897", "3.5", "anno1", "ab", "uomo", "l", "über", "co-op"];
    assert_eq!(filter("alpha-filter", "{}", &tokens), ["uomo", "über"]);
}

#[test]
fn alpha_filter_max_length() {
    let settings = r#"{"min_length":2,"max_length":4}"#;
    assert_eq!(
        filter("alpha-filter", settings, &["io", "casa", "città"]),
        ["io", "casa"]
    );
}

#[test]
fn alpha_filter_rejects_bad_lengths() {
    let message = invalid_settings("alpha-filter", r#"{"min_length":0}"#);
    assert!(
        message.contains("min_length") && message.contains('0'),
        "{message}"
    );

    let message = invalid_settings("alpha-filter", r#"{"min_length":5,"max_length":2}"#);
    assert!(
        message.contains("max_length") && message.contains('2'),
        "{message}"
    );

    let message = invalid_settings("alpha-filter", r#"{"min_length":"three"}"#);
    assert!(
        message.contains("min_length") && message.contains("three"),
        "{message}"
    );
}

#[test]
fn stopwords_defaults_remove_both_languages() {
    let tokens = ["the", "uomo", "dell", "anno", "and", "l", "perché", "città"];
    assert_eq!(
        filter("stopwords", "{}", &tokens),
        ["uomo", "anno", "città"]
    );
}

#[test]
fn stopwords_english_only() {
    let settings = r#"{"languages":["english"]}"#;
    assert_eq!(
        filter(
            "stopwords",
            settings,
            &["the", "della", "river", "s", "don"]
        ),
        ["della", "river"]
    );
}

#[test]
fn stopwords_italian_only() {
    let settings = r#"{"languages":["italian"]}"#;
    assert_eq!(
        filter("stopwords", settings, &["the", "della", "più", "città"]),
        ["the", "città"]
    );
}

#[test]
fn stopwords_match_ignores_case() {
    assert_eq!(
        filter("stopwords", "{}", &["The", "DELLA", "Uomo"]),
        ["Uomo"]
    );
}

#[test]
fn stopwords_extra_words() {
    let settings = r#"{"languages":[],"extra":["Giornale","anno"]}"#;
    assert_eq!(
        filter(
            "stopwords",
            settings,
            &["giornale", "anno", "the", "GIORNALE"]
        ),
        ["the"]
    );
}

#[test]
fn stopwords_rejects_unknown_language() {
    let message = invalid_settings("stopwords", r#"{"languages":["klingon"]}"#);
    assert!(
        message.contains("languages") && message.contains("klingon"),
        "{message}"
    );
}

#[test]
fn stemmer_english() {
    let settings = r#"{"language":"english"}"#;
    let tokens = ["running", "runs", "connection", "generously"];
    assert_eq!(
        filter("stemmer", settings, &tokens),
        ["run", "run", "connect", "generous"]
    );
}

#[test]
fn stemmer_italian() {
    let settings = r#"{"language":"italian"}"#;
    let tokens = ["abbandonata", "abbandonate", "abbandonati", "città"];
    // Snowball's Italian stemmer also removes a final accented vowel.
    assert_eq!(
        filter("stemmer", settings, &tokens),
        ["abbandon", "abbandon", "abbandon", "citt"]
    );
}

#[test]
fn stemmer_rejects_unknown_language() {
    let message = invalid_settings("stemmer", r#"{"language":"latin"}"#);
    assert!(
        message.contains("language") && message.contains("latin"),
        "{message}"
    );
    assert!(
        message.contains("italian"),
        "the message should list the languages: {message}"
    );
}
