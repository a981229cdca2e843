//! NCC is the study's equation 2: the mean product of the two images, each
//! standardised by its own mean and population standard deviation.

use prospector_model::{ncc, Ncc};

fn ncc_value(a: &[f32], b: &[f32]) -> f64 {
    let result = ncc(a, b).unwrap();
    assert!(result.defined);
    result.value
}

fn varied_image() -> Vec<f32> {
    (0..64)
        .map(|i| ((i * 37 % 23) as f32 * 0.1).sin() + 0.01 * i as f32)
        .collect()
}

#[test]
fn an_image_matches_itself_perfectly() {
    let x = varied_image();
    assert!((ncc_value(&x, &x) - 1.0).abs() < 1e-12);
}

#[test]
fn a_positive_change_of_brightness_and_contrast_changes_nothing() {
    let x = varied_image();
    let y: Vec<f32> = x.iter().map(|v| (v * 7.0).cos()).collect();
    let reference = ncc_value(&x, &y);
    let brighter: Vec<f32> = y.iter().map(|v| 2.5 * v + 0.3).collect();
    let dimmer: Vec<f32> = x.iter().map(|v| 0.5 * v - 1.0).collect();
    assert!((ncc_value(&x, &brighter) - reference).abs() < 1e-6);
    assert!((ncc_value(&dimmer, &y) - reference).abs() < 1e-6);
    assert!(
        reference.abs() < 0.99,
        "the test images must differ: {reference}"
    );
}

#[test]
fn a_negated_image_anticorrelates_fully() {
    let x = varied_image();
    let negated: Vec<f32> = x.iter().map(|v| -v).collect();
    assert!((ncc_value(&x, &negated) + 1.0).abs() < 1e-12);
}

#[test]
fn hand_computed_cases() {
    // 2x2: both have mean 2.5 and variance 1.25; the mean product of deviations is 1.
    assert!((ncc_value(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]) - 0.8).abs() < 1e-12);
    // 3x3: a point and a two-pixel bar sharing it: cov 7/81, variances 8/81 and 14/81.
    let point = [0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0];
    let bar = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0];
    let expected = 7.0 / (8.0f64 * 14.0).sqrt();
    assert!((ncc_value(&point, &bar) - expected).abs() < 1e-12);
}

#[test]
fn a_constant_image_has_no_ncc_and_reports_zero() {
    let flat = [0.4f32; 9];
    let other = [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0];
    let undefined = Ncc {
        value: 0.0,
        defined: false,
    };
    assert_eq!(ncc(&flat, &other).unwrap(), undefined);
    assert_eq!(ncc(&other, &flat).unwrap(), undefined);
    assert_eq!(ncc(&flat, &flat).unwrap(), undefined);
}

#[test]
fn images_of_different_sizes_are_refused() {
    let err = ncc(&[1.0, 2.0], &[1.0, 2.0, 3.0]).unwrap_err().to_string();
    assert!(err.contains("2 and 3 pixels"), "{err}");
}
