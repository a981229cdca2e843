//! Writing float images with WCS and beam, a block of rows at a time.
//!
//! Images are written in pure Rust (header cards, then big-endian IEEE floats),
//! not through cfitsio: rows can go straight to their place in the file in any
//! order, header reals keep every digit, and the header holds exactly the cards
//! given.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use prospector_image::{Beam, Image};
use prospector_wcs::{CardValue, Wcs};

use crate::card_format::{
    header_bytes, padded, quoted_len, MAX_COMMENTARY_CHARS, MAX_STRING_CHARS,
};
use crate::FitsError;

/// Keywords the writer owns; extra cards may not set them.
const RESERVED: [&str; 10] = [
    "SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "EXTEND", "END", "BSCALE", "BZERO", "BLANK",
];

/// Bytes per BITPIX -32 pixel.
const PIXEL_BYTES: usize = 4;
/// Pixels converted to big-endian bytes per write call (256 KiB of bytes).
const CHUNK_PIXELS: usize = 1 << 16;

/// Streams a BITPIX -32 image to a new FITS file (an existing file is
/// replaced) in blocks of whole rows, so a 20k x 20k simulated image never sits
/// in memory. Rows may come in any order; [`ImageWriter::finish`] fails (and
/// removes the file) if any row was never written.
#[derive(Debug)]
pub struct ImageWriter {
    path: PathBuf,
    file: File,
    data_start: u64,
    width: usize,
    height: usize,
    written: Vec<bool>,
}

impl ImageWriter {
    /// Creates `path` as a `width` x `height` float image whose header holds
    /// the WCS (`wcs` describes this image's own pixel grid), the beam as
    /// BMAJ/BMIN/BPA, and `extra_cards` in order (e.g. BUNIT, TELESCOP, or
    /// HISTORY lines). Keywords must be 1-8 characters of A-Z, 0-9, '-' and '_';
    /// strings printable ASCII of at most 68 characters (72 for HISTORY/COMMENT).
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
        let data_bytes = width
            .checked_mul(height)
            .and_then(|n| n.checked_mul(PIXEL_BYTES))
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                invalid(format!(
                    "an image of {width}x{height} pixels cannot be written"
                ))
            })?;
        for (keyword, value) in extra_cards {
            check_card(keyword, value).map_err(&invalid)?;
        }
        let mut cards: Vec<(String, CardValue)> = vec![
            ("SIMPLE".into(), true.into()),
            ("BITPIX".into(), (-32i64).into()),
            ("NAXIS".into(), 2i64.into()),
            ("NAXIS1".into(), (width as i64).into()),
            ("NAXIS2".into(), (height as i64).into()),
        ];
        cards.extend(wcs.to_cards());
        if let Some(beam) = beam {
            cards.push(("BMAJ".into(), beam.major_deg.into()));
            cards.push(("BMIN".into(), beam.minor_deg.into()));
            cards.push(("BPA".into(), beam.pa_deg.into()));
        }
        cards.extend(extra_cards.iter().cloned());
        let header = header_bytes(&cards);
        let io = |action| {
            let path = &path;
            move |source| FitsError::Io {
                path: path.clone(),
                action,
                source,
            }
        };
        let mut file = File::create(&path).map_err(io("create"))?;
        file.write_all(&header).map_err(io("write"))?;
        // Unwritten data reads as zeros until filled; the padding stays zero.
        file.set_len((header.len() + padded(data_bytes)) as u64)
            .map_err(io("extend"))?;
        Ok(ImageWriter {
            data_start: header.len() as u64,
            file,
            path,
            width,
            height,
            written: vec![false; height],
        })
    }

    /// Writes whole rows starting at row `first_row` (0-based): `pixels` holds
    /// a multiple of `width` values, row-major. NaN is stored as NaN (blank).
    pub fn write_rows(&mut self, first_row: usize, pixels: &[f32]) -> Result<(), FitsError> {
        let rows = pixels.len() / self.width;
        let inside = first_row
            .checked_add(rows)
            .is_some_and(|end| end <= self.height);
        if !pixels.len().is_multiple_of(self.width) || !inside {
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
        let offset = self.data_start + (first_row * self.width * PIXEL_BYTES) as u64;
        let io = |source| FitsError::Io {
            path: self.path.clone(),
            action: "write",
            source,
        };
        self.file.seek(SeekFrom::Start(offset)).map_err(io)?;
        let mut bytes = Vec::with_capacity(CHUNK_PIXELS.min(pixels.len()) * PIXEL_BYTES);
        for chunk in pixels.chunks(CHUNK_PIXELS) {
            bytes.clear();
            bytes.extend(chunk.iter().flat_map(|v| v.to_be_bytes()));
            self.file.write_all(&bytes).map_err(io)?;
        }
        self.written[first_row..first_row + rows].fill(true);
        Ok(())
    }

    /// Flushes and closes the file; fails if some rows were never written
    /// (they would read as zeros, which no caller means) and removes the file.
    pub fn finish(mut self) -> Result<(), FitsError> {
        let missing = self.written.iter().filter(|w| !**w).count();
        if missing > 0 {
            let first = self.written.iter().position(|w| !*w).unwrap_or(0);
            drop(self.file);
            // Best effort: the error below is what matters to the caller.
            let _ = std::fs::remove_file(&self.path);
            return Err(FitsError::InvalidOutput {
                path: self.path,
                reason: format!(
                    "{missing} rows were never written (first: row {first}); file removed"
                ),
            });
        }
        self.file.flush().map_err(|source| FitsError::Io {
            path: self.path.clone(),
            action: "write",
            source,
        })
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
    let commentary = keyword == "HISTORY" || keyword == "COMMENT";
    match value {
        CardValue::Real(v) if !v.is_finite() => {
            Err(format!("{keyword} = {v} is not a finite number"))
        }
        CardValue::Text(s) if !s.chars().all(|c| (' '..='~').contains(&c)) => {
            Err(format!("{keyword}: FITS strings must be printable ASCII"))
        }
        CardValue::Text(s) if commentary && s.len() > MAX_COMMENTARY_CHARS => Err(format!(
            "{keyword}: text longer than {MAX_COMMENTARY_CHARS} characters"
        )),
        CardValue::Text(s) if !commentary && quoted_len(s) > MAX_STRING_CHARS => Err(format!(
            "{keyword}: string longer than {MAX_STRING_CHARS} characters"
        )),
        _ if commentary && !matches!(value, CardValue::Text(_)) => {
            Err(format!("{keyword} cards take text"))
        }
        _ => Ok(()),
    }
}
