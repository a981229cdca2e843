//! Connected components of a thresholded image, found row by row.
//!
//! Pixels arrive as runs (horizontal stretches of set pixels), one row at a
//! time, so a whole survey image can be labelled while holding only the rows'
//! runs and the components still open: memory follows the emission, not the
//! image. Connectivity is 8-neighbour, as PyBDSF's `ndimage.label` with a full
//! 3x3 structure. A component is handed back as soon as a row arrives that does
//! not continue it.

/// Set pixels `x0..x1` of row `y` (full-image coordinates, `x1` exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub y: usize,
    pub x0: usize,
    pub x1: usize,
}

/// One connected component: its runs in the order they arrived (row by row,
/// left to right within a row after sorting), bounding box and pixel count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub runs: Vec<Run>,
    /// Inclusive lower and exclusive upper bounds: `x0..x1`, `y0..y1`.
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
    pub pixels: usize,
}

impl Component {
    fn new(run: Run, keep_runs: bool) -> Self {
        Self {
            runs: if keep_runs { vec![run] } else { Vec::new() },
            x0: run.x0,
            y0: run.y,
            x1: run.x1,
            y1: run.y + 1,
            pixels: run.x1 - run.x0,
        }
    }

    fn absorb(&mut self, other: Component) {
        self.runs.extend(other.runs);
        self.x0 = self.x0.min(other.x0);
        self.y0 = self.y0.min(other.y0);
        self.x1 = self.x1.max(other.x1);
        self.y1 = self.y1.max(other.y1);
        self.pixels += other.pixels;
    }

    /// Runs sorted in raster order (by row, then column).
    pub fn sort_runs(&mut self) {
        self.runs.sort_by_key(|r| (r.y, r.x0));
    }

    /// Largest side of the bounding box.
    pub fn extent(&self) -> usize {
        (self.x1 - self.x0).max(self.y1 - self.y0)
    }
}

/// Labels rows pushed in increasing `y`.
#[derive(Debug)]
pub struct RowLabeller {
    keep_runs: bool,
    /// Union-find parents; a label is a root when it is its own parent.
    parent: Vec<usize>,
    /// The component of each root label still open.
    open: Vec<Option<Component>>,
    /// The previous row's runs with their labels.
    previous: Vec<(Run, usize)>,
    last_y: Option<usize>,
}

impl RowLabeller {
    /// `keep_runs = false` keeps only the bounding box and size of each component.
    pub fn new(keep_runs: bool) -> Self {
        Self {
            keep_runs,
            parent: Vec::new(),
            open: Vec::new(),
            previous: Vec::new(),
            last_y: None,
        }
    }

    fn find(&mut self, mut label: usize) -> usize {
        while self.parent[label] != label {
            self.parent[label] = self.parent[self.parent[label]];
            label = self.parent[label];
        }
        label
    }

    fn union(&mut self, a: usize, b: usize) -> usize {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return ra;
        }
        let (keep, gone) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[gone] = keep;
        if let Some(other) = self.open[gone].take() {
            if let Some(c) = self.open[keep].as_mut() {
                c.absorb(other);
            }
        }
        keep
    }

    /// Adds row `y`, whose set pixels are `runs` (sorted by `x0`, not touching
    /// each other), and returns the components this row closed.
    pub fn push_row(&mut self, y: usize, runs: &[(usize, usize)]) -> Vec<Component> {
        let adjacent_row = self.last_y.is_some_and(|last| last + 1 == y);
        if !adjacent_row {
            let closed = self.close_all_previous();
            self.last_y = Some(y);
            let none_closed = self.start_row(y, runs, false);
            debug_assert!(none_closed.is_empty());
            return closed;
        }
        self.last_y = Some(y);
        self.start_row(y, runs, true)
    }

    fn start_row(&mut self, y: usize, runs: &[(usize, usize)], link: bool) -> Vec<Component> {
        let previous = std::mem::take(&mut self.previous);
        let mut current = Vec::with_capacity(runs.len());
        let mut first_candidate = 0;
        for &(x0, x1) in runs {
            let run = Run { y, x0, x1 };
            let mut label: Option<usize> = None;
            if link {
                // Previous runs ending before x0 - 1 can touch no later run either.
                while first_candidate < previous.len() && previous[first_candidate].0.x1 < x0 {
                    first_candidate += 1;
                }
                let mut k = first_candidate;
                while k < previous.len() && previous[k].0.x0 <= x1 {
                    let other = previous[k].1;
                    label = Some(match label {
                        None => self.find(other),
                        Some(l) => self.union(l, other),
                    });
                    k += 1;
                }
            }
            let label = match label {
                Some(l) => {
                    let root = self.find(l);
                    if let Some(c) = self.open[root].as_mut() {
                        c.absorb(Component::new(run, self.keep_runs));
                    }
                    root
                }
                None => {
                    let l = self.parent.len();
                    self.parent.push(l);
                    self.open.push(Some(Component::new(run, self.keep_runs)));
                    l
                }
            };
            current.push((run, label));
        }
        // Components of the previous row that no run of this row continues are done.
        let mut continuing: Vec<usize> = current.iter().map(|&(_, l)| l).collect();
        for l in continuing.iter_mut() {
            *l = self.find(*l);
        }
        continuing.sort_unstable();
        let mut closed = Vec::new();
        for &(_, l) in &previous {
            let root = self.find(l);
            if continuing.binary_search(&root).is_err() {
                if let Some(c) = self.open[root].take() {
                    closed.push(c);
                }
            }
        }
        self.previous = current;
        closed
    }

    fn close_all_previous(&mut self) -> Vec<Component> {
        let previous = std::mem::take(&mut self.previous);
        let mut closed = Vec::new();
        for (_, l) in previous {
            let root = self.find(l);
            if let Some(c) = self.open[root].take() {
                closed.push(c);
            }
        }
        closed
    }

    /// Closes every component still open.
    pub fn finish(mut self) -> Vec<Component> {
        self.close_all_previous()
    }
}

/// The runs of a row where `is_set` holds, in full-image columns starting at `x_offset`.
pub fn runs_where(row: impl Iterator<Item = bool>, x_offset: usize) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start: Option<usize> = None;
    let mut x = 0;
    for set in row {
        match (set, start) {
            (true, None) => start = Some(x),
            (false, Some(s)) => {
                runs.push((x_offset + s, x_offset + x));
                start = None;
            }
            _ => {}
        }
        x += 1;
    }
    if let Some(s) = start {
        runs.push((x_offset + s, x_offset + x));
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(rows: &[&str]) -> Vec<Component> {
        let mut labeller = RowLabeller::new(true);
        let mut out = Vec::new();
        for (y, row) in rows.iter().enumerate() {
            let runs = runs_where(row.chars().map(|c| c == '#'), 0);
            out.extend(labeller.push_row(y, &runs));
        }
        out.extend(labeller.finish());
        out.sort_by_key(|c| (c.y0, c.x0));
        out
    }

    #[test]
    fn diagonal_neighbours_join_and_gaps_separate() {
        let comps = label(&["#..#.", ".#..#", "..#..", ".....", "##..#"]);
        let sizes: Vec<usize> = comps.iter().map(|c| c.pixels).collect();
        assert_eq!(sizes, vec![3, 2, 2, 1]);
        assert_eq!((comps[0].x0, comps[0].x1, comps[0].y1), (0, 3, 3));
    }

    #[test]
    fn a_u_shape_merges_into_one_component() {
        let comps = label(&["#...#", "#...#", "#####"]);
        assert_eq!(comps.len(), 1);
        assert_eq!(comps[0].pixels, 9);
        assert_eq!(comps[0].runs.len(), 5);
    }

    #[test]
    fn a_spiral_is_one_component() {
        let comps = label(&[
            "#######", "#.....#", "#.###.#", "#.#.#.#", "#.#...#", "#.#####", "#......",
        ]);
        assert_eq!(comps.len(), 1);
        assert_eq!(comps[0].pixels, 28);
    }

    #[test]
    fn components_close_as_soon_as_a_row_does_not_continue_them() {
        let mut labeller = RowLabeller::new(false);
        assert!(labeller.push_row(0, &[(0, 2)]).is_empty());
        let closed = labeller.push_row(1, &[(5, 6)]);
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].pixels, 2);
        assert!(closed[0].runs.is_empty());
        // A skipped row closes everything open.
        assert_eq!(labeller.push_row(3, &[(5, 6)]).len(), 1);
        assert_eq!(labeller.finish().len(), 1);
    }
}
