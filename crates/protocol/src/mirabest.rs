//! The labelled FIRST radio galaxies (MiraBest, `../shared/data/mirabest/`) as cutout sets.
//!
//! Each 150 x 150 FIRST image is centred on its catalogued galaxy. The source finder
//! runs on it exactly as on a survey tile (same thresholds, the FIRST beam since the
//! SkyView headers carry none), and the island nearest the image centre is cut out as
//! the galaxy, so the model sees these sources the way the survey pipeline would.
//!
//! The study's configurations B and C train on *unlabelled* survey sources. MiraBest has
//! no unlabelled sources, so the galaxies whose classification the catalogue marks
//! `uncertain` play that part (their labels are withheld from training and never
//! scored against), and the `confident` ones are the labelled set: like a survey, the
//! training pool then holds a few exotic sources nobody has flagged.

use crate::ProtocolError;
use prospector_cutouts::{CutoutRecord, CutoutSet, Label};
use prospector_fits::{FitsImage, OpenOptions};
use prospector_image::Beam;
use prospector_sources::cutout::{island_record, make_cutout};
use prospector_sources::{detect, FinderConfig, PixelBeam};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// FIRST's restoring beam: 5.4" circular (Becker, White & Helfand 1995; the SkyView
/// cutouts carry no beam keywords).
pub const FIRST_BEAM_ARCSEC: f64 = 5.4;

/// One row of `manifest_all_1256.csv`.
#[derive(Debug, Clone, Deserialize)]
struct ManifestRow {
    file: String,
    confidence: String,
    exotic_flag: u8,
    ra_deg: f64,
    dec_deg: f64,
}

/// The two cutout sets made from MiraBest, and the galaxies that could not be used.
#[derive(Debug)]
pub struct MiraBestSets {
    /// Confidently classified galaxies, labelled typical or exotic.
    pub labelled: CutoutSet,
    /// Uncertainly classified galaxies, labels withheld.
    pub unlabelled: CutoutSet,
    /// (file, why) for every galaxy left out, e.g. no island found.
    pub skipped: Vec<(String, String)>,
}

/// Finds each galaxy's island and cuts it out (see the module documentation).
pub fn mirabest_sets(
    data_dir: &Path,
    finder: &FinderConfig,
) -> Result<MiraBestSets, ProtocolError> {
    let manifest_path = data_dir.join("manifest_all_1256.csv");
    let mut reader = csv::Reader::from_path(&manifest_path).map_err(|e| ProtocolError::Data {
        path: manifest_path.clone(),
        reason: e.to_string(),
    })?;
    let rows: Vec<ManifestRow> = reader
        .deserialize()
        .collect::<Result<_, _>>()
        .map_err(|e| ProtocolError::Data {
            path: manifest_path.clone(),
            reason: e.to_string(),
        })?;
    let normalisation = finder.cutouts.stretch.describe();
    let side = finder.cutouts.size;
    let mut sets = MiraBestSets {
        labelled: CutoutSet::new(side, normalisation.clone()),
        unlabelled: CutoutSet::new(side, normalisation),
        skipped: Vec::new(),
    };
    for row in rows {
        let path = data_dir.join("fits150").join(&row.file);
        match galaxy_cutout(&path, finder) {
            Ok((pixels, mut record)) => {
                record.source_id = row.file.trim_end_matches(".fits").to_string();
                record.name = record.source_id.clone();
                record.ra_deg = row.ra_deg;
                record.dec_deg = row.dec_deg;
                let (set, label) = if row.confidence == "confident" {
                    let label = if row.exotic_flag == 1 {
                        Label::Exotic
                    } else {
                        Label::Typical
                    };
                    (&mut sets.labelled, label)
                } else {
                    (&mut sets.unlabelled, Label::Unlabelled)
                };
                record.label = label;
                set.push(record, &pixels)?;
            }
            Err(reason) => sets.skipped.push((row.file, reason)),
        }
    }
    Ok(sets)
}

/// The model-sized cutout of the island nearest the image centre, or why there is none.
fn galaxy_cutout(
    path: &PathBuf,
    finder: &FinderConfig,
) -> Result<(Vec<f32>, CutoutRecord), String> {
    let beam = Beam {
        major_deg: FIRST_BEAM_ARCSEC / 3600.0,
        minor_deg: FIRST_BEAM_ARCSEC / 3600.0,
        pa_deg: 0.0,
    };
    let options = OpenOptions {
        beam: Some(beam),
        ..OpenOptions::default()
    };
    let image = FitsImage::open(path, &options).map_err(|e| e.to_string())?;
    let pixels = image.read_all().map_err(|e| e.to_string())?;
    let pixel_beam = PixelBeam::new(&beam, image.wcs().pixel_area_sq_deg().sqrt());
    let detection = detect(&pixels, &pixel_beam, finder).map_err(|e| e.to_string())?;
    let (cx, cy) = (pixels.width() as f64 / 2.0, pixels.height() as f64 / 2.0);
    let island = detection
        .islands
        .iter()
        .min_by(|a, b| {
            let da = (a.x - cx).hypot(a.y - cy);
            let db = (b.x - cx).hypot(b.y - cy);
            da.total_cmp(&db)
        })
        .ok_or_else(|| "no island above the thresholds".to_string())?;
    let cutout = make_cutout(&pixels, island, &finder.cutouts).map_err(|e| e.to_string())?;
    let record = CutoutRecord {
        source_id: String::new(),
        image_id: "mirabest".to_string(),
        name: String::new(),
        ra_deg: 0.0,
        dec_deg: 0.0,
        ..island_record(island, cutout.side)
    };
    Ok((cutout.model, record))
}
