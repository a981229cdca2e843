//! Writing float images with WCS and beam, a block of rows at a time.

use std::path::{Path, PathBuf};

use fitsio::hdu::FitsHdu;
use fitsio::images::{ImageDescription, ImageType};
use fitsio::FitsFile;
use prospector_image::{Beam, Image};
use prospector_wcs::{CardValue, Wcs};

use crate::FitsError;

/// Keywords the writer owns; extra cards may not set them.
const RESERVED: [&str; 10] = [
    "SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "EXTEND", "END", "BSCALE", "BZERO", "BLANK",
];

/// Streams a BITPIX -32 image to a new FITS file (an existing file is
/// replaced) in blocks of whole rows, so a 20k x 20k simulated image never sits
/// in memory. Rows may come in any order; [`ImageWriter::finish`] fails if any
/// row was never written.
pub struct ImageWriter {
    path: PathBuf,
    file: FitsFile,
    hdu: FitsHdu,
    width: usize,
    height: usize,
    written: Vec<bool>,
}

impl std::fmt::Debug for ImageWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageWriter")
            .field("path", &self.path)
            .field("width", &self.width)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

impl ImageWriter {
    /// Creates `path` as a `width` x `height` float image whose header holds
    /// the WCS (`wcs` describes this image's own pixel grid), the beam as
    /// BMAJ/BMIN/BPA, and `extra_cards` (e.g. BUNIT, TELESCOP). Keywords must be
    /// 1-8 characters of A-Z, 0-9, '-' and '_'; logical values are not supported.
    pub fn create(
        path: impl AsRef<Path>,
        width: usize,
        height: usize,
        wcs: &Wcs,
        beam: Option<&Beam>,
        extra_cards: &[(String, CardValue)],
    ) -> Result<ImageWriter, FitsError> {
        let path = path.as_ref().to_path_buf();
        let invalid = |reason: String| FitsError::InvalidOutput {
            path: path.clone(),
            reason,
        };
        if width == 0 || height == 0 {
            return Err(invalid(format!(
                "an image of {width}x{height} pixels has no pixels"
            )));
        }
        for (keyword, value) in extra_cards {
            check_card(keyword, value).map_err(&invalid)?;
        }
        let fail = |action: &'static str| {
            let path = &path;
            move |e| FitsError::cfitsio(path, action, e)
        };
        let description = ImageDescription {
            data_type: ImageType::Float,
            dimensions: &[height, width],
        };
        let mut file = FitsFile::create(&path)
            .with_custom_primary(&description)
            .overwrite()
            .open()
            .map_err(fail("create the file"))?;
        let hdu = file.primary_hdu().map_err(fail("open the primary HDU"))?;
        let mut cards = wcs.to_cards();
        if let Some(beam) = beam {
            cards.push(("BMAJ".into(), beam.major_deg.into()));
            cards.push(("BMIN".into(), beam.minor_deg.into()));
            cards.push(("BPA".into(), beam.pa_deg.into()));
        }
        cards.extend(extra_cards.iter().cloned());
        for (keyword, value) in &cards {
            write_card(&mut file, &hdu, keyword, value).map_err(fail("write a header card"))?;
        }
        Ok(ImageWriter {
            path,
            file,
            hdu,
            width,
            height,
            written: vec![false; height],
        })
    }

    /// Writes whole rows starting at row `first_row` (0-based): `pixels` holds
    /// a multiple of `width` values, row-major. NaN is stored as NaN (blank).
    pub fn write_rows(&mut self, first_row: usize, pixels: &[f32]) -> Result<(), FitsError> {
        let rows = pixels.len() / self.width;
        let fits = first_row
            .checked_add(rows)
            .is_some_and(|end| end <= self.height);
        if !pixels.len().is_multiple_of(self.width) || !fits {
            return Err(FitsError::InvalidOutput {
                path: self.path.clone(),
                reason: format!(
                    "{} pixels from row {first_row} are not whole rows inside a {}x{} image",
                    pixels.len(),
                    self.width,
                    self.height
                ),
            });
        }
        let start = first_row * self.width;
        self.hdu
            .write_section(&mut self.file, start, start + pixels.len(), pixels)
            .map_err(|e| FitsError::cfitsio(&self.path, "write pixels", e))?;
        self.written[first_row..first_row + rows].fill(true);
        Ok(())
    }

    /// Closes the file; fails if some rows were never written (cfitsio would
    /// have filled them with zeros, which is not what any caller meant).
    pub fn finish(self) -> Result<(), FitsError> {
        let missing = self.written.iter().filter(|w| !**w).count();
        if missing > 0 {
            let first = self.written.iter().position(|w| !*w).unwrap_or(0);
            // Do not leave a file that looks complete.
            drop(self.file);
            let _ = std::fs::remove_file(&self.path);
            return Err(FitsError::InvalidOutput {
                path: self.path,
                reason: format!(
                    "{missing} rows were never written (first: row {first}); file removed"
                ),
            });
        }
        drop(self.file);
        Ok(())
    }
}

/// Writes a whole image with its WCS (which must describe `image`'s own
/// pixel grid: for a tile at (x0, y0) pass `wcs.offset(x0, y0)`).
pub fn write_image(
    path: impl AsRef<Path>,
    image: &Image,
    wcs: &Wcs,
    beam: Option<&Beam>,
    extra_cards: &[(String, CardValue)],
) -> Result<(), FitsError> {
    let mut writer =
        ImageWriter::create(path, image.width(), image.height(), wcs, beam, extra_cards)?;
    writer.write_rows(0, image.pixels())?;
    writer.finish()
}

fn check_card(keyword: &str, value: &CardValue) -> Result<(), String> {
    let valid_chars = keyword
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if keyword.is_empty() || keyword.len() > 8 || !valid_chars {
        return Err(format!(
            "'{keyword}' is not a FITS keyword (1-8 of A-Z 0-9 - _)"
        ));
    }
    if RESERVED.contains(&keyword) {
        return Err(format!("{keyword} is set by the writer itself"));
    }
    match value {
        CardValue::Logical(_) => Err(format!("{keyword}: logical card values are not supported")),
        CardValue::Real(v) if !v.is_finite() => {
            Err(format!("{keyword} = {v} is not a finite number"))
        }
        CardValue::Text(s) if !s.chars().all(|c| (' '..='~').contains(&c)) => {
            Err(format!("{keyword}: FITS strings must be printable ASCII"))
        }
        _ => Ok(()),
    }
}

pub(crate) fn write_card(
    file: &mut FitsFile,
    hdu: &FitsHdu,
    keyword: &str,
    value: &CardValue,
) -> Result<(), fitsio::errors::Error> {
    match value {
        CardValue::Real(v) => hdu.write_key(file, keyword, *v),
        CardValue::Integer(v) => hdu.write_key(file, keyword, *v),
        CardValue::Text(s) => hdu.write_key(file, keyword, s.as_str()),
        CardValue::Logical(_) => Err("logical card values are not supported".into()),
    }
}
