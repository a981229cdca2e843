//! FITS images for Prospector: headers, beams, subset reads of any rectangle,
//! and FITS output with WCS.
//!
//! - [`FitsImage::open`] reads the primary header in pure Rust first, so a
//!   truncated file, a non-FITS file, an unsupported BITPIX or a header that
//!   claims 10^12 pixels is refused with a [`FitsError`] naming the file before
//!   cfitsio allocates anything; then WCS ([`prospector_wcs::Wcs`]), plane and
//!   beam are settled.
//! - [`FitsImage::read_rect`] reads one rectangle with a cfitsio subset read:
//!   memory follows the tile, not the image.
//! - [`ImageWriter`] streams an image out in row blocks; [`write_image`] writes
//!   one in memory; [`write_table`] writes a catalogue as a binary table.
//! - [`ImageInfo`] summarises an image cheaply (sampled rows).
//!
//! Errors: opening fails on anything that makes the pixels or their sky
//! positions unusable. A missing beam is reported by [`FitsImage::beam`] only
//! (many uses do not need it). Blank pixels are never an error when reading
//! (blanked edges are normal); an image that is blank everywhere sampled is
//! reported by [`ImageInfo::ensure_has_data`].

mod beam;
mod card_format;
mod error;
mod geometry;
mod header;
mod image;
mod info;
mod paths;
mod table;
mod write;

#[cfg(feature = "bad-inputs")]
pub mod bad_inputs;

pub use error::FitsError;
pub use geometry::Axis;
pub use header::{Card, Header};
pub use image::{FitsImage, OpenOptions, DEFAULT_MAX_PIXELS};
pub use info::{ImageInfo, SampleStats, MAX_SAMPLE_ROWS};
pub use prospector_wcs::CardValue;
pub use table::{write_table, Column, ColumnData, CATALOGUE_EXTNAME};
pub use write::{write_image, ImageWriter};
