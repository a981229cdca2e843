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
use std::fs::{self, File};
use std::io::{BufWriter, Seek, SeekFrom, Write};
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
        check_cutout_size(&record, pixels, self.side)?;
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
        let mut writer = CutoutSetWriter::create(dir, self.side, &self.normalisation)?;
        for (i, record) in self.records.iter().enumerate() {
            writer.push(record, self.cutout(i))?;
        }
        writer.finish()
    }

    /// Reads the set in folder `dir`, checking that both files describe the same cutouts.
    pub fn read(dir: &Path) -> Result<CutoutSet, CutoutSetError> {
        let pixels_path = dir.join(PIXELS_FILE);
        let bytes = fs::read(&pixels_path).map_err(|e| io_error(&pixels_path, e))?;
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

/// Writes a cutout set one cutout at a time, so that a survey-sized set never sits in
/// memory: the pixels stream to disk behind a header slot that is filled in by
/// [`finish`](Self::finish), once the number of cutouts is known. (safetensors allows a
/// header padded with spaces, which is what makes the fixed-size slot legal.)
#[derive(Debug)]
pub struct CutoutSetWriter {
    side: usize,
    normalisation: String,
    count: usize,
    pixels_path: PathBuf,
    pixels: BufWriter<File>,
    records_path: PathBuf,
    records: csv::Writer<File>,
}

/// Bytes reserved for the safetensors JSON header; ample for one tensor and the metadata.
const HEADER_SLOT: usize = 4096;

impl CutoutSetWriter {
    /// Starts a set of `side` x `side` cutouts in folder `dir` (created if needed).
    pub fn create(dir: &Path, side: usize, normalisation: &str) -> Result<Self, CutoutSetError> {
        fs::create_dir_all(dir).map_err(|source| io_error(dir, source))?;
        let pixels_path = dir.join(PIXELS_FILE);
        let file = File::create(&pixels_path).map_err(|e| io_error(&pixels_path, e))?;
        let mut pixels = BufWriter::new(file);
        pixels
            .write_all(&[0u8; 8 + HEADER_SLOT])
            .map_err(|e| io_error(&pixels_path, e))?;
        let records_path = dir.join(RECORDS_FILE);
        let records =
            csv::Writer::from_path(&records_path).map_err(|source| CutoutSetError::Csv {
                path: records_path.clone(),
                source,
            })?;
        Ok(Self {
            side,
            normalisation: normalisation.to_string(),
            count: 0,
            pixels_path,
            pixels,
            records_path,
            records,
        })
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn push(&mut self, record: &CutoutRecord, pixels: &[f32]) -> Result<(), CutoutSetError> {
        check_cutout_size(record, pixels, self.side)?;
        for value in pixels {
            self.pixels
                .write_all(&value.to_le_bytes())
                .map_err(|e| io_error(&self.pixels_path, e))?;
        }
        self.records
            .serialize(record)
            .map_err(|source| CutoutSetError::Csv {
                path: self.records_path.clone(),
                source,
            })?;
        self.count += 1;
        Ok(())
    }

    /// Writes the header and flushes both files.
    pub fn finish(mut self) -> Result<(), CutoutSetError> {
        let data_len = self.count * self.side * self.side * 4;
        let header = serde_json::json!({
            "__metadata__": {
                FORMAT_KEY: FORMAT_VERSION,
                NORMALISATION_KEY: self.normalisation,
            },
            PIXELS_TENSOR: {
                "dtype": "F32",
                "shape": [self.count, self.side, self.side],
                "data_offsets": [0, data_len],
            },
        })
        .to_string();
        if header.len() > HEADER_SLOT {
            return Err(format_error(
                &self.pixels_path,
                format!(
                    "header of {} bytes exceeds its {HEADER_SLOT}-byte slot",
                    header.len()
                ),
            ));
        }
        let mut slot = Vec::with_capacity(8 + HEADER_SLOT);
        slot.extend_from_slice(&(HEADER_SLOT as u64).to_le_bytes());
        slot.extend_from_slice(header.as_bytes());
        slot.resize(8 + HEADER_SLOT, b' ');
        let path = self.pixels_path.clone();
        let mut file = self
            .pixels
            .into_inner()
            .map_err(|e| io_error(&path, e.into_error()))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| io_error(&path, e))?;
        file.write_all(&slot).map_err(|e| io_error(&path, e))?;
        file.sync_all().map_err(|e| io_error(&path, e))?;
        self.records
            .flush()
            .map_err(|e| io_error(&self.records_path, e))
    }
}

fn check_cutout_size(
    record: &CutoutRecord,
    pixels: &[f32],
    side: usize,
) -> Result<(), CutoutSetError> {
    if pixels.len() == side * side {
        return Ok(());
    }
    Err(CutoutSetError::Inconsistent(format!(
        "cutout {} has {} pixels, the set holds {side}x{side} cutouts",
        record.source_id,
        pixels.len(),
    )))
}

fn io_error(path: &Path, source: std::io::Error) -> CutoutSetError {
    CutoutSetError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn format_error(path: &Path, reason: impl std::fmt::Display) -> CutoutSetError {
    CutoutSetError::Format {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
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
    fn a_streamed_set_reads_back_as_written_and_python_tools_can_parse_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = CutoutSetWriter::create(dir.path(), 3, "asinh").unwrap();
        for i in 0..5 {
            let pixels: Vec<f32> = (0..9).map(|p| (i * 9 + p) as f32).collect();
            writer
                .push(&record(&format!("s{i}"), Label::Unlabelled), &pixels)
                .unwrap();
        }
        assert_eq!(writer.len(), 5);
        writer.finish().unwrap();
        let back = CutoutSet::read(dir.path()).unwrap();
        assert_eq!(
            (back.len(), back.side(), back.normalisation()),
            (5, 3, "asinh")
        );
        assert_eq!(back.cutout(4)[8], 44.0);
        // The padded header is what the safetensors reference parser accepts.
        let bytes = fs::read(dir.path().join(PIXELS_FILE)).unwrap();
        let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(tensors.tensor(PIXELS_TENSOR).unwrap().shape(), &[5, 3, 3]);
    }

    #[test]
    fn an_empty_streamed_set_is_a_valid_set() {
        let dir = tempfile::tempdir().unwrap();
        CutoutSetWriter::create(dir.path(), 64, "min-max")
            .unwrap()
            .finish()
            .unwrap();
        let back = CutoutSet::read(dir.path()).unwrap();
        assert!(back.is_empty());
        assert_eq!(back.side(), 64);
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
