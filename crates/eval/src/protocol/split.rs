//! The study's train/test splits for configurations A, B and C, and the halves of each
//! test set (thresholds are chosen on the first, scores measured on the second).

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::dataset::{Configuration, Dataset, LabelledSource};
use super::seed::{derive_seed, rng_for, tag};
use crate::error::EvalError;

/// Which half of a run's test set a source belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Half {
    /// Thresholds (F1, F2, workload cut, baseline direction) are chosen here.
    Select,
    /// Thresholded scores and confusion matrices are measured here.
    Measure,
}

/// A source in a run's test set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestItem {
    pub id: String,
    pub exotic: bool,
    pub half: Half,
}

/// One run: what the scorer trains on and what it is tested on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSplit {
    pub config: Configuration,
    pub run: usize,
    /// Seed for everything random inside the run (the scorer's training included).
    pub seed: u64,
    pub train_ids: Vec<String>,
    pub test: Vec<TestItem>,
}

/// The typical sources partitioned into `floor(typical / exotic)` sets (at least one),
/// of sizes differing by at most one, so every typical source is in exactly one set.
/// With 58 exotic and 2030..2087 typical sources this gives the study's 35 sets.
fn typical_sets(dataset: &Dataset, seed: u64, cycle: u64) -> Vec<Vec<LabelledSource>> {
    let mut typical: Vec<LabelledSource> = dataset.typical().cloned().collect();
    let exotic = dataset.exotic().count();
    let count = (typical.len() / exotic).max(1);
    typical.shuffle(&mut rng_for(seed, &[tag::TYPICAL_PARTITION, cycle]));
    let n = typical.len();
    (0..count)
        .map(|j| typical[j * n / count..(j + 1) * n / count].to_vec())
        .collect()
}

/// Number of disjoint typical test sets the dataset gives (runs beyond it repartition).
pub fn typical_set_count(dataset: &Dataset) -> usize {
    (dataset.typical().count() / dataset.exotic().count()).max(1)
}

/// Splits `test` into halves, stratified: each class is shuffled and its first
/// `floor(n/2)` members go to [`Half::Select`], so both halves hold (almost) the same
/// number of exotic and of typical sources.
fn assign_halves(test: Vec<LabelledSource>, seed: u64) -> Vec<TestItem> {
    let mut rng = rng_for(seed, &[tag::HALVES]);
    let mut items = Vec::with_capacity(test.len());
    for exotic in [true, false] {
        let mut class: Vec<LabelledSource> = test
            .iter()
            .filter(|s| s.exotic == exotic)
            .cloned()
            .collect();
        class.shuffle(&mut rng);
        let select = class.len() / 2;
        items.extend(class.into_iter().enumerate().map(|(i, s)| TestItem {
            id: s.id,
            exotic: s.exotic,
            half: if i < select {
                Half::Select
            } else {
                Half::Measure
            },
        }));
    }
    items.shuffle(&mut rng);
    items
}

/// The `runs` splits of `config`, a function of (dataset, config, runs, seed) only.
///
/// - A: test = every exotic source + typical set `r mod k`; train = every other typical
///   source (never an exotic or a test source).
/// - B: test as A; train = every unlabelled source.
/// - C: test = every labelled source (halves reshuffled per run); train = every unlabelled
///   source.
///
/// Runs `0..k` use the `k` disjoint typical sets of one partition; further runs use new
/// partitions (`k` runs per partition).
pub fn plan_runs(
    dataset: &Dataset,
    config: Configuration,
    runs: usize,
    seed: u64,
) -> Result<Vec<RunSplit>, EvalError> {
    if matches!(config, Configuration::B | Configuration::C) && dataset.unlabelled().is_empty() {
        return Err(EvalError::Setup(format!(
            "configuration {config} trains on unlabelled sources, but none were given"
        )));
    }
    let k = typical_set_count(dataset);
    let mut partition: Option<(u64, Vec<Vec<LabelledSource>>)> = None;
    let mut splits = Vec::with_capacity(runs);
    for run in 0..runs {
        let run_seed = derive_seed(seed, &[config.index(), run as u64]);
        let (train_ids, test) = match config {
            Configuration::A | Configuration::B => {
                let cycle = (run / k) as u64;
                if partition.as_ref().is_none_or(|(c, _)| *c != cycle) {
                    partition = Some((cycle, typical_sets(dataset, seed, cycle)));
                }
                let sets = partition.as_ref().map(|(_, s)| s.as_slice()).unwrap_or(&[]);
                let held_out = run % k;
                let mut test: Vec<LabelledSource> = dataset.exotic().cloned().collect();
                test.extend(sets[held_out].iter().cloned());
                let train = if config == Configuration::A {
                    sets.iter()
                        .enumerate()
                        .filter(|(j, _)| *j != held_out)
                        .flat_map(|(_, set)| set.iter().map(|s| s.id.clone()))
                        .collect()
                } else {
                    dataset.unlabelled().to_vec()
                };
                (train, test)
            }
            Configuration::C => (dataset.unlabelled().to_vec(), dataset.labelled().to_vec()),
        };
        if train_ids.is_empty() {
            return Err(EvalError::Setup(format!(
                "configuration {config} run {run} has nothing to train on ({} typical sources \
                 make only one set)",
                dataset.typical().count()
            )));
        }
        splits.push(RunSplit {
            config,
            run,
            seed: run_seed,
            train_ids,
            test: assign_halves(test, run_seed),
        });
    }
    Ok(splits)
}
