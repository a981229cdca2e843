//! Scoring with a trained model folder: what was saved scores as what was trained, and
//! faults in the folder or the input are named.

mod common;

use common::{blobs_and_doubles, tiny_config, train_quietly, TINY_SIDE};
use prospector_model::{
    AnomalyMeasure, Device, ModelError, Preset, ScoreOptions, Scorer, CARD_FILE, WEIGHTS_FILE,
};
use std::fs;
use std::path::Path;

/// A model trained (12 epochs) on 40 synthetic cutouts with no validation split, so that its
/// training split is the whole set.
fn trained(dir: &Path, seed: u64) -> prospector_cutouts::CutoutSet {
    let set = blobs_and_doubles(40, TINY_SIDE, 9);
    let mut config = tiny_config(Preset::Improved, 12);
    config.validation_fraction = 0.0;
    config.seed = seed;
    train_quietly(&set, &config, dir, false);
    set
}

#[test]
fn a_loaded_model_scores_exactly_as_training_left_it() {
    let dir = tempfile::tempdir().unwrap();
    let set = trained(dir.path(), 1);
    let scorer = Scorer::load(dir.path(), Device::Cpu).unwrap();
    let card = scorer.card();
    let scores = scorer.score_set(&set, &ScoreOptions::default()).unwrap();
    assert_eq!(scores.len(), set.len());

    // The card's code histogram and score statistics were computed in memory by the
    // trainer, before saving: the loaded weights reproduce them exactly.
    let mut histogram = vec![0u64; card.config.architecture.num_codes];
    for s in &scores {
        assert_eq!(s.codes.len(), (TINY_SIDE / 4).pow(2));
        for &c in &s.codes {
            histogram[c as usize] += 1;
        }
    }
    assert_eq!(histogram, card.code_histogram);
    let mean_one_minus_ncc = scores.iter().map(|s| 1.0 - s.ncc).sum::<f64>() / scores.len() as f64;
    assert!((mean_one_minus_ncc - card.score_stats.one_minus_ncc.mean).abs() < 1e-12);
    let mean_rarity = scores.iter().map(|s| s.rarity).sum::<f64>() / scores.len() as f64;
    assert!((mean_rarity - card.score_stats.rarity.mean).abs() < 1e-12);
    // z-scored over the training split, the combined score averages to zero there.
    let mean_combined = scores.iter().map(|s| s.combined).sum::<f64>() / scores.len() as f64;
    assert!(mean_combined.abs() < 1e-9);

    // A second load scores identically, batch size notwithstanding.
    let mut again = Scorer::load(dir.path(), Device::Cpu).unwrap();
    again.set_batch_size(7);
    assert_eq!(
        again.score_set(&set, &ScoreOptions::default()).unwrap(),
        scores
    );
    assert_eq!(again.version_id(), scorer.version_id());
}

#[test]
fn scores_are_oriented_and_reconstructions_come_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let set = trained(dir.path(), 2);
    let scorer = Scorer::load(dir.path(), Device::Cpu).unwrap();
    let pixels = set.cutout(0);
    let plain = scorer
        .score_pixels(pixels, &ScoreOptions::default())
        .unwrap();
    assert!(plain[0].reconstruction.is_none());
    // The study's 1 - NCC ranks by default.
    assert_eq!(plain[0].anomaly, 1.0 - plain[0].ncc);
    let combined = ScoreOptions {
        anomaly: AnomalyMeasure::Combined,
        ..ScoreOptions::default()
    };
    let fused = scorer.score_pixels(pixels, &combined).unwrap();
    assert_eq!(fused[0].anomaly, fused[0].combined);

    let with = ScoreOptions {
        reconstructions: true,
        anomaly: AnomalyMeasure::OneMinusNcc,
    };
    let scored = scorer.score_pixels(pixels, &with).unwrap();
    let s = &scored[0];
    assert_eq!(s.anomaly, 1.0 - s.ncc);
    let recon = s.reconstruction.as_ref().unwrap();
    assert_eq!(recon.len(), TINY_SIDE * TINY_SIDE);
    // The scores describe this reconstruction (in pixel units).
    let mse = pixels
        .iter()
        .zip(recon)
        .map(|(a, b)| ((a - b) as f64).powi(2))
        .sum::<f64>()
        / recon.len() as f64;
    assert!(
        (mse - s.mse).abs() < 1e-6 * mse.max(1e-6),
        "{mse} vs {}",
        s.mse
    );
    let ncc = prospector_model::ncc(pixels, recon).unwrap();
    assert!((ncc.value - s.ncc).abs() < 1e-6);

    // The same source turned into noise reconstructs worse: every score says so.
    let noise: Vec<f32> = (0..pixels.len())
        .map(|i| ((i * 7919) % 101) as f32 / 100.0)
        .collect();
    let noisy = &scorer.score_pixels(&noise, &with).unwrap()[0];
    assert!(noisy.ncc < s.ncc && noisy.mse > s.mse, "{noisy:?} vs {s:?}");
    assert!(noisy.anomaly > s.anomaly);
}

#[test]
fn a_constant_cutout_is_flagged_rather_than_nan() {
    let dir = tempfile::tempdir().unwrap();
    trained(dir.path(), 3);
    let scorer = Scorer::load(dir.path(), Device::Cpu).unwrap();
    let flat = vec![0.25f32; TINY_SIDE * TINY_SIDE];
    let s = &scorer
        .score_pixels(&flat, &ScoreOptions::default())
        .unwrap()[0];
    assert!(!s.ncc_defined);
    assert_eq!(s.ncc, 0.0);
    assert!(s.combined.is_finite() && s.anomaly.is_finite() && s.mse.is_finite());
}

#[test]
fn scoring_refuses_input_that_does_not_fit_the_model() {
    let dir = tempfile::tempdir().unwrap();
    trained(dir.path(), 4);
    let scorer = Scorer::load(dir.path(), Device::Cpu).unwrap();
    let options = ScoreOptions::default();
    let wrong_side = blobs_and_doubles(2, 2 * TINY_SIDE, 1);
    let err = scorer
        .score_set(&wrong_side, &options)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("32x32 cutouts") && err.contains("takes 16x16"),
        "{err}"
    );
    let err = scorer
        .score_pixels(&[0.5; 300], &options)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("300 pixels are not a whole number of 16x16"),
        "{err}"
    );
    let mut nan = vec![0.5f32; 2 * TINY_SIDE * TINY_SIDE];
    nan[TINY_SIDE * TINY_SIDE + 3] = f32::NAN;
    let err = scorer.score_pixels(&nan, &options).unwrap_err().to_string();
    assert!(err.contains("cutout 1 holds a non-finite pixel"), "{err}");
    assert!(scorer.score_pixels(&[], &options).unwrap().is_empty());
}

#[test]
fn faults_in_a_model_folder_are_named() {
    let dir = tempfile::tempdir().unwrap();
    trained(dir.path(), 5);
    let other = tempfile::tempdir().unwrap();
    trained(other.path(), 6);
    let broken = tempfile::tempdir().unwrap();
    let copy =
        |file: &str, from: &Path| fs::copy(from.join(file), broken.path().join(file)).unwrap();

    copy(CARD_FILE, dir.path());
    let err = Scorer::load(broken.path(), Device::Cpu).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::MissingFile {
                file: WEIGHTS_FILE,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("model.safetensors is missing"),
        "{err}"
    );

    // Weights of another model under this card.
    copy(WEIGHTS_FILE, other.path());
    let err = Scorer::load(broken.path(), Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(err.contains("the model card describes"), "{err}");

    // A card of another format version.
    copy(WEIGHTS_FILE, dir.path());
    let card = fs::read_to_string(dir.path().join(CARD_FILE)).unwrap();
    let future = card.replace("prospector-model-card/1", "prospector-model-card/2");
    fs::write(broken.path().join(CARD_FILE), future).unwrap();
    let err = Scorer::load(broken.path(), Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "format is `prospector-model-card/2`, this build reads `prospector-model-card/1`"
        ),
        "{err}"
    );

    // Not a safetensors file.
    copy(CARD_FILE, dir.path());
    fs::write(broken.path().join(WEIGHTS_FILE), b"not tensors").unwrap();
    let err = Scorer::load(broken.path(), Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(err.contains(WEIGHTS_FILE), "{err}");

    copy(WEIGHTS_FILE, dir.path());
    assert!(Scorer::load(broken.path(), Device::Cpu).is_ok());
}

#[test]
fn a_64_pixel_model_gives_16x16_code_forms() {
    let set = blobs_and_doubles(8, 64, 7);
    let mut config = prospector_model::TrainConfig::preset(Preset::Baseline);
    config.epochs = 1;
    config.batch_size = 8;
    config.validation_fraction = 0.0;
    let dir = tempfile::tempdir().unwrap();
    let card = train_quietly(&set, &config, dir.path(), false);
    assert_eq!(card.code_histogram.iter().sum::<u64>(), 8 * 256);
    let scorer = Scorer::load(dir.path(), Device::Cpu).unwrap();
    let options = ScoreOptions {
        reconstructions: true,
        ..ScoreOptions::default()
    };
    let scores = scorer.score_set(&set, &options).unwrap();
    assert!(scores
        .iter()
        .all(|s| s.codes.len() == 256 && s.reconstruction.as_ref().unwrap().len() == 64 * 64));
}
