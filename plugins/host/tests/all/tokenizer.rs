use topica_plugin_host::{Error, PluginFailure, SandboxLimits};

use crate::{host, strings};

fn tokenize(settings: &str, text: &str) -> Vec<String> {
    let plugin = host().builtin("tokenizer").unwrap();
    let mut tokenizer = host()
        .tokenizer(&plugin, settings, &SandboxLimits::text())
        .unwrap();
    tokenizer
        .tokenize(&[text.to_owned()])
        .unwrap()
        .pop()
        .unwrap()
}

#[test]
fn italian_elisions_split() {
    assert_eq!(tokenize("{}", "l'uomo"), ["l", "uomo"]);
    assert_eq!(tokenize("{}", "dell'anno"), ["dell", "anno"]);
    assert_eq!(tokenize("{}", "all’epoca"), ["all", "epoca"]);
    assert_eq!(
        tokenize("{}", "L’Italia e l'America"),
        ["L", "Italia", "e", "l", "America"]
    );
}

#[test]
fn english_contractions_split() {
    assert_eq!(tokenize("{}", "don't"), ["don", "t"]);
}

#[test]
fn elisions_kept_when_disabled() {
    assert_eq!(
        tokenize(r#"{"split_elisions":false}"#, "dell'anno"),
        ["dell'anno"]
    );
}

#[test]
fn nfc_and_nfd_give_same_tokens() {
    let nfc = "Perché la città è così bella?";
    let nfd = "Perche\u{301} la citta\u{300} e\u{300} cosi\u{300} bella?";
    assert_ne!(nfc, nfd);
    let expected = ["Perché", "la", "città", "è", "così", "bella"];
    assert_eq!(tokenize("{}", nfc), expected);
    assert_eq!(tokenize("{}", nfd), expected);
}

#[test]
fn nfkc_folds_ligatures() {
    assert_eq!(tokenize(r#"{"normalization":"nfkc"}"#, "ﬁne"), ["fine"]);
    assert_eq!(tokenize("{}", "ﬁne"), ["ﬁne"]);
}

#[test]
fn punctuation_dropped_digits_kept() {
    let tokens = tokenize("{}", "Roma, 12 marzo 1897: «Il Re» — (3.5%) ... fine!");
    assert_eq!(
        tokens,
        ["Roma", "12", "marzo", "1897", "Il", "Re", "3.5", "fine"]
    );
}

#[test]
fn case_is_kept() {
    assert_eq!(tokenize("{}", "New York"), ["New", "York"]);
}

#[test]
fn batch_keeps_order_and_empty_texts() {
    let plugin = host().builtin("tokenizer").unwrap();
    let mut tokenizer = host()
        .tokenizer(&plugin, "{}", &SandboxLimits::text())
        .unwrap();
    let output = tokenizer
        .tokenize(&strings(&["uno due", "", "tre"]))
        .unwrap();
    assert_eq!(
        output,
        vec![strings(&["uno", "due"]), vec![], strings(&["tre"])]
    );
}

#[test]
fn unknown_setting_is_rejected() {
    let plugin = host().builtin("tokenizer").unwrap();
    let result = host().tokenizer(&plugin, r#"{"lowercase":true}"#, &SandboxLimits::text());
    let Err(Error::Plugin {
        plugin,
        error: PluginFailure::InvalidSettings(message),
    }) = result
    else {
        panic!("expected invalid settings");
    };
    assert_eq!(plugin, "tokenizer");
    assert!(message.contains("lowercase"), "{message}");
}

#[test]
fn wrong_setting_type_names_field_and_value() {
    let plugin = host().builtin("tokenizer").unwrap();
    let result = host().tokenizer(
        &plugin,
        r#"{"split_elisions":"yes"}"#,
        &SandboxLimits::text(),
    );
    let Err(Error::Plugin {
        error: PluginFailure::InvalidSettings(message),
        ..
    }) = result
    else {
        panic!("expected invalid settings");
    };
    assert!(message.contains("split_elisions"), "{message}");
    assert!(message.contains("yes"), "{message}");
}
