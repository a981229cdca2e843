//! The catalogue does not depend on how the image is tiled or how many threads
//! run: random synthetic skies (noise, compact and extended sources, blanked
//! patches), random tilings with margins too small for their largest islands,
//! compared row for row with one whole-image pass.

use proptest::prelude::*;
use prospector_image::Image;
use prospector_sources::{detect, detect_with_background, FinderConfig, PixelBeam};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

/// A `w` x `h` sky: unit Gaussian noise, point sources of the beam size,
/// extended elliptical blobs, and blanked rectangles.
fn synthetic_sky(w: usize, h: usize, seed: u64) -> Image {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0, 1.0).unwrap();
    let mut data: Vec<f32> = (0..w * h).map(|_| noise.sample(&mut rng) as f32).collect();
    let blobs = rng.random_range(5..40);
    for k in 0..blobs {
        let (cx, cy) = (
            rng.random_range(0.0..w as f64),
            rng.random_range(0.0..h as f64),
        );
        let extended = k % 4 == 0;
        let (sa, sb) = if extended {
            (rng.random_range(4.0..25.0), rng.random_range(2.0..8.0))
        } else {
            (1.7, 1.7)
        };
        let peak = rng.random_range(4.0..200.0);
        let theta: f64 = rng.random_range(0.0..std::f64::consts::PI);
        let reach = (4.0 * sa) as i64;
        for y in (cy as i64 - reach).max(0)..(cy as i64 + reach).min(h as i64) {
            for x in (cx as i64 - reach).max(0)..(cx as i64 + reach).min(w as i64) {
                let (dx, dy) = (x as f64 - cx, y as f64 - cy);
                let u = dx * theta.cos() + dy * theta.sin();
                let t = -dx * theta.sin() + dy * theta.cos();
                let v = peak * (-(u * u / (2.0 * sa * sa) + t * t / (2.0 * sb * sb))).exp();
                data[y as usize * w + x as usize] += v as f32;
            }
        }
    }
    for _ in 0..rng.random_range(0..3) {
        let (x0, y0) = (rng.random_range(0..w), rng.random_range(0..h));
        let (bw, bh) = (rng.random_range(1..w / 4), rng.random_range(1..h / 4));
        for y in y0..(y0 + bh).min(h) {
            for x in x0..(x0 + bw).min(w) {
                data[y * w + x] = f32::NAN;
            }
        }
    }
    Image::from_vec(w, h, data).unwrap()
}

const BEAM: PixelBeam = PixelBeam {
    major_px: 4.0,
    minor_px: 4.0,
    pa_deg: 0.0,
};

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn any_tiling_gives_the_whole_image_catalogue(
        w in 90usize..260,
        h in 90usize..260,
        seed in any::<u64>(),
        core in 16usize..120,
        margin in 1usize..40,
        threads in 1usize..4,
    ) {
        let sky = synthetic_sky(w, h, seed);
        let whole = FinderConfig { tile_core: w.max(h), threads: 1, ..FinderConfig::default() };
        let reference = detect(&sky, &BEAM, &whole).unwrap();
        let tiled = FinderConfig { tile_core: core, tile_margin: Some(margin), threads, ..whole.clone() };
        let islands = detect_with_background(&sky, &reference.background, &BEAM, &tiled).unwrap();
        prop_assert_eq!(islands.len(), reference.islands.len());
        for (a, b) in islands.iter().zip(&reference.islands) {
            prop_assert_eq!(a, b);
        }
        // The background, too, is the same whichever way it is measured.
        let again = detect(&sky, &BEAM, &tiled).unwrap();
        prop_assert_eq!(&again.background, &reference.background);
        prop_assert_eq!(&again.islands, &reference.islands);
    }
}

#[test]
fn the_synthetic_skies_exercise_what_tiling_could_break() {
    // Guard against a vacuous property: the skies hold islands larger than the
    // smallest margins and islands on tile edges.
    let sky = synthetic_sky(250, 250, 7);
    let found = detect(&sky, &BEAM, &FinderConfig::default()).unwrap();
    assert!(found.islands.len() >= 5, "{}", found.islands.len());
    assert!(found
        .islands
        .iter()
        .any(|i| i.bbox.width.max(i.bbox.height) > 40));
}
