//! Executes the protocol's runs with any [`ScorerFactory`], resumably: each finished run
//! is saved as JSON (and its scores as CSV) in the output folder, and a restart loads
//! finished runs instead of repeating them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::combine::{add_combined_score, COMBINED};
use super::dataset::{Configuration, Dataset};
use super::evaluate::{
    evaluate_baseline, evaluate_score, score_values, ScoreMetrics, ScoredSource, BASELINES,
};
use super::gallery::{extremes, Gallery, GalleryEnd, GalleryGroup, GalleryItem, GallerySettings};
use super::scorer::{AnomalyScorer, RunContext, ScoreSpec, ScorerError, ScorerFactory, NCC};
use super::seed::{fingerprint, rng_for, tag};
use super::split::{plan_runs, RunSplit};
use crate::error::EvalError;

/// How the protocol is run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProtocolSettings {
    pub configurations: Vec<Configuration>,
    /// Runs per configuration (the study: 35).
    pub runs: usize,
    pub seed: u64,
    /// Runs executed at once, each on its own thread with its own scorer. Results do not
    /// depend on it.
    pub jobs: usize,
    /// The score the study reports, galleries rank by and configurations are compared on.
    pub primary_score: String,
    /// Fraction of exotic sources the workload cut must keep (0.95).
    pub keep_exotic: f64,
    /// Galleries are collected in run 0 of each configuration; `None` skips them.
    pub gallery: Option<GallerySettings>,
    /// Scores fused into the derived score [`COMBINED`] (mean normalised rank): the
    /// model's, or the trivial baselines' (`baseline_island_size`, ...), which a fusion
    /// orients by prior, larger = more anomalous, never by labels. Empty for none. A
    /// saved run fused otherwise is re-derived from its saved scores, not retrained.
    #[serde(default)]
    pub combine: Vec<String>,
}

impl Default for ProtocolSettings {
    fn default() -> Self {
        ProtocolSettings {
            configurations: Configuration::ALL.to_vec(),
            runs: 35,
            seed: 0,
            jobs: 1,
            primary_score: NCC.to_string(),
            keep_exotic: 0.95,
            gallery: Some(GallerySettings::default()),
            combine: Vec::new(),
        }
    }
}

/// Everything one run produced; saved as `runs/<config>-<run>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub config: Configuration,
    pub run: usize,
    pub seed: u64,
    /// Identifies the split (train and test ids); a saved run with another fingerprint
    /// was made from different data or settings.
    pub split_fingerprint: u64,
    pub train_count: usize,
    /// The scores [`COMBINED`] fuses (empty: none); see [`ProtocolSettings::combine`].
    #[serde(default)]
    pub combine: Vec<String>,
    pub score_specs: Vec<ScoreSpec>,
    /// The test set in the order of the split, with every score (baselines included).
    pub sources: Vec<ScoredSource>,
    /// By score name: the model's scores and the baselines.
    pub metrics: BTreeMap<String, ScoreMetrics>,
    pub gallery: Option<Gallery>,
}

fn split_fingerprint(split: &RunSplit) -> u64 {
    let test = split.test.iter().map(|t| t.id.as_str());
    fingerprint(split.train_ids.iter().map(String::as_str).chain(test))
}

/// Where run results are saved inside the output folder.
pub fn run_json_path(output_dir: &Path, config: Configuration, run: usize) -> PathBuf {
    output_dir
        .join("runs")
        .join(format!("{config}-{run:03}.json"))
}

fn run_csv_path(output_dir: &Path, config: Configuration, run: usize) -> PathBuf {
    output_dir
        .join("runs")
        .join(format!("{config}-{run:03}.csv"))
}

/// Hears about runs as the runner works through them, e.g. to log progress. Called from
/// the worker threads.
pub trait RunObserver: Sync {
    /// A finished run was found in the output folder and will not be repeated.
    fn loaded(&self, result: &RunResult) {
        let _ = result;
    }
    /// A run is about to create and train its scorer.
    fn started(&self, split: &RunSplit) {
        let _ = split;
    }
    /// A run finished and was saved.
    fn finished(&self, result: &RunResult, elapsed: Duration) {
        let _ = (result, elapsed);
    }
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl RunObserver for Quiet {}

/// Runs every configuration's runs not already saved in `output_dir`, saving each as it
/// finishes, and returns all results ordered by configuration and run. A saved run is
/// reused only if it was made from the same split (data, seed, run count); its metrics are
/// reused as saved, so after changing the scorer or `keep_exotic` use a new folder.
pub fn run_protocol<F: ScorerFactory>(
    dataset: &Dataset,
    settings: &ProtocolSettings,
    factory: &F,
    output_dir: &Path,
) -> Result<Vec<RunResult>, EvalError> {
    run_protocol_observed(dataset, settings, factory, output_dir, &Quiet)
}

/// [`run_protocol`], telling `observer` about each run.
pub fn run_protocol_observed<F: ScorerFactory>(
    dataset: &Dataset,
    settings: &ProtocolSettings,
    factory: &F,
    output_dir: &Path,
    observer: &dyn RunObserver,
) -> Result<Vec<RunResult>, EvalError> {
    if settings.runs == 0 || settings.jobs == 0 {
        return Err(EvalError::Setup("runs and jobs must be at least 1".into()));
    }
    let runs_dir = output_dir.join("runs");
    std::fs::create_dir_all(&runs_dir).map_err(|e| EvalError::io(&runs_dir, e))?;
    let mut finished = Vec::new();
    let mut pending = Vec::new();
    for &config in &settings.configurations {
        for split in plan_runs(dataset, config, settings.runs, settings.seed)? {
            match load_saved(output_dir, settings, &split)? {
                Some(result) => {
                    observer.loaded(&result);
                    finished.push(result);
                }
                None => pending.push(split),
            }
        }
    }
    finished.extend(execute_all(
        dataset, settings, factory, output_dir, &pending, observer,
    )?);
    finished.sort_by_key(|r| (r.config, r.run));
    Ok(finished)
}

/// Loads a saved run if there is one; a saved run from a different split is an error
/// rather than silently overwritten or mixed in. A run saved with another fusion
/// ([`ProtocolSettings::combine`]) has its derived scores made again and is re-saved.
fn load_saved(
    output_dir: &Path,
    settings: &ProtocolSettings,
    split: &RunSplit,
) -> Result<Option<RunResult>, EvalError> {
    let path = run_json_path(output_dir, split.config, split.run);
    if !path.exists() {
        return Ok(None);
    }
    let result = read_run(&path)?;
    if result.split_fingerprint != split_fingerprint(split) || result.seed != split.seed {
        return Err(EvalError::Data {
            path,
            reason: "saved run was made from a different split (other data, seed or run \
                     count); remove it or use another output folder"
                .into(),
        });
    }
    if result.combine == settings.combine {
        return Ok(Some(result));
    }
    let mut result = result;
    let model_specs = std::mem::take(&mut result.score_specs)
        .into_iter()
        .filter(|s| s.name != COMBINED)
        .collect();
    for source in &mut result.sources {
        source.scores.remove(COMBINED);
    }
    let (specs, metrics) = derive_scores(split, settings, model_specs, &mut result.sources)?;
    result.score_specs = specs;
    result.metrics = metrics;
    result.combine = settings.combine.clone();
    save_run(output_dir, &result)?;
    Ok(Some(result))
}

/// Reads every saved run of an output folder (e.g. to report without the scorer),
/// ordered by configuration and run.
pub fn read_runs(output_dir: &Path) -> Result<Vec<RunResult>, EvalError> {
    let runs_dir = output_dir.join("runs");
    let entries = std::fs::read_dir(&runs_dir).map_err(|e| EvalError::io(&runs_dir, e))?;
    let mut results = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| EvalError::io(&runs_dir, e))?.path();
        if path.extension().is_some_and(|e| e == "json") {
            results.push(read_run(&path)?);
        }
    }
    results.sort_by_key(|r| (r.config, r.run));
    Ok(results)
}

/// Reads one saved run.
pub fn read_run(path: &Path) -> Result<RunResult, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|e| EvalError::io(path, e))?;
    serde_json::from_str(&text).map_err(|source| EvalError::Json {
        path: path.to_path_buf(),
        source,
    })
}

fn execute_all<F: ScorerFactory>(
    dataset: &Dataset,
    settings: &ProtocolSettings,
    factory: &F,
    output_dir: &Path,
    pending: &[RunSplit],
    observer: &dyn RunObserver,
) -> Result<Vec<RunResult>, EvalError> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..settings.jobs.min(pending.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= pending.len() || failed.load(Ordering::SeqCst) {
                    break;
                }
                observer.started(&pending[i]);
                let start = Instant::now();
                let outcome = execute_run(dataset, settings, factory, &pending[i])
                    .and_then(|r| save_run(output_dir, &r).map(|()| r));
                match outcome {
                    Ok(r) => {
                        observer.finished(&r, start.elapsed());
                        results.lock().unwrap_or_else(|p| p.into_inner()).push(r);
                    }
                    Err(e) => {
                        failed.store(true, Ordering::SeqCst);
                        errors.lock().unwrap_or_else(|p| p.into_inner()).push(e);
                    }
                }
            });
        }
    });
    let mut errors = errors.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(e) = errors.drain(..).next() {
        return Err(e);
    }
    Ok(results.into_inner().unwrap_or_else(|p| p.into_inner()))
}

/// Attaches the configuration, run and stage to a scorer's error.
fn scorer_error(split: &RunSplit, stage: &'static str) -> impl FnOnce(ScorerError) -> EvalError {
    let config = split.config.to_string();
    let run = split.run;
    move |source| EvalError::Scorer {
        config,
        run,
        stage,
        source,
    }
}

fn output_error(split: &RunSplit, reason: String) -> EvalError {
    EvalError::ScorerOutput {
        config: split.config.to_string(),
        run: split.run,
        reason,
    }
}

/// Checks the scorer's declared scores, before any training: unique, unreserved names,
/// the primary score among them, and a fusion naming only scores that will exist (so a
/// misspelt `combine` fails at once rather than after the first run's training).
fn check_specs(
    split: &RunSplit,
    specs: &[ScoreSpec],
    settings: &ProtocolSettings,
) -> Result<(), EvalError> {
    let primary = settings.primary_score.as_str();
    let mut names = HashSet::new();
    for spec in specs {
        if !names.insert(spec.name.as_str()) {
            return Err(output_error(
                split,
                format!("score {:?} declared twice", spec.name),
            ));
        }
        if spec.name.starts_with("baseline_") || spec.name == COMBINED {
            return Err(output_error(
                split,
                format!("score name {:?} is reserved for derived scores", spec.name),
            ));
        }
    }
    if !names.contains(primary) {
        return Err(output_error(
            split,
            format!("the scorer declares no primary score {primary:?}"),
        ));
    }
    let baselines = BASELINES.map(|(name, _)| name);
    if settings.combine.len() == 1 {
        return Err(output_error(
            split,
            format!(
                "a fusion needs at least two scores, got {:?}",
                settings.combine
            ),
        ));
    }
    if let Some(unknown) = settings
        .combine
        .iter()
        .find(|n| !names.contains(n.as_str()) && !baselines.contains(&n.as_str()))
    {
        return Err(output_error(
            split,
            format!(
                "cannot fuse {unknown:?}: it is neither a score of the scorer ({}) nor a \
                 baseline ({})",
                specs
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                baselines.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Pairs the scorer's output with the test set: every test id exactly once, every
/// declared score present and finite.
fn collect_scores(
    split: &RunSplit,
    specs: &[ScoreSpec],
    scored: Vec<super::scorer::SourceScores>,
) -> Result<Vec<ScoredSource>, EvalError> {
    let mut by_id = HashMap::with_capacity(scored.len());
    for s in scored {
        for spec in specs {
            match s.scores.get(&spec.name) {
                Some(v) if v.is_finite() => {}
                other => {
                    return Err(output_error(
                        split,
                        format!("source {:?}: score {:?} is {other:?}", s.id, spec.name),
                    ))
                }
            }
        }
        let id = s.id.clone();
        if by_id.insert(id.clone(), s).is_some() {
            return Err(output_error(split, format!("source {id:?} scored twice")));
        }
    }
    let mut sources = Vec::with_capacity(split.test.len());
    for item in &split.test {
        let s = by_id
            .remove(&item.id)
            .ok_or_else(|| output_error(split, format!("test source {:?} not scored", item.id)))?;
        sources.push(ScoredSource {
            id: item.id.clone(),
            exotic: item.exotic,
            half: item.half,
            scores: s.scores,
            code_form: s.code_form,
            features: s.features,
        });
    }
    if let Some(extra) = by_id.keys().next() {
        return Err(output_error(
            split,
            format!("scored {extra:?}, which is not in the test set"),
        ));
    }
    Ok(sources)
}

fn execute_run<F: ScorerFactory>(
    dataset: &Dataset,
    settings: &ProtocolSettings,
    factory: &F,
    split: &RunSplit,
) -> Result<RunResult, EvalError> {
    let context = RunContext {
        config: split.config,
        run: split.run,
        seed: split.seed,
    };
    let mut scorer = factory
        .create(&context)
        .map_err(scorer_error(split, "being created"))?;
    let specs = scorer.score_specs();
    check_specs(split, &specs, settings)?;
    scorer
        .train(&context, &split.train_ids)
        .map_err(scorer_error(split, "training"))?;
    let test_ids: Vec<String> = split.test.iter().map(|t| t.id.clone()).collect();
    let scored = scorer
        .score(&test_ids)
        .map_err(scorer_error(split, "scoring the test set"))?;
    let mut sources = collect_scores(split, &specs, scored)?;
    let (specs, metrics) = derive_scores(split, settings, specs, &mut sources)?;
    let gallery = match settings.gallery {
        Some(g) if split.run == 0 => Some(collect_gallery(
            dataset,
            settings,
            &g,
            split,
            &specs,
            &sources,
            &mut scorer,
        )?),
        _ => None,
    };
    Ok(RunResult {
        config: split.config,
        run: split.run,
        seed: split.seed,
        split_fingerprint: split_fingerprint(split),
        train_count: split.train_ids.len(),
        combine: settings.combine.clone(),
        score_specs: specs,
        sources,
        metrics,
        gallery,
    })
}

/// What a run derives from its model scores and island features: the trivial baselines,
/// the fused score [`COMBINED`] when `settings.combine` names any, and every score's
/// metrics. Returns the model's specs with the fused one, and the metrics by score.
fn derive_scores(
    split: &RunSplit,
    settings: &ProtocolSettings,
    model_specs: Vec<ScoreSpec>,
    sources: &mut [ScoredSource],
) -> Result<(Vec<ScoreSpec>, BTreeMap<String, ScoreMetrics>), EvalError> {
    let metric_error = |e| output_error(split, format!("{e}"));
    let with_features = sources.iter().all(|s| s.features.is_some());
    if with_features {
        for s in sources.iter_mut() {
            if let Some(f) = s.features {
                for (name, read) in BASELINES {
                    s.scores.insert(name.to_string(), read(&f));
                }
            }
        }
    }
    let mut specs = model_specs;
    if !settings.combine.is_empty() {
        let fusable: Vec<ScoreSpec> = specs.iter().cloned().chain(baseline_priors()).collect();
        specs.push(add_combined_score(sources, &fusable, &settings.combine).map_err(metric_error)?);
    }
    let mut metrics = BTreeMap::new();
    for spec in &specs {
        let values = score_values(sources, &spec.name).map_err(metric_error)?;
        let m = evaluate_score(
            sources,
            &values,
            spec.higher_is_anomalous,
            false,
            settings.keep_exotic,
        )
        .map_err(metric_error)?;
        metrics.insert(spec.name.clone(), m);
    }
    if with_features {
        for (name, _) in BASELINES {
            let values = score_values(sources, name).map_err(metric_error)?;
            let m =
                evaluate_baseline(sources, &values, settings.keep_exotic).map_err(metric_error)?;
            metrics.insert(name.to_string(), m);
        }
    }
    Ok((specs, metrics))
}

/// The trivial baselines as scores a fusion may take, oriented by prior (a larger or
/// brighter island counts as more anomalous): their own metrics choose a direction on
/// the select half, which a fusion must not, since it sees no labels.
fn baseline_priors() -> impl Iterator<Item = ScoreSpec> {
    BASELINES.into_iter().map(|(name, _)| ScoreSpec {
        name: name.to_string(),
        higher_is_anomalous: true,
        description: format!("{name} (larger = more anomalous, a prior)"),
    })
}

/// The best and worst reconstructed typical and exotic test sources and unlabelled
/// sources (a seeded sample of them), with their images.
fn collect_gallery<S: AnomalyScorer>(
    dataset: &Dataset,
    settings: &ProtocolSettings,
    gallery: &GallerySettings,
    split: &RunSplit,
    specs: &[ScoreSpec],
    sources: &[ScoredSource],
    scorer: &mut S,
) -> Result<Gallery, EvalError> {
    let primary = &settings.primary_score;
    let sign = match specs.iter().find(|s| &s.name == primary) {
        Some(spec) if !spec.higher_is_anomalous => -1.0,
        _ => 1.0,
    };
    let mut rows: Vec<(GalleryGroup, Vec<(String, f64)>)> = [true, false]
        .into_iter()
        .map(|exotic| {
            let candidates = sources
                .iter()
                .filter(|s| s.exotic == exotic)
                .filter_map(|s| s.scores.get(primary).map(|v| (s.id.clone(), sign * v)))
                .collect();
            let group = if exotic {
                GalleryGroup::Exotic
            } else {
                GalleryGroup::Typical
            };
            (group, candidates)
        })
        .collect();
    if !dataset.unlabelled().is_empty() {
        let mut sample = dataset.unlabelled().to_vec();
        sample.shuffle(&mut rng_for(split.seed, &[tag::GALLERY_SAMPLE]));
        sample.truncate(gallery.unlabelled_sample);
        let scored = scorer.score(&sample).map_err(scorer_error(
            split,
            "scoring unlabelled sources for the gallery",
        ))?;
        let candidates = scored
            .into_iter()
            .filter_map(|s| s.scores.get(primary).map(|v| (s.id.clone(), sign * v)))
            .collect();
        rows.push((GalleryGroup::Unlabelled, candidates));
    }
    let mut chosen = Vec::new();
    for (group, candidates) in rows {
        let (best, worst) = extremes(&candidates, gallery.per_row);
        for (end, list) in [(GalleryEnd::Best, best), (GalleryEnd::Worst, worst)] {
            chosen.extend(
                list.into_iter()
                    .map(|(id, anomaly)| (group, end, id, sign * anomaly)),
            );
        }
    }
    let ids: Vec<String> = chosen.iter().map(|c| c.2.clone()).collect();
    let images = scorer
        .reconstruct(&ids)
        .map_err(scorer_error(split, "reconstructing gallery sources"))?;
    let by_id: HashMap<String, _> = images.into_iter().map(|r| (r.id.clone(), r)).collect();
    // A scorer may lack images for some sources; those are left out of the rows.
    let items = chosen
        .into_iter()
        .filter_map(|(group, end, id, score)| {
            by_id.get(&id).cloned().map(|image| GalleryItem {
                group,
                end,
                score,
                image,
            })
        })
        .collect();
    Ok(Gallery {
        score_name: primary.clone(),
        items,
    })
}

/// Writes a run's JSON (atomically: a partial file never looks finished) and its CSV.
fn save_run(output_dir: &Path, result: &RunResult) -> Result<(), EvalError> {
    write_csv(&run_csv_path(output_dir, result.config, result.run), result)?;
    let path = run_json_path(output_dir, result.config, result.run);
    let tmp = path.with_extension("json.partial");
    let text = serde_json::to_vec(result).map_err(|source| EvalError::Json {
        path: path.clone(),
        source,
    })?;
    std::fs::write(&tmp, text).map_err(|e| EvalError::io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| EvalError::io(&path, e))
}

/// One row per test source: id, label, half and every score.
fn write_csv(path: &Path, result: &RunResult) -> Result<(), EvalError> {
    let csv_error = |e: csv::Error| EvalError::Data {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let names: Vec<&String> = result.metrics.keys().collect();
    let mut writer = csv::Writer::from_path(path).map_err(csv_error)?;
    let mut header = vec!["id".to_string(), "exotic".into(), "half".into()];
    header.extend(names.iter().map(|n| n.to_string()));
    writer.write_record(&header).map_err(csv_error)?;
    for s in &result.sources {
        let half = match s.half {
            super::split::Half::Select => "select",
            super::split::Half::Measure => "measure",
        };
        let mut row = vec![s.id.clone(), u8::from(s.exotic).to_string(), half.into()];
        row.extend(
            names
                .iter()
                .map(|n| s.scores.get(*n).map(|v| v.to_string()).unwrap_or_default()),
        );
        writer.write_record(&row).map_err(csv_error)?;
    }
    writer.flush().map_err(|e| EvalError::io(path, e))
}
