//! World coordinates for radio images: SIN, TAN, NCP, ARC and CAR projections,
//! pixel <-> sky, IAU source names.
//!
//! Pure Rust, no cfitsio: a [`Wcs`] is built from header cards through the
//! [`HeaderLookup`] trait, so any FITS reader (or a hand-made card list) can
//! supply them. Pixel coordinates are 0-based; FITS's 1-based CRPIX is converted
//! in [`Wcs::from_header`] and [`Wcs::to_cards`] only.
//!
//! ```
//! use prospector_wcs::{Projection, Wcs};
//! // A 1.8"/px TAN grid centred on pixel (74.5, 74.5).
//! let wcs = Wcs::simple(Projection::Tan, 150.0, 2.0, 74.5, 74.5, -0.0005, 0.0005).unwrap();
//! let (ra, dec) = wcs.pixel_to_sky(74.5, 74.5).unwrap();
//! assert!((ra - 150.0).abs() < 1e-12 && (dec - 2.0).abs() < 1e-12);
//! let (x, y) = wcs.sky_to_pixel(ra, dec).unwrap();
//! assert!((x - 74.5).abs() < 1e-9 && (y - 74.5).abs() < 1e-9);
//! ```

mod card;
mod error;
mod frame;
mod iau;
mod projection;
mod sphere;
mod wcs;

pub use card::{CardValue, HeaderLookup};
pub use error::WcsError;
pub use frame::Frame;
pub use iau::{format_dec_dms, format_ra_hms, iau_name, iau_name_full};
pub use projection::Projection;
pub use wcs::Wcs;
