//! Sidelobe-like residual artefacts around bright sources (see
//! [`ArtefactConfig`]): beam-sized blobs along radial spokes of alternating
//! sign and on rings of opposite sign, each pattern integrating to zero flux.

use crate::config::ArtefactConfig;
use crate::gaussian::{Covariance, PixelGaussian};
use crate::source::Optics;

/// Blobs are laid every half beam along spokes and rings.
const SPACING_BEAMS: f64 = 0.5;
/// Innermost spoke blob, and the first ring, in beam FWHMs from the source.
const SPOKE_START_BEAMS: f64 = 2.0;
const FIRST_RING_BEAMS: f64 = 3.0;
const RING_STEP_BEAMS: f64 = 1.5;
/// The first ring's ridge is half as bright as the spokes' start.
const RING_RELATIVE_BRIGHTNESS: f64 = 0.5;

/// Ridge brightness of an infinite row of unit-peak Gaussians spaced at
/// `SPACING_BEAMS` FWHM: dividing by it makes a chain's ridge the intended
/// brightness rather than the blob peak.
fn ridge_gain() -> f64 {
    (-20i32..=20)
        .map(|m| (-4.0 * std::f64::consts::LN_2 * (m as f64 * SPACING_BEAMS).powi(2)).exp())
        .sum()
}

/// The artefact components around a source at `(x, y)` of peak `peak_jy_beam`;
/// `orientation_deg` is the field-wide position angle of the first spoke;
/// the beam's major axis sets the scale of the pattern.
pub(crate) fn around(
    x: f64,
    y: f64,
    peak_jy_beam: f64,
    config: &ArtefactConfig,
    orientation_deg: f64,
    optics: &Optics,
) -> Vec<PixelGaussian> {
    let beam_fwhm_px = optics.beam_fwhm_px;
    let blob_peak = config.relative_amplitude * peak_jy_beam / ridge_gain();
    let spacing = SPACING_BEAMS * beam_fwhm_px;
    let point = Covariance::from_fwhm(0.0, 0.0, 0.0);
    // An unresolved blob's peak in Jy/beam equals its flux in Jy.
    let blob = |r: f64, pa_deg: f64, flux: f64| {
        let (sin, cos) = pa_deg.to_radians().sin_cos();
        PixelGaussian::convolved(x - r * sin, y + r * cos, flux, &point, &optics.beam)
    };
    let mut out = Vec::new();
    // Spokes: 2 * lines rays, neighbours of opposite sign, so they cancel in pairs.
    let rays = 2 * config.spoke_lines;
    let r0 = SPOKE_START_BEAMS * beam_fwhm_px;
    let steps = (config.spoke_length_beams / SPACING_BEAMS).floor() as usize;
    for ray in 0..rays {
        let pa = orientation_deg + 360.0 * ray as f64 / rays as f64;
        let sign = if ray % 2 == 0 { 1.0 } else { -1.0 };
        for step in 0..=steps {
            let r = r0 + step as f64 * spacing;
            out.push(blob(r, pa, sign * blob_peak * r0 / r));
        }
    }
    // Rings in pairs: the negative ring carries exactly the positive ring's flux.
    for pair in 0..config.ring_pairs {
        let mut ring_flux = 0.0;
        for (member, sign) in [(0, 1.0), (1, -1.0)] {
            let r =
                (FIRST_RING_BEAMS + RING_STEP_BEAMS * (2 * pair + member) as f64) * beam_fwhm_px;
            let n = (std::f64::consts::TAU * r / spacing).ceil() as usize;
            let flux = if sign > 0.0 {
                ring_flux = n as f64 * RING_RELATIVE_BRIGHTNESS * blob_peak * r0 / r;
                RING_RELATIVE_BRIGHTNESS * blob_peak * r0 / r
            } else {
                -ring_flux / n as f64
            };
            for i in 0..n {
                out.push(blob(r, orientation_deg + 360.0 * i as f64 / n as f64, flux));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FieldConfig;

    #[test]
    fn each_pattern_integrates_to_zero_and_scales_with_the_source_peak() {
        let optics = Optics::of(&FieldConfig::default());
        let config = ArtefactConfig::default();
        let blobs = around(100.0, 100.0, 0.2, &config, 17.0, &optics);
        let net: f64 = blobs.iter().map(|b| b.flux_jy).sum();
        let gross: f64 = blobs.iter().map(|b| b.flux_jy.abs()).sum();
        assert!(net.abs() < 1e-12 * gross, "net {net} of gross {gross}");
        let brightest = blobs.iter().map(|b| b.amplitude.abs()).fold(0.0, f64::max);
        // The spoke ridge starts at relative_amplitude * peak.
        let ridge = brightest * ridge_gain();
        assert!(
            (ridge - config.relative_amplitude * 0.2).abs() < 1e-12,
            "ridge {ridge}"
        );
    }
}
