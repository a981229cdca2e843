//! The catalogue itself: scores ranked by anomaly, labels, per-image progress.

use crate::progress::{ImageProgress, ImageState};
use prospector_proto::v1::{Label, LabelClass, ProgressEvent, Score, Stage, TilePlan};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What became of a score fed to the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScoreOutcome {
    /// A source seen for the first time.
    Added,
    /// The source was already scored by the same model version: an idempotent repeat.
    Duplicate,
    /// The source was already scored by another model version; the first score stays.
    Conflict { kept_version: String },
}

/// Key that orders sources from most to least anomalous, ties broken by source id so
/// that every replica and every replay ranks identically.
#[derive(Debug, Clone, PartialEq)]
struct RankKey {
    anomaly: f64,
    source_id: String,
}

impl Eq for RankKey {}

impl Ord for RankKey {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .anomaly
            .total_cmp(&self.anomaly)
            .then_with(|| self.source_id.cmp(&other.source_id))
    }
}

impl PartialOrd for RankKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Filters and paging of an anomaly query.
#[derive(Debug, Clone, Default)]
pub struct AnomalyQuery {
    /// Only this image; `None` for the whole survey.
    pub image_id: Option<String>,
    pub min_anomaly: Option<f64>,
    /// Only sources with this label.
    pub label: Option<LabelClass>,
    pub unlabelled_only: bool,
    pub offset: usize,
    pub limit: usize,
}

/// One row of a query's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedEntry<'a> {
    /// 1-based rank among the sources that pass the query's filters.
    pub rank: u64,
    pub score: &'a Score,
    pub label: Option<&'a Label>,
}

/// The ranked anomaly catalogue of a survey.
#[derive(Debug, Default)]
pub struct Catalogue {
    scores: HashMap<String, Score>,
    ranking: BTreeSet<RankKey>,
    labels: HashMap<String, Label>,
    images: BTreeMap<String, ImageProgress>,
    duplicates: u64,
    conflicts: u64,
}

/// Columns of the per-image catalogue CSV written on completion.
pub const CATALOGUE_CSV_HEADER: [&str; 18] = [
    "Rank",
    "Source_id",
    "Name",
    "RA",
    "DEC",
    "Xposn",
    "Yposn",
    "Peak_flux",
    "Total_flux",
    "Isl_npix",
    "NCC",
    "MSE",
    "Code_rarity",
    "Combined",
    "Anomaly",
    "Model_version",
    "Label",
    "Image_id",
];

impl Catalogue {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn apply_plan(&mut self, plan: TilePlan) {
        self.images
            .entry(plan.image_id.clone())
            .or_default()
            .set_plan(plan);
    }

    /// Applies a progress event; returns the image's state afterwards.
    pub fn apply_progress(&mut self, event: &ProgressEvent) -> ImageState {
        let image = self.images.entry(event.image_id.clone()).or_default();
        match event.stage() {
            Stage::Extracted => image.tile_extracted(event.tile_index, event.sources_owned),
            Stage::Failed => image.fail(event.detail.clone()),
            _ => {}
        }
        image.state()
    }

    /// Adds a source's score. The catalogue keeps what ranks and describes the source and
    /// drops its pictures and code form (model input and reconstruction are 32 KiB a
    /// source at 64x64: a survey's would not fit in memory); they stay where the score came
    /// from (the evaluator reads them back from the scores stream when they are looked at).
    pub fn apply_score(&mut self, mut score: Score) -> ScoreOutcome {
        if let Some(existing) = self.scores.get(&score.source_id) {
            return if existing.model_version == score.model_version {
                self.duplicates += 1;
                ScoreOutcome::Duplicate
            } else {
                self.conflicts += 1;
                ScoreOutcome::Conflict {
                    kept_version: existing.model_version.clone(),
                }
            };
        }
        self.images
            .entry(score.image_id.clone())
            .or_default()
            .source_scored(&score.source_id);
        self.ranking.insert(RankKey {
            anomaly: anomaly_of(&score),
            source_id: score.source_id.clone(),
        });
        score.model_pixels = None;
        score.reconstruction = None;
        score.code_form = None;
        self.scores.insert(score.source_id.clone(), score);
        ScoreOutcome::Added
    }

    /// Records a label; a later label of the same source replaces an earlier one
    /// (the newest `at_unix_ms` wins, so replays in any order agree).
    pub fn apply_label(&mut self, label: Label) {
        match self.labels.get(&label.source_id) {
            Some(old) if old.at_unix_ms > label.at_unix_ms => {}
            _ => {
                self.labels.insert(label.source_id.clone(), label);
            }
        }
    }

    pub fn image(&self, image_id: &str) -> Option<&ImageProgress> {
        self.images.get(image_id)
    }

    pub fn images(&self) -> impl Iterator<Item = (&str, &ImageProgress)> {
        self.images.iter().map(|(id, p)| (id.as_str(), p))
    }

    pub fn score(&self, source_id: &str) -> Option<&Score> {
        self.scores.get(source_id)
    }

    pub fn label(&self, source_id: &str) -> Option<&Label> {
        self.labels.get(source_id)
    }

    pub fn len(&self) -> usize {
        self.scores.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    /// Scores that repeated an earlier one of the same model version.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Scores that arrived for an already scored source from another model version.
    pub fn conflicts(&self) -> u64 {
        self.conflicts
    }

    /// Distinct model versions that produced the catalogue's scores, sorted.
    pub fn model_versions(&self) -> Vec<String> {
        let versions: BTreeSet<&str> = self
            .scores
            .values()
            .map(|s| s.model_version.as_str())
            .collect();
        versions.into_iter().map(str::to_string).collect()
    }

    /// Every labelled source that has a score, with its label (for live metrics).
    pub fn labelled(&self) -> impl Iterator<Item = (&Score, &Label)> {
        self.labels
            .iter()
            .filter_map(|(id, label)| self.scores.get(id).map(|s| (s, label)))
    }

    /// The sources passing `query`'s filters, most anomalous first, and how many pass.
    pub fn query(&self, query: &AnomalyQuery) -> (Vec<RankedEntry<'_>>, u64) {
        let mut total = 0u64;
        let mut page = Vec::new();
        for key in &self.ranking {
            if query.min_anomaly.is_some_and(|min| key.anomaly < min) {
                // The ranking is sorted: nothing after this passes either.
                break;
            }
            let score = &self.scores[&key.source_id];
            if query
                .image_id
                .as_deref()
                .is_some_and(|id| id != score.image_id)
            {
                continue;
            }
            let label = self.labels.get(&key.source_id);
            if query.unlabelled_only && label.is_some() {
                continue;
            }
            if let Some(wanted) = query.label {
                if label.map(Label::label) != Some(wanted) {
                    continue;
                }
            }
            total += 1;
            let index = (total - 1) as usize;
            if index >= query.offset && page.len() < query.limit {
                page.push(RankedEntry {
                    rank: total,
                    score,
                    label,
                });
            }
        }
        (page, total)
    }

    /// Writes the ranked catalogue of one image (all its sources) as CSV.
    pub fn write_image_csv<W: std::io::Write>(
        &self,
        image_id: &str,
        out: W,
    ) -> Result<(), csv::Error> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(CATALOGUE_CSV_HEADER)?;
        let query = AnomalyQuery {
            image_id: Some(image_id.to_string()),
            limit: usize::MAX,
            ..AnomalyQuery::default()
        };
        for entry in self.query(&query).0 {
            let s = entry.score;
            let sky = s.sky.unwrap_or_default();
            let pixel = s.pixel.unwrap_or_default();
            let island = s.island.unwrap_or_default();
            let scores = s.scores.unwrap_or_default();
            let label = entry
                .label
                .map(|l| label_name(l.label()))
                .unwrap_or_default();
            writer.write_record([
                entry.rank.to_string(),
                s.source_id.clone(),
                s.name.clone(),
                format!("{:.7}", sky.ra_deg),
                format!("{:.7}", sky.dec_deg),
                format!("{:.3}", pixel.x),
                format!("{:.3}", pixel.y),
                format!("{:.6e}", island.peak_flux_jy_beam),
                format!("{:.6e}", island.total_flux_jy),
                island.pixel_count.to_string(),
                format!("{:.6}", scores.ncc),
                format!("{:.6e}", scores.mse),
                format!("{:.6}", scores.code_rarity),
                format!("{:.6}", scores.combined),
                format!("{:.6}", scores.anomaly),
                s.model_version.clone(),
                label.to_string(),
                s.image_id.clone(),
            ])?;
        }
        writer.flush()?;
        Ok(())
    }
}

fn anomaly_of(score: &Score) -> f64 {
    score.scores.map(|s| s.anomaly).unwrap_or(f64::NEG_INFINITY)
}

/// The word used for a label in catalogues and the console.
pub fn label_name(label: LabelClass) -> &'static str {
    match label {
        LabelClass::Unspecified => "",
        LabelClass::Typical => "typical",
        LabelClass::Exotic => "exotic",
        LabelClass::Artefact => "artefact",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prospector_proto::v1::SourceScores;

    fn score(id: &str, image: &str, anomaly: f64, version: &str) -> Score {
        Score {
            source_id: id.into(),
            image_id: image.into(),
            model_version: version.into(),
            scores: Some(SourceScores {
                anomaly,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn extracted(image: &str, tile: u32, sources: u32) -> ProgressEvent {
        ProgressEvent {
            image_id: image.into(),
            stage: Stage::Extracted as i32,
            tile_index: tile,
            sources_owned: sources,
            ..Default::default()
        }
    }

    fn plan(image: &str, tiles: u32) -> TilePlan {
        TilePlan {
            image_id: image.into(),
            tile_count: tiles,
            ..Default::default()
        }
    }

    #[test]
    fn a_stored_score_keeps_its_numbers_but_not_its_pictures() {
        let pixels = prospector_proto::v1::Pixels {
            width: 64,
            height: 64,
            data: vec![0; 64 * 64 * 4],
            ..Default::default()
        };
        let mut catalogue = Catalogue::new();
        catalogue.apply_score(Score {
            model_pixels: Some(pixels.clone()),
            reconstruction: Some(pixels),
            code_form: Some(prospector_proto::v1::CodeForm {
                codes: vec![3; 256],
                ..Default::default()
            }),
            name: "J1".into(),
            ..score("a", "img", 0.7, "v1")
        });
        let kept = catalogue.score("a").unwrap();
        assert_eq!((kept.name.as_str(), anomaly_of(kept)), ("J1", 0.7));
        assert!(kept.model_pixels.is_none() && kept.reconstruction.is_none());
        assert!(kept.code_form.is_none());
    }

    #[test]
    fn replays_in_any_order_give_the_same_ranking() {
        let scores = [
            score("a", "img", 0.2, "v1"),
            score("b", "img", 0.9, "v1"),
            score("c", "img", 0.5, "v1"),
            score("d", "img", 0.5, "v1"),
        ];
        let mut forward = Catalogue::new();
        let mut backward = Catalogue::new();
        for s in scores.iter().cloned() {
            forward.apply_score(s);
        }
        for s in scores.iter().rev().cloned().chain(scores.iter().cloned()) {
            backward.apply_score(s);
        }
        let all = AnomalyQuery {
            limit: 10,
            ..Default::default()
        };
        let ids = |c: &Catalogue| -> Vec<String> {
            c.query(&all)
                .0
                .iter()
                .map(|e| e.score.source_id.clone())
                .collect()
        };
        assert_eq!(ids(&forward), ["b", "c", "d", "a"]);
        assert_eq!(ids(&forward), ids(&backward));
        assert_eq!(backward.len(), 4);
        assert_eq!(backward.duplicates(), 4);
    }

    #[test]
    fn a_second_model_version_never_rescores_a_source() {
        let mut c = Catalogue::new();
        assert_eq!(
            c.apply_score(score("a", "img", 0.1, "v1")),
            ScoreOutcome::Added
        );
        assert_eq!(
            c.apply_score(score("a", "img", 0.7, "v2")),
            ScoreOutcome::Conflict {
                kept_version: "v1".into()
            }
        );
        assert_eq!(c.score("a").unwrap().model_version, "v1");
        assert_eq!(c.conflicts(), 1);
        assert_eq!(c.model_versions(), ["v1"]);
    }

    #[test]
    fn an_image_completes_only_when_every_owned_source_is_scored() {
        let mut c = Catalogue::new();
        c.apply_score(score("a", "img", 0.1, "v1"));
        assert_eq!(c.image("img").unwrap().state(), ImageState::InProgress);
        c.apply_plan(plan("img", 2));
        assert_eq!(
            c.apply_progress(&extracted("img", 0, 2)),
            ImageState::InProgress
        );
        assert_eq!(
            c.apply_progress(&extracted("img", 1, 0)),
            ImageState::InProgress
        );
        // A redelivered progress event must not count twice.
        assert_eq!(
            c.apply_progress(&extracted("img", 1, 0)),
            ImageState::InProgress
        );
        c.apply_score(score("b", "img", 0.3, "v1"));
        let image = c.image("img").unwrap();
        assert_eq!(image.state(), ImageState::Complete);
        assert_eq!((image.sources_found(), image.sources_scored()), (2, 2));
        assert_eq!(image.stage(), Stage::Complete);
    }

    #[test]
    fn an_image_with_no_sources_completes_when_its_tiles_report() {
        let mut c = Catalogue::new();
        c.apply_plan(plan("empty", 1));
        assert_eq!(
            c.apply_progress(&extracted("empty", 0, 0)),
            ImageState::Complete
        );
    }

    #[test]
    fn a_failure_is_reported_with_its_first_reason() {
        let mut c = Catalogue::new();
        let failed = |detail: &str| ProgressEvent {
            image_id: "img".into(),
            stage: Stage::Failed as i32,
            detail: detail.into(),
            ..Default::default()
        };
        assert_eq!(
            c.apply_progress(&failed("no beam in header")),
            ImageState::Failed
        );
        c.apply_progress(&failed("later"));
        assert_eq!(c.image("img").unwrap().failure(), Some("no beam in header"));
    }

    #[test]
    fn queries_filter_by_image_label_and_threshold_and_page() {
        let mut c = Catalogue::new();
        for (i, a) in [0.9, 0.8, 0.7, 0.6, 0.5].iter().enumerate() {
            let image = if i % 2 == 0 { "x" } else { "y" };
            c.apply_score(score(&format!("s{i}"), image, *a, "v1"));
        }
        c.apply_label(Label {
            source_id: "s2".into(),
            label: LabelClass::Exotic as i32,
            at_unix_ms: 10,
            ..Default::default()
        });
        // An older label arriving later does not overwrite the newer one.
        c.apply_label(Label {
            source_id: "s2".into(),
            label: LabelClass::Typical as i32,
            at_unix_ms: 5,
            ..Default::default()
        });
        let (page, total) = c.query(&AnomalyQuery {
            image_id: Some("x".into()),
            offset: 1,
            limit: 1,
            ..Default::default()
        });
        assert_eq!(total, 3);
        assert_eq!((page[0].rank, page[0].score.source_id.as_str()), (2, "s2"));
        let (page, total) = c.query(&AnomalyQuery {
            label: Some(LabelClass::Exotic),
            limit: 10,
            ..Default::default()
        });
        assert_eq!((total, page[0].score.source_id.as_str()), (1, "s2"));
        let (_, total) = c.query(&AnomalyQuery {
            min_anomaly: Some(0.65),
            unlabelled_only: true,
            limit: 10,
            ..Default::default()
        });
        assert_eq!(total, 2);
    }

    #[test]
    fn the_image_csv_lists_its_sources_in_rank_order() {
        let mut c = Catalogue::new();
        c.apply_score(score("low", "img", 0.1, "v1"));
        c.apply_score(score("high", "img", 0.9, "v1"));
        c.apply_score(score("other", "img2", 1.0, "v1"));
        let mut out = Vec::new();
        c.write_image_csv("img", &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows.len(), 3);
        assert!(rows[0].starts_with("Rank,Source_id,Name,RA,DEC"));
        assert!(rows[1].starts_with("1,high,") && rows[2].starts_with("2,low,"));
    }
}
