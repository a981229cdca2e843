//! The sources the protocol works on: labelled (typical or exotic) and unlabelled.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::EvalError;

/// One of the study's three configurations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Configuration {
    /// Train on labelled typical sources; test on all exotic + one held-out typical set.
    A,
    /// Train on the unlabelled sources; test as A.
    B,
    /// Train on the unlabelled sources; test on every labelled source.
    C,
}

impl Configuration {
    pub const ALL: [Configuration; 3] = [Configuration::A, Configuration::B, Configuration::C];

    pub fn index(self) -> u64 {
        match self {
            Configuration::A => 0,
            Configuration::B => 1,
            Configuration::C => 2,
        }
    }

    pub fn parse(text: &str) -> Result<Self, EvalError> {
        match text.trim().to_ascii_uppercase().as_str() {
            "A" => Ok(Configuration::A),
            "B" => Ok(Configuration::B),
            "C" => Ok(Configuration::C),
            other => Err(EvalError::Setup(format!(
                "unknown configuration {other:?}; expected A, B or C"
            ))),
        }
    }
}

impl fmt::Display for Configuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Configuration::A => "A",
            Configuration::B => "B",
            Configuration::C => "C",
        };
        f.write_str(name)
    }
}

/// A source with a label; `exotic` is the positive class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelledSource {
    pub id: String,
    pub exotic: bool,
}

/// Labelled and unlabelled sources, checked: ids unique, the two sets disjoint, both
/// classes present.
#[derive(Debug, Clone)]
pub struct Dataset {
    labelled: Vec<LabelledSource>,
    unlabelled: Vec<String>,
}

impl Dataset {
    pub fn new(labelled: Vec<LabelledSource>, unlabelled: Vec<String>) -> Result<Self, EvalError> {
        let mut seen = HashSet::new();
        for id in labelled.iter().map(|s| &s.id) {
            if !seen.insert(id.as_str()) {
                return Err(EvalError::Setup(format!(
                    "labelled source {id:?} listed twice"
                )));
            }
        }
        let mut seen_unlabelled = HashSet::new();
        for id in &unlabelled {
            if seen.contains(id.as_str()) {
                return Err(EvalError::Setup(format!(
                    "source {id:?} is both labelled and unlabelled"
                )));
            }
            if !seen_unlabelled.insert(id.as_str()) {
                return Err(EvalError::Setup(format!(
                    "unlabelled source {id:?} listed twice"
                )));
            }
        }
        // Each half of a test set needs both classes to choose and measure thresholds.
        let exotic = labelled.iter().filter(|s| s.exotic).count();
        let typical = labelled.len() - exotic;
        if exotic < 2 || typical < 2 {
            return Err(EvalError::Setup(format!(
                "the labelled set needs both classes, at least 2 sources each (one per test \
                 half); it has {exotic} exotic and {typical} typical"
            )));
        }
        Ok(Dataset {
            labelled,
            unlabelled,
        })
    }

    /// Reads labels from a CSV file with a header: `id_column` names each source and
    /// `exotic_column` holds 1/0 or true/false (e.g. MiraBest's `file` and `exotic_flag`).
    pub fn labelled_from_csv(
        path: &Path,
        id_column: &str,
        exotic_column: &str,
    ) -> Result<Vec<LabelledSource>, EvalError> {
        let data_error = |reason: String| EvalError::Data {
            path: path.to_path_buf(),
            reason,
        };
        let mut reader = csv::Reader::from_path(path).map_err(|e| data_error(e.to_string()))?;
        let headers = reader
            .headers()
            .map_err(|e| data_error(e.to_string()))?
            .clone();
        let column = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .ok_or_else(|| data_error(format!("no column {name:?} in the header")))
        };
        let (id_at, flag_at) = (column(id_column)?, column(exotic_column)?);
        let mut sources = Vec::new();
        for (line, record) in reader.records().enumerate() {
            let record = record.map_err(|e| data_error(e.to_string()))?;
            let field = |at: usize| record.get(at).unwrap_or("").trim();
            let exotic = match field(flag_at).to_ascii_lowercase().as_str() {
                "1" | "true" => true,
                "0" | "false" => false,
                other => {
                    return Err(data_error(format!(
                        "row {}: {exotic_column} is {other:?}, expected 1/0 or true/false",
                        line + 2
                    )))
                }
            };
            sources.push(LabelledSource {
                id: field(id_at).to_string(),
                exotic,
            });
        }
        Ok(sources)
    }

    pub fn labelled(&self) -> &[LabelledSource] {
        &self.labelled
    }

    pub fn unlabelled(&self) -> &[String] {
        &self.unlabelled
    }

    pub fn exotic(&self) -> impl Iterator<Item = &LabelledSource> {
        self.labelled.iter().filter(|s| s.exotic)
    }

    pub fn typical(&self) -> impl Iterator<Item = &LabelledSource> {
        self.labelled.iter().filter(|s| !s.exotic)
    }
}
