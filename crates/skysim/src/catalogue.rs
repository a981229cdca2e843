//! Source specifications, how a field draws them, and the truth catalogue.

use std::io::{Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::class::SourceClass;
use crate::config::{FieldConfig, FluxDistribution};
use crate::error::SimError;
use crate::rng::{stream, Stream};

/// Everything needed to place one source: drawn by [`draw_sources`] for a
/// simulated field, or written by hand to inject chosen sources
/// (injection-recovery tests).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SourceSpec {
    pub class: SourceClass,
    /// Flux-weighted centroid, 0-based pixels of the full image.
    pub x: f64,
    pub y: f64,
    /// Total flux density, Jy.
    pub flux_jy: f64,
    /// Intended largest angular size, arcsec (ignored for point sources);
    /// the catalogue records the size of the model actually built.
    pub size_arcsec: f64,
    /// Position angle of the source axis, degrees east of north.
    pub pa_deg: f64,
    /// Seed of the class's random details (asymmetries, bends).
    pub shape_seed: u64,
}

/// One row of the truth catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TruthSource {
    /// Index of the source in its field (its [`SourceSpec`]'s position in the list).
    pub id: u64,
    pub ra_deg: f64,
    pub dec_deg: f64,
    /// Flux-weighted centroid of the intrinsic model, 0-based pixels.
    pub x: f64,
    pub y: f64,
    pub class: SourceClass,
    /// Whether `class` is one of the exotic classes.
    pub exotic: bool,
    /// Total flux density, Jy: the integral of the rendered source.
    pub flux_jy: f64,
    /// Peak surface brightness of the beam-convolved, noiseless source, Jy/beam.
    pub peak_jy_beam: f64,
    /// Largest angular size of the intrinsic (unconvolved) model, arcsec; 0
    /// for point sources.
    pub size_arcsec: f64,
    /// Position angle of the source axis, degrees east of north.
    pub pa_deg: f64,
}

/// Draws the field's source list from its configuration: a Poisson number
/// of sources of mean `density * area`, positions uniform over the image, exotic with
/// probability `exotic_fraction`, classes by weight, power-law fluxes,
/// log-uniform sizes in each class's range and uniform position angles.
/// Source `i` depends only on `(seed, i)` and the image size, so changing
/// the density only adds or removes sources at the end of the list. Only
/// sources centred inside the image are drawn: the sky beyond its edge is
/// empty, and a source near the edge may be cut by it (it stays in the
/// catalogue).
pub fn draw_sources(config: &FieldConfig) -> Result<Vec<SourceSpec>, SimError> {
    config.validate()?;
    let mean = config.source_density_per_sq_deg * config.area_sq_deg();
    let count = Stream::new(config.seed, stream::SOURCES, -1).poisson(mean);
    let classes = ClassPicker::new(config, config.exotic_fraction);
    Ok((0..count)
        .map(|i| {
            let mut rng = Stream::new(config.seed, stream::SOURCES, i as i64);
            let x = rng.range(-0.5, config.width as f64 - 0.5);
            let y = rng.range(-0.5, config.height as f64 - 0.5);
            let class = classes.pick(&mut rng);
            let flux_jy = FluxDistribution::for_class(config, class).sample(rng.uniform());
            SourceSpec {
                class,
                x,
                y,
                flux_jy,
                size_arcsec: draw_size(class, &mut rng),
                pa_deg: rng.angle_deg(),
                shape_seed: rng.next_u64(),
            }
        })
        .collect())
}

/// Draws classes: exotic with a given probability, then by the configured
/// weights within the typical or exotic group.
pub(crate) struct ClassPicker {
    exotic_fraction: f64,
    typical: (Vec<SourceClass>, Vec<f64>),
    exotic: (Vec<SourceClass>, Vec<f64>),
}

impl ClassPicker {
    pub fn new(config: &FieldConfig, exotic_fraction: f64) -> Self {
        let split = |weights: &std::collections::BTreeMap<SourceClass, f64>| {
            (
                weights.keys().copied().collect(),
                weights.values().copied().collect(),
            )
        };
        Self {
            exotic_fraction,
            typical: split(&config.typical_weights),
            exotic: split(&config.exotic_weights),
        }
    }

    pub fn pick(&self, rng: &mut Stream) -> SourceClass {
        let (classes, weights) = if rng.chance(self.exotic_fraction) {
            &self.exotic
        } else {
            &self.typical
        };
        classes[rng.weighted_index(weights)]
    }
}

/// A log-uniform size in the class's range (0 for point sources).
pub(crate) fn draw_size(class: SourceClass, rng: &mut Stream) -> f64 {
    let (lo, hi) = class.size_range_arcsec();
    if hi > 0.0 {
        rng.log_range(lo, hi)
    } else {
        0.0
    }
}

/// Writes the truth catalogue as CSV with a header row (column names are the
/// [`TruthSource`] field names).
pub fn write_truth_csv<W: Write>(sources: &[TruthSource], out: W) -> Result<(), csv::Error> {
    let mut writer = csv::Writer::from_writer(out);
    for source in sources {
        writer.serialize(source)?;
    }
    writer.flush()?;
    Ok(())
}

/// Reads a truth catalogue written by [`write_truth_csv`].
pub fn read_truth_csv<R: Read>(input: R) -> Result<Vec<TruthSource>, csv::Error> {
    csv::Reader::from_reader(input).deserialize().collect()
}

/// [`write_truth_csv`] to a file, with the path in any error.
pub fn save_truth_csv(sources: &[TruthSource], path: &Path) -> Result<(), SimError> {
    let wrap = |source| SimError::Catalogue {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::create(path).map_err(|e| wrap(e.into()))?;
    write_truth_csv(sources, std::io::BufWriter::new(file)).map_err(wrap)
}

/// [`read_truth_csv`] from a file, with the path in any error.
pub fn load_truth_csv(path: &Path) -> Result<Vec<TruthSource>, SimError> {
    let wrap = |source| SimError::Catalogue {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(|e| wrap(e.into()))?;
    read_truth_csv(std::io::BufReader::new(file)).map_err(wrap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truth_csv_round_trips_and_names_its_columns() {
        let row = TruthSource {
            id: 3,
            ra_deg: 150.1,
            dec_deg: -30.2,
            x: 12.5,
            y: 99.25,
            class: SourceClass::DoubleDouble,
            exotic: true,
            flux_jy: 1.5e-3,
            peak_jy_beam: 2e-4,
            size_arcsec: 120.0,
            pa_deg: 33.0,
        };
        let mut bytes = Vec::new();
        write_truth_csv(std::slice::from_ref(&row), &mut bytes).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(
            "id,ra_deg,dec_deg,x,y,class,exotic,flux_jy,peak_jy_beam,size_arcsec,pa_deg\n"
        ));
        assert!(text.contains(",double_double,true,"));
        assert_eq!(read_truth_csv(bytes.as_slice()).unwrap(), vec![row]);
    }

    #[test]
    fn a_missing_catalogue_file_is_named_in_the_error() {
        let err = load_truth_csv(Path::new("/nonexistent/truth.csv")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/truth.csv"), "{err}");
    }
}
