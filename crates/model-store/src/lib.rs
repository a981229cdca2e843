//! Model versions on the bus.
//!
//! A version is a model folder (`model.safetensors` and `model-card.json`) named by its
//! content hash (the card's `version_id`). [`publish`] checks the folder loads, stores
//! both files in the `prospector-models` object store as `<version>/<file>` and then sets
//! the `active` key of the `prospector-models` KV bucket to the version, in that order,
//! so a scorer never sees a version whose files are not there yet. Scorers read the key
//! at start ([`active_version`]), [`fetch`] the files into a local cache, and follow the
//! key ([`watch_active`]) to hot-swap.

use async_nats::jetstream::kv::{self, Operation};
use async_nats::jetstream::object_store::ObjectStore;
use futures::{Stream, StreamExt};
use prospector_bus::topology::buckets;
use prospector_bus::NatsBus;
use prospector_model::{Device, Scorer, CARD_FILE, WEIGHTS_FILE};
use std::path::{Path, PathBuf};

/// The files of one version.
pub const FILES: [&str; 2] = [WEIGHTS_FILE, CARD_FILE];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{dir}: not a usable model: {reason}")]
    Invalid { dir: PathBuf, reason: String },
    #[error("`{0}` is not a model version (64 hex digits)")]
    BadVersion(String),
    #[error("{what} in `{bucket}`: {message}")]
    Bus {
        what: String,
        bucket: &'static str,
        message: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn bus_error(what: impl Into<String>, bucket: &'static str) -> impl FnOnce(String) -> StoreError {
    let what = what.into();
    move |message| StoreError::Bus {
        what,
        bucket,
        message,
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Versions are content hashes; anything else (a path, say) is refused before it is
/// used as a folder name in the cache.
fn checked(version: &str) -> Result<&str, StoreError> {
    let valid = version.len() == 64 && version.bytes().all(|b| b.is_ascii_hexdigit());
    valid
        .then_some(version)
        .ok_or_else(|| StoreError::BadVersion(version.to_owned()))
}

/// Loads the model in `dir` on the CPU (checking the weights against the card).
pub async fn load(dir: &Path, device: Device) -> Result<Scorer, StoreError> {
    let owned = dir.to_owned();
    tokio::task::spawn_blocking(move || Scorer::load(&owned, device))
        .await
        .map_err(|e| StoreError::Invalid {
            dir: dir.to_owned(),
            reason: format!("loading stopped: {e}"),
        })?
        .map_err(|e| StoreError::Invalid {
            dir: dir.to_owned(),
            reason: e.to_string(),
        })
}

/// The object store holding one object per model file and version.
async fn model_objects(bus: &NatsBus) -> Result<ObjectStore, StoreError> {
    bus.object_store(buckets::MODEL_OBJECTS)
        .await
        .map_err(|e| bus_error("opening the object store", buckets::MODEL_OBJECTS)(e.to_string()))
}

/// Uploads the model in `dir` and makes it the active version; returns the version.
pub async fn publish(bus: &NatsBus, dir: &Path) -> Result<String, StoreError> {
    let version = load(dir, Device::Cpu).await?.version_id().to_owned();
    let store = model_objects(bus).await?;
    for file in FILES {
        let path = dir.join(file);
        let mut reader = tokio::fs::File::open(&path)
            .await
            .map_err(io_error(&path))?;
        let name = format!("{version}/{file}");
        store.put(name.as_str(), &mut reader).await.map_err(|e| {
            bus_error(format!("storing {name}"), buckets::MODEL_OBJECTS)(e.to_string())
        })?;
    }
    models_kv(bus)
        .await?
        .put(buckets::ACTIVE_MODEL_KEY, version.clone().into())
        .await
        .map_err(|e| bus_error("setting the active version", buckets::MODELS)(e.to_string()))?;
    tracing::info!(version, dir = %dir.display(), "model published and active");
    Ok(version)
}

/// The KV bucket holding the active version.
pub async fn models_kv(bus: &NatsBus) -> Result<kv::Store, StoreError> {
    bus.key_value(buckets::MODELS)
        .await
        .map_err(|e| bus_error("opening the bucket", buckets::MODELS)(e.to_string()))
}

/// The active version, if one was ever published.
pub async fn active_version(models: &kv::Store) -> Result<Option<String>, StoreError> {
    let value = models
        .get(buckets::ACTIVE_MODEL_KEY)
        .await
        .map_err(|e| bus_error("reading the active version", buckets::MODELS)(e.to_string()))?;
    value
        .map(|bytes| {
            let text = String::from_utf8_lossy(&bytes).trim().to_owned();
            checked(&text).map(str::to_owned)
        })
        .transpose()
}

/// Every version made active from now on (not the current one), in order.
pub async fn watch_active(
    models: &kv::Store,
) -> Result<impl Stream<Item = Result<String, StoreError>> + Send + 'static, StoreError> {
    let watch = models
        .watch(buckets::ACTIVE_MODEL_KEY)
        .await
        .map_err(|e| bus_error("watching the active version", buckets::MODELS)(e.to_string()))?;
    Ok(watch.filter_map(|entry| async move {
        match entry {
            Ok(entry) if entry.operation == Operation::Put => {
                let text = String::from_utf8_lossy(&entry.value).trim().to_owned();
                Some(checked(&text).map(str::to_owned))
            }
            Ok(_) => None,
            Err(e) => Some(Err(bus_error(
                "watching the active version",
                buckets::MODELS,
            )(e.to_string()))),
        }
    }))
}

/// The folder of `version` in `cache`, downloaded first unless already there. Files are
/// written to a temporary folder renamed into place, so a crash never leaves a half
/// model under the version's name.
pub async fn fetch(bus: &NatsBus, version: &str, cache: &Path) -> Result<PathBuf, StoreError> {
    let version = checked(version)?;
    let dir = cache.join(version);
    if FILES.iter().all(|f| dir.join(f).is_file()) {
        return Ok(dir);
    }
    let store = model_objects(bus).await?;
    let partial = cache.join(format!(".{version}.partial-{}", std::process::id()));
    tokio::fs::create_dir_all(&partial)
        .await
        .map_err(io_error(&partial))?;
    for file in FILES {
        let name = format!("{version}/{file}");
        let mut object = store.get(name.as_str()).await.map_err(|e| {
            bus_error(format!("fetching {name}"), buckets::MODEL_OBJECTS)(e.to_string())
        })?;
        let path = partial.join(file);
        let mut out = tokio::fs::File::create(&path)
            .await
            .map_err(io_error(&path))?;
        tokio::io::copy(&mut object, &mut out)
            .await
            .map_err(io_error(&path))?;
        out.sync_all().await.map_err(io_error(&path))?;
    }
    match tokio::fs::rename(&partial, &dir).await {
        Ok(()) => Ok(dir),
        // Another scorer sharing the cache got there first: its copy is the same bytes.
        Err(_) if FILES.iter().all(|f| dir.join(f).is_file()) => {
            let _ = tokio::fs::remove_dir_all(&partial).await;
            Ok(dir)
        }
        Err(e) => Err(io_error(&dir)(e)),
    }
}
