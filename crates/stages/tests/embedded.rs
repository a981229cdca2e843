//! The embedded pipeline over the in-process bus: every source the extractor finds is
//! scored exactly once and every image ends complete, or failed with its reason.

use prospector_proto::v1::{CodeForm, SourceScores};
use prospector_ranking::ImageState;
use prospector_skysim::{simulate_to_fits, FieldConfig};
use prospector_sources::FinderConfig;
use prospector_stages::{run_embedded, CutoutModel, ModelError, ModelScores};

/// A stand-in model: anomaly = fraction of bright cutout pixels. It tests the plumbing
/// (batches in, one score per cutout, in order), not the scores.
#[derive(Debug)]
struct BrightFraction;

impl CutoutModel for BrightFraction {
    fn version(&self) -> &str {
        "bright-fraction"
    }
    fn side(&self) -> usize {
        64
    }
    fn score(&mut self, pixels: &[f32], n: usize) -> Result<Vec<ModelScores>, ModelError> {
        Ok(pixels
            .chunks(64 * 64)
            .take(n)
            .map(|c| ModelScores {
                scores: SourceScores {
                    anomaly: c.iter().filter(|v| **v > 0.5).count() as f64 / c.len() as f64,
                    ..Default::default()
                },
                code_form: CodeForm::default(),
                reconstruction: None,
            })
            .collect())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_image_completes_with_each_source_scored_once_and_a_bad_one_fails() {
    let dir = tempfile::tempdir().unwrap();
    let mut images = Vec::new();
    for seed in [1, 2] {
        let (image, truth) = (
            dir.path().join(format!("f{seed}.fits")),
            dir.path().join(format!("t{seed}.csv")),
        );
        let field = FieldConfig {
            width: 700,
            height: 600,
            seed,
            ..FieldConfig::default()
        };
        simulate_to_fits(field, &image, &truth, 128).unwrap();
        images.push(image);
    }
    let junk = dir.path().join("junk.fits");
    std::fs::write(&junk, b"SIMPLE  = nonsense").unwrap();
    images.push(junk);
    let finder = FinderConfig {
        tile_core: 256,
        ..FinderConfig::default()
    };

    let (catalogue, submitted) = run_embedded(&images, finder, BrightFraction, 16)
        .await
        .unwrap();

    assert_eq!(submitted.len(), 3);
    for image in &submitted[..2] {
        let progress = catalogue.image(&image.image_id).unwrap();
        assert_eq!(
            progress.state(),
            ImageState::Complete,
            "{}",
            image.path.display()
        );
        assert!(progress.sources_found() > 20);
        assert_eq!(progress.sources_found(), progress.sources_scored());
    }
    let failed = catalogue.image(&submitted[2].image_id).unwrap();
    assert_eq!(failed.state(), ImageState::Failed);
    assert!(
        failed.failure().unwrap().contains("junk.fits"),
        "{:?}",
        failed.failure()
    );
    assert_eq!(catalogue.duplicates(), 0);
}
