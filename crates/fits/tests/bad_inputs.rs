//! Every file of the bad-input corpus gets the right error variant, with a
//! message naming the file and the fault, without panicking and (for the
//! 10^12-pixel claim) without allocating or reading anything large.

use std::time::{Duration, Instant};

use prospector_fits::bad_inputs::{write_corpus, Expectation};
use prospector_fits::{FitsImage, ImageInfo, OpenOptions};

#[test]
fn every_bad_input_fails_the_way_it_should() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = write_corpus(dir.path()).unwrap();
    assert!(corpus.len() >= 18, "corpus has {} files", corpus.len());
    for input in &corpus {
        let name = input
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let started = Instant::now();
        let opened = FitsImage::open(&input.path, &OpenOptions::default());
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{name}: open took {:?}",
            started.elapsed()
        );
        match input.expectation {
            Expectation::OpenFails(kind) => {
                let err = opened.expect_err(&name);
                assert_eq!(err.kind(), kind, "{name} ({}): {err}", input.fault);
                assert!(
                    err.to_string().contains(&name),
                    "{name}: message does not name the file: {err}"
                );
            }
            Expectation::BeamFails(kind) => {
                let image = opened.unwrap_or_else(|e| panic!("{name}: {e}"));
                let err = image.beam().expect_err(&name);
                assert_eq!(err.kind(), kind);
                assert!(err.to_string().contains(&name), "{err}");
            }
            Expectation::NoData => {
                let image = opened.unwrap_or_else(|e| panic!("{name}: {e}"));
                let pixels = image.read_all().unwrap();
                assert_eq!(pixels.non_finite_count(), pixels.pixels().len());
                let info = ImageInfo::gather(&image).unwrap();
                assert_eq!(info.sample.blank_fraction, 1.0);
                let err = info.ensure_has_data().expect_err(&name);
                assert_eq!(err.kind(), "all_blank");
                assert!(err.to_string().contains(&name), "{err}");
            }
            Expectation::ReadsFine => {
                let image = opened.unwrap_or_else(|e| panic!("{name}: {e}"));
                let pixels = image.read_all().unwrap();
                assert!(
                    pixels.pixels().iter().all(|v| v.is_finite() || v.is_nan()),
                    "{name}: Inf must read as NaN"
                );
                assert!(pixels.pixels().iter().any(|v| v.is_finite()));
                ImageInfo::gather(&image)
                    .unwrap()
                    .ensure_has_data()
                    .unwrap();
            }
        }
    }
}

#[test]
fn error_messages_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    write_corpus(dir.path()).unwrap();
    let message = |file: &str| {
        FitsImage::open(dir.path().join(file), &OpenOptions::default())
            .unwrap_err()
            .to_string()
    };
    assert!(message("trillion_pixels.fits").contains("1000000000000 pixels"));
    assert!(message("truncated_data.fits").contains("truncated"));
    assert!(message("bitpix_24.fits").contains("BITPIX = 24"));
    assert!(message("naxis1.fits").contains("NAXIS = 1"));
    assert!(message("not_fits.fits").contains("not a FITS file"));
    assert!(message("no_wcs.fits")
        .contains("no usable celestial WCS: no CTYPEn names an RA---/DEC-- axis"));
    let cube = message("naxis5_cube.fits");
    assert!(
        cube.contains("6 planes") && cube.contains("FREQ=2, STOKES=3, TIME=1"),
        "{cube}"
    );
}

#[test]
fn a_chosen_plane_of_a_five_axis_cube_reads() {
    let dir = tempfile::tempdir().unwrap();
    write_corpus(dir.path()).unwrap();
    let path = dir.path().join("naxis5_cube.fits");
    let with_plane = |plane| OpenOptions {
        plane: Some(plane),
        ..OpenOptions::default()
    };
    let image = FitsImage::open(&path, &with_plane(5)).unwrap();
    assert_eq!(image.read_all().unwrap().pixels()[0], 1.0);
    let err = FitsImage::open(&path, &with_plane(6)).unwrap_err();
    assert_eq!(err.kind(), "plane_out_of_range");
}

#[test]
fn the_pixel_limit_is_configurable() {
    let dir = tempfile::tempdir().unwrap();
    write_corpus(dir.path()).unwrap();
    let path = dir.path().join("nan_inf.fits");
    let small = OpenOptions {
        max_pixels: 100,
        ..OpenOptions::default()
    };
    assert_eq!(
        FitsImage::open(&path, &small).unwrap_err().kind(),
        "too_many_pixels"
    );
    // gzip files are decompressed whole, so the limit applies to the whole array.
    let gz = dir.path().join("gzip.fits.gz");
    assert_eq!(
        FitsImage::open(&gz, &small).unwrap_err().kind(),
        "too_many_pixels"
    );
    assert!(FitsImage::open(&gz, &OpenOptions::default())
        .unwrap()
        .is_gzip());
}

#[test]
fn absurd_rectangles_are_refused_not_overflowed() {
    let dir = tempfile::tempdir().unwrap();
    write_corpus(dir.path()).unwrap();
    let image = FitsImage::open(dir.path().join("nan_inf.fits"), &OpenOptions::default()).unwrap();
    let huge = prospector_image::PixelRect::new(usize::MAX - 1, 0, 5, 1);
    assert_eq!(
        image.read_rect(huge).unwrap_err().kind(),
        "rect_out_of_bounds"
    );
}

#[test]
fn a_meerkat_mfimage_cube_defaults_to_its_broadband_plane() {
    use prospector_fits::bad_inputs::{pixel_bytes, raw_fits};
    use prospector_fits::CardValue;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mfimage.fits");
    let mut cards: Vec<(String, CardValue)> = [
        ("SIMPLE", CardValue::Logical(true)),
        ("BITPIX", (-32i64).into()),
        ("NAXIS", 4i64.into()),
        ("NAXIS1", 3i64.into()),
        ("NAXIS2", 2i64.into()),
        ("NAXIS3", 5i64.into()),
        ("NAXIS4", 1i64.into()),
        ("CTYPE3", "SPECLNMF".into()),
        ("CTYPE4", "STOKES".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let wcs = prospector_wcs::Wcs::simple(
        prospector_wcs::Projection::Sin,
        10.0,
        -60.0,
        1.0,
        0.5,
        -1e-3,
        1e-3,
    )
    .unwrap();
    cards.extend(wcs.to_cards());
    // Plane p holds the value p everywhere.
    let values: Vec<f64> = (0..5)
        .flat_map(|p| std::iter::repeat_n(p as f64, 6))
        .collect();
    std::fs::write(&path, raw_fits(&cards, &pixel_bytes(-32, &values))).unwrap();
    let image = FitsImage::open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(image.plane(), 0);
    assert_eq!(image.read_all().unwrap().pixels(), &[0.0; 6]);
    let third = FitsImage::open(
        &path,
        &OpenOptions {
            plane: Some(3),
            ..OpenOptions::default()
        },
    )
    .unwrap();
    assert_eq!(third.read_all().unwrap().pixels(), &[3.0; 6]);
}

/// A small deterministic generator, so the mutations are the same every run.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[test]
fn mutated_headers_and_lengths_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    write_corpus(dir.path()).unwrap();
    let good = std::fs::read(dir.path().join("nan_inf.fits")).unwrap();
    let header_end = 2880;
    let replacements = b"0123456789-+.E '=TFX\0\xff";
    let mut rng = XorShift(0x5eed_f175);
    let path = dir.path().join("mutant.fits");
    let mut outcomes = std::collections::BTreeMap::new();
    for round in 0..400 {
        let mut bytes = good.clone();
        for _ in 0..1 + rng.below(4) {
            // Mostly value columns of header cards, where numbers live.
            let at = if rng.below(4) == 0 {
                rng.below(bytes.len())
            } else {
                80 * rng.below(header_end / 80) + 10 + rng.below(20)
            };
            bytes[at] = replacements[rng.below(replacements.len())];
        }
        if round % 5 == 0 {
            bytes.truncate(rng.below(bytes.len()));
        }
        std::fs::write(&path, &bytes).unwrap();
        let kind = match FitsImage::open(&path, &OpenOptions::default()) {
            Err(e) => {
                assert!(e.to_string().contains("mutant.fits"), "{e}");
                e.kind()
            }
            Ok(image) => match image.read_all().and_then(|_| ImageInfo::gather(&image)) {
                Ok(_) => "reads",
                Err(e) => e.kind(),
            },
        };
        *outcomes.entry(kind).or_insert(0) += 1;
    }
    eprintln!("outcomes of 400 mutants: {outcomes:?}");
    assert!(
        outcomes.len() >= 4,
        "mutations should reach several faults: {outcomes:?}"
    );
}
