//! Reads of every shared real image (2-, 3- and 4-axis, NaN-blanked, NCP):
//! values equal the bytes in the file, subset reads equal the same rectangle
//! of a whole read, and header facts (shape, beam) are as the files say.

use std::path::Path;

use prospector_fits::{FitsImage, OpenOptions};
use prospector_image::PixelRect;

/// Pixel (x, y) decoded straight from the file bytes (BITPIX -32, plane 0),
/// independently of cfitsio: proves the axis order of the subset reads.
fn raw_pixel(bytes: &[u8], width: usize, x: usize, y: usize) -> f32 {
    let end = (0..bytes.len() / 80)
        .find(|i| bytes[i * 80..].starts_with(b"END     "))
        .expect("an END card");
    let data = (end * 80 / 2880 + 1) * 2880;
    let at = data + 4 * (y * width + x);
    f32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn same(a: f32, b: f32) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

fn check_reads(path: &Path) {
    let image = FitsImage::open(path, &OpenOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let whole = image.read_all().unwrap();
    assert_eq!(whole.rect(), image.bounds());
    let bytes = std::fs::read(path).unwrap();
    let (w, h) = (image.width(), image.height());
    for &(x, y) in &[
        (0, 0),
        (w - 1, 0),
        (0, h - 1),
        (w - 1, h - 1),
        (w / 3, h / 2 + 1),
    ] {
        let raw = raw_pixel(&bytes, w, x, y);
        let expected = if raw.is_finite() { raw } else { f32::NAN };
        assert!(
            same(whole.get(x, y).unwrap(), expected),
            "{}: ({x}, {y})",
            path.display()
        );
    }
    // Non-square rectangles at the corners, edges and middle.
    let rects = [
        PixelRect::new(0, 0, 7, 3),
        PixelRect::new(w - 5, h - 9, 5, 9),
        PixelRect::new(w / 2, 1, w / 2 - 1, h / 3),
        PixelRect::new(0, h - 1, w, 1),
        PixelRect::new(w - 1, 0, 1, h),
    ];
    for rect in rects {
        let tile = image.read_rect(rect).unwrap();
        let crop = whole.crop(&rect).unwrap();
        assert_eq!(tile.rect(), rect);
        assert!(
            tile.pixels()
                .iter()
                .zip(crop.pixels())
                .all(|(a, b)| same(*a, *b)),
            "{}: subset {rect:?} differs from the crop of a whole read",
            path.display()
        );
    }
    let outside = image.read_rect(PixelRect::new(w - 2, 0, 3, 1)).unwrap_err();
    assert_eq!(outside.kind(), "rect_out_of_bounds");
    assert!(outside.to_string().contains(&path.display().to_string()));
}

#[test]
fn every_shared_image_reads_and_subsets_match_whole_reads() {
    for path in prospector_testdata::fullfield_images() {
        check_reads(&path);
    }
    for path in prospector_testdata::mirabest_images().iter().step_by(100) {
        check_reads(path);
    }
}

#[test]
fn shapes_axes_and_beams_are_as_the_headers_say() {
    let data = prospector_testdata::shared_data();
    let open = |rel: &str| FitsImage::open(data.join(rel), &OpenOptions::default()).unwrap();

    let ami = open("fullfield/amila_GRB120422A_15GHz_512.fits");
    assert_eq!((ami.width(), ami.height(), ami.axes().len()), (512, 512, 4));
    assert_eq!(ami.axes()[3].ctype, "VOPT");
    let beam = ami.beam().unwrap();
    assert!(
        (beam.major_deg - 1.506752332052e-2).abs() < 1e-15
            && (beam.pa_deg - 5.014526367188).abs() < 1e-12
    );

    let pybdsf =
        open("pybdsf-reference/reference_outputs/tbdsf_process_image.in_fits.pybdsf.ch0_I.fits");
    assert_eq!((pybdsf.width(), pybdsf.axes().len()), (129, 4));
    assert_eq!(pybdsf.beam().unwrap().major_deg, 0.015);

    // No BPA card: the position angle defaults to 0 (with a warning).
    let atca = open("fullfield/atca_scorpio_1p4GHz_ExtendedSourceField.fits");
    let beam = atca.beam().unwrap();
    assert_eq!((beam.major_deg, beam.pa_deg), (1.80555554107e-3, 0.0));
    assert_eq!(atca.wcs().projection(), prospector_wcs::Projection::Ncp);
    assert_eq!(atca.bitpix(), -32);

    let aegean = open("fullfield/aegean_1904-66_SIN.fits");
    let pixels = aegean.read_all().unwrap();
    let blank = pixels.non_finite_count();
    assert!(
        blank > 1000 && blank < pixels.pixels().len(),
        "NaN-blanked edges: {blank}"
    );
    let (sx, _) = aegean.wcs().pixel_scale_deg();
    assert!((sx * 60.0 - 4.0).abs() < 1e-9, "4 arcmin pixels");

    let lofar = open("fullfield/lofar_GRB201006A_144MHz_cutout256.fits");
    assert_eq!(
        lofar.header_value("TELESCOP").and_then(|v| v.as_str()),
        Some("LOFAR")
    );
    assert!(lofar.beam().is_ok());
}

#[test]
fn a_beam_given_in_the_options_overrides_the_header() {
    let data = prospector_testdata::shared_data();
    let beam = prospector_image::Beam {
        major_deg: 0.01,
        minor_deg: 0.005,
        pa_deg: 12.0,
    };
    let options = OpenOptions {
        beam: Some(beam),
        ..OpenOptions::default()
    };
    let image = FitsImage::open(
        data.join("fullfield/lofar_GRB201006A_144MHz_cutout256.fits"),
        &options,
    )
    .unwrap();
    assert_eq!(image.beam().unwrap(), beam);
}

#[test]
fn reopened_handles_read_in_parallel_threads() {
    let path = prospector_testdata::fullfield_images()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("ExtendedSourceField"))
        .unwrap();
    let image = FitsImage::open(&path, &OpenOptions::default()).unwrap();
    let whole = image.read_all().unwrap();
    let workers: Vec<_> = (0..4)
        .map(|i| {
            let handle = image.reopen().unwrap();
            std::thread::spawn(move || {
                let rect = PixelRect::new(0, i * 250, 1000, 250);
                (rect, handle.read_rect(rect).unwrap())
            })
        })
        .collect();
    for worker in workers {
        let (rect, tile) = worker.join().unwrap();
        assert_eq!(tile, whole.crop(&rect).unwrap());
    }
}
