//! Header values as the WCS code sees them, independent of any FITS library.

use serde::Serialize;

/// The value of one FITS header card.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CardValue {
    Logical(bool),
    Integer(i64),
    Real(f64),
    Text(String),
}

impl CardValue {
    /// The value as a number, for integer and real cards.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            CardValue::Integer(v) => Some(*v as f64),
            CardValue::Real(v) => Some(*v),
            _ => None,
        }
    }

    /// The value as text, for string cards (trailing blanks removed, as FITS intends).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            CardValue::Text(s) => Some(s.trim_end()),
            _ => None,
        }
    }
}

impl From<f64> for CardValue {
    fn from(v: f64) -> Self {
        CardValue::Real(v)
    }
}

impl From<i64> for CardValue {
    fn from(v: i64) -> Self {
        CardValue::Integer(v)
    }
}

impl From<&str> for CardValue {
    fn from(v: &str) -> Self {
        CardValue::Text(v.to_string())
    }
}

impl From<bool> for CardValue {
    fn from(v: bool) -> Self {
        CardValue::Logical(v)
    }
}

/// Looks header cards up by keyword (upper case, as FITS writes them).
///
/// Implemented for closures `Fn(&str) -> Option<CardValue>` and for card lists
/// `[(String, CardValue)]` (what [`crate::Wcs::to_cards`] returns), so a WCS can be
/// read from any header source without this crate knowing about FITS files.
pub trait HeaderLookup {
    fn card(&self, keyword: &str) -> Option<CardValue>;

    fn number(&self, keyword: &str) -> Option<f64> {
        self.card(keyword)?.as_f64()
    }

    fn text(&self, keyword: &str) -> Option<String> {
        self.card(keyword)?.as_str().map(str::to_string)
    }
}

impl<F: Fn(&str) -> Option<CardValue>> HeaderLookup for F {
    fn card(&self, keyword: &str) -> Option<CardValue> {
        self(keyword)
    }
}

impl HeaderLookup for [(String, CardValue)] {
    /// The last card with this keyword wins, as in FITS readers.
    fn card(&self, keyword: &str) -> Option<CardValue> {
        self.iter()
            .rev()
            .find(|(k, _)| k == keyword)
            .map(|(_, v)| v.clone())
    }
}
