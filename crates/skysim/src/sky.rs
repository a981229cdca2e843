//! Pixel <-> sky positions of the simulated field.
//!
//! SEAM(prospector-wcs): the workspace's WCS crate (`prospector-wcs`,
//! `Wcs::simple(...)`) is being written on another branch. Until it is on
//! main, this module holds the one small SIN projection the simulator needs,
//! with the same parameters the FITS writer will be given (reference pixel
//! at `(width / 2, height / 2)`, 0-based; CDELT1 = -scale, CDELT2 = +scale).
//! When it lands, `FieldProjection` becomes a thin wrapper over
//! `prospector_wcs::Wcs` and this implementation is deleted.

use crate::config::FieldConfig;

/// The field's orthographic (SIN) projection, the one radio interferometric
/// images use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldProjection {
    pub crval_ra_deg: f64,
    pub crval_dec_deg: f64,
    /// Reference pixel, 0-based.
    pub crpix_x: f64,
    pub crpix_y: f64,
    /// Degrees per pixel along x (negative: RA grows to the left) and y.
    pub cdelt_x_deg: f64,
    pub cdelt_y_deg: f64,
}

impl FieldProjection {
    pub fn of(config: &FieldConfig) -> Self {
        let scale = config.pixel_scale_arcsec / 3600.0;
        Self {
            crval_ra_deg: config.centre_ra_deg,
            crval_dec_deg: config.centre_dec_deg,
            crpix_x: (config.width / 2) as f64,
            crpix_y: (config.height / 2) as f64,
            cdelt_x_deg: -scale,
            cdelt_y_deg: scale,
        }
    }

    /// Sky position (RA, Dec in degrees, RA in [0, 360)) of a 0-based pixel
    /// position, or `None` beyond the projection's horizon.
    pub fn pixel_to_sky(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        // Direction cosines towards east (l; CDELT1 < 0 makes it grow leftwards) and north (m).
        let l = ((x - self.crpix_x) * self.cdelt_x_deg).to_radians();
        let m = ((y - self.crpix_y) * self.cdelt_y_deg).to_radians();
        let n2 = 1.0 - l * l - m * m;
        if n2 < 0.0 {
            return None;
        }
        let n = n2.sqrt();
        let (sin_d0, cos_d0) = self.crval_dec_deg.to_radians().sin_cos();
        let dec = (m * cos_d0 + n * sin_d0).clamp(-1.0, 1.0).asin();
        let dra = l.atan2(n * cos_d0 - m * sin_d0);
        let ra = (self.crval_ra_deg + dra.to_degrees()).rem_euclid(360.0);
        Some((ra, dec.to_degrees()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_pixel_is_the_field_centre_and_east_is_left() {
        let cfg = FieldConfig {
            width: 100,
            height: 80,
            ..FieldConfig::default()
        };
        let p = FieldProjection::of(&cfg);
        let (ra, dec) = p.pixel_to_sky(50.0, 40.0).unwrap();
        assert!((ra - 150.0).abs() < 1e-12 && (dec + 30.0).abs() < 1e-12);
        let (ra_left, _) = p.pixel_to_sky(40.0, 40.0).unwrap();
        assert!(ra_left > ra, "RA must grow to the left");
        // Ten pixels of 1.5" at Dec -30: 15" / cos(-30 deg) of RA.
        let expected = 15.0 / 3600.0 / (30f64.to_radians().cos());
        assert!(((ra_left - ra) - expected).abs() < 1e-8);
        let (_, dec_up) = p.pixel_to_sky(50.0, 50.0).unwrap();
        assert!((dec_up - dec - 15.0 / 3600.0).abs() < 1e-8);
    }
}
