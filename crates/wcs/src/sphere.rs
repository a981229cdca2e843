//! The rotation between native spherical coordinates of a projection and
//! celestial coordinates (Calabretta & Greisen 2002, section 2.3).
//!
//! Latitudes are computed with `atan2` of a sine and a cosine rather than
//! `asin`, so points a fraction of a pixel from the reference point keep full
//! precision (asin loses half the digits near +-90 degrees).

use crate::WcsError;

/// Celestial coordinates of the native pole (alpha_p, delta_p) and native
/// longitude of the celestial pole (phi_p), in radians.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rotation {
    alpha_p: f64,
    sin_delta_p: f64,
    cos_delta_p: f64,
    phi_p: f64,
    /// Degrees, for writing LATPOLE back out.
    delta_p_deg: f64,
}

impl Rotation {
    /// Places the native pole for a reference point (alpha_0, delta_0) = CRVAL at
    /// native (phi_0 = 0, theta_0), with LONPOLE (phi_p) and LATPOLE given or
    /// defaulted as the FITS WCS standard says.
    pub(crate) fn new(
        crval_deg: (f64, f64),
        theta0_deg: f64,
        lonpole_deg: Option<f64>,
        latpole_deg: Option<f64>,
    ) -> Result<Self, WcsError> {
        let (alpha0, delta0) = crval_deg;
        let phi0 = 0.0;
        let lonpole = lonpole_deg.unwrap_or(if delta0 >= theta0_deg {
            phi0
        } else {
            phi0 + 180.0
        });
        let (alpha_p, delta_p) = if theta0_deg == 90.0 {
            (alpha0, delta0)
        } else {
            native_pole(
                alpha0,
                delta0,
                theta0_deg,
                phi0,
                lonpole,
                latpole_deg.unwrap_or(90.0),
            )?
        };
        let (sin_delta_p, cos_delta_p) = delta_p.to_radians().sin_cos();
        Ok(Self {
            alpha_p: alpha_p.to_radians(),
            sin_delta_p,
            cos_delta_p,
            phi_p: lonpole.to_radians(),
            delta_p_deg: delta_p,
        })
    }

    pub(crate) fn lonpole_deg(&self) -> f64 {
        self.phi_p.to_degrees()
    }

    pub(crate) fn latpole_deg(&self) -> f64 {
        self.delta_p_deg
    }

    /// Native (phi, theta) to celestial (alpha, delta), radians.
    pub(crate) fn celestial_of(&self, phi: f64, theta: f64) -> (f64, f64) {
        let (dlon, lat) = rotate(phi - self.phi_p, theta, self.sin_delta_p, self.cos_delta_p);
        (self.alpha_p + dlon, lat)
    }

    /// Celestial (alpha, delta) to native (phi, theta), radians.
    pub(crate) fn native_of(&self, alpha: f64, delta: f64) -> (f64, f64) {
        let (dlon, lat) = rotate(
            alpha - self.alpha_p,
            delta,
            self.sin_delta_p,
            self.cos_delta_p,
        );
        (self.phi_p + dlon, lat)
    }
}

/// The spherical rotation shared by both directions (C&G eqs. 2 and 5): the
/// longitude offset and latitude of a point given its longitude offset from the
/// other system's pole meridian and latitude.
fn rotate(dlon: f64, lat: f64, sin_pole: f64, cos_pole: f64) -> (f64, f64) {
    let (sin_lat, cos_lat) = lat.sin_cos();
    let (sin_dlon, cos_dlon) = dlon.sin_cos();
    let sin_out = sin_lat * sin_pole + cos_lat * cos_pole * cos_dlon;
    let x = sin_lat * cos_pole - cos_lat * sin_pole * cos_dlon;
    let y = -cos_lat * sin_dlon;
    (y.atan2(x), sin_out.atan2(x.hypot(y)))
}

/// Celestial coordinates of the native pole when the reference point is not at
/// the native pole (theta_0 != 90, i.e. CAR), as WCSLIB's `celset` computes them,
/// in degrees.
fn native_pole(
    alpha0: f64,
    delta0: f64,
    theta0: f64,
    phi0: f64,
    lonpole: f64,
    latpole: f64,
) -> Result<(f64, f64), WcsError> {
    let (sin_d0, cos_d0) = delta0.to_radians().sin_cos();
    let (sin_t0, cos_t0) = theta0.to_radians().sin_cos();
    let (sin_dphi, cos_dphi) = (lonpole - phi0).to_radians().sin_cos();
    let x = cos_t0 * cos_dphi;
    let y = sin_t0;
    let z = x.hypot(y);
    if z == 0.0 {
        return Err(WcsError::ImpossiblePole);
    }
    let mut ratio = sin_d0 / z;
    if ratio.abs() > 1.0 {
        if ratio.abs() - 1.0 > 1e-10 {
            return Err(WcsError::ImpossiblePole);
        }
        ratio = ratio.signum();
    }
    let u = y.atan2(x).to_degrees();
    let v = ratio.acos().to_degrees();
    let wrap = |a: f64| {
        if a > 180.0 {
            a - 360.0
        } else if a < -180.0 {
            a + 360.0
        } else {
            a
        }
    };
    let (lat1, lat2) = (wrap(u + v), wrap(u - v));
    let valid = |a: f64| a.abs() <= 90.0 + 1e-10;
    let delta_p = match (valid(lat1), valid(lat2)) {
        (true, true) => {
            if (latpole - lat1).abs() <= (latpole - lat2).abs() {
                lat1
            } else {
                lat2
            }
        }
        (true, false) => lat1,
        (false, true) => lat2,
        (false, false) => return Err(WcsError::ImpossiblePole),
    }
    .clamp(-90.0, 90.0);
    let (sin_dp, cos_dp) = delta_p.to_radians().sin_cos();
    let alpha_p = if (cos_dp * cos_d0).abs() < 1e-10 {
        if cos_d0.abs() < 1e-10 {
            alpha0
        } else if delta_p > 0.0 {
            alpha0 + lonpole - phi0 - 180.0
        } else {
            alpha0 - lonpole + phi0
        }
    } else {
        let xx = (sin_t0 - sin_dp * sin_d0) / (cos_dp * cos_d0);
        let yy = sin_dphi * cos_t0 / cos_d0;
        if xx == 0.0 && yy == 0.0 {
            return Err(WcsError::ImpossiblePole);
        }
        alpha0 - yy.atan2(xx).to_degrees()
    };
    Ok((alpha_p, delta_p))
}
