//! The cutout set: what the source finder hands to the model, the trainer and the
//! evaluation protocol.
//!
//! A cutout set is a folder holding two files that describe the same sources in the
//! same order:
//! - `cutouts.safetensors`: one tensor `pixels`, `f32`, shape `[N, S, S]` (the
//!   model-sized, normalised images), with the set's format version and the
//!   normalisation used recorded in the safetensors metadata;
//! - `cutouts.csv`: one [`CutoutRecord`] per cutout (ids, position, island
//!   statistics used by the trivial baselines, and the label when one is known).
//!
//! safetensors rather than a bespoke binary: Python tools (and the PyTorch baseline
//! benchmark) read it with no Prospector code, and it is memory-safe to parse.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

pub const PIXELS_FILE: &str = "cutouts.safetensors";
pub const RECORDS_FILE: &str = "cutouts.csv";
const PIXELS_TENSOR: &str = "pixels";
const FORMAT_KEY: &str = "format";
const FORMAT_VERSION: &str = "prospector-cutouts/1";
const NORMALISATION_KEY: &str = "normalisation";

/// What is known of a source's nature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Typical,
    Exotic,
    Artefact,
    Unlabelled,
}

impl Label {
    pub fn is_labelled(self) -> bool {
        !matches!(self, Label::Unlabelled)
    }
}

/// One cutout's catalogue row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CutoutRecord {
    /// Content-derived source id (unique within and across images).
    pub source_id: String,
    /// SHA-256 of the image file the source was found in, or a dataset name.
    pub image_id: String,
    /// IAU-style name, e.g. `J1238-4813`.
    pub name: String,
    pub ra_deg: f64,
    pub dec_deg: f64,
    /// Island centroid in the full image's 0-based pixel coordinates.
    pub x: f64,
    pub y: f64,
    /// Peak of the island in Jy/beam.
    pub peak_flux: f64,
    /// Integrated flux of the island in Jy.
    pub total_flux: f64,
    /// Island size in pixels.
    pub island_pixels: u64,
    /// Side of the square cut from the image before resampling, in image pixels.
    pub cutout_side_px: u32,
    pub label: Label,
}

#[derive(Debug, thiserror::Error)]
pub enum CutoutSetError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a cutout set: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("cutout set is inconsistent: {0}")]
    Inconsistent(String),
}

/// A set of `len()` square cutouts of `side` x `side` pixels with their records.
#[derive(Debug, Clone, PartialEq)]
pub struct CutoutSet {
    side: usize,
    normalisation: String,
    records: Vec<CutoutRecord>,
    pixels: Vec<f32>,
}

impl CutoutSet {
    /// An empty set of `side` x `side` cutouts normalised as `normalisation`
    /// describes (free text recorded with the set, e.g. `"asinh(x/(3*rms)), min-max to [0,1]"`).
    pub fn new(side: usize, normalisation: impl Into<String>) -> Self {
        Self {
            side,
            normalisation: normalisation.into(),
            records: Vec::new(),
            pixels: Vec::new(),
        }
    }

    pub fn side(&self) -> usize {
        self.side
    }

    pub fn normalisation(&self) -> &str {
        &self.normalisation
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn records(&self) -> &[CutoutRecord] {
        &self.records
    }

    /// All pixels, cutout after cutout, `side * side` each.
    pub fn pixels(&self) -> &[f32] {
        &self.pixels
    }

    /// The pixels of cutout `index`.
    pub fn cutout(&self, index: usize) -> &[f32] {
        let n = self.side * self.side;
        &self.pixels[index * n..(index + 1) * n]
    }

    pub fn push(&mut self, record: CutoutRecord, pixels: &[f32]) -> Result<(), CutoutSetError> {
        if pixels.len() != self.side * self.side {
            return Err(CutoutSetError::Inconsistent(format!(
                "cutout {} has {} pixels, the set holds {}x{} cutouts",
                record.source_id,
                pixels.len(),
                self.side,
                self.side
            )));
        }
        self.records.push(record);
        self.pixels.extend_from_slice(pixels);
        Ok(())
    }

    /// A new set holding the cutouts at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> CutoutSet {
        let mut out = CutoutSet::new(self.side, self.normalisation.clone());
        for &i in indices {
            out.records.push(self.records[i].clone());
            out.pixels.extend_from_slice(self.cutout(i));
        }
        out
    }

    /// Appends every cutout of `other`, which must have the same side and normalisation.
    pub fn extend(&mut self, other: &CutoutSet) -> Result<(), CutoutSetError> {
        if other.side != self.side || other.normalisation != self.normalisation {
            return Err(CutoutSetError::Inconsistent(format!(
                "cannot join {}x{} cutouts ({}) to {}x{} cutouts ({})",
                other.side,
                other.side,
                other.normalisation,
                self.side,
                self.side,
                self.normalisation
            )));
        }
        self.records.extend_from_slice(&other.records);
        self.pixels.extend_from_slice(&other.pixels);
        Ok(())
    }

    /// Writes the set into folder `dir` (created if needed).
    pub fn write(&self, dir: &Path) -> Result<(), CutoutSetError> {
        fs::create_dir_all(dir).map_err(|source| CutoutSetError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let bytes: Vec<u8> = self.pixels.iter().flat_map(|v| v.to_le_bytes()).collect();
        let shape = vec![self.len(), self.side, self.side];
        let pixels_path = dir.join(PIXELS_FILE);
        let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape, &bytes)
            .map_err(|e| format_error(&pixels_path, e))?;
        let metadata = HashMap::from([
            (FORMAT_KEY.to_string(), FORMAT_VERSION.to_string()),
            (NORMALISATION_KEY.to_string(), self.normalisation.clone()),
        ]);
        let encoded = safetensors::serialize([(PIXELS_TENSOR, view)], Some(metadata))
            .map_err(|e| format_error(&pixels_path, e))?;
        write_file(&pixels_path, &encoded)?;

        let records_path = dir.join(RECORDS_FILE);
        let csv_error = |source| CutoutSetError::Csv {
            path: records_path.clone(),
            source,
        };
        let mut writer = csv::Writer::from_path(&records_path).map_err(csv_error)?;
        for record in &self.records {
            writer.serialize(record).map_err(csv_error)?;
        }
        writer.flush().map_err(|source| CutoutSetError::Io {
            path: records_path.clone(),
            source,
        })
    }

    /// Reads the set in folder `dir`, checking that both files describe the same cutouts.
    pub fn read(dir: &Path) -> Result<CutoutSet, CutoutSetError> {
        let pixels_path = dir.join(PIXELS_FILE);
        let bytes = fs::read(&pixels_path).map_err(|source| CutoutSetError::Io {
            path: pixels_path.clone(),
            source,
        })?;
        let (_, metadata) = safetensors::SafeTensors::read_metadata(&bytes)
            .map_err(|e| format_error(&pixels_path, e))?;
        let meta = metadata.metadata().clone().unwrap_or_default();
        if meta.get(FORMAT_KEY).map(String::as_str) != Some(FORMAT_VERSION) {
            return Err(format_error(
                &pixels_path,
                format!("metadata `{FORMAT_KEY}` is not `{FORMAT_VERSION}`"),
            ));
        }
        let normalisation = meta.get(NORMALISATION_KEY).cloned().unwrap_or_default();
        let tensors = safetensors::SafeTensors::deserialize(&bytes)
            .map_err(|e| format_error(&pixels_path, e))?;
        let tensor = tensors
            .tensor(PIXELS_TENSOR)
            .map_err(|e| format_error(&pixels_path, e))?;
        let shape = tensor.shape();
        if tensor.dtype() != safetensors::Dtype::F32 || shape.len() != 3 || shape[1] != shape[2] {
            return Err(format_error(
                &pixels_path,
                format!(
                    "tensor `{PIXELS_TENSOR}` is {:?} {:?}, expected F32 [N, S, S]",
                    tensor.dtype(),
                    shape
                ),
            ));
        }
        let pixels: Vec<f32> = tensor
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();

        let records_path = dir.join(RECORDS_FILE);
        let csv_error = |source| CutoutSetError::Csv {
            path: records_path.clone(),
            source,
        };
        let mut reader = csv::Reader::from_path(&records_path).map_err(csv_error)?;
        let records = reader
            .deserialize()
            .collect::<Result<Vec<CutoutRecord>, _>>()
            .map_err(csv_error)?;
        if records.len() != shape[0] {
            return Err(CutoutSetError::Inconsistent(format!(
                "{} lists {} cutouts but {} holds {}",
                records_path.display(),
                records.len(),
                pixels_path.display(),
                shape[0]
            )));
        }
        Ok(CutoutSet {
            side: shape[1],
            normalisation,
            records,
            pixels,
        })
    }
}

fn format_error(path: &Path, reason: impl std::fmt::Display) -> CutoutSetError {
    CutoutSetError::Format {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CutoutSetError> {
    fs::write(path, bytes).map_err(|source| CutoutSetError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, label: Label) -> CutoutRecord {
        CutoutRecord {
            source_id: id.to_string(),
            image_id: "img".to_string(),
            name: "J1238-4813".to_string(),
            ra_deg: 189.7,
            dec_deg: -48.2,
            x: 10.5,
            y: 20.25,
            peak_flux: 1e-3,
            total_flux: 2.5e-3,
            island_pixels: 42,
            cutout_side_px: 30,
            label,
        }
    }

    #[test]
    fn a_written_set_reads_back_identically() {
        let dir = tempfile::tempdir().unwrap();
        let mut set = CutoutSet::new(4, "min-max");
        set.push(record("a", Label::Typical), &[0.5; 16]).unwrap();
        set.push(
            record("b", Label::Exotic),
            &(0..16).map(|v| v as f32).collect::<Vec<_>>(),
        )
        .unwrap();
        set.write(dir.path()).unwrap();
        let back = CutoutSet::read(dir.path()).unwrap();
        assert_eq!(back, set);
        assert_eq!(back.cutout(1)[15], 15.0);
        assert_eq!(back.select(&[1]).records()[0].label, Label::Exotic);
    }

    #[test]
    fn mismatched_files_are_refused_with_both_names() {
        let dir = tempfile::tempdir().unwrap();
        let mut set = CutoutSet::new(2, "none");
        set.push(record("a", Label::Unlabelled), &[0.0; 4]).unwrap();
        set.push(record("b", Label::Unlabelled), &[0.0; 4]).unwrap();
        set.write(dir.path()).unwrap();
        set.select(&[0]).write(&dir.path().join("one")).unwrap();
        fs::copy(
            dir.path().join("one").join(RECORDS_FILE),
            dir.path().join(RECORDS_FILE),
        )
        .unwrap();
        let err = CutoutSet::read(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("lists 1 cutouts") && err.contains("holds 2"),
            "{err}"
        );
    }

    #[test]
    fn a_wrong_sized_cutout_is_refused() {
        let mut set = CutoutSet::new(3, "none");
        let err = set
            .push(record("a", Label::Typical), &[0.0; 4])
            .unwrap_err();
        assert!(err.to_string().contains("has 4 pixels"));
        assert!(set.is_empty());
    }

    #[test]
    fn a_foreign_file_is_not_taken_for_a_cutout_set() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join(PIXELS_FILE),
            b"SIMPLE  =                    T",
        )
        .unwrap();
        let err = CutoutSet::read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not a cutout set"), "{err}");
    }
}
