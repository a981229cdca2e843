//! A MeerKAT-like radio sky simulator: typical and exotic radio sources,
//! correlated noise, sidelobe-like artefacts and a truth catalogue.
//!
//! It is Prospector's demo data, the volume for tests and benchmarks (up to
//! 20k x 20k images, rendered block by block), the generator of training and
//! evaluation sets, and an injection-recovery tool.
//!
//! - [`FieldConfig`] says what to simulate (MeerKAT L-band defaults).
//! - [`Field::new`] draws the sources; [`Field::truth`] is the catalogue
//!   ([`save_truth_csv`] writes it); [`Field::render_rect`] renders any
//!   rectangle, bit-identical to the same crop of the whole image.
//! - [`Field::write_fits`] streams the image to a FITS file block by block;
//!   [`simulate_to_fits`] writes a field's image and truth catalogue in one call.
//! - [`Field::with_sources`] (a simulated image) and [`Field::for_injection`]
//!   (a real image's WCS and beam), with [`Field::add_model_into`], inject
//!   chosen sources for injection-recovery tests.
//! - [`simulate_stamps`] makes labelled one-source stamps for model tests;
//!   [`survey_fields`] makes the configurations of many fields.
//!
//! ```
//! use prospector_image::PixelRect;
//! use prospector_skysim::{write_truth_csv, Field, FieldConfig};
//!
//! let config = FieldConfig { width: 512, height: 512, seed: 42, ..FieldConfig::default() };
//! let field = Field::new(config)?;
//! // Any rectangle, e.g. one row block of a streamed write ...
//! let block = field.render_rect(PixelRect::new(0, 128, 512, 64))?;
//! // ... holds exactly the pixels of the whole image there.
//! let whole = field.render()?;
//! assert_eq!(whole.crop(&block.rect()).unwrap(), block);
//! let mut csv = Vec::new();
//! write_truth_csv(field.truth(), &mut csv)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Units: pixel values are Jy/beam, fluxes Jy, sizes arcsec, angles degrees
//! (position angles east of north). Pixel coordinates are 0-based with pixel
//! centres on integers; north is +y and east is -x.

mod artefacts;
mod catalogue;
mod class;
mod config;
mod error;
mod field;
mod fits_output;
mod gaussian;
mod index;
mod morphology;
mod noise;
mod rng;
mod sky;
mod source;
mod stamps;
mod survey;

pub use catalogue::{
    draw_sources, load_truth_csv, read_truth_csv, save_truth_csv, write_truth_csv, SourceSpec,
    TruthSource,
};
pub use class::{SourceClass, UnknownClass};
pub use config::{ArtefactConfig, BeamConfig, FieldConfig, FluxDistribution, MAX_EXPECTED_SOURCES};
pub use error::SimError;
pub use field::{Field, MAX_SOURCE_SIZE_ARCSEC};
pub use fits_output::{simulate_to_fits, DEFAULT_BLOCK_ROWS};
pub use gaussian::{Support, TRUNCATION_SIGMA};
pub use stamps::{simulate_stamps, LabelledStamp, StampConfig};
pub use survey::{fields_needed, survey_fields};
