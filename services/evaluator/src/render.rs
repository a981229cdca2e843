//! The console's thumbnails: a scored cutout, its reconstruction and their residual as
//! PNG, from the `Pixels` the scorer put in the `Score` (read back from the scores stream).

use image::{ImageFormat, RgbImage};
use prospector_proto::v1::{PixelEncoding, Pixels, Score};

/// Which picture of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Input,
    Reconstruction,
    /// Input minus reconstruction.
    Residual,
}

impl View {
    pub fn from_file_name(name: &str) -> Option<Self> {
        match name {
            "input.png" => Some(Self::Input),
            "reconstruction.png" => Some(Self::Reconstruction),
            "residual.png" => Some(Self::Residual),
            _ => None,
        }
    }
}

/// Why a picture cannot be drawn.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RenderError {
    #[error("the score of this source carries no {0} pixels")]
    Absent(&'static str),
    #[error("{what} pixels: {reason}")]
    Malformed { what: &'static str, reason: String },
}

/// The picture `view` of `score` as PNG bytes.
pub fn render_png(score: &Score, view: View) -> Result<Vec<u8>, RenderError> {
    let input = || decode("input", score.model_pixels.as_ref());
    let reconstruction = || decode("reconstruction", score.reconstruction.as_ref());
    let picture = match view {
        View::Input => greyscale(&input()?),
        View::Reconstruction => greyscale(&reconstruction()?),
        View::Residual => {
            let (a, b) = (input()?, reconstruction()?);
            if (a.width, a.height) != (b.width, b.height) {
                return Err(RenderError::Malformed {
                    what: "reconstruction",
                    reason: format!(
                        "{}x{} does not match the input's {}x{}",
                        b.width, b.height, a.width, a.height
                    ),
                });
            }
            let residual = Plane {
                width: a.width,
                height: a.height,
                values: a.values.iter().zip(&b.values).map(|(x, y)| x - y).collect(),
            };
            diverging(&residual)
        }
    };
    let mut png = std::io::Cursor::new(Vec::new());
    picture
        .write_to(&mut png, ImageFormat::Png)
        .map_err(|e| RenderError::Malformed {
            what: "encoded",
            reason: e.to_string(),
        })?;
    Ok(png.into_inner())
}

/// Decoded row-major pixels.
#[derive(Debug)]
struct Plane {
    width: u32,
    height: u32,
    values: Vec<f32>,
}

fn decode(what: &'static str, pixels: Option<&Pixels>) -> Result<Plane, RenderError> {
    let pixels = pixels
        .filter(|p| p.width > 0 && p.height > 0)
        .ok_or(RenderError::Absent(what))?;
    let malformed = |reason: String| RenderError::Malformed { what, reason };
    if pixels.encoding() != PixelEncoding::F32Le {
        return Err(malformed(format!(
            "encoding {:?} is not drawn (only uncompressed f32)",
            pixels.encoding()
        )));
    }
    let count = pixels.width as usize * pixels.height as usize;
    if pixels.data.len() != count * 4 {
        return Err(malformed(format!(
            "{} bytes for {}x{} f32 pixels (expected {})",
            pixels.data.len(),
            pixels.width,
            pixels.height,
            count * 4
        )));
    }
    let values = pixels
        .data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok(Plane {
        width: pixels.width,
        height: pixels.height,
        values,
    })
}

/// Linear grey from the plane's finite minimum (black) to its maximum (white); NaN black.
fn greyscale(plane: &Plane) -> RgbImage {
    let finite = || plane.values.iter().copied().filter(|v| v.is_finite());
    let low = finite().fold(f32::INFINITY, f32::min);
    let high = finite().fold(f32::NEG_INFINITY, f32::max);
    let span = if high > low { high - low } else { 1.0 };
    paint(plane, |v| {
        let g = if v.is_finite() {
            (((v - low) / span) * 255.0).round() as u8
        } else {
            0
        };
        [g, g, g]
    })
}

/// Blue (negative) through white (zero) to red (positive), symmetric about zero so the
/// sign of a residual reads at a glance; NaN black.
fn diverging(plane: &Plane) -> RgbImage {
    let scale = plane
        .values
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f32, |m, v| m.max(v.abs()));
    let scale = if scale > 0.0 { scale } else { 1.0 };
    paint(plane, |v| {
        if !v.is_finite() {
            return [0, 0, 0];
        }
        let t = (v / scale).clamp(-1.0, 1.0);
        let fade = (255.0 * (1.0 - t.abs())).round() as u8;
        if t >= 0.0 {
            [255, fade, fade]
        } else {
            [fade, fade, 255]
        }
    })
}

fn paint(plane: &Plane, colour: impl Fn(f32) -> [u8; 3]) -> RgbImage {
    RgbImage::from_fn(plane.width, plane.height, |x, y| {
        image::Rgb(colour(plane.values[(y * plane.width + x) as usize]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixels(values: &[f32], width: u32) -> Pixels {
        Pixels {
            width,
            height: values.len() as u32 / width,
            encoding: PixelEncoding::F32Le as i32,
            data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    fn decoded(png: &[u8]) -> image::RgbImage {
        image::load_from_memory_with_format(png, ImageFormat::Png)
            .unwrap()
            .to_rgb8()
    }

    #[test]
    fn the_input_is_stretched_from_black_to_white() {
        let score = Score {
            model_pixels: Some(pixels(&[0.0, 1.0, 2.0, f32::NAN], 2)),
            ..Default::default()
        };
        let png = decoded(&render_png(&score, View::Input).unwrap());
        assert_eq!(png.dimensions(), (2, 2));
        assert_eq!(png.get_pixel(0, 0).0, [0, 0, 0]);
        assert_eq!(png.get_pixel(1, 0).0, [128, 128, 128]);
        assert_eq!(png.get_pixel(0, 1).0, [255, 255, 255]);
        assert_eq!(png.get_pixel(1, 1).0, [0, 0, 0]);
    }

    #[test]
    fn the_residual_is_red_where_the_input_is_brighter_and_blue_where_fainter() {
        let score = Score {
            model_pixels: Some(pixels(&[1.0, 0.0, 0.5], 3)),
            reconstruction: Some(pixels(&[0.0, 1.0, 0.5], 3)),
            ..Default::default()
        };
        let png = decoded(&render_png(&score, View::Residual).unwrap());
        assert_eq!(png.get_pixel(0, 0).0, [255, 0, 0]);
        assert_eq!(png.get_pixel(1, 0).0, [0, 0, 255]);
        assert_eq!(png.get_pixel(2, 0).0, [255, 255, 255]);
    }

    #[test]
    fn missing_or_malformed_pixels_are_named() {
        let mut score = Score::default();
        assert_eq!(
            render_png(&score, View::Reconstruction),
            Err(RenderError::Absent("reconstruction"))
        );
        let mut short = pixels(&[1.0, 2.0], 2);
        short.data.pop();
        score.model_pixels = Some(short);
        let err = render_png(&score, View::Input).unwrap_err().to_string();
        assert!(err.contains("7 bytes for 2x1"), "{err}");
    }
}
