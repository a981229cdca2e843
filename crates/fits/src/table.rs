//! FITS binary tables for catalogues (PyBDSF-style source and Gaussian lists).

use std::path::Path;

use fitsio::tables::{ColumnDataType, ColumnDescription};
use fitsio::FitsFile;

use crate::paths::literal_cfitsio_path;
use crate::FitsError;

/// EXTNAME of the table HDU.
pub const CATALOGUE_EXTNAME: &str = "CATALOG";

/// One table column: a name (TTYPEn), an optional unit (TUNITn) and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub unit: Option<String>,
    pub data: ColumnData,
}

/// The values of a column; all columns of a table have the same length.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// TFORM 'D'; NaN is written as NaN (FITS's null for floats).
    F64(Vec<f64>),
    /// TFORM 'K'.
    I64(Vec<i64>),
    /// TFORM 'nA', n the longest value; printable ASCII only.
    Text(Vec<String>),
}

impl Column {
    pub fn new(name: impl Into<String>, unit: Option<&str>, data: ColumnData) -> Self {
        Self {
            name: name.into(),
            unit: unit.map(str::to_string),
            data,
        }
    }

    fn len(&self) -> usize {
        match &self.data {
            ColumnData::F64(v) => v.len(),
            ColumnData::I64(v) => v.len(),
            ColumnData::Text(v) => v.len(),
        }
    }
}

/// Writes `columns` as a binary table in extension `CATALOG` of a new FITS file
/// (an existing file is replaced); the primary HDU is empty.
pub fn write_table(path: impl AsRef<Path>, columns: &[Column]) -> Result<(), FitsError> {
    let path = path.as_ref();
    check_columns(columns).map_err(|reason| FitsError::InvalidOutput {
        path: path.to_path_buf(),
        reason,
    })?;
    let fail = |action| move |e| FitsError::cfitsio(path, action, e);
    let descriptions = columns
        .iter()
        .map(|c| {
            let mut d = ColumnDescription::new(c.name.clone());
            match &c.data {
                ColumnData::F64(_) => d.with_type(ColumnDataType::Double),
                ColumnData::I64(_) => d.with_type(ColumnDataType::LongLong),
                ColumnData::Text(v) => {
                    let width = v.iter().map(String::len).max().unwrap_or(1).max(1);
                    d.with_type(ColumnDataType::Text).that_repeats(width)
                }
            };
            d.create()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail("describe the columns"))?;
    let mut file = FitsFile::create(literal_cfitsio_path(path)?)
        .overwrite()
        .open()
        .map_err(fail("create the file"))?;
    let hdu = file
        .create_table(CATALOGUE_EXTNAME, &descriptions)
        .map_err(fail("create the table"))?;
    for (n, column) in columns.iter().enumerate() {
        if let Some(unit) = &column.unit {
            hdu.write_key(&mut file, &format!("TUNIT{}", n + 1), unit.as_str())
                .map_err(fail("write a column unit"))?;
        }
        if column.len() == 0 {
            continue;
        }
        let name = column.name.as_str();
        match &column.data {
            ColumnData::F64(v) => hdu.write_col(&mut file, name, v),
            ColumnData::I64(v) => hdu.write_col(&mut file, name, v),
            ColumnData::Text(v) => hdu.write_col(&mut file, name, v),
        }
        .map_err(fail("write a column"))?;
    }
    Ok(())
}

fn check_columns(columns: &[Column]) -> Result<(), String> {
    let rows = columns.first().map(Column::len).unwrap_or(0);
    if columns.is_empty() {
        return Err("a table needs at least one column".into());
    }
    let printable = |s: &str| s.chars().all(|c| (' '..='~').contains(&c));
    for (i, column) in columns.iter().enumerate() {
        if column.name.is_empty() || !printable(&column.name) {
            return Err(format!(
                "column {}: name '{}' is empty or not printable ASCII",
                i + 1,
                column.name
            ));
        }
        if columns[..i]
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(&column.name))
        {
            return Err(format!("column name '{}' appears twice", column.name));
        }
        if column.len() != rows {
            return Err(format!(
                "column '{}' has {} rows, column '{}' has {rows}",
                column.name,
                column.len(),
                columns[0].name
            ));
        }
        if column.unit.as_deref().is_some_and(|u| !printable(u)) {
            return Err(format!(
                "column '{}': unit is not printable ASCII",
                column.name
            ));
        }
        if let ColumnData::Text(values) = &column.data {
            if let Some(bad) = values.iter().find(|v| !printable(v)) {
                return Err(format!(
                    "column '{}': value {bad:?} is not printable ASCII",
                    column.name
                ));
            }
        }
    }
    Ok(())
}
