use topica_plugin_host::{Error, PluginHost, PluginKind};

use crate::{host, misbehave};

#[test]
fn builtins_report_name_kind_and_version() {
    let expected = [
        ("tokenizer", PluginKind::Tokenizer),
        ("lowercase", PluginKind::TokenFilter),
        ("alpha-filter", PluginKind::TokenFilter),
        ("stopwords", PluginKind::TokenFilter),
        ("stemmer", PluginKind::TokenFilter),
        ("phrases", PluginKind::CorpusFilter),
        ("lda", PluginKind::TopicModel),
    ];
    let names: Vec<&str> = PluginHost::builtin_names().collect();
    assert_eq!(names, expected.map(|(name, _)| name));

    for (name, kind) in expected {
        let plugin = host().builtin(name).unwrap();
        assert_eq!(plugin.name(), name);
        assert_eq!(plugin.kind(), kind, "{name}");
        assert!(!plugin.info().version.is_empty(), "{name}");
        assert_eq!(plugin.id().sha256.len(), 64, "{name}");
        let defaults: serde_json::Value =
            serde_json::from_str(&plugin.info().default_settings).unwrap();
        assert!(defaults.is_object(), "{name}");
    }
}

#[test]
fn builtin_defaults_configure() {
    for name in [
        "tokenizer",
        "lowercase",
        "alpha-filter",
        "stopwords",
        "stemmer",
        "phrases",
    ] {
        let plugin = host().builtin(name).unwrap();
        let defaults = plugin.info().default_settings.clone();
        let limits = topica_plugin_host::SandboxLimits::text();
        let result = match plugin.kind() {
            PluginKind::Tokenizer => host().tokenizer(&plugin, &defaults, &limits).map(drop),
            PluginKind::TokenFilter => host().token_filter(&plugin, &defaults, &limits).map(drop),
            _ => host().corpus_filter(&plugin, &defaults, &limits).map(drop),
        };
        assert!(result.is_ok(), "{name}: {result:?}");
    }
}

#[test]
fn misbehave_is_not_embedded() {
    assert!(PluginHost::builtin_names().all(|name| name != "misbehave"));
    assert!(matches!(
        host().builtin("misbehave"),
        Err(Error::UnknownPlugin { .. })
    ));
}

#[test]
fn loading_same_bytes_gives_same_id() {
    let path = std::path::Path::new(topica_plugin_host::PLUGIN_DIR).join("stopwords.wasm");
    let from_file = host().load_file(&path).unwrap();
    let builtin = host().builtin("stopwords").unwrap();
    assert_eq!(from_file.id(), builtin.id());
}

#[test]
fn garbage_bytes_are_invalid() {
    let result = host().load_bytes(b"not wasm at all");
    let Err(Error::InvalidComponent { plugin, reason }) = result else {
        panic!("expected an invalid component");
    };
    assert!(plugin.contains("sha256"), "{plugin}");
    assert!(reason.contains("component"), "{reason}");
}

#[test]
fn core_module_is_not_a_component() {
    // The smallest core module: magic number and version 1.
    let module = b"\0asm\x01\0\0\0";
    assert!(matches!(
        host().load_bytes(module),
        Err(Error::InvalidComponent { .. })
    ));
}

#[test]
fn missing_file_is_reported() {
    let result = host().load_file("/nonexistent/plugin.wasm");
    assert!(matches!(result, Err(Error::Io { .. })));
}

#[test]
fn misbehave_loads_by_path() {
    let plugin = misbehave();
    assert_eq!(plugin.name(), "misbehave");
    assert_eq!(plugin.kind(), PluginKind::TokenFilter);
}

/// Returns the imports of the component file `name.wasm` that contain functions. Only those
/// give a plugin a capability, so type-only interfaces such as `topica:plugin/types` are
/// left out.
fn function_imports(name: &str) -> Vec<String> {
    use wasmtime::component::types::ComponentItem;

    let engine = wasmtime::Engine::default();
    let path = std::path::Path::new(topica_plugin_host::PLUGIN_DIR).join(format!("{name}.wasm"));
    let component = wasmtime::component::Component::from_file(&engine, &path).unwrap();
    let component_type = component.component_type();
    let mut names = Vec::new();
    for (import, item) in component_type.imports(&engine) {
        let has_functions = match &item.ty {
            ComponentItem::ComponentInstance(instance) => instance
                .exports(&engine)
                .any(|(_, export)| !matches!(export.ty, ComponentItem::Type(_))),
            ComponentItem::Type(_) => false,
            _ => true,
        };
        if has_functions {
            names.push(import.to_owned());
        }
    }
    names
}

#[test]
fn text_plugins_import_no_functions() {
    for name in [
        "tokenizer",
        "lowercase",
        "alpha-filter",
        "stopwords",
        "stemmer",
        "phrases",
        "misbehave",
    ] {
        assert_eq!(function_imports(name), Vec::<String>::new(), "{name}");
    }
}

#[test]
fn topic_model_imports_only_host() {
    assert_eq!(function_imports("lda"), ["topica:plugin/host@0.1.0"]);
}

#[test]
fn handles_cross_threads() {
    fn send_and_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_and_sync::<PluginHost>();
    send_and_sync::<topica_plugin_host::PluginRef>();
    send_and_sync::<topica_plugin_host::TextPipeline>();
    send_and_sync::<Error>();
    send::<topica_plugin_host::Tokenizer>();
    send::<topica_plugin_host::TokenFilter>();
    send::<topica_plugin_host::CorpusFilter>();
    send::<topica_plugin_host::TopicModel>();
}

#[test]
fn dropped_host_stops_ticker() {
    // Dropping joins the ticker thread, so this returns only if the thread stops.
    let host = PluginHost::new().unwrap();
    drop(host);
}

#[test]
fn compilation_cache_writes_files() {
    let directory = tempfile::tempdir().unwrap();
    let options = topica_plugin_host::HostOptions {
        compilation_cache: Some(directory.path().to_path_buf()),
    };
    let cached_host = PluginHost::with_options(options).unwrap();
    cached_host.builtin("lowercase").unwrap();

    let files = walk(directory.path());
    assert!(
        files > 0,
        "the cache folder {} is empty",
        directory.path().display()
    );
}

fn walk(path: &std::path::Path) -> usize {
    std::fs::read_dir(path)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            if path.is_dir() { walk(&path) } else { 1 }
        })
        .sum()
}
