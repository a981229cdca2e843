//! PyBDSF-quality source finding as a library: background and rms maps,
//! islands, per-island measurements, catalogues, cutouts and tiling, on plain
//! image data or streamed from FITS files.
//!
//! The pipeline, and the PyBDSF 1.14.1 step each part follows:
//! - [`stats`]: kappa-sigma clipped mean and rms (`functions.bstat`);
//! - [`background`]: those statistics on PyBDSF's box grid, anchored to the
//!   full image and interpolated to every pixel, with PyBDSF's box rule and its
//!   constant-map fallback (`rmsimage.py`, `preprocess.py`), and optionally
//!   its `adaptive_rms_box` (smaller boxes near bright sources);
//! - [`islands`]: islands above `thresh_isl` holding a pixel above `thresh_pix`,
//!   at least `minpix_isl` pixels (`islands.py`), measured by moments;
//! - [`tiling`]: cores and margins, and the refusal to measure an island a
//!   tile's window cuts, so that no tiling changes the catalogue;
//! - [`finder`]: all of it over any [`PixelSource`], tiles in parallel;
//! - [`catalogue`], [`cutout`], [`pipeline`]: PyBDSF-named catalogue columns
//!   (CSV, FITS table, ds9 regions), model cutouts in a
//!   `prospector_cutouts::CutoutSet`, and [`pipeline::find_sources`], which
//!   turns a FITS file into a folder of results.
//!
//! Not done: PyBDSF's Gaussian fitting; sizes here are island moments.
//!
//! Pixel coordinates are 0-based full-image coordinates throughout.

pub mod background;
pub mod catalogue;
pub mod cutout;
mod error;
pub mod finder;
pub mod islands;
pub mod labeller;
mod parallel;
pub mod pipeline;
pub mod source;
pub mod stats;
pub mod tiling;

pub use background::{Background, BackgroundConfig, BoxSize, MeanMapMode};
pub use error::SourcesError;
pub use finder::{detect, detect_with_background, Detection, FinderConfig};
pub use islands::{Island, IslandCuts, PixelBeam};
pub use pipeline::{find_sources, CutoutOutput, FindOptions, FindSummary, FitsSource};
pub use source::PixelSource;
pub use tiling::{plan_tiles, Tile, TruncatedIsland};
