//! A coarse grid over the image recording which components touch each cell,
//! so rendering a rectangle visits only the components that reach it.

use crate::gaussian::{PixelGaussian, Support};

/// Side of a grid cell in pixels: small enough that a row block touches few
/// irrelevant components, large enough that a point source spans one or two cells.
const CELL: i64 = 128;

#[derive(Debug, Clone)]
pub(crate) struct GridIndex {
    columns: i64,
    rows: i64,
    cells: Vec<Vec<u32>>,
}

impl GridIndex {
    /// Indexes `components` over an image of `width` x `height` pixels;
    /// components wholly outside the image are left out (they touch no pixel).
    pub fn build(components: &[PixelGaussian], width: usize, height: usize) -> Self {
        let columns = (width as i64 + CELL - 1) / CELL;
        let rows = (height as i64 + CELL - 1) / CELL;
        let mut index = Self {
            columns,
            rows,
            cells: vec![Vec::new(); (columns * rows) as usize],
        };
        for (i, c) in components.iter().enumerate() {
            for cell in index.cells_touching(&c.support) {
                index.cells[cell].push(i as u32);
            }
        }
        index
    }

    fn cells_touching(&self, s: &Support) -> impl Iterator<Item = usize> {
        let cx0 = s.x_min.div_euclid(CELL).max(0);
        let cx1 = s.x_max.div_euclid(CELL).min(self.columns - 1);
        let cy0 = s.y_min.div_euclid(CELL).max(0);
        let cy1 = s.y_max.div_euclid(CELL).min(self.rows - 1);
        let columns = self.columns;
        (cy0..=cy1).flat_map(move |cy| (cx0..=cx1).map(move |cx| (cy * columns + cx) as usize))
    }

    /// Indices of the components whose support may touch `area`, ascending
    /// and without repeats, so every pixel sums its components in one fixed
    /// order whatever rectangle it is rendered in.
    pub fn components_touching(&self, area: &Support) -> Vec<u32> {
        let mut found: Vec<u32> = self
            .cells_touching(area)
            .flat_map(|c| self.cells[c].iter().copied())
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }
}
