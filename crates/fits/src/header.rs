//! Reads the primary header in pure Rust, before cfitsio sees the file, so
//! that the shape a header claims can be checked (and absurd claims refused)
//! before anything is allocated, and so every card (HISTORY included) is at hand.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use prospector_wcs::{CardValue, HeaderLookup};

use crate::FitsError;

/// Bytes in a FITS block; headers and data are padded to whole blocks.
pub(crate) const BLOCK: usize = 2880;
const CARD: usize = 80;
/// Headers longer than this (about 360 000 cards) are treated as corrupt rather
/// than read on until memory runs out.
const MAX_HEADER_BLOCKS: usize = 10_000;

/// One 80-character header card.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    pub keyword: String,
    /// The value, for `KEYWORD = value` cards whose value parses.
    pub value: Option<CardValue>,
    /// Columns 9-80 without trailing blanks: the text of COMMENT and HISTORY cards.
    pub text: String,
}

/// The cards of a primary header, in order.
#[derive(Debug, Clone, Default)]
pub struct Header {
    cards: Vec<Card>,
}

impl Header {
    pub fn cards(&self) -> &[Card] {
        &self.cards
    }

    /// The value of the last card with this keyword (upper case).
    pub fn value(&self, keyword: &str) -> Option<&CardValue> {
        self.cards
            .iter()
            .rev()
            .find(|c| c.keyword == keyword)
            .and_then(|c| c.value.as_ref())
    }

    /// The text of every HISTORY card, in order.
    pub fn history(&self) -> impl Iterator<Item = &str> {
        self.cards
            .iter()
            .filter(|c| c.keyword == "HISTORY")
            .map(|c| c.text.as_str())
    }
}

impl HeaderLookup for Header {
    fn card(&self, keyword: &str) -> Option<CardValue> {
        self.value(keyword).cloned()
    }
}

/// Whether the file starts with the gzip magic number.
pub(crate) fn is_gzip(path: &Path) -> Result<bool, FitsError> {
    let mut magic = [0u8; 2];
    let mut file = open(path)?;
    match file.read_exact(&mut magic) {
        Ok(()) => Ok(magic == [0x1f, 0x8b]),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(source) => Err(FitsError::Io {
            path: path.to_path_buf(),
            action: "read",
            source,
        }),
    }
}

fn open(path: &Path) -> Result<File, FitsError> {
    File::open(path).map_err(|source| FitsError::Io {
        path: path.to_path_buf(),
        action: "open",
        source,
    })
}

/// Reads the primary header (decompressing a gzip file as far as the header
/// only). Returns the header and its length in bytes, padding included.
pub(crate) fn read_primary_header(path: &Path, gzip: bool) -> Result<(Header, u64), FitsError> {
    let file = BufReader::new(open(path)?);
    let mut reader: Box<dyn Read> = if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let truncated = |reason: String| FitsError::Truncated {
        path: path.to_path_buf(),
        reason,
    };
    let mut cards = Vec::new();
    let mut block = vec![0u8; BLOCK];
    for block_index in 0..MAX_HEADER_BLOCKS {
        if let Err(e) = read_block(&mut reader, &mut block) {
            return Err(match e.kind() {
                std::io::ErrorKind::UnexpectedEof if block_index == 0 && cards.is_empty() => {
                    first_block_fault(path, &block)
                }
                std::io::ErrorKind::UnexpectedEof => truncated(format!(
                    "the header ends after {block_index} blocks without an END card"
                )),
                _ if gzip => truncated(format!("gzip stream is corrupt: {e}")),
                _ => FitsError::Io {
                    path: path.to_path_buf(),
                    action: "read",
                    source: e,
                },
            });
        }
        if block_index == 0 && !block.starts_with(b"SIMPLE  =") {
            return Err(not_fits(path, &block));
        }
        for raw in block.chunks(CARD) {
            let card = parse_card(raw);
            if card.keyword == "END" {
                return Ok((Header { cards }, ((block_index + 1) * BLOCK) as u64));
            }
            cards.push(card);
        }
    }
    Err(truncated(format!(
        "no END card in the first {MAX_HEADER_BLOCKS} header blocks"
    )))
}

/// Bytes in a gzip file once decompressed, streaming (constant memory).
pub(crate) fn decompressed_length(path: &Path) -> Result<u64, FitsError> {
    let mut decoder = flate2::read::MultiGzDecoder::new(BufReader::new(open(path)?));
    std::io::copy(&mut decoder, &mut std::io::sink()).map_err(|e| FitsError::Truncated {
        path: path.to_path_buf(),
        reason: format!("the gzip stream is corrupt or cut short: {e}"),
    })
}

/// Fills `block` completely or fails with UnexpectedEof; on failure the bytes
/// read so far stay at the start of `block` (zeros after them).
fn read_block(reader: &mut dyn Read, block: &mut [u8]) -> std::io::Result<()> {
    block.fill(0);
    let mut filled = 0;
    while filled < block.len() {
        match reader.read(&mut block[filled..]) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The fault of a file shorter than one block: a cut-off FITS header, or not FITS.
fn first_block_fault(path: &Path, partial: &[u8]) -> FitsError {
    if partial.iter().all(|&b| b == 0) {
        FitsError::Truncated {
            path: path.to_path_buf(),
            reason: "the file is empty".into(),
        }
    } else if partial.starts_with(b"SIMPLE  =") {
        FitsError::Truncated {
            path: path.to_path_buf(),
            reason: "the file ends inside its first header block".into(),
        }
    } else {
        not_fits(path, partial)
    }
}

fn not_fits(path: &Path, start: &[u8]) -> FitsError {
    let shown: String = String::from_utf8_lossy(&start[..start.len().min(20)])
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '.'
            }
        })
        .collect();
    FitsError::NotFits {
        path: path.to_path_buf(),
        reason: format!(
            "it does not start with 'SIMPLE  =' but with \"{}\"",
            shown.trim_end()
        ),
    }
}

/// Parses one card in FITS fixed or free format.
fn parse_card(raw: &[u8]) -> Card {
    let text = String::from_utf8_lossy(raw);
    let keyword = text.get(..8).unwrap_or(&text).trim_end().to_string();
    let rest = text.get(8..).unwrap_or("").trim_end().to_string();
    let value = (rest.starts_with("= ") && keyword != "COMMENT" && keyword != "HISTORY")
        .then(|| parse_value(&rest[2..]))
        .flatten();
    Card {
        keyword,
        value,
        text: rest,
    }
}

fn parse_value(field: &str) -> Option<CardValue> {
    let field = field.trim_start();
    if let Some(quoted) = field.strip_prefix('\'') {
        return Some(CardValue::Text(parse_string(quoted)));
    }
    let token = field.split('/').next().unwrap_or("").trim();
    match token {
        "T" => Some(CardValue::Logical(true)),
        "F" => Some(CardValue::Logical(false)),
        "" => None,
        _ => token
            .parse::<i64>()
            .map(CardValue::Integer)
            .ok()
            .or_else(|| {
                // Fortran-style 'D' exponents are common in AIPS and CASA headers.
                token
                    .replace(['D', 'd'], "E")
                    .parse::<f64>()
                    .ok()
                    .map(CardValue::Real)
            }),
    }
}

/// A quoted FITS string after its opening quote: `''` is a quote, trailing
/// blanks are not significant.
fn parse_string(quoted: &str) -> String {
    let mut out = String::new();
    let mut chars = quoted.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                out.push('\'');
                chars.next();
            } else {
                break;
            }
        } else {
            out.push(c);
        }
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(s: &str) -> Card {
        parse_card(format!("{s:<80}").as_bytes())
    }

    #[test]
    fn values_of_every_kind_parse() {
        assert_eq!(
            card("NAXIS   =                    4").value,
            Some(CardValue::Integer(4))
        );
        assert_eq!(
            card("SIMPLE  =                    T / std").value,
            Some(CardValue::Logical(true))
        );
        assert_eq!(
            card("CDELT1  =  -1.388888888889E-03 /comment").value,
            Some(CardValue::Real(-1.388888888889e-3))
        );
        assert_eq!(
            card("BMAJ    =    1.5D-02").value,
            Some(CardValue::Real(0.015))
        );
        assert_eq!(
            card("EQUINOX =               2000.  / yr").value,
            Some(CardValue::Real(2000.0))
        );
        assert_eq!(
            card("WSCWEIGH= 'Briggs''(-0.5)'").value,
            Some(CardValue::Text("Briggs'(-0.5)".into()))
        );
        assert_eq!(
            card("CTYPE1  = 'RA---SIN'  /").value,
            Some(CardValue::Text("RA---SIN".into()))
        );
        assert_eq!(
            card("CUNIT3  = ''").value,
            Some(CardValue::Text(String::new()))
        );
    }

    #[test]
    fn commentary_cards_keep_their_text_and_have_no_value() {
        let c = card("HISTORY AIPS   CLEAN BMAJ=  1.2345E-03 BMIN=  1.0000E-03 BPA=  45.00");
        assert_eq!(c.keyword, "HISTORY");
        assert!(c.value.is_none());
        assert!(c.text.contains("BMAJ=  1.2345E-03"));
        assert!(card("COMMENT = not a value").value.is_none());
    }
}
