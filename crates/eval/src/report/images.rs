//! Source images for the galleries: input, reconstruction and residual side by side,
//! colour-mapped and enlarged so a 64x64 cutout is legible.

use super::png::{encode_rgb, Png};
use crate::error::EvalError;
use crate::protocol::Reconstruction;

/// Rendered size of each of the three panels, in pixels.
pub const PANEL: u32 = 96;
/// Gap between panels.
pub const GAP: u32 = 4;

/// Width and height of a gallery strip.
pub fn strip_size() -> (u32, u32) {
    (3 * PANEL + 2 * GAP, PANEL)
}

/// Perceptually ordered dark-to-bright map (black, purple, orange, pale yellow; close to
/// matplotlib's 'inferno') for the input and reconstruction.
fn sequential(t: f64) -> [u8; 3] {
    const STOPS: [[f64; 3]; 5] = [
        [0.0, 0.0, 4.0],
        [87.0, 16.0, 110.0],
        [188.0, 55.0, 84.0],
        [249.0, 142.0, 9.0],
        [252.0, 255.0, 164.0],
    ];
    interpolate(&STOPS, t)
}

/// Blue-white-red map for the residual, white at zero.
fn diverging(t: f64) -> [u8; 3] {
    const STOPS: [[f64; 3]; 3] = [
        [33.0, 102.0, 172.0],
        [247.0, 247.0, 247.0],
        [178.0, 24.0, 43.0],
    ];
    interpolate(&STOPS, t)
}

fn interpolate(stops: &[[f64; 3]], t: f64) -> [u8; 3] {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (stops.len() - 1) as f64;
    let i = (x.floor() as usize).min(stops.len() - 2);
    let f = x - i as f64;
    let c = |k: usize| (stops[i][k] + f * (stops[i + 1][k] - stops[i][k])).round() as u8;
    [c(0), c(1), c(2)]
}

/// Renders input | reconstruction | residual (input - reconstruction). Input and
/// reconstruction share one linear scale (the input's range) so they compare directly;
/// the residual is symmetric about zero. NaN pixels (blanked) are drawn grey.
pub fn gallery_strip(r: &Reconstruction) -> Result<Png, EvalError> {
    let what = format!("gallery image of {}", r.id);
    let n = r.width * r.height;
    if n == 0 || r.input.len() != n || r.reconstruction.len() != n {
        return Err(EvalError::Plot {
            what,
            reason: format!(
                "expected {}x{} pixels in input and reconstruction, got {} and {}",
                r.width,
                r.height,
                r.input.len(),
                r.reconstruction.len()
            ),
        });
    }
    let finite = || {
        r.input
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .map(f64::from)
    };
    let lo = finite().fold(f64::INFINITY, f64::min);
    let hi = finite().fold(f64::NEG_INFINITY, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let residual: Vec<f64> = r
        .input
        .iter()
        .zip(&r.reconstruction)
        .map(|(a, b)| f64::from(*a) - f64::from(*b))
        .collect();
    let max_abs = residual
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    let max_abs = if max_abs > 0.0 { max_abs } else { 1.0 };

    let (width, height) = strip_size();
    let mut rgb = vec![255u8; (width * height * 3) as usize];
    let panels: [Box<dyn Fn(usize) -> [u8; 3]>; 3] = [
        Box::new(|i| colour(f64::from(r.input[i]), |v| sequential((v - lo) / span))),
        Box::new(|i| {
            colour(f64::from(r.reconstruction[i]), |v| {
                sequential((v - lo) / span)
            })
        }),
        Box::new(|i| colour(residual[i], |v| diverging(0.5 + 0.5 * v / max_abs))),
    ];
    for (p, pixel_colour) in panels.iter().enumerate() {
        let x0 = p as u32 * (PANEL + GAP);
        for py in 0..PANEL {
            // Nearest-neighbour enlargement; image row 0 is drawn at the top.
            let sy = (py as usize * r.height) / PANEL as usize;
            for px in 0..PANEL {
                let sx = (px as usize * r.width) / PANEL as usize;
                let c = pixel_colour(sy * r.width + sx);
                let at = (((py * width) + x0 + px) * 3) as usize;
                rgb[at..at + 3].copy_from_slice(&c);
            }
        }
    }
    encode_rgb(width, height, rgb, &what)
}

fn colour(v: f64, map: impl Fn(f64) -> [u8; 3]) -> [u8; 3] {
    if v.is_finite() {
        map(v)
    } else {
        [128, 128, 128]
    }
}
