//! One plugin instance in its own store, and the call wrapper that applies the deadline and
//! turns traps into typed errors.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::Instance;
use wasmtime::{Store, Trap, WasmBacktrace};

use crate::bindings::types;
use crate::error::Error;
use crate::host::HostInner;
use crate::limits::{EPOCH_TICK, SandboxLimiter, SandboxLimits};
use crate::plugin::PluginRef;

/// Training progress callback: receives the iteration, the total and the log-likelihood, and
/// returns false to ask the plugin to stop.
pub(crate) type ProgressCallback = Box<dyn FnMut(u32, u32, f64) -> bool + Send>;

/// Data each store carries.
pub(crate) struct StoreData {
    pub(crate) limiter: SandboxLimiter,
    pub(crate) progress: Option<ProgressCallback>,
    /// Whether the progress callback has returned false during the current call.
    pub(crate) stop_requested: bool,
}

/// A store with one instance of a plugin. Calls that trap or time out leave it unusable,
/// because a component instance may not be entered again after a trap.
pub(crate) struct Sandbox {
    pub(crate) store: Store<StoreData>,
    pub(crate) plugin: PluginRef,
    limits: SandboxLimits,
    unusable: bool,
    /// Keeps the engine's epoch ticker running while this instance exists.
    _host: Arc<HostInner>,
}

impl Sandbox {
    /// Creates a store under `limits`. The caller then calls [`Sandbox::instantiate`].
    pub(crate) fn new(
        host: Arc<HostInner>,
        plugin: &PluginRef,
        limits: &SandboxLimits,
    ) -> Result<Self, Error> {
        limits.validate()?;
        let data = StoreData {
            limiter: SandboxLimiter::new(limits.memory_bytes),
            progress: None,
            stop_requested: false,
        };
        let mut store = Store::new(&host.engine, data);
        store.limiter(|data| &mut data.limiter);
        store.epoch_deadline_trap();
        Ok(Self {
            store,
            plugin: plugin.clone(),
            limits: limits.clone(),
            unusable: false,
            _host: host,
        })
    }

    /// Instantiates the plugin's component in this store, under the deadline.
    pub(crate) fn instantiate(&mut self, host: &HostInner) -> Result<Instance, Error> {
        let component = self.plugin.component.clone();
        self.call(|store| host.linker.instantiate(store, &component).map(Ok))
    }

    /// Runs `call` under a fresh deadline and maps its outcome to the host's errors.
    pub(crate) fn call<R>(
        &mut self,
        call: impl FnOnce(&mut Store<StoreData>) -> wasmtime::Result<Result<R, types::PluginError>>,
    ) -> Result<R, Error> {
        self.call_with_ticks(self.limits.deadline_ticks(), call)
    }

    /// Runs `call` with a deadline at `deadline` instead of a fresh one, for a run of many calls
    /// that shares one deadline. The deadline is capped at the limits' per-call deadline.
    pub(crate) fn call_until<R>(
        &mut self,
        deadline: Instant,
        call: impl FnOnce(&mut Store<StoreData>) -> wasmtime::Result<Result<R, types::PluginError>>,
    ) -> Result<R, Error> {
        // One extra tick, as in `SandboxLimits::deadline_ticks`, because the first tick can come
        // at any moment after the call starts.
        let remaining = deadline.saturating_duration_since(Instant::now());
        let ticks = remaining.as_nanos().div_ceil(EPOCH_TICK.as_nanos()) + 1;
        let ticks = u64::try_from(ticks)
            .unwrap_or(u64::MAX)
            .min(self.limits.deadline_ticks());
        self.call_with_ticks(ticks, call)
    }

    fn call_with_ticks<R>(
        &mut self,
        deadline_ticks: u64,
        call: impl FnOnce(&mut Store<StoreData>) -> wasmtime::Result<Result<R, types::PluginError>>,
    ) -> Result<R, Error> {
        if self.unusable {
            return Err(Error::InstanceUnusable {
                plugin: self.plugin.name().to_owned(),
            });
        }
        self.store.set_epoch_deadline(deadline_ticks);
        self.store.data_mut().limiter.clear_denied();
        self.store.data_mut().stop_requested = false;

        match call(&mut self.store) {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(error)) => Err(self.plugin_error(error)),
            Err(error) => {
                self.unusable = true;
                Err(self.trap_error(&error))
            }
        }
    }

    fn plugin_error(&self, error: types::PluginError) -> Error {
        let plugin = self.plugin.name().to_owned();
        if self.store.data().stop_requested {
            return Error::Cancelled { plugin };
        }
        Error::Plugin {
            plugin,
            error: error.into(),
        }
    }

    fn trap_error(&self, error: &wasmtime::Error) -> Error {
        let plugin = self.plugin.name().to_owned();
        if error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
            return Error::TimedOut {
                plugin,
                deadline: self.limits.deadline,
            };
        }
        let limiter = &self.store.data().limiter;
        if let Some(requested) = limiter.denied() {
            return Error::OutOfMemory {
                plugin,
                limit: limiter.memory_limit(),
                requested,
            };
        }
        if let Some(trap) = error.downcast_ref::<Trap>() {
            // NOTE: a Rust plugin's panic message is lost, because wasm32-unknown-unknown has no
            // stderr, so a panic reaches the host only as an `unreachable` trap.
            // The backtrace names functions only when the plugin kept its name section.
            let message = match error.downcast_ref::<WasmBacktrace>() {
                Some(backtrace) => format!("{trap}\n{backtrace}"),
                None => trap.to_string(),
            };
            return Error::Trapped { plugin, message };
        }
        Error::Runtime {
            plugin,
            message: format!("{error:?}"),
        }
    }
}
