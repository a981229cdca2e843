//! Labelled single-source stamps for model tests and quick experiments.
//!
//! Each stamp is a tiny simulated field: one source at its centre (the
//! labelled one) plus the neighbours the field's source density puts there,
//! under the field's beam, noise and artefacts. Survey-style training data
//! (simulate fields, run the source finder, cut out what it finds) is made
//! from [`crate::Field`]s instead; stamps skip the finder.

use prospector_image::Image;
use serde::{Deserialize, Serialize};

use crate::catalogue::{draw_size, draw_sources, ClassPicker, SourceSpec, TruthSource};
use crate::config::{FieldConfig, FluxDistribution};
use crate::error::SimError;
use crate::field::Field;
use crate::rng::{hash3, stream, Stream};

/// What stamps to make.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StampConfig {
    /// Stamp side in pixels (default 64).
    pub size_px: usize,
    /// Probability that the central source is exotic (default 0.028).
    pub exotic_fraction: f64,
    /// Flux distribution of the central source (default log-uniform, slope
    /// 1, from 0.2 to 50 mJy: 50 to 12,500 times the default rms).
    pub central_flux: FluxDistribution,
    /// Largest size of the central source as a fraction of the stamp side
    /// (default 0.8); larger draws are shrunk to it so the source fits.
    pub max_size_fraction: f64,
    /// The sky the stamps are cut from: pixel scale, beam, noise, artefacts,
    /// class weights and the density and fluxes of neighbours. Its width,
    /// height and seed are ignored.
    pub field: FieldConfig,
}

impl Default for StampConfig {
    fn default() -> Self {
        Self {
            size_px: 64,
            exotic_fraction: 0.028,
            central_flux: FluxDistribution {
                min_jy: 2e-4,
                max_jy: 0.05,
                slope: 1.0,
            },
            max_size_fraction: 0.8,
            field: FieldConfig::default(),
        }
    }
}

/// One stamp and its labels.
#[derive(Debug, Clone)]
pub struct LabelledStamp {
    /// `size_px` x `size_px` pixels in Jy/beam, at the origin.
    pub image: Image,
    /// The centred source; `central.exotic` is the label.
    pub central: TruthSource,
    /// Other sources whose centroids fall in the stamp.
    pub neighbours: Vec<TruthSource>,
}

impl StampConfig {
    fn stamp_field(&self, stamp_seed: u64) -> FieldConfig {
        FieldConfig {
            width: self.size_px,
            height: self.size_px,
            seed: stamp_seed,
            ..self.field.clone()
        }
    }

    pub fn validate(&self) -> Result<(), SimError> {
        if self.size_px < 8 {
            return Err(SimError::config("size_px", "must be at least 8 pixels"));
        }
        if !(0.0..=1.0).contains(&self.exotic_fraction) {
            return Err(SimError::config("exotic_fraction", "must lie in [0, 1]"));
        }
        if !(self.max_size_fraction > 0.0 && self.max_size_fraction <= 1.0) {
            return Err(SimError::config("max_size_fraction", "must lie in (0, 1]"));
        }
        self.central_flux.validate()?;
        // The central source's class is drawn with the field's weights.
        FieldConfig {
            exotic_fraction: self.exotic_fraction,
            ..self.stamp_field(0)
        }
        .validate()
    }
}

/// Makes `count` labelled stamps; stamp `i` depends only on `(seed, i)` and
/// the configuration.
pub fn simulate_stamps(
    config: &StampConfig,
    count: usize,
    seed: u64,
) -> Result<Vec<LabelledStamp>, SimError> {
    config.validate()?;
    (0..count).map(|i| stamp(config, seed, i)).collect()
}

fn stamp(config: &StampConfig, seed: u64, index: usize) -> Result<LabelledStamp, SimError> {
    let mut rng = Stream::new(seed, stream::STAMPS, index as i64);
    let field_config = config.stamp_field(hash3(seed ^ stream::STAMPS, index as i64, 1));
    let class = ClassPicker::new(&field_config, config.exotic_fraction).pick(&mut rng);
    let max_size =
        config.max_size_fraction * config.size_px as f64 * field_config.pixel_scale_arcsec;
    let centre = config.size_px as f64 / 2.0;
    let central = SourceSpec {
        class,
        x: centre + rng.range(-0.5, 0.5),
        y: centre + rng.range(-0.5, 0.5),
        flux_jy: config.central_flux.sample(rng.uniform()),
        size_arcsec: draw_size(class, &mut rng).min(max_size),
        pa_deg: rng.angle_deg(),
        shape_seed: rng.next_u64(),
    };
    let mut specs = vec![central];
    specs.extend(draw_sources(&field_config)?);
    let field = Field::with_sources(field_config, &specs)?;
    let image = field.render_rect_threads(field.bounds(), 1)?;
    let mut truth = field.truth().to_vec();
    let neighbours = truth.split_off(1);
    Ok(LabelledStamp {
        image,
        central: truth.remove(0),
        neighbours,
    })
}
