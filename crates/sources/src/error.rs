use prospector_image::PixelRect;
use std::path::PathBuf;

/// Everything that can stop the source finder, each naming what it was working on.
#[derive(Debug, thiserror::Error)]
pub enum SourcesError {
    #[error("rectangle {rect:?} lies outside the image {image:?}")]
    OutsideImage { rect: PixelRect, image: PixelRect },
    #[error("reading pixels {rect:?}: {reason}")]
    Read { rect: PixelRect, reason: String },
    #[error("the image has no unblanked pixels of varying value: no background can be measured")]
    NoBackground,
    #[error("invalid finder configuration: {0}")]
    Config(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("{0}")]
    Fits(String),
    #[error(transparent)]
    Cutouts(#[from] prospector_cutouts::CutoutSetError),
}
