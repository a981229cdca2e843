//! PyBDSF-quality source finding as a library: background and rms maps,
//! islands, per-island measurements, cutouts and tiling, on plain image data.
//!
//! The pipeline, and the PyBDSF step each part follows:
//! - [`background`]: kappa-sigma clipped mean and rms on PyBDSF's box grid,
//!   interpolated to every pixel, with PyBDSF's box rule and its constant
//!   fallback (`rmsimage.py`, `preprocess.py`, `functions.bstat`);
//! - [`islands`]: islands above `thresh_isl` holding a pixel above `thresh_pix`
//!   (`islands.py`), and moment measurements of each;
//! - [`tiling`]: cores and margins, so that a catalogue does not depend on how
//!   the image was cut;
//! - [`finder`]: all of it over any [`PixelSource`], in parallel.
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
pub use source::PixelSource;
pub use tiling::{plan_tiles, Tile, TruncatedIsland};
