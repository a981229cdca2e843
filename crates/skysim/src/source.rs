//! Turns a [`SourceSpec`] into beam-convolved pixel components.

use crate::catalogue::SourceSpec;
use crate::config::FieldConfig;
use crate::gaussian::{mixture_peak, Blob, Covariance, PixelGaussian};
use crate::morphology;
use crate::rng::{stream, Stream};

/// The pixel grid and beam every component is rendered for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Optics {
    pub pixel_scale_arcsec: f64,
    pub beam: Covariance,
    /// The beam's major-axis FWHM in pixels.
    pub beam_fwhm_px: f64,
}

impl Optics {
    pub fn of(config: &FieldConfig) -> Self {
        Self {
            pixel_scale_arcsec: config.pixel_scale_arcsec,
            beam: Covariance::of_beam(&config.beam, config.pixel_scale_arcsec),
            beam_fwhm_px: config.beam.major_arcsec / config.pixel_scale_arcsec,
        }
    }
}

/// A source ready to render, with the catalogue quantities measured from
/// the model that was actually built.
#[derive(Debug, Clone)]
pub(crate) struct BuiltSource {
    pub components: Vec<PixelGaussian>,
    pub size_arcsec: f64,
    pub peak_jy_beam: f64,
}

/// Builds the class's intrinsic model, normalises it to the spec's flux,
/// recentres it on its flux-weighted centroid at `(spec.x, spec.y)`, turns it
/// to the position angle and convolves each component with the beam.
pub(crate) fn build(spec: &SourceSpec, optics: &Optics) -> BuiltSource {
    let mut rng = Stream::new(spec.shape_seed, stream::SOURCES, -1);
    let mut blobs = morphology::build(spec.class, spec.size_arcsec, &mut rng);
    let total: f64 = blobs.iter().map(|b| b.weight).sum();
    let centre_along = blobs.iter().map(|b| b.weight * b.along).sum::<f64>() / total;
    let centre_across = blobs.iter().map(|b| b.weight * b.across).sum::<f64>() / total;
    for b in &mut blobs {
        b.weight /= total;
        b.along -= centre_along;
        b.across -= centre_across;
    }
    let size_arcsec = morphology::largest_angular_size(&blobs);
    let components: Vec<PixelGaussian> = blobs.iter().map(|b| to_pixels(b, spec, optics)).collect();
    let peak_jy_beam = mixture_peak(&components);
    BuiltSource {
        components,
        size_arcsec,
        peak_jy_beam,
    }
}

fn to_pixels(blob: &Blob, spec: &SourceSpec, optics: &Optics) -> PixelGaussian {
    let (sin, cos) = spec.pa_deg.to_radians().sin_cos();
    // `along` points at the PA, `across` at PA + 90 (both east of north).
    let east = blob.along * sin + blob.across * cos;
    let north = blob.along * cos - blob.across * sin;
    let scale = optics.pixel_scale_arcsec;
    let intrinsic = Covariance::from_fwhm(
        blob.major / scale,
        blob.minor / scale,
        spec.pa_deg + blob.angle_deg,
    );
    PixelGaussian::convolved(
        spec.x - east / scale,
        spec.y + north / scale,
        spec.flux_jy * blob.weight,
        &intrinsic,
        &optics.beam,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::class::SourceClass;

    fn optics() -> Optics {
        Optics::of(&FieldConfig::default())
    }

    #[test]
    fn components_carry_the_total_flux_and_centre_on_the_position() {
        for class in SourceClass::ALL {
            let spec = SourceSpec {
                class,
                x: 400.0,
                y: 300.0,
                flux_jy: 0.01,
                size_arcsec: 80.0,
                pa_deg: 30.0,
                shape_seed: 9,
            };
            let built = build(&spec, &optics());
            let flux: f64 = built.components.iter().map(|c| c.flux_jy).sum();
            assert!((flux - 0.01).abs() < 1e-12, "{class}: {flux}");
            let weighted = |coordinate: fn(&PixelGaussian) -> f64| {
                built
                    .components
                    .iter()
                    .map(|c| coordinate(c) * c.flux_jy)
                    .sum::<f64>()
                    / flux
            };
            let (cx, cy) = (weighted(|c| c.x), weighted(|c| c.y));
            assert!(
                (cx - 400.0).abs() < 1e-9 && (cy - 300.0).abs() < 1e-9,
                "{class}: centroid {cx}, {cy}"
            );
            assert!(
                built.peak_jy_beam > 0.0 && built.peak_jy_beam <= 0.01 + 1e-12,
                "{class}"
            );
        }
    }

    #[test]
    fn position_angle_zero_points_the_axis_north() {
        let spec = SourceSpec {
            class: SourceClass::Frii,
            x: 0.0,
            y: 0.0,
            flux_jy: 1.0,
            size_arcsec: 150.0,
            pa_deg: 0.0,
            shape_seed: 2,
        };
        let built = build(&spec, &optics());
        let spread_y = built
            .components
            .iter()
            .map(|c| c.y.abs())
            .fold(0.0, f64::max);
        let spread_x = built
            .components
            .iter()
            .map(|c| c.x.abs())
            .fold(0.0, f64::max);
        assert!(
            spread_y > 30.0 && spread_x < 1e-6,
            "x spread {spread_x}, y spread {spread_y}"
        );
    }
}
