//! Property-based fuzzing of what arrives over the bus: arbitrary bytes, and real tiles
//! with bytes flipped, go through the same decoding and stage code the services run.
//! Every outcome is a value or an error (which the runner dead-letters with its reason):
//! never a panic, never an allocation the message does not justify.
//!
//! `PROPTEST_CASES` raises the case count for a longer hunt (the suite runs a short one).

use proptest::prelude::*;
use prospector_bus::topology::subjects;
use prospector_bus::{decode, BusMessage, Outgoing};
use prospector_proto::v1::{
    Cutout, DeadLetter, ImageRef, Label, PixelEncoding, Pixels, ProgressEvent, Score, Tile,
    TilePlan,
};
use prospector_proto::SCHEMA_VERSION;
use prospector_skysim::{simulate_to_fits, FieldConfig};
use prospector_sources::FinderConfig;
use prospector_stages::{
    decode_background, decode_pixels, wcs_from_header, ExtractorStage, TilerStage, MAX_PIXELS,
};
use std::sync::OnceLock;

/// Decodes `bytes` as every message type; the result does not matter, only that it comes.
fn decode_as_every_type(bytes: &[u8]) {
    fn one<M: BusMessage>(bytes: &[u8]) {
        let _ = decode::<M>(bytes);
    }
    one::<ImageRef>(bytes);
    one::<TilePlan>(bytes);
    one::<Tile>(bytes);
    one::<Cutout>(bytes);
    one::<Score>(bytes);
    one::<ProgressEvent>(bytes);
    one::<Label>(bytes);
    one::<DeadLetter>(bytes);
}

/// The encoded tiles of a small simulated image (made once).
fn real_tiles() -> &'static [Vec<u8>] {
    static TILES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    TILES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (image, truth) = (dir.path().join("f.fits"), dir.path().join("t.csv"));
        let field = FieldConfig {
            width: 300,
            height: 260,
            seed: 11,
            ..FieldConfig::default()
        };
        simulate_to_fits(field, &image, &truth, 64).unwrap();
        let finder = FinderConfig {
            tile_core: 160,
            ..FinderConfig::default()
        };
        let request = ImageRef {
            schema_version: SCHEMA_VERSION,
            image_id: "img".into(),
            uri: image.display().to_string(),
            ..Default::default()
        };
        let out: Vec<Outgoing> = TilerStage::new(finder).tile(&request).unwrap();
        out.into_iter()
            .filter(|o| o.subject == subjects::TILES)
            .map(|o| o.payload.to_vec())
            .collect()
    })
}

fn extractor() -> ExtractorStage {
    ExtractorStage::new(FinderConfig {
        tile_core: 160,
        ..FinderConfig::default()
    })
}

proptest! {
    // No regression files: the seeds that matter are kept as plain tests.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(128) })]

    #[test]
    fn arbitrary_bytes_decode_to_a_message_or_an_error(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_as_every_type(&bytes);
    }

    #[test]
    fn pixels_of_any_declared_shape_decode_or_are_refused(
        width in prop_oneof![Just(u32::MAX), Just(65_536u32), 0u32..64],
        height in prop_oneof![Just(u32::MAX), Just(65_536u32), 0u32..64],
        zstd in any::<bool>(),
        values in prop::collection::vec(any::<f32>(), 0..300),
    ) {
        let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let pixels = Pixels {
            width,
            height,
            encoding: if zstd { PixelEncoding::F32LeZstd } else { PixelEncoding::F32Le } as i32,
            data: if zstd { zstd::bulk::compress(&raw, 1).unwrap() } else { raw },
        };
        match decode_pixels(&pixels) {
            Ok(decoded) => prop_assert_eq!(decoded.len(), width as usize * height as usize),
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
        if (width as usize).saturating_mul(height as usize) > MAX_PIXELS {
            prop_assert!(decode_pixels(&pixels).is_err());
        }
    }

    #[test]
    fn arbitrary_backgrounds_and_wcs_headers_are_refused_cleanly(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
        header in "[ -~]{0,400}",
    ) {
        prop_assert!(decode_background(&bytes).is_err());
        let _ = wcs_from_header(&header);
    }

    #[test]
    fn a_real_tile_with_flipped_bytes_is_extracted_or_refused(
        which in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let tiles = real_tiles();
        let mut bytes = tiles[which.index(tiles.len())].clone();
        for (at, value) in flips {
            let at = at.index(bytes.len());
            bytes[at] = value;
        }
        decode_as_every_type(&bytes);
        if let Ok(tile) = decode::<Tile>(&bytes) {
            // Sources or a stage error (a dead letter naming the fault): both are fine.
            let _ = extractor().extract(&tile);
        }
    }
}

/// The case the fuzzer found: a core box reaching outside the read window once made the
/// finder underflow; now it is a permanent error (a dead letter) naming the boxes.
#[test]
fn a_core_outside_its_read_window_is_refused_by_name() {
    let mut tile = decode::<Tile>(&real_tiles()[0]).unwrap();
    let read = tile.read.unwrap();
    let core = tile.core.as_mut().unwrap();
    core.x0 = read.x0 + read.width;
    match extractor().extract(&tile) {
        Err(error) => assert!(error.to_string().contains("must lie in the read window")),
        Ok(_) => panic!("a tile whose core lies outside its pixels was extracted"),
    }
}
