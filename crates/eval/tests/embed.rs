//! t-SNE and UMAP keep well-separated clusters apart: a random layout fails the same
//! bounds, so these tests check the algorithms, not just that they return points.

use prospector_eval::embed::{
    code_usage_features, fit_ab, neighbour_label_agreement, trustworthiness, tsne, umap,
    TsneSettings, UmapSettings,
};
use prospector_eval::protocol::CodeForm;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// `clusters` Gaussian blobs of unit spread in `dim` dimensions, centres 8 apart along
/// random directions.
fn blobs(clusters: usize, per: usize, dim: usize, seed: u64) -> (Vec<Vec<f64>>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres: Vec<Vec<f64>> = (0..clusters)
        .map(|_| (0..dim).map(|_| rng.random_range(-8.0..8.0)).collect())
        .collect();
    let mut points = Vec::new();
    let mut labels = Vec::new();
    for (c, centre) in centres.iter().enumerate() {
        for _ in 0..per {
            let noise = |rng: &mut ChaCha8Rng| -> f64 { StandardNormal.sample(rng) };
            points.push(centre.iter().map(|m| m + noise(&mut rng)).collect());
            labels.push(c);
        }
    }
    (points, labels)
}

fn random_layout(n: usize, seed: u64) -> Vec<[f64; 2]> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| [rng.random::<f64>(), rng.random::<f64>()])
        .collect()
}

const AGREEMENT_BOUND: f64 = 0.95;
const TRUST_BOUND: f64 = 0.85;

#[test]
fn the_bounds_reject_a_random_layout() {
    let (points, labels) = blobs(4, 50, 30, 1);
    let random = random_layout(points.len(), 2);
    let agreement = neighbour_label_agreement(&random, &labels, 10).unwrap();
    let trust = trustworthiness(&points, &random, 10).unwrap();
    assert!(
        agreement < 0.5 && trust < TRUST_BOUND,
        "{agreement} {trust}"
    );
}

/// Embeds well-separated blobs twice with one seed: the layout keeps the clusters apart
/// and is reproducible. Returns the layout.
fn check_separates(embed: impl Fn(&[Vec<f64>], u64) -> Vec<[f64; 2]>) -> Vec<[f64; 2]> {
    let (points, labels) = blobs(4, 50, 30, 1);
    let y = embed(&points, 5);
    let agreement = neighbour_label_agreement(&y, &labels, 10).unwrap();
    let trust = trustworthiness(&points, &y, 10).unwrap();
    assert!(agreement > AGREEMENT_BOUND, "label agreement {agreement}");
    assert!(trust > TRUST_BOUND, "trustworthiness {trust}");
    assert_eq!(y, embed(&points, 5), "same seed, different layout");
    y
}

#[test]
fn tsne_keeps_separated_clusters_apart_and_is_deterministic() {
    check_separates(|p, seed| tsne(p, &TsneSettings::default(), seed).unwrap());
}

#[test]
fn umap_keeps_separated_clusters_apart_and_is_deterministic() {
    let run = |p: &[Vec<f64>], seed| umap(p, &UmapSettings::default(), seed).unwrap();
    let y = check_separates(run);
    let (points, _) = blobs(4, 50, 30, 1);
    assert_ne!(y, run(&points, 6), "seed is ignored");
}

#[test]
fn umap_curve_parameters_match_umap_learn() {
    // umap-learn's find_ab_params(1.0, 0.1) gives a = 1.577, b = 0.895.
    let (a, b) = fit_ab(1.0, 0.1);
    assert!(
        (a - 1.577).abs() < 0.01 && (b - 0.895).abs() < 0.01,
        "a {a} b {b}"
    );
}

#[test]
fn code_usage_features_are_hellinger_coordinates_and_reject_bad_forms() {
    let form = |codes: Vec<u32>| CodeForm {
        width: 2,
        height: 2,
        codebook_size: 4,
        codes,
    };
    let a = form(vec![0, 0, 1, 1]);
    let b = form(vec![1, 1, 0, 0]);
    let c = form(vec![2, 2, 3, 3]);
    let f = code_usage_features(&[&a, &b, &c]).unwrap();
    assert_eq!(f[0], f[1], "layout must not matter");
    let half = 0.5f64.sqrt();
    assert_eq!(f[0], vec![half, half, 0.0, 0.0]);
    let out_of_range = form(vec![0, 1, 2, 9]);
    let err = code_usage_features(&[&a, &out_of_range]).unwrap_err();
    assert!(err.to_string().contains("code 9"), "{err}");
}

#[test]
fn too_few_points_and_ragged_input_are_errors() {
    assert!(tsne(&[vec![1.0], vec![2.0]], &TsneSettings::default(), 0).is_err());
    let ragged = vec![vec![1.0, 2.0], vec![1.0], vec![0.0, 0.0], vec![3.0, 1.0]];
    let err = umap(&ragged, &UmapSettings::default(), 0).unwrap_err();
    assert!(err.to_string().contains("point 1"), "{err}");
}
