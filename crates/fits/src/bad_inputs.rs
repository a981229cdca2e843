//! A corpus of malformed FITS files, written on demand, that every Prospector
//! entry point (library, CLI, services) is tested against. Behind the
//! `bad-inputs` cargo feature.
//!
//! Files are built byte by byte (cfitsio refuses to write most of them), with
//! [`raw_fits`], which tests may also use to make valid files with exact raw
//! pixel values (integer BITPIX with BSCALE/BZERO/BLANK).

use std::io::Write;
use std::path::{Path, PathBuf};

use prospector_wcs::{CardValue, Projection, Wcs};

use crate::card_format::{header_bytes, padded};
use crate::header::BLOCK;

/// What opening and reading a corpus file must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expectation {
    /// [`crate::FitsImage::open`] fails with an error of this [`crate::FitsError::kind`].
    OpenFails(&'static str),
    /// Opens, but [`crate::FitsImage::beam`] fails with this kind.
    BeamFails(&'static str),
    /// Opens and reads, but [`crate::ImageInfo::ensure_has_data`] fails (`all_blank`).
    NoData,
    /// Opens and reads; non-finite pixels come back as NaN.
    ReadsFine,
}

/// One file of the corpus.
#[derive(Debug, Clone, PartialEq)]
pub struct BadInput {
    pub path: PathBuf,
    /// What is wrong with it, in words.
    pub fault: &'static str,
    pub expectation: Expectation,
}

/// Width and height of the small images in the corpus.
const W: usize = 16;
const H: usize = 12;

/// Writes the corpus into `dir` (created if needed) and lists it.
pub fn write_corpus(dir: &Path) -> std::io::Result<Vec<BadInput>> {
    std::fs::create_dir_all(dir)?;
    let good = good_image_bytes();
    let header_len = good.len() - padded(W * H * 4);
    let mut corpus = Vec::new();
    let mut add =
        |name: &str, bytes: &[u8], fault: &'static str, expectation| -> std::io::Result<()> {
            let path = dir.join(name);
            std::fs::write(&path, bytes)?;
            corpus.push(BadInput {
                path,
                fault,
                expectation,
            });
            Ok(())
        };
    use Expectation::*;
    add(
        "empty.fits",
        &[],
        "zero-length file",
        OpenFails("truncated"),
    )?;
    add(
        "not_fits.fits",
        b"ra,dec,flux\n12.5,-45.0,0.003\n",
        "a CSV file named .fits",
        OpenFails("not_fits"),
    )?;
    add(
        "simple_false.fits",
        &raw_fits(&with_cards(&[("SIMPLE", false.into())]), &image_data()),
        "SIMPLE = F",
        OpenFails("not_fits"),
    )?;
    add(
        "truncated_header.fits",
        &good[..1000],
        "file cut inside its header",
        OpenFails("truncated"),
    )?;
    add(
        "truncated_data.fits",
        &good[..header_len + W * H * 2],
        "file cut halfway through its pixels",
        OpenFails("truncated"),
    )?;
    add(
        "no_end_card.fits",
        &format!(
            "{:<width$}",
            "SIMPLE  =                    T",
            width = 3 * BLOCK
        )
        .into_bytes(),
        "header blocks without an END card",
        OpenFails("truncated"),
    )?;
    add(
        "bitpix_24.fits",
        &raw_fits(&with_cards(&[("BITPIX", 24i64.into())]), &image_data()),
        "BITPIX = 24",
        OpenFails("unsupported_bitpix"),
    )?;
    add(
        "naxis0.fits",
        &raw_fits(
            &[
                ("SIMPLE", true.into()),
                ("BITPIX", 8i64.into()),
                ("NAXIS", 0i64.into()),
            ],
            &[],
        ),
        "NAXIS = 0 (no image)",
        OpenFails("too_few_axes"),
    )?;
    add(
        "naxis1.fits",
        &raw_fits(
            &[
                ("SIMPLE", true.into()),
                ("BITPIX", (-32i64).into()),
                ("NAXIS", 1i64.into()),
                ("NAXIS1", 100i64.into()),
            ],
            &pixel_bytes(-32, &[0.0; 100]),
        ),
        "NAXIS = 1 (a spectrum, not an image)",
        OpenFails("too_few_axes"),
    )?;
    add(
        "naxis5_cube.fits",
        &raw_fits(
            &with_cards(&[
                ("NAXIS", 5i64.into()),
                ("NAXIS3", 2i64.into()),
                ("NAXIS4", 3i64.into()),
                ("NAXIS5", 1i64.into()),
                ("CTYPE3", "FREQ".into()),
                ("CTYPE4", "STOKES".into()),
                ("CTYPE5", "TIME".into()),
            ]),
            &pixel_bytes(-32, &vec![1.0; W * H * 6]),
        ),
        "5 axes with 6 planes and no plane chosen",
        OpenFails("plane_required"),
    )?;
    add(
        "zero_length_axis.fits",
        &raw_fits(&with_cards(&[("NAXIS2", 0i64.into())]), &[]),
        "NAXIS2 = 0",
        OpenFails("bad_header"),
    )?;
    add(
        "trillion_pixels.fits",
        &raw_fits(
            &with_cards(&[
                ("NAXIS1", 1_000_000i64.into()),
                ("NAXIS2", 1_000_000i64.into()),
            ]),
            &[],
        ),
        "header claims 10^12 pixels (4 TB) in a file of one block",
        OpenFails("too_many_pixels"),
    )?;
    let no_wcs: Vec<(String, CardValue)> = base_cards()
        .into_iter()
        .filter(|(k, _)| !k.starts_with("CTYPE"))
        .collect();
    add(
        "no_wcs.fits",
        &raw_fits(&no_wcs, &image_data()),
        "no CTYPEn cards: no celestial WCS",
        OpenFails("no_wcs"),
    )?;
    let no_beam: Vec<(String, CardValue)> = base_cards()
        .into_iter()
        .filter(|(k, _)| !["BMAJ", "BMIN", "BPA"].contains(&k.as_str()))
        .collect();
    add(
        "no_beam.fits",
        &raw_fits(&no_beam, &image_data()),
        "no BMAJ/BMIN cards and no beam in HISTORY",
        BeamFails("missing_beam"),
    )?;
    let mut nan_inf: Vec<f64> = image_values();
    nan_inf[0] = f64::NAN;
    nan_inf[1] = f64::INFINITY;
    nan_inf[2] = f64::NEG_INFINITY;
    add(
        "nan_inf.fits",
        &raw_fits(&base_cards(), &pixel_bytes(-32, &nan_inf)),
        "NaN, +Inf and -Inf pixels among valid ones",
        ReadsFine,
    )?;
    add(
        "all_nan.fits",
        &raw_fits(&base_cards(), &pixel_bytes(-32, &[f64::NAN; W * H])),
        "every pixel NaN",
        NoData,
    )?;
    add(
        "all_blank_int16.fits",
        &raw_fits(
            &with_cards(&[("BITPIX", 16i64.into()), ("BLANK", (-32768i64).into())]),
            &pixel_bytes(16, &[-32768.0; W * H]),
        ),
        "BITPIX 16, every pixel equal to BLANK",
        NoData,
    )?;
    let gzip = gzip_bytes(&good)?;
    add(
        "gzip.fits.gz",
        &gzip,
        "gzip-compressed FITS (valid)",
        ReadsFine,
    )?;
    add(
        "gzip_cut_early.fits.gz",
        &gzip[..gzip.len() / 3],
        "gzip-compressed FITS cut at a third of its length",
        OpenFails("truncated"),
    )?;
    add(
        "gzip_cut_late.fits.gz",
        &gzip[..gzip.len() - 12],
        "gzip-compressed FITS missing its last bytes (the header is intact)",
        OpenFails("truncated"),
    )?;
    Ok(corpus)
}

/// The cards of a valid 16 x 12 float image with a SIN WCS and a beam: the seed the
/// corpus and the header fuzz tests mutate.
pub fn base_cards() -> Vec<(String, CardValue)> {
    let mut cards: Vec<(String, CardValue)> = [
        ("SIMPLE", true.into()),
        ("BITPIX", (-32i64).into()),
        ("NAXIS", 2i64.into()),
        ("NAXIS1", (W as i64).into()),
        ("NAXIS2", (H as i64).into()),
        ("BMAJ", 0.002.into()),
        ("BMIN", 0.001.into()),
        ("BPA", 30.0.into()),
        ("BUNIT", "JY/BEAM".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    // Wcs::simple only fails on invalid numbers; these are fixed and valid.
    if let Ok(wcs) = Wcs::simple(Projection::Sin, 150.0, -30.0, 7.5, 5.5, -0.0005, 0.0005) {
        cards.extend(wcs.to_cards());
    }
    cards
}

/// The base cards with some replaced or added (in place, keeping card order).
fn with_cards(changes: &[(&str, CardValue)]) -> Vec<(String, CardValue)> {
    let mut cards = base_cards();
    for (key, value) in changes {
        match cards.iter_mut().find(|(k, _)| k == key) {
            Some(card) => card.1 = value.clone(),
            None => {
                // NAXISn cards must follow NAXIS in order; insert after the last NAXIS card.
                let at = cards
                    .iter()
                    .rposition(|(k, _)| k.starts_with("NAXIS"))
                    .map_or(cards.len(), |i| i + 1);
                let at = if key.starts_with("NAXIS") {
                    at
                } else {
                    cards.len()
                };
                cards.insert(at, (key.to_string(), value.clone()));
            }
        }
    }
    cards
}

fn image_values() -> Vec<f64> {
    (0..W * H)
        .map(|i| (i % W) as f64 * 0.5 + (i / W) as f64 * 0.01)
        .collect()
}

/// The data unit that goes with [`base_cards`] (big-endian f32, unpadded).
pub fn image_data() -> Vec<u8> {
    pixel_bytes(-32, &image_values())
}

fn good_image_bytes() -> Vec<u8> {
    raw_fits(&base_cards(), &image_data())
}

fn gzip_bytes(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// A FITS file from header cards (written in order, then END) and raw
/// big-endian data bytes, each padded to whole 2880-byte blocks. HISTORY and
/// COMMENT cards take their text from a `CardValue::Text`.
pub fn raw_fits<K: AsRef<str>>(cards: &[(K, CardValue)], data: &[u8]) -> Vec<u8> {
    let mut out = header_bytes(cards);
    out.extend_from_slice(data);
    out.resize(padded(out.len()), 0);
    out
}

/// Big-endian bytes of `values` stored as BITPIX `bitpix` (values are cast).
pub fn pixel_bytes(bitpix: i64, values: &[f64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * (bitpix.unsigned_abs() as usize / 8));
    for &v in values {
        match bitpix {
            8 => out.push(v as u8),
            16 => out.extend_from_slice(&(v as i16).to_be_bytes()),
            32 => out.extend_from_slice(&(v as i32).to_be_bytes()),
            64 => out.extend_from_slice(&(v as i64).to_be_bytes()),
            -32 => out.extend_from_slice(&(v as f32).to_be_bytes()),
            _ => out.extend_from_slice(&v.to_be_bytes()),
        }
    }
    out
}
