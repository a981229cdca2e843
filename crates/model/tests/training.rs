//! Training on small synthetic sets: it learns, it repeats, it resumes.

mod common;

use common::{blobs_and_doubles, cpu, tiny_config, train_quietly, TINY_SIDE};
use prospector_cutouts::CutoutSet;
use prospector_model::{train, EpochMetrics, ModelCard, ModelError, Preset, Progress, TrainConfig};
use std::path::Path;

fn metrics_without_time(card: &ModelCard) -> Vec<EpochMetrics> {
    card.epochs
        .iter()
        .map(|e| EpochMetrics {
            seconds: 0.0,
            ..e.clone()
        })
        .collect()
}

/// The error training gives for this set, configuration and folder.
fn refusal(set: &CutoutSet, config: &TrainConfig, dir: &Path, resume: bool) -> ModelError {
    train(set, config, dir, &cpu(resume), &mut |_: &Progress| {}).unwrap_err()
}

#[test]
fn both_recipes_learn_and_only_the_improved_one_keeps_its_codebook_in_use() {
    let set = blobs_and_doubles(80, TINY_SIDE, 1);
    let epochs = 8;
    let mut cards = Vec::new();
    for preset in [Preset::Baseline, Preset::Improved] {
        let dir = tempfile::tempdir().unwrap();
        let (mut steps, mut ends) = (0, 0);
        let card = train(
            &set,
            &tiny_config(preset, epochs),
            dir.path(),
            &cpu(false),
            &mut |p: &Progress| match p {
                Progress::Step { .. } => steps += 1,
                Progress::Epoch(_) => ends += 1,
                _ => {}
            },
        )
        .unwrap();
        // 64 training cutouts in batches of 16.
        assert_eq!((steps, ends), (4 * epochs, epochs));
        let (first, last) = (&card.epochs[0], &card.epochs[epochs - 1]);
        assert!(
            last.train.loss < 0.5 * first.train.loss,
            "{preset:?}: loss {} -> {}",
            first.train.loss,
            last.train.loss
        );
        assert!(last.validation.unwrap().loss < 0.5 * first.validation.unwrap().loss);
        cards.push(card);
    }
    let (baseline, improved) = (&cards[0], &cards[1]);
    let val = |card: &ModelCard, epoch: usize| card.epochs[epoch].validation.unwrap();
    // The baseline collapses onto a few codes (its known failure)...
    assert!(
        val(baseline, epochs - 1).perplexity < 2.0,
        "{:?}",
        val(baseline, epochs - 1)
    );
    // ...the improved recipe spreads its use as it learns.
    assert!(val(improved, epochs - 1).perplexity > 2.0 * val(improved, 0).perplexity);
    assert!(val(improved, epochs - 1).perplexity > 3.0 * val(baseline, epochs - 1).perplexity);
    assert!(improved.epochs[epochs - 1].train.code_usage > 0.75);
}

#[test]
fn the_same_seed_gives_the_same_weights() {
    let set = blobs_and_doubles(48, TINY_SIDE, 2);
    // The improved recipe draws from every random stream: k-means, restarts, order.
    let config = tiny_config(Preset::Improved, 2);
    let runs: Vec<ModelCard> = (0..2)
        .map(|_| train_quietly(&set, &config, tempfile::tempdir().unwrap().path(), false))
        .collect();
    assert_eq!(runs[0].version_id, runs[1].version_id);
    assert_eq!(
        metrics_without_time(&runs[0]),
        metrics_without_time(&runs[1])
    );
    let mut other_seed = config.clone();
    other_seed.seed += 1;
    let other = train_quietly(
        &set,
        &other_seed,
        tempfile::tempdir().unwrap().path(),
        false,
    );
    assert_ne!(other.version_id, runs[0].version_id);
}

#[test]
fn a_resumed_run_ends_where_an_uninterrupted_one_does() {
    let set = blobs_and_doubles(48, TINY_SIDE, 3);
    let config = tiny_config(Preset::Improved, 3);
    let straight = train_quietly(&set, &config, tempfile::tempdir().unwrap().path(), false);

    let dir = tempfile::tempdir().unwrap();
    let first_epoch = train_quietly(&set, &tiny_config(Preset::Improved, 1), dir.path(), false);
    assert_eq!(first_epoch.epochs.len(), 1);

    // Without `resume`, the checkpoint is not overwritten.
    let err = refusal(&set, &config, dir.path(), false);
    assert!(matches!(err, ModelError::Resume { .. }), "{err}");
    assert!(err.to_string().contains("resume it"), "{err}");
    // Other cutouts cannot continue it.
    let other = blobs_and_doubles(48, TINY_SIDE, 4);
    let err = refusal(&other, &config, dir.path(), true);
    assert!(err.to_string().contains("pixel hash"), "{err}");
    // Nor another recipe.
    let mut other_recipe = config.clone();
    other_recipe.adam.learning_rate *= 2.0;
    let err = refusal(&set, &other_recipe, dir.path(), true);
    assert!(err.to_string().contains("configuration differs"), "{err}");

    let mut resumed_from = None;
    let resumed = train(
        &set,
        &config,
        dir.path(),
        &cpu(true),
        &mut |p: &Progress| {
            if let Progress::Started { resumed_epochs, .. } = p {
                resumed_from = Some(*resumed_epochs);
            }
        },
    )
    .unwrap();
    assert_eq!(resumed_from, Some(1));
    assert_eq!(
        metrics_without_time(&resumed),
        metrics_without_time(&straight)
    );
    assert_eq!(resumed.version_id, straight.version_id);
}

#[test]
fn training_refuses_cutouts_that_do_not_fit() {
    let config = tiny_config(Preset::Baseline, 1);
    let dir = tempfile::tempdir().unwrap();
    let wrong_side = blobs_and_doubles(8, 2 * TINY_SIDE, 5);
    let err = refusal(&wrong_side, &config, dir.path(), false);
    assert!(
        err.to_string()
            .contains("32x32 cutouts, the configuration expects 16x16"),
        "{err}"
    );

    let mut flat = prospector_cutouts::CutoutSet::new(TINY_SIDE, "none");
    for i in 0..4 {
        flat.push(common::record(i), &vec![0.5; TINY_SIDE * TINY_SIDE])
            .unwrap();
    }
    let err = refusal(&flat, &config, dir.path(), false);
    assert!(err.to_string().contains("zero pixel variance"), "{err}");

    let mut bad = config.clone();
    bad.architecture.side = 18;
    let err = refusal(&flat, &bad, dir.path(), false);
    assert!(err.to_string().contains("multiple of 4"), "{err}");
}
