//! Written images and tables pass fitsverify, read back exactly, and carry a
//! WCS that external tools (xy2sky) read as we do; integer files with
//! BSCALE/BZERO/BLANK read as physical values with blanks as NaN.

use prospector_fits::bad_inputs::{pixel_bytes, raw_fits};
use prospector_fits::{
    write_image, write_table, CardValue, Column, ColumnData, FitsImage, ImageWriter, OpenOptions,
};
use prospector_image::{Beam, Image, PixelRect};
use prospector_wcs::{Projection, Wcs};

fn test_wcs() -> Wcs {
    Wcs::simple(
        Projection::Sin,
        201.365,
        -43.019,
        150.0,
        100.0,
        -1.5 / 3600.0,
        1.5 / 3600.0,
    )
    .unwrap()
}

fn beam() -> Beam {
    Beam {
        major_deg: 7.5 / 3600.0,
        minor_deg: 6.0 / 3600.0,
        pa_deg: -20.0,
    }
}

fn assert_clean_fitsverify(path: &std::path::Path) {
    let (warnings, errors, text) = prospector_testdata::fitsverify(path);
    assert_eq!(
        (warnings, errors),
        (0, 0),
        "fitsverify on {}:\n{text}",
        path.display()
    );
}

#[test]
fn streamed_image_passes_fitsverify_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("streamed.fits");
    let (w, h) = (300, 200);
    let value = |x: usize, y: usize| {
        if (x + y).is_multiple_of(97) {
            f32::NAN
        } else {
            (x as f32) - 0.5 * y as f32
        }
    };
    let extra = vec![
        ("BUNIT".to_string(), CardValue::from("JY/BEAM")),
        ("TELESCOP".to_string(), "MeerKAT".into()),
        (
            "HISTORY".to_string(),
            "simulated by a test; 'quotes' survive".into(),
        ),
    ];
    let mut writer = ImageWriter::create(&path, w, h, &test_wcs(), Some(&beam()), &extra).unwrap();
    // Row blocks out of order, as parallel producers would deliver them.
    for first in [150, 0, 50, 100] {
        let block: Vec<f32> = (first..first + 50)
            .flat_map(|y| (0..w).map(move |x| value(x, y)))
            .collect();
        writer.write_rows(first, &block).unwrap();
    }
    writer.finish().unwrap();
    assert_clean_fitsverify(&path);

    let image = FitsImage::open(&path, &OpenOptions::default()).unwrap();
    assert_eq!((image.width(), image.height(), image.bitpix()), (w, h, -32));
    // Header reals are written in full: they read back bit for bit.
    assert_eq!(image.beam().unwrap(), beam());
    let history: Vec<&str> = image.header().history().collect();
    assert_eq!(history, vec!["simulated by a test; 'quotes' survive"]);
    assert_eq!(
        image.header_value("TELESCOP").and_then(|v| v.as_str()),
        Some("MeerKAT")
    );
    let back = image.read_all().unwrap();
    for y in 0..h {
        for x in 0..w {
            let (a, b) = (back.get(x, y).unwrap(), value(x, y));
            assert!(a == b || (a.is_nan() && b.is_nan()), "({x}, {y})");
        }
    }
    let wcs = test_wcs();
    for &(x, y) in &[(0.0, 0.0), (299.0, 199.0), (150.0, 100.0)] {
        assert_eq!(image.wcs().pixel_to_sky(x, y), wcs.pixel_to_sky(x, y));
    }
}

#[test]
fn written_wcs_is_read_by_xy2sky_as_we_read_it() {
    let dir = tempfile::tempdir().unwrap();
    // A resampled cutout with an NCP WCS: the case the cutout extractor writes.
    let source = Wcs::simple(
        Projection::Ncp,
        255.45,
        -41.86,
        3427.0,
        3846.0,
        -1.5 / 3600.0,
        1.5 / 3600.0,
    )
    .unwrap();
    let wcs = source
        .resampled(120.0, 300.0, 100.0, 100.0, 64, 64)
        .unwrap();
    let path = dir.path().join("cutout.fits");
    write_image(
        &path,
        &Image::filled(PixelRect::new(0, 0, 64, 64), 1.0),
        &wcs,
        None,
        &[],
    )
    .unwrap();
    assert_clean_fitsverify(&path);
    let pixels = [(0.0, 0.0), (63.0, 63.0), (31.5, 9.0)];
    let theirs = prospector_testdata::xy2sky(&path, &pixels);
    for (&(x, y), sky) in pixels.iter().zip(theirs) {
        let ours = source
            .pixel_to_sky(
                120.0 - 0.5 + (x + 0.5) * 100.0 / 64.0,
                300.0 - 0.5 + (y + 0.5) * 100.0 / 64.0,
            )
            .unwrap();
        let d = prospector_testdata::separation_arcsec(ours, sky);
        assert!(d < 0.001, "({x}, {y}): ours {ours:?}, xy2sky {sky:?}");
    }
}

#[test]
fn a_writer_with_missing_rows_refuses_to_finish_and_removes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("partial.fits");
    let mut writer = ImageWriter::create(&path, 10, 10, &test_wcs(), None, &[]).unwrap();
    writer.write_rows(0, &[0.0; 50]).unwrap();
    let err = writer.write_rows(8, &[0.0; 30]).unwrap_err();
    assert_eq!(err.kind(), "invalid_output");
    let err = writer.write_rows(5, &[0.0; 15]).unwrap_err();
    assert!(err.to_string().contains("not whole rows"), "{err}");
    let err = writer.finish().unwrap_err();
    assert!(
        err.to_string().contains("5 rows were never written"),
        "{err}"
    );
    assert!(!path.exists());
}

#[test]
fn bad_extra_cards_are_refused_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.fits");
    for (key, value) in [
        ("NAXIS1", CardValue::Integer(3)),
        ("lower", CardValue::Integer(1)),
        ("TOOLONGKEY", CardValue::Integer(1)),
        ("NOTE", CardValue::Text("x".repeat(69))),
        ("HISTORY", CardValue::Real(1.0)),
        ("NOTE", CardValue::Text("café".into())),
    ] {
        let err = ImageWriter::create(&path, 4, 4, &test_wcs(), None, &[(key.to_string(), value)])
            .unwrap_err();
        assert_eq!(err.kind(), "invalid_output", "{key}");
        assert!(err.to_string().contains("x.fits"));
    }
}

#[test]
fn catalogue_table_passes_fitsverify_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalogue.fits");
    let columns = vec![
        Column::new("Source_id", None, ColumnData::I64(vec![0, 1, 2])),
        Column::new(
            "Name",
            None,
            ColumnData::Text(vec![
                "J1238-4813".into(),
                "J1239-4814".into(),
                "J0001+0000".into(),
            ]),
        ),
        Column::new(
            "RA",
            Some("deg"),
            ColumnData::F64(vec![189.69, 189.75, 0.01]),
        ),
        Column::new(
            "Total_flux",
            Some("Jy"),
            ColumnData::F64(vec![0.0123, f64::NAN, 1.5e-4]),
        ),
    ];
    write_table(&path, &columns).unwrap();
    assert_clean_fitsverify(&path);

    let mut file = fitsio::FitsFile::open(&path).unwrap();
    let hdu = file.hdu("CATALOG").unwrap();
    let ids: Vec<i64> = hdu.read_col(&mut file, "Source_id").unwrap();
    let names: Vec<String> = hdu.read_col(&mut file, "Name").unwrap();
    let flux: Vec<f64> = hdu.read_col(&mut file, "Total_flux").unwrap();
    let unit: String = hdu.read_key(&mut file, "TUNIT4").unwrap();
    assert_eq!(ids, vec![0, 1, 2]);
    assert_eq!(names[0].trim_end(), "J1238-4813");
    assert!(flux[0] == 0.0123 && flux[1].is_nan());
    assert_eq!(unit, "Jy");

    let ragged = vec![
        Column::new("A", None, ColumnData::I64(vec![1])),
        Column::new("B", None, ColumnData::I64(vec![1, 2])),
    ];
    let err = write_table(dir.path().join("ragged.fits"), &ragged).unwrap_err();
    assert!(
        err.to_string().contains("ragged.fits") && err.to_string().contains("has 2 rows"),
        "{err}"
    );
    let empty = vec![Column::new("A", Some("deg"), ColumnData::F64(vec![]))];
    write_table(dir.path().join("empty.fits"), &empty).unwrap();
    assert_clean_fitsverify(&dir.path().join("empty.fits"));
}

/// Writes a raw integer image with the given scaling and reads it back.
fn integer_round_trip(
    bitpix: i64,
    raw: &[f64],
    bscale: f64,
    bzero: f64,
    blank: Option<i64>,
) -> Vec<f32> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("int{bitpix}.fits"));
    let mut cards: Vec<(String, CardValue)> = vec![
        ("SIMPLE".into(), true.into()),
        ("BITPIX".into(), bitpix.into()),
        ("NAXIS".into(), 2i64.into()),
        ("NAXIS1".into(), (raw.len() as i64 / 2).into()),
        ("NAXIS2".into(), 2i64.into()),
        ("BSCALE".into(), bscale.into()),
        ("BZERO".into(), bzero.into()),
    ];
    if let Some(b) = blank {
        cards.push(("BLANK".into(), b.into()));
    }
    cards.extend(test_wcs().to_cards());
    std::fs::write(&path, raw_fits(&cards, &pixel_bytes(bitpix, raw))).unwrap();
    assert_clean_fitsverify(&path);
    let image = FitsImage::open(&path, &OpenOptions::default()).unwrap();
    image.read_all().unwrap().into_pixels()
}

#[test]
fn bscale_bzero_and_blank_give_physical_values_and_nan() {
    let got = integer_round_trip(
        16,
        &[-32768.0, -1.0, 0.0, 1000.0, 32767.0, -32768.0],
        0.001,
        5.0,
        Some(-32768),
    );
    let expected = [f32::NAN, 4.999, 5.0, 6.0, 37.767, f32::NAN];
    for (g, e) in got.iter().zip(expected) {
        assert!(
            (g.is_nan() && e.is_nan()) || (g - e).abs() < 1e-5,
            "{got:?}"
        );
    }
    // Unsigned bytes with a BLANK, 32- and 64-bit integers, and doubles.
    let got = integer_round_trip(8, &[0.0, 255.0, 7.0, 9.0], 2.0, -10.0, Some(255));
    assert!(
        got[0] == -10.0 && got[1].is_nan() && got[2] == 4.0 && got[3] == 8.0,
        "{got:?}"
    );
    let got = integer_round_trip(32, &[-2e9, 2e9, 1.0, -7.0], 1.0, 0.0, None);
    assert_eq!(got, vec![-2e9, 2e9, 1.0, -7.0]);
    let got = integer_round_trip(64, &[-5.0, 1e12, 3.0, 42.0], 0.5, 0.0, Some(42));
    assert!(
        got[0] == -2.5 && got[1] == 5e11 && got[2] == 1.5 && got[3].is_nan(),
        "{got:?}"
    );
    let got = integer_round_trip(-64, &[1.5, f64::NAN, f64::INFINITY, -2.25], 1.0, 0.0, None);
    assert!(
        got[0] == 1.5 && got[1].is_nan() && got[2].is_nan() && got[3] == -2.25,
        "{got:?}"
    );
}

/// Every projection, with and without a rotated CD matrix and a slanted SIN,
/// written by us and read by wcstools: the cards mean to xy2sky what they mean
/// to us.
#[test]
fn written_wcs_of_every_projection_matches_xy2sky() {
    let dir = tempfile::tempdir().unwrap();
    let rotated_cd = |code: &str, ra: f64, dec: f64, extra: &[(&str, CardValue)]| {
        let rho = 25f64.to_radians();
        let mut cards: Vec<(String, CardValue)> = vec![
            ("CTYPE1".into(), format!("RA---{code}").as_str().into()),
            ("CTYPE2".into(), format!("DEC--{code}").as_str().into()),
            ("CRVAL1".into(), ra.into()),
            ("CRVAL2".into(), dec.into()),
            ("CRPIX1".into(), 40.0.into()),
            ("CRPIX2".into(), 20.5.into()),
            ("CD1_1".into(), (-0.01 * rho.cos()).into()),
            ("CD1_2".into(), (-0.02 * rho.sin()).into()),
            ("CD2_1".into(), (-0.01 * rho.sin()).into()),
            ("CD2_2".into(), (0.02 * rho.cos()).into()),
        ];
        cards.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        Wcs::from_header(cards.as_slice()).unwrap()
    };
    let mut cases = Vec::new();
    for projection in [
        Projection::Sin,
        Projection::Tan,
        Projection::Ncp,
        Projection::Arc,
        Projection::Car,
    ] {
        for &(ra, dec) in &[(10.0, 45.0), (300.0, -70.0), (180.0, 0.5)] {
            cases.push(Wcs::simple(projection, ra, dec, 31.0, 12.0, -0.01, 0.01).unwrap());
        }
        cases.push(rotated_cd(projection.code(), 123.0, -33.0, &[]));
    }
    cases.push(rotated_cd(
        "SIN",
        200.0,
        -30.0,
        &[("PV2_1", 0.1.into()), ("PV2_2", (-0.3).into())],
    ));
    let pixels = [
        (0.0, 0.0),
        (63.0, 0.0),
        (0.0, 31.0),
        (63.0, 31.0),
        (20.5, 17.25),
    ];
    for (n, wcs) in cases.iter().enumerate() {
        let path = dir.path().join(format!("case{n}.fits"));
        write_image(
            &path,
            &Image::filled(PixelRect::new(0, 0, 64, 32), 0.0),
            wcs,
            None,
            &[],
        )
        .unwrap();
        let theirs = prospector_testdata::xy2sky(&path, &pixels);
        for (&(x, y), sky) in pixels.iter().zip(theirs) {
            let ours = wcs.pixel_to_sky(x, y).unwrap();
            let sep = prospector_testdata::separation_arcsec(ours, sky);
            assert!(
                sep < 0.01,
                "case {n} {:?}: ({x}, {y}) ours {ours:?} xy2sky {sky:?}: {sep}\"",
                wcs.projection()
            );
        }
    }
}
