//! Per-call sandbox limits and the resource limiter that enforces the memory cap.

use std::time::Duration;

use wasmtime::{ResourceLimiter, Result as WasmtimeResult};

use crate::error::Error;

const MIB: usize = 1024 * 1024;

/// Smallest accepted memory limit: a Rust guest's 1 MiB stack plus its data and heap.
const MIN_MEMORY_BYTES: usize = 2 * MIB;

/// Largest accepted memory limit: a wasm32 memory cannot address more than 4 GiB.
const MAX_MEMORY_BYTES: usize = 4096 * MIB;

/// Interval between epoch ticks, the resolution of every deadline.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Maximum number of table elements per store. Tables hold function references, so growth
/// past this only happens in a runaway plugin.
const MAX_TABLE_ELEMENTS: usize = 1_000_000;

/// Limits that every plugin call runs under. Check them with [`SandboxLimits::validate`];
/// the plugin handles do this when they are created.
///
/// What these limits do not cover: the host's own memory, which contains the inputs, a copy
/// of each call's results while they are lifted out of the plugin, and the compiled code;
/// the wasm stack, which wasmtime caps on its own (512 KiB by default); and the time spent
/// compiling a component or copying arguments before the plugin starts running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SandboxLimits {
    /// Maximum total linear memory, in bytes, of one plugin instance, summed over its
    /// memories. A growth past it fails, and a plugin that traps after such a failure is
    /// reported as [`Error::OutOfMemory`]. Between 2 MiB and 4 GiB.
    /// Default: 512 MiB for text steps and 2 GiB for training.
    pub memory_bytes: usize,
    /// Wall-clock time one call may run, measured in 10 ms epoch ticks, so a call is
    /// interrupted up to one tick after it. Time the thread waits for a CPU counts.
    /// At least 10 ms. Default: 60 s for text steps and 4 h for training.
    pub deadline: Duration,
}

impl SandboxLimits {
    /// Returns the default limits for text steps: 512 MiB and 60 s per call.
    pub fn text() -> Self {
        Self {
            memory_bytes: 512 * MIB,
            deadline: Duration::from_secs(60),
        }
    }

    /// Returns the default limits for training and inference: 2 GiB and 4 hours per call.
    pub fn training() -> Self {
        Self {
            memory_bytes: 2048 * MIB,
            deadline: Duration::from_secs(4 * 60 * 60),
        }
    }

    /// Sets the memory limit in bytes.
    pub fn with_memory_bytes(mut self, memory_bytes: usize) -> Self {
        self.memory_bytes = memory_bytes;
        self
    }

    /// Sets the per-call deadline.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Checks every limit and returns an error naming the first one out of range.
    pub fn validate(&self) -> Result<(), Error> {
        if !(MIN_MEMORY_BYTES..=MAX_MEMORY_BYTES).contains(&self.memory_bytes) {
            return Err(Error::InvalidLimits {
                field: "memory_bytes",
                value: self.memory_bytes.to_string(),
                hint: "use between 2 MiB (2097152) and 4 GiB (4294967296)",
            });
        }
        if self.deadline < EPOCH_TICK {
            return Err(Error::InvalidLimits {
                field: "deadline",
                value: format!("{:?}", self.deadline),
                hint: "use at least 10 ms, the resolution of the epoch timer",
            });
        }
        Ok(())
    }

    /// Returns the deadline in epoch ticks, rounded up, plus one tick: the first tick can come
    /// at any moment after the call starts, so without it a call could stop up to a tick early.
    pub(crate) fn deadline_ticks(&self) -> u64 {
        let ticks = self.deadline.as_nanos().div_ceil(EPOCH_TICK.as_nanos()) + 1;
        u64::try_from(ticks).unwrap_or(u64::MAX)
    }
}

impl Default for SandboxLimits {
    /// Returns [`SandboxLimits::text`].
    fn default() -> Self {
        Self::text()
    }
}

/// Enforces [`SandboxLimits::memory_bytes`] over all memories of a store and records a
/// rejected growth, so that the trap that usually follows can be reported as out of memory.
pub(crate) struct SandboxLimiter {
    memory_limit: usize,
    memory_used: usize,
    /// Total memory the last rejected growth asked for, since the last [`Self::clear_denied`].
    denied: Option<usize>,
}

impl SandboxLimiter {
    pub(crate) fn new(memory_limit: usize) -> Self {
        Self {
            memory_limit,
            memory_used: 0,
            denied: None,
        }
    }

    pub(crate) fn memory_limit(&self) -> usize {
        self.memory_limit
    }

    pub(crate) fn denied(&self) -> Option<usize> {
        self.denied
    }

    pub(crate) fn clear_denied(&mut self) {
        self.denied = None;
    }
}

impl ResourceLimiter for SandboxLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> WasmtimeResult<bool> {
        let total = self
            .memory_used
            .saturating_sub(current)
            .saturating_add(desired);
        let within_declared_maximum = maximum.is_none_or(|maximum| desired <= maximum);
        if total > self.memory_limit || !within_declared_maximum {
            self.denied = Some(total);
            return Ok(false);
        }
        self.memory_used = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> WasmtimeResult<bool> {
        let within_declared_maximum = maximum.is_none_or(|maximum| desired <= maximum);
        Ok(desired <= MAX_TABLE_ELEMENTS && within_declared_maximum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert!(SandboxLimits::text().validate().is_ok());
        assert!(SandboxLimits::training().validate().is_ok());
    }

    #[test]
    fn memory_below_minimum_is_rejected() {
        let error = SandboxLimits::text()
            .with_memory_bytes(1024)
            .validate()
            .unwrap_err();
        assert!(error.to_string().contains("memory_bytes"), "{error}");
        assert!(error.to_string().contains("1024"), "{error}");
    }

    #[test]
    fn deadline_below_one_tick_is_rejected() {
        let limits = SandboxLimits::text().with_deadline(Duration::from_millis(1));
        let error = limits.validate().unwrap_err();
        assert!(error.to_string().contains("deadline"), "{error}");
    }

    #[test]
    fn deadline_ticks_round_up() {
        let limits = SandboxLimits::text().with_deadline(Duration::from_millis(25));
        assert_eq!(limits.deadline_ticks(), 4);
    }

    #[test]
    fn limiter_sums_memories() {
        let mut limiter = SandboxLimiter::new(10 * MIB);
        assert!(limiter.memory_growing(0, 6 * MIB, None).unwrap());
        assert!(!limiter.memory_growing(0, 6 * MIB, None).unwrap());
        assert_eq!(limiter.denied(), Some(12 * MIB));
    }
}
