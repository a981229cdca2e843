//! `prospector info`: what an image is, and a cheap robust noise estimate.

use std::fmt;

use prospector_image::{Beam, PixelRect};
use serde::Serialize;

use crate::geometry::Axis;
use crate::{FitsError, FitsImage};

/// At most this many rows are read for the statistics, evenly spread over the
/// image, so `info` on a 20k x 20k image reads 0.3% of it.
pub const MAX_SAMPLE_ROWS: usize = 64;

/// Scale from the median absolute deviation to the standard deviation of a Gaussian.
const MAD_TO_SIGMA: f64 = 1.482_602_218_505_602;

/// A summary of an image for people (`Display`) and tools (`Serialize`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageInfo {
    pub path: String,
    pub width: usize,
    pub height: usize,
    pub axes: Vec<Axis>,
    pub plane: usize,
    pub bitpix: i64,
    pub gzip: bool,
    pub bunit: Option<String>,
    /// The beam, or `None` with the reason in `beam_problem`.
    pub beam: Option<Beam>,
    pub beam_problem: Option<String>,
    pub projection: String,
    pub frame: String,
    /// CRVAL: (RA, Dec) in degrees.
    pub reference_sky_deg: (f64, f64),
    /// CRPIX, 0-based.
    pub reference_pixel: (f64, f64),
    pub pixel_scale_arcsec: (f64, f64),
    /// Statistics over the sampled rows only.
    pub sample: SampleStats,
}

/// Statistics of the rows [`ImageInfo`] samples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleStats {
    pub rows: usize,
    pub pixels: usize,
    /// Fraction of sampled pixels that are blank (NaN, infinite or BLANK).
    pub blank_fraction: f64,
    /// Median of the finite sampled pixels, `None` if all are blank.
    pub median: Option<f64>,
    /// 1.4826 x the median absolute deviation: the noise of a mostly empty
    /// radio image, robust to the sources in it. `None` if all are blank.
    pub robust_sigma: Option<f64>,
}

impl ImageInfo {
    /// Describes an open image, reading at most [`MAX_SAMPLE_ROWS`] rows.
    /// An all-blank image is not an error here (the description is still
    /// useful); [`ImageInfo::ensure_has_data`] turns it into one.
    pub fn gather(image: &FitsImage) -> Result<ImageInfo, FitsError> {
        let wcs = image.wcs();
        let (sx, sy) = wcs.pixel_scale_deg();
        let (beam, beam_problem) = match image.beam() {
            Ok(b) => (Some(b), None),
            Err(e) => (None, Some(e.to_string())),
        };
        Ok(ImageInfo {
            path: image.path().display().to_string(),
            width: image.width(),
            height: image.height(),
            axes: image.axes().to_vec(),
            plane: image.plane(),
            bitpix: image.bitpix(),
            gzip: image.is_gzip(),
            bunit: image
                .header_value("BUNIT")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            beam,
            beam_problem,
            projection: wcs.projection().code().to_string(),
            frame: wcs.frame().to_string(),
            reference_sky_deg: wcs.reference_sky(),
            reference_pixel: wcs.reference_pixel(),
            pixel_scale_arcsec: (sx * 3600.0, sy * 3600.0),
            sample: sample_stats(image)?,
        })
    }

    /// Fails with [`FitsError::AllBlank`] when every sampled pixel is blank:
    /// callers that go on to find sources use this to refuse an empty image.
    pub fn ensure_has_data(&self) -> Result<(), FitsError> {
        if self.sample.median.is_none() {
            return Err(FitsError::AllBlank {
                path: self.path.clone().into(),
                sampled: self.sample.pixels,
            });
        }
        Ok(())
    }
}

/// The rows sampled: all of them for small images, else `MAX_SAMPLE_ROWS`
/// evenly spaced row centres.
fn sample_rows(height: usize) -> Vec<usize> {
    let n = height.min(MAX_SAMPLE_ROWS);
    (0..n).map(|i| (2 * i + 1) * height / (2 * n)).collect()
}

fn sample_stats(image: &FitsImage) -> Result<SampleStats, FitsError> {
    let rows = sample_rows(image.height());
    let mut finite = Vec::with_capacity(rows.len() * image.width());
    let mut pixels = 0;
    for &y in &rows {
        let row = image.read_rect(PixelRect::new(0, y, image.width(), 1))?;
        pixels += row.pixels().len();
        finite.extend(
            row.pixels()
                .iter()
                .filter(|v| v.is_finite())
                .map(|&v| f64::from(v)),
        );
    }
    let blank_fraction = if pixels == 0 {
        0.0
    } else {
        (pixels - finite.len()) as f64 / pixels as f64
    };
    let median = median_in_place(&mut finite);
    let robust_sigma = median.and_then(|m| {
        let mut deviations: Vec<f64> = finite.iter().map(|v| (v - m).abs()).collect();
        median_in_place(&mut deviations).map(|mad| mad * MAD_TO_SIGMA)
    });
    Ok(SampleStats {
        rows: rows.len(),
        pixels,
        blank_fraction,
        median,
        robust_sigma,
    })
}

/// The median (mean of the middle two for an even count); reorders `values`.
fn median_in_place(values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let (_, upper, _) = values.select_nth_unstable_by(n / 2, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        return Some(upper);
    }
    let lower = values[..n / 2]
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    Some(0.5 * (lower + upper))
}

impl fmt::Display for ImageInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.path)?;
        let axes: Vec<String> = self
            .axes
            .iter()
            .map(|a| {
                format!(
                    "{}={}",
                    if a.ctype.is_empty() { "?" } else { &a.ctype },
                    a.length
                )
            })
            .collect();
        writeln!(
            f,
            "  image      {} x {} pixels, plane {} (axes {}), BITPIX {}{}",
            self.width,
            self.height,
            self.plane,
            axes.join(" "),
            self.bitpix,
            if self.gzip { ", gzip" } else { "" }
        )?;
        writeln!(
            f,
            "  units      {}",
            self.bunit.as_deref().unwrap_or("(no BUNIT)")
        )?;
        match (&self.beam, &self.beam_problem) {
            (Some(b), _) => writeln!(
                f,
                "  beam       {:.2}\" x {:.2}\" at PA {:.1} deg",
                b.major_deg * 3600.0,
                b.minor_deg * 3600.0,
                b.pa_deg
            )?,
            (None, Some(problem)) => writeln!(f, "  beam       none: {problem}")?,
            (None, None) => writeln!(f, "  beam       none")?,
        }
        writeln!(
            f,
            "  wcs        {} {}, reference {} {} at pixel ({:.2}, {:.2}) (0-based)",
            self.projection,
            self.frame,
            prospector_wcs::format_ra_hms(self.reference_sky_deg.0, 2),
            prospector_wcs::format_dec_dms(self.reference_sky_deg.1, 1),
            self.reference_pixel.0,
            self.reference_pixel.1
        )?;
        writeln!(
            f,
            "  pixel      {:.3}\" x {:.3}\"",
            self.pixel_scale_arcsec.0, self.pixel_scale_arcsec.1
        )?;
        let s = &self.sample;
        write!(
            f,
            "  sample     {} rows, {} pixels: {:.2}% blank",
            s.rows,
            s.pixels,
            100.0 * s.blank_fraction
        )?;
        match (s.median, s.robust_sigma) {
            (Some(m), Some(sigma)) => {
                write!(f, ", median {m:.4e}, robust sigma (1.4826 MAD) {sigma:.4e}")
            }
            _ => write!(f, ", all blank: no noise estimate"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_handles_odd_even_and_empty() {
        assert_eq!(median_in_place(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median_in_place(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median_in_place(&mut []), None);
    }

    #[test]
    fn sampled_rows_are_spread_and_distinct() {
        assert_eq!(sample_rows(3), vec![0, 1, 2]);
        let rows = sample_rows(20_000);
        assert_eq!(rows.len(), MAX_SAMPLE_ROWS);
        assert!(rows.windows(2).all(|w| w[1] > w[0]));
        assert!(rows[0] < 200 && *rows.last().unwrap() > 19_800);
    }
}
