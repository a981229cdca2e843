//! The data layout a header declares (BITPIX and axes), validated before any
//! pixel is read.

use std::path::Path;

use prospector_wcs::CardValue;
use serde::Serialize;

use crate::header::Header;
use crate::FitsError;

/// FITS allows at most 999 axes.
const MAX_NAXIS: i64 = 999;

/// One axis of the primary array, as NAXISn and CTYPEn declare it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Axis {
    /// CTYPEn, empty when absent.
    pub ctype: String,
    /// NAXISn.
    pub length: usize,
}

/// BITPIX and the axes, checked.
#[derive(Debug, Clone)]
pub(crate) struct Geometry {
    pub(crate) bitpix: i64,
    pub(crate) axes: Vec<Axis>,
}

impl Geometry {
    /// Reads and checks BITPIX and NAXIS/NAXISn. Refuses a plane of more than
    /// `max_pixels` pixels (and, when `whole_file_in_memory`, a whole array of
    /// more) before anything is allocated.
    pub(crate) fn from_header(
        header: &Header,
        path: &Path,
        max_pixels: u64,
        whole_file_in_memory: bool,
    ) -> Result<Geometry, FitsError> {
        let bad = |keyword: &str, reason: String| FitsError::BadHeader {
            path: path.to_path_buf(),
            keyword: keyword.to_string(),
            reason,
        };
        let integer = |keyword: &str| match header.value(keyword) {
            Some(CardValue::Integer(v)) => Ok(*v),
            Some(other) => Err(bad(
                keyword,
                format!("expected an integer, found {other:?}"),
            )),
            None => Err(bad(keyword, "missing".into())),
        };
        let bitpix = integer("BITPIX")?;
        if ![8, 16, 32, 64, -32, -64].contains(&bitpix) {
            return Err(FitsError::UnsupportedBitpix {
                path: path.to_path_buf(),
                bitpix,
            });
        }
        let naxis = integer("NAXIS")?;
        if naxis < 2 {
            return Err(FitsError::TooFewAxes {
                path: path.to_path_buf(),
                naxis,
            });
        }
        if naxis > MAX_NAXIS {
            return Err(bad(
                "NAXIS",
                format!("{naxis} axes (FITS allows at most {MAX_NAXIS})"),
            ));
        }
        let mut axes = Vec::with_capacity(naxis as usize);
        for n in 1..=naxis {
            let keyword = format!("NAXIS{n}");
            let length = integer(&keyword)?;
            if length < 1 {
                return Err(bad(
                    &keyword,
                    format!("axis length {length}: the image has no pixels"),
                ));
            }
            let ctype = match header.value(&format!("CTYPE{n}")) {
                Some(CardValue::Text(s)) => s.trim().to_string(),
                _ => String::new(),
            };
            axes.push(Axis {
                ctype,
                length: usize::try_from(length).unwrap_or(usize::MAX),
            });
        }
        let geometry = Geometry { bitpix, axes };
        let claimed = if whole_file_in_memory {
            geometry.total_pixels()
        } else {
            geometry.plane_pixels()
        };
        if claimed > u128::from(max_pixels) {
            return Err(FitsError::TooManyPixels {
                path: path.to_path_buf(),
                pixels: claimed,
                limit: max_pixels,
            });
        }
        Ok(geometry)
    }

    pub(crate) fn width(&self) -> usize {
        self.axes[0].length
    }

    pub(crate) fn height(&self) -> usize {
        self.axes[1].length
    }

    /// Pixels in one 2-D plane.
    pub(crate) fn plane_pixels(&self) -> u128 {
        self.axes[0].length as u128 * self.axes[1].length as u128
    }

    /// Number of 2-D planes along the axes beyond the second.
    pub(crate) fn planes(&self) -> u128 {
        self.axes[2..]
            .iter()
            .fold(1u128, |n, a| n.saturating_mul(a.length as u128))
    }

    pub(crate) fn total_pixels(&self) -> u128 {
        self.plane_pixels().saturating_mul(self.planes())
    }

    /// Bytes of pixel data, without the padding of the last block.
    pub(crate) fn data_bytes(&self) -> u128 {
        self.total_pixels()
            .saturating_mul(self.bitpix.unsigned_abs() as u128 / 8)
    }

    /// Index along each axis beyond the second of plane number `plane`
    /// (the first extra axis varies fastest, as in the FITS array).
    pub(crate) fn plane_indices(&self, plane: usize) -> Vec<usize> {
        let mut rest = plane;
        self.axes[2..]
            .iter()
            .map(|a| {
                let i = rest % a.length;
                rest /= a.length;
                i
            })
            .collect()
    }

    /// "FREQ=3, STOKES=4"-style summary of the extra axes.
    pub(crate) fn extra_axes_summary(&self) -> String {
        self.axes[2..]
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let name = if a.ctype.is_empty() {
                    format!("axis {}", i + 3)
                } else {
                    a.ctype.clone()
                };
                format!("{name}={}", a.length)
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}
