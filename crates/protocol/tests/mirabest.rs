//! The labelled FIRST galaxies become cutout sets the protocol can run on, and a run of
//! the protocol with the real model produces every score for every test source.

use prospector_cutouts::Label;
use prospector_eval::protocol::{run_protocol, Configuration, ProtocolSettings, RunContext, NCC};
use prospector_model::{Device, TrainConfig};
use prospector_protocol::{
    dataset_from_sets, mirabest_sets, CutoutPool, VqVaeFactory, CODE_RARITY, MSE,
};
use prospector_sources::FinderConfig;
use std::sync::Arc;

#[test]
fn mirabest_galaxies_are_found_labelled_and_scored() {
    let data = prospector_testdata::shared_data().join("mirabest");
    let sets = mirabest_sets(&data, &FinderConfig::default()).unwrap();
    let total = sets.labelled.len() + sets.unlabelled.len() + sets.skipped.len();
    assert_eq!(total, 1255, "every manifest row is accounted for");
    // The finder misses only a handful of faint galaxies at PyBDSF's thresholds.
    assert!(
        sets.skipped.len() <= 25,
        "{} skipped: {:?}",
        sets.skipped.len(),
        sets.skipped
    );
    let exotic = sets
        .labelled
        .records()
        .iter()
        .filter(|r| r.label == Label::Exotic)
        .count();
    // 81 confidently classified exotic galaxies in the manifest.
    assert!((75..=81).contains(&exotic), "{exotic} exotic");
    assert!(sets
        .unlabelled
        .records()
        .iter()
        .all(|r| r.label == Label::Unlabelled));
    assert!(sets
        .labelled
        .pixels()
        .iter()
        .all(|v| (0.0..=1.0).contains(v)));

    // A small labelled subset keeps the run to seconds: 6 exotic, 24 typical.
    let mut pick: Vec<usize> = Vec::new();
    let (mut e, mut t) = (0, 0);
    for (i, r) in sets.labelled.records().iter().enumerate() {
        let take = match r.label {
            Label::Exotic if e < 6 => {
                e += 1;
                true
            }
            Label::Typical if t < 24 => {
                t += 1;
                true
            }
            _ => false,
        };
        if take {
            pick.push(i);
        }
    }
    let labelled = sets.labelled.select(&pick);
    let unlabelled = sets.unlabelled.select(&(0..40).collect::<Vec<_>>());
    let dataset = dataset_from_sets(&labelled, &unlabelled).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = TrainConfig {
        epochs: 1,
        batch_size: 16,
        ..TrainConfig::default()
    };
    let factory = VqVaeFactory {
        pool: Arc::new(CutoutPool::new(&[&labelled, &unlabelled]).unwrap()),
        config,
        device: Device::Cpu,
        models_dir: dir.path().join("models"),
    };
    let settings = ProtocolSettings {
        configurations: vec![Configuration::A],
        runs: 1,
        gallery: None,
        ..ProtocolSettings::default()
    };
    let make = |run: &RunContext| factory.create_scorer(run);
    let results = run_protocol(&dataset, &settings, &make, dir.path()).unwrap();
    assert_eq!(results.len(), 1);
    for name in [NCC, MSE, CODE_RARITY] {
        let auc = results[0].metrics[name].auc;
        assert!((0.0..=1.0).contains(&auc), "{name}: AUC {auc}");
    }
    assert!(dir.path().join("models/A-00/model-card.json").is_file());
}
