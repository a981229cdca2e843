//! What to simulate: the field's geometry, beam, noise, source population and
//! artefacts, with MeerKAT L-band defaults (MGCLS-like).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::class::SourceClass;
use crate::error::SimError;

/// A simulated field. Every field has a default, so a JSON/TOML config only
/// names what it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FieldConfig {
    /// Image width in pixels (default 2048).
    pub width: usize,
    /// Image height in pixels (default 2048).
    pub height: usize,
    /// Pixel size in arcsec, square pixels (default 1.5", MeerKAT L-band
    /// imaging samples its ~7.5" beam with about five pixels).
    pub pixel_scale_arcsec: f64,
    /// Restoring beam (default circular, 7.5" FWHM).
    pub beam: BeamConfig,
    /// Observing frequency in Hz (default 1.28 GHz); recorded, and passed to
    /// the FITS writer, but it does not change the pixels.
    pub frequency_hz: f64,
    /// Noise rms in Jy/beam (default 4 uJy/beam); 0 gives a noiseless sky.
    /// The noise is correlated like an interferometric image's: white
    /// Gaussian noise convolved with a Gaussian of half the beam's
    /// covariance (truncated at 4 sigma), so that its autocorrelation
    /// function is the beam itself, then scaled to exactly this rms.
    pub noise_rms_jy: f64,
    /// Sources per square degree between `flux.min_jy` and `flux.max_jy`
    /// (default 5000; MIGHTEE-like counts above ~20 uJy).
    pub source_density_per_sq_deg: f64,
    /// Differential flux distribution of all sources.
    pub flux: FluxDistribution,
    /// Probability that a source is drawn from the exotic classes (default
    /// 0.028, the exotic fraction of the MGCLS study).
    pub exotic_fraction: f64,
    /// Relative weights of the typical classes (default: 92% point and
    /// resolved sources, 6% FRI/FRII, 2% tailed, roughly the share of
    /// multi-component radio galaxies in deep 1.4 GHz surveys). Classes left out
    /// are never drawn.
    pub typical_weights: BTreeMap<SourceClass, f64>,
    /// Relative weights of the exotic classes.
    pub exotic_weights: BTreeMap<SourceClass, f64>,
    /// If set, sources of multi-component classes (everything but point and
    /// resolved Gaussian) draw their flux from the same power law cut at this
    /// lower limit instead of `flux.min_jy` (default unset). A faint
    /// arcminute-sized radio galaxy is far below the noise per beam, so
    /// without a floor most drawn exotic sources are undetectable and a
    /// source finder's sample holds far fewer than `exotic_fraction` of them;
    /// a floor of ~1 mJy keeps them visible. The exotic fraction of the
    /// catalogue is unchanged; the total flux distribution is then a mixture.
    pub complex_min_flux_jy: Option<f64>,
    /// Sidelobe-like artefacts around bright sources.
    pub artefacts: ArtefactConfig,
    /// Right ascension of the field centre (reference pixel), degrees (default 150).
    pub centre_ra_deg: f64,
    /// Declination of the field centre, degrees (default -30, a MeerKAT sky).
    pub centre_dec_deg: f64,
    /// Seed of every random quantity: the same seed gives the same bytes.
    pub seed: u64,
}

/// A Gaussian restoring beam, FWHMs in arcsec and the major axis position
/// angle east of north in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BeamConfig {
    pub major_arcsec: f64,
    pub minor_arcsec: f64,
    pub pa_deg: f64,
}

/// A power law dN/dS proportional to S^-slope between `min_jy` and `max_jy`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FluxDistribution {
    /// Faintest source, Jy (default 20 uJy, five times the default rms).
    pub min_jy: f64,
    /// Brightest source, Jy (default 1 Jy).
    pub max_jy: f64,
    /// Slope of the differential counts (default 1.7; 1.6 to 2 are typical
    /// of sub-mJy counts).
    pub slope: f64,
}

/// Sidelobe-like residual artefacts: around every source brighter than
/// `flux_threshold_jy`, radial spokes of alternating sign and concentric
/// rings of opposite sign, the pattern an imperfectly deconvolved dirty beam
/// leaves. Each pattern integrates to zero flux, so it never changes a
/// source's total flux, only its surroundings. The spoke orientation is the
/// same across the field, as a dirty beam's is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArtefactConfig {
    pub enabled: bool,
    /// Sources brighter than this (total flux, Jy) get artefacts (default 10 mJy).
    pub flux_threshold_jy: f64,
    /// Ridge brightness of the spokes where they start, relative to the
    /// source's peak (default 0.002: a 10 mJy source gets ~5 sigma spokes at
    /// the default noise). Spokes fade as 1/r.
    pub relative_amplitude: f64,
    /// Number of spoke lines through the source (default 3, i.e. six rays).
    pub spoke_lines: usize,
    /// Length of a ray in beam FWHMs (default 12).
    pub spoke_length_beams: f64,
    /// Pairs of positive/negative rings (default 1), from 3 beams out.
    pub ring_pairs: usize,
}

impl Default for FieldConfig {
    fn default() -> Self {
        Self {
            width: 2048,
            height: 2048,
            pixel_scale_arcsec: 1.5,
            beam: BeamConfig::default(),
            frequency_hz: 1.28e9,
            noise_rms_jy: 4e-6,
            source_density_per_sq_deg: 5000.0,
            flux: FluxDistribution::default(),
            exotic_fraction: 0.028,
            typical_weights: default_typical_weights(),
            exotic_weights: default_exotic_weights(),
            complex_min_flux_jy: None,
            artefacts: ArtefactConfig::default(),
            centre_ra_deg: 150.0,
            centre_dec_deg: -30.0,
            seed: 1,
        }
    }
}

impl Default for BeamConfig {
    fn default() -> Self {
        Self::circular(7.5)
    }
}

impl BeamConfig {
    pub fn circular(fwhm_arcsec: f64) -> Self {
        Self {
            major_arcsec: fwhm_arcsec,
            minor_arcsec: fwhm_arcsec,
            pa_deg: 0.0,
        }
    }

    /// The beam as the shared image type (degrees, as BMAJ/BMIN/BPA).
    pub fn to_beam(&self) -> prospector_image::Beam {
        prospector_image::Beam {
            major_deg: self.major_arcsec / 3600.0,
            minor_deg: self.minor_arcsec / 3600.0,
            pa_deg: self.pa_deg,
        }
    }
}

impl Default for FluxDistribution {
    fn default() -> Self {
        Self {
            min_jy: 20e-6,
            max_jy: 1.0,
            slope: 1.7,
        }
    }
}

impl Default for ArtefactConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            flux_threshold_jy: 0.01,
            relative_amplitude: 0.002,
            spoke_lines: 3,
            spoke_length_beams: 12.0,
            ring_pairs: 1,
        }
    }
}

fn default_typical_weights() -> BTreeMap<SourceClass, f64> {
    BTreeMap::from([
        (SourceClass::Point, 0.60),
        (SourceClass::ResolvedGaussian, 0.32),
        (SourceClass::Fri, 0.03),
        (SourceClass::Frii, 0.03),
        (SourceClass::WideAngleTail, 0.008),
        (SourceClass::NarrowAngleTail, 0.006),
        (SourceClass::HeadTail, 0.006),
    ])
}

fn default_exotic_weights() -> BTreeMap<SourceClass, f64> {
    BTreeMap::from([
        (SourceClass::XShaped, 0.20),
        (SourceClass::Ring, 0.15),
        (SourceClass::DoubleDouble, 0.15),
        (SourceClass::Halo, 0.10),
        (SourceClass::Relic, 0.10),
        (SourceClass::OneSided, 0.15),
        (SourceClass::Irregular, 0.15),
    ])
}

/// The most sources one field may be expected to hold (about 1 GB of
/// components): a guard against a density typo exhausting memory.
pub const MAX_EXPECTED_SOURCES: f64 = 10_000_000.0;

fn require(ok: bool, field: &'static str, reason: &str) -> Result<(), SimError> {
    if ok {
        Ok(())
    } else {
        Err(SimError::config(field, reason))
    }
}

fn positive(value: f64, field: &'static str) -> Result<(), SimError> {
    require(
        value.is_finite() && value > 0.0,
        field,
        &format!("must be a positive number, got {value}"),
    )
}

impl FluxDistribution {
    pub fn validate(&self) -> Result<(), SimError> {
        positive(self.min_jy, "flux.min_jy")?;
        require(
            self.max_jy.is_finite() && self.max_jy > self.min_jy,
            "flux.max_jy",
            &format!(
                "must exceed flux.min_jy ({}), got {}",
                self.min_jy, self.max_jy
            ),
        )?;
        require(self.slope.is_finite(), "flux.slope", "must be finite")
    }

    /// The flux distribution of sources of `class` under `config`.
    pub(crate) fn for_class(config: &FieldConfig, class: SourceClass) -> FluxDistribution {
        match config.complex_min_flux_jy {
            Some(floor) if class.is_multi_component() => FluxDistribution {
                min_jy: floor,
                ..config.flux
            },
            _ => config.flux,
        }
    }

    /// Inverse-CDF sample of the truncated power law for `u` in [0, 1).
    pub(crate) fn sample(&self, u: f64) -> f64 {
        let (lo, hi) = (self.min_jy, self.max_jy);
        let k = 1.0 - self.slope;
        if k.abs() < 1e-9 {
            return lo * (hi / lo).powf(u);
        }
        let (a, b) = (lo.powf(k), hi.powf(k));
        (a + u * (b - a)).powf(1.0 / k).clamp(lo, hi)
    }
}

impl BeamConfig {
    pub fn validate(&self) -> Result<(), SimError> {
        positive(self.major_arcsec, "beam.major_arcsec")?;
        positive(self.minor_arcsec, "beam.minor_arcsec")?;
        require(
            self.minor_arcsec <= self.major_arcsec,
            "beam.minor_arcsec",
            "must not exceed beam.major_arcsec",
        )?;
        require(self.pa_deg.is_finite(), "beam.pa_deg", "must be finite")
    }
}

fn validate_weights(
    weights: &BTreeMap<SourceClass, f64>,
    want_exotic: bool,
    field: &'static str,
) -> Result<(), SimError> {
    for (class, w) in weights {
        require(
            class.is_exotic() == want_exotic,
            field,
            &format!(
                "lists `{class}`, which is {} exotic",
                if want_exotic { "not" } else { "" }
            ),
        )?;
        require(
            w.is_finite() && *w >= 0.0,
            field,
            &format!("weight of `{class}` must be >= 0, got {w}"),
        )?;
    }
    require(
        weights.values().sum::<f64>() > 0.0,
        field,
        "needs at least one positive weight",
    )
}

impl FieldConfig {
    /// Checks every value, naming the first one out of range.
    pub fn validate(&self) -> Result<(), SimError> {
        require(
            self.width > 0 && self.height > 0,
            "width/height",
            "must both be at least 1 pixel",
        )?;
        require(
            self.width <= 1 << 20 && self.height <= 1 << 20,
            "width/height",
            "must be at most 1048576 pixels",
        )?;
        positive(self.pixel_scale_arcsec, "pixel_scale_arcsec")?;
        self.beam.validate()?;
        positive(self.frequency_hz, "frequency_hz")?;
        require(
            self.noise_rms_jy.is_finite() && self.noise_rms_jy >= 0.0,
            "noise_rms_jy",
            "must be >= 0",
        )?;
        require(
            self.source_density_per_sq_deg.is_finite() && self.source_density_per_sq_deg >= 0.0,
            "source_density_per_sq_deg",
            "must be >= 0",
        )?;
        let expected = self.source_density_per_sq_deg * self.area_sq_deg();
        require(
            expected <= MAX_EXPECTED_SOURCES,
            "source_density_per_sq_deg",
            &format!(
                "gives {expected:.0} sources over the image, more than the {MAX_EXPECTED_SOURCES:.0} a field holds in memory"
            ),
        )?;
        self.flux.validate()?;
        if let Some(floor) = self.complex_min_flux_jy {
            require(
                floor.is_finite() && floor >= self.flux.min_jy && floor < self.flux.max_jy,
                "complex_min_flux_jy",
                &format!(
                    "must lie in [flux.min_jy, flux.max_jy) = [{}, {}), got {floor}",
                    self.flux.min_jy, self.flux.max_jy
                ),
            )?;
        }
        require(
            (0.0..=1.0).contains(&self.exotic_fraction),
            "exotic_fraction",
            "must lie in [0, 1]",
        )?;
        if self.exotic_fraction < 1.0 {
            validate_weights(&self.typical_weights, false, "typical_weights")?;
        }
        if self.exotic_fraction > 0.0 {
            validate_weights(&self.exotic_weights, true, "exotic_weights")?;
        }
        self.artefacts.validate()?;
        require(
            self.centre_ra_deg.is_finite() && (-90.0..=90.0).contains(&self.centre_dec_deg),
            "centre_dec_deg",
            "must lie in [-90, 90] (and RA be finite)",
        )
    }

    /// Solid angle of the image in square degrees.
    pub fn area_sq_deg(&self) -> f64 {
        let deg = self.pixel_scale_arcsec / 3600.0;
        self.width as f64 * self.height as f64 * deg * deg
    }

    /// Beam solid angle in pixels: a sum of Jy/beam pixels divided by this is Jy.
    pub fn beam_area_pixels(&self) -> f64 {
        let deg = self.pixel_scale_arcsec / 3600.0;
        self.beam.to_beam().area_pixels(deg * deg)
    }
}

impl ArtefactConfig {
    pub fn validate(&self) -> Result<(), SimError> {
        positive(self.flux_threshold_jy, "artefacts.flux_threshold_jy")?;
        require(
            self.relative_amplitude.is_finite() && self.relative_amplitude >= 0.0,
            "artefacts.relative_amplitude",
            "must be >= 0",
        )?;
        require(
            self.spoke_length_beams.is_finite() && self.spoke_length_beams >= 0.0,
            "artefacts.spoke_length_beams",
            "must be >= 0",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_a_partial_json_config_keeps_them() {
        FieldConfig::default().validate().unwrap();
        let cfg: FieldConfig =
            serde_json::from_str(r#"{"width": 512, "flux": {"slope": 1.9}}"#).unwrap();
        assert_eq!(cfg.width, 512);
        assert_eq!(cfg.height, 2048);
        assert_eq!(cfg.flux.slope, 1.9);
        assert_eq!(cfg.flux.min_jy, 20e-6);
    }

    #[test]
    fn a_config_survives_json_including_class_weights() {
        let mut cfg = FieldConfig::default();
        cfg.exotic_weights.insert(SourceClass::Ring, 3.0);
        cfg.beam.pa_deg = 12.5;
        let text = serde_json::to_string(&cfg).unwrap();
        assert!(text.contains(r#""ring":3.0"#), "{text}");
        assert_eq!(serde_json::from_str::<FieldConfig>(&text).unwrap(), cfg);
    }

    #[test]
    fn bad_values_are_named_in_the_error() {
        let cfg = FieldConfig {
            exotic_fraction: 1.5,
            ..FieldConfig::default()
        };
        assert!(cfg
            .validate()
            .unwrap_err()
            .to_string()
            .contains("exotic_fraction"));
        let mut cfg = FieldConfig::default();
        cfg.typical_weights.insert(SourceClass::Ring, 1.0);
        let err = cfg.validate().unwrap_err().to_string();
        assert!(
            err.contains("typical_weights") && err.contains("ring"),
            "{err}"
        );
        let cfg = FieldConfig {
            width: 20_000,
            height: 20_000,
            source_density_per_sq_deg: 1e6,
            ..FieldConfig::default()
        };
        let err = cfg.validate().unwrap_err().to_string();
        assert!(
            err.contains("source_density_per_sq_deg") && err.contains("69444444"),
            "{err}"
        );
        let cfg: Result<FieldConfig, _> = serde_json::from_str(r#"{"widht": 512}"#);
        assert!(cfg.unwrap_err().to_string().contains("widht"));
    }

    #[test]
    fn power_law_sample_spans_the_range() {
        let f = FluxDistribution::default();
        assert!((f.sample(0.0) - f.min_jy).abs() < 1e-12);
        assert!((f.sample(1.0 - 1e-16) - f.max_jy).abs() / f.max_jy < 1e-6);
        let flat = FluxDistribution { slope: 1.0, ..f };
        assert!((flat.sample(0.5) - (f.min_jy * f.max_jy).sqrt()).abs() < 1e-9);
    }
}
