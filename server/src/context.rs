//! The handles every command uses: the store, the tracker and registry, and the plugin host.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use topica_plugin_host::{HostOptions, PluginHost};

use crate::store::{MongoStore, SqliteStore, Store};
use crate::tracker::{LocalRegistry, LocalTracker, MlflowTracker, ModelRegistry, Tracker};

/// Shared handles for commands and request handlers.
#[derive(Clone)]
pub struct Context {
    pub data_dir: PathBuf,
    pub store: Arc<dyn Store>,
    pub tracker: Arc<dyn Tracker>,
    /// Registered models; the same MLflow server as `tracker`, or a JSON file beside local runs.
    pub registry: Arc<dyn ModelRegistry>,
    pub host: Arc<PluginHost>,
}

/// Backend for runs, metrics, artifacts and registered models.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackerChoice {
    /// Files under `tracking/` in the data directory.
    Local,
    /// An MLflow tracking server started with `--serve-artifacts`.
    Mlflow { uri: String },
}

impl TrackerChoice {
    /// Chooses MLflow when a URI is given (`--mlflow-uri` or `MLFLOW_TRACKING_URI`), else local files.
    pub fn from_flags(mlflow_uri: Option<String>) -> Self {
        match mlflow_uri {
            Some(uri) if !uri.trim().is_empty() => Self::Mlflow { uri },
            _ => Self::Local,
        }
    }

    /// Opens the tracker and the registry. MLflow is first contacted by the first tracking call.
    fn open(&self, data_dir: &Path) -> anyhow::Result<(Arc<dyn Tracker>, Arc<dyn ModelRegistry>)> {
        match self {
            Self::Local => {
                let root = data_dir.join("tracking");
                Ok((
                    Arc::new(LocalTracker::new(&root)),
                    Arc::new(LocalRegistry::new(&root)),
                ))
            }
            Self::Mlflow { uri } => {
                let tracker = Arc::new(MlflowTracker::new(uri)?);
                Ok((tracker.clone(), tracker))
            }
        }
    }
}

/// The store backend for corpora, documents and tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// The embedded SQLite file `topica.sqlite` in the data directory.
    Sqlite,
    /// A MongoDB database; `database` overrides the one named in the URI (default `topica`).
    Mongo {
        uri: String,
        database: Option<String>,
    },
}

impl StoreChoice {
    /// Chooses MongoDB when a URI is given (`--mongodb-uri` or `MONGODB_URI`), else SQLite.
    /// Fails when only a database name is given, because it would be silently ignored.
    pub fn from_flags(
        mongodb_uri: Option<String>,
        mongodb_database: Option<String>,
    ) -> anyhow::Result<Self> {
        match (mongodb_uri, mongodb_database) {
            (Some(uri), database) => Ok(Self::Mongo { uri, database }),
            (None, None) => Ok(Self::Sqlite),
            (None, Some(database)) => anyhow::bail!(
                "--mongodb-database (MONGODB_DATABASE) is {database:?} but no MongoDB URI is set: \
                 pass --mongodb-uri (MONGODB_URI) to use MongoDB, or unset the database name to use \
                 the embedded SQLite store"
            ),
        }
    }

    async fn open(&self, data_dir: &Path) -> anyhow::Result<Arc<dyn Store>> {
        match self {
            Self::Sqlite => {
                let store = SqliteStore::open(&data_dir.join("topica.sqlite"))
                    .await
                    .with_context(|| format!("cannot open the store in {}", data_dir.display()))?;
                Ok(Arc::new(store))
            }
            Self::Mongo { uri, database } => {
                // The error names the hosts but not the URI, which may contain a password.
                let store = MongoStore::connect(uri, database.as_deref())
                    .await
                    .context("cannot open the MongoDB store")?;
                Ok(Arc::new(store))
            }
        }
    }
}

impl Context {
    /// Opens the embedded store and local tracker under `data_dir` (created when missing) and
    /// starts the plugin host.
    pub async fn open(data_dir: &Path) -> anyhow::Result<Self> {
        Self::open_with_store(data_dir, &StoreChoice::Sqlite).await
    }

    /// Opens the chosen store and the local tracker under `data_dir` (created when missing) and
    /// starts the plugin host.
    pub async fn open_with_store(data_dir: &Path, store: &StoreChoice) -> anyhow::Result<Self> {
        Self::open_with_choices(data_dir, store, &TrackerChoice::Local).await
    }

    /// Opens the chosen store and tracker, using `data_dir` (created when missing) for whatever
    /// is local, and starts the plugin host.
    pub async fn open_with_choices(
        data_dir: &Path,
        store: &StoreChoice,
        tracking: &TrackerChoice,
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
        // wasmtime's compilation cache needs an absolute path, and an absolute data directory
        // also keeps a server's paths valid whatever its working directory.
        let data_dir = &std::path::absolute(data_dir)
            .with_context(|| format!("cannot resolve the data directory {}", data_dir.display()))?;
        let store = store.open(data_dir).await?;
        let (tracker, registry) = tracking.open(data_dir)?;
        // Compiled plugins are cached on disk so that each CLI command skips recompiling them.
        let host = PluginHost::with_options(HostOptions {
            compilation_cache: Some(data_dir.join("wasm-cache")),
        })
        .context("cannot start the plugin host")?;
        Ok(Self {
            data_dir: data_dir.to_path_buf(),
            store,
            tracker,
            registry,
            host: Arc::new(host),
        })
    }
}
