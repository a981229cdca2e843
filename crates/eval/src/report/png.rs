//! PNG images held in memory: plots drawn with plotters into an RGB buffer, and source
//! images colour-mapped pixel by pixel.

use std::io::Cursor;

use plotters::prelude::*;

use crate::error::EvalError;

/// An encoded PNG with its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Png {
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
}

/// Turns a plotters error into ours, naming the figure.
pub fn plot_error(what: &str) -> impl Fn(&dyn std::fmt::Display) -> EvalError + '_ {
    move |e| EvalError::Plot {
        what: what.to_string(),
        reason: e.to_string(),
    }
}

/// Encodes an RGB buffer (`width * height * 3` bytes) as PNG.
pub fn encode_rgb(width: u32, height: u32, rgb: Vec<u8>, what: &str) -> Result<Png, EvalError> {
    let image = image::RgbImage::from_raw(width, height, rgb).ok_or_else(|| EvalError::Plot {
        what: what.into(),
        reason: format!("buffer does not hold {width}x{height} RGB pixels"),
    })?;
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .map_err(|e| plot_error(what)(&e))?;
    Ok(Png {
        width,
        height,
        bytes,
    })
}

/// Draws with `draw` on a white `width x height` canvas and encodes the result.
pub fn draw_png(
    width: u32,
    height: u32,
    what: &str,
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>) -> Result<(), EvalError>,
) -> Result<Png, EvalError> {
    super::font::ensure_font()?;
    let mut buffer = vec![255u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_error(what)(&e))?;
        draw(&root)?;
        root.present().map_err(|e| plot_error(what)(&e))?;
    }
    encode_rgb(width, height, buffer, what)
}
