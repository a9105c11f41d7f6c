use std::time::Duration;
use topica_plugin_host::SandboxLimits;
use crate::{host, misbehave, strings};
#[test]
fn scratch_print_errors() {
    for (behaviour, limits) in [("panic", SandboxLimits::text()), ("allocate", SandboxLimits::text().with_memory_bytes(32 << 20)), ("loop", SandboxLimits::text().with_deadline(Duration::from_millis(100))), ("fail", SandboxLimits::text())] {
        let mut f = host().token_filter(&misbehave(), &format!(r#"{{"behaviour":"{behaviour}"}}"#), &limits).unwrap();
        let e = f.apply(&[strings(&["a"])]).unwrap_err();
        eprintln!("=== {behaviour}: {e}\n");
    }
    for s in [r#"{"min_length":"three"}"#, r#"{"foo":1}"#, r#"{"min_length":0}"#, "[1]", "{} x"] {
        let p = host().builtin("alpha-filter").unwrap();
        let e = host().token_filter(&p, s, &SandboxLimits::text()).err().unwrap();
        eprintln!("=== {s}: {e}\n");
    }
}
