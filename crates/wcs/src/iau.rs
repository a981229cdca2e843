//! IAU source names and sexagesimal formatting.
//!
//! IAU names truncate (never round) each field: a source at RA 12h38m59.99s is
//! `J1238...`, not `J1239`. The display helpers [`format_ra_hms`] and
//! [`format_dec_dms`] round to the requested decimals, carrying into minutes,
//! degrees and hours as needed.

/// Whether the last digit is truncated (IAU names) or rounded (display).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    Truncate,
    Round,
}

/// A non-negative angle split into whole units, minutes, seconds and the
/// fractional seconds as an integer of `decimals` digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sexagesimal {
    whole: u64,
    minutes: u64,
    seconds: u64,
    fraction: u64,
}

/// Floating-point slack when truncating: a value that should be exactly on a
/// digit boundary (e.g. 45.12 s) may arrive as 45.1199999999; this much of the
/// last digit is forgiven (1e-6 of 0.01 s is 10 nanoseconds of RA).
const TRUNCATION_SLACK: f64 = 1e-6;

fn split(value: f64, decimals: u32, cut: Cut) -> Sexagesimal {
    let scale = 10u64.pow(decimals);
    let units = value * 3600.0 * scale as f64;
    let total = match cut {
        Cut::Truncate => (units + TRUNCATION_SLACK).floor(),
        Cut::Round => units.round(),
    } as u64;
    let fraction = total % scale;
    let seconds_total = total / scale;
    Sexagesimal {
        whole: seconds_total / 3600,
        minutes: (seconds_total / 60) % 60,
        seconds: seconds_total % 60,
        fraction,
    }
}

fn valid(ra_deg: f64, dec_deg: f64) -> bool {
    ra_deg.is_finite() && dec_deg.is_finite() && dec_deg.abs() <= 90.0
}

fn ra_hours(ra_deg: f64) -> f64 {
    ra_deg.rem_euclid(360.0) / 15.0
}

fn sign(dec_deg: f64) -> char {
    if dec_deg < 0.0 {
        '-'
    } else {
        '+'
    }
}

/// The short IAU name `JHHMM+DDMM` (fields truncated), e.g. `J1238-4813`;
/// `None` for a non-finite position or |Dec| > 90.
pub fn iau_name(ra_deg: f64, dec_deg: f64) -> Option<String> {
    if !valid(ra_deg, dec_deg) {
        return None;
    }
    let ra = split(ra_hours(ra_deg), 0, Cut::Truncate);
    let dec = split(dec_deg.abs(), 0, Cut::Truncate);
    Some(format!(
        "J{:02}{:02}{}{:02}{:02}",
        ra.whole,
        ra.minutes,
        sign(dec_deg),
        dec.whole,
        dec.minutes
    ))
}

/// The full-precision IAU name `JHHMMSS.ss+DDMMSS.s` (fields truncated), e.g.
/// `J123845.12-481312.3`; `None` for a non-finite position or |Dec| > 90.
pub fn iau_name_full(ra_deg: f64, dec_deg: f64) -> Option<String> {
    if !valid(ra_deg, dec_deg) {
        return None;
    }
    let ra = split(ra_hours(ra_deg), 2, Cut::Truncate);
    let dec = split(dec_deg.abs(), 1, Cut::Truncate);
    Some(format!(
        "J{:02}{:02}{:02}.{:02}{}{:02}{:02}{:02}.{:01}",
        ra.whole,
        ra.minutes,
        ra.seconds,
        ra.fraction,
        sign(dec_deg),
        dec.whole,
        dec.minutes,
        dec.seconds,
        dec.fraction
    ))
}

fn join(s: Sexagesimal, decimals: u32) -> String {
    let base = format!("{:02}:{:02}:{:02}", s.whole, s.minutes, s.seconds);
    if decimals == 0 {
        base
    } else {
        format!("{base}.{:0width$}", s.fraction, width = decimals as usize)
    }
}

/// Right ascension as `HH:MM:SS.sss` with `decimals` decimals, rounded
/// (24:00:00 wraps to 00:00:00). Non-finite input gives `"nan"`.
pub fn format_ra_hms(ra_deg: f64, decimals: u32) -> String {
    if !ra_deg.is_finite() {
        return "nan".into();
    }
    let mut s = split(ra_hours(ra_deg), decimals, Cut::Round);
    s.whole %= 24;
    join(s, decimals)
}

/// Declination as `+DD:MM:SS.ss` with `decimals` decimals, rounded. Non-finite
/// input gives `"nan"`.
pub fn format_dec_dms(dec_deg: f64, decimals: u32) -> String {
    if !dec_deg.is_finite() {
        return "nan".into();
    }
    let s = split(dec_deg.abs(), decimals, Cut::Round);
    // A value that rounds to zero has no sign to show.
    let zero = s
        == Sexagesimal {
            whole: 0,
            minutes: 0,
            seconds: 0,
            fraction: 0,
        };
    let sign = if zero { '+' } else { sign(dec_deg) };
    format!("{sign}{}", join(s, decimals))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RA in degrees from h, m, s.
    fn ra(h: f64, m: f64, s: f64) -> f64 {
        15.0 * (h + m / 60.0 + s / 3600.0)
    }

    /// Dec in degrees from sign, d, m, s.
    fn dec(negative: bool, d: f64, m: f64, s: f64) -> f64 {
        let v = d + m / 60.0 + s / 3600.0;
        if negative {
            -v
        } else {
            v
        }
    }

    #[test]
    fn names_truncate_every_field() {
        let (r, d) = (ra(12.0, 38.0, 45.129), dec(true, 48.0, 13.0, 12.39));
        assert_eq!(iau_name(r, d).unwrap(), "J1238-4813");
        assert_eq!(iau_name_full(r, d).unwrap(), "J123845.12-481312.3");
    }

    #[test]
    fn fifty_nine_point_nine_nine_seconds_do_not_round_up() {
        let (r, d) = (ra(12.0, 38.0, 59.999), dec(false, 48.0, 59.0, 59.99));
        assert_eq!(iau_name(r, d).unwrap(), "J1238+4859");
        assert_eq!(iau_name_full(r, d).unwrap(), "J123859.99+485959.9");
        let r = ra(23.0, 59.0, 59.999);
        assert_eq!(iau_name(r, 0.0).unwrap(), "J2359+0000");
        assert_eq!(iau_name_full(r, 0.0).unwrap(), "J235959.99+000000.0");
    }

    #[test]
    fn small_negative_declinations_keep_their_sign() {
        // -0 deg 09': the degrees field is zero, the sign must still be minus.
        let d = dec(true, 0.0, 9.0, 30.0);
        assert_eq!(iau_name(10.0, d).unwrap(), "J0040-0009");
        assert_eq!(iau_name_full(10.0, d).unwrap(), "J004000.00-000930.0");
        assert_eq!(iau_name(10.0, -1e-9).unwrap(), "J0040-0000");
        assert_eq!(iau_name(10.0, 0.0).unwrap(), "J0040+0000");
    }

    #[test]
    fn exact_field_boundaries_survive_floating_point() {
        // 45.12 s is not representable; truncation must not give 45.11.
        for cs in 0..100 {
            let s = 45.0 + cs as f64 / 100.0;
            let name = iau_name_full(ra(1.0, 2.0, s), 30.0).unwrap();
            assert_eq!(&name[5..10], format!("{s:05.2}"), "{name}");
        }
    }

    #[test]
    fn ra_wraps_into_zero_to_twenty_four_hours() {
        assert_eq!(iau_name(-15.0, 10.0).unwrap(), "J2300+1000");
        assert_eq!(iau_name(375.0, 10.0).unwrap(), "J0100+1000");
        assert!(iau_name(f64::NAN, 10.0).is_none());
        assert!(iau_name(10.0, 91.0).is_none());
    }

    #[test]
    fn display_formats_round_and_carry() {
        assert_eq!(format_ra_hms(ra(12.0, 38.0, 59.9996), 3), "12:39:00.000");
        assert_eq!(format_ra_hms(ra(23.0, 59.0, 59.9999), 2), "00:00:00.00");
        assert_eq!(format_ra_hms(ra(5.0, 4.0, 3.25), 1), "05:04:03.3");
        assert_eq!(
            format_dec_dms(dec(true, 48.0, 13.0, 12.345), 2),
            "-48:13:12.35"
        );
        assert_eq!(format_dec_dms(dec(true, 0.0, 9.0, 0.0), 0), "-00:09:00");
        assert_eq!(format_dec_dms(-1e-9, 1), "+00:00:00.0");
        assert_eq!(
            format_dec_dms(dec(false, 89.0, 59.0, 59.99), 1),
            "+90:00:00.0"
        );
        assert_eq!(format_dec_dms(f64::NAN, 1), "nan");
    }
}
