//! Labelled stamps: one source at the centre, labels that match it, and
//! determinism per stamp.

use prospector_skysim::{simulate_stamps, FieldConfig, SourceClass, StampConfig};

fn config(exotic_fraction: f64) -> StampConfig {
    StampConfig {
        exotic_fraction,
        ..StampConfig::default()
    }
}

#[test]
fn stamps_centre_their_labelled_source_and_follow_the_exotic_fraction() {
    let stamps = simulate_stamps(&config(0.3), 600, 17).unwrap();
    let mut exotic = 0;
    for stamp in &stamps {
        assert_eq!((stamp.image.width(), stamp.image.height()), (64, 64));
        assert_eq!(stamp.image.non_finite_count(), 0);
        let c = &stamp.central;
        assert!(
            (c.x - 32.0).abs() <= 0.5 && (c.y - 32.0).abs() <= 0.5,
            "{c:?}"
        );
        assert_eq!(c.exotic, c.class.is_exotic());
        assert!(
            c.size_arcsec <= 0.8 * 64.0 * 1.5 * 1.2,
            "{c:?} does not fit"
        );
        assert!(c.flux_jy >= 2e-4 && c.flux_jy <= 0.05);
        exotic += usize::from(c.exotic);
    }
    let fraction = exotic as f64 / stamps.len() as f64;
    let sigma = (0.3f64 * 0.7 / stamps.len() as f64).sqrt();
    assert!(
        (fraction - 0.3).abs() < 4.0 * sigma,
        "exotic fraction {fraction}"
    );
}

#[test]
fn a_bright_point_stamp_peaks_at_its_centre() {
    let cfg = StampConfig {
        field: FieldConfig {
            typical_weights: [(SourceClass::Point, 1.0)].into(),
            ..FieldConfig::default()
        },
        ..config(0.0)
    };
    let mut checked = 0;
    for stamp in simulate_stamps(&cfg, 20, 3).unwrap() {
        let (mut best, mut at) = (f32::NEG_INFINITY, 0);
        for (i, v) in stamp.image.pixels().iter().enumerate() {
            if *v > best {
                (best, at) = (*v, i);
            }
        }
        let (x, y) = ((at % 64) as f64, (at / 64) as f64);
        let c = &stamp.central;
        if stamp
            .neighbours
            .iter()
            .all(|n| n.peak_jy_beam < c.peak_jy_beam)
        {
            assert!(
                (x - c.x).abs() <= 1.0 && (y - c.y).abs() <= 1.0,
                "peak at ({x}, {y}) for {c:?}"
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 10,
        "only {checked} stamps without a brighter neighbour"
    );
}

#[test]
fn each_stamp_depends_only_on_seed_and_index() {
    let five = simulate_stamps(&config(0.5), 5, 99).unwrap();
    let eight = simulate_stamps(&config(0.5), 8, 99).unwrap();
    for (a, b) in five.iter().zip(&eight) {
        assert_eq!(a.image, b.image);
        assert_eq!(a.central, b.central);
    }
    let other = simulate_stamps(&config(0.5), 5, 100).unwrap();
    assert_ne!(five[0].image, other[0].image);
}

#[test]
fn a_bad_stamp_config_is_named() {
    let cfg = StampConfig {
        size_px: 4,
        ..StampConfig::default()
    };
    assert!(simulate_stamps(&cfg, 1, 0)
        .unwrap_err()
        .to_string()
        .contains("size_px"));
}
