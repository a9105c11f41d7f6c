use std::time::{Duration, Instant};

use topica_plugin_host::{Error, PluginFailure, SandboxLimits, TokenFilter};

use crate::{host, misbehave, strings};

fn misbehaving(behaviour: &str, limits: &SandboxLimits) -> TokenFilter {
    let settings = format!(r#"{{"behaviour":"{behaviour}"}}"#);
    host()
        .token_filter(&misbehave(), &settings, limits)
        .unwrap()
}

#[test]
fn well_behaved_call_passes() {
    let mut filter = misbehaving("none", &SandboxLimits::text());
    let docs = vec![strings(&["a", "b"])];
    assert_eq!(filter.apply(&docs).unwrap(), docs);
}

#[test]
fn loop_times_out() {
    let deadline = Duration::from_millis(200);
    let limits = SandboxLimits::text().with_deadline(deadline);
    let mut filter = misbehaving("loop", &limits);

    let started = Instant::now();
    let result = filter.apply(&[strings(&["a"])]);
    let elapsed = started.elapsed();

    let Err(Error::TimedOut {
        plugin,
        deadline: reported,
    }) = result
    else {
        panic!("expected a timeout, got {result:?}");
    };
    assert_eq!(plugin, "misbehave");
    assert_eq!(reported, deadline);
    assert!(elapsed >= deadline, "stopped after {elapsed:?}");
    assert!(
        elapsed < Duration::from_secs(1),
        "stopped after {elapsed:?}"
    );
}

#[test]
fn instance_unusable_after_timeout() {
    let limits = SandboxLimits::text().with_deadline(Duration::from_millis(50));
    let mut filter = misbehaving("loop", &limits);
    assert!(matches!(filter.apply(&[]), Err(Error::TimedOut { .. })));
    assert!(matches!(
        filter.apply(&[]),
        Err(Error::InstanceUnusable { .. })
    ));
}

#[test]
fn allocation_runs_out_of_memory() {
    let limit = 32 * 1024 * 1024;
    let limits = SandboxLimits::text().with_memory_bytes(limit);
    let mut filter = misbehaving("allocate", &limits);
    let result = filter.apply(&[strings(&["a"])]);
    let Err(Error::OutOfMemory {
        plugin,
        limit: reported,
        requested,
    }) = result
    else {
        panic!("expected out of memory, got {result:?}");
    };
    assert_eq!(plugin, "misbehave");
    assert_eq!(reported, limit);
    assert!(requested > limit, "requested {requested}");
}

#[test]
fn panic_traps() {
    let mut filter = misbehaving("panic", &SandboxLimits::text());
    let result = filter.apply(&[strings(&["a"])]);
    let Err(Error::Trapped { plugin, message }) = result else {
        panic!("expected a trap, got {result:?}");
    };
    assert_eq!(plugin, "misbehave");
    assert!(message.contains("unreachable"), "{message}");
}

#[test]
fn plugin_error_is_passed_on() {
    let mut filter = misbehaving("fail", &SandboxLimits::text());
    let result = filter.apply(&[strings(&["a"])]);
    let Err(Error::Plugin {
        plugin,
        error: PluginFailure::Failed(message),
    }) = result
    else {
        panic!("expected a plugin error, got {result:?}");
    };
    assert_eq!(plugin, "misbehave");
    assert!(message.contains("on request"), "{message}");
    // A plugin error is not a trap, so the instance stays usable.
    assert!(matches!(filter.apply(&[]), Err(Error::Plugin { .. })));
}

#[test]
fn invalid_settings_name_the_field() {
    let result = host().token_filter(
        &misbehave(),
        r#"{"behaviour":"explode"}"#,
        &SandboxLimits::text(),
    );
    let Err(Error::Plugin {
        plugin,
        error: PluginFailure::InvalidSettings(message),
    }) = result
    else {
        panic!("expected invalid settings");
    };
    assert_eq!(plugin, "misbehave");
    assert!(
        message.contains("behaviour") && message.contains("explode"),
        "{message}"
    );
}

#[test]
fn invalid_limits_are_rejected() {
    let limits = SandboxLimits::text().with_memory_bytes(1000);
    let result = host().token_filter(&misbehave(), "{}", &limits);
    let Err(Error::InvalidLimits { field, value, .. }) = result else {
        panic!("expected invalid limits");
    };
    assert_eq!(field, "memory_bytes");
    assert_eq!(value, "1000");
}

#[test]
fn wrong_kind_is_rejected() {
    let result = host().tokenizer(&misbehave(), "{}", &SandboxLimits::text());
    let Err(Error::WrongKind {
        plugin,
        expected,
        found,
    }) = result
    else {
        panic!("expected a wrong kind");
    };
    assert_eq!(plugin, "misbehave");
    assert_eq!(expected.as_str(), "tokenizer");
    assert_eq!(found.as_str(), "token-filter");
}
