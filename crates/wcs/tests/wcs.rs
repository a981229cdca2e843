//! Behaviour of `Wcs` that callers rely on: exact inverses, known projection
//! values, header variants that mean the same grid, and derived WCSs for
//! sub-images and resampled cutouts.

use prospector_wcs::{CardValue, Frame, Projection, Wcs, WcsError};

const ALL: [Projection; 5] = [
    Projection::Sin,
    Projection::Tan,
    Projection::Ncp,
    Projection::Arc,
    Projection::Car,
];

fn cards(list: &[(&str, CardValue)]) -> Vec<(String, CardValue)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn assert_round_trip(wcs: &Wcs, half_width: f64, step: f64) {
    let (cx, cy) = wcs.reference_pixel();
    let mut y = -half_width;
    while y <= half_width {
        let mut x = -half_width;
        while x <= half_width {
            let (px, py) = (cx + x, cy + y);
            let (ra, dec) = wcs.pixel_to_sky(px, py).expect("pixel maps to the sky");
            let (bx, by) = wcs.sky_to_pixel(ra, dec).expect("sky maps back");
            assert!(
                (bx - px).abs() < 1e-9 && (by - py).abs() < 1e-9,
                "{:?}: pixel ({px}, {py}) -> ({ra}, {dec}) -> ({bx}, {by})",
                wcs.projection()
            );
            x += step;
        }
        y += step;
    }
}

#[test]
fn every_projection_round_trips_pixel_sky_pixel_to_a_nanopixel() {
    // MeerKAT-like 1.5"/px over +-2000 px, at several declinations including
    // the poles, and a 4'/px single-dish map like the Aegean test image.
    for projection in ALL {
        for &(ra, dec) in &[
            (255.45, -41.86),
            (10.0, 2.5),
            (180.0, 89.9),
            (0.0, -89.5),
            (359.9, 60.0),
        ] {
            let wcs = Wcs::simple(
                projection,
                ra,
                dec,
                1000.3,
                999.7,
                -1.5 / 3600.0,
                1.5 / 3600.0,
            )
            .unwrap();
            assert_round_trip(&wcs, 2000.0, 97.3);
        }
        if projection != Projection::Ncp {
            let wcs = Wcs::simple(
                projection,
                0.0,
                -90.0,
                -238.19,
                6.69,
                -1.0 / 15.0,
                1.0 / 15.0,
            )
            .unwrap();
            assert_round_trip(&wcs, 150.0, 7.7);
        }
    }
}

#[test]
fn reference_pixel_maps_to_reference_sky() {
    for projection in ALL {
        let wcs = Wcs::simple(projection, 123.4, -56.7, 10.0, 20.0, -0.001, 0.001).unwrap();
        let (ra, dec) = wcs.pixel_to_sky(10.0, 20.0).unwrap();
        assert!(
            (ra - 123.4).abs() < 1e-12 && (dec + 56.7).abs() < 1e-12,
            "{projection:?}"
        );
    }
}

#[test]
fn ten_degrees_east_along_the_equator_follows_each_projection() {
    // CDELT1 = -1 deg: ten pixels left of the reference is +10 deg in the plane.
    let expected = [
        (Projection::Tan, (10f64).to_radians().atan().to_degrees()),
        (Projection::Sin, (10f64).to_radians().asin().to_degrees()),
        (Projection::Arc, 10.0),
        (Projection::Car, 10.0),
    ];
    for (projection, ra) in expected {
        let wcs = Wcs::simple(projection, 0.0, 0.0, 50.0, 50.0, -1.0, 1.0).unwrap();
        let (got_ra, got_dec) = wcs.pixel_to_sky(40.0, 50.0).unwrap();
        assert!(
            (got_ra - ra).abs() < 1e-12,
            "{projection:?}: {got_ra} vs {ra}"
        );
        assert!(got_dec.abs() < 1e-12);
    }
    // CAR is linear in both coordinates.
    let car = Wcs::simple(Projection::Car, 0.0, 0.0, 50.0, 50.0, -1.0, 1.0).unwrap();
    let (ra, dec) = car.pixel_to_sky(60.0, 80.0).unwrap();
    assert!((ra - 350.0).abs() < 1e-12 && (dec - 30.0).abs() < 1e-12);
}

#[test]
fn ncp_matches_the_aips_formula() {
    // AIPS (Greisen, AIPS memo 27): L = cos d sin da, M = (cos d0 - cos d cos da) / sin d0.
    let (ra0, dec0) = (255.449637133_f64, -41.8624876175_f64);
    let cdelt = 4.16666682546e-4;
    let wcs = Wcs::simple(Projection::Ncp, ra0, dec0, 3427.0, 3846.0, -cdelt, cdelt).unwrap();
    for &(ra, dec) in &[(257.4, -43.4), (255.0, -41.0), (256.0, -42.5)] {
        let (da, d, d0) = (
            (ra - ra0).to_radians(),
            f64::to_radians(dec),
            dec0.to_radians(),
        );
        let l = d.cos() * da.sin();
        let m = (d0.cos() - d.cos() * da.cos()) / d0.sin();
        let x = 3427.0 + l.to_degrees() / -cdelt;
        let y = 3846.0 + m.to_degrees() / cdelt;
        let (px, py) = wcs.sky_to_pixel(ra, dec).unwrap();
        assert!(
            (px - x).abs() < 1e-7 && (py - y).abs() < 1e-7,
            "({px}, {py}) vs ({x}, {y})"
        );
    }
}

#[test]
fn crota_pc_and_cd_forms_of_one_rotated_grid_agree() {
    let rho = 30f64.to_radians();
    let (c1, c2) = (-0.001, 0.002);
    let common = [
        ("NAXIS", CardValue::Integer(2)),
        ("CTYPE1", "RA---SIN".into()),
        ("CTYPE2", "DEC--SIN".into()),
        ("CRVAL1", 45.0.into()),
        ("CRVAL2", 30.0.into()),
        ("CRPIX1", 51.0.into()),
        ("CRPIX2", 41.0.into()),
    ];
    let mut crota = cards(&common);
    crota.extend(cards(&[
        ("CDELT1", c1.into()),
        ("CDELT2", c2.into()),
        ("CROTA2", 30.0.into()),
    ]));
    let mut pc = cards(&common);
    pc.extend(cards(&[
        ("CDELT1", c1.into()),
        ("CDELT2", c2.into()),
        ("PC1_1", rho.cos().into()),
        ("PC1_2", (-rho.sin() * c2 / c1).into()),
        ("PC2_1", (rho.sin() * c1 / c2).into()),
        ("PC2_2", rho.cos().into()),
    ]));
    let mut cd = cards(&common);
    cd.extend(cards(&[
        ("CD1_1", (c1 * rho.cos()).into()),
        ("CD1_2", (-c2 * rho.sin()).into()),
        ("CD2_1", (c1 * rho.sin()).into()),
        ("CD2_2", (c2 * rho.cos()).into()),
    ]));
    // PC takes precedence over a (contradictory) CD matrix, as in WCSLIB.
    let mut pc_and_cd = pc.clone();
    pc_and_cd.extend(cards(&[("CD1_1", 1.0.into()), ("CD2_2", 1.0.into())]));
    let d = Wcs::from_header(pc_and_cd.as_slice()).unwrap();
    let a = Wcs::from_header(crota.as_slice()).unwrap();
    let b = Wcs::from_header(pc.as_slice()).unwrap();
    let c = Wcs::from_header(cd.as_slice()).unwrap();
    for &(x, y) in &[(0.0, 0.0), (99.0, 0.0), (13.5, 77.25)] {
        let pa = a.pixel_to_sky(x, y).unwrap();
        for other in [&b, &c, &d] {
            let po = other.pixel_to_sky(x, y).unwrap();
            assert!((pa.0 - po.0).abs() < 1e-12 && (pa.1 - po.1).abs() < 1e-12);
        }
    }
    // The pixel scale is the length of each pixel step, whatever the rotation.
    let (sx, sy) = c.pixel_scale_deg();
    assert!((sx - 0.001).abs() < 1e-15 && (sy - 0.002).abs() < 1e-15);
    assert!((c.pixel_area_sq_deg() - 2e-6).abs() < 1e-18);
}

#[test]
fn dec_on_axis_one_is_read_as_such() {
    let swapped = cards(&[
        ("NAXIS", CardValue::Integer(2)),
        ("CTYPE1", "DEC--TAN".into()),
        ("CTYPE2", "RA---TAN".into()),
        ("CRVAL1", (-20.0).into()),
        ("CRVAL2", 100.0.into()),
        ("CRPIX1", 1.0.into()),
        ("CRPIX2", 1.0.into()),
        ("CDELT1", 0.01.into()),
        ("CDELT2", (-0.01).into()),
    ]);
    let wcs = Wcs::from_header(swapped.as_slice()).unwrap();
    // Moving along x (axis 1) changes Dec only.
    let (ra, dec) = wcs.pixel_to_sky(10.0, 0.0).unwrap();
    assert!((ra - 100.0).abs() < 1e-9 && (dec + 19.9).abs() < 1e-6);
    // Written back as RA on axis 1 it describes the same grid.
    let again = Wcs::from_header(wcs.to_cards().as_slice()).unwrap();
    let (ra2, dec2) = again.pixel_to_sky(10.0, 0.0).unwrap();
    assert!((ra - ra2).abs() < 1e-12 && (dec - dec2).abs() < 1e-12);
}

#[test]
fn to_cards_round_trips_through_from_header() {
    for projection in ALL {
        let wcs = Wcs::simple(
            projection,
            201.3,
            -43.0,
            511.5,
            300.0,
            -2.0 / 3600.0,
            2.0 / 3600.0,
        )
        .unwrap();
        let cards = wcs.to_cards();
        let crpix1 = cards.iter().find(|(k, _)| k == "CRPIX1").unwrap();
        assert_eq!(crpix1.1, CardValue::Real(512.5), "CRPIX is written 1-based");
        let again = Wcs::from_header(cards.as_slice()).unwrap();
        assert_eq!(again.frame(), Frame::Icrs);
        for &(x, y) in &[(0.0, 0.0), (1023.0, 599.0), (511.5, 300.0)] {
            let a = wcs.pixel_to_sky(x, y).unwrap();
            let b = again.pixel_to_sky(x, y).unwrap();
            assert!(
                (a.0 - b.0).abs() < 1e-12 && (a.1 - b.1).abs() < 1e-12,
                "{projection:?}"
            );
        }
    }
}

#[test]
fn offset_wcs_describes_the_sub_image() {
    let wcs = Wcs::simple(
        Projection::Sin,
        61.88,
        65.15,
        -20.0,
        1435.0,
        -5.0 / 3600.0,
        5.0 / 3600.0,
    )
    .unwrap();
    let sub = wcs.offset(100.0, 37.0);
    let a = wcs.pixel_to_sky(105.0, 40.0).unwrap();
    let b = sub.pixel_to_sky(5.0, 3.0).unwrap();
    assert_eq!(a, b);
}

#[test]
fn resampled_cutout_keeps_pixel_edges_aligned() {
    let wcs = Wcs::simple(Projection::Tan, 150.0, 30.0, 75.0, 75.0, -0.0005, 0.0005).unwrap();
    // A 100x80 region at (20, 35) resampled to 64x64.
    let small = wcs.resampled(20.0, 35.0, 100.0, 80.0, 64, 64).unwrap();
    for &(u, v) in &[(0.0, 0.0), (63.0, 63.0), (31.5, 10.0)] {
        let x = 20.0 - 0.5 + (u + 0.5) * 100.0 / 64.0;
        let y = 35.0 - 0.5 + (v + 0.5) * 80.0 / 64.0;
        let a = wcs.pixel_to_sky(x, y).unwrap();
        let b = small.pixel_to_sky(u, v).unwrap();
        assert!((a.0 - b.0).abs() < 1e-12 && (a.1 - b.1).abs() < 1e-12);
        let (bu, bv) = small.sky_to_pixel(a.0, a.1).unwrap();
        assert!((bu - u).abs() < 1e-9 && (bv - v).abs() < 1e-9);
    }
    assert!(wcs.resampled(20.0, 35.0, 100.0, 80.0, 0, 64).is_err());
    assert!(wcs.resampled(f64::NAN, 35.0, 100.0, 80.0, 64, 64).is_err());
    let (sx, sy) = small.pixel_scale_deg();
    assert!((sx - 0.0005 * 100.0 / 64.0).abs() < 1e-15);
    assert!((sy - 0.0005 * 80.0 / 64.0).abs() < 1e-15);
}

#[test]
fn far_side_and_bad_values_give_none_not_garbage() {
    let tan = Wcs::simple(Projection::Tan, 0.0, 0.0, 0.0, 0.0, -1.0, 1.0).unwrap();
    assert!(tan.sky_to_pixel(180.0, 0.0).is_none());
    assert!(tan.sky_to_pixel(f64::NAN, 0.0).is_none());
    assert!(tan.sky_to_pixel(0.0, 95.0).is_none());
    let sin = Wcs::simple(Projection::Sin, 0.0, 0.0, 0.0, 0.0, -1.0, 1.0).unwrap();
    assert!(
        sin.pixel_to_sky(-70.0, 0.0).is_none(),
        "beyond the orthographic horizon"
    );
}

#[test]
fn header_faults_are_named() {
    let base = [
        ("NAXIS", CardValue::Integer(2)),
        ("CRVAL1", 1.0.into()),
        ("CRVAL2", 1.0.into()),
        ("CDELT1", 1.0.into()),
        ("CDELT2", 1.0.into()),
    ];
    let with = |extra: &[(&str, CardValue)]| {
        let mut c = cards(&base);
        c.extend(cards(extra));
        Wcs::from_header(c.as_slice()).unwrap_err()
    };
    assert_eq!(with(&[]), WcsError::NoCelestialAxes);
    assert!(matches!(
        with(&[("CTYPE1", "RA---SIN".into())]),
        WcsError::OneCelestialAxis(_)
    ));
    let err = with(&[("CTYPE1", "RA---AIT".into()), ("CTYPE2", "DEC--AIT".into())]);
    assert_eq!(
        err.to_string(),
        "unsupported projection 'AIT' (supported: SIN, TAN, NCP, ARC, CAR)"
    );
    assert!(matches!(
        with(&[("CTYPE1", "RA---SIN".into()), ("CTYPE2", "DEC--TAN".into())]),
        WcsError::MixedProjections(..)
    ));
    // A corrupt byte inside the axis type (found by tests/fuzz_headers.rs in prospector-fits).
    assert!(matches!(
        with(&[
            ("CTYPE1", "RA---SIN".into()),
            ("CTYPE2", "DE\u{fffd}--SIN".into())
        ]),
        WcsError::OneCelestialAxis(_)
    ));
    let no_scale = cards(&[
        ("CTYPE1", "RA---SIN".into()),
        ("CTYPE2", "DEC--SIN".into()),
        ("CDELT1", 1.0.into()),
    ]);
    assert_eq!(
        Wcs::from_header(no_scale.as_slice()).unwrap_err(),
        WcsError::NoPixelScale { axis: 2 }
    );
    let freq_first = cards(&[
        ("NAXIS", CardValue::Integer(3)),
        ("CTYPE1", "FREQ".into()),
        ("CTYPE2", "RA---SIN".into()),
        ("CTYPE3", "DEC--SIN".into()),
        ("CDELT2", 1.0.into()),
        ("CDELT3", 1.0.into()),
    ]);
    assert_eq!(
        Wcs::from_header(freq_first.as_slice()).unwrap_err(),
        WcsError::CelestialAxesNotImageAxes {
            lng_axis: 2,
            lat_axis: 3
        }
    );
    let zero = Wcs::simple(Projection::Sin, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0).unwrap_err();
    assert_eq!(zero, WcsError::SingularMatrix);
    assert!(Wcs::simple(Projection::Ncp, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0).is_err());
    assert!(Wcs::simple(Projection::Tan, 0.0, f64::NAN, 0.0, 0.0, 1.0, 1.0).is_err());
}

#[test]
fn frames_follow_radesys_and_equinox_defaults() {
    let base = cards(&[
        ("CTYPE1", "RA---TAN".into()),
        ("CTYPE2", "DEC--TAN".into()),
        ("CDELT1", (-1.0).into()),
        ("CDELT2", 1.0.into()),
    ]);
    let frame = |extra: &[(&str, CardValue)]| {
        let mut c = base.clone();
        c.extend(cards(extra));
        Wcs::from_header(c.as_slice()).map(|w| w.frame())
    };
    assert_eq!(frame(&[]).unwrap(), Frame::Icrs);
    assert_eq!(
        frame(&[("EQUINOX", 2000.0.into())]).unwrap(),
        Frame::Fk5 { equinox: 2000.0 }
    );
    assert_eq!(
        frame(&[("EPOCH", 1950.0.into())]).unwrap(),
        Frame::Fk4 { equinox: 1950.0 }
    );
    assert_eq!(
        frame(&[("RADESYS", "FK5".into())]).unwrap(),
        Frame::Fk5 { equinox: 2000.0 }
    );
    assert!(frame(&[("RADESYS", "FK4".into())]).unwrap().is_fk4());
    assert_eq!(
        frame(&[("RADESYS", "ICRS".into()), ("EQUINOX", 2000.0.into())]).unwrap(),
        Frame::Icrs
    );
    assert!(matches!(
        frame(&[("RADESYS", "GAPPT".into())]),
        Err(WcsError::UnsupportedFrame(_))
    ));
}

#[test]
fn a_closure_can_supply_the_header() {
    let lookup = |key: &str| -> Option<CardValue> {
        match key {
            "CTYPE1" => Some("RA---TAN".into()),
            "CTYPE2" => Some("DEC--TAN".into()),
            "CRVAL1" => Some(150.0.into()),
            "CRVAL2" => Some(2.0.into()),
            "CRPIX1" | "CRPIX2" => Some(CardValue::Integer(11)),
            "CDELT1" => Some((-0.001).into()),
            "CDELT2" => Some(0.001.into()),
            _ => None,
        }
    };
    let wcs = Wcs::from_header(&lookup).unwrap();
    assert_eq!(
        wcs.reference_pixel(),
        (10.0, 10.0),
        "CRPIX 11 is 0-based pixel 10"
    );
    let (ra, dec) = wcs.pixel_to_sky(10.0, 10.0).unwrap();
    assert!((ra - 150.0).abs() < 1e-12 && (dec - 2.0).abs() < 1e-12);
}
