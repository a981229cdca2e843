//! Where pixels come from: a whole image in memory or a file read rectangle by
//! rectangle. The finder only ever asks for rectangles, so a 20k x 20k mosaic is
//! never held whole.

use crate::SourcesError;
use prospector_image::{Image, PixelRect};

/// A readable image: its full extent and any rectangle of its pixels (NaN = blank).
pub trait PixelSource: Sync {
    /// The full image, whose rectangles [`PixelSource::read`] accepts.
    fn rect(&self) -> PixelRect;
    /// The pixels of `rect`, which lies inside [`PixelSource::rect`].
    fn read(&self, rect: PixelRect) -> Result<Image, SourcesError>;
}

impl PixelSource for Image {
    fn rect(&self) -> PixelRect {
        Image::rect(self)
    }

    fn read(&self, rect: PixelRect) -> Result<Image, SourcesError> {
        match self.crop(&rect) {
            Some(part) if part.rect() == rect => Ok(part),
            _ => Err(SourcesError::OutsideImage {
                rect,
                image: Image::rect(self),
            }),
        }
    }
}

/// Calls `visit` with consecutive bands of at most `rows` full-width rows, top to bottom.
pub(crate) fn for_each_band(
    source: &dyn PixelSource,
    rows: usize,
    mut visit: impl FnMut(&Image),
) -> Result<(), SourcesError> {
    let full = source.rect();
    let mut y = full.y0;
    while y < full.y1() {
        let height = rows.min(full.y1() - y);
        let band = source.read(PixelRect::new(full.x0, y, full.width, height))?;
        visit(&band);
        y += height;
    }
    Ok(())
}
