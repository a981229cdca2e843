//! The celestial WCS of an image: pixel <-> sky for the two image axes.

use serde::Serialize;

use crate::frame::Frame;
use crate::projection::{PlaneMap, Projection};
use crate::sphere::Rotation;
use crate::{CardValue, HeaderLookup, WcsError};

/// How many FITS axes are searched for RA/DEC when the header gives neither
/// NAXIS nor WCSAXES (the FITS maximum is 999; real images use at most 4 or 5).
const MAX_AXES_SEARCHED: usize = 9;

/// The celestial world coordinate system of the first two axes of an image.
///
/// Pixel coordinates are 0-based here (pixel (0, 0) is the centre of the first
/// pixel, FITS's (1, 1)); the conversion from FITS's 1-based CRPIX happens in
/// [`Wcs::from_header`] and back in [`Wcs::to_cards`] and nowhere else.
/// Sky coordinates are right ascension and declination in degrees.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wcs {
    projection: Projection,
    /// Reference point (RA, Dec), degrees.
    crval: (f64, f64),
    /// Reference pixel (x, y), 0-based.
    crpix: (f64, f64),
    /// Degrees per pixel: rows are (RA, Dec) intermediate coordinates, columns the
    /// image axes (x, y).
    cd: [[f64; 2]; 2],
    frame: Frame,
    #[serde(skip)]
    plane: PlaneMap,
    #[serde(skip)]
    rotation: Rotation,
    #[serde(skip)]
    cd_inverse: [[f64; 2]; 2],
    /// SIN slant parameters (PV2_1, PV2_2) as given; zero otherwise.
    pv: (f64, f64),
}

impl Wcs {
    /// The WCS of a regular grid: reference (RA, Dec) at the 0-based pixel
    /// `crpix`, `cdelt` degrees per pixel along x and y (CDELT1 is usually
    /// negative: RA grows to the left), no rotation, ICRS.
    pub fn simple(
        projection: Projection,
        crval_ra_deg: f64,
        crval_dec_deg: f64,
        crpix_x: f64,
        crpix_y: f64,
        cdelt_x_deg: f64,
        cdelt_y_deg: f64,
    ) -> Result<Wcs, WcsError> {
        Wcs::build(
            projection,
            (crval_ra_deg, crval_dec_deg),
            (crpix_x, crpix_y),
            [[cdelt_x_deg, 0.0], [0.0, cdelt_y_deg]],
            (0.0, 0.0),
            None,
            None,
            Frame::Icrs,
        )
    }

    /// Reads the celestial WCS from header cards.
    ///
    /// RA and DEC may be FITS axes 1 and 2 in either order (further axes such as
    /// FREQ, STOKES or VOPT are ignored); the scale comes from a CD matrix, or
    /// CDELTn with a PC matrix (also the old `PC00i00j` form) or CROTAn.
    /// Couplings between the celestial and other axes are ignored.
    pub fn from_header<H: HeaderLookup + ?Sized>(header: &H) -> Result<Wcs, WcsError> {
        let (lng_axis, lat_axis, projection) = celestial_axes(header)?;
        if !matches!((lng_axis, lat_axis), (1, 2) | (2, 1)) {
            return Err(WcsError::CelestialAxesNotImageAxes { lng_axis, lat_axis });
        }
        let num = |key: String| header.number(&key);
        let crval = (
            num(format!("CRVAL{lng_axis}")).unwrap_or(0.0),
            num(format!("CRVAL{lat_axis}")).unwrap_or(0.0),
        );
        // FITS CRPIX is 1-based; from here on everything is 0-based.
        let crpix = (
            num("CRPIX1".into()).unwrap_or(0.0) - 1.0,
            num("CRPIX2".into()).unwrap_or(0.0) - 1.0,
        );
        let cd = pixel_matrix(header, lng_axis, lat_axis)?;
        let pv = (
            num(format!("PV{lat_axis}_1")).unwrap_or(0.0),
            num(format!("PV{lat_axis}_2")).unwrap_or(0.0),
        );
        Wcs::build(
            projection,
            crval,
            crpix,
            cd,
            pv,
            num("LONPOLE".into()).or_else(|| num(format!("PV{lng_axis}_3"))),
            num("LATPOLE".into()).or_else(|| num(format!("PV{lng_axis}_4"))),
            Frame::from_header(header)?,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        projection: Projection,
        crval: (f64, f64),
        crpix: (f64, f64),
        cd: [[f64; 2]; 2],
        pv: (f64, f64),
        lonpole: Option<f64>,
        latpole: Option<f64>,
        frame: Frame,
    ) -> Result<Wcs, WcsError> {
        let check = |keyword: &str, value: f64| {
            if value.is_finite() {
                Ok(())
            } else {
                Err(WcsError::InvalidValue {
                    keyword: keyword.to_string(),
                    value,
                    reason: "not a finite number",
                })
            }
        };
        check("CRVAL (RA)", crval.0)?;
        check("CRVAL (Dec)", crval.1)?;
        check("CRPIX1", crpix.0)?;
        check("CRPIX2", crpix.1)?;
        check("PV (SIN xi)", pv.0)?;
        check("PV (SIN eta)", pv.1)?;
        for row in cd {
            for v in row {
                check("CDELT/CD", v)?;
            }
        }
        if crval.1.abs() > 90.0 {
            return Err(WcsError::InvalidValue {
                keyword: "CRVAL (Dec)".into(),
                value: crval.1,
                reason: "a declination must lie within +-90 degrees",
            });
        }
        let plane = match projection {
            Projection::Sin => PlaneMap::Sin {
                xi: pv.0,
                eta: pv.1,
            },
            Projection::Ncp => {
                if crval.1 == 0.0 {
                    return Err(WcsError::InvalidValue {
                        keyword: "CRVAL (Dec)".into(),
                        value: crval.1,
                        reason: "NCP is undefined at declination 0",
                    });
                }
                PlaneMap::Sin {
                    xi: 0.0,
                    eta: 1.0 / crval.1.to_radians().tan(),
                }
            }
            Projection::Tan => PlaneMap::Tan,
            Projection::Arc => PlaneMap::Arc,
            Projection::Car => PlaneMap::Car,
        };
        let cd_inverse = invert(&cd)?;
        let rotation = Rotation::new(crval, projection.theta0_deg(), lonpole, latpole)?;
        Ok(Wcs {
            projection,
            crval,
            crpix,
            cd,
            frame,
            plane,
            rotation,
            cd_inverse,
            pv: match projection {
                Projection::Sin => pv,
                _ => (0.0, 0.0),
            },
        })
    }

    /// Sky position (RA in [0, 360), Dec) in degrees of the 0-based pixel (x, y),
    /// or `None` where the projection is undefined (off the visible sphere).
    pub fn pixel_to_sky(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        let (dx, dy) = (x - self.crpix.0, y - self.crpix.1);
        let u = self.cd[0][0] * dx + self.cd[0][1] * dy;
        let v = self.cd[1][0] * dx + self.cd[1][1] * dy;
        let (phi, theta) = self.plane.inverse(u, v)?;
        let (alpha, delta) = self.rotation.celestial_of(phi, theta);
        let ra = alpha.to_degrees().rem_euclid(360.0);
        // rem_euclid can round up to exactly 360 for tiny negative angles.
        let ra = if ra >= 360.0 { 0.0 } else { ra };
        Some((ra, delta.to_degrees())).filter(|(a, d)| a.is_finite() && d.is_finite())
    }

    /// 0-based pixel position of the sky position (RA, Dec) in degrees, or `None`
    /// where it does not project (the far hemisphere of SIN and TAN).
    pub fn sky_to_pixel(&self, ra_deg: f64, dec_deg: f64) -> Option<(f64, f64)> {
        if !ra_deg.is_finite() || !dec_deg.is_finite() || dec_deg.abs() > 90.0 {
            return None;
        }
        let (phi, theta) = self
            .rotation
            .native_of(ra_deg.to_radians(), dec_deg.to_radians());
        let (u, v) = self.plane.forward(phi, theta)?;
        let m = &self.cd_inverse;
        let x = self.crpix.0 + m[0][0] * u + m[0][1] * v;
        let y = self.crpix.1 + m[1][0] * u + m[1][1] * v;
        Some((x, y)).filter(|(x, y)| x.is_finite() && y.is_finite())
    }

    /// Size of a pixel step along x and along y, in degrees (absolute values), at
    /// the reference point.
    pub fn pixel_scale_deg(&self) -> (f64, f64) {
        (
            self.cd[0][0].hypot(self.cd[1][0]),
            self.cd[0][1].hypot(self.cd[1][1]),
        )
    }

    /// Solid angle of one pixel at the reference point, in square degrees.
    pub fn pixel_area_sq_deg(&self) -> f64 {
        (self.cd[0][0] * self.cd[1][1] - self.cd[0][1] * self.cd[1][0]).abs()
    }

    /// The WCS of a sub-image whose pixel (0, 0) is pixel (dx, dy) of this image.
    pub fn offset(&self, dx: f64, dy: f64) -> Wcs {
        Wcs {
            crpix: (self.crpix.0 - dx, self.crpix.1 - dy),
            ..self.clone()
        }
    }

    /// The WCS of the region `width` x `height` pixels starting at pixel (x0, y0)
    /// of this image after resampling it to `new_width` x `new_height` pixels
    /// (e.g. a 100x100 cutout shrunk to 64x64). Pixel edges are kept aligned: the
    /// outer edges of the new grid are the outer edges of the region, so new pixel
    /// centre u lies at old x = x0 - 0.5 + (u + 0.5) * width / new_width.
    ///
    /// Fails when a size is not positive or the origin is not finite.
    pub fn resampled(
        &self,
        x0: f64,
        y0: f64,
        width: f64,
        height: f64,
        new_width: usize,
        new_height: usize,
    ) -> Result<Wcs, WcsError> {
        for (keyword, value) in [
            ("region width", width),
            ("region height", height),
            ("new width", new_width as f64),
            ("new height", new_height as f64),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(WcsError::InvalidValue {
                    keyword: keyword.into(),
                    value,
                    reason: "a resampled region needs a positive size",
                });
            }
        }
        for (keyword, value) in [("region x0", x0), ("region y0", y0)] {
            if !value.is_finite() {
                return Err(WcsError::InvalidValue {
                    keyword: keyword.into(),
                    value,
                    reason: "not a finite number",
                });
            }
        }
        let sx = width / new_width as f64;
        let sy = height / new_height as f64;
        // old = s * new + (origin - 0.5 + 0.5 s), so new = (old - that) / s.
        let crpix = (
            (self.crpix.0 - (x0 - 0.5 + 0.5 * sx)) / sx,
            (self.crpix.1 - (y0 - 0.5 + 0.5 * sy)) / sy,
        );
        let cd = [
            [self.cd[0][0] * sx, self.cd[0][1] * sy],
            [self.cd[1][0] * sx, self.cd[1][1] * sy],
        ];
        Ok(Wcs {
            crpix,
            cd,
            cd_inverse: invert(&cd)?,
            ..self.clone()
        })
    }

    /// Header cards that describe this WCS on a 2-axis image (RA on axis 1, Dec on
    /// axis 2): CTYPE, CRVAL, CRPIX (1-based), CDELT or a CD matrix, CUNIT,
    /// LONPOLE/LATPOLE, PV2_1/PV2_2 for slanted SIN, RADESYS and EQUINOX.
    pub fn to_cards(&self) -> Vec<(String, CardValue)> {
        let code = self.projection.code();
        let mut cards: Vec<(String, CardValue)> = vec![
            ("CTYPE1".into(), format!("RA---{code}").as_str().into()),
            ("CRVAL1".into(), self.crval.0.into()),
            ("CRPIX1".into(), (self.crpix.0 + 1.0).into()),
            ("CUNIT1".into(), "deg".into()),
            ("CTYPE2".into(), format!("DEC--{code}").as_str().into()),
            ("CRVAL2".into(), self.crval.1.into()),
            ("CRPIX2".into(), (self.crpix.1 + 1.0).into()),
            ("CUNIT2".into(), "deg".into()),
        ];
        if self.cd[0][1] == 0.0 && self.cd[1][0] == 0.0 {
            cards.push(("CDELT1".into(), self.cd[0][0].into()));
            cards.push(("CDELT2".into(), self.cd[1][1].into()));
        } else {
            for (i, row) in self.cd.iter().enumerate() {
                for (j, v) in row.iter().enumerate() {
                    cards.push((format!("CD{}_{}", i + 1, j + 1), (*v).into()));
                }
            }
        }
        if self.pv != (0.0, 0.0) {
            cards.push(("PV2_1".into(), self.pv.0.into()));
            cards.push(("PV2_2".into(), self.pv.1.into()));
        }
        cards.push(("LONPOLE".into(), self.rotation.lonpole_deg().into()));
        cards.push(("LATPOLE".into(), self.rotation.latpole_deg().into()));
        cards.extend(self.frame.cards());
        cards
    }

    pub fn projection(&self) -> Projection {
        self.projection
    }

    /// Reference sky position (CRVAL), degrees.
    pub fn reference_sky(&self) -> (f64, f64) {
        self.crval
    }

    /// Reference pixel, 0-based (CRPIX - 1).
    pub fn reference_pixel(&self) -> (f64, f64) {
        self.crpix
    }

    /// Degrees per pixel; rows RA and Dec, columns x and y.
    pub fn cd_matrix(&self) -> [[f64; 2]; 2] {
        self.cd
    }

    pub fn frame(&self) -> Frame {
        self.frame
    }
}

/// The inverse of a 2x2 matrix, refusing singular ones.
fn invert(m: &[[f64; 2]; 2]) -> Result<[[f64; 2]; 2], WcsError> {
    let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    if det == 0.0 || !det.is_finite() {
        return Err(WcsError::SingularMatrix);
    }
    Ok([
        [m[1][1] / det, -m[0][1] / det],
        [-m[1][0] / det, m[0][0] / det],
    ])
}

/// Finds the RA and DEC axes (1-based FITS axis numbers) and their common projection.
fn celestial_axes<H: HeaderLookup + ?Sized>(
    header: &H,
) -> Result<(usize, usize, Projection), WcsError> {
    let declared = header
        .number("WCSAXES")
        .into_iter()
        .chain(header.number("NAXIS"))
        .fold(0.0, f64::max);
    let n_axes = (declared.max(2.0) as usize).min(MAX_AXES_SEARCHED);
    let mut lng = None;
    let mut lat = None;
    for axis in 1..=n_axes {
        let Some(ctype) = header.text(&format!("CTYPE{axis}")) else {
            continue;
        };
        let ctype = ctype.trim().to_ascii_uppercase();
        // A byte offset, not a character count: a non-ASCII byte in a corrupt card must
        // not land the split inside a character (it then matches no known axis type).
        let split = (0..=ctype.len().min(4))
            .rev()
            .find(|&i| ctype.is_char_boundary(i))
            .unwrap_or(0);
        let (kind, code) = ctype.split_at(split);
        let code = code.trim_start_matches('-').to_string();
        match kind {
            "RA--" | "RA" => lng = Some((axis, code, ctype.clone())),
            "DEC-" => lat = Some((axis, code, ctype.clone())),
            _ => {}
        }
    }
    match (lng, lat) {
        (Some((lng_axis, lng_code, _)), Some((lat_axis, lat_code, _))) => {
            if lng_code != lat_code {
                return Err(WcsError::MixedProjections(lng_code, lat_code));
            }
            let projection = Projection::from_code(&lng_code)
                .ok_or(WcsError::UnsupportedProjection(lng_code))?;
            Ok((lng_axis, lat_axis, projection))
        }
        (Some((_, _, ctype)), None) | (None, Some((_, _, ctype))) => {
            Err(WcsError::OneCelestialAxis(ctype))
        }
        (None, None) => Err(WcsError::NoCelestialAxes),
    }
}

/// The 2x2 matrix from image pixel offsets (x, y) to intermediate (RA, Dec)
/// coordinates in degrees, from CDELTi with PCi_j, or CDi_j, or CDELTi with CROTAi.
fn pixel_matrix<H: HeaderLookup + ?Sized>(
    header: &H,
    lng_axis: usize,
    lat_axis: usize,
) -> Result<[[f64; 2]; 2], WcsError> {
    let world = [lng_axis, lat_axis];
    let any_of = |key: &dyn Fn(usize, usize) -> Option<f64>| {
        world.iter().any(|&i| (1..=2).any(|j| key(i, j).is_some()))
    };
    let pc_key = |i: usize, j: usize| {
        header
            .number(&format!("PC{i}_{j}"))
            .or_else(|| header.number(&format!("PC{i:03}{j:03}")))
    };
    let cd_key = |i: usize, j: usize| header.number(&format!("CD{i}_{j}"));
    // WCSLIB's precedence: PC (with CDELT), then CD, then CDELT with CROTA.
    let has_pc = any_of(&pc_key);
    if !has_pc && any_of(&cd_key) {
        return Ok(world.map(|i| [1, 2].map(|j| cd_key(i, j).unwrap_or(0.0))));
    }
    let cdelt = |axis: usize| {
        header
            .number(&format!("CDELT{axis}"))
            .ok_or(WcsError::NoPixelScale { axis })
    };
    let (cdelt_lng, cdelt_lat) = (cdelt(lng_axis)?, cdelt(lat_axis)?);
    if has_pc {
        let cdelt_of = |axis: usize| {
            if axis == lng_axis {
                cdelt_lng
            } else {
                cdelt_lat
            }
        };
        return Ok(world.map(|i| {
            [1, 2].map(|j| cdelt_of(i) * pc_key(i, j).unwrap_or(if i == j { 1.0 } else { 0.0 }))
        }));
    }
    let rho = header
        .number(&format!("CROTA{lat_axis}"))
        .or_else(|| header.number(&format!("CROTA{lng_axis}")))
        .unwrap_or(0.0)
        .to_radians();
    let (sin_r, cos_r) = rho.sin_cos();
    // Paper II eq. 188, in FITS axis numbers; then columns placed by pixel axis.
    let mut by_axis = [[0.0; 3]; 3];
    by_axis[lng_axis][lng_axis] = cdelt_lng * cos_r;
    by_axis[lng_axis][lat_axis] = -cdelt_lat * sin_r;
    by_axis[lat_axis][lng_axis] = cdelt_lng * sin_r;
    by_axis[lat_axis][lat_axis] = cdelt_lat * cos_r;
    Ok(world.map(|i| [by_axis[i][1], by_axis[i][2]]))
}
