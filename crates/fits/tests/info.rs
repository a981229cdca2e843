//! `ImageInfo` on real images: the sampled noise and blank fraction agree with
//! the same statistics over the whole image; Display and JSON carry them.

use prospector_fits::{FitsImage, ImageInfo, OpenOptions, MAX_SAMPLE_ROWS};

/// Sigma from the MAD over every finite pixel, computed by full sorting.
fn full_image_sigma(image: &FitsImage) -> (f64, f64) {
    let all = image.read_all().unwrap();
    let mut v: Vec<f64> = all
        .pixels()
        .iter()
        .filter(|p| p.is_finite())
        .map(|&p| p as f64)
        .collect();
    let blank = 1.0 - v.len() as f64 / all.pixels().len() as f64;
    v.sort_by(f64::total_cmp);
    let med = v[v.len() / 2];
    let mut dev: Vec<f64> = v.iter().map(|x| (x - med).abs()).collect();
    dev.sort_by(f64::total_cmp);
    (1.4826 * dev[dev.len() / 2], blank)
}

#[test]
fn sampled_noise_and_blank_fraction_match_the_whole_image() {
    for path in prospector_testdata::fullfield_images() {
        let image = FitsImage::open(&path, &OpenOptions::default()).unwrap();
        let info = ImageInfo::gather(&image).unwrap();
        assert_eq!(info.sample.rows, image.height().min(MAX_SAMPLE_ROWS));
        let (sigma, blank) = full_image_sigma(&image);
        let sampled = info.sample.robust_sigma.unwrap();
        assert!(
            (sampled / sigma - 1.0).abs() < 0.15,
            "{}: sampled sigma {sampled:.4e} vs whole image {sigma:.4e}",
            path.display()
        );
        assert!(
            (info.sample.blank_fraction - blank).abs() < 0.05,
            "{}",
            path.display()
        );
    }
}

#[test]
fn info_is_readable_by_people_and_tools() {
    let data = prospector_testdata::shared_data();
    let image = FitsImage::open(
        data.join("fullfield/lofar_GRB201006A_144MHz_cutout256.fits"),
        &OpenOptions::default(),
    )
    .unwrap();
    let info = ImageInfo::gather(&image).unwrap();
    let text = info.to_string();
    assert!(text.contains("256 x 256 pixels"), "{text}");
    assert!(text.contains("SIN FK5 J2000"), "{text}");
    assert!(text.contains("32.47\" x 17.96\" at PA 38.7 deg"), "{text}");
    assert!(text.contains("5.000\" x 5.000\""), "{text}");
    assert!(text.contains("robust sigma"), "{text}");
    let json: serde_json::Value = serde_json::to_value(&info).unwrap();
    assert_eq!(json["width"], 256);
    assert_eq!(json["projection"], "SIN");
    assert!(json["sample"]["robust_sigma"].as_f64().unwrap() > 0.0);
    assert!(json["beam"]["major_deg"].as_f64().unwrap() > 0.009);

    let aegean = FitsImage::open(
        data.join("fullfield/aegean_1904-66_SIN.fits"),
        &OpenOptions::default(),
    )
    .unwrap();
    let text = ImageInfo::gather(&aegean).unwrap().to_string();
    assert!(text.contains("240.000\" x 240.000\""), "{text}");
    assert!(text.contains("% blank"), "{text}");
}
