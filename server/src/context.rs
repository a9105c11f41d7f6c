//! What every command works with: the data directory's store and tracker, and the plugin host.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use topica_plugin_host::PluginHost;

use crate::store::{SqliteStore, Store};
use crate::tracker::{LocalTracker, Tracker};

/// Shared handles for commands and request handlers.
#[derive(Clone)]
pub struct Context {
    pub data_dir: PathBuf,
    pub store: Arc<dyn Store>,
    pub tracker: Arc<dyn Tracker>,
    pub host: Arc<PluginHost>,
}

impl Context {
    /// Opens the embedded store and local tracker under `data_dir` (created when missing) and
    /// starts the plugin host.
    pub async fn open(data_dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
        let store = SqliteStore::open(&data_dir.join("topica.sqlite"))
            .await
            .with_context(|| format!("cannot open the store in {}", data_dir.display()))?;
        let tracker = LocalTracker::new(data_dir.join("tracking"));
        let host = PluginHost::new(Default::default()).context("cannot start the plugin host")?;
        Ok(Self {
            data_dir: data_dir.to_path_buf(),
            store: Arc::new(store),
            tracker: Arc::new(tracker),
            host: Arc::new(host),
        })
    }
}
