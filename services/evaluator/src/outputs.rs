//! What the evaluator writes for other services and for astronomers: each image's
//! `ImageStatus` in KV (the tiler's GetImage/WatchImage read it) and, once an image is
//! complete, its ranked catalogue as CSV.

use async_nats::jetstream::kv;
use prospector_proto::v1::ImageStatus;
use prospector_ranking::Catalogue;
use prost::Message;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write the status of image {image_id} to KV bucket `{bucket}`: {message}")]
    Status {
        image_id: String,
        bucket: &'static str,
        message: String,
    },
    #[error("cannot write catalogue {path}: {source} (is the evaluator's data_dir writable?)")]
    Csv {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot format the catalogue of image {image_id}: {message}")]
    Format { image_id: String, message: String },
}

/// Where and how the outputs are written.
#[derive(Debug, Clone)]
pub struct Outputs {
    status_kv: kv::Store,
    catalogue_dir: PathBuf,
}

impl Outputs {
    /// `data_dir` is the evaluator's; catalogues go to `<data_dir>/catalogues/`.
    pub fn new(status_kv: kv::Store, data_dir: &Path) -> Self {
        Self {
            status_kv,
            catalogue_dir: data_dir.join("catalogues"),
        }
    }

    /// `<data_dir>/catalogues/<image_id>.csv`.
    pub fn catalogue_path(&self, image_id: &str) -> PathBuf {
        self.catalogue_dir.join(format!("{image_id}.csv"))
    }

    /// Puts `status` under its image id in the status bucket.
    pub async fn write_status(&self, status: &ImageStatus) -> Result<(), OutputError> {
        self.status_kv
            .put(&status.image_id, status.encode_to_vec().into())
            .await
            .map(|_| ())
            .map_err(|e| OutputError::Status {
                image_id: status.image_id.clone(),
                bucket: prospector_bus::topology::buckets::IMAGE_STATUS,
                message: e.to_string(),
            })
    }

    /// Writes the image's ranked catalogue atomically: to a temporary file in the same
    /// folder, synced, then renamed over the final name, so a reader never sees half a file.
    pub fn write_catalogue_csv(
        &self,
        catalogue: &Catalogue,
        image_id: &str,
    ) -> Result<PathBuf, OutputError> {
        let mut bytes = Vec::new();
        catalogue
            .write_image_csv(image_id, &mut bytes)
            .map_err(|e| OutputError::Format {
                image_id: image_id.to_owned(),
                message: e.to_string(),
            })?;
        let path = self.catalogue_path(image_id);
        let temporary = self.catalogue_dir.join(format!(".{image_id}.csv.partial"));
        let io_error = |source| OutputError::Csv {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&self.catalogue_dir).map_err(io_error)?;
        let mut file = std::fs::File::create(&temporary).map_err(io_error)?;
        file.write_all(&bytes).map_err(io_error)?;
        file.sync_all().map_err(io_error)?;
        std::fs::rename(&temporary, &path).map_err(io_error)?;
        Ok(path)
    }
}

/// The image's status as the catalogue knows it, or `None` for an unknown image.
pub fn image_status(
    catalogue: &Catalogue,
    image_id: &str,
    catalogue_path: Option<PathBuf>,
) -> Option<ImageStatus> {
    let progress = catalogue.image(image_id)?;
    Some(ImageStatus {
        image_id: image_id.to_owned(),
        stage: progress.stage() as i32,
        tiles_total: progress.tiles_total().unwrap_or(0),
        tiles_done: progress.tiles_done(),
        sources_found: progress.sources_found(),
        sources_scored: progress.sources_scored(),
        detail: progress.failure().unwrap_or_default().to_owned(),
        catalogue_path: catalogue_path
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    })
}
