//! How pixels, backgrounds and WCSs travel inside bus messages.

use prospector_proto::v1::{PixelEncoding, Pixels};
use prospector_sources::Background;
use prospector_wcs::{CardValue, Wcs};

/// zstd level: fast enough for the tiler to keep up with reading, and noise-dominated
/// radio images compress little more at higher levels.
const ZSTD_LEVEL: i32 = 3;

/// Why a message's payload cannot be turned back into pixels, a background or a WCS.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("pixels declare {width}x{height} but hold {found} values")]
    Shape {
        width: u32,
        height: u32,
        found: usize,
    },
    #[error(
        "pixels declare {width}x{height}, more than the {MAX_PIXELS} values a message may carry"
    )]
    TooLarge { width: u32, height: u32 },
    #[error("unsupported pixel encoding {0}")]
    Encoding(i32),
    #[error("corrupt zstd data: {0}")]
    Zstd(String),
    #[error("background is not a valid serialised Background: {0}")]
    Background(String),
    #[error("WCS header card {index} `{card}` is malformed")]
    Card { index: usize, card: String },
    #[error("WCS header cannot be read: {0}")]
    Wcs(String),
}

/// Most values a message's pixels may declare: an 8192 x 8192 tile, far more than fits a
/// NATS message even compressed. The bound keeps a corrupt or hostile shape from making
/// the decoder reserve gigabytes before the data can prove the shape wrong.
pub const MAX_PIXELS: usize = 8192 * 8192;

/// Row-major f32 pixels as zstd-compressed little-endian bytes.
pub fn encode_pixels(width: usize, height: usize, values: &[f32]) -> Pixels {
    let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    // Encoding into memory cannot fail for a valid level.
    let data = zstd::bulk::compress(&raw, ZSTD_LEVEL).unwrap_or_default();
    Pixels {
        width: u32::try_from(width).unwrap_or(u32::MAX),
        height: u32::try_from(height).unwrap_or(u32::MAX),
        encoding: PixelEncoding::F32LeZstd as i32,
        data,
    }
}

/// The values of `pixels`, checked against its declared shape.
pub fn decode_pixels(pixels: &Pixels) -> Result<Vec<f32>, CodecError> {
    let expected = (pixels.width as usize)
        .checked_mul(pixels.height as usize)
        .filter(|&n| n <= MAX_PIXELS)
        .ok_or(CodecError::TooLarge {
            width: pixels.width,
            height: pixels.height,
        })?;
    let raw = match PixelEncoding::try_from(pixels.encoding) {
        Ok(PixelEncoding::F32Le) => pixels.data.clone(),
        Ok(PixelEncoding::F32LeZstd) => {
            // Bounded by the declared shape (plus one value to detect excess).
            zstd::bulk::decompress(&pixels.data, (expected + 1) * 4)
                .map_err(|e| CodecError::Zstd(e.to_string()))?
        }
        _ => return Err(CodecError::Encoding(pixels.encoding)),
    };
    if raw.len() != expected * 4 {
        return Err(CodecError::Shape {
            width: pixels.width,
            height: pixels.height,
            found: raw.len() / 4,
        });
    }
    Ok(raw
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// A background as zstd-compressed JSON (the `Tile.background` field).
pub fn encode_background(background: &Background) -> Vec<u8> {
    let json = serde_json::to_vec(background).unwrap_or_default();
    zstd::bulk::compress(&json, ZSTD_LEVEL).unwrap_or_default()
}

/// Largest decompressed background accepted (a 64k x 64k image's grid fits).
const MAX_BACKGROUND_JSON: usize = 256 * 1024 * 1024;

pub fn decode_background(bytes: &[u8]) -> Result<Background, CodecError> {
    let json = zstd::bulk::decompress(bytes, MAX_BACKGROUND_JSON)
        .map_err(|e| CodecError::Zstd(e.to_string()))?;
    serde_json::from_slice(&json).map_err(|e| CodecError::Background(e.to_string()))
}

/// The WCS as FITS header cards, 80-character records concatenated (as in a header).
pub fn wcs_header(wcs: &Wcs) -> String {
    wcs.to_cards()
        .iter()
        .map(|(key, value)| {
            let value = match value {
                CardValue::Logical(b) => if *b { "T" } else { "F" }.to_string(),
                CardValue::Integer(i) => i.to_string(),
                // Rust's shortest round-trip form: the value read back is the same f64.
                CardValue::Real(r) => format!("{r:?}"),
                CardValue::Text(t) => format!("'{}'", t.replace('\'', "''")),
            };
            format!("{key:<8}= {value:>20}")
        })
        .map(|card| format!("{card:<80}"))
        .collect()
}

/// Reads the WCS back from [`wcs_header`]'s records.
pub fn wcs_from_header(header: &str) -> Result<Wcs, CodecError> {
    let bytes = header.as_bytes();
    let mut cards: Vec<(String, CardValue)> = Vec::new();
    for (index, record) in bytes.chunks(80).enumerate() {
        let record = String::from_utf8_lossy(record);
        let malformed = || CodecError::Card {
            index,
            card: record.trim_end().to_string(),
        };
        let (key, value) = record.split_once("= ").ok_or_else(malformed)?;
        let value = value.trim();
        let parsed = if let Some(text) = value.strip_prefix('\'') {
            let text = text.strip_suffix('\'').ok_or_else(malformed)?;
            CardValue::Text(text.replace("''", "'"))
        } else if value == "T" || value == "F" {
            CardValue::Logical(value == "T")
        } else if let Ok(i) = value.parse::<i64>() {
            CardValue::Integer(i)
        } else {
            CardValue::Real(value.parse::<f64>().map_err(|_| malformed())?)
        };
        cards.push((key.trim().to_string(), parsed));
    }
    Wcs::from_header(cards.as_slice()).map_err(|e| CodecError::Wcs(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use prospector_wcs::Projection;

    #[test]
    fn pixels_round_trip_and_a_wrong_shape_is_refused() {
        let values: Vec<f32> = (0..12).map(|i| i as f32 * 0.5).chain([f32::NAN]).collect();
        let encoded = encode_pixels(13, 1, &values);
        let back = decode_pixels(&encoded).unwrap();
        assert_eq!(back[..12], values[..12]);
        assert!(back[12].is_nan());
        // More data than the shape declares: refused, compressed or not.
        let lying = Pixels {
            width: 4,
            ..encoded
        };
        assert!(decode_pixels(&lying).is_err());
        let raw = Pixels {
            width: 4,
            height: 1,
            encoding: PixelEncoding::F32Le as i32,
            data: vec![0; 13 * 4],
        };
        assert!(matches!(
            decode_pixels(&raw),
            Err(CodecError::Shape { found: 13, .. })
        ));
    }

    #[test]
    fn wcs_survives_the_header_cards_exactly() {
        let wcs = Wcs::simple(
            Projection::Sin,
            187.7059307,
            -48.8130,
            1023.5,
            511.0,
            -1.1e-4 / 3.0,
            1.1e-4 / 3.0,
        )
        .unwrap();
        let header = wcs_header(&wcs);
        assert_eq!(header.len() % 80, 0);
        let back = wcs_from_header(&header).unwrap();
        for (x, y) in [(0.0, 0.0), (1500.25, 20.75)] {
            assert_eq!(wcs.pixel_to_sky(x, y), back.pixel_to_sky(x, y));
        }
        assert!(matches!(
            wcs_from_header("NOT A CARD"),
            Err(CodecError::Card { index: 0, .. })
        ));
    }
}
