//! The report is produced from a synthetic protocol run: one self-contained HTML page
//! whose every image is an embedded PNG of the stated size, with text on the charts.

mod common;

use base64::Engine;
use common::{factory, synthetic_dataset};
use prospector_eval::protocol::{run_protocol, summarize, Configuration, ProtocolSettings, NCC};
use prospector_eval::report::{build_report, strip_size, write_report, Report, ReportSettings};

fn synthetic_report() -> Report {
    let dataset = synthetic_dataset(20, 200, 120);
    let out = tempfile::tempdir().unwrap();
    let settings = ProtocolSettings {
        runs: 6,
        jobs: 2,
        seed: 3,
        ..ProtocolSettings::default()
    };
    let results = run_protocol(&dataset, &settings, &factory(&dataset, 1.5), out.path()).unwrap();
    let summary = summarize(&results, NCC).unwrap();
    let report_settings = ReportSettings {
        tsne: prospector_eval::embed::TsneSettings {
            iterations: 400,
            ..Default::default()
        },
        ..ReportSettings::default()
    };
    let report = build_report(&results, &summary, &report_settings).unwrap();
    write_report(&report, &out.path().join("report.html")).unwrap();
    let written = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert_eq!(written, report.html);
    report
}

/// Every `data:image/png;base64,...` URI in the page with its declared width and height.
fn embedded_images(html: &str) -> Vec<(Vec<u8>, u32, u32)> {
    let mut found = Vec::new();
    let marker = "<img src=\"data:image/png;base64,";
    let mut rest = html;
    while let Some(at) = rest.find(marker) {
        rest = &rest[at + marker.len()..];
        let end = rest.find('"').unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&rest[..end])
            .expect("valid base64");
        let attr = |name: &str| -> u32 {
            let key = format!("{name}=\"");
            let from = rest.find(&key).unwrap() + key.len();
            rest[from..from + rest[from..].find('"').unwrap()]
                .parse()
                .unwrap()
        };
        found.push((bytes, attr("width"), attr("height")));
    }
    found
}

#[test]
fn report_is_self_contained_with_decodable_pngs_of_the_stated_sizes() {
    let report = synthetic_report();
    let html = &report.html;
    for external in [
        "http://", "https://", "<link", "<script", "url(", "src=\"//",
    ] {
        assert!(!html.contains(external), "page references {external}");
    }
    assert_eq!(
        html.matches("<img ").count(),
        html.matches("<img src=\"data:image/png;base64,").count()
    );

    let embedded = embedded_images(html);
    assert_eq!(embedded.len(), report.images.len());
    for (bytes, width, height) in &embedded {
        let decoded = image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
            .expect("embedded PNG decodes");
        assert_eq!((decoded.width(), decoded.height()), (*width, *height));
    }
    let named = |prefix: &str| {
        report
            .images
            .iter()
            .filter(|i| i.name.starts_with(prefix))
            .count()
    };
    assert_eq!(named("roc"), 1);
    assert_eq!(named("box-"), 3);
    assert_eq!(named("t-SNE-"), 3);
    assert_eq!(named("UMAP-"), 3);
    // Five best and five worst of typical, exotic and unlabelled, per configuration.
    assert_eq!(named("gallery-"), 3 * 30);
    let (w, h) = strip_size();
    for image in report
        .images
        .iter()
        .filter(|i| i.name.starts_with("gallery-"))
    {
        assert_eq!((image.png.width, image.png.height), (w, h));
    }
    let roc = &report.images.iter().find(|i| i.name == "roc").unwrap().png;
    assert_eq!((roc.width, roc.height), (640, 560));
}

#[test]
fn report_shows_the_study_beside_our_figures_and_names_the_tests() {
    let report = synthetic_report();
    let html = &report.html;
    for study in [
        "0.827", "0.871", "0.872", "0.776", "0.897", "0.211", "0.271",
    ] {
        assert!(html.contains(study), "study value {study} missing");
    }
    for text in [
        "Mann-Whitney U",
        "Wilcoxon",
        "baseline_island_size",
        "typical removed",
        "at the F2 threshold",
        "trustworthiness",
        "A vs B",
    ] {
        assert!(html.contains(text), "{text} missing");
    }
    for c in [Configuration::A, Configuration::B, Configuration::C] {
        assert!(html.contains(&format!("Configuration {c}")), "{c}");
    }
}

#[test]
fn chart_text_is_drawn() {
    // The ROC chart's title band holds dark glyph pixels only if text rendering works.
    let report = synthetic_report();
    let roc = &report.images.iter().find(|i| i.name == "roc").unwrap().png;
    let decoded = image::load_from_memory(&roc.bytes).unwrap().to_rgb8();
    let dark = (160..480)
        .flat_map(|x| (0..30).map(move |y| (x, y)))
        .filter(|&(x, y)| decoded.get_pixel(x, y).0.iter().all(|&c| c < 100))
        .count();
    assert!(
        dark > 100,
        "only {dark} dark pixels in the title band: no text drawn"
    );
}
