//! The restoring beam from BMAJ/BMIN/BPA cards or, failing those, from the
//! HISTORY cards AIPS (and tools copying its style) write after CLEAN:
//! `HISTORY AIPS   CLEAN BMAJ=  1.2345E-03 BMIN=  1.0000E-03 BPA=  45.00`.

use prospector_image::Beam;

use crate::header::Header;

/// Why the header gives no usable beam (the path is added by the caller).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum BeamFault {
    Missing,
    Invalid(String),
}

/// The beam the header describes, in degrees.
pub(crate) fn beam_from_header(header: &Header) -> Result<Beam, BeamFault> {
    let number = |k: &str| header.value(k).and_then(|v| v.as_f64());
    let (major, minor, pa, source) = match (number("BMAJ"), number("BMIN")) {
        (Some(major), Some(minor)) => (major, minor, number("BPA"), "BMAJ/BMIN cards"),
        (Some(_), None) | (None, Some(_)) => {
            return Err(BeamFault::Invalid(
                "only one of BMAJ and BMIN is given".into(),
            ))
        }
        (None, None) => {
            // The last CLEAN in the history is the one that made these pixels.
            let found = header.history().filter_map(parse_history_beam).last();
            let (major, minor, pa) = found.ok_or(BeamFault::Missing)?;
            (major, minor, pa, "a HISTORY card")
        }
    };
    let pa = pa.unwrap_or_else(|| {
        tracing::warn!("restoring beam from {source} has no position angle; using BPA = 0");
        0.0
    });
    for (name, v) in [("BMAJ", major), ("BMIN", minor)] {
        if !(v.is_finite() && v > 0.0) {
            return Err(BeamFault::Invalid(format!(
                "{name} = {v} (must be a positive size in degrees)"
            )));
        }
    }
    if !pa.is_finite() {
        return Err(BeamFault::Invalid(format!("BPA = {pa}")));
    }
    Ok(Beam {
        major_deg: major,
        minor_deg: minor,
        pa_deg: pa,
    })
}

/// BMAJ, BMIN and (optional) BPA from one HISTORY card's text.
fn parse_history_beam(text: &str) -> Option<(f64, f64, Option<f64>)> {
    let after = |key: &str| -> Option<f64> {
        let start = text.find(key)? + key.len();
        let token = text[start..].split_whitespace().next()?;
        token.replace(['D', 'd'], "E").parse().ok()
    };
    Some((after("BMAJ=")?, after("BMIN=")?, after("BPA=")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aips_clean_history_cards_give_the_beam() {
        let text = "AIPS   CLEAN BMAJ=  1.2345E-03 BMIN=  1.0000E-03 BPA=  45.00";
        assert_eq!(
            parse_history_beam(text),
            Some((1.2345e-3, 1.0e-3, Some(45.0)))
        );
        assert_eq!(
            parse_history_beam("AIPS   CLEAN BMAJ=  2.0D-03 BMIN=  1.0D-03"),
            Some((2.0e-3, 1.0e-3, None))
        );
        assert_eq!(parse_history_beam("AIPS   CLEAN NITER=  1000"), None);
    }
}
