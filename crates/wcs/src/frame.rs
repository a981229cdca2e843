//! The celestial reference system of RA/Dec (RADESYS and EQUINOX).

use serde::Serialize;

use crate::{HeaderLookup, WcsError};

/// Which equatorial system the coordinates are in. Prospector treats FK5 J2000 and
/// ICRS alike (they differ by tens of milliarcseconds); FK4 is recognised and
/// reported so callers can warn, but not converted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Frame {
    Icrs,
    Fk5 { equinox: f64 },
    Fk4 { equinox: f64 },
}

impl Frame {
    /// RADESYS (or the older RADECSYS) and EQUINOX (or the older EPOCH), with the
    /// defaults of the FITS WCS standard: no RADESYS means FK4 for equinoxes before
    /// 1984, FK5 after, and ICRS when there is no equinox either.
    pub(crate) fn from_header<H: HeaderLookup + ?Sized>(header: &H) -> Result<Self, WcsError> {
        let equinox = header.number("EQUINOX").or_else(|| header.number("EPOCH"));
        let system = header.text("RADESYS").or_else(|| header.text("RADECSYS"));
        match system.as_deref().map(str::trim) {
            Some("ICRS") => Ok(Frame::Icrs),
            Some("FK5") => Ok(Frame::Fk5 {
                equinox: equinox.unwrap_or(2000.0),
            }),
            Some("FK4") | Some("FK4-NO-E") => Ok(Frame::Fk4 {
                equinox: equinox.unwrap_or(1950.0),
            }),
            Some(other) if !other.is_empty() => Err(WcsError::UnsupportedFrame(other.to_string())),
            _ => Ok(match equinox {
                Some(e) if e < 1984.0 => Frame::Fk4 { equinox: e },
                Some(e) => Frame::Fk5 { equinox: e },
                None => Frame::Icrs,
            }),
        }
    }

    pub fn is_fk4(&self) -> bool {
        matches!(self, Frame::Fk4 { .. })
    }

    /// RADESYS and, except for ICRS, EQUINOX cards.
    pub(crate) fn cards(&self) -> Vec<(String, crate::CardValue)> {
        match *self {
            Frame::Icrs => vec![("RADESYS".into(), "ICRS".into())],
            Frame::Fk5 { equinox } => vec![
                ("RADESYS".into(), "FK5".into()),
                ("EQUINOX".into(), equinox.into()),
            ],
            Frame::Fk4 { equinox } => vec![
                ("RADESYS".into(), "FK4".into()),
                ("EQUINOX".into(), equinox.into()),
            ],
        }
    }
}

impl std::fmt::Display for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Frame::Icrs => write!(f, "ICRS"),
            Frame::Fk5 { equinox } => write!(f, "FK5 J{equinox}"),
            Frame::Fk4 { equinox } => write!(f, "FK4 B{equinox}"),
        }
    }
}
