//! Creating the declared topology on the server, idempotently: each item is created when
//! missing, updated when its configuration differs, and left alone otherwise.

use super::{topology_error, NatsBus};
use crate::topology::{consumers, ConsumerSpec, Discard, KvSpec, Retention, Storage, StreamSpec};
use crate::{Applied, BusError, Change, Topology};
use async_nats::jetstream::{consumer, kv, object_store, stream};
use futures::TryStreamExt;

impl NatsBus {
    /// Creates or updates every stream, consumer, KV bucket and object store of
    /// `topology`, and deletes the durables earlier versions created that nothing reads
    /// any more ([`consumers::RETIRED`]). Running it again with the same topology changes
    /// nothing (every item reports [`Change::Unchanged`]); an immutable setting that
    /// differs (retention, storage) is an error naming the item.
    pub async fn ensure_topology(&self, topology: &Topology) -> Result<Vec<Applied>, BusError> {
        let config = &topology.config;
        let mut applied = Vec::new();
        for spec in &topology.streams {
            let change = self.apply_stream(stream_config(spec, config)).await?;
            applied.push(item("stream", &spec.name, change));
        }
        for spec in &topology.consumers {
            let change = self.apply_consumer(spec, config.replicas).await?;
            applied.push(item("consumer", &spec.durable, change));
        }
        for spec in &topology.streams {
            for durable in self.remove_retired_consumers(&spec.name).await? {
                applied.push(item("consumer", &durable, Change::Removed));
            }
        }
        for spec in &topology.kv_buckets {
            let change = self.apply_kv(spec, config.storage, config.replicas).await?;
            applied.push(item("kv bucket", &spec.bucket, change));
        }
        for bucket in &topology.object_stores {
            let change = self
                .apply_object_store(bucket, config.storage, config.replicas)
                .await?;
            applied.push(item("object store", bucket, change));
        }
        for a in applied.iter().filter(|a| a.change != Change::Unchanged) {
            tracing::info!(kind = a.kind, name = %a.name, change = ?a.change, "topology applied");
        }
        Ok(applied)
    }

    /// What a service runs at start-up: the whole topology when its configuration says
    /// it creates it (`[bus] create = true`, the default), otherwise only the durable
    /// consumers it reads (`durables`), after checking that every stream exists so that
    /// a missing `prospector topology apply` is reported at once, by name.
    pub async fn prepare(
        &self,
        topology: &Topology,
        durables: &[&str],
    ) -> Result<Vec<Applied>, BusError> {
        if topology.config.create {
            return self.ensure_topology(topology).await;
        }
        for spec in &topology.streams {
            self.jetstream.get_stream(&spec.name).await.map_err(|e| {
                topology_error(
                    "find (run `prospector topology apply` first)",
                    "stream",
                    &spec.name,
                    e,
                )
            })?;
        }
        let mut applied = Vec::new();
        for durable in durables {
            applied.push(self.ensure_consumer(topology, durable).await?);
        }
        Ok(applied)
    }

    /// Creates or updates one durable consumer of `topology` (its stream must exist).
    /// What a service with least-privilege credentials runs at start-up, where an
    /// operator created the streams and buckets with [`NatsBus::ensure_topology`].
    pub async fn ensure_consumer(
        &self,
        topology: &Topology,
        durable: &str,
    ) -> Result<Applied, BusError> {
        let spec = topology.consumer(durable)?;
        let change = self.apply_consumer(spec, topology.config.replicas).await?;
        Ok(item("consumer", durable, change))
    }

    async fn stream_config_now(&self, name: &str) -> Option<stream::Config> {
        let mut stream = self.jetstream.get_stream(name).await.ok()?;
        stream.info().await.ok().map(|info| info.config.clone())
    }

    async fn apply_stream(&self, config: stream::Config) -> Result<Change, BusError> {
        let name = config.name.clone();
        let before = self.stream_config_now(&name).await;
        let info = self
            .jetstream
            .create_or_update_stream(config)
            .await
            .map_err(|e| topology_error("create or update", "stream", &name, e))?;
        Ok(compare(before, &info.config))
    }

    async fn apply_consumer(
        &self,
        spec: &ConsumerSpec,
        replicas: usize,
    ) -> Result<Change, BusError> {
        let stream = self
            .jetstream
            .get_stream(&spec.stream)
            .await
            .map_err(|e| topology_error("find", "stream", &spec.stream, e))?;
        let before = stream
            .consumer_info(&spec.durable)
            .await
            .ok()
            .map(|i| i.config);
        let created: consumer::PullConsumer = stream
            .create_consumer(consumer::pull::Config {
                durable_name: Some(spec.durable.clone()),
                filter_subject: spec.filter_subject.clone(),
                ack_policy: consumer::AckPolicy::Explicit,
                deliver_policy: consumer::DeliverPolicy::All,
                ack_wait: spec.settings.ack_wait,
                // One delivery more than configured: the runner dead-letters a message
                // that arrives past the limit (e.g. one that crashed every worker), which
                // the server alone would silently stop delivering.
                max_deliver: spec.settings.max_deliver.saturating_add(1),
                max_ack_pending: spec.settings.max_ack_pending,
                num_replicas: replicas,
                ..Default::default()
            })
            .await
            .map_err(|e| topology_error("create or update", "consumer", &spec.durable, e))?;
        Ok(compare(before, &created.cached_info().config))
    }

    /// Deletes the retired durables found on `stream_name`; returns their names.
    async fn remove_retired_consumers(&self, stream_name: &str) -> Result<Vec<String>, BusError> {
        let stream = self
            .jetstream
            .get_stream(stream_name)
            .await
            .map_err(|e| topology_error("find", "stream", stream_name, e))?;
        let names: Vec<String> = stream
            .consumer_names()
            .try_collect()
            .await
            .map_err(|e| topology_error("list the consumers of", "stream", stream_name, e))?;
        let mut removed = Vec::new();
        for durable in names
            .into_iter()
            .filter(|n| consumers::RETIRED.contains(&n.as_str()))
        {
            stream
                .delete_consumer(&durable)
                .await
                .map_err(|e| topology_error("delete the retired", "consumer", &durable, e))?;
            removed.push(durable);
        }
        Ok(removed)
    }

    async fn apply_kv(
        &self,
        spec: &KvSpec,
        storage: Storage,
        replicas: usize,
    ) -> Result<Change, BusError> {
        let stream_name = format!("KV_{}", spec.bucket);
        let before = self.stream_config_now(&stream_name).await;
        self.jetstream
            .create_or_update_key_value(kv::Config {
                bucket: spec.bucket.clone(),
                description: spec.description.to_owned(),
                history: spec.history,
                storage: storage_type(storage),
                num_replicas: replicas,
                ..Default::default()
            })
            .await
            .map_err(|e| topology_error("create or update", "kv bucket", &spec.bucket, e))?;
        let after = self.stream_config_now(&stream_name).await.ok_or_else(|| {
            topology_error(
                "read back",
                "kv bucket",
                &spec.bucket,
                "missing after creation",
            )
        })?;
        Ok(compare(before, &after))
    }

    /// Object stores are created when missing; an existing one is left as it is.
    async fn apply_object_store(
        &self,
        bucket: &str,
        storage: Storage,
        replicas: usize,
    ) -> Result<Change, BusError> {
        if self.jetstream.get_object_store(bucket).await.is_ok() {
            return Ok(Change::Unchanged);
        }
        self.jetstream
            .create_object_store(object_store::Config {
                bucket: bucket.to_owned(),
                storage: storage_type(storage),
                num_replicas: replicas,
                ..Default::default()
            })
            .await
            .map_err(|e| topology_error("create", "object store", bucket, e))?;
        Ok(Change::Created)
    }
}

fn item(kind: &'static str, name: &str, change: Change) -> Applied {
    Applied {
        kind,
        name: name.to_owned(),
        change,
    }
}

fn compare<T: PartialEq>(before: Option<T>, after: &T) -> Change {
    match before {
        None => Change::Created,
        Some(before) if &before == after => Change::Unchanged,
        Some(_) => Change::Updated,
    }
}

fn storage_type(storage: Storage) -> stream::StorageType {
    match storage {
        Storage::File => stream::StorageType::File,
        Storage::Memory => stream::StorageType::Memory,
    }
}

fn stream_config(spec: &StreamSpec, config: &crate::TopologyConfig) -> stream::Config {
    stream::Config {
        name: spec.name.clone(),
        subjects: spec.subjects.clone(),
        retention: match spec.retention {
            Retention::WorkQueue => stream::RetentionPolicy::WorkQueue,
            Retention::Limits => stream::RetentionPolicy::Limits,
        },
        max_age: spec.limits.max_age,
        max_bytes: spec.limits.max_bytes,
        max_messages: spec.limits.max_messages,
        discard: match spec.limits.discard {
            Discard::New => stream::DiscardPolicy::New,
            Discard::Old => stream::DiscardPolicy::Old,
        },
        storage: storage_type(config.storage),
        num_replicas: config.replicas,
        max_message_size: config.max_message_bytes,
        duplicate_window: config.duplicate_window,
        ..Default::default()
    }
}
