//! The A/B/C protocol: splits as the study defines them, a runner whose aggregated AUC
//! equals the analytic value of a synthetic scorer, resumability and determinism.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{factory, synthetic_dataset, SyntheticScorer};
use prospector_eval::metrics::normal_cdf;
use prospector_eval::protocol::{
    compare_summaries, plan_runs, read_runs, read_summary, run_json_path, run_protocol,
    run_protocol_observed, summarize, typical_set_count, write_summary, Configuration, Dataset,
    Half, ProtocolSettings, RunContext, RunObserver, RunResult, ScorerError, COMBINED, NCC,
};
use prospector_eval::EvalError;

fn settings(runs: usize, jobs: usize, configs: &[Configuration]) -> ProtocolSettings {
    ProtocolSettings {
        configurations: configs.to_vec(),
        runs,
        seed: 7,
        jobs,
        ..ProtocolSettings::default()
    }
}

#[test]
fn a_and_b_test_all_exotic_plus_disjoint_typical_sets_covering_every_typical_once() {
    // The study's proportions: 58 exotic, 35 typical sets (2030..2087 typical).
    let dataset = synthetic_dataset(58, 2050, 300);
    let k = typical_set_count(&dataset);
    assert_eq!(k, 35);
    let exotic: HashSet<&str> = dataset.exotic().map(|s| s.id.as_str()).collect();
    let typical: HashSet<&str> = dataset.typical().map(|s| s.id.as_str()).collect();
    for config in [Configuration::A, Configuration::B] {
        let splits = plan_runs(&dataset, config, k, 11).unwrap();
        let mut seen_typical: HashMap<String, usize> = HashMap::new();
        for split in &splits {
            let test: HashSet<&str> = split.test.iter().map(|t| t.id.as_str()).collect();
            assert_eq!(test.len(), split.test.len(), "duplicate in a test set");
            assert!(
                exotic.is_subset(&test),
                "run {} lacks exotic sources",
                split.run
            );
            let held_out: Vec<&str> = test.difference(&exotic).copied().collect();
            assert!(
                held_out.len() == 58 || held_out.len() == 59,
                "set size {}",
                held_out.len()
            );
            for id in held_out {
                *seen_typical.entry(id.to_string()).or_default() += 1;
            }
            let train: HashSet<&str> = split.train_ids.iter().map(String::as_str).collect();
            assert!(
                train.is_disjoint(&test),
                "{config} run {} trains on a test source",
                split.run
            );
            if config == Configuration::A {
                assert!(
                    train.is_subset(&typical),
                    "A trains on a non-typical source"
                );
                assert_eq!(train.len() + split.test.len() - 58, typical.len());
            } else {
                let unlabelled: HashSet<&str> =
                    dataset.unlabelled().iter().map(String::as_str).collect();
                assert_eq!(train, unlabelled);
            }
        }
        assert_eq!(
            seen_typical.len(),
            typical.len(),
            "{config}: not every typical tested"
        );
        assert!(
            seen_typical.values().all(|&n| n == 1),
            "{config}: typical tested twice"
        );
    }
}

#[test]
fn c_tests_every_labelled_source_with_stratified_halves_reshuffled_per_run() {
    let dataset = synthetic_dataset(58, 2050, 300);
    let splits = plan_runs(&dataset, Configuration::C, 3, 11).unwrap();
    for split in &splits {
        assert_eq!(split.test.len(), dataset.labelled().len());
        let select_exotic = split
            .test
            .iter()
            .filter(|t| t.exotic && t.half == Half::Select)
            .count();
        let select_typical = split
            .test
            .iter()
            .filter(|t| !t.exotic && t.half == Half::Select)
            .count();
        assert_eq!((select_exotic, select_typical), (29, 1025));
        assert_eq!(split.train_ids, dataset.unlabelled());
    }
    let halves = |i: usize| -> Vec<Half> {
        let mut v: Vec<_> = splits[i]
            .test
            .iter()
            .map(|t| (t.id.clone(), t.half))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v.into_iter().map(|(_, h)| h).collect()
    };
    assert_ne!(
        halves(0),
        halves(1),
        "halves are not reshuffled between runs"
    );
}

#[test]
fn splits_are_a_function_of_the_seed() {
    let dataset = synthetic_dataset(20, 200, 50);
    let a = plan_runs(&dataset, Configuration::A, 12, 3).unwrap();
    assert_eq!(a, plan_runs(&dataset, Configuration::A, 12, 3).unwrap());
    assert_ne!(a, plan_runs(&dataset, Configuration::A, 12, 4).unwrap());
    // Runs beyond the k disjoint sets start a new partition: still all exotic + a set.
    assert_eq!(typical_set_count(&dataset), 10);
    assert_eq!(a[10].test.iter().filter(|t| t.exotic).count(), 20);
    assert_ne!(a[0].test, a[10].test);
}

#[test]
fn mirabest_labels_split_into_eleven_typical_sets() {
    let root = std::env::var_os("PROSPECTOR_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let manifest = root.join("mirabest/manifest_all_1256.csv");
    assert!(
        manifest.exists(),
        "real labels missing: looked for {} (set PROSPECTOR_SHARED_DATA)",
        manifest.display()
    );
    let labelled = Dataset::labelled_from_csv(&manifest, "file", "exotic_flag").unwrap();
    let dataset = Dataset::new(labelled, Vec::new()).unwrap();
    assert_eq!(
        (dataset.exotic().count(), dataset.typical().count()),
        (99, 1156)
    );
    assert_eq!(typical_set_count(&dataset), 11);
    let splits = plan_runs(&dataset, Configuration::A, 11, 1).unwrap();
    let tested: usize = splits.iter().map(|s| s.test.len() - 99).sum();
    assert_eq!(tested, 1156);
    // B and C need unlabelled sources: a clear error, not an empty training set.
    let err = plan_runs(&dataset, Configuration::B, 1, 1).unwrap_err();
    assert!(err.to_string().contains("none were given"), "{err}");
    let bad = Dataset::labelled_from_csv(&manifest, "file", "no_such_column").unwrap_err();
    assert!(bad.to_string().contains("no_such_column"), "{bad}");
}

#[test]
fn aggregated_auc_matches_the_analytic_value_in_every_configuration() {
    let separation = 1.2;
    let expected = normal_cdf(separation / 2f64.sqrt());
    let dataset = synthetic_dataset(58, 2050, 400);
    let out = tempfile::tempdir().unwrap();
    let s = ProtocolSettings {
        combine: vec![NCC.into(), "mse".into()],
        ..settings(35, 2, &Configuration::ALL)
    };
    let results = run_protocol(&dataset, &s, &factory(&dataset, separation), out.path()).unwrap();
    assert_eq!(results.len(), 105);
    let summary = summarize(&results, NCC).unwrap();
    for c in &summary.configs {
        let ncc = &c.scores[NCC];
        assert!(
            (ncc.auc.mean - expected).abs() < 0.02,
            "{}: mean AUC {} vs analytic {expected}",
            c.config,
            ncc.auc.mean
        );
        // The mean ROC's area agrees with the mean AUC.
        let area =
            prospector_eval::metrics::trapezoid_area(&ncc.mean_roc.fpr, &ncc.mean_roc.mean_tpr)
                .unwrap();
        assert!(
            (area - ncc.auc.mean).abs() < 0.01,
            "{area} vs {}",
            ncc.auc.mean
        );
        // Averaged confusion matrices cover the measure half.
        let cells: f64 = ncc.confusion_f1.rows().iter().flatten().sum();
        let measure: usize = results
            .iter()
            .filter(|r| r.config == c.config)
            .map(|r| r.sources.iter().filter(|s| s.half == Half::Measure).count())
            .sum();
        assert!((cells - measure as f64 / c.runs as f64).abs() < 1e-9);
        // Thresholds chosen on the other half generalise: F1 near its best possible.
        assert!(ncc.f1.mean > 0.0 && ncc.f2.mean >= ncc.f1.mean * 0.8);
        // The cut chosen to keep 95% of exotics keeps about that many on the other half.
        assert!(ncc.exotic_kept.mean > 0.85, "{}", ncc.exotic_kept.mean);
        // The island-size baseline (shift 0.5 sd) has AUC Phi(0.5/sqrt 2) = 0.638.
        // Fusing NCC with the noisier MSE by rank lands between the two.
        let (combined, mse) = (&c.scores[COMBINED], &c.scores["mse"]);
        assert!(!combined.baseline && combined.auc.mean > mse.auc.mean);
        assert!(combined.auc.mean < ncc.auc.mean);
        let size = &c.scores["baseline_island_size"];
        assert!(
            size.baseline && (size.auc.mean - 0.638).abs() < 0.03,
            "{}",
            size.auc.mean
        );
    }
    // Fused with the island size (independent of NCC here), by rank: far better than size
    // alone. On values, the sum of the two unit normals shifted 1.2 and 0.5 has AUC
    // Phi((1.2 + 0.5) / 2) = 0.80 against size's 0.638; ranks come close.
    let with_size = ProtocolSettings {
        combine: vec![NCC.into(), "baseline_island_size".into()],
        ..s.clone()
    };
    let fused = run_protocol(
        &dataset,
        &with_size,
        &factory(&dataset, separation),
        out.path(),
    )
    .unwrap();
    let summary_fused = summarize(&fused, NCC).unwrap();
    for c in &summary_fused.configs {
        let (combined, size) = (&c.scores[COMBINED], &c.scores["baseline_island_size"]);
        assert!(
            combined.auc.mean > size.auc.mean + 0.05,
            "{}: {} vs {}",
            c.config,
            combined.auc.mean,
            size.auc.mean
        );
    }
    assert_eq!(summary.config_comparisons.len(), 3);
    write_summary(&summary, out.path()).unwrap();
    let csv = std::fs::read_to_string(out.path().join("summary.csv")).unwrap();
    // Header + 3 configurations x (ncc, mse, combined and three baselines).
    assert_eq!(csv.lines().count(), 1 + 3 * 6);
    // NCC vs MSE (MSE = anomaly + noise, so worse): the paired test sees it.
    let vs_mse = summary
        .score_comparisons
        .iter()
        .find(|c| c.config == Configuration::A && c.second == "mse")
        .unwrap();
    assert!(vs_mse.mean_difference > 0.0 && vs_mse.test.unwrap().pvalue < 0.01);
}

#[test]
fn two_recipes_compare_by_mann_whitney_over_runs_from_their_written_summaries() {
    // Two scorers on the same splits: a sharp one (AUC 0.80) and a weak one (0.58).
    let dataset = synthetic_dataset(58, 600, 100);
    let s = settings(8, 2, &[Configuration::A, Configuration::C]);
    let mut summaries = Vec::new();
    for separation in [1.2, 0.3] {
        let out = tempfile::tempdir().unwrap();
        let results =
            run_protocol(&dataset, &s, &factory(&dataset, separation), out.path()).unwrap();
        write_summary(&summarize(&results, NCC).unwrap(), out.path()).unwrap();
        summaries.push(read_summary(out.path()).unwrap());
    }
    let comparisons = compare_summaries(&summaries[0], &summaries[1], NCC).unwrap();
    assert_eq!(comparisons.len(), 4, "A and C, each AUC and workload");
    for c in &comparisons {
        assert_eq!(c.first.values.len(), 8);
        assert!(c.first.mean > c.second.mean, "{c:?}");
        if c.measure == "auc" {
            assert!(c.test.statistic > 56.0 && c.test.pvalue < 0.01, "{c:?}");
        }
    }
    let missing = compare_summaries(&summaries[0], &summaries[1], "no_such_score");
    assert!(missing.unwrap_err().to_string().contains("no_such_score"));
    let err = read_summary(std::path::Path::new("/nonexistent")).unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/summary.json"),
        "{err}"
    );
}

#[test]
fn a_leaking_split_would_be_caught_by_the_memorising_scorer() {
    // The scorer rates any source it trained on as perfectly reconstructed. Train a run
    // on its own test set and the AUC collapses: the check above is sensitive to leaks.
    let dataset = synthetic_dataset(58, 600, 0);
    let split = &plan_runs(&dataset, Configuration::A, 1, 1).unwrap()[0];
    let make = factory(&dataset, 1.2);
    let context = RunContext {
        config: split.config,
        run: 0,
        seed: split.seed,
    };
    let ids: Vec<String> = split.test.iter().map(|t| t.id.clone()).collect();
    let exotic: Vec<String> = split
        .test
        .iter()
        .filter(|t| t.exotic)
        .map(|t| t.id.clone())
        .collect();
    let labels: Vec<bool> = split.test.iter().map(|t| t.exotic).collect();
    let auc_when_trained_on = |train: &[String]| {
        use prospector_eval::protocol::AnomalyScorer;
        let mut scorer: SyntheticScorer = make(&context).unwrap();
        scorer.train(&context, train).unwrap();
        let scores: Vec<f64> = scorer
            .score(&ids)
            .unwrap()
            .iter()
            .map(|s| -s.scores[NCC])
            .collect();
        prospector_eval::metrics::roc_auc(&labels, &scores).unwrap()
    };
    let honest = auc_when_trained_on(&split.train_ids);
    let leaky = auc_when_trained_on(&[split.train_ids.clone(), exotic].concat());
    assert!(
        honest > 0.7 && leaky < 0.3,
        "honest {honest}, leaky {leaky}"
    );
}

#[derive(Default)]
struct Counter {
    loaded: AtomicUsize,
    finished: AtomicUsize,
}

impl RunObserver for Counter {
    fn loaded(&self, _: &RunResult) {
        self.loaded.fetch_add(1, Ordering::SeqCst);
    }
    fn finished(&self, _: &RunResult, _: std::time::Duration) {
        self.finished.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn runs_resume_from_saved_results_and_do_not_depend_on_jobs() {
    let dataset = synthetic_dataset(12, 60, 30);
    let s = settings(4, 1, &[Configuration::A, Configuration::C]);
    let calls = AtomicUsize::new(0);
    let inner = factory(&dataset, 1.0);
    let counting = |run: &RunContext| -> Result<SyntheticScorer, ScorerError> {
        calls.fetch_add(1, Ordering::SeqCst);
        inner(run)
    };
    let out = tempfile::tempdir().unwrap();
    let first = run_protocol(&dataset, &s, &counting, out.path()).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 8);
    assert!(out.path().join("runs/A-000.csv").exists());
    assert!(read_runs(out.path()).unwrap() == first, "saved runs differ");

    // A restart loads everything and runs nothing; the observer hears of each load.
    let counter = Counter::default();
    let again = run_protocol_observed(&dataset, &s, &counting, out.path(), &counter).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 8);
    assert!(first == again, "results differ");
    assert_eq!(counter.loaded.load(Ordering::SeqCst), 8);
    assert_eq!(counter.finished.load(Ordering::SeqCst), 0);

    // One missing result: only that run executes, and gives the same numbers.
    std::fs::remove_file(run_json_path(out.path(), Configuration::C, 2)).unwrap();
    let resumed = run_protocol(&dataset, &s, &counting, out.path()).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 9);
    assert!(first == resumed, "results differ");

    // Three parallel jobs in a fresh folder: identical results.
    let parallel_out = tempfile::tempdir().unwrap();
    let parallel = run_protocol(
        &dataset,
        &settings(4, 3, &[Configuration::A, Configuration::C]),
        &inner,
        parallel_out.path(),
    )
    .unwrap();
    assert!(first == parallel, "results differ");

    // Another fusion re-derives the saved runs from their scores, training nothing, and
    // gives what a fresh run with that fusion gives; the re-derived runs are saved.
    let fused = ProtocolSettings {
        combine: vec![NCC.into(), "baseline_island_size".into()],
        ..s.clone()
    };
    let rederived = run_protocol(&dataset, &fused, &counting, out.path()).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 9);
    let fresh_out = tempfile::tempdir().unwrap();
    let fresh = run_protocol(&dataset, &fused, &inner, fresh_out.path()).unwrap();
    assert!(
        rederived == fresh,
        "re-derived results differ from a fresh run"
    );
    assert!(rederived.iter().all(|r| r.metrics.contains_key(COMBINED)));
    assert!(
        read_runs(out.path()).unwrap() == rederived,
        "re-derived runs not saved"
    );

    // A saved run from another seed is refused, not mixed in.
    let other_seed = ProtocolSettings {
        seed: 8,
        ..s.clone()
    };
    let err = run_protocol(&dataset, &other_seed, &inner, out.path()).unwrap_err();
    assert!(err.to_string().contains("different split"), "{err}");
}

#[test]
fn a_scorer_that_skips_a_test_source_gets_an_error_naming_it() {
    use prospector_eval::protocol::{AnomalyScorer, ScoreSpec, SourceScores};
    struct Forgetful(SyntheticScorer);
    impl AnomalyScorer for Forgetful {
        fn score_specs(&self) -> Vec<ScoreSpec> {
            self.0.score_specs()
        }
        fn train(&mut self, run: &RunContext, ids: &[String]) -> Result<(), ScorerError> {
            self.0.train(run, ids)
        }
        fn score(&mut self, ids: &[String]) -> Result<Vec<SourceScores>, ScorerError> {
            let mut s = self.0.score(ids)?;
            s.retain(|s| s.id != "exotic-3");
            Ok(s)
        }
    }
    let dataset = synthetic_dataset(12, 60, 30);
    let inner = factory(&dataset, 1.0);
    let forgetful = |run: &RunContext| inner(run).map(Forgetful);
    let out = tempfile::tempdir().unwrap();
    let err = run_protocol(
        &dataset,
        &settings(1, 1, &[Configuration::A]),
        &forgetful,
        out.path(),
    )
    .unwrap_err();
    assert!(matches!(err, EvalError::ScorerOutput { .. }), "{err}");
    assert!(err.to_string().contains("\"exotic-3\" not scored"), "{err}");
}

#[test]
fn a_fusion_naming_an_unknown_score_is_refused_naming_the_choices() {
    let dataset = synthetic_dataset(12, 60, 30);
    let misspelt = ProtocolSettings {
        combine: vec![NCC.into(), "baseline_island_sise".into()],
        ..settings(2, 1, &[Configuration::A])
    };
    let out = tempfile::tempdir().unwrap();
    let err = run_protocol(&dataset, &misspelt, &factory(&dataset, 1.0), out.path()).unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot fuse \"baseline_island_sise\""),
        "{err}"
    );
    assert!(err.to_string().contains("baseline_island_size"), "{err}");
    assert!(!out.path().join("runs/A-000.json").exists());
}

#[test]
fn datasets_with_duplicate_or_overlapping_ids_are_rejected() {
    use prospector_eval::protocol::LabelledSource;
    let l = |id: &str, exotic| LabelledSource {
        id: id.into(),
        exotic,
    };
    let dup = Dataset::new(vec![l("a", true), l("a", false)], vec![]).unwrap_err();
    assert!(dup.to_string().contains("listed twice"), "{dup}");
    let overlap = Dataset::new(vec![l("a", true), l("b", false)], vec!["b".into()]).unwrap_err();
    assert!(
        overlap.to_string().contains("both labelled and unlabelled"),
        "{overlap}"
    );
    let one_class = Dataset::new(vec![l("a", false), l("b", false)], vec![]).unwrap_err();
    assert!(
        one_class.to_string().contains("both classes"),
        "{one_class}"
    );
}
