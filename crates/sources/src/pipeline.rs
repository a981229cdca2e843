//! `find_sources`: a FITS image in, a folder of results out, streaming the
//! image through rectangle reads so that memory follows the tile and the
//! background grid, not the image.
//!
//! The folder holds:
//! - `catalogue.csv`, `catalogue.fits` (binary table `CATALOGUE`), `sources.reg`;
//! - `rms.fits`, `mean.fits`: the background maps with the image's WCS;
//! - `cutouts/`: the model-sized, normalised cutout set (`prospector_cutouts`,
//!   streamed to disk chunk by chunk, so memory does not grow with the number of
//!   sources) and `cutouts/raw/<source_id>.fits`, each raw cutout with its own WCS
//!   (see [`CutoutOutput`]).

use crate::background::Background;
use crate::catalogue::Catalogue;
use crate::cutout::{island_record, make_cutout};
use crate::finder::{detect, FinderConfig};
use crate::islands::PixelBeam;
use crate::parallel::map_indexed;
use crate::source::PixelSource;
use crate::SourcesError;
use prospector_cutouts::{CutoutRecord, CutoutSetWriter};
use prospector_fits::{write_image, write_table, FitsImage, ImageWriter, OpenOptions};
use prospector_image::{Beam, Image, PixelRect};
use prospector_wcs::Wcs;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub const CATALOGUE_CSV: &str = "catalogue.csv";
pub const CATALOGUE_FITS: &str = "catalogue.fits";
pub const REGIONS: &str = "sources.reg";
pub const RMS_MAP: &str = "rms.fits";
pub const MEAN_MAP: &str = "mean.fits";
pub const CUTOUTS_DIR: &str = "cutouts";
pub const RAW_CUTOUTS_DIR: &str = "raw";
/// Cutouts made at a time (in parallel) before joining the set.
const CUTOUT_CHUNK: usize = 256;
/// Rows of the maps computed and written at a time.
const MAP_BAND_ROWS: usize = 256;

/// A FITS image as a [`PixelSource`]. Each concurrent reader gets its own
/// cfitsio handle (opened on first need, then reused), so tiles are read in
/// parallel.
#[derive(Debug)]
pub struct FitsSource {
    idle: Mutex<Vec<FitsImage>>,
    rect: PixelRect,
}

impl FitsSource {
    pub fn new(image: FitsImage) -> Self {
        let rect = image.bounds();
        Self {
            idle: Mutex::new(vec![image]),
            rect,
        }
    }

    fn handle(&self) -> Result<FitsImage, SourcesError> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        match idle.len() {
            0 => Err(SourcesError::Fits("no FITS handle to reopen".into())),
            1 => idle[0]
                .reopen()
                .map_err(|e| SourcesError::Fits(e.to_string())),
            _ => Ok(idle.pop().expect("more than one handle is idle")),
        }
    }
}

impl PixelSource for FitsSource {
    fn rect(&self) -> PixelRect {
        self.rect
    }

    fn read(&self, rect: PixelRect) -> Result<Image, SourcesError> {
        let handle = self.handle()?;
        let pixels = handle.read_rect(rect).map_err(|e| SourcesError::Read {
            rect,
            reason: e.to_string(),
        });
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(handle);
        pixels
    }
}

/// What [`find_sources`] wrote and found.
#[derive(Debug, Clone, PartialEq)]
pub struct FindSummary {
    pub image_id: String,
    pub sources: usize,
    pub background: Background,
    pub beam: PixelBeam,
    pub catalogue: Catalogue,
    pub out_dir: PathBuf,
}

/// Which cutouts [`find_sources`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CutoutOutput {
    /// The cutout set and every raw cutout as FITS.
    #[default]
    All,
    /// The cutout set only.
    SetOnly,
    /// None (catalogue, regions and maps only).
    None,
}

/// Options for reading the image, beside the finder's own.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FindOptions {
    pub finder: FinderConfig,
    /// A beam to use instead of the header's (required when it has none).
    pub beam: Option<Beam>,
    /// Which plane of a cube (see [`OpenOptions::plane`]).
    pub plane: Option<usize>,
    /// Which cutouts to write.
    pub cutouts: CutoutOutput,
}

/// Finds the sources of the FITS image at `path` and writes the results into `out_dir`.
pub fn find_sources(
    path: &Path,
    options: &FindOptions,
    out_dir: &Path,
) -> Result<FindSummary, SourcesError> {
    let open = OpenOptions {
        plane: options.plane,
        beam: options.beam,
        ..OpenOptions::default()
    };
    let image = FitsImage::open(path, &open).map_err(|e| SourcesError::Fits(e.to_string()))?;
    let beam_deg = image
        .beam()
        .map_err(|e| SourcesError::Fits(e.to_string()))?;
    let wcs = image.wcs().clone();
    let beam = PixelBeam::new(&beam_deg, wcs.pixel_area_sq_deg().sqrt());
    let source = FitsSource::new(image);
    let image_id = file_sha256(path)?;
    std::fs::create_dir_all(out_dir).map_err(|e| io_error(out_dir, e))?;

    let detection = detect(&source, &beam, &options.finder)?;
    let catalogue = Catalogue::new(&image_id, &detection.islands, &wcs);
    catalogue.write_csv(&out_dir.join(CATALOGUE_CSV))?;
    write_table(out_dir.join(CATALOGUE_FITS), &catalogue.columns())
        .map_err(|e| SourcesError::Fits(e.to_string()))?;
    catalogue.write_regions(&out_dir.join(REGIONS))?;
    write_maps(&source, &detection.background, &wcs, &beam_deg, out_dir)?;
    if options.cutouts != CutoutOutput::None {
        write_cutouts(
            &source,
            &detection.islands,
            &catalogue,
            &wcs,
            &beam_deg,
            options,
            out_dir,
        )?;
    }
    Ok(FindSummary {
        image_id,
        sources: catalogue.rows.len(),
        background: detection.background,
        beam,
        catalogue,
        out_dir: out_dir.to_path_buf(),
    })
}

/// Writes the rms and mean maps band by band (blank where the image is blank).
fn write_maps(
    source: &dyn PixelSource,
    background: &Background,
    wcs: &Wcs,
    beam: &Beam,
    out_dir: &Path,
) -> Result<(), SourcesError> {
    let full = source.rect();
    let fits = |e: prospector_fits::FitsError| SourcesError::Fits(e.to_string());
    let unit = [("BUNIT".to_string(), "JY/BEAM".into())];
    let create = |name: &str| {
        ImageWriter::create(
            out_dir.join(name),
            full.width,
            full.height,
            wcs,
            Some(beam),
            &unit,
        )
        .map_err(fits)
    };
    let mut rms_out = create(RMS_MAP)?;
    let mut mean_out = create(MEAN_MAP)?;
    let mut y = 0;
    while y < full.height {
        let rows = MAP_BAND_ROWS.min(full.height - y);
        let band = source.read(PixelRect::new(full.x0, full.y0 + y, full.width, rows))?;
        let (mean, rms) = background.maps(&band);
        rms_out.write_rows(y, rms.pixels()).map_err(fits)?;
        mean_out.write_rows(y, mean.pixels()).map_err(fits)?;
        y += rows;
    }
    rms_out.finish().map_err(fits)?;
    mean_out.finish().map_err(fits)
}

#[allow(clippy::too_many_arguments)]
fn write_cutouts(
    source: &dyn PixelSource,
    islands: &[crate::Island],
    catalogue: &Catalogue,
    wcs: &Wcs,
    beam: &Beam,
    options: &FindOptions,
    out_dir: &Path,
) -> Result<(), SourcesError> {
    let config = &options.finder.cutouts;
    let dir = out_dir.join(CUTOUTS_DIR);
    let raw_dir = dir.join(RAW_CUTOUTS_DIR);
    let raw = options.cutouts == CutoutOutput::All;
    if raw {
        std::fs::create_dir_all(&raw_dir).map_err(|e| io_error(&raw_dir, e))?;
    }
    // Streamed to disk in chunks: only one chunk of cutouts is ever in memory.
    let mut set = CutoutSetWriter::create(&dir, config.size, &config.stretch.describe())?;
    let mut start = 0;
    while start < islands.len() {
        let chunk = CUTOUT_CHUNK.min(islands.len() - start);
        let cutouts = map_indexed(chunk, options.finder.threads, |k| {
            let i = start + k;
            let cutout = make_cutout(source, &islands[i], config)?;
            if raw {
                let rect = cutout.raw.rect();
                let path = raw_dir.join(format!("{}.fits", catalogue.rows[i].source_id));
                let cutout_wcs = wcs.offset(rect.x0 as f64, rect.y0 as f64);
                write_image(&path, &cutout.raw, &cutout_wcs, Some(beam), &[])
                    .map_err(|e| SourcesError::Fits(e.to_string()))?;
            }
            Ok::<_, SourcesError>((cutout.side, cutout.model))
        })?;
        for (i, (side, model)) in (start..).zip(cutouts) {
            let (row, island) = (&catalogue.rows[i], &islands[i]);
            let record = CutoutRecord {
                source_id: row.source_id.clone(),
                image_id: catalogue.image_id.clone(),
                name: row.name.clone(),
                ra_deg: row.ra,
                dec_deg: row.dec,
                ..island_record(island, side)
            };
            set.push(&record, &model)?;
        }
        start += chunk;
    }
    set.finish()?;
    Ok(())
}

/// SHA-256 of the file, hex: the image id sources are named under.
pub fn file_sha256(path: &Path) -> Result<String, SourcesError> {
    let mut file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let mut hash = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).map_err(|e| io_error(path, e))?;
        if n == 0 {
            break;
        }
        hash.update(&buffer[..n]);
    }
    Ok(hex::encode(hash.finalize()))
}

fn io_error(path: &Path, source: std::io::Error) -> SourcesError {
    SourcesError::Io {
        path: path.to_path_buf(),
        source,
    }
}
