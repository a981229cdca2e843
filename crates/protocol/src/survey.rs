//! A simulated MeerKAT-like survey as the study's data set: an unlabelled pool and a
//! labelled set with the study's exotic fraction, found and cut by the survey's finder.
//!
//! Fields are simulated one after another (prospector-skysim, distinct seeds, adjacent
//! on the sky) and searched with the same finder as a real survey image; each island is
//! matched to the truth catalogue ([`match_island`]) and cut out. Simulation stops as
//! soon as the islands found can fill both sets, so the result depends only on the seed
//! and the settings.
//!
//! The labelled set takes `labelled` matched sources, of which a fraction
//! `exotic_fraction` (the study's 2.8%) are of skysim's exotic classes; its labels come
//! from the truth catalogue. Every other island, matched or not (noise, artefacts,
//! blends, fragments of a source that fell apart into several islands), may go to the
//! unlabelled pool, with exotic sources thinned to the same fraction: the sky simulator
//! floors the flux of extended classes so that they stay visible, so the finder detects
//! exotic sources more often than their share of the catalogue, and a survey's
//! training pool should hold them as rarely as the study's did.

use crate::ProtocolError;
use prospector_cutouts::{CutoutRecord, CutoutSet, Label};
use prospector_image::{Image, PixelRect};
use prospector_skysim::{survey_fields, Field, FieldConfig, SourceClass};
use prospector_sources::cutout::{island_record, make_cutout};
use prospector_sources::{detect, FinderConfig, Island, PixelBeam};
use prospector_wcs::iau_name;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

/// The share of an island's measured flux its dominant truth source must supply for
/// the island to count as that source: below it the island is noise, an artefact, or a
/// blend no single source dominates.
pub const MIN_FLUX_SHARE: f64 = 0.5;

/// What to simulate and how to split it.
#[derive(Debug, Clone)]
pub struct SurveyDatasetConfig {
    /// Every field's configuration but its seed and centre (e.g. the MeerKAT defaults
    /// with a flux floor for extended sources).
    pub field: FieldConfig,
    /// Seed of the fields and of the selection.
    pub seed: u64,
    /// Size of the labelled set (the study: about 2,100).
    pub labelled: usize,
    /// Exotic share of the labelled set and the most of the unlabelled pool (0.028).
    pub exotic_fraction: f64,
    /// Size of the unlabelled pool (the study: about 14,000).
    pub unlabelled: usize,
    /// Give up after this many fields.
    pub max_fields: usize,
}

/// Which truth source an island is, by [`match_island`]'s rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TruthMatch {
    pub truth_id: u64,
    pub class: SourceClass,
    pub exotic: bool,
    /// The source's noiseless flux over the island's pixels over the island's measured
    /// flux there.
    pub flux_share: f64,
    /// The source's noiseless flux over the island's pixels (Jy/beam summed).
    pub source_flux: f64,
}

/// One island found in a simulated field and what it was matched to.
#[derive(Debug, Clone)]
pub struct SurveyIsland {
    pub source_id: String,
    pub field: usize,
    pub truth: Option<TruthMatch>,
    /// Whether the island holds more of its truth source's flux than any other island
    /// matched to that source: the one island that stands for the source in the
    /// labelled set (the others are fragments, e.g. one lobe of a double).
    pub primary: bool,
    /// Which set it went to, if any.
    pub set: Option<SetName>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetName {
    Labelled,
    Unlabelled,
}

impl SetName {
    pub fn as_str(self) -> &'static str {
        match self {
            SetName::Labelled => "labelled",
            SetName::Unlabelled => "unlabelled",
        }
    }
}

/// The two sets and the record of every island.
#[derive(Debug)]
pub struct SurveyDataset {
    pub labelled: CutoutSet,
    pub unlabelled: CutoutSet,
    pub islands: Vec<SurveyIsland>,
    pub fields: usize,
    /// Exotic islands left out of the pool to keep it at the study's exotic fraction.
    pub withheld_exotic: usize,
    /// Islands the cutter refused, with why.
    pub skipped: Vec<(String, String)>,
}

/// The truth source an island is: the one whose noiseless model adds the most flux over
/// the island's pixels (so among blended sources the brightest there wins, and every
/// island of a source that the finder split, like the two lobes of a double, finds its
/// source even far from the catalogued centre), provided it supplies at least
/// [`MIN_FLUX_SHARE`] of the flux measured on those pixels in `image`. `None` otherwise.
pub fn match_island(field: &Field, image: &Image, island: &Island) -> Option<TruthMatch> {
    let rect = island.bbox;
    let image_rect = image.rect();
    let measured: f64 = island_pixels(island, &rect)
        .filter_map(|(x, y)| {
            image.get(x.checked_sub(image_rect.x0)?, y.checked_sub(image_rect.y0)?)
        })
        .map(f64::from)
        .sum();
    if measured <= 0.0 {
        return None;
    }
    let (id, flux) = field
        .sources_touching(&rect)
        .into_iter()
        .filter_map(|id| {
            let model = field.source_model(id, &rect)?;
            let flux: f64 = island_pixels(island, &rect)
                .map(|(x, y)| model[(y - rect.y0) * rect.width + (x - rect.x0)])
                .sum();
            Some((id, flux))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let share = flux / measured;
    let truth = &field.truth()[id];
    (share >= MIN_FLUX_SHARE).then_some(TruthMatch {
        truth_id: truth.id,
        class: truth.class,
        exotic: truth.exotic,
        flux_share: share,
        source_flux: flux,
    })
}

/// The island's pixels (full-image coordinates), within `rect`.
fn island_pixels<'a>(
    island: &'a Island,
    rect: &'a PixelRect,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    island
        .runs
        .iter()
        .filter(move |r| r.y >= rect.y0 && r.y < rect.y1())
        .flat_map(move |r| (r.x0.max(rect.x0)..r.x1.min(rect.x1())).map(move |x| (x, r.y)))
}

/// One island's cutout, before it is assigned to a set.
struct Found {
    island: SurveyIsland,
    record: CutoutRecord,
    pixels: Vec<f32>,
}

/// Simulates fields until the sets can be filled, and fills them (module docs).
pub fn simulated_survey_sets(
    config: &SurveyDatasetConfig,
    finder: &FinderConfig,
) -> Result<SurveyDataset, ProtocolError> {
    check(config)?;
    let exotic_labelled = (config.labelled as f64 * config.exotic_fraction).round() as usize;
    let typical_labelled = config.labelled - exotic_labelled;
    let mut found: Vec<Found> = Vec::new();
    let mut skipped = Vec::new();
    let mut fields = 0;
    for (index, field_config) in survey_fields(&config.field, config.max_fields, config.seed)
        .into_iter()
        .enumerate()
    {
        fields = index + 1;
        search_field(index, field_config, finder, &mut found, &mut skipped)?;
        let counts = Counts::of(&found);
        if counts.primary_exotic >= exotic_labelled
            && counts.primary_typical >= typical_labelled
            && counts.pool_available(config, exotic_labelled, typical_labelled) >= config.unlabelled
        {
            break;
        }
    }
    let counts = Counts::of(&found);
    if counts.primary_exotic < exotic_labelled || counts.primary_typical < typical_labelled {
        return Err(ProtocolError::Simulation(format!(
            "{fields} fields gave {} exotic and {} typical matched sources; the labelled set needs {exotic_labelled} and {typical_labelled}: allow more fields",
            counts.primary_exotic, counts.primary_typical
        )));
    }
    let available = counts.pool_available(config, exotic_labelled, typical_labelled);
    if available < config.unlabelled {
        return Err(ProtocolError::Simulation(format!(
            "{fields} fields gave {available} islands for the unlabelled pool, {} wanted: allow more fields",
            config.unlabelled
        )));
    }
    let mut dataset = assign(config, finder, found, exotic_labelled, typical_labelled)?;
    dataset.fields = fields;
    dataset.skipped = skipped;
    Ok(dataset)
}

fn check(config: &SurveyDatasetConfig) -> Result<(), ProtocolError> {
    let fault = if !(0.0..1.0).contains(&config.exotic_fraction) {
        Some(format!(
            "the exotic fraction must lie in [0, 1), got {}",
            config.exotic_fraction
        ))
    } else if config.labelled == 0 {
        Some("the labelled set must hold at least one source".to_string())
    } else if config.max_fields == 0 {
        Some("at least one field is needed".to_string())
    } else {
        None
    };
    fault.map_or(Ok(()), |reason| Err(ProtocolError::Simulation(reason)))?;
    config
        .field
        .validate()
        .map_err(|e| ProtocolError::Simulation(e.to_string()))
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    /// Islands matched to an exotic source, fragments included.
    exotic: usize,
    primary_exotic: usize,
    primary_typical: usize,
}

impl Counts {
    fn of(found: &[Found]) -> Self {
        let mut counts = Counts {
            total: found.len(),
            ..Counts::default()
        };
        for f in found {
            if f.island.truth.is_some_and(|t| t.exotic) {
                counts.exotic += 1;
            }
            match (&f.island.truth, f.island.primary) {
                (Some(t), true) if t.exotic => counts.primary_exotic += 1,
                (Some(_), true) => counts.primary_typical += 1,
                _ => {}
            }
        }
        counts
    }

    /// How many islands the pool can draw once the labelled set is taken: every
    /// island not of an exotic source, and exotic ones up to the pool's fraction.
    fn pool_available(
        &self,
        config: &SurveyDatasetConfig,
        exotic_labelled: usize,
        typical_labelled: usize,
    ) -> usize {
        let room = pool_exotic_room(config);
        (self.total - self.exotic).saturating_sub(typical_labelled)
            + self.exotic.saturating_sub(exotic_labelled).min(room)
    }
}

/// The most exotic islands the pool may hold.
fn pool_exotic_room(config: &SurveyDatasetConfig) -> usize {
    (config.unlabelled as f64 * config.exotic_fraction).floor() as usize
}

/// Simulates field `index`, finds and matches its islands and cuts them out.
fn search_field(
    index: usize,
    field_config: FieldConfig,
    finder: &FinderConfig,
    found: &mut Vec<Found>,
    skipped: &mut Vec<(String, String)>,
) -> Result<(), ProtocolError> {
    let simulation =
        |e: prospector_skysim::SimError| ProtocolError::Simulation(format!("field {index}: {e}"));
    let pixel_scale_deg = field_config.pixel_scale_arcsec / 3600.0;
    let field = Field::new(field_config).map_err(simulation)?;
    let image = field.render().map_err(simulation)?;
    let beam = PixelBeam::new(&field.beam(), pixel_scale_deg);
    let detection = detect(&image, &beam, finder)
        .map_err(|e| ProtocolError::Simulation(format!("field {index}: {e}")))?;
    let image_id = format!("field-{index:03}");
    let start = found.len();
    for (i, island) in detection.islands.iter().enumerate() {
        let source_id = format!("{image_id}-{i:05}");
        let cutout = match make_cutout(&image, island, &finder.cutouts) {
            Ok(cutout) => cutout,
            Err(e) => {
                skipped.push((source_id, e.to_string()));
                continue;
            }
        };
        let (ra_deg, dec_deg) = field
            .wcs()
            .pixel_to_sky(island.x, island.y)
            .unwrap_or((f64::NAN, f64::NAN));
        let record = CutoutRecord {
            source_id: source_id.clone(),
            image_id: image_id.clone(),
            name: iau_name(ra_deg, dec_deg).unwrap_or_else(|| source_id.clone()),
            ra_deg,
            dec_deg,
            ..island_record(island, cutout.side)
        };
        found.push(Found {
            island: SurveyIsland {
                source_id,
                field: index,
                truth: match_island(&field, &image, island),
                primary: false,
                set: None,
            },
            record,
            pixels: cutout.model,
        });
    }
    mark_primaries(&mut found[start..]);
    Ok(())
}

/// Of the islands matched to one truth source (sources never span fields), the one
/// holding most of its flux is its primary island.
fn mark_primaries(found: &mut [Found]) {
    let mut best: HashMap<u64, usize> = HashMap::new();
    for (i, f) in found.iter().enumerate() {
        if let Some(t) = f.island.truth {
            best.entry(t.truth_id)
                .and_modify(|b| {
                    let current = found[*b].island.truth.map_or(0.0, |c| c.source_flux);
                    if t.source_flux > current {
                        *b = i;
                    }
                })
                .or_insert(i);
        }
    }
    for i in best.into_values() {
        found[i].island.primary = true;
    }
}

/// Draws the labelled set and the pool from the islands found (in a seeded shuffle),
/// having checked that there are enough.
fn assign(
    config: &SurveyDatasetConfig,
    finder: &FinderConfig,
    found: Vec<Found>,
    exotic_labelled: usize,
    typical_labelled: usize,
) -> Result<SurveyDataset, ProtocolError> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut order: Vec<usize> = (0..found.len()).collect();
    order.shuffle(&mut rng);
    let (mut exotic_left, mut typical_left) = (exotic_labelled, typical_labelled);
    let mut sets = vec![None; found.len()];
    let mut rest = Vec::new();
    let mut not_eligible = 0;
    for &i in &order {
        let island = &found[i].island;
        let left = match island.truth {
            Some(t) if island.primary && t.exotic => &mut exotic_left,
            Some(_) if island.primary => &mut typical_left,
            _ => &mut not_eligible,
        };
        if *left > 0 {
            *left -= 1;
            sets[i] = Some(SetName::Labelled);
        } else {
            rest.push(i);
        }
    }
    let room = pool_exotic_room(config);
    let (mut pool_size, mut pool_exotic, mut withheld_exotic) = (0, 0, 0);
    for i in rest {
        if pool_size == config.unlabelled {
            break;
        }
        if found[i].island.truth.is_some_and(|t| t.exotic) {
            if pool_exotic == room {
                withheld_exotic += 1;
                continue;
            }
            pool_exotic += 1;
        }
        pool_size += 1;
        sets[i] = Some(SetName::Unlabelled);
    }
    let normalisation = finder.cutouts.stretch.describe();
    let side = finder.cutouts.size;
    let mut dataset = SurveyDataset {
        labelled: CutoutSet::new(side, normalisation.clone()),
        unlabelled: CutoutSet::new(side, normalisation),
        islands: Vec::with_capacity(found.len()),
        fields: 0,
        withheld_exotic,
        skipped: Vec::new(),
    };
    for (mut f, set) in found.into_iter().zip(sets) {
        match set {
            Some(SetName::Labelled) => {
                let exotic = f.island.truth.is_some_and(|t| t.exotic);
                f.record.label = if exotic {
                    Label::Exotic
                } else {
                    Label::Typical
                };
                dataset.labelled.push(f.record, &f.pixels)?;
            }
            Some(SetName::Unlabelled) => dataset.unlabelled.push(f.record, &f.pixels)?,
            None => {}
        }
        f.island.set = set;
        dataset.islands.push(f.island);
    }
    Ok(dataset)
}

/// One row of `matches.csv`: what every island found was matched to and where it went.
#[derive(Debug, serde::Serialize)]
struct MatchRow<'a> {
    source_id: &'a str,
    field: usize,
    truth_id: Option<u64>,
    class: Option<&'static str>,
    exotic: Option<bool>,
    flux_share: Option<f64>,
    primary: bool,
    set: &'static str,
}

/// Writes the match of every island (the audit trail of the labels) as CSV.
pub fn write_matches_csv(
    islands: &[SurveyIsland],
    path: &std::path::Path,
) -> Result<(), ProtocolError> {
    let fault = |e: csv::Error| ProtocolError::Data {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut writer = csv::Writer::from_path(path).map_err(fault)?;
    for island in islands {
        writer
            .serialize(MatchRow {
                source_id: &island.source_id,
                field: island.field,
                truth_id: island.truth.map(|t| t.truth_id),
                class: island.truth.map(|t| t.class.name()),
                exotic: island.truth.map(|t| t.exotic),
                flux_share: island.truth.map(|t| t.flux_share),
                primary: island.primary,
                set: island.set.map_or("none", SetName::as_str),
            })
            .map_err(fault)?;
    }
    writer.flush().map_err(|e| ProtocolError::Data {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}
