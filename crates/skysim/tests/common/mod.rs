//! Helpers shared by the integration tests.
// Each test binary compiles this module and uses only some of it.
#![allow(dead_code)]

use prospector_image::Image;
use prospector_skysim::{Field, FieldConfig, Support};
use sha2::{Digest, Sha256};

/// A small field with `density` sources per square degree.
pub fn field_config(width: usize, height: usize, seed: u64, density: f64) -> FieldConfig {
    FieldConfig {
        width,
        height,
        seed,
        source_density_per_sq_deg: density,
        ..FieldConfig::default()
    }
}

/// A small field crowded with sources, so that a test meets every class.
pub fn crowded(width: usize, height: usize, seed: u64) -> FieldConfig {
    field_config(width, height, seed, 20_000.0)
}

/// A small field sparse enough that most sources are isolated.
pub fn sparse(width: usize, height: usize, seed: u64) -> FieldConfig {
    field_config(width, height, seed, 3_000.0)
}

/// SHA-256 of the pixels' little-endian bytes.
pub fn pixel_hash(image: &Image) -> String {
    let mut hasher = Sha256::new();
    for v in image.pixels() {
        hasher.update(v.to_le_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Whether a support lies wholly inside the field's image.
pub fn inside(field: &Field, s: &Support) -> bool {
    s.x_min >= 0
        && s.y_min >= 0
        && s.x_max < field.config().width as i64
        && s.y_max < field.config().height as i64
}

/// Sum of the image's pixels over an (inside) support.
pub fn box_sum(image: &Image, s: &Support) -> f64 {
    let mut sum = 0.0;
    for y in s.y_min..=s.y_max {
        for x in s.x_min..=s.x_max {
            sum += image.get(x as usize, y as usize).map_or(0.0, f64::from);
        }
    }
    sum
}
