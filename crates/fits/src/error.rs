//! The one error type of this crate: every message names the file and the fault.

use std::path::PathBuf;

use prospector_image::PixelRect;
use prospector_wcs::WcsError;

/// Why a FITS file could not be read or written.
///
/// `Display` always starts with the file path. [`FitsError::kind`] gives a
/// stable short name for each fault, for JSON output and tests.
#[derive(Debug, thiserror::Error)]
pub enum FitsError {
    #[error("{}: cannot {action}: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    #[error("{}: not a FITS file ({reason})", path.display())]
    NotFits { path: PathBuf, reason: String },
    #[error("{}: truncated FITS file: {reason}", path.display())]
    Truncated { path: PathBuf, reason: String },
    #[error("{}: unsupported BITPIX = {bitpix} (FITS allows 8, 16, 32, 64, -32, -64)", path.display())]
    UnsupportedBitpix { path: PathBuf, bitpix: i64 },
    #[error("{}: NAXIS = {naxis}: the primary HDU holds no 2-D image (images in extensions are not read)", path.display())]
    TooFewAxes { path: PathBuf, naxis: i64 },
    #[error("{}: bad header card {keyword}: {reason}", path.display())]
    BadHeader {
        path: PathBuf,
        keyword: String,
        reason: String,
    },
    #[error("{}: the header claims {pixels} pixels, more than the limit of {limit} (OpenOptions::max_pixels); refused before reading", path.display())]
    TooManyPixels {
        path: PathBuf,
        pixels: u128,
        limit: u64,
    },
    #[error("{}: no usable celestial WCS: {source}", path.display())]
    Wcs { path: PathBuf, source: WcsError },
    #[error("{}: the image has {planes} planes along its extra axes ({axes}); choose one with OpenOptions::plane", path.display())]
    PlaneRequired {
        path: PathBuf,
        planes: usize,
        axes: String,
    },
    #[error("{}: plane {plane} requested but the image has {planes} planes", path.display())]
    PlaneOutOfRange {
        path: PathBuf,
        plane: usize,
        planes: usize,
    },
    #[error("{}: no restoring beam: no BMAJ/BMIN cards and no AIPS CLEAN BMAJ= HISTORY card; give the beam explicitly", path.display())]
    MissingBeam { path: PathBuf },
    #[error("{}: invalid restoring beam: {reason}", path.display())]
    InvalidBeam { path: PathBuf, reason: String },
    #[error("{}: rectangle {rect:?} does not lie inside the {width}x{height} image", path.display())]
    RectOutOfBounds {
        path: PathBuf,
        rect: PixelRect,
        width: usize,
        height: usize,
    },
    #[error("{}: every one of the {sampled} sampled pixels is blank (NaN, infinite or BLANK): the image holds no data", path.display())]
    AllBlank { path: PathBuf, sampled: usize },
    #[error("{}: cfitsio failed to {action}: {message}", path.display())]
    Cfitsio {
        path: PathBuf,
        action: &'static str,
        message: String,
    },
    #[error("{}: cannot use this file name: {reason}", path.display())]
    UnsupportedPath { path: PathBuf, reason: String },
    #[error("{}: cannot write: {reason}", path.display())]
    InvalidOutput { path: PathBuf, reason: String },
}

impl FitsError {
    /// A stable short name of the fault (`"truncated"`, `"not_fits"`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            FitsError::Io { .. } => "io",
            FitsError::NotFits { .. } => "not_fits",
            FitsError::Truncated { .. } => "truncated",
            FitsError::UnsupportedBitpix { .. } => "unsupported_bitpix",
            FitsError::TooFewAxes { .. } => "too_few_axes",
            FitsError::BadHeader { .. } => "bad_header",
            FitsError::TooManyPixels { .. } => "too_many_pixels",
            FitsError::Wcs { .. } => "no_wcs",
            FitsError::PlaneRequired { .. } => "plane_required",
            FitsError::PlaneOutOfRange { .. } => "plane_out_of_range",
            FitsError::MissingBeam { .. } => "missing_beam",
            FitsError::InvalidBeam { .. } => "invalid_beam",
            FitsError::RectOutOfBounds { .. } => "rect_out_of_bounds",
            FitsError::AllBlank { .. } => "all_blank",
            FitsError::Cfitsio { .. } => "cfitsio",
            FitsError::UnsupportedPath { .. } => "unsupported_path",
            FitsError::InvalidOutput { .. } => "invalid_output",
        }
    }

    pub(crate) fn cfitsio(
        path: &std::path::Path,
        action: &'static str,
        err: fitsio::errors::Error,
    ) -> Self {
        FitsError::Cfitsio {
            path: path.to_path_buf(),
            action,
            message: err.to_string(),
        }
    }
}
