//! The tiler and extractor on a real (simulated) FITS image: the sources found tile by
//! tile, and their cutouts, are exactly those a whole-image pass makes, and bad input
//! names its fault.

use prospector_bus::topology::subjects;
use prospector_bus::{decode, Outgoing, StageError};
use prospector_fits::{FitsImage, OpenOptions};
use prospector_proto::v1::{Cutout, ImageRef, ProgressEvent, Tile, TilePlan};
use prospector_proto::SCHEMA_VERSION;
use prospector_skysim::{simulate_to_fits, FieldConfig};
use prospector_sources::catalogue::Catalogue;
use prospector_sources::cutout::{cutout_square, make_cutout, CutoutConfig};
use prospector_sources::{detect, FinderConfig, FitsSource, PixelBeam};
use prospector_stages::{decode_pixels, ExtractorStage, TilerStage};
use std::collections::BTreeMap;
use std::path::Path;

fn of<M: prospector_bus::BusMessage>(out: &[Outgoing], subject: &str) -> Vec<M> {
    out.iter()
        .filter(|o| o.subject == subject)
        .map(|o| decode::<M>(&o.payload).unwrap())
        .collect()
}

fn image_ref(path: &std::path::Path) -> ImageRef {
    ImageRef {
        schema_version: SCHEMA_VERSION,
        image_id: "img".into(),
        uri: path.display().to_string(),
        ..Default::default()
    }
}

/// Per source id: (name, model pixels as bits, so blank pixels compare too).
type Sources = BTreeMap<String, (String, Vec<u32>)>;

/// What the tiler and extractor make of `image` under `finder`: every owned source once,
/// and how many cutouts the tiler precut (their squares reached past the tile's window).
fn tiled_sources(image: &Path, finder: &FinderConfig) -> (Sources, usize) {
    let out = TilerStage::new(finder.clone())
        .tile(&image_ref(image))
        .unwrap();
    let plans: Vec<TilePlan> = of(&out, subjects::PLANS);
    let tiles: Vec<Tile> = of(&out, subjects::TILES);
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[0].tile_count as usize, tiles.len());
    assert!(out
        .iter()
        .all(|o| o.payload.len() <= prospector_stages::MAX_TILE_PAYLOAD));

    let extractor = ExtractorStage::new(finder.clone());
    let mut sources = Sources::new();
    let precut = tiles.iter().map(|t| t.precut.len()).sum();
    for tile in &tiles {
        let out = extractor.extract(tile).unwrap();
        let cutouts: Vec<Cutout> = of(&out, subjects::CUTOUTS);
        let progress: Vec<ProgressEvent> = of(&out, subjects::PROGRESS);
        assert_eq!(progress[0].sources_owned as usize, cutouts.len());
        for c in cutouts {
            let pixels = decode_pixels(c.model_pixels.as_ref().unwrap()).unwrap();
            assert_eq!(pixels.len(), 64 * 64);
            let bits = pixels.iter().map(|v| v.to_bits()).collect();
            let earlier = sources.insert(c.source_id.clone(), (c.name, bits));
            assert!(earlier.is_none(), "{} owned by two tiles", c.source_id);
        }
        // Without its precut cutouts the tile cannot be cut out faithfully: refused.
        if !tile.precut.is_empty() {
            let stripped = Tile {
                precut: Vec::new(),
                ..tile.clone()
            };
            match extractor.extract(&stripped) {
                Err(StageError::Permanent(reason)) => {
                    assert!(reason.contains("no precut cutout"), "{reason}")
                }
                other => panic!("expected a permanent error, got {other:?}"),
            }
        }
    }
    (sources, precut)
}

#[test]
fn tiles_find_and_cut_out_exactly_the_sources_of_a_whole_image_pass() {
    let dir = tempfile::tempdir().unwrap();
    let (image, truth) = (dir.path().join("f.fits"), dir.path().join("t.csv"));
    let field = FieldConfig {
        width: 900,
        height: 700,
        seed: 7,
        ..FieldConfig::default()
    };
    simulate_to_fits(field, &image, &truth, 128).unwrap();

    let fits = FitsImage::open(&image, &OpenOptions::default()).unwrap();
    let wcs = fits.wcs().clone();
    let beam = PixelBeam::new(&fits.beam().unwrap(), wcs.pixel_area_sq_deg().sqrt());
    let source = FitsSource::new(fits);
    let whole = detect(&source, &beam, &FinderConfig::default()).unwrap();
    let rows = Catalogue::new("img", &whole.islands, &wcs).rows;
    let expected: Sources = whole
        .islands
        .iter()
        .zip(rows)
        .map(|(island, row)| {
            let cutout = make_cutout(&source, island, &CutoutConfig::default()).unwrap();
            let bits = cutout.model.iter().map(|v| v.to_bits()).collect();
            (row.source_id, (row.name, bits))
        })
        .collect();
    assert!(expected.len() > 50, "only {} sources", expected.len());

    // The default margin, and one narrower than many cutout squares' half side (whose
    // pixels beyond the margin the tiler must ship).
    let narrow = 12;
    let wider_than_narrow = whole
        .islands
        .iter()
        .filter(|i| cutout_square(i, &CutoutConfig::default()).2 / 2 > narrow)
        .count();
    assert!(
        wider_than_narrow > 5,
        "{wider_than_narrow} squares wider than the margin"
    );
    for (core, margin) in [(256, None), (300, Some(narrow)), (128, Some(narrow))] {
        let finder = FinderConfig {
            tile_core: core,
            tile_margin: margin,
            ..FinderConfig::default()
        };
        let (tiled, precut) = tiled_sources(&image, &finder);
        if margin.is_some() {
            assert!(precut > 0, "no square reached past a {narrow}-pixel margin");
        }
        assert_eq!(
            tiled.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "sources with {core}-pixel cores and margin {margin:?}"
        );
        for (id, (name, pixels)) in &tiled {
            let (expected_name, expected_pixels) = &expected[id];
            assert_eq!(name, expected_name);
            assert!(
                pixels == expected_pixels,
                "the cutout of {name} differs from the whole image's with {core}-pixel cores and margin {margin:?}"
            );
        }
    }
}

#[test]
fn bad_images_and_tiles_are_permanent_errors_naming_the_fault() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.fits");
    std::fs::write(&junk, b"not a FITS file at all").unwrap();
    match TilerStage::new(FinderConfig::default()).tile(&image_ref(&junk)) {
        Err(StageError::Permanent(reason)) => assert!(reason.contains("junk.fits"), "{reason}"),
        other => panic!("expected a permanent error, got {other:?}"),
    }

    let (image, truth) = (dir.path().join("f.fits"), dir.path().join("t.csv"));
    let field = FieldConfig {
        width: 300,
        height: 300,
        seed: 3,
        ..FieldConfig::default()
    };
    simulate_to_fits(field, &image, &truth, 128).unwrap();
    let out = TilerStage::new(FinderConfig::default())
        .tile(&image_ref(&image))
        .unwrap();
    let mut tile: Tile = of::<Tile>(&out, subjects::TILES).remove(0);
    tile.read.as_mut().unwrap().width -= 1;
    match ExtractorStage::new(FinderConfig::default()).extract(&tile) {
        Err(StageError::Permanent(reason)) => {
            assert!(
                reason.contains("tile 0 of image img") && reason.contains("pixels are 300x300"),
                "{reason}"
            )
        }
        other => panic!("expected a permanent error, got {other:?}"),
    }
}
