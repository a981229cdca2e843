//! Projections between native spherical coordinates (phi, theta) and the
//! projection plane (intermediate world coordinates, in degrees), following
//! Calabretta & Greisen (2002), "Representations of celestial coordinates in FITS".
//!
//! Native angles are in radians here; plane coordinates are in degrees, as the
//! CD matrix produces them.

use std::f64::consts::PI;

use serde::Serialize;

/// Degrees per radian: the radius of the generating sphere, R0 in the paper.
const R0: f64 = 180.0 / PI;

/// The celestial projections Prospector reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Projection {
    /// Slant orthographic; interferometer images (with PV2_1/PV2_2 when slanted).
    Sin,
    /// Gnomonic; optical and survey cutouts (FIRST via SkyView).
    Tan,
    /// North-celestial-pole orthographic (AIPS, Miriad, ATCA): SIN with
    /// PV2_1 = 0 and PV2_2 = cot(CRVAL2), as WCSLIB treats it.
    Ncp,
    /// Zenithal equidistant.
    Arc,
    /// Plate carrée (cylindrical, reference point on the native equator).
    Car,
}

impl Projection {
    /// The three-letter code of CTYPEn.
    pub fn code(&self) -> &'static str {
        match self {
            Projection::Sin => "SIN",
            Projection::Tan => "TAN",
            Projection::Ncp => "NCP",
            Projection::Arc => "ARC",
            Projection::Car => "CAR",
        }
    }

    /// Parses a CTYPEn projection code ("SIN", ...).
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "SIN" => Some(Projection::Sin),
            "TAN" => Some(Projection::Tan),
            "NCP" => Some(Projection::Ncp),
            "ARC" => Some(Projection::Arc),
            "CAR" => Some(Projection::Car),
            _ => None,
        }
    }

    /// Native latitude of the reference point (theta_0), in degrees: 90 for the
    /// zenithal projections, 0 for CAR.
    pub(crate) fn theta0_deg(&self) -> f64 {
        match self {
            Projection::Car => 0.0,
            _ => 90.0,
        }
    }
}

/// A projection with its parameters, ready to compute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum PlaneMap {
    /// SIN with the slant parameters (xi, eta) = (PV2_1, PV2_2); NCP is (0, cot delta_0).
    Sin {
        xi: f64,
        eta: f64,
    },
    Tan,
    Arc,
    Car,
}

impl PlaneMap {
    /// Native (phi, theta) in radians to plane (x, y) in degrees; `None` where the
    /// projection is not defined (the far hemisphere for SIN and TAN).
    pub(crate) fn forward(&self, phi: f64, theta: f64) -> Option<(f64, f64)> {
        let (sin_phi, cos_phi) = phi.sin_cos();
        let (sin_theta, cos_theta) = theta.sin_cos();
        match *self {
            PlaneMap::Sin { xi, eta } => {
                if sin_theta < 0.0 {
                    return None;
                }
                let t = 1.0 - sin_theta;
                Some((
                    R0 * (cos_theta * sin_phi + xi * t),
                    -R0 * (cos_theta * cos_phi - eta * t),
                ))
            }
            PlaneMap::Tan => {
                if sin_theta <= 0.0 {
                    return None;
                }
                let r = R0 * cos_theta / sin_theta;
                Some((r * sin_phi, -r * cos_phi))
            }
            PlaneMap::Arc => {
                let r = 90.0 - theta.to_degrees();
                Some((r * sin_phi, -r * cos_phi))
            }
            PlaneMap::Car => {
                // Native longitude runs over (-180, 180] around the reference point.
                let phi = (phi + PI).rem_euclid(2.0 * PI) - PI;
                Some((phi.to_degrees(), theta.to_degrees()))
            }
        }
    }

    /// Plane (x, y) in degrees to native (phi, theta) in radians; `None` outside
    /// the projection's boundary.
    pub(crate) fn inverse(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        match *self {
            PlaneMap::Sin { xi, eta } => sin_inverse(x / R0, y / R0, xi, eta),
            PlaneMap::Tan => {
                let r = x.hypot(y);
                Some((zenithal_phi(x, y, r), R0.atan2(r)))
            }
            PlaneMap::Arc => {
                let r = x.hypot(y);
                if r > 180.0 {
                    return None;
                }
                Some((zenithal_phi(x, y, r), (90.0 - r).to_radians()))
            }
            PlaneMap::Car => {
                if y.abs() > 90.0 {
                    return None;
                }
                Some((x.to_radians(), y.to_radians()))
            }
        }
    }
}

/// Native longitude of a point on a zenithal projection plane (0 at the centre).
fn zenithal_phi(x: f64, y: f64, r: f64) -> f64 {
    if r == 0.0 {
        0.0
    } else {
        x.atan2(-y)
    }
}

/// Inverse of the slant orthographic projection, in units of R0.
///
/// With t = 1 - sin(theta), the forward equations give the quadratic
/// (1 + xi^2 + eta^2) t^2 - 2 (1 + x xi + y eta) t + (x^2 + y^2) = 0,
/// whose smaller root is the visible hemisphere. It is computed in the form
/// t = r^2 / (b + sqrt(b^2 - a r^2)), which stays exact near the reference point.
fn sin_inverse(x: f64, y: f64, xi: f64, eta: f64) -> Option<(f64, f64)> {
    let r2 = x * x + y * y;
    let a = 1.0 + xi * xi + eta * eta;
    let b = 1.0 + x * xi + y * eta;
    let disc = b * b - a * r2;
    if disc < 0.0 {
        return None;
    }
    let denom = b + disc.sqrt();
    if denom <= 0.0 {
        return None;
    }
    let t = r2 / denom;
    if t > 1.0 {
        return None;
    }
    let cos_theta = (t * (2.0 - t)).max(0.0).sqrt();
    let theta = (1.0 - t).atan2(cos_theta);
    let sx = x - xi * t;
    let sy = eta * t - y;
    let phi = if sx == 0.0 && sy == 0.0 {
        0.0
    } else {
        sx.atan2(sy)
    };
    Some((phi, theta))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(map: PlaneMap, x: f64, y: f64) {
        let (phi, theta) = map.inverse(x, y).unwrap();
        let (x2, y2) = map.forward(phi, theta).unwrap();
        assert!(
            (x - x2).abs() < 1e-12 && (y - y2).abs() < 1e-12,
            "{map:?}: ({x}, {y}) -> ({x2}, {y2})"
        );
    }

    #[test]
    fn every_projection_inverts_its_forward_map() {
        let maps = [
            PlaneMap::Sin { xi: 0.0, eta: 0.0 },
            PlaneMap::Sin { xi: 0.0, eta: -1.1 },
            PlaneMap::Sin { xi: 0.2, eta: 0.3 },
            PlaneMap::Tan,
            PlaneMap::Arc,
            PlaneMap::Car,
        ];
        for map in maps {
            for &(x, y) in &[
                (0.0, 0.0),
                (1e-7, -3e-7),
                (0.5, 0.25),
                (-3.0, 7.0),
                (20.0, -10.0),
            ] {
                round_trip(map, x, y);
            }
        }
    }

    #[test]
    fn orthographic_distance_is_the_sine_of_the_zenith_angle() {
        // A point 30 degrees from the reference lies sin(30 deg) R0 from the centre.
        let (x, y) = PlaneMap::Sin { xi: 0.0, eta: 0.0 }
            .forward(0.0, 60f64.to_radians())
            .unwrap();
        assert!(x.abs() < 1e-12);
        assert!((y + 0.5 * R0).abs() < 1e-12);
        // TAN: tan(30 deg) R0; ARC: exactly 30 degrees.
        let (_, y) = PlaneMap::Tan.forward(0.0, 60f64.to_radians()).unwrap();
        assert!((y + 30f64.to_radians().tan() * R0).abs() < 1e-12);
        let (_, y) = PlaneMap::Arc.forward(0.0, 60f64.to_radians()).unwrap();
        assert!((y + 30.0).abs() < 1e-12);
    }

    #[test]
    fn far_hemisphere_is_refused() {
        assert!(PlaneMap::Tan.forward(0.0, -0.1).is_none());
        assert!(PlaneMap::Sin { xi: 0.0, eta: 0.0 }
            .forward(0.0, -0.1)
            .is_none());
        assert!(PlaneMap::Sin { xi: 0.0, eta: 0.0 }
            .inverse(60.0, 0.0)
            .is_none());
        assert!(PlaneMap::Arc.inverse(200.0, 0.0).is_none());
    }
}
