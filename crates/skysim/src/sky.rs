//! Where the simulated field lies on the sky: its world coordinate system,
//! the one the FITS writer puts in the header.

use prospector_wcs::{Projection, Wcs};

use crate::config::FieldConfig;
use crate::error::SimError;

impl FieldConfig {
    /// The field's WCS: SIN projection (as interferometric images use), the
    /// centre at the 0-based reference pixel `(width / 2, height / 2)`, RA
    /// growing to the left (CDELT1 = -scale) and Dec upwards.
    pub fn wcs(&self) -> Result<Wcs, SimError> {
        let scale = self.pixel_scale_arcsec / 3600.0;
        Ok(Wcs::simple(
            Projection::Sin,
            self.centre_ra_deg,
            self.centre_dec_deg,
            (self.width / 2) as f64,
            (self.height / 2) as f64,
            -scale,
            scale,
        )?)
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
        let wcs = cfg.wcs().unwrap();
        let (ra, dec) = wcs.pixel_to_sky(50.0, 40.0).unwrap();
        assert!((ra - 150.0).abs() < 1e-12 && (dec + 30.0).abs() < 1e-12);
        let (ra_left, _) = wcs.pixel_to_sky(40.0, 40.0).unwrap();
        assert!(ra_left > ra, "RA must grow to the left");
        // Ten pixels of 1.5" at Dec -30: 15" / cos(-30 deg) of RA.
        let expected = 15.0 / 3600.0 / (30f64.to_radians().cos());
        assert!(((ra_left - ra) - expected).abs() < 1e-8);
        let (_, dec_up) = wcs.pixel_to_sky(50.0, 50.0).unwrap();
        assert!((dec_up - dec - 15.0 / 3600.0).abs() < 1e-8);
    }
}
