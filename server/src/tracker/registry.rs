//! The model registry: named models whose numbered versions point at a tracked run's model
//! folder, and aliases (`champion`, `staging`) that point at one version each. The predict API
//! serves `models:/NAME@ALIAS`. `MlflowTracker` implements it with MLflow's registry, and
//! `LocalRegistry` keeps a JSON file next to the local tracker's runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{LocalTracker, Tracker, TrackerError, now_millis};

/// Maximum alias length, as in MLflow 3.17 (`MAX_REGISTERED_MODEL_ALIAS_LENGTH`).
const MAX_ALIAS_LENGTH: usize = 255;

/// One version of a registered model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelVersion {
    pub name: String,
    /// Decimal version number as a string ("1", "2", …), as MLflow sends it.
    pub version: String,
    pub run_id: String,
    /// Location of the model folder: an `mlflow-artifacts:/` URI for MLflow, a `runs:/` URI for
    /// the local registry.
    pub source: String,
    /// Aliases that currently point at this version.
    pub aliases: Vec<String>,
}

/// A parsed `models:/` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelUri {
    /// `models:/NAME@ALIAS`
    Alias { name: String, alias: String },
    /// `models:/NAME/VERSION`
    Version { name: String, version: String },
}

impl ModelUri {
    /// Registered model name the URI refers to.
    pub fn name(&self) -> &str {
        match self {
            ModelUri::Alias { name, .. } | ModelUri::Version { name, .. } => name,
        }
    }
}

impl FromStr for ModelUri {
    type Err = TrackerError;

    /// Parses `models:/NAME@ALIAS` or `models:/NAME/VERSION`. MLflow's stage URIs
    /// (`models:/NAME/Production`), `models:/NAME/latest` and logged-model ids are rejected.
    fn from_str(uri: &str) -> Result<Self, Self::Err> {
        let invalid = |cause: &str| TrackerError::InvalidModelUri {
            uri: uri.to_owned(),
            cause: cause.to_owned(),
        };
        let rest = uri
            .strip_prefix("models:/")
            .ok_or_else(|| invalid("it does not start with models:/"))?;
        if rest.starts_with('/') {
            return Err(invalid("a registry host (models://…) is not supported"));
        }

        if let Some((name, version)) = rest.split_once('/') {
            if name.trim().is_empty() {
                return Err(invalid("the model name is empty"));
            }
            if version.is_empty() || !version.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(invalid("the version must be a number"));
            }
            return Ok(ModelUri::Version {
                name: name.to_owned(),
                version: version.to_owned(),
            });
        }

        let (name, alias) = rest
            .rsplit_once('@')
            .ok_or_else(|| invalid("it names neither an alias nor a version"))?;
        if name.trim().is_empty() {
            return Err(invalid("the model name is empty"));
        }
        if alias.trim().is_empty() {
            return Err(invalid("the alias is empty"));
        }
        Ok(ModelUri::Alias {
            name: name.to_owned(),
            alias: alias.to_owned(),
        })
    }
}

impl std::fmt::Display for ModelUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelUri::Alias { name, alias } => write!(f, "models:/{name}@{alias}"),
            ModelUri::Version { name, version } => write!(f, "models:/{name}/{version}"),
        }
    }
}

/// Registers trained models as numbered versions and resolves `models:/` URIs to runs.
#[async_trait]
pub trait ModelRegistry: Send + Sync {
    /// Registers the run's artifact folder `artifact_path` (such as `model`) as the next version
    /// of model `name`, creating the registered model when missing.
    async fn register_model_version(
        &self,
        name: &str,
        run_id: &str,
        artifact_path: &str,
    ) -> Result<ModelVersion, TrackerError>;

    /// Points `alias` at `version` of model `name`, moving it away from any other version.
    async fn set_alias(&self, name: &str, alias: &str, version: &str) -> Result<(), TrackerError>;

    /// Resolves `models:/NAME@ALIAS` or `models:/NAME/VERSION` to the model version.
    async fn resolve(&self, model_uri: &str) -> Result<ModelVersion, TrackerError>;
}

/// Checks an alias name with MLflow 3.17's rules, so both registries accept the same aliases.
pub(crate) fn validate_alias(name: &str, alias: &str) -> Result<(), TrackerError> {
    let invalid = |cause: String| TrackerError::InvalidAlias {
        name: name.to_owned(),
        alias: alias.to_owned(),
        cause,
    };
    if alias.is_empty() {
        return Err(invalid("the alias is empty".into()));
    }
    if !alias
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    {
        return Err(invalid(
            "aliases may only contain letters, digits, `_` and `-`".into(),
        ));
    }
    if alias.chars().count() > MAX_ALIAS_LENGTH {
        return Err(invalid(format!(
            "aliases are at most {MAX_ALIAS_LENGTH} characters long"
        )));
    }
    if alias.eq_ignore_ascii_case("latest") {
        return Err(invalid("`latest` is reserved".into()));
    }
    let version_like = alias.len() > 1
        && alias.starts_with(['v', 'V'])
        && alias[1..].bytes().all(|byte| byte.is_ascii_digit());
    if version_like {
        return Err(invalid(
            "`v` followed by digits is reserved for version numbers".into(),
        ));
    }
    Ok(())
}

/// A registry in one JSON file, `registry.json` in the local tracker's folder.
///
/// NOTE: writes are serialised within one process only, so two processes registering models in
/// the same data directory at once can lose a version.
#[derive(Debug)]
pub struct LocalRegistry {
    file: PathBuf,
    tracker: LocalTracker,
    lock: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct RegistryFile {
    models: BTreeMap<String, RegisteredModel>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct RegisteredModel {
    created: i64,
    versions: Vec<StoredVersion>,
    /// Alias name to version number.
    aliases: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredVersion {
    version: String,
    run_id: String,
    source: String,
    created: i64,
}

impl LocalRegistry {
    /// Uses `tracking_root`, the folder given to `LocalTracker::new`, for runs and the registry.
    pub fn new(tracking_root: impl Into<PathBuf>) -> Self {
        let root = tracking_root.into();
        Self {
            file: root.join("registry.json"),
            tracker: LocalTracker::new(&root),
            lock: Default::default(),
        }
    }

    async fn read(&self) -> Result<RegistryFile, TrackerError> {
        let bytes = match tokio::fs::read(&self.file).await {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(RegistryFile::default());
            }
            Err(source) => {
                return Err(TrackerError::Io {
                    path: self.file.display().to_string(),
                    source,
                });
            }
        };
        serde_json::from_slice(&bytes).map_err(|error| TrackerError::Corrupt {
            path: self.file.display().to_string(),
            cause: error.to_string(),
        })
    }

    /// Writes through a temporary file and a rename, so readers never see half a file.
    async fn write(&self, registry: &RegistryFile) -> Result<(), TrackerError> {
        let io_error = |path: &Path| {
            let path = path.display().to_string();
            move |source| TrackerError::Io { path, source }
        };
        if let Some(parent) = self.file.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(io_error(parent))?;
        }
        let temporary = self.file.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(registry).expect("the registry serialises");
        tokio::fs::write(&temporary, bytes)
            .await
            .map_err(io_error(&temporary))?;
        tokio::fs::rename(&temporary, &self.file)
            .await
            .map_err(io_error(&self.file))
    }

    fn version_of(name: &str, model: &RegisteredModel, stored: &StoredVersion) -> ModelVersion {
        let aliases = model
            .aliases
            .iter()
            .filter(|(_, version)| **version == stored.version)
            .map(|(alias, _)| alias.clone())
            .collect();
        ModelVersion {
            name: name.to_owned(),
            version: stored.version.clone(),
            run_id: stored.run_id.clone(),
            source: stored.source.clone(),
            aliases,
        }
    }
}

#[async_trait]
impl ModelRegistry for LocalRegistry {
    async fn register_model_version(
        &self,
        name: &str,
        run_id: &str,
        artifact_path: &str,
    ) -> Result<ModelVersion, TrackerError> {
        if name.trim().is_empty() || name.contains(['/', ':', '@']) {
            return Err(TrackerError::InvalidModelName(name.to_owned()));
        }
        self.tracker.get_run(run_id).await?;
        let artifact_path = artifact_path.trim_matches('/');

        let _guard = self.lock.lock().await;
        let mut registry = self.read().await?;
        let model = registry
            .models
            .entry(name.to_owned())
            .or_insert_with(|| RegisteredModel {
                created: now_millis(),
                ..Default::default()
            });
        let stored = StoredVersion {
            version: (model.versions.len() + 1).to_string(),
            run_id: run_id.to_owned(),
            source: format!("runs:/{run_id}/{artifact_path}"),
            created: now_millis(),
        };
        let version = Self::version_of(name, model, &stored);
        model.versions.push(stored);
        self.write(&registry).await?;
        Ok(version)
    }

    async fn set_alias(&self, name: &str, alias: &str, version: &str) -> Result<(), TrackerError> {
        validate_alias(name, alias)?;

        let _guard = self.lock.lock().await;
        let mut registry = self.read().await?;
        let model = registry
            .models
            .get_mut(name)
            .ok_or_else(|| TrackerError::ModelNotFound(name.to_owned()))?;
        if !model
            .versions
            .iter()
            .any(|stored| stored.version == version)
        {
            return Err(TrackerError::ModelVersionNotFound {
                name: name.to_owned(),
                version: version.to_owned(),
            });
        }
        model.aliases.insert(alias.to_owned(), version.to_owned());
        self.write(&registry).await
    }

    async fn resolve(&self, model_uri: &str) -> Result<ModelVersion, TrackerError> {
        let uri: ModelUri = model_uri.parse()?;
        let registry = self.read().await?;
        let name = uri.name();
        let model = registry
            .models
            .get(name)
            .ok_or_else(|| TrackerError::ModelNotFound(name.to_owned()))?;

        let version =
            match &uri {
                ModelUri::Version { version, .. } => version.clone(),
                ModelUri::Alias { alias, .. } => {
                    model.aliases.get(alias).cloned().ok_or_else(|| {
                        TrackerError::AliasNotFound {
                            name: name.to_owned(),
                            alias: alias.clone(),
                        }
                    })?
                }
            };
        model
            .versions
            .iter()
            .find(|stored| stored.version == version)
            .map(|stored| Self::version_of(name, model, stored))
            .ok_or_else(|| TrackerError::ModelVersionNotFound {
                name: name.to_owned(),
                version,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_uri_parses_alias_and_version() {
        assert_eq!(
            "models:/lda@champion".parse::<ModelUri>().unwrap(),
            ModelUri::Alias {
                name: "lda".into(),
                alias: "champion".into()
            }
        );
        assert_eq!(
            "models:/lda/12".parse::<ModelUri>().unwrap(),
            ModelUri::Version {
                name: "lda".into(),
                version: "12".into()
            }
        );
        assert_eq!(
            "models:/lda/12".parse::<ModelUri>().unwrap().to_string(),
            "models:/lda/12"
        );
    }

    #[test]
    fn model_uri_rejects_other_forms() {
        for uri in [
            "lda@champion",
            "models:/lda",
            "models:/lda/Production",
            "models://host/lda/1",
            "models:/@x",
            "models:/lda@",
        ] {
            let error = uri.parse::<ModelUri>().unwrap_err();
            assert!(
                matches!(error, TrackerError::InvalidModelUri { .. }),
                "{uri}: {error}"
            );
        }
    }

    #[test]
    fn alias_rules_match_mlflow() {
        assert!(validate_alias("m", "champion").is_ok());
        assert!(validate_alias("m", "canary-2_b").is_ok());
        for alias in ["", "latest", "LATEST", "v1", "V22", "with space", "a/b"] {
            assert!(
                validate_alias("m", alias).is_err(),
                "{alias:?} was accepted"
            );
        }
        assert!(validate_alias("m", "version").is_ok());
    }

    #[tokio::test]
    async fn local_registry_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let tracker = LocalTracker::new(dir.path());
        let registry = LocalRegistry::new(dir.path());
        let first = tracker.create_run("topica", "a", &[]).await.unwrap();
        let second = tracker.create_run("topica", "b", &[]).await.unwrap();

        let version = registry
            .register_model_version("lda", &first.run_id, "model")
            .await
            .unwrap();
        assert_eq!(version.version, "1");
        assert_eq!(version.source, format!("runs:/{}/model", first.run_id));
        let version = registry
            .register_model_version("lda", &second.run_id, "model")
            .await
            .unwrap();
        assert_eq!(version.version, "2");

        registry.set_alias("lda", "champion", "2").await.unwrap();
        let resolved = registry.resolve("models:/lda@champion").await.unwrap();
        assert_eq!(resolved.run_id, second.run_id);
        assert_eq!(resolved.aliases, vec!["champion".to_owned()]);
        let resolved = registry.resolve("models:/lda/1").await.unwrap();
        assert_eq!(resolved.run_id, first.run_id);
        assert!(resolved.aliases.is_empty());
    }

    #[tokio::test]
    async fn local_registry_reports_missing_entries() {
        let dir = tempfile::tempdir().unwrap();
        let tracker = LocalTracker::new(dir.path());
        let registry = LocalRegistry::new(dir.path());
        let run = tracker.create_run("topica", "a", &[]).await.unwrap();
        registry
            .register_model_version("lda", &run.run_id, "model")
            .await
            .unwrap();

        let error = registry.resolve("models:/lda@staging").await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "model lda has no alias staging: set it with `topica model promote --name lda --version V --alias staging`"
        );
        let error = registry
            .resolve("models:/other@champion")
            .await
            .unwrap_err();
        assert!(matches!(error, TrackerError::ModelNotFound(_)), "{error}");
        let error = registry
            .set_alias("lda", "champion", "9")
            .await
            .unwrap_err();
        assert!(
            matches!(error, TrackerError::ModelVersionNotFound { .. }),
            "{error}"
        );
        let error = registry
            .register_model_version("lda", "0123abcd", "model")
            .await
            .unwrap_err();
        assert!(matches!(error, TrackerError::RunNotFound(_)), "{error}");
    }
}
