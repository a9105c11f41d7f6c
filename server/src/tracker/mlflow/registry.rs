//! MLflow's model registry behind `ModelRegistry`: registered models, versions and aliases.

use async_trait::async_trait;

use super::wire;
use super::{
    ALREADY_EXISTS, INVALID_PARAMETER, MlflowTracker, NOT_FOUND, has_error_code, proxy_path,
    validate_artifact_path,
};
use crate::tracker::TrackerError;
use crate::tracker::registry::{ModelRegistry, ModelUri, ModelVersion, validate_alias};

#[async_trait]
impl ModelRegistry for MlflowTracker {
    /// Creates the registered model when missing, then a version whose `source` is the run's
    /// `mlflow-artifacts:/…/artifacts/<artifact_path>` URI. The folder must contain at least one
    /// file.
    async fn register_model_version(
        &self,
        name: &str,
        run_id: &str,
        artifact_path: &str,
    ) -> Result<ModelVersion, TrackerError> {
        if name.trim().is_empty() || name.contains(['/', ':', '@']) {
            return Err(TrackerError::InvalidModelName(name.to_owned()));
        }
        let artifact_path = artifact_path.trim_matches('/');
        validate_artifact_path(artifact_path)?;

        let artifact_uri = self.artifact_uri(run_id).await?;
        let folder = format!("{}/{artifact_path}", proxy_path(run_id, &artifact_uri)?);
        let listing: wire::ArtifactListing = self
            .client
            .get("mlflow-artifacts/artifacts", &[("path", folder.as_str())])
            .await?;
        if listing.files.is_empty() {
            return Err(TrackerError::ArtifactNotFound {
                run_id: run_id.to_owned(),
                path: artifact_path.to_owned(),
            });
        }

        let created = self
            .client
            .post::<_, serde_json::Value>(
                "mlflow/registered-models/create",
                &wire::CreateRegisteredModel { name },
            )
            .await;
        match created {
            Ok(_) => tracing::info!(model = name, "created MLflow registered model"),
            Err(error) if has_error_code(&error, ALREADY_EXISTS) => {}
            Err(error) => return Err(error),
        }

        let source = format!("{}/{artifact_path}", artifact_uri.trim_end_matches('/'));
        let body = wire::CreateModelVersion {
            name,
            source: &source,
            run_id,
        };
        let response: wire::ModelVersionResponse = self
            .client
            .post("mlflow/model-versions/create", &body)
            .await?;
        tracing::info!(model = name, version = %response.model_version.version, run_id, "registered model version");
        Ok(to_model_version(response.model_version))
    }

    async fn set_alias(&self, name: &str, alias: &str, version: &str) -> Result<(), TrackerError> {
        validate_alias(name, alias)?;
        let body = wire::SetAlias {
            name,
            alias,
            version,
        };
        match self
            .client
            .post::<_, wire::Empty>("mlflow/registered-models/alias", &body)
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if has_error_code(&error, NOT_FOUND) => {
                Err(self.missing_model_or_version(name, version).await)
            }
            Err(error) => Err(error),
        }
    }

    async fn resolve(&self, model_uri: &str) -> Result<ModelVersion, TrackerError> {
        let uri: ModelUri = model_uri.parse()?;
        let found = match &uri {
            ModelUri::Alias { name, alias } => {
                let query = [("name", name.as_str()), ("alias", alias.as_str())];
                match self
                    .client
                    .get::<wire::ModelVersionResponse>("mlflow/registered-models/alias", &query)
                    .await
                {
                    // MLflow 3.17 returns 400 INVALID_PARAMETER_VALUE for an unknown alias.
                    Err(error) if has_error_code(&error, INVALID_PARAMETER) => {
                        Err(TrackerError::AliasNotFound {
                            name: name.clone(),
                            alias: alias.clone(),
                        })
                    }
                    Err(error) if has_error_code(&error, NOT_FOUND) => {
                        Err(TrackerError::ModelNotFound(name.clone()))
                    }
                    other => other,
                }
            }
            ModelUri::Version { name, version } => {
                let query = [("name", name.as_str()), ("version", version.as_str())];
                match self
                    .client
                    .get::<wire::ModelVersionResponse>("mlflow/model-versions/get", &query)
                    .await
                {
                    Err(error) if has_error_code(&error, NOT_FOUND) => {
                        Err(self.missing_model_or_version(name, version).await)
                    }
                    other => other,
                }
            }
        }?;
        Ok(to_model_version(found.model_version))
    }
}

impl MlflowTracker {
    /// Returns `ModelNotFound` or `ModelVersionNotFound` for a 404 about `name`/`version`, after
    /// checking whether the registered model exists.
    async fn missing_model_or_version(&self, name: &str, version: &str) -> TrackerError {
        match self
            .client
            .get::<serde_json::Value>("mlflow/registered-models/get", &[("name", name)])
            .await
        {
            Ok(_) => TrackerError::ModelVersionNotFound {
                name: name.to_owned(),
                version: version.to_owned(),
            },
            Err(error) if has_error_code(&error, NOT_FOUND) => {
                TrackerError::ModelNotFound(name.to_owned())
            }
            Err(error) => error,
        }
    }
}

fn to_model_version(message: wire::ModelVersionMessage) -> ModelVersion {
    ModelVersion {
        name: message.name,
        version: message.version,
        run_id: message.run_id,
        source: message.source,
        aliases: message.aliases,
    }
}
