//! Everything that can go wrong while simulating, as one error enum.

use thiserror::Error;

/// Why a simulation could not be set up, rendered or written.
#[derive(Debug, Error)]
pub enum SimError {
    /// A configuration value is out of its meaningful range.
    #[error("invalid simulator configuration: `{field}` {reason}")]
    InvalidConfig { field: &'static str, reason: String },
    /// A source given to inject is malformed.
    #[error("source {index} cannot be simulated: {reason}")]
    InvalidSource { index: usize, reason: String },
    /// A rectangle asked for lies (partly) outside the simulated image.
    #[error(
        "rectangle {x0},{y0} {width}x{height} is not inside the {image_width}x{image_height} image"
    )]
    RectOutsideImage {
        x0: usize,
        y0: usize,
        width: usize,
        height: usize,
        image_width: usize,
        image_height: usize,
    },
    /// The field's centre or pixel scale makes no valid WCS.
    #[error("the field's world coordinates: {0}")]
    Wcs(#[from] prospector_wcs::WcsError),
    /// Writing the FITS image failed (the message names the file).
    #[error(transparent)]
    Fits(#[from] prospector_fits::FitsError),
    /// A pixel position has no sky coordinate (outside the projection).
    #[error("pixel ({x}, {y}) has no sky position under the field's projection")]
    OffSky { x: f64, y: f64 },
    /// Reading or writing a truth catalogue failed.
    #[error("truth catalogue {path}: {source}")]
    Catalogue {
        path: String,
        #[source]
        source: csv::Error,
    },
}

impl SimError {
    pub(crate) fn config(field: &'static str, reason: impl Into<String>) -> Self {
        SimError::InvalidConfig {
            field,
            reason: reason.into(),
        }
    }
}
