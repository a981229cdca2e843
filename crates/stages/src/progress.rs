//! What the stages share: progress events and the finder settings of an image.

use prospector_proto::v1::{ImageOptions, ProgressEvent, Stage};
use prospector_proto::SCHEMA_VERSION;
use prospector_sources::FinderConfig;
use std::time::{SystemTime, UNIX_EPOCH};

/// A progress event for one tile (or the whole image, tile 0) of `image_id`.
pub(crate) fn progress(
    image_id: &str,
    stage: Stage,
    tile_index: u32,
    tile_count: u32,
    sources_owned: u32,
    detail: String,
) -> ProgressEvent {
    ProgressEvent {
        schema_version: SCHEMA_VERSION,
        image_id: image_id.to_owned(),
        stage: stage as i32,
        tile_index,
        tile_count,
        sources_owned,
        detail,
        at_unix_ms: now_unix_ms(),
    }
}

fn now_unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The finder settings for an image: the service's, with the image's overrides.
pub(crate) fn finder_for(finder: &FinderConfig, options: Option<&ImageOptions>) -> FinderConfig {
    let mut config = finder.clone();
    if let Some(options) = options.and_then(|o| o.finder.as_ref()) {
        config.thresh_isl = options.thresh_isl.unwrap_or(config.thresh_isl);
        config.thresh_pix = options.thresh_pix.unwrap_or(config.thresh_pix);
        if let Some(size) = options.cutout_size {
            config.cutouts.size = size as usize;
        }
    }
    config
}
