//! The drawn population and the noise follow their configuration.

mod common;

use common::field_config;
use prospector_skysim::{
    draw_sources, load_truth_csv, save_truth_csv, Field, FieldConfig, FluxDistribution,
    SourceClass, SourceSpec,
};

/// A catalogue of about 60,000 sources (drawing only; nothing is rendered).
fn big_catalogue(config: &FieldConfig) -> Vec<SourceSpec> {
    let specs = draw_sources(config).unwrap();
    assert!(specs.len() > 50_000, "{} sources", specs.len());
    specs
}

#[test]
fn exotic_fraction_is_the_configured_one_within_binomial_error() {
    for (fraction, seed) in [(0.028, 1), (0.2, 2)] {
        let config = FieldConfig {
            exotic_fraction: fraction,
            ..field_config(4096, 4096, seed, 20_000.0)
        };
        let specs = big_catalogue(&config);
        let n = specs.len() as f64;
        let exotic = specs.iter().filter(|s| s.class.is_exotic()).count() as f64;
        let sigma = (fraction * (1.0 - fraction) / n).sqrt();
        assert!(
            (exotic / n - fraction).abs() < 4.0 * sigma,
            "exotic fraction {} for {fraction}",
            exotic / n
        );
    }
}

#[test]
fn every_class_with_weight_is_drawn_and_no_other() {
    let mut config = field_config(4096, 4096, 3, 20_000.0);
    config.typical_weights.remove(&SourceClass::HeadTail);
    let specs = big_catalogue(&config);
    for class in SourceClass::ALL {
        let count = specs.iter().filter(|s| s.class == class).count();
        if class == SourceClass::HeadTail {
            assert_eq!(count, 0);
        } else {
            assert!(count > 0, "{class} never drawn");
        }
    }
}

/// Maximum-likelihood slope of a power law above `min`: 1 + n / sum ln(S / min).
fn fitted_slope(fluxes: &[f64], min: f64) -> f64 {
    1.0 + fluxes.len() as f64 / fluxes.iter().map(|s| (s / min).ln()).sum::<f64>()
}

#[test]
fn fluxes_follow_the_configured_power_law() {
    for slope in [1.6, 1.7, 2.0] {
        let config = FieldConfig {
            flux: FluxDistribution {
                slope,
                ..FluxDistribution::default()
            },
            ..field_config(4096, 4096, 4, 20_000.0)
        };
        let specs = big_catalogue(&config);
        let fluxes: Vec<f64> = specs.iter().map(|s| s.flux_jy).collect();
        assert!(fluxes
            .iter()
            .all(|s| *s >= config.flux.min_jy && *s <= config.flux.max_jy));
        let fitted = fitted_slope(&fluxes, config.flux.min_jy);
        // Standard error (slope - 1) / sqrt(n) is ~0.003 here; the 1 Jy upper cut biases the
        // untruncated estimator by less than 0.001.
        let tolerance = 4.0 * (slope - 1.0) / (fluxes.len() as f64).sqrt() + 0.002;
        assert!(
            (fitted - slope).abs() < tolerance,
            "fitted {fitted} for slope {slope}"
        );
    }
}

#[test]
fn a_complex_flux_floor_lifts_only_multi_component_sources() {
    let config = FieldConfig {
        complex_min_flux_jy: Some(1e-3),
        ..field_config(4096, 4096, 1, 20_000.0)
    };
    let specs = big_catalogue(&config);
    let (complex, compact): (Vec<&SourceSpec>, Vec<&SourceSpec>) =
        specs.iter().partition(|s| s.class.is_multi_component());
    assert!(complex.iter().all(|s| s.flux_jy >= 1e-3));
    let compact_fluxes: Vec<f64> = compact.iter().map(|s| s.flux_jy).collect();
    assert!(compact_fluxes.iter().any(|s| *s < 1e-4));
    let fitted = fitted_slope(&compact_fluxes, config.flux.min_jy);
    assert!(
        (fitted - 1.7).abs() < 0.02,
        "compact sources' slope {fitted}"
    );
    // The exotic fraction is that of the unfloored catalogue of the same seed.
    let unfloored = big_catalogue(&FieldConfig {
        complex_min_flux_jy: None,
        ..config.clone()
    });
    let exotic =
        |s: &[prospector_skysim::SourceSpec]| s.iter().filter(|s| s.class.is_exotic()).count();
    assert_eq!(exotic(&specs), exotic(&unfloored));

    let bad = FieldConfig {
        complex_min_flux_jy: Some(5.0),
        ..config
    };
    assert!(bad
        .validate()
        .unwrap_err()
        .to_string()
        .contains("complex_min_flux_jy"));
}

#[test]
fn source_count_is_poisson_around_density_times_area() {
    let counts: Vec<f64> = (0..40)
        .map(|seed| {
            draw_sources(&field_config(512, 512, seed, 10_000.0))
                .unwrap()
                .len() as f64
        })
        .collect();
    let expected = 10_000.0 * field_config(512, 512, 0, 0.0).area_sq_deg();
    let mean = counts.iter().sum::<f64>() / counts.len() as f64;
    // Mean of 40 Poisson draws: standard error sqrt(expected / 40).
    assert!(
        (mean - expected).abs() < 4.0 * (expected / 40.0).sqrt(),
        "mean {mean}, expected {expected}"
    );
    assert!(
        counts.iter().any(|c| *c != counts[0]),
        "counts do not vary between seeds"
    );
}

/// Noise statistics of a source-free field: rms and autocorrelation at lags along x.
fn noise_field(config: FieldConfig) -> (Vec<f32>, usize) {
    let width = config.width;
    let image = Field::new(config).unwrap().render().unwrap();
    (image.into_pixels(), width)
}

fn autocorrelation(pixels: &[f32], width: usize, lag: usize) -> f64 {
    let height = pixels.len() / width;
    let (mut num, mut den) = (0.0, 0.0);
    for y in 0..height {
        let row = &pixels[y * width..(y + 1) * width];
        for x in 0..width - lag {
            num += row[x] as f64 * row[x + lag] as f64;
            den += (row[x] as f64).powi(2);
        }
    }
    num / den
}

#[test]
fn noise_has_the_configured_rms_and_is_correlated_on_the_beam_scale() {
    let config = field_config(1024, 1024, 9, 0.0);
    let (pixels, width) = noise_field(config.clone());
    let n = pixels.len() as f64;
    let mean = pixels.iter().map(|v| *v as f64).sum::<f64>() / n;
    let rms = (pixels
        .iter()
        .map(|v| (*v as f64 - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    assert!((rms / config.noise_rms_jy - 1.0).abs() < 0.03, "rms {rms}");
    assert!(mean.abs() < 0.05 * config.noise_rms_jy, "mean {mean}");
    // Autocorrelation is the beam: exp(-lag^2 / (2 sigma^2)), sigma = 7.5" / 2.355 / 1.5"/px.
    let sigma = 7.5 / (8.0 * 2f64.ln()).sqrt() / 1.5;
    let beam = |lag: f64| (-lag * lag / (2.0 * sigma * sigma)).exp();
    let one = autocorrelation(&pixels, width, 1);
    assert!(
        one > 0.85 && (one - beam(1.0)).abs() < 0.02,
        "lag-1 autocorrelation {one}"
    );
    let fwhm = autocorrelation(&pixels, width, 5);
    assert!(
        (fwhm - beam(5.0)).abs() < 0.02,
        "autocorrelation at one beam FWHM {fwhm}"
    );
    for lag in [10, 15, 25] {
        let far = autocorrelation(&pixels, width, lag);
        assert!(
            far.abs() < 0.02,
            "autocorrelation {far} at {lag} px (beyond two beams)"
        );
    }
}

#[test]
fn a_field_truth_catalogue_survives_a_csv_file() {
    let field = Field::new(field_config(512, 512, 6, 20_000.0)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("truth.csv");
    save_truth_csv(field.truth(), &path).unwrap();
    let back = load_truth_csv(&path).unwrap();
    assert_eq!(back.len(), field.truth().len());
    for (a, b) in back.iter().zip(field.truth()) {
        assert_eq!(a.id, b.id);
        assert_eq!(a.class, b.class);
        // CSV keeps Rust's shortest round-trip float form: exact.
        assert_eq!(a, b);
    }
    // The catalogue's sky positions are the WCS's for its pixel positions.
    for t in field.truth() {
        let (ra, dec) = field.wcs().pixel_to_sky(t.x, t.y).unwrap();
        assert_eq!((ra, dec), (t.ra_deg, t.dec_deg));
    }
}
