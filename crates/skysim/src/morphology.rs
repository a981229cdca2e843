//! Analytic models of each source class as sums of Gaussian [`Blob`]s in the
//! source's own frame (`along` the source axis, `across` it; arcsec).
//!
//! Each builder takes the largest angular size it should span and a random
//! stream for the class's natural variety (asymmetries, bend angles, ring
//! brightness). Weights are relative; the caller normalises them to the total
//! flux and recentres the model on its flux-weighted centroid.

use crate::class::SourceClass;
use crate::gaussian::Blob;
use crate::rng::Stream;

/// Blobs per arcsec-independent smooth curve: enough that neighbours overlap
/// well within their own width, so rings, arcs and jets render as continuous
/// ridges rather than beads.
const RING_BLOBS: usize = 72;
const JET_BLOBS: usize = 10;

/// Builds the intrinsic model of a source of class `class` spanning about
/// `las` arcsec.
pub(crate) fn build(class: SourceClass, las: f64, rng: &mut Stream) -> Vec<Blob> {
    match class {
        SourceClass::Point => vec![Blob::point(0.0, 0.0, 1.0)],
        SourceClass::ResolvedGaussian => resolved(las, rng),
        SourceClass::Fri => fri(las, rng),
        SourceClass::Frii => frii(las, rng),
        SourceClass::WideAngleTail => tailed(las, rng.range(60.0, 150.0), 0.1, rng),
        SourceClass::NarrowAngleTail => tailed(las, rng.range(5.0, 40.0), 0.25, rng),
        SourceClass::HeadTail => head_tail(las, rng),
        SourceClass::XShaped => x_shaped(las, rng),
        SourceClass::Ring => ring(las, rng),
        SourceClass::DoubleDouble => double_double(las, rng),
        SourceClass::Halo => halo(las, rng),
        SourceClass::Relic => relic(las, rng),
        SourceClass::OneSided => one_sided(las, rng),
        SourceClass::Irregular => irregular(las, rng),
    }
}

/// A point on a quadratic Bezier curve and the direction of its tangent
/// (degrees from the source axis towards `across`).
fn bezier(p: [(f64, f64); 3], t: f64) -> ((f64, f64), f64) {
    let s = 1.0 - t;
    let pos = (
        s * s * p[0].0 + 2.0 * s * t * p[1].0 + t * t * p[2].0,
        s * s * p[0].1 + 2.0 * s * t * p[1].1 + t * t * p[2].1,
    );
    let d = (
        2.0 * s * (p[1].0 - p[0].0) + 2.0 * t * (p[2].0 - p[1].0),
        2.0 * s * (p[1].1 - p[0].1) + 2.0 * t * (p[2].1 - p[1].1),
    );
    (pos, d.1.atan2(d.0).to_degrees())
}

/// A jet or tail: `n` blobs along a quadratic Bezier curve, widening from
/// `width.0` to `width.1` (FWHM across the flow) and with brightness
/// interpolated from `weight.0` to `weight.1` geometrically. Blobs are
/// stretched along the flow so the chain is smooth.
fn chain(curve: [(f64, f64); 3], n: usize, width: (f64, f64), weight: (f64, f64)) -> Vec<Blob> {
    let length = {
        let a = ((curve[1].0 - curve[0].0).powi(2) + (curve[1].1 - curve[0].1).powi(2)).sqrt();
        let b = ((curve[2].0 - curve[1].0).powi(2) + (curve[2].1 - curve[1].1).powi(2)).sqrt();
        a + b
    };
    let step = length / n as f64;
    (0..n)
        .map(|i| {
            let t = (i as f64 + 0.5) / n as f64;
            let ((along, across), angle_deg) = bezier(curve, t);
            let minor = width.0 + (width.1 - width.0) * t;
            Blob {
                along,
                across,
                major: minor.max(2.0 * step),
                minor,
                angle_deg,
                weight: weight.0 * (weight.1 / weight.0).powf(t),
            }
        })
        .collect()
}

/// Scales every weight of `blobs` so that they sum to `share`.
fn with_share(mut blobs: Vec<Blob>, share: f64) -> Vec<Blob> {
    let total: f64 = blobs.iter().map(|b| b.weight).sum();
    for b in &mut blobs {
        b.weight *= share / total;
    }
    blobs
}

fn resolved(las: f64, rng: &mut Stream) -> Vec<Blob> {
    let ratio = rng.range(0.3, 1.0);
    vec![Blob {
        major: las,
        minor: las * ratio,
        ..Blob::point(0.0, 0.0, 1.0)
    }]
}

/// A lobe: a diffuse elliptical Gaussian elongated along the axis.
fn lobe(along: f64, across: f64, length: f64, width: f64, weight: f64) -> Blob {
    Blob {
        major: length.max(width),
        minor: width.min(length),
        angle_deg: if length >= width { 0.0 } else { 90.0 },
        ..Blob::point(along, across, weight)
    }
}

fn fri(las: f64, rng: &mut Stream) -> Vec<Blob> {
    let half = 0.42 * las;
    let bend = rng.range(-0.08, 0.08) * las;
    let mut blobs = vec![Blob::point(0.0, 0.0, rng.range(0.2, 0.4))];
    let jet_share = 1.0 - blobs[0].weight;
    let brighter = rng.range(0.5, 0.7);
    // Jets bend the same way (C-shaped, motion through the cluster gas) or
    // opposite ways (S-shaped, a precessing jet axis).
    let mirrored = if rng.chance(0.5) { 1.0 } else { -1.0 };
    for (side, share) in [(1.0, brighter), (-1.0, 1.0 - brighter)] {
        let b = if side < 0.0 { bend * mirrored } else { bend };
        let curve = [(0.0, 0.0), (side * half * 0.5, b), (side * half, 2.0 * b)];
        // Core-brightened: brightness falls by ~20x along the jet while it widens.
        let jet = chain(curve, JET_BLOBS, (0.03 * las, 0.16 * las), (1.0, 0.05));
        blobs.extend(with_share(jet, jet_share * share));
    }
    blobs
}

fn frii(las: f64, rng: &mut Stream) -> Vec<Blob> {
    let core = rng.range(0.01, 0.05);
    let mut blobs = vec![Blob::point(0.0, 0.0, core)];
    let lobe_share = (1.0 - core) / 2.0;
    let arm_ratio = rng.range(0.75, 1.0);
    let hotspot_fraction = rng.range(0.25, 0.5);
    for (side, arm) in [(1.0, 1.0), (-1.0, arm_ratio)] {
        let reach = side * 0.47 * las * arm;
        let lobe_width = 0.14 * las * rng.range(0.8, 1.2);
        blobs.push(lobe(
            reach * 0.72,
            0.0,
            0.3 * las * arm,
            lobe_width,
            lobe_share * (1.0 - hotspot_fraction),
        ));
        // Edge-brightened: a compact hotspot at the outer end of each lobe.
        blobs.push(Blob::round(
            reach * 0.97,
            0.0,
            0.02 * las,
            lobe_share * hotspot_fraction,
        ));
    }
    blobs
}

/// Wide- and narrow-angle tails: the host moves along the source axis and
/// its two jets are swept back; `opening_deg` is the angle between the tails.
fn tailed(las: f64, opening_deg: f64, core: f64, rng: &mut Stream) -> Vec<Blob> {
    let mut blobs = vec![Blob::point(0.0, 0.0, core)];
    let half = (opening_deg / 2.0).to_radians();
    let reach = 0.55 * las / half.sin().max(0.5);
    for side in [1.0, -1.0] {
        let end = (-reach * half.cos(), side * reach * half.sin());
        let control = (0.1 * las, side * 0.2 * las * rng.range(0.6, 1.0));
        let tail = chain(
            [(0.0, 0.0), control, end],
            JET_BLOBS + 4,
            (0.04 * las, 0.14 * las),
            (1.0, 0.3),
        );
        blobs.extend(with_share(tail, (1.0 - core) / 2.0));
    }
    blobs
}

fn head_tail(las: f64, rng: &mut Stream) -> Vec<Blob> {
    let head = rng.range(0.25, 0.45);
    let wiggle = rng.range(-0.15, 0.15) * las;
    let curve = [(0.0, 0.0), (-0.5 * las, wiggle), (-0.95 * las, -wiggle)];
    let tail = chain(curve, JET_BLOBS + 6, (0.03 * las, 0.2 * las), (1.0, 0.1));
    let mut blobs = vec![Blob::round(0.0, 0.0, 0.02 * las, head)];
    blobs.extend(with_share(tail, 1.0 - head));
    blobs
}

fn x_shaped(las: f64, rng: &mut Stream) -> Vec<Blob> {
    let mut blobs = with_share(frii(las, rng), 0.7);
    // The secondary wings: diffuse, hotspot-free, through the centre at an angle.
    let angle = rng.range(30.0, 90.0) * if rng.chance(0.5) { 1.0 } else { -1.0 };
    let (sin, cos) = angle.to_radians().sin_cos();
    let reach = 0.35 * las * rng.range(0.7, 1.0);
    for side in [1.0, -1.0] {
        let wing = Blob {
            major: 0.35 * las,
            minor: 0.12 * las,
            angle_deg: angle,
            ..Blob::point(side * reach * cos, side * reach * sin, 0.15)
        };
        blobs.push(wing);
    }
    blobs
}

/// An edge-brightened ring (odd radio circle): blobs around an ellipse with a
/// smooth brightness variation and, sometimes, a compact host at its centre.
fn ring(las: f64, rng: &mut Stream) -> Vec<Blob> {
    let radius = 0.45 * las;
    let axis_ratio = rng.range(0.75, 1.0);
    let width = radius * rng.range(0.12, 0.25);
    let asymmetry = rng.range(0.0, 0.5);
    let bright_side = rng.angle_deg().to_radians();
    let mut blobs: Vec<Blob> = (0..RING_BLOBS)
        .map(|i| {
            let phi = std::f64::consts::TAU * i as f64 / RING_BLOBS as f64;
            let (sin, cos) = phi.sin_cos();
            Blob::round(
                radius * cos,
                radius * axis_ratio * sin,
                width,
                1.0 + asymmetry * (phi - bright_side).cos(),
            )
        })
        .collect();
    blobs = with_share(blobs, 1.0);
    if rng.chance(0.5) {
        blobs.push(Blob::point(0.0, 0.0, rng.range(0.02, 0.1)));
    }
    blobs
}

fn double_double(las: f64, rng: &mut Stream) -> Vec<Blob> {
    let inner_reach = rng.range(0.1, 0.25) * las;
    let misalign = rng.range(-5.0, 5.0).to_radians();
    let inner_share = rng.range(0.25, 0.45);
    let mut blobs = vec![Blob::point(0.0, 0.0, 0.02)];
    for side in [1.0, -1.0] {
        // Outer (older) pair: relaxed lobes with faded hotspots.
        blobs.push(lobe(
            side * 0.4 * las,
            0.0,
            0.18 * las,
            0.1 * las,
            (0.98 - inner_share) * 0.4,
        ));
        blobs.push(Blob::round(
            side * 0.47 * las,
            0.0,
            0.03 * las,
            (0.98 - inner_share) * 0.1,
        ));
        // Inner (restarted) pair, compact, on nearly the same axis.
        let (a, c) = (
            side * inner_reach * misalign.cos(),
            side * inner_reach * misalign.sin(),
        );
        blobs.push(lobe(a, c, 0.06 * las, 0.03 * las, inner_share / 2.0));
    }
    blobs
}

fn halo(las: f64, rng: &mut Stream) -> Vec<Blob> {
    let ratio = rng.range(0.7, 1.0);
    let mut blobs = vec![Blob {
        major: 0.8 * las,
        minor: 0.8 * las * ratio,
        ..Blob::point(0.0, 0.0, 0.7)
    }];
    // Sub-structure so halos are not perfect Gaussians.
    for _ in 0..3 {
        let (r, phi) = (rng.range(0.0, 0.2) * las, rng.angle_deg().to_radians());
        blobs.push(Blob::round(r * phi.cos(), r * phi.sin(), 0.4 * las, 0.1));
    }
    blobs
}

/// A relic: an arc of tangentially elongated emission, brightest mid-arc,
/// the source axis pointing from the arc's centre of curvature outward.
fn relic(las: f64, rng: &mut Stream) -> Vec<Blob> {
    let curvature_radius = las * rng.range(0.8, 2.5);
    let half_angle = (0.5 * las / curvature_radius).asin();
    let width = las * rng.range(0.06, 0.15);
    let n = 2 * JET_BLOBS + 4;
    let step = 2.0 * half_angle * curvature_radius / n as f64;
    (0..n)
        .map(|i| {
            let t = (i as f64 + 0.5) / n as f64;
            let phi = -half_angle + 2.0 * half_angle * t;
            Blob {
                along: curvature_radius * phi.cos() - curvature_radius,
                across: curvature_radius * phi.sin(),
                major: (2.0 * step).max(width),
                minor: width.min(2.0 * step),
                angle_deg: 90.0 + phi.to_degrees(),
                weight: (std::f64::consts::PI * t).sin().sqrt(),
            }
        })
        .collect()
}

fn one_sided(las: f64, rng: &mut Stream) -> Vec<Blob> {
    let core = rng.range(0.1, 0.3);
    let bend = rng.range(-0.1, 0.1) * las;
    let jet = chain(
        [(0.0, 0.0), (0.4 * las, bend), (0.75 * las, bend)],
        JET_BLOBS,
        (0.03 * las, 0.1 * las),
        (1.0, 0.4),
    );
    let mut blobs = vec![Blob::point(0.0, 0.0, core)];
    blobs.extend(with_share(jet, (1.0 - core) * 0.5));
    blobs.push(lobe(
        0.85 * las,
        bend,
        0.2 * las,
        0.15 * las,
        (1.0 - core) * 0.5,
    ));
    blobs
}

/// A meandering walk of 3 to 8 blobs of random size, shape and brightness:
/// each step turns by up to 70 degrees but never more than 75 degrees off
/// its first heading, so the clump spans about `las` without any symmetry.
fn irregular(las: f64, rng: &mut Stream) -> Vec<Blob> {
    let n = 3 + (rng.uniform() * 6.0) as usize;
    let step = 0.7 * las / (n - 1) as f64;
    let (mut along, mut across, mut heading) = (0.0, 0.0, 0.0f64);
    (0..n)
        .map(|i| {
            if i > 0 {
                heading = (heading + rng.range(-70.0, 70.0).to_radians()).clamp(-1.3, 1.3);
                along += step * heading.cos();
                across += step * heading.sin();
            }
            let major = rng.range(0.1, 0.3) * las;
            Blob {
                along,
                across,
                major,
                minor: major * rng.range(0.3, 1.0),
                angle_deg: rng.angle_deg(),
                weight: rng.log_range(0.2, 1.0),
            }
        })
        .collect()
}

/// Largest angular size of an intrinsic model: the greatest separation of two
/// component centres plus their half-FWHM major axes (for a single component,
/// its FWHM major axis).
pub(crate) fn largest_angular_size(blobs: &[Blob]) -> f64 {
    let mut size: f64 = 0.0;
    for (i, a) in blobs.iter().enumerate() {
        for b in &blobs[i..] {
            let d = ((a.along - b.along).powi(2) + (a.across - b.across).powi(2)).sqrt();
            size = size.max(d + 0.5 * (a.major + b.major));
        }
    }
    size
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    #[test]
    fn every_class_spans_about_the_size_it_was_asked_for() {
        for class in SourceClass::ALL {
            let (lo, hi) = class.size_range_arcsec();
            if class == SourceClass::Point {
                continue;
            }
            for i in 0..20 {
                let mut rng = Stream::new(11, stream::SOURCES, i);
                let las = rng.log_range(lo, hi);
                let blobs = build(class, las, &mut rng);
                assert!(
                    blobs
                        .iter()
                        .all(|b| b.weight > 0.0 && b.minor <= b.major + 1e-12),
                    "{class}"
                );
                let size = largest_angular_size(&blobs);
                assert!(
                    size > 0.6 * las && size < 1.6 * las,
                    "{class}: asked {las}, built {size}"
                );
            }
        }
    }

    #[test]
    fn double_lobed_classes_are_edge_or_core_brightened_as_their_names_say() {
        let mut rng = Stream::new(5, stream::SOURCES, 1);
        let frii = build(SourceClass::Frii, 100.0, &mut rng);
        let outermost = frii
            .iter()
            .max_by(|a, b| a.along.abs().total_cmp(&b.along.abs()))
            .unwrap();
        assert!(
            outermost.major < 5.0,
            "FRII's outermost component should be a compact hotspot"
        );
        let fri = build(SourceClass::Fri, 100.0, &mut rng);
        let core = fri
            .iter()
            .find(|b| b.along == 0.0 && b.across == 0.0)
            .unwrap();
        assert!(
            fri.iter().all(|b| b.weight <= core.weight),
            "FRI's core should be its brightest component"
        );
    }
}
