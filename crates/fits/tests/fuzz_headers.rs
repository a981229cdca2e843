//! Property-based fuzzing of FITS header parsing: a valid small image whose header cards
//! are changed, dropped or added at random, whose bytes are flipped, or which is cut short.
//! Whatever the mutation, opening and reading it either works or fails with an error that
//! names the file — never a panic, never an allocation the file does not justify.
//!
//! `PROPTEST_CASES` raises the case count for a longer hunt (the suite runs a short one).

use proptest::prelude::*;
use prospector_fits::bad_inputs::{base_cards, image_data, raw_fits};
use prospector_fits::{FitsImage, ImageInfo, OpenOptions};
use prospector_image::PixelRect;
use prospector_wcs::CardValue;

/// Keywords the reader interprets: where a malformed value would do harm.
const KEYWORDS: [&str; 24] = [
    "SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "NAXIS3", "NAXIS4", "BSCALE", "BZERO",
    "BLANK", "BMAJ", "BMIN", "BPA", "CTYPE1", "CTYPE2", "CRVAL1", "CRVAL2", "CRPIX1", "CRPIX2",
    "CDELT1", "CDELT2", "CROTA2", "PC1_1", "CD1_1",
];

fn card_value() -> impl Strategy<Value = CardValue> {
    prop_oneof![
        any::<bool>().prop_map(CardValue::Logical),
        prop_oneof![
            Just(0i64),
            Just(-1),
            Just(i64::MAX),
            Just(i64::MIN),
            Just(1_000_000_000_000),
            -70i64..70,
        ]
        .prop_map(CardValue::Integer),
        prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(0.0),
            Just(1e300),
            -1e3f64..1e3,
        ]
        .prop_map(CardValue::Real),
        "[ -~]{0,30}".prop_map(CardValue::Text),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, CardValue),
    Drop(usize),
    Add(usize, CardValue),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0..KEYWORDS.len(), card_value()).prop_map(|(k, v)| Mutation::Set(k, v)),
        (0..KEYWORDS.len()).prop_map(Mutation::Drop),
        (0..KEYWORDS.len(), card_value()).prop_map(|(k, v)| Mutation::Add(k, v)),
    ]
}

fn mutated_file(mutations: &[Mutation]) -> Vec<u8> {
    let mut cards = base_cards();
    for mutation in mutations {
        match mutation {
            Mutation::Set(k, value) => {
                if let Some(card) = cards.iter_mut().find(|(key, _)| key == KEYWORDS[*k]) {
                    card.1 = value.clone();
                }
            }
            Mutation::Drop(k) => cards.retain(|(key, _)| key != KEYWORDS[*k]),
            Mutation::Add(k, value) => cards.push((KEYWORDS[*k].to_string(), value.clone())),
        }
    }
    raw_fits(&cards, &image_data())
}

/// Opens and reads everything a service would; an error must name the file.
fn exercise(bytes: &[u8]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mutant.fits");
    std::fs::write(&path, bytes).unwrap();
    let image = match FitsImage::open(&path, &OpenOptions::default()) {
        Ok(image) => image,
        Err(error) => {
            let message = error.to_string();
            prop_assert!(
                message.contains("mutant.fits"),
                "error does not name the file: {message}"
            );
            return Ok(());
        }
    };
    let (width, height) = (image.width(), image.height());
    // Reads and describes, or refuses cleanly: all that matters is no panic.
    let _ = image.read_rect(PixelRect::new(0, 0, width, height));
    let _ = ImageInfo::gather(&image);
    let _ = image.beam();
    let _ = image
        .wcs()
        .pixel_to_sky(width as f64 / 2.0, height as f64 / 2.0);
    Ok(())
}

proptest! {
    // No regression files: the seeds that matter are kept as plain tests.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(96) })]

    #[test]
    fn mutated_header_cards_never_panic(mutations in prop::collection::vec(mutation(), 1..6)) {
        exercise(&mutated_file(&mutations))?;
    }

    #[test]
    fn flipped_header_bytes_never_panic(
        flips in prop::collection::vec((0usize..2880, any::<u8>()), 1..12),
    ) {
        let mut bytes = mutated_file(&[]);
        for (at, value) in flips {
            bytes[at] = value;
        }
        exercise(&bytes)?;
    }

    #[test]
    fn files_cut_anywhere_never_panic(keep in 0usize..5760) {
        let bytes = mutated_file(&[]);
        exercise(&bytes[..keep.min(bytes.len())])?;
    }
}
