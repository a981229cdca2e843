//! FITS header cards as bytes: the one place this crate formats cards, for the
//! image writer and the bad-input generator alike.

use prospector_wcs::CardValue;

use crate::header::BLOCK;

/// Characters of a quoted string value that fit on one card (columns 12-79).
pub(crate) const MAX_STRING_CHARS: usize = 68;
/// Characters of COMMENT/HISTORY text that fit on one card (columns 9-80).
pub(crate) const MAX_COMMENTARY_CHARS: usize = 72;

/// `n` rounded up to whole FITS blocks.
pub(crate) fn padded(n: usize) -> usize {
    n.div_ceil(BLOCK) * BLOCK
}

/// Header bytes: the cards in order, END, blank padding to a whole block.
pub(crate) fn header_bytes<K: AsRef<str>>(cards: &[(K, CardValue)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(padded((cards.len() + 1) * 80));
    for (keyword, value) in cards {
        out.extend_from_slice(format_card(keyword.as_ref(), value).as_bytes());
    }
    out.extend_from_slice(format!("{:<80}", "END").as_bytes());
    out.resize(padded(out.len()), b' ');
    out
}

/// One 80-character card: values right-justified to column 30 (fixed format)
/// where they fit, strings quoted from column 11. Callers keep strings within
/// [`MAX_STRING_CHARS`] and commentary within [`MAX_COMMENTARY_CHARS`].
fn format_card(keyword: &str, value: &CardValue) -> String {
    let card = match (keyword, value) {
        ("HISTORY" | "COMMENT", CardValue::Text(text)) => format!("{keyword:<8}{text}"),
        (_, CardValue::Logical(b)) => format!("{keyword:<8}= {:>20}", if *b { "T" } else { "F" }),
        (_, CardValue::Integer(v)) => format!("{keyword:<8}= {v:>20}"),
        (_, CardValue::Real(v)) => format!("{keyword:<8}= {:>20}", format_real(*v)),
        (_, CardValue::Text(s)) => format!("{keyword:<8}= '{:<8}'", s.replace('\'', "''")),
    };
    format!("{card:<80}").chars().take(80).collect()
}

/// The shortest decimal that reads back as exactly `v`, in FITS exponent form
/// (`-4.1666666666666665E-04`): header reals survive a write and read unchanged.
fn format_real(v: f64) -> String {
    let s = format!("{v:E}");
    match s.split_once('E') {
        Some((mantissa, exponent)) => {
            let e: i32 = exponent.parse().unwrap_or(0);
            let dot = if mantissa.contains('.') { "" } else { ".0" };
            format!("{mantissa}{dot}E{e:+03}")
        }
        None => s,
    }
}

/// Length of a string value once quotes inside it are doubled.
pub(crate) fn quoted_len(s: &str) -> usize {
    s.len() + s.matches('\'').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reals_round_trip_exactly_in_fits_form() {
        for v in [
            0.002 / 0.96,
            -1.5 / 3600.0,
            255.449637133,
            0.0,
            1e300,
            -7.0,
            2.5e-310,
        ] {
            let s = format_real(v);
            assert!(s.contains('.') && s.contains("E"), "{s}");
            assert_eq!(s.parse::<f64>().unwrap(), v, "{s}");
        }
        assert_eq!(format_real(-7.0), "-7.0E+00");
        assert_eq!(format_real(0.00125), "1.25E-03");
    }

    #[test]
    fn cards_are_eighty_columns_with_values_in_place() {
        let header = header_bytes(&[
            ("NAXIS1", CardValue::Integer(64)),
            ("CTYPE1", "RA---SIN".into()),
        ]);
        assert_eq!(header.len(), BLOCK);
        let text = String::from_utf8(header).unwrap();
        assert_eq!(&text[..30], "NAXIS1  =                   64");
        assert_eq!(&text[80..100], "CTYPE1  = 'RA---SIN'");
        assert_eq!(&text[160..163], "END");
    }
}
