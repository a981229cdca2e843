//! The tiler and extractor on a real (simulated) FITS image: the sources found tile by
//! tile are exactly those a whole-image pass finds, and bad input names its fault.

use prospector_bus::topology::subjects;
use prospector_bus::{decode, Outgoing, StageError};
use prospector_fits::{FitsImage, OpenOptions};
use prospector_proto::v1::{Cutout, ImageRef, ProgressEvent, Tile, TilePlan};
use prospector_proto::SCHEMA_VERSION;
use prospector_skysim::{simulate_to_fits, FieldConfig};
use prospector_sources::catalogue::Catalogue;
use prospector_sources::{detect, FinderConfig, FitsSource, PixelBeam};
use prospector_stages::{ExtractorStage, TilerStage};
use std::collections::BTreeSet;

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

#[test]
fn tiles_find_exactly_the_sources_of_a_whole_image_pass() {
    let dir = tempfile::tempdir().unwrap();
    let (image, truth) = (dir.path().join("f.fits"), dir.path().join("t.csv"));
    let field = FieldConfig {
        width: 900,
        height: 700,
        seed: 7,
        ..FieldConfig::default()
    };
    simulate_to_fits(field, &image, &truth, 128).unwrap();

    let finder = FinderConfig {
        tile_core: 256,
        ..FinderConfig::default()
    };
    let out = TilerStage::new(finder.clone())
        .tile(&image_ref(&image))
        .unwrap();
    let plans: Vec<TilePlan> = of(&out, subjects::PLANS);
    let tiles: Vec<Tile> = of(&out, subjects::TILES);
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[0].tile_count as usize, tiles.len());
    assert_eq!(tiles.len(), 4 * 3);
    assert!(out
        .iter()
        .all(|o| o.payload.len() <= prospector_stages::MAX_TILE_PAYLOAD));

    let extractor = ExtractorStage::new(finder.clone());
    let mut tiled = BTreeSet::new();
    let mut owned = 0;
    for tile in &tiles {
        let out = extractor.extract(tile).unwrap();
        let cutouts: Vec<Cutout> = of(&out, subjects::CUTOUTS);
        let progress: Vec<ProgressEvent> = of(&out, subjects::PROGRESS);
        assert_eq!(progress[0].sources_owned as usize, cutouts.len());
        owned += cutouts.len();
        for c in cutouts {
            assert_eq!(c.model_pixels.as_ref().unwrap().width, 64);
            tiled.insert((c.source_id, c.name));
        }
    }

    let fits = FitsImage::open(&image, &OpenOptions::default()).unwrap();
    let wcs = fits.wcs().clone();
    let beam = PixelBeam::new(&fits.beam().unwrap(), wcs.pixel_area_sq_deg().sqrt());
    let whole = detect(&FitsSource::new(fits), &beam, &finder).unwrap();
    let expected: BTreeSet<_> = Catalogue::new("img", &whole.islands, &wcs)
        .rows
        .into_iter()
        .map(|r| (r.source_id, r.name))
        .collect();
    assert!(expected.len() > 50, "only {} sources", expected.len());
    assert_eq!(owned, expected.len(), "a source was owned by two tiles");
    assert_eq!(tiled, expected);
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
