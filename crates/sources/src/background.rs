//! Background mean and rms maps, as PyBDSF makes them (`rmsimage.py`), computed
//! once for the full image so that every tile sees the same values.
//!
//! # The box grid
//! Clipped statistics ([`crate::stats`]) are taken in boxes of `size` pixels
//! stepped by `step`; the grid of box values is interpolated to every pixel.
//! The grid is anchored to the full image (never to a tile), exactly as PyBDSF
//! lays it out (`rms_mean_map`):
//! - box size under 10% of both image sides: boxes start at `i * step` and the
//!   grid gains one extrapolated node on each side (a copy of its neighbour),
//!   whose coordinate is the image edge;
//! - otherwise the image is mirror-padded by `size / 2` and boxes start at
//!   `i * step` in the padded frame.
//!
//! Box counts use PyBDSF's (Python 3, true division) arithmetic, so the grid
//! has the same nodes and node coordinates as PyBDSF's. A box with more than 20
//! unblanked pixels gets clipped statistics, one with 6..=20 a plain mean and
//! standard deviation, and one with fewer (or of constant value) takes the mean
//! of its nearest measured neighbours (PyBDSF's `fill_masked_regions`).
//!
//! The grid is interpolated bilinearly (PyBDSF's `spline_rank = 1`; its default
//! cubic spline is a global filter over the grid and PyBDSF itself falls back to
//! bilinear when the cubic overshoots below zero).
//!
//! # Default box (PyBDSF's rule, non-adaptive)
//! `size = max(min(width, height) / 10, 5 x L)` where `L` is the largest extent
//! of any island above 10 clipped sigma, at least `9 x` the beam major axis
//! sigma in pixels, and one more when a multiple of 10;
//! `step = round(min(size / 3, min(width, height) / 10))` (round half to even).
//!
//! # Constant fallback
//! A box larger than a quarter of the smaller image side gives a constant rms
//! and mean. Otherwise, unless forced, the rms map is kept only when its
//! standard deviation over unblanked pixels exceeds `1.1 x` the expected error
//! `rms / sqrt(2) / size x fwhm_px`, and the mean map only when the same spread
//! (PyBDSF tests the rms map here too) exceeds `5 x rms / size x fwhm_px`,
//! where `fwhm_px = sqrt(bmaj_px x bmin_px)`. The constant rms is the whole
//! image's clipped rms; the constant mean its clipped mean (0 if asked).
//!
//! # Adaptive box
//! With `adaptive_rms_box`, a second, smaller box is used near bright compact
//! sources (the rule is documented in `background/adaptive.rs`); the rms map
//! is then always used.
//!
//! # Whole-image statistics
//! The clipped statistics of the image are taken over every unblanked pixel
//! when there are at most `max_sample` of them, else over every k-th unblanked
//! pixel in raster order (a deterministic sample), so that memory stays bounded
//! on survey-sized images.

mod adaptive;

use crate::source::{for_each_band, PixelSource};
use crate::stats::{clipped_stats, mean, std_dev, ClippedStats, Kappa};
use crate::{PixelBeam, SourcesError};
use prospector_image::{Image, PixelRect};
use serde::{Deserialize, Serialize};

/// Rows read at a time by the whole-image scans.
const BAND_ROWS: usize = 256;
/// PyBDSF's island threshold (in clipped sigma) for the default box size.
const BOX_ISLAND_SIGMA: f64 = 10.0;
/// A box with more unblanked pixels than this gets clipped statistics.
const MIN_PIXELS_CLIPPED: usize = 20;
/// A box with more unblanked pixels than this (and at most the above) gets plain statistics.
const MIN_PIXELS_PLAIN: usize = 5;

/// The box in which statistics are taken and the step between boxes, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoxSize {
    pub size: usize,
    pub step: usize,
}

/// How the background mean is chosen (PyBDSF's `mean_map`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MeanMapMode {
    /// The map when its variation is significant, else the clipped mean.
    #[default]
    Default,
    Zero,
    Const,
    Map,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackgroundConfig {
    /// Box and step; `None` chooses them by PyBDSF's rule.
    pub rms_box: Option<BoxSize>,
    /// Clipping threshold in sigma (PyBDSF's `kappa_clip`); `None` derives it
    /// from the beam and the pixel count, as PyBDSF does by default.
    pub kappa: Option<f64>,
    /// `Some(true)` forces the rms map, `Some(false)` a constant rms, `None` decides.
    pub rms_map: Option<bool>,
    pub mean_map: MeanMapMode,
    /// Most pixels used for the whole-image clipped statistics.
    pub max_sample: usize,
    /// PyBDSF's `adaptive_rms_box`: a smaller box near bright compact sources.
    pub adaptive_rms_box: bool,
    /// The small box for `adaptive_rms_box`; `None` chooses it by PyBDSF's rule.
    pub rms_box_bright: Option<BoxSize>,
}

impl Default for BackgroundConfig {
    fn default() -> Self {
        Self {
            rms_box: None,
            kappa: None,
            rms_map: None,
            mean_map: MeanMapMode::Default,
            max_sample: 4 * 1024 * 1024,
            adaptive_rms_box: false,
            rms_box_bright: None,
        }
    }
}

/// The background of one full image: enough to give the mean and rms at any pixel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Background {
    image: PixelRect,
    rms_box: BoxSize,
    /// The small box used near bright sources, and how many there were.
    adaptive: Option<(BoxSize, usize)>,
    clipped: (f64, f64),
    constant_rms: Option<f64>,
    constant_mean: Option<f64>,
    grid: Option<Grid>,
}

/// Box statistics on PyBDSF's grid and every pixel's coordinate in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Grid {
    nx: usize,
    ny: usize,
    /// Node values, index `ix * ny + iy` (PyBDSF's axis order: x first).
    mean: Vec<f32>,
    rms: Vec<f32>,
    /// Grid coordinate of each column and row of the image.
    gx: Vec<f64>,
    gy: Vec<f64>,
}

impl Background {
    /// Measures the background of `source` (the full image).
    pub fn measure(
        source: &dyn PixelSource,
        beam: &PixelBeam,
        config: &BackgroundConfig,
        threads: usize,
    ) -> Result<Background, SourcesError> {
        let kappa = match config.kappa {
            Some(k) if k.is_nan() || k <= 0.0 => {
                return Err(SourcesError::Config(format!(
                    "kappa must be positive, got {k}"
                )))
            }
            Some(k) => Kappa::Fixed(k),
            None => Kappa::FromBeam {
                beam_area_px: beam.area_px(),
            },
        };
        let image = source.rect();
        let (clipped, max_value) = whole_image_stats(source, config, kappa)?;
        let needs_islands = config.rms_box.is_none() || config.adaptive_rms_box;
        let ten_sigma = if needs_islands {
            adaptive::blobs_above(source, &clipped, BOX_ISLAND_SIGMA)?
        } else {
            Vec::new()
        };
        let rms_box = match config.rms_box {
            Some(b) => checked_box(b)?,
            None => {
                let largest = ten_sigma.iter().map(|b| b.extent).max().unwrap_or(0);
                default_box(image.width, image.height, beam, largest)
            }
        };
        let bright = if config.adaptive_rms_box {
            adaptive::plan(source, &clipped, beam, &ten_sigma, max_value)?
        } else {
            None
        };
        let bright = match (bright, config.rms_box_bright) {
            (Some(plan), Some(b)) => Some(adaptive::BrightPlan {
                small_box: checked_box(b)?,
                ..plan
            }),
            (plan, _) => plan,
        };
        let mut background = Background {
            image,
            rms_box,
            adaptive: bright.as_ref().map(|p| (p.small_box, p.positions.len())),
            clipped: (clipped.mean, clipped.rms),
            constant_rms: Some(clipped.rms),
            constant_mean: Some(if config.mean_map == MeanMapMode::Zero {
                0.0
            } else {
                clipped.mean
            }),
            grid: None,
        };
        let mean_fixed = matches!(config.mean_map, MeanMapMode::Zero | MeanMapMode::Const);
        if config.rms_map == Some(false) && mean_fixed {
            return Ok(background);
        }
        if rms_box.size as f64 > image.width.min(image.height) as f64 / 4.0 {
            background.adaptive = None;
            return Ok(background);
        }
        let large = Grid::measure(source, rms_box, kappa, threads)?;
        let grid = match &bright {
            Some(plan) => {
                let small = Grid::measure(source, plan.small_box, kappa, threads)?;
                let (ax, ay) = axes(image, rms_box);
                adaptive::blend(
                    &small,
                    &large,
                    (&ax, &ay),
                    &plan.positions,
                    image.width,
                    image.height,
                )
            }
            None => large,
        };
        let spread = grid.rms_spread(source)?;
        let fw_px = (beam.major_px * beam.minor_px).sqrt();
        let size = rms_box.size as f64;
        // With bright sources found, PyBDSF always keeps the adapted rms map.
        let rms_varies = config.rms_map.unwrap_or_else(|| {
            bright.is_some() || spread > 1.1 * clipped.rms / 2f64.sqrt() / size * fw_px
        });
        let mean_varies = match config.mean_map {
            MeanMapMode::Map => true,
            MeanMapMode::Zero | MeanMapMode::Const => false,
            MeanMapMode::Default => spread > 5.0 * clipped.rms / size * fw_px,
        };
        if rms_varies {
            background.constant_rms = None;
        }
        if mean_varies {
            background.constant_mean = None;
        }
        if rms_varies || mean_varies {
            background.grid = Some(grid);
        }
        Ok(background)
    }

    /// The small box used near bright sources and how many bright sources
    /// there were, when `adaptive_rms_box` adapted the map.
    pub fn adaptive_box(&self) -> Option<(BoxSize, usize)> {
        self.adaptive
    }

    /// The box and step the maps were (or would have been) made with.
    pub fn rms_box(&self) -> BoxSize {
        self.rms_box
    }

    /// Clipped mean and rms of the whole image.
    pub fn clipped(&self) -> ClippedStats {
        ClippedStats {
            mean: self.clipped.0,
            rms: self.clipped.1,
        }
    }

    /// Whether the rms (mean) varies over the image, or is one value.
    pub fn rms_is_map(&self) -> bool {
        self.constant_rms.is_none()
    }

    pub fn mean_is_map(&self) -> bool {
        self.constant_mean.is_none()
    }

    /// The full image these maps describe.
    pub fn image_rect(&self) -> PixelRect {
        self.image
    }

    /// Background mean and rms of the pixels `x0..x0 + len` of row `y`.
    pub fn row(&self, y: usize, x0: usize, len: usize, mean: &mut Vec<f64>, rms: &mut Vec<f64>) {
        mean.clear();
        rms.clear();
        for x in x0..x0 + len {
            let (m, r) = self.at(x, y);
            mean.push(m);
            rms.push(r);
        }
    }

    /// Background mean and rms at pixel `(x, y)` of the full image.
    pub fn at(&self, x: usize, y: usize) -> (f64, f64) {
        let (gx, gy) = (x - self.image.x0, y - self.image.y0);
        let from_grid = |pick: fn(&Grid) -> &[f32]| {
            self.grid
                .as_ref()
                .map_or(f64::NAN, |g| g.interpolate(pick(g), gx, gy))
        };
        let mean = self.constant_mean.unwrap_or_else(|| from_grid(|g| &g.mean));
        let rms = self.constant_rms.unwrap_or_else(|| from_grid(|g| &g.rms));
        (mean, rms)
    }

    /// Mean and rms maps of `rect`, blank (NaN) where `pixels` is blank.
    pub fn maps(&self, pixels: &Image) -> (Image, Image) {
        let rect = pixels.rect();
        let mut mean = Image::filled(rect, f32::NAN);
        let mut rms = Image::filled(rect, f32::NAN);
        for (i, v) in pixels.pixels().iter().enumerate() {
            if v.is_finite() {
                let (m, r) = self.at(rect.x0 + i % rect.width, rect.y0 + i / rect.width);
                mean.pixels_mut()[i] = m as f32;
                rms.pixels_mut()[i] = r as f32;
            }
        }
        (mean, rms)
    }
}

/// PyBDSF's default box for an image of `width` x `height` pixels whose
/// largest island above 10 sigma spans `largest_island` pixels.
pub fn default_box(
    width: usize,
    height: usize,
    beam: &PixelBeam,
    largest_island: usize,
) -> BoxSize {
    let smaller = width.min(height) as f64;
    let min_size = (beam.major_sigma_px() * 9.0) as usize;
    let mut size = (smaller / 10.0).max(largest_island as f64 * 5.0) as usize;
    size = size.max(min_size);
    if size.is_multiple_of(10) {
        size += 1;
    }
    let step = round_half_even((size as f64 / 3.0).min(smaller / 10.0)) as usize;
    BoxSize {
        size,
        step: step.max(1),
    }
}

/// Python's `round`: halves go to the even neighbour.
fn round_half_even(v: f64) -> f64 {
    let r = v.round();
    if (v - v.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - v.signum()
    } else {
        r
    }
}

/// The whole image's clipped statistics and its brightest pixel.
fn whole_image_stats(
    source: &dyn PixelSource,
    config: &BackgroundConfig,
    kappa: Kappa,
) -> Result<(ClippedStats, f32), SourcesError> {
    let mut finite = 0usize;
    let mut max_value = f32::NEG_INFINITY;
    for_each_band(source, BAND_ROWS, |band| {
        for &v in band.pixels().iter().filter(|v| v.is_finite()) {
            finite += 1;
            max_value = max_value.max(v);
        }
    })?;
    let every = finite.div_ceil(config.max_sample.max(1)).max(1);
    let mut sample = Vec::with_capacity(finite / every + 1);
    let mut k = 0usize;
    for_each_band(source, BAND_ROWS, |band| {
        for &v in band.pixels().iter().filter(|v| v.is_finite()) {
            if k.is_multiple_of(every) {
                sample.push(v);
            }
            k += 1;
        }
    })?;
    let stats = clipped_stats(&mut sample, kappa).ok_or(SourcesError::NoBackground)?;
    Ok((stats, max_value))
}

fn checked_box(b: BoxSize) -> Result<BoxSize, SourcesError> {
    if b.size >= b.step && b.step > 0 {
        Ok(b)
    } else {
        Err(SourcesError::Config(format!(
            "rms box {} must be at least its step {} (> 0)",
            b.size, b.step
        )))
    }
}

/// The grid axes for boxes of `rms_box` on `image`.
fn axes(image: PixelRect, rms_box: BoxSize) -> (Axis, Axis) {
    let (w, h) = (image.width, image.height);
    let extrapolate =
        (rms_box.size as f64) / (w as f64) < 0.1 && (rms_box.size as f64) / (h as f64) < 0.1;
    (
        Axis::new(w, rms_box, extrapolate),
        Axis::new(h, rms_box, extrapolate),
    )
}

/// One axis of PyBDSF's box grid.
#[derive(Debug)]
struct Axis {
    /// Pixel window of each node, in the (possibly padded) frame; `None` for
    /// nodes filled by extrapolation.
    windows: Vec<Option<(usize, usize)>>,
    /// Grid nodes' pixel coordinates.
    coords: Vec<f64>,
    /// Mirror padding added on each side (0 when extrapolating).
    pad: usize,
    /// Whether the outer nodes are extrapolated rather than measured on padding.
    extrapolated: bool,
}

impl Axis {
    fn new(n: usize, rms_box: BoxSize, extrapolate: bool) -> Axis {
        let (bs, ss) = (rms_box.size as f64, rms_box.step as f64);
        let nf = n as f64;
        if extrapolate {
            let count_f = 1.0 + (nf - bs) / ss;
            let bounds = ((count_f - 1.0) * ss + bs) < nf;
            let len = (2.0 + count_f + bounds as u8 as f64) as usize;
            let count = count_f as usize;
            let mut windows = vec![None; len];
            let mut coords = vec![0.0; len];
            for i in 0..count {
                let start = i * rms_box.step;
                windows[i + 1] = Some((start, (start + rms_box.size).min(n)));
                coords[i + 1] = i as f64 * ss + bs / 2.0 - 0.5;
            }
            if bounds {
                windows[len - 2] = Some((n.saturating_sub(rms_box.size), n));
                coords[len - 2] = nf - bs / 2.0 - 0.5;
            }
            coords[len - 1] = nf - 1.0;
            Axis {
                windows,
                coords,
                pad: 0,
                extrapolated: true,
            }
        } else {
            let pad = rms_box.size / 2;
            let padded = n + 2 * pad;
            let count_f = 1.0 + nf / ss;
            let bounds = (count_f - 1.0) * ss < nf;
            let len = (count_f + bounds as u8 as f64) as usize;
            let count = count_f as usize;
            let mut windows = vec![None; len];
            let mut coords = vec![0.0; len];
            for i in 0..count {
                let start = (i * rms_box.step).min(padded);
                windows[i] = Some((start, (start + rms_box.size).min(padded)));
                coords[i] = i as f64 * ss - 0.5;
            }
            if bounds {
                windows[len - 1] = Some((padded.saturating_sub(rms_box.size), padded));
                coords[len - 2] = nf - 0.5;
            }
            coords[len - 1] = nf - 1.0;
            Axis {
                windows,
                coords,
                pad,
                extrapolated: false,
            }
        }
    }

    /// The image pixel a (padded-frame) index reads, mirroring at the edges.
    fn source_index(&self, p: usize, n: usize) -> usize {
        let q = p as isize - self.pad as isize;
        let n = n as isize;
        let mirrored = if q < 0 {
            -1 - q
        } else if q >= n {
            2 * n - 1 - q
        } else {
            q
        };
        mirrored.clamp(0, n - 1) as usize
    }

    /// Every pixel's fractional position among the nodes.
    fn pixel_coordinates(&self, n: usize) -> Vec<f64> {
        remap(&self.coords, n)
    }
}

/// PyBDSF's `remap_axis`: the fractional node index of each of `n` positions
/// along an axis whose nodes lie at `coords`.
fn remap(coords: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n];
    for i in 0..coords.len().saturating_sub(1) {
        let (a, b) = (coords[i], coords[i + 1]);
        let first = a.ceil().max(0.0) as usize;
        let last = (b.floor().max(-1.0) + 1.0) as usize;
        for (t, slot) in out.iter_mut().enumerate().take(last.min(n)).skip(first) {
            *slot = i as f64 + (t as f64 - a) / (b - a);
        }
    }
    out
}

impl Grid {
    fn measure(
        source: &dyn PixelSource,
        rms_box: BoxSize,
        kappa: Kappa,
        threads: usize,
    ) -> Result<Grid, SourcesError> {
        let image = source.rect();
        let (w, h) = (image.width, image.height);
        let (ax, ay) = axes(image, rms_box);
        let (nx, ny) = (ax.windows.len(), ay.windows.len());
        let nodes: Vec<(usize, usize)> = (0..nx)
            .flat_map(|i| (0..ny).map(move |j| (i, j)))
            .filter(|&(i, j)| ax.windows[i].is_some() && ay.windows[j].is_some())
            .collect();
        let measured = crate::parallel::map_indexed(nodes.len(), threads, |k| {
            let (i, j) = nodes[k];
            let (Some(xw), Some(yw)) = (ax.windows[i], ay.windows[j]) else {
                return Ok(None);
            };
            box_stats(source, &ax, &ay, xw, yw, kappa)
        })?;
        // Unmeasured nodes hold infinity until filled, as in PyBDSF.
        let mut mean = vec![f32::INFINITY; nx * ny];
        let mut rms = vec![f32::INFINITY; nx * ny];
        for (&(i, j), stats) in nodes.iter().zip(&measured) {
            if let Some(s) = stats {
                mean[i * ny + j] = s.mean as f32;
                rms[i * ny + j] = s.rms as f32;
            }
        }
        if ax.extrapolated {
            copy_borders(&mut mean, nx, ny);
            copy_borders(&mut rms, nx, ny);
        }
        if mean.iter().all(|v| v.is_infinite()) {
            return Err(SourcesError::NoBackground);
        }
        fill_unmeasured(&mut mean, nx, ny);
        fill_unmeasured(&mut rms, nx, ny);
        Ok(Grid {
            nx,
            ny,
            mean,
            rms,
            gx: ax.pixel_coordinates(w),
            gy: ay.pixel_coordinates(h),
        })
    }

    /// Bilinear interpolation of node `values` at image pixel `(x, y)` (image-relative).
    fn interpolate(&self, values: &[f32], x: usize, y: usize) -> f64 {
        let (ix, fx) = cell(self.gx[x], self.nx);
        let (iy, fy) = cell(self.gy[y], self.ny);
        self.bilinear(values, ix, fx, iy, fy)
    }

    /// Node `values` interpolated in cell `(ix, iy)` at fractions `(fx, fy)`.
    fn bilinear(&self, values: &[f32], ix: usize, fx: f64, iy: usize, fy: f64) -> f64 {
        let at = |i: usize, j: usize| values[i * self.ny + j] as f64;
        let (ix1, iy1) = ((ix + 1).min(self.nx - 1), (iy + 1).min(self.ny - 1));
        let top = at(ix, iy) * (1.0 - fy) + at(ix, iy1) * fy;
        let bottom = at(ix1, iy) * (1.0 - fy) + at(ix1, iy1) * fy;
        top * (1.0 - fx) + bottom * fx
    }

    /// Standard deviation of the interpolated rms map over the unblanked pixels.
    fn rms_spread(&self, source: &dyn PixelSource) -> Result<f64, SourcesError> {
        let image = source.rect();
        let (mut n, mut sum, mut sum_sq) = (0f64, 0f64, 0f64);
        for_each_band(source, BAND_ROWS, |band| {
            let rect = band.rect();
            for (k, v) in band.pixels().iter().enumerate() {
                if v.is_finite() {
                    let x = rect.x0 + k % rect.width - image.x0;
                    let y = rect.y0 + k / rect.width - image.y0;
                    // f32 as PyBDSF's map, so the spread matches its decision.
                    let r = self.interpolate(&self.rms, x, y) as f32 as f64;
                    n += 1.0;
                    sum += r;
                    sum_sq += r * r;
                }
            }
        })?;
        if n == 0.0 {
            return Err(SourcesError::NoBackground);
        }
        let m = sum / n;
        Ok((sum_sq / n - m * m).max(0.0).sqrt())
    }
}

/// The node cell holding grid coordinate `g` and the fraction across it.
fn cell(g: f64, n: usize) -> (usize, f64) {
    if n < 2 {
        return (0, 0.0);
    }
    let i = (g.floor().max(0.0) as usize).min(n - 2);
    (i, (g - i as f64).clamp(0.0, 1.0))
}

fn box_stats(
    source: &dyn PixelSource,
    ax: &Axis,
    ay: &Axis,
    xw: (usize, usize),
    yw: (usize, usize),
    kappa: Kappa,
) -> Result<Option<ClippedStats>, SourcesError> {
    let image = source.rect();
    let (w, h) = (image.width, image.height);
    let xs: Vec<usize> = (xw.0..xw.1).map(|p| ax.source_index(p, w)).collect();
    let ys: Vec<usize> = (yw.0..yw.1).map(|p| ay.source_index(p, h)).collect();
    let (Some(&x_lo), Some(&x_hi), Some(&y_lo), Some(&y_hi)) = (
        xs.iter().min(),
        xs.iter().max(),
        ys.iter().min(),
        ys.iter().max(),
    ) else {
        return Ok(None);
    };
    let read = PixelRect::new(
        image.x0 + x_lo,
        image.y0 + y_lo,
        x_hi - x_lo + 1,
        y_hi - y_lo + 1,
    );
    let pixels = source.read(read)?;
    let mut values = Vec::with_capacity(xs.len() * ys.len());
    for &y in &ys {
        let row = pixels.row(y - y_lo);
        values.extend(xs.iter().map(|&x| row[x - x_lo]).filter(|v| v.is_finite()));
    }
    Ok(if values.len() > MIN_PIXELS_CLIPPED {
        clipped_stats(&mut values, kappa)
    } else if values.len() > MIN_PIXELS_PLAIN {
        let s = std_dev(&values, 0);
        (s > 0.0).then(|| ClippedStats {
            mean: mean(&values),
            rms: s,
        })
    } else {
        None
    })
}

/// PyBDSF's `correct_borders`: the outer nodes copy their inner neighbours.
fn copy_borders(map: &mut [f32], nx: usize, ny: usize) {
    if nx < 2 || ny < 2 {
        return;
    }
    let idx = |i: usize, j: usize| i * ny + j;
    for j in 0..ny {
        map[idx(0, j)] = map[idx(1, j)];
    }
    for i in 0..nx {
        map[idx(i, 0)] = map[idx(i, 1)];
    }
    for j in 0..ny {
        map[idx(nx - 1, j)] = map[idx(nx - 2, j)];
    }
    for i in 0..nx {
        map[idx(i, ny - 1)] = map[idx(i, ny - 2)];
    }
    map[idx(0, 0)] = (map[idx(1, 0)] + map[idx(0, 1)]) / 2.0;
    map[idx(nx - 1, 0)] = (map[idx(nx - 2, 0)] + map[idx(nx - 1, 1)]) / 2.0;
    map[idx(0, ny - 1)] = (map[idx(0, ny - 2)] + map[idx(1, ny - 1)]) / 2.0;
    map[idx(nx - 1, ny - 1)] = (map[idx(nx - 2, ny - 1)] + map[idx(nx - 1, ny - 2)]) / 2.0;
}

/// PyBDSF's `fill_masked_regions`: each unmeasured node, in raster order, takes
/// the mean of the measured nodes in the smallest square around it holding any.
fn fill_unmeasured(map: &mut [f32], nx: usize, ny: usize) {
    for i in 0..nx {
        for j in 0..ny {
            if !map[i * ny + j].is_infinite() {
                continue;
            }
            let mut reach = 1;
            loop {
                let (i0, i1) = (i.saturating_sub(reach), (i + 1 + reach).min(nx));
                let (j0, j1) = (j.saturating_sub(reach), (j + 1 + reach).min(ny));
                let good: Vec<f32> = (i0..i1)
                    .flat_map(|a| (j0..j1).map(move |b| (a, b)))
                    .map(|(a, b)| map[a * ny + b])
                    .filter(|v| !v.is_infinite())
                    .collect();
                if !good.is_empty() {
                    map[i * ny + j] = (mean(&good)) as f32;
                    break;
                }
                reach += 1;
            }
        }
    }
}
