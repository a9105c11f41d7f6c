//! The plugin host: one wasmtime engine with an epoch ticker, compiled components cached by
//! content hash, the built-in plugins, and loading of user plugins.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, HasSelf, Instance, Linker};
use wasmtime::{Cache, CacheConfig, Config, Engine};

use crate::bindings::{self, types};
use crate::error::Error;
use crate::limits::{EPOCH_TICK, SandboxLimits};
use crate::partitioned::{self, Partitioning};
use crate::plugin::{PluginId, PluginInfo, PluginKind, PluginRef, sha256_hex};
use crate::sandbox::{Sandbox, StoreData};
use crate::text::{CorpusFilter, TokenFilter, Tokenizer};
use crate::topic_model::{TopicModel, TrainRequest, TrainedModel};

include!(concat!(env!("OUT_DIR"), "/builtins.rs"));

/// The only import a plugin may have: the topic model's progress callback.
const HOST_INTERFACE: &str = "topica:plugin/host@0.1.0";

/// Options for [`PluginHost::with_options`].
#[derive(Clone, Debug, Default)]
pub struct HostOptions {
    /// Folder for wasmtime's on-disk compilation cache, which saves compiling the same
    /// component again in a later process. Default: none, so components are compiled once per
    /// host and kept in memory.
    pub compilation_cache: Option<PathBuf>,
}

/// Runs plugins: compiles components once, checks what they are, and creates sandboxed
/// instances. Cloning is cheap and clones share the engine and the compiled components.
///
/// A background thread advances the engine's epoch every 10 ms to enforce deadlines. It stops
/// when the last clone of the host and the last plugin handle created from it are dropped.
#[derive(Clone)]
pub struct PluginHost {
    inner: Arc<HostInner>,
}

pub(crate) struct HostInner {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<StoreData>,
    /// Loaded plugins by the SHA-256 of their component bytes.
    loaded: Mutex<HashMap<String, PluginRef>>,
    _ticker: EpochTicker,
}

impl PluginHost {
    /// Creates a host with default options.
    pub fn new() -> Result<Self, Error> {
        Self::with_options(HostOptions::default())
    }

    /// Creates a host: configures the engine for the component model with epoch
    /// interruption, links the `host` interface and starts the epoch ticker.
    pub fn with_options(options: HostOptions) -> Result<Self, Error> {
        let engine_error = |error: wasmtime::Error| Error::Runtime {
            plugin: "engine".to_owned(),
            message: format!("{error:#}"),
        };

        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        if let Some(directory) = &options.compilation_cache {
            let mut cache_config = CacheConfig::new();
            cache_config.with_directory(directory);
            config.cache(Some(Cache::new(cache_config).map_err(engine_error)?));
        }
        let engine = Engine::new(&config).map_err(engine_error)?;

        let mut linker = Linker::new(&engine);
        bindings::topic_model::TopicModel::add_to_linker::<_, HasSelf<StoreData>>(
            &mut linker,
            |data| data,
        )
        .map_err(engine_error)?;

        let ticker = EpochTicker::start(engine.clone()).map_err(|error| Error::Runtime {
            plugin: "engine".to_owned(),
            message: format!("failed to start the epoch ticker thread: {error}"),
        })?;
        let inner = HostInner {
            engine,
            linker,
            loaded: Mutex::new(HashMap::new()),
            _ticker: ticker,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Returns the names of the built-in plugins.
    pub fn builtin_names() -> impl Iterator<Item = &'static str> {
        BUILTINS.iter().map(|(name, _)| *name)
    }

    /// Loads a built-in plugin by name, such as `stopwords`; compiles it on first use.
    pub fn builtin(&self, name: &str) -> Result<PluginRef, Error> {
        let Some((_, bytes)) = BUILTINS.iter().find(|(builtin, _)| *builtin == name) else {
            return Err(Error::UnknownPlugin {
                name: name.to_owned(),
                builtins: Self::builtin_names().collect::<Vec<_>>().join(", "),
            });
        };
        let plugin = self.load(bytes, &format!("built-in `{name}`"))?;
        if plugin.name() != name {
            return Err(Error::InvalidComponent {
                plugin: format!("built-in `{name}`"),
                reason: format!("its info reports the name `{}`", plugin.name()),
            });
        }
        Ok(plugin)
    }

    /// Loads a user plugin from component bytes, checks its imports, calls `info` and checks
    /// that it implements the world of its kind.
    pub fn load_bytes(&self, bytes: &[u8]) -> Result<PluginRef, Error> {
        let label = format!("with sha256 {}", &sha256_hex(bytes)[..12]);
        self.load(bytes, &label)
    }

    /// Loads a user plugin from a component file; see [`PluginHost::load_bytes`].
    pub fn load_file(&self, path: impl AsRef<Path>) -> Result<PluginRef, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.load(&bytes, &path.display().to_string())
    }

    /// Creates a tokenizer instance configured with `settings` (a JSON object).
    pub fn tokenizer(
        &self,
        plugin: &PluginRef,
        settings: &str,
        limits: &SandboxLimits,
    ) -> Result<Tokenizer, Error> {
        Tokenizer::new(self.inner.clone(), plugin, settings, limits)
    }

    /// Creates a token-filter instance configured with `settings` (a JSON object).
    pub fn token_filter(
        &self,
        plugin: &PluginRef,
        settings: &str,
        limits: &SandboxLimits,
    ) -> Result<TokenFilter, Error> {
        TokenFilter::new(self.inner.clone(), plugin, settings, limits)
    }

    /// Creates a corpus-filter instance configured with `settings` (a JSON object).
    pub fn corpus_filter(
        &self,
        plugin: &PluginRef,
        settings: &str,
        limits: &SandboxLimits,
    ) -> Result<CorpusFilter, Error> {
        CorpusFilter::new(self.inner.clone(), plugin, settings, limits)
    }

    /// Creates a topic-model instance. Use [`SandboxLimits::training`] unless you need other
    /// limits.
    pub fn topic_model(
        &self,
        plugin: &PluginRef,
        limits: &SandboxLimits,
    ) -> Result<TopicModel, Error> {
        TopicModel::new(self.inner.clone(), plugin, limits)
    }

    /// Trains a topic model over partitions of the documents, one instance per partition, on
    /// `partitioning.workers` threads; see [`Partitioning`]. Returns the shape that
    /// [`TopicModel::train`] returns, and calls `progress(iteration, total, log_likelihood)`
    /// on the calling thread after each reported sweep; returning false stops training with
    /// [`Error::Cancelled`]. The plugin must export the `partitioned-sampler` interface, as the
    /// built-in `lda` does.
    ///
    /// `limits.memory_bytes` applies to each instance, and `limits.deadline` to the whole run.
    pub fn train_partitioned(
        &self,
        plugin: &PluginRef,
        limits: &SandboxLimits,
        request: &TrainRequest,
        partitioning: &Partitioning,
        progress: impl FnMut(u32, u32, f64) -> bool,
    ) -> Result<TrainedModel, Error> {
        partitioned::train(
            self.inner.clone(),
            plugin,
            limits,
            request,
            partitioning,
            progress,
        )
    }

    fn load(&self, bytes: &[u8], label: &str) -> Result<PluginRef, Error> {
        let sha256 = sha256_hex(bytes);
        if let Some(plugin) = self
            .inner
            .loaded
            .lock()
            .expect("plugin cache lock")
            .get(&sha256)
        {
            return Ok(plugin.clone());
        }

        let invalid = |reason: String| Error::InvalidComponent {
            plugin: label.to_owned(),
            reason,
        };
        let component = Component::new(&self.inner.engine, bytes).map_err(|error| {
            invalid(format!(
                "{error:#}; a plugin must be a WebAssembly component, such as a \
                 wasm32-unknown-unknown module wrapped by wit-component"
            ))
        })?;
        let imports = self.imports(&component);
        if let Some(import) = imports.iter().find(|import| *import != HOST_INTERFACE) {
            return Err(invalid(format!(
                "it imports `{import}`, but plugins run with no file system, network or clock and \
                 may import only `{HOST_INTERFACE}`; build it without WASI \
                 (wasm32-unknown-unknown)"
            )));
        }

        // Calling `info` needs a placeholder identity because the plugin's name is not known yet.
        let placeholder = PluginRef {
            id: PluginId {
                name: label.to_owned(),
                version: String::new(),
                sha256: sha256.clone(),
            },
            info: PluginInfo {
                name: label.to_owned(),
                version: String::new(),
                kind: PluginKind::TokenFilter,
                description: String::new(),
                default_settings: "{}".to_owned(),
            },
            component: component.clone(),
        };
        let mut sandbox = Sandbox::new(self.inner.clone(), &placeholder, &SandboxLimits::text())?;
        let instance = sandbox.instantiate(&self.inner)?;
        let info = call_info(&mut sandbox, &instance).map_err(|error| match error {
            Error::Runtime { message, .. } => invalid(message),
            other => other,
        })?;
        check_info(&info, &imports).map_err(invalid)?;
        check_world(&mut sandbox, &instance, info.kind).map_err(|reason| {
            Error::InvalidComponent {
                plugin: info.name.clone(),
                reason,
            }
        })?;

        let id = PluginId {
            name: info.name.clone(),
            version: info.version.clone(),
            sha256,
        };
        let plugin = PluginRef {
            id,
            info,
            component,
        };
        tracing::debug!(plugin = %plugin.id, "loaded plugin");
        let mut loaded = self.inner.loaded.lock().expect("plugin cache lock");
        loaded.insert(plugin.id.sha256.clone(), plugin.clone());
        Ok(plugin)
    }

    /// Returns the names of the component's imports that need something from the host. An
    /// interface that contributes only types, such as `topica:plugin/types`, is imported by
    /// every plugin that uses its types but gives the plugin no capability, so it is skipped.
    fn imports(&self, component: &Component) -> Vec<String> {
        let engine = &self.inner.engine;
        let component_type = component.component_type();
        component_type
            .imports(engine)
            .filter(|(_, import)| !is_types_only(engine, &import.ty))
            .map(|(name, _)| name.to_owned())
            .collect()
    }
}

fn is_types_only(engine: &Engine, item: &ComponentItem) -> bool {
    match item {
        ComponentItem::ComponentInstance(instance) => instance
            .exports(engine)
            .all(|(_, export)| matches!(export.ty, ComponentItem::Type(_))),
        ComponentItem::Type(_) => true,
        _ => false,
    }
}

/// Calls the plugin's `info` export, which every world has.
fn call_info(sandbox: &mut Sandbox, instance: &Instance) -> Result<PluginInfo, Error> {
    let info = sandbox.call(|store| {
        let info = instance.get_typed_func::<(), (types::PluginInfo,)>(&mut *store, "info")?;
        let (info,) = info.call(&mut *store, ())?;
        Ok(Ok(info))
    })?;
    Ok(info.into())
}

/// Checks the name, the version, the default settings and that only topic models import.
fn check_info(info: &PluginInfo, imports: &[String]) -> Result<(), String> {
    let name_is_valid = !info.name.is_empty()
        && info.name.len() <= 64
        && info
            .name
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
    if !name_is_valid {
        return Err(format!(
            "its info reports the name {:?}; use 1 to 64 lowercase letters, digits or `-`",
            info.name
        ));
    }
    if info.version.trim().is_empty() {
        return Err(format!(
            "plugin `{}` reports an empty version; use a semantic version such as 0.1.0",
            info.name
        ));
    }
    let defaults: Result<serde_json::Map<String, serde_json::Value>, _> =
        serde_json::from_str(&info.default_settings);
    if let Err(error) = defaults {
        return Err(format!(
            "plugin `{}` reports default settings that are not a JSON object ({error}): {}",
            info.name, info.default_settings
        ));
    }
    if info.kind != PluginKind::TopicModel && !imports.is_empty() {
        return Err(format!(
            "plugin `{}` is a {} but imports `{HOST_INTERFACE}`, which only topic models may import",
            info.name, info.kind
        ));
    }
    Ok(())
}

/// Checks that the instance exports every function of its kind's world with the right types.
fn check_world(sandbox: &mut Sandbox, instance: &Instance, kind: PluginKind) -> Result<(), String> {
    let store = &mut sandbox.store;
    let result = match kind {
        PluginKind::Tokenizer => bindings::tokenizer::Tokenizer::new(store, instance).map(drop),
        PluginKind::TokenFilter => {
            bindings::token_filter::TokenFilter::new(store, instance).map(drop)
        }
        PluginKind::CorpusFilter => {
            bindings::corpus_filter::CorpusFilter::new(store, instance).map(drop)
        }
        PluginKind::TopicModel => bindings::topic_model::TopicModel::new(store, instance).map(drop),
    };
    result.map_err(|error| {
        format!("it reports the kind {kind} but does not implement the `{kind}` world: {error:#}")
    })
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
struct EpochTicker {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = thread::Builder::new()
            .name("topica-epoch-ticker".to_owned())
            .spawn(move || {
                // Dropping the sender disconnects the channel, which ends the loop.
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EPOCH_TICK) {
                    engine.increment_epoch();
                }
            })?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
