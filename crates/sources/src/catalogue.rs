//! The source catalogue: one row per island, with PyBDSF's column names where
//! they mean the same thing, written as CSV, as FITS columns and as a ds9
//! region file.
//!
//! Units: RA/DEC and sizes in degrees, PA in degrees east of north, fluxes in
//! Jy (Total_flux) and Jy/beam (Peak_flux, Isl_rms, Isl_mean), positions in
//! 0-based pixels. Sizes and PA are measured on the sky: the ends of the
//! island's moment axes are projected through the WCS, so a rotated or flipped
//! pixel grid gives the right angle.

use crate::cutout::source_id;
use crate::islands::Island;
use crate::SourcesError;
use prospector_fits::{Column, ColumnData};
use prospector_wcs::{iau_name, Wcs};
use std::io::Write;
use std::path::Path;

/// One catalogue row.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRow {
    /// Content-derived id (see [`source_id`]), the id of the cutout too.
    pub source_id: String,
    /// Island index in this catalogue (raster order of the island's first pixel).
    pub isl_id: u64,
    pub name: String,
    /// Island centroid.
    pub ra: f64,
    pub dec: f64,
    /// Brightest pixel.
    pub ra_max: f64,
    pub dec_max: f64,
    pub x: f64,
    pub y: f64,
    pub x_max: u64,
    pub y_max: u64,
    pub total_flux: f64,
    pub peak_flux: f64,
    pub isl_rms: f64,
    pub isl_mean: f64,
    pub snr: f64,
    /// Moment FWHM of the major and minor axes (deg, not deconvolved) and PA.
    pub maj: f64,
    pub min: f64,
    pub pa: f64,
    pub npix: u64,
    /// Bounding box: first column and row, width and height (pixels).
    pub bbox_x0: u64,
    pub bbox_y0: u64,
    pub bbox_width: u64,
    pub bbox_height: u64,
}

/// The catalogue of one image.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    pub image_id: String,
    pub rows: Vec<SourceRow>,
}

impl Catalogue {
    /// Rows for `islands` (in their order) of the image `image_id` with WCS `wcs`.
    /// Positions the projection cannot place get NaN coordinates and an empty name.
    pub fn new(image_id: &str, islands: &[Island], wcs: &Wcs) -> Catalogue {
        let rows = islands
            .iter()
            .enumerate()
            .map(|(k, island)| row(image_id, k as u64, island, wcs))
            .collect();
        Catalogue {
            image_id: image_id.to_string(),
            rows,
        }
    }

    /// The catalogue as CSV: the columns of [`Catalogue::columns`], in order.
    pub fn write_csv(&self, path: &Path) -> Result<(), SourcesError> {
        let csv_error = |source| SourcesError::Csv {
            path: path.to_path_buf(),
            source,
        };
        let columns = self.columns();
        let mut writer = csv::Writer::from_path(path).map_err(csv_error)?;
        writer
            .write_record(columns.iter().map(|c| c.name.as_str()))
            .map_err(csv_error)?;
        for k in 0..self.rows.len() {
            writer
                .write_record(columns.iter().map(|c| match &c.data {
                    ColumnData::F64(v) => v[k].to_string(),
                    ColumnData::I64(v) => v[k].to_string(),
                    ColumnData::Text(v) => v[k].clone(),
                }))
                .map_err(csv_error)?;
        }
        writer.flush().map_err(|source| SourcesError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The catalogue's columns, named as PyBDSF names them where they mean the
    /// same, with units (for the FITS table; the CSV uses the same names).
    pub fn columns(&self) -> Vec<Column> {
        let f = |name: &str, unit: Option<&str>, get: fn(&SourceRow) -> f64| {
            Column::new(
                name,
                unit,
                ColumnData::F64(self.rows.iter().map(get).collect()),
            )
        };
        let i = |name: &str, unit: Option<&str>, get: fn(&SourceRow) -> u64| {
            let values = self.rows.iter().map(|r| get(r) as i64).collect();
            Column::new(name, unit, ColumnData::I64(values))
        };
        let t = |name: &str, get: fn(&SourceRow) -> String| {
            Column::new(
                name,
                None,
                ColumnData::Text(self.rows.iter().map(get).collect()),
            )
        };
        vec![
            t("Source_id", |r| r.source_id.clone()),
            i("Isl_id", None, |r| r.isl_id),
            t("Name", |r| r.name.clone()),
            f("RA", Some("deg"), |r| r.ra),
            f("DEC", Some("deg"), |r| r.dec),
            f("RA_max", Some("deg"), |r| r.ra_max),
            f("DEC_max", Some("deg"), |r| r.dec_max),
            f("Xposn", Some("pix"), |r| r.x),
            f("Yposn", Some("pix"), |r| r.y),
            i("Xposn_max", Some("pix"), |r| r.x_max),
            i("Yposn_max", Some("pix"), |r| r.y_max),
            f("Total_flux", Some("Jy"), |r| r.total_flux),
            f("Peak_flux", Some("Jy/beam"), |r| r.peak_flux),
            f("Isl_rms", Some("Jy/beam"), |r| r.isl_rms),
            f("Isl_mean", Some("Jy/beam"), |r| r.isl_mean),
            f("SNR", None, |r| r.snr),
            f("Maj", Some("deg"), |r| r.maj),
            f("Min", Some("deg"), |r| r.min),
            f("PA", Some("deg"), |r| r.pa),
            i("Isl_npix", None, |r| r.npix),
            i("Bbox_x0", Some("pix"), |r| r.bbox_x0),
            i("Bbox_y0", Some("pix"), |r| r.bbox_y0),
            i("Bbox_width", Some("pix"), |r| r.bbox_width),
            i("Bbox_height", Some("pix"), |r| r.bbox_height),
        ]
    }

    /// A ds9 region file: one fk5 ellipse per source (semi-axes in arcsec, the
    /// moment FWHM halved), labelled with the IAU name.
    pub fn write_regions(&self, path: &Path) -> Result<(), SourcesError> {
        let io = |source| SourcesError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
        writeln!(out, "# Region file format: DS9 version 4.1").map_err(io)?;
        writeln!(
            out,
            "# prospector-sources islands of image {}",
            self.image_id
        )
        .map_err(io)?;
        writeln!(out, "global color=green width=1").map_err(io)?;
        writeln!(out, "fk5").map_err(io)?;
        for r in self
            .rows
            .iter()
            .filter(|r| r.ra.is_finite() && r.dec.is_finite())
        {
            // ds9 measures ellipse angles from the x (west-to-east flipped) axis: PA + 90.
            writeln!(
                out,
                "ellipse({:.7},{:.7},{:.3}\",{:.3}\",{:.2}) # text={{{}}}",
                r.ra,
                r.dec,
                (r.maj * 1800.0).max(0.001),
                (r.min * 1800.0).max(0.001),
                r.pa + 90.0,
                r.name
            )
            .map_err(io)?;
        }
        out.flush().map_err(io)
    }
}

fn row(image_id: &str, isl_id: u64, island: &Island, wcs: &Wcs) -> SourceRow {
    let (ra, dec) = wcs
        .pixel_to_sky(island.x, island.y)
        .unwrap_or((f64::NAN, f64::NAN));
    let (ra_max, dec_max) = wcs
        .pixel_to_sky(island.peak_x as f64, island.peak_y as f64)
        .unwrap_or((f64::NAN, f64::NAN));
    let (maj, pa) = sky_axis(wcs, island, island.major_px, island.pa_deg);
    let (min, _) = sky_axis(wcs, island, island.minor_px, island.pa_deg + 90.0);
    SourceRow {
        source_id: source_id(image_id, island),
        isl_id,
        name: iau_name(ra, dec).unwrap_or_default(),
        ra,
        dec,
        ra_max,
        dec_max,
        x: island.x,
        y: island.y,
        x_max: island.peak_x as u64,
        y_max: island.peak_y as u64,
        total_flux: island.total_flux,
        peak_flux: island.peak_flux,
        isl_rms: island.rms,
        isl_mean: island.mean,
        snr: island.snr,
        maj,
        min,
        pa: if maj.is_finite() { pa } else { f64::NAN },
        npix: island.pixels as u64,
        bbox_x0: island.bbox.x0 as u64,
        bbox_y0: island.bbox.y0 as u64,
        bbox_width: island.bbox.width as u64,
        bbox_height: island.bbox.height as u64,
    }
}

/// Angular length (deg) and sky position angle (deg east of north, 0..180) of
/// the axis of `length_px` through the island centroid at image-plane angle
/// `pa_img_deg` (from +y towards -x).
fn sky_axis(wcs: &Wcs, island: &Island, length_px: f64, pa_img_deg: f64) -> (f64, f64) {
    let (s, c) = pa_img_deg.to_radians().sin_cos();
    let half = length_px.max(1e-6) / 2.0;
    let end = |sign: f64| wcs.pixel_to_sky(island.x - sign * s * half, island.y + sign * c * half);
    let (Some(a), Some(b), Some(centre)) = (end(-1.0), end(1.0), end(0.0)) else {
        return (f64::NAN, f64::NAN);
    };
    let length = if length_px > 0.0 {
        angular_distance(a, b)
    } else {
        0.0
    };
    // The bearing at the centre: symmetric, so no bias from the great circle.
    (length, position_angle(centre, b).rem_euclid(180.0))
}

/// Great-circle distance between two (RA, Dec) points, degrees.
pub fn angular_distance(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (ra1, dec1) = (a.0.to_radians(), a.1.to_radians());
    let (ra2, dec2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((dec2 - dec1) / 2.0).sin().powi(2)
        + dec1.cos() * dec2.cos() * ((ra2 - ra1) / 2.0).sin().powi(2);
    (2.0 * h.sqrt().min(1.0).asin()).to_degrees()
}

/// Position angle of `b` seen from `a`, degrees east of north.
fn position_angle(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (ra1, dec1) = (a.0.to_radians(), a.1.to_radians());
    let (ra2, dec2) = (b.0.to_radians(), b.1.to_radians());
    let d_ra = ra2 - ra1;
    (d_ra.sin() * dec2.cos())
        .atan2(dec1.cos() * dec2.sin() - dec1.sin() * dec2.cos() * d_ra.cos())
        .to_degrees()
}

#[cfg(test)]
mod tests {
    use super::*;
    use prospector_wcs::Projection;

    fn island(major_px: f64, minor_px: f64, pa_deg: f64) -> Island {
        Island {
            major_px,
            minor_px,
            pa_deg,
            ..Island::example(50.0, 45.0)
        }
    }

    fn wcs(cdelt_x: f64) -> Wcs {
        Wcs::simple(
            Projection::Sin,
            180.0,
            -45.0,
            50.0,
            45.0,
            cdelt_x,
            1.0 / 3600.0,
        )
        .unwrap()
    }

    #[test]
    fn sizes_and_angles_are_measured_on_the_sky() {
        let north_up_east_left = wcs(-1.0 / 3600.0);
        // Axis along +y: north. Along x: east-west.
        let r = row("img", 0, &island(10.0, 4.0, 0.0), &north_up_east_left);
        assert!(
            (r.maj * 3600.0 - 10.0).abs() < 1e-3 && (r.min * 3600.0 - 4.0).abs() < 1e-3,
            "{r:?}"
        );
        assert!(r.pa.min(180.0 - r.pa) < 1e-3, "{}", r.pa);
        let r = row("img", 0, &island(10.0, 4.0, 90.0), &north_up_east_left);
        assert!((r.pa - 90.0).abs() < 1e-3, "{}", r.pa);
        // Up and to the left is north-east on a normal grid, north-west when
        // the grid is flipped (east to the right).
        let r = row("img", 0, &island(10.0, 4.0, 45.0), &north_up_east_left);
        assert!((r.pa - 45.0).abs() < 0.01, "{}", r.pa);
        let r = row("img", 0, &island(10.0, 4.0, 45.0), &wcs(1.0 / 3600.0));
        assert!((r.pa - 135.0).abs() < 0.01, "{}", r.pa);
        assert_eq!(r.name, "J1200-4500");
        assert!((r.ra - 180.0).abs() < 1e-9 && (r.dec + 45.0).abs() < 1e-9);
    }

    #[test]
    fn csv_and_regions_hold_one_line_per_source() {
        let dir = tempfile::tempdir().unwrap();
        let catalogue = Catalogue::new(
            "img",
            &[island(6.0, 3.0, 30.0), island(5.0, 5.0, 0.0)],
            &wcs(-1.0 / 3600.0),
        );
        catalogue.write_csv(&dir.path().join("c.csv")).unwrap();
        catalogue.write_regions(&dir.path().join("c.reg")).unwrap();
        let csv = std::fs::read_to_string(dir.path().join("c.csv")).unwrap();
        assert_eq!(csv.lines().count(), 3);
        assert!(csv
            .lines()
            .next()
            .unwrap()
            .contains("Total_flux,Peak_flux,Isl_rms,Isl_mean"));
        let reg = std::fs::read_to_string(dir.path().join("c.reg")).unwrap();
        assert_eq!(reg.lines().filter(|l| l.starts_with("ellipse(")).count(), 2);
        assert!(
            reg.contains("ellipse(180.0000000,-45.0000000,3.000\",1.500\",120.00)"),
            "{reg}"
        );
    }
}
