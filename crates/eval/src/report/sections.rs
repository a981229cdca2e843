//! The report's sections, each appended to a [`Page`].

use super::html::{escape, fixed3, img, mean_sd, pvalue, table, STYLE};
use super::images::gallery_strip;
use super::plots::{box_chart, embedding_scatter, roc_chart, RocSeries};
use super::png::Png;
use super::{Report, ReportImage, ReportSettings, STUDY_MEANS};
use crate::embed::{code_usage_features, neighbour_label_agreement, trustworthiness, tsne, umap};
use crate::error::EvalError;
use crate::metrics::RankTest;
use crate::protocol::{
    ConfigSummary, GalleryEnd, GalleryGroup, MeanConfusion, ProtocolSummary, RunResult,
    ScoreSummary,
};

/// The page being written and the images it embeds.
#[derive(Debug)]
pub struct Page {
    body: String,
    title: String,
    images: Vec<ReportImage>,
}

impl Page {
    pub fn new(title: &str) -> Page {
        Page {
            body: format!("<h1>{}</h1>", escape(title)),
            title: title.to_string(),
            images: Vec::new(),
        }
    }

    fn push(&mut self, html: &str) {
        self.body.push_str(html);
    }

    fn heading(&mut self, text: &str) {
        self.push(&format!("<h2>{}</h2>", escape(text)));
    }

    fn note(&mut self, text: &str) {
        self.push(&format!("<p class=\"note\">{}</p>", escape(text)));
    }

    /// Embeds `png` and keeps it under `name`; returns the `<img>` element.
    fn image(&mut self, name: &str, png: Png, alt: &str) -> String {
        let element = img(&png, alt);
        self.images.push(ReportImage {
            name: name.to_string(),
            png,
        });
        element
    }

    pub fn finish(self) -> Report {
        Report {
            html: format!(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
                 <style>{STYLE}</style></head><body>{}</body></html>\n",
                escape(&self.title),
                self.body
            ),
            images: self.images,
        }
    }
}

fn primary<'a>(c: &'a ConfigSummary, summary: &ProtocolSummary) -> Option<&'a ScoreSummary> {
    c.scores.get(&summary.primary_score)
}

pub fn overview(page: &mut Page, summary: &ProtocolSummary) {
    page.note(&format!(
        "Anomaly score: {} (the study's NCC between a cutout and its reconstruction: lower = \
         more anomalous; exotic sources are the positive class). Each run's test set is split \
         into two halves stratified by class: F1/F2 thresholds (and the workload cut) are \
         chosen on the first half and measured on the second; AUC and ROC use the whole test \
         set.",
        summary.primary_score
    ));
    page.heading("Results beside the study");
    let rows: Vec<Vec<String>> = summary
        .configs
        .iter()
        .filter_map(|c| primary(c, summary).map(|s| (c, s)))
        .map(|(c, s)| {
            let study = STUDY_MEANS.iter().find(|m| m.config == c.config);
            let theirs =
                |f: fn(&super::StudyMeans) -> f64| study.map(f).map(fixed3).unwrap_or_default();
            vec![
                c.config.to_string(),
                c.runs.to_string(),
                c.train_size.to_string(),
                c.test_size.to_string(),
                mean_sd(s.auc.mean, s.auc.std),
                theirs(|m| m.auc),
                mean_sd(s.f1.mean, s.f1.std),
                theirs(|m| m.f1),
                mean_sd(s.f2.mean, s.f2.std),
                theirs(|m| m.f2),
            ]
        })
        .collect();
    page.push(&table(
        &[
            "configuration",
            "runs",
            "train (run 0)",
            "test (run 0)",
            "AUC (ours)",
            "AUC (study)",
            "F1 (ours)",
            "F1 (study)",
            "F2 (ours)",
            "F2 (study)",
        ],
        &rows,
    ));
    page.note("Ours: mean ± sample standard deviation over runs. Study: the reported means.");
}

pub fn roc_and_boxes(page: &mut Page, summary: &ProtocolSummary) -> Result<(), EvalError> {
    page.heading("ROC curves and per-run spread");
    let with_primary: Vec<(&ConfigSummary, &ScoreSummary)> = summary
        .configs
        .iter()
        .filter_map(|c| primary(c, summary).map(|s| (c, s)))
        .collect();
    if with_primary.is_empty() {
        page.note(&format!("No run has the score {}.", summary.primary_score));
        return Ok(());
    }
    let series: Vec<RocSeries<'_>> = with_primary
        .iter()
        .map(|(c, s)| RocSeries {
            label: format!("{} (AUC {})", c.config, mean_sd(s.auc.mean, s.auc.std)),
            roc: &s.mean_roc,
        })
        .collect();
    let title = format!("Mean ROC ± 1 sd, {}", summary.primary_score);
    let roc = roc_chart(&title, &series)?;
    let mut row = page.image("roc", roc, "mean ROC curves with standard deviation bands");
    for (name, pick) in [
        (
            "AUC",
            (|s: &ScoreSummary| s.auc.values.clone()) as fn(&ScoreSummary) -> Vec<f64>,
        ),
        ("F1", |s| s.f1.values.clone()),
        ("F2", |s| s.f2.values.clone()),
    ] {
        let groups: Vec<(String, Vec<f64>)> = with_primary
            .iter()
            .map(|(c, s)| (c.config.to_string(), pick(s)))
            .collect();
        let png = box_chart(&format!("{name} per run"), name, &groups)?;
        row.push_str(&page.image(&format!("box-{name}"), png, &format!("{name} per run")));
    }
    page.push(&format!("<div class=\"row\">{row}</div>"));
    page.note(
        "Mean ROC: each run's ROC interpolated on 101 false-positive rates, averaged; the band \
         is ± one (population) standard deviation. Boxes: median, quartiles, whiskers to the \
         most extreme run within 1.5 IQR.",
    );
    Ok(())
}

fn confusion_table(m: &MeanConfusion) -> String {
    let cell = |v: f64| format!("{v:.1}");
    table(
        &["", "flagged typical", "flagged exotic"],
        &[
            vec![
                "typical".into(),
                cell(m.true_negatives),
                cell(m.false_positives),
            ],
            vec![
                "exotic".into(),
                cell(m.false_negatives),
                cell(m.true_positives),
            ],
        ],
    )
}

pub fn confusion(page: &mut Page, summary: &ProtocolSummary) {
    page.heading("Averaged confusion matrices (second halves)");
    let mut row = String::new();
    for c in &summary.configs {
        let Some(s) = primary(c, summary) else {
            continue;
        };
        for (name, m) in [("F1", &s.confusion_f1), ("F2", &s.confusion_f2)] {
            row.push_str(&format!(
                "<figure><figcaption>{} at the {name} threshold</figcaption>{}</figure>",
                c.config,
                confusion_table(m)
            ));
        }
    }
    page.push(&format!("<div class=\"row\">{row}</div>"));
}

fn test_cells(test: &RankTest) -> Vec<String> {
    vec![
        format!("{:.1}", test.statistic),
        pvalue(test.pvalue),
        format!("{:?}", test.method).to_lowercase(),
    ]
}

pub fn significance(page: &mut Page, summary: &ProtocolSummary) {
    page.heading("Do the configurations differ?");
    let rows: Vec<Vec<String>> = summary
        .config_comparisons
        .iter()
        .map(|c| {
            let mut row = vec![format!("{} vs {}", c.first, c.second)];
            row.extend(test_cells(&c.test));
            row
        })
        .collect();
    page.push(&table(
        &["pair", "U (first)", "p (two-sided)", "method"],
        &rows,
    ));
    page.note(&format!(
        "Mann-Whitney U test on the per-run AUCs of {} (runs of different configurations are \
         independent), computed as scipy.stats.mannwhitneyu with its defaults: exact when a \
         sample has at most 8 runs and no ties, otherwise the normal approximation with tie \
         and continuity correction.",
        summary.primary_score
    ));
}

pub fn scores_and_baselines(page: &mut Page, summary: &ProtocolSummary) {
    page.heading("Scores, trivial baselines and workload reduction");
    for c in &summary.configs {
        let rows: Vec<Vec<String>> = c
            .scores
            .iter()
            .map(|(name, s)| {
                let comparison = summary
                    .score_comparisons
                    .iter()
                    .find(|k| k.config == c.config && &k.second == name);
                let test = match comparison {
                    Some(k) => match &k.test {
                        // The comparison holds primary − this score; the column shows
                        // this score − primary, as its header says.
                        Some(t) => format!("{:+.3} (p {})", -k.mean_difference, pvalue(t.pvalue)),
                        None => "identical AUCs".into(),
                    },
                    None => "—".into(),
                };
                vec![
                    escape(name),
                    if s.baseline { "baseline" } else { "model" }.into(),
                    mean_sd(s.auc.mean, s.auc.std),
                    mean_sd(s.f1.mean, s.f1.std),
                    mean_sd(s.f2.mean, s.f2.std),
                    mean_sd(s.typical_removed.mean, s.typical_removed.std),
                    mean_sd(s.exotic_kept.mean, s.exotic_kept.std),
                    test,
                ]
            })
            .collect();
        let keep = c.scores.values().next().map_or(0.95, |s| s.keep_exotic);
        page.push(&format!("<h3>Configuration {}</h3>", c.config));
        page.push(&table(
            &[
                "score",
                "kind",
                "AUC",
                "F1",
                "F2",
                &format!("typical removed (cut keeping {:.0}% exotic)", keep * 100.0),
                "exotic kept",
                &format!("AUC − AUC of {} (Wilcoxon p)", summary.primary_score),
            ],
            &rows,
        ));
    }
    page.note(&format!(
        "Workload reduction: on each run's first half, the highest threshold keeping the \
         required share of exotic sources; the table gives what that cut removes of the typical \
         sources and keeps of the exotic ones on the second half. Baselines rank by island size, \
         peak or integrated flux alone, in the direction with the higher AUC on the first half. \
         Last column: mean over runs of this score's AUC minus that of {} in the same run, and \
         the two-sided Wilcoxon signed-rank p-value of those paired AUCs \
         (scipy.stats.wilcoxon defaults).",
        summary.primary_score
    ));
}

/// The sources of a configuration's first run that carry a code form, exotic first, at
/// most `limit`.
fn embedded_sources(run: &RunResult, limit: usize) -> Vec<&crate::protocol::ScoredSource> {
    let mut chosen: Vec<_> = run
        .sources
        .iter()
        .filter(|s| s.exotic && s.code_form.is_some())
        .collect();
    chosen.extend(
        run.sources
            .iter()
            .filter(|s| !s.exotic && s.code_form.is_some()),
    );
    chosen.truncate(limit);
    chosen
}

fn first_run<'a>(results: &'a [RunResult], c: &ConfigSummary) -> Option<&'a RunResult> {
    results
        .iter()
        .filter(|r| r.config == c.config)
        .min_by_key(|r| r.run)
}

pub fn embeddings(
    page: &mut Page,
    results: &[RunResult],
    summary: &ProtocolSummary,
    settings: &ReportSettings,
) -> Result<(), EvalError> {
    page.heading("Code forms in two dimensions");
    page.note(
        "Each source's code form (its grid of codebook indices) is turned into the square roots \
         of its code-usage shares, so Euclidean distance is the Hellinger distance between \
         code-usage distributions; t-SNE (exact) and UMAP (exact neighbours, PCA start) embed the \
         first run's test set. Typical blue, exotic red. Trustworthiness and the share of \
         same-class neighbours (k as below) say how much of the picture to believe.",
    );
    for c in &summary.configs {
        let Some(run) = first_run(results, c) else {
            continue;
        };
        let sources = embedded_sources(run, settings.max_embed_points);
        if sources.len() < 4 {
            page.note(&format!(
                "Configuration {}: no code forms to embed.",
                c.config
            ));
            continue;
        }
        let forms: Vec<_> = sources
            .iter()
            .filter_map(|s| s.code_form.as_ref())
            .collect();
        let features = code_usage_features(&forms)?;
        let exotic: Vec<bool> = sources.iter().map(|s| s.exotic).collect();
        let classes: Vec<usize> = exotic.iter().map(|&e| usize::from(e)).collect();
        let k = settings.neighbour_k.min((sources.len() - 1) / 2).max(1);
        let mut row = String::new();
        let mut captions = Vec::new();
        for (method, layout) in [
            (
                "t-SNE",
                tsne(&features, &settings.tsne, settings.embed_seed)?,
            ),
            (
                "UMAP",
                umap(&features, &settings.umap, settings.embed_seed)?,
            ),
        ] {
            let trust = trustworthiness(&features, &layout, k)?;
            let agreement = neighbour_label_agreement(&layout, &classes, k)?;
            let title = format!("{method}, configuration {} run {}", c.config, run.run);
            let png = embedding_scatter(&title, &layout, &exotic)?;
            row.push_str(&page.image(&format!("{method}-{}", c.config), png, &title));
            captions.push(format!(
                "{method}: trustworthiness {} (k = {k}), same-class neighbours {}",
                fixed3(trust),
                fixed3(agreement)
            ));
        }
        page.push(&format!(
            "<h3>Configuration {} ({} sources)</h3>",
            c.config,
            sources.len()
        ));
        page.push(&format!("<div class=\"row\">{row}</div>"));
        page.note(&captions.join("; "));
    }
    Ok(())
}

pub fn galleries(
    page: &mut Page,
    results: &[RunResult],
    summary: &ProtocolSummary,
) -> Result<(), EvalError> {
    page.heading("Best and worst reconstructions");
    page.note(
        "As the study's Figures 12-14: for each population, the five sources with the best \
         (least anomalous) and worst (most anomalous) score in the first run. Each strip shows \
         input, reconstruction (same colour scale) and residual input − reconstruction \
         (blue negative, red positive).",
    );
    for c in &summary.configs {
        let Some(gallery) = first_run(results, c).and_then(|r| r.gallery.as_ref()) else {
            continue;
        };
        page.push(&format!("<h3>Configuration {}</h3>", c.config));
        for group in [
            GalleryGroup::Typical,
            GalleryGroup::Exotic,
            GalleryGroup::Unlabelled,
        ] {
            for end in [GalleryEnd::Best, GalleryEnd::Worst] {
                let items: Vec<_> = gallery
                    .items
                    .iter()
                    .filter(|i| i.group == group && i.end == end)
                    .collect();
                if items.is_empty() {
                    continue;
                }
                let mut row = String::new();
                for (n, item) in items.iter().enumerate() {
                    let png = gallery_strip(&item.image)?;
                    let name = format!("gallery-{}-{group:?}-{end:?}-{n}", c.config);
                    let element = page.image(&name, png, &item.image.id);
                    row.push_str(&format!(
                        "<figure>{element}<figcaption>{} · {} {}</figcaption></figure>",
                        escape(&item.image.id),
                        escape(&gallery.score_name),
                        fixed3(item.score)
                    ));
                }
                page.push(&format!(
                    "<h4>{group:?}, {}</h4><div class=\"row\">{row}</div>",
                    if end == GalleryEnd::Best {
                        "best"
                    } else {
                        "worst"
                    }
                ));
            }
        }
    }
    Ok(())
}
