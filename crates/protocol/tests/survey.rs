//! The simulated survey data set: islands are matched to the truth source they are, and
//! the labelled set and pool have the sizes and exotic shares asked for, from a seed.

use prospector_cutouts::Label;
use prospector_protocol::{
    dataset_from_sets, match_island, simulated_survey_sets, SetName, SurveyDatasetConfig,
};
use prospector_skysim::{Field, FieldConfig, SourceClass, SourceSpec};
use prospector_sources::{detect, FinderConfig, Island, PixelBeam};
use std::collections::{HashMap, HashSet};

fn spec(class: SourceClass, x: f64, y: f64, flux_jy: f64, size_arcsec: f64) -> SourceSpec {
    SourceSpec {
        class,
        x,
        y,
        flux_jy,
        size_arcsec,
        pa_deg: 90.0,
        shape_seed: 7,
    }
}

fn islands_of(field: &Field) -> (prospector_image::Image, Vec<Island>) {
    let image = field.render().unwrap();
    let beam = PixelBeam::new(&field.beam(), field.config().pixel_scale_arcsec / 3600.0);
    let islands = detect(&image, &beam, &FinderConfig::default())
        .unwrap()
        .islands;
    (image, islands)
}

fn contains(island: &Island, x: f64, y: f64) -> bool {
    island
        .runs
        .iter()
        .any(|r| r.y == y.round() as usize && (r.x0..r.x1).contains(&(x.round() as usize)))
}

#[test]
fn islands_match_the_source_that_supplies_their_flux() {
    let config = FieldConfig {
        width: 400,
        height: 400,
        ..FieldConfig::default()
    };
    // 0: an isolated point source; 1: a faint point source on top of 2, a bright
    // resolved source (the blend is the brighter one's); 3: a large FRII lying along x,
    // whose lobes the finder sees as islands of their own, far from its centre; 4: a ring.
    let specs = [
        spec(SourceClass::Point, 60.0, 60.0, 2e-3, 0.0),
        spec(SourceClass::Point, 300.0, 80.0, 1e-4, 0.0),
        spec(SourceClass::ResolvedGaussian, 302.0, 80.0, 5e-3, 12.0),
        spec(SourceClass::Frii, 200.0, 250.0, 2e-2, 300.0),
        spec(SourceClass::Ring, 80.0, 320.0, 1e-2, 60.0),
    ];
    let field = Field::with_sources(config.clone(), &specs).unwrap();
    let (image, islands) = islands_of(&field);
    let matches: Vec<_> = islands
        .iter()
        .map(|island| (island, match_island(&field, &image, island)))
        .collect();
    let at = |x: f64, y: f64| {
        matches
            .iter()
            .find(|(island, _)| contains(island, x, y))
            .unwrap_or_else(|| panic!("no island at ({x}, {y})"))
            .1
            .unwrap_or_else(|| panic!("the island at ({x}, {y}) is unmatched"))
    };
    assert_eq!(at(60.0, 60.0).truth_id, 0);
    assert_eq!(at(60.0, 60.0).class, SourceClass::Point);
    assert_eq!(at(300.0, 80.0).truth_id, 2, "the brighter of a blend wins");
    // A ring's centre is its hole: look for the island matched to it.
    let ring = matches
        .iter()
        .find_map(|(_, m)| m.filter(|m| m.truth_id == 4))
        .expect("the ring is found and matched");
    assert!(ring.exotic && ring.class == SourceClass::Ring);
    let frii: Vec<_> = matches
        .iter()
        .filter(|(_, m)| m.is_some_and(|m| m.truth_id == 3))
        .map(|(island, _)| island)
        .collect();
    assert!(frii.len() >= 2, "the FRII's lobes are islands of their own");
    let beam_px = config.beam.major_arcsec / config.pixel_scale_arcsec;
    assert!(
        frii.iter()
            .any(|i| (i.x - 200.0).hypot(i.y - 250.0) > 5.0 * beam_px),
        "a lobe far from the catalogued centre still finds its source"
    );
    for (island, m) in &matches {
        let m = m.unwrap_or_else(|| panic!("island at ({}, {}) unmatched", island.x, island.y));
        assert!(m.flux_share >= 0.5 && m.flux_share < 1.5, "{m:?}");
    }

    // The same islands against a sky without those sources: nothing there to be.
    let empty =
        Field::with_sources(config, &[spec(SourceClass::Point, 390.0, 10.0, 1e-3, 0.0)]).unwrap();
    assert!(islands
        .iter()
        .filter(|i| (i.x - 390.0).hypot(i.y - 10.0) > 20.0)
        .all(|i| match_island(&empty, &image, i).is_none()));
}

fn small_survey(seed: u64) -> SurveyDatasetConfig {
    SurveyDatasetConfig {
        field: FieldConfig {
            width: 512,
            height: 512,
            exotic_fraction: 0.1,
            complex_min_flux_jy: Some(1e-3),
            ..FieldConfig::default()
        },
        seed,
        labelled: 80,
        exotic_fraction: 0.1,
        unlabelled: 150,
        max_fields: 20,
    }
}

#[test]
fn the_sets_have_the_asked_sizes_and_exotic_shares_and_truth_labels() {
    let finder = FinderConfig::default();
    let data = simulated_survey_sets(&small_survey(3), &finder).unwrap();
    assert_eq!(data.labelled.len(), 80);
    assert_eq!(data.unlabelled.len(), 150);
    let exotic = data
        .labelled
        .records()
        .iter()
        .filter(|r| r.label == Label::Exotic)
        .count();
    assert_eq!(exotic, 8, "10% of 80");
    assert!(data
        .labelled
        .records()
        .iter()
        .all(|r| matches!(r.label, Label::Exotic | Label::Typical)));
    assert!(data
        .unlabelled
        .records()
        .iter()
        .all(|r| r.label == Label::Unlabelled));

    // Labels agree with the matches; labelled islands are matched primary islands,
    // one per truth source; the pool holds at most its share of exotic sources.
    let by_id: HashMap<_, _> = data
        .islands
        .iter()
        .map(|i| (i.source_id.as_str(), i))
        .collect();
    let mut truth_ids = HashSet::new();
    for record in data.labelled.records() {
        let island = by_id[record.source_id.as_str()];
        let truth = island.truth.expect("labelled islands are matched");
        assert!(island.primary && island.set == Some(SetName::Labelled));
        assert_eq!(record.label == Label::Exotic, truth.exotic);
        assert!(truth_ids.insert((island.field, truth.truth_id)));
    }
    let pool_exotic = data
        .unlabelled
        .records()
        .iter()
        .filter(|r| by_id[r.source_id.as_str()].truth.is_some_and(|t| t.exotic))
        .count();
    assert!(pool_exotic <= 15, "{pool_exotic} exotic in a pool of 150");
    let dataset = dataset_from_sets(&data.labelled, &data.unlabelled).unwrap();
    assert_eq!(dataset.labelled().len(), 80);

    let again = simulated_survey_sets(&small_survey(3), &finder).unwrap();
    assert_eq!(again.labelled.records(), data.labelled.records());
    assert_eq!(again.labelled.pixels(), data.labelled.pixels());
    assert_eq!(again.unlabelled.records(), data.unlabelled.records());
    let other = simulated_survey_sets(&small_survey(4), &finder).unwrap();
    assert_ne!(other.labelled.records(), data.labelled.records());
}

#[test]
fn too_few_fields_is_an_error_that_says_so() {
    let config = SurveyDatasetConfig {
        max_fields: 1,
        unlabelled: 100_000,
        ..small_survey(1)
    };
    let err = simulated_survey_sets(&config, &FinderConfig::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("allow more fields"), "{err}");
}
