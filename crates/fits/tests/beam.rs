//! The beam from BMAJ/BMIN/BPA, from AIPS CLEAN HISTORY cards, and the faults.

use prospector_fits::bad_inputs::{pixel_bytes, raw_fits};
use prospector_fits::{CardValue, FitsImage, OpenOptions};
use prospector_wcs::{Projection, Wcs};

/// Opens a 4x4 image whose header has the WCS plus `extra` cards.
fn open_with(extra: &[(&str, CardValue)]) -> (tempfile::TempDir, FitsImage) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("beam.fits");
    let mut cards: Vec<(String, CardValue)> = vec![
        ("SIMPLE".into(), true.into()),
        ("BITPIX".into(), (-32i64).into()),
        ("NAXIS".into(), 2i64.into()),
        ("NAXIS1".into(), 4i64.into()),
        ("NAXIS2".into(), 4i64.into()),
    ];
    let wcs = Wcs::simple(Projection::Sin, 10.0, -60.0, 1.5, 1.5, -0.001, 0.001).unwrap();
    cards.extend(wcs.to_cards());
    cards.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    std::fs::write(&path, raw_fits(&cards, &pixel_bytes(-32, &[0.0; 16]))).unwrap();
    let image = FitsImage::open(&path, &OpenOptions::default()).unwrap();
    (dir, image)
}

#[test]
fn the_last_aips_clean_history_card_gives_the_beam() {
    let (_dir, image) = open_with(&[
        (
            "HISTORY",
            CardValue::Text("AIPS   CLEAN BMAJ=  5.0000E-03 BMIN=  4.0000E-03 BPA=  10.00".into()),
        ),
        (
            "HISTORY",
            CardValue::Text("AIPS   IMAGR NITER=   1000".into()),
        ),
        (
            "HISTORY",
            CardValue::Text("AIPS   CLEAN BMAJ=  1.2345E-03 BMIN=  1.0000E-03 BPA= -45.50".into()),
        ),
    ]);
    let beam = image.beam().unwrap();
    assert_eq!(
        (beam.major_deg, beam.minor_deg, beam.pa_deg),
        (1.2345e-3, 1.0e-3, -45.5)
    );
}

#[test]
fn beam_cards_win_over_history_and_a_missing_bpa_is_zero() {
    let (_dir, image) = open_with(&[
        ("BMAJ", 2e-3.into()),
        ("BMIN", 1e-3.into()),
        (
            "HISTORY",
            CardValue::Text("AIPS   CLEAN BMAJ=  5.0000E-03 BMIN=  4.0000E-03 BPA=  10.00".into()),
        ),
    ]);
    let beam = image.beam().unwrap();
    assert_eq!(
        (beam.major_deg, beam.minor_deg, beam.pa_deg),
        (2e-3, 1e-3, 0.0)
    );
}

#[test]
fn incomplete_or_impossible_beams_are_errors_naming_the_file() {
    for extra in [
        vec![("BMAJ", CardValue::Real(2e-3))],
        vec![
            ("BMAJ", CardValue::Real(-2e-3)),
            ("BMIN", CardValue::Real(1e-3)),
        ],
        vec![
            ("BMAJ", CardValue::Real(2e-3)),
            ("BMIN", CardValue::Real(0.0)),
        ],
    ] {
        let (_dir, image) = open_with(&extra);
        let err = image.beam().unwrap_err();
        assert_eq!(err.kind(), "invalid_beam", "{extra:?}");
        assert!(err.to_string().contains("beam.fits"), "{err}");
    }
}
