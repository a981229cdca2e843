//! Plain image data shared by every Prospector stage.
//!
//! Nothing here knows about files, buses or models: an [`Image`] is a row-major
//! block of `f32` pixels together with the rectangle of the full survey image it
//! covers, so a tile read from a 20k x 20k mosaic and a whole 256 x 256 image are
//! the same type. Blanked pixels are `NaN`.
//!
//! Pixel coordinates are 0-based throughout (FITS's CRPIX is 1-based; the
//! `prospector-wcs` crate does the conversion in one place).

use serde::{Deserialize, Serialize};

/// A rectangle of pixels in the coordinates of the full image: columns
/// `x0..x0 + width`, rows `y0..y0 + height`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PixelRect {
    pub x0: usize,
    pub y0: usize,
    pub width: usize,
    pub height: usize,
}

impl PixelRect {
    pub const fn new(x0: usize, y0: usize, width: usize, height: usize) -> Self {
        Self {
            x0,
            y0,
            width,
            height,
        }
    }

    /// One past the last column.
    pub const fn x1(&self) -> usize {
        self.x0 + self.width
    }

    /// One past the last row.
    pub const fn y1(&self) -> usize {
        self.y0 + self.height
    }

    pub const fn area(&self) -> usize {
        self.width * self.height
    }

    pub const fn is_empty(&self) -> bool {
        self.width == 0 || self.height == 0
    }

    /// Whether the (possibly fractional) pixel position lies inside the
    /// rectangle, lower edges inclusive and upper edges exclusive, so that
    /// adjacent rectangles never both contain a point.
    pub fn contains(&self, x: f64, y: f64) -> bool {
        x >= self.x0 as f64 && x < self.x1() as f64 && y >= self.y0 as f64 && y < self.y1() as f64
    }

    /// The overlap of two rectangles, or `None` when they do not overlap.
    pub fn intersection(&self, other: &PixelRect) -> Option<PixelRect> {
        let x0 = self.x0.max(other.x0);
        let y0 = self.y0.max(other.y0);
        let x1 = self.x1().min(other.x1());
        let y1 = self.y1().min(other.y1());
        (x1 > x0 && y1 > y0).then(|| PixelRect::new(x0, y0, x1 - x0, y1 - y0))
    }

    /// This rectangle grown by `margin` pixels on every side, clipped to `bounds`.
    pub fn expanded_within(&self, margin: usize, bounds: &PixelRect) -> PixelRect {
        let x0 = self.x0.saturating_sub(margin).max(bounds.x0);
        let y0 = self.y0.saturating_sub(margin).max(bounds.y0);
        let x1 = (self.x1() + margin).min(bounds.x1());
        let y1 = (self.y1() + margin).min(bounds.y1());
        PixelRect::new(x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0))
    }
}

/// Why an [`Image`] could not be built from the given parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeMismatch {
    pub rect: PixelRect,
    pub pixels: usize,
}

impl std::fmt::Display for ShapeMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} pixels given for a {}x{} rectangle ({} expected)",
            self.pixels,
            self.rect.width,
            self.rect.height,
            self.rect.area()
        )
    }
}

impl std::error::Error for ShapeMismatch {}

/// A row-major block of pixels covering `rect` of the full image.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    rect: PixelRect,
    data: Vec<f32>,
}

impl Image {
    /// Wraps `data` (row-major, `rect.width` values per row) as the pixels of `rect`.
    pub fn new(rect: PixelRect, data: Vec<f32>) -> Result<Self, ShapeMismatch> {
        if data.len() != rect.area() {
            return Err(ShapeMismatch {
                rect,
                pixels: data.len(),
            });
        }
        Ok(Self { rect, data })
    }

    /// An image of `width` x `height` pixels at the origin of the full image.
    pub fn from_vec(width: usize, height: usize, data: Vec<f32>) -> Result<Self, ShapeMismatch> {
        Self::new(PixelRect::new(0, 0, width, height), data)
    }

    pub fn filled(rect: PixelRect, value: f32) -> Self {
        Self {
            rect,
            data: vec![value; rect.area()],
        }
    }

    pub fn rect(&self) -> PixelRect {
        self.rect
    }

    pub fn width(&self) -> usize {
        self.rect.width
    }

    pub fn height(&self) -> usize {
        self.rect.height
    }

    pub fn pixels(&self) -> &[f32] {
        &self.data
    }

    pub fn pixels_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    pub fn into_pixels(self) -> Vec<f32> {
        self.data
    }

    /// One row, by its index within this image (not the full image).
    pub fn row(&self, local_y: usize) -> &[f32] {
        let w = self.rect.width;
        &self.data[local_y * w..(local_y + 1) * w]
    }

    /// The pixel at full-image coordinates `(x, y)`, or `None` outside this image.
    pub fn get(&self, x: usize, y: usize) -> Option<f32> {
        if x < self.rect.x0 || y < self.rect.y0 || x >= self.rect.x1() || y >= self.rect.y1() {
            return None;
        }
        Some(self.data[(y - self.rect.y0) * self.rect.width + (x - self.rect.x0)])
    }

    /// A copy of the part of this image that lies inside `rect` (full-image
    /// coordinates), or `None` when they do not overlap.
    pub fn crop(&self, rect: &PixelRect) -> Option<Image> {
        let part = self.rect.intersection(rect)?;
        let mut data = Vec::with_capacity(part.area());
        for y in part.y0..part.y1() {
            let start = (y - self.rect.y0) * self.rect.width + (part.x0 - self.rect.x0);
            data.extend_from_slice(&self.data[start..start + part.width]);
        }
        Some(Image { rect: part, data })
    }

    /// Number of blanked (NaN) or infinite pixels.
    pub fn non_finite_count(&self) -> usize {
        self.data.iter().filter(|v| !v.is_finite()).count()
    }
}

/// The restoring beam: FWHM of the major and minor axes and the position angle
/// of the major axis (east of north), all in degrees as in BMAJ/BMIN/BPA.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Beam {
    pub major_deg: f64,
    pub minor_deg: f64,
    pub pa_deg: f64,
}

impl Beam {
    /// Solid angle of the Gaussian beam in square degrees: pi / (4 ln 2) * BMAJ * BMIN.
    pub fn area_sq_deg(&self) -> f64 {
        std::f64::consts::PI / (4.0 * std::f64::consts::LN_2) * self.major_deg * self.minor_deg
    }

    /// Beam solid angle in pixels, for a pixel of `pixel_area_sq_deg` square degrees.
    /// Dividing a sum of Jy/beam pixels by this gives a flux density in Jy.
    pub fn area_pixels(&self, pixel_area_sq_deg: f64) -> f64 {
        self.area_sq_deg() / pixel_area_sq_deg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_takes_the_overlap_in_full_image_coordinates() {
        let rect = PixelRect::new(10, 20, 4, 3);
        let img = Image::new(rect, (0..12).map(|v| v as f32).collect()).unwrap();
        let part = img.crop(&PixelRect::new(12, 21, 10, 10)).unwrap();
        assert_eq!(part.rect(), PixelRect::new(12, 21, 2, 2));
        assert_eq!(part.pixels(), &[6.0, 7.0, 10.0, 11.0]);
        assert_eq!(img.get(13, 22), Some(11.0));
        assert_eq!(img.get(14, 22), None);
        assert!(img.crop(&PixelRect::new(0, 0, 10, 10)).is_none());
    }

    #[test]
    fn adjacent_rectangles_never_share_a_point() {
        let a = PixelRect::new(0, 0, 100, 100);
        let b = PixelRect::new(100, 0, 100, 100);
        assert!(a.contains(99.999, 50.0) && !b.contains(99.999, 50.0));
        assert!(!a.contains(100.0, 50.0) && b.contains(100.0, 50.0));
    }

    #[test]
    fn shape_mismatch_is_reported_not_panicked() {
        let err = Image::from_vec(3, 3, vec![0.0; 8]).unwrap_err();
        assert!(err.to_string().contains("8 pixels given for a 3x3"));
    }

    #[test]
    fn expanded_rect_is_clipped_to_the_image() {
        let bounds = PixelRect::new(0, 0, 50, 50);
        let r = PixelRect::new(5, 40, 10, 10).expanded_within(8, &bounds);
        assert_eq!(r, PixelRect::new(0, 32, 23, 18));
    }

    #[test]
    fn beam_area_matches_the_gaussian_solid_angle() {
        // 1.1331 * bmaj * bmin, the factor radio astronomers quote.
        let beam = Beam {
            major_deg: 2.0,
            minor_deg: 1.0,
            pa_deg: 0.0,
        };
        assert!((beam.area_sq_deg() - 2.0 * 1.133_09).abs() < 1e-4);
        assert!((beam.area_pixels(0.5) - 4.0 * 1.133_09).abs() < 1e-3);
    }
}
