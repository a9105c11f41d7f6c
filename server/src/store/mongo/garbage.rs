//! Staging entries and garbage collection.
//!
//! A write stores its data under a fresh id (a corpus generation or a token set) that no record
//! points at, and lists that id in `staging` while it runs. Data whose id is neither pointed at by
//! a record nor listed in `staging` is garbage: the leftovers of a failed or killed write, or the
//! previous generation after a replacement or a deletion. A staging entry that its writer has not
//! renewed for the lease is abandoned and removed, which turns its data into garbage.

use std::collections::HashSet;
use std::time::SystemTime;

use futures_util::TryStreamExt;
use mongodb::Collection;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, DateTime, doc};

use super::MongoStore;
use super::records::{StagingEntry, StagingKind};
use crate::store::StoreError;

impl MongoStore {
    /// Lists `id` in `staging`, so that garbage collection keeps its data while it is written.
    pub(super) async fn begin_staging(
        &self,
        id: ObjectId,
        kind: StagingKind,
        name: &str,
        operation: &str,
    ) -> Result<(), StoreError> {
        let entry = StagingEntry {
            id,
            kind,
            name: name.to_owned(),
            updated_at: DateTime::now(),
        };
        self.staging()
            .insert_one(&entry)
            .await
            .map_err(|error| self.error(operation, error))?;
        Ok(())
    }

    /// Renews the lease of a staging entry. Fails when garbage collection removed the entry
    /// because the writer stalled for longer than the lease, because the data may be gone.
    pub(super) async fn renew_staging(
        &self,
        id: ObjectId,
        name: &str,
        operation: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .staging()
            .update_one(
                doc! { "_id": id },
                doc! { "$set": { "updated_at": DateTime::now() } },
            )
            .await
            .map_err(|error| self.error(operation, error))?;
        if result.matched_count == 0 {
            return Err(StoreError::ConcurrentChange {
                corpus: name.to_owned(),
                operation: operation.to_owned(),
            });
        }
        Ok(())
    }

    /// Ends a write: removes its staging entry and collects garbage. After a successful switch
    /// this deletes the data the switch replaced. After a failure it deletes the staged data
    /// unless a record points at it, because a switch whose reply was lost may have been applied.
    /// Failures are logged, not returned, and the next write or connect retries.
    pub(super) async fn end_staging(&self, id: ObjectId) {
        if let Err(error) = self.staging().delete_one(doc! { "_id": id }).await {
            tracing::warn!(staging_id = %id, %error, "cannot remove a staging entry, so it stays until its lease runs out");
            return;
        }
        self.collect_garbage_logged().await;
    }

    /// Collects garbage and logs a failure instead of returning it.
    pub(super) async fn collect_garbage_logged(&self) {
        if let Err(error) = self.collect_garbage().await {
            tracing::warn!(%error, "MongoDB garbage collection failed, and the next write or connect retries it");
        }
    }

    /// Removes abandoned staging entries, then deletes every corpus generation and token set that
    /// no record points at and no staging entry protects.
    pub(super) async fn collect_garbage(&self) -> Result<(), StoreError> {
        self.remove_abandoned_staging().await?;
        self.delete_orphan_generations().await?;
        self.delete_orphan_token_sets().await
    }

    async fn remove_abandoned_staging(&self) -> Result<(), StoreError> {
        let cutoff = DateTime::from_system_time(SystemTime::now() - self.staging_lease);
        let result = self
            .staging()
            .delete_many(doc! { "updated_at": { "$lt": cutoff } })
            .await
            .map_err(|error| self.error("remove abandoned staging entries", error))?;
        if result.deleted_count > 0 {
            tracing::info!(
                count = result.deleted_count,
                "removed abandoned staging entries of interrupted writes"
            );
        }
        Ok(())
    }

    // The three sets are read in this order (data, staging, records) because writers go the
    // other way: a writer lists its id in `staging` before writing data, and removes the entry
    // only after a record points at the id. So an id seen in the data is, by the time the later
    // reads run, either still staged or already pointed at.
    async fn delete_orphan_generations(&self) -> Result<(), StoreError> {
        let operation = "collect unused corpus generations";
        let mut found = self
            .distinct_ids(&self.document_records(), "corpus_id", operation)
            .await?;
        found.extend(
            self.distinct_ids(&self.pipeline_entries(), "corpus_id", operation)
                .await?,
        );
        let staged = self.distinct_ids(&self.staging(), "_id", operation).await?;
        let live = self
            .distinct_ids(&self.corpus_records(), "corpus_id", operation)
            .await?;

        for corpus_id in found
            .iter()
            .filter(|id| !staged.contains(id) && !live.contains(id))
        {
            self.delete_generation(*corpus_id).await?;
        }
        Ok(())
    }

    async fn delete_orphan_token_sets(&self) -> Result<(), StoreError> {
        let operation = "collect unused token sets";
        let mut found = self
            .distinct_ids(&self.token_records(), "token_set_id", operation)
            .await?;
        found.extend(
            self.distinct_ids(&self.dictionary_chunks(), "token_set_id", operation)
                .await?,
        );
        let staged = self.distinct_ids(&self.staging(), "_id", operation).await?;
        let live = self
            .distinct_ids(&self.pipeline_entries(), "token_set_id", operation)
            .await?;

        let orphans: Vec<ObjectId> = found
            .into_iter()
            .filter(|id| !staged.contains(id) && !live.contains(id))
            .collect();
        self.delete_token_sets(&orphans).await
    }

    /// Deletes one corpus generation: its pipelines' token sets, its pipelines, its documents.
    async fn delete_generation(&self, corpus_id: ObjectId) -> Result<(), StoreError> {
        let operation = "delete an unused corpus generation";
        let token_set_ids: Vec<ObjectId> = self
            .pipeline_entries()
            .find(doc! { "corpus_id": corpus_id })
            .await
            .map_err(|error| self.error(operation, error))?
            .map_ok(|entry| entry.token_set_id)
            .try_collect()
            .await
            .map_err(|error| self.error(operation, error))?;
        self.delete_token_sets(&token_set_ids).await?;

        self.pipeline_entries()
            .delete_many(doc! { "corpus_id": corpus_id })
            .await
            .map_err(|error| self.error(operation, error))?;
        let deleted = self
            .document_records()
            .delete_many(doc! { "corpus_id": corpus_id })
            .await
            .map_err(|error| self.error(operation, error))?;
        tracing::info!(%corpus_id, documents = deleted.deleted_count, "deleted an unused corpus generation");
        Ok(())
    }

    async fn delete_token_sets(&self, token_set_ids: &[ObjectId]) -> Result<(), StoreError> {
        if token_set_ids.is_empty() {
            return Ok(());
        }
        let operation = "delete unused token sets";
        let filter = doc! { "token_set_id": { "$in": token_set_ids } };
        let deleted = self
            .token_records()
            .delete_many(filter.clone())
            .await
            .map_err(|error| self.error(operation, error))?;
        self.dictionary_chunks()
            .delete_many(filter)
            .await
            .map_err(|error| self.error(operation, error))?;
        tracing::info!(
            token_sets = token_set_ids.len(),
            token_lists = deleted.deleted_count,
            "deleted unused token sets"
        );
        Ok(())
    }

    async fn distinct_ids<T: Send + Sync>(
        &self,
        collection: &Collection<T>,
        field: &str,
        operation: &str,
    ) -> Result<HashSet<ObjectId>, StoreError> {
        let values = collection
            .distinct(field, doc! {})
            .await
            .map_err(|error| self.error(operation, error))?;
        values
            .into_iter()
            .map(|value| match value {
                Bson::ObjectId(id) => Ok(id),
                other => Err(StoreError::Corrupt(format!(
                    "{}.{field} contains {other}, expected an ObjectId",
                    collection.name()
                ))),
            })
            .collect()
    }
}
