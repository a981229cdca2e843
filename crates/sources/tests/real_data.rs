//! The finder on real images, held against PyBDSF 1.14.1's own outputs.

mod common;

use prospector_cutouts::CutoutSet;
use prospector_fits::{FitsImage, OpenOptions};
use prospector_image::{Beam, Image};
use prospector_sources::pipeline::{find_sources, FindOptions, FitsSource, CATALOGUE_CSV};
use prospector_sources::{
    detect, detect_with_background, BoxSize, FinderConfig, Island, PixelBeam,
};
use std::path::Path;

/// The ATCA headers carry BMAJ/BMIN but no BPA; PyBDSF was given this beam.
const ATCA_BEAM: Beam = Beam {
    major_deg: 0.001_805_555_541_07,
    minor_deg: 0.001_805_555_541_07,
    pa_deg: 0.0,
};

fn open(path: &Path, beam: Option<Beam>) -> (FitsImage, PixelBeam) {
    let image = FitsImage::open(
        path,
        &OpenOptions {
            beam,
            ..OpenOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let beam = image.beam().unwrap();
    let pixel_beam = PixelBeam::new(&beam, image.wcs().pixel_area_sq_deg().sqrt());
    (image, pixel_beam)
}

fn read_plane(path: &Path) -> Image {
    FitsImage::open(path, &OpenOptions::default())
        .unwrap()
        .read_all()
        .unwrap()
}

#[test]
fn background_maps_match_pybdsf_reference_outputs() {
    let dir = common::shared_data().join("pybdsf-reference/reference_outputs");
    let (image, beam) = open(
        &dir.join("tbdsf_process_image.in_fits.pybdsf.ch0_I.fits"),
        None,
    );
    let pixels = image.read_all().unwrap();
    // kappa_clip 3 as in that run's parameters_used.
    let mut config = FinderConfig::default();
    config.background.kappa = Some(3.0);
    let found = detect(&pixels, &beam, &config).unwrap();
    // parameters_used: rms_box "Value used (41, 13)".
    assert_eq!(found.background.rms_box(), BoxSize { size: 41, step: 13 });
    let (mean, rms) = found.background.maps(&pixels);
    let rms_ref = read_plane(&dir.join("tbdsf_process_image.in_fits.pybdsf.rmsd_I.fits"));
    let mean_ref = read_plane(&dir.join("tbdsf_process_image.in_fits.pybdsf.mean_I.fits"));
    let rms_diff = common::median_relative_difference(&rms, &rms_ref);
    let mean_diff = common::median_relative_difference(&mean, &mean_ref);
    assert!(rms_diff <= 0.10, "rms maps differ by {rms_diff}");
    assert!(mean_diff <= 0.10, "mean maps differ by {mean_diff}");
}

/// The share of the PyBDSF sources in `catalogue` lying within one beam FWHM of
/// a pixel of one of `islands`.
fn share_on_islands(
    catalogue: &Path,
    image: &FitsImage,
    beam: &PixelBeam,
    islands: &[Island],
) -> f64 {
    let positions = common::pybdsf_positions(catalogue);
    assert!(!positions.is_empty(), "{}", catalogue.display());
    let found = positions
        .iter()
        .filter_map(|&(ra, dec)| image.wcs().sky_to_pixel(ra, dec))
        .filter(|&(x, y)| {
            islands
                .iter()
                .any(|i| common::distance_to_island(i, x, y) <= beam.major_px)
        })
        .count();
    found as f64 / positions.len() as f64
}

#[test]
fn pybdsf_catalogued_sources_lie_on_our_islands() {
    let data = common::shared_data();
    let cases = [
        (
            common::fullfield("atca_scorpio_1p4GHz_ExtendedSourceField.fits"),
            Some(ATCA_BEAM),
            data.join("fullfield/pybdsf-catalogues/atca_scorpio_1p4GHz_ExtendedSourceField.pybdsf.srl.csv"),
        ),
        (
            common::fullfield("lofar_GRB201006A_144MHz_cutout256.fits"),
            None,
            data.join("fullfield/pybdsf-catalogues/lofar_GRB201006A_144MHz_cutout256.pybdsf.srl.csv"),
        ),
        (
            data.join("pybdsf-reference/reference_outputs/tbdsf_process_image.in_fits.pybdsf.ch0_I.fits"),
            None,
            data.join("pybdsf-reference/rerun_bdsf_1.14.1_defaults/pybdsf_test_ch0_I.pybdsf.srl.csv"),
        ),
    ];
    for (file, beam_override, catalogue) in cases {
        let (image, beam) = open(&file, beam_override);
        let islands = detect(&image.read_all().unwrap(), &beam, &FinderConfig::default())
            .unwrap()
            .islands;
        let share = share_on_islands(&catalogue, &image, &beam, &islands);
        assert!(
            share >= 0.95,
            "{}: only {:.1}% of PyBDSF's sources",
            file.display(),
            share * 100.0
        );
    }
}

#[test]
fn the_atca_catalogue_does_not_depend_on_tiling_or_threads() {
    let file = common::fullfield("atca_scorpio_1p4GHz_ExtendedSourceField.fits");
    let (image, beam) = open(&file, Some(ATCA_BEAM));
    let whole_config = FinderConfig {
        tile_core: 1000,
        threads: 1,
        ..FinderConfig::default()
    };
    let whole = detect(&image.read_all().unwrap(), &beam, &whole_config).unwrap();
    assert!(whole.islands.len() >= 20);
    // Streamed through rectangle reads of the file, tile by tile.
    let source = FitsSource::new(image);
    for (core, margin, threads) in [
        (128, Some(8), 2),
        (250, None, 1),
        (400, Some(30), 2),
        (333, Some(2), 3),
    ] {
        let config = FinderConfig {
            tile_core: core,
            tile_margin: margin,
            threads,
            ..FinderConfig::default()
        };
        let tiled = detect(&source, &beam, &config).unwrap();
        assert_eq!(tiled.background, whole.background, "core {core}");
        assert_eq!(
            tiled.islands, whole.islands,
            "core {core}, margin {margin:?}"
        );
        let again = detect_with_background(&source, &whole.background, &beam, &config).unwrap();
        assert_eq!(again, whole.islands);
    }
}

#[test]
fn noise_only_image_gives_no_more_false_islands_than_pybdsf() {
    // PyBDSF 1.14.1 (defaults, thresh_isl 3, thresh_pix 5) finds 1 island and
    // 0 sources on this image (run by examples/benchmark.rs).
    const PYBDSF_ISLANDS: usize = 1;
    let (image, beam) = open(&common::fullfield("amila_GRB120422A_15GHz_512.fits"), None);
    let found = detect(&image.read_all().unwrap(), &beam, &FinderConfig::default()).unwrap();
    assert!(found.islands.len() <= PYBDSF_ISLANDS, "{:?}", found.islands);
    assert!(found.background.rms_is_map());
}

#[test]
fn find_sources_writes_catalogue_maps_and_cutouts_that_read_back() {
    let file = common::fullfield("lofar_GRB201006A_144MHz_cutout256.fits");
    let out = tempfile::tempdir().unwrap();
    let summary = find_sources(&file, &FindOptions::default(), out.path()).unwrap();
    assert!(summary.sources >= 4);
    let csv = std::fs::read_to_string(out.path().join(CATALOGUE_CSV)).unwrap();
    assert!(csv.starts_with("Source_id,Isl_id,Name,RA,DEC,"), "{csv}");
    assert_eq!(csv.lines().count(), summary.sources + 1);
    let set = CutoutSet::read(&out.path().join("cutouts")).unwrap();
    assert_eq!(set.len(), summary.sources);
    assert_eq!(set.side(), 64);
    assert!(set.pixels().iter().all(|v| (0.0..=1.0).contains(v)));
    // Each raw cutout carries a WCS placing the source where the catalogue does.
    for row in &summary.catalogue.rows {
        let raw = FitsImage::open(
            out.path()
                .join(format!("cutouts/raw/{}.fits", row.source_id)),
            &OpenOptions::default(),
        )
        .unwrap();
        let (x, y) = raw.wcs().sky_to_pixel(row.ra, row.dec).unwrap();
        let origin = raw.wcs().sky_to_pixel(row.ra_max, row.dec_max).unwrap();
        assert!(x > -1.0 && y > -1.0 && x < raw.width() as f64 && y < raw.height() as f64);
        assert!((origin.0 - x - (row.x_max as f64 - row.x)).abs() < 1e-3);
        assert!(row.name.starts_with('J'));
    }
    let rms = read_plane(&out.path().join("rms.fits"));
    assert_eq!((rms.width(), rms.height()), (256, 256));
    // Same file, same ids.
    let again = find_sources(&file, &FindOptions::default(), &out.path().join("again")).unwrap();
    let ids = |s: &prospector_sources::pipeline::FindSummary| {
        s.catalogue
            .rows
            .iter()
            .map(|r| r.source_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&summary), ids(&again));
    // The FITS outputs are valid FITS.
    for name in ["catalogue.fits", "rms.fits", "mean.fits"] {
        let status = std::process::Command::new("fitsverify")
            .arg("-q")
            .arg(out.path().join(name))
            .output()
            .expect("fitsverify is installed by scripts/bootstrap.sh");
        let text = String::from_utf8_lossy(&status.stdout);
        assert!(text.contains("OK"), "{name}: {text}");
    }
}

#[test]
fn a_file_without_a_beam_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nobeam.fits");
    let wcs = prospector_wcs::Wcs::simple(
        prospector_wcs::Projection::Sin,
        10.0,
        -30.0,
        5.0,
        5.0,
        -1e-3,
        1e-3,
    )
    .unwrap();
    prospector_fits::write_image(
        &path,
        &Image::filled(prospector_image::PixelRect::new(0, 0, 10, 10), 1.0),
        &wcs,
        None,
        &[],
    )
    .unwrap();
    let err = find_sources(&path, &FindOptions::default(), &dir.path().join("out")).unwrap_err();
    assert!(err.to_string().contains("nobeam.fits"), "{err}");
}

#[test]
fn blanked_pixels_are_never_in_islands_and_blank_in_the_maps() {
    let (image, beam) = open(&common::fullfield("aegean_1904-66_SIN.fits"), None);
    let pixels = image.read_all().unwrap();
    let blank = pixels.non_finite_count();
    assert!(
        blank > 10_000,
        "the Aegean test image has NaN-blanked edges"
    );
    let found = detect(&pixels, &beam, &FinderConfig::default()).unwrap();
    assert!(found.islands.len() >= 10, "{}", found.islands.len());
    for island in &found.islands {
        for run in &island.runs {
            for x in run.x0..run.x1 {
                assert!(pixels.get(x, run.y).unwrap().is_finite());
            }
        }
    }
    let (mean, rms) = found.background.maps(&pixels);
    for ((v, m), r) in pixels.pixels().iter().zip(mean.pixels()).zip(rms.pixels()) {
        assert_eq!(v.is_finite(), m.is_finite() && r.is_finite());
    }
}
