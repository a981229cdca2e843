//! Degenerate inputs get a clear error naming the fault, never NaN or a panic.

use prospector_eval::metrics::{
    best_threshold, mann_whitney_u, roc_auc, roc_curve, wilcoxon_signed_rank, workload_reduction,
    Alternative,
};
use prospector_eval::MetricError;

#[test]
fn single_class_is_an_error_not_nan() {
    let labels = [false, false, false];
    let scores = [0.1, 0.5, 0.2];
    for err in [
        roc_curve(&labels, &scores).map(|_| ()).unwrap_err(),
        roc_auc(&labels, &scores).map(|_| ()).unwrap_err(),
        best_threshold(&labels, &scores, 1.0)
            .map(|_| ())
            .unwrap_err(),
        workload_reduction(&labels, &scores, 0.95)
            .map(|_| ())
            .unwrap_err(),
    ] {
        assert!(
            matches!(
                err,
                MetricError::SingleClass {
                    positives: 0,
                    negatives: 3,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("only one class"), "{err}");
    }
    let all_exotic = roc_auc(&[true, true], &[0.3, 0.4]).unwrap_err();
    assert!(matches!(
        all_exotic,
        MetricError::SingleClass {
            positives: 2,
            negatives: 0,
            ..
        }
    ));
}

#[test]
fn nan_score_and_length_mismatch_are_named() {
    let err = roc_auc(&[true, false], &[0.3, f64::NAN]).unwrap_err();
    assert!(
        matches!(err, MetricError::NotFinite { index: 1, .. }),
        "{err}"
    );
    let err = roc_auc(&[true, false, true], &[0.3, 0.1]).unwrap_err();
    assert!(
        matches!(
            err,
            MetricError::LengthMismatch {
                left: 3,
                right: 2,
                ..
            }
        ),
        "{err}"
    );
    let err = roc_auc(&[], &[]).unwrap_err();
    assert!(matches!(err, MetricError::Empty { .. }), "{err}");
}

#[test]
fn all_equal_scores_give_a_chance_curve() {
    let labels = [true, false, true, false, false];
    let scores = [2.0; 5];
    let curve = roc_curve(&labels, &scores).unwrap();
    assert_eq!(curve.fpr, vec![0.0, 1.0]);
    assert_eq!(curve.tpr, vec![0.0, 1.0]);
    assert_eq!(roc_auc(&labels, &scores).unwrap(), 0.5);
}

#[test]
fn rank_tests_reject_degenerate_samples() {
    assert!(matches!(
        mann_whitney_u(&[], &[1.0], Alternative::TwoSided),
        Err(MetricError::Empty { .. })
    ));
    let err = wilcoxon_signed_rank(&[1.0, 2.0], &[1.0, 2.0], Alternative::TwoSided).unwrap_err();
    assert!(
        err.to_string().contains("every paired difference is zero"),
        "{err}"
    );
    // All values tied: scipy gives p = 1, not NaN.
    let tied = mann_whitney_u(&[0.5; 10], &[0.5; 10], Alternative::TwoSided).unwrap();
    assert_eq!(tied.pvalue, 1.0);
}

#[test]
fn invalid_parameters_are_rejected() {
    let labels = [true, false];
    let scores = [0.9, 0.1];
    assert!(best_threshold(&labels, &scores, 0.0).is_err());
    assert!(workload_reduction(&labels, &scores, 1.5).is_err());
}

#[test]
fn exact_mann_whitney_too_large_to_count_falls_back_to_the_normal_approximation() {
    use prospector_eval::metrics::PValueMethod;
    let small: Vec<f64> = (0..8).map(|i| i as f64 * 1000.5).collect();
    let moderate: Vec<f64> = (0..1000).map(|i| i as f64 * 7.25 + 0.1).collect();
    let exact = mann_whitney_u(&small, &moderate, Alternative::TwoSided).unwrap();
    assert_eq!(exact.method, PValueMethod::Exact);
    // C(300008, 8) exceeds 128-bit counts: no overflow panic, an asymptotic p-value.
    let huge: Vec<f64> = (0..300_000).map(|i| i as f64 + 0.25).collect();
    let fallback = mann_whitney_u(&small, &huge, Alternative::TwoSided).unwrap();
    assert_eq!(fallback.method, PValueMethod::Asymptotic);
    assert!(fallback.pvalue > 0.0 && fallback.pvalue <= 1.0);
}
