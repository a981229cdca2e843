//! Rendering: determinism, tiling, and flux and position fidelity.

mod common;

use common::{box_sum, crowded, inside, pixel_hash, sparse};
use prospector_image::{Image, PixelRect};
use prospector_skysim::{BeamConfig, Field, FieldConfig, SimError, SourceClass, SourceSpec};

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
    let a = Field::new(crowded(300, 260, 7)).unwrap().render().unwrap();
    let b = Field::new(crowded(300, 260, 7)).unwrap().render().unwrap();
    let c = Field::new(crowded(300, 260, 8)).unwrap().render().unwrap();
    assert_eq!(pixel_hash(&a), pixel_hash(&b));
    assert_ne!(pixel_hash(&a), pixel_hash(&c));
    assert_eq!(a.non_finite_count(), 0);
}

fn assert_rects_match_the_whole(field: &Field, rects: &[PixelRect]) {
    let whole = field.render_rect_threads(field.bounds(), 1).unwrap();
    for rect in rects {
        let part = field.render_rect_threads(*rect, 2).unwrap();
        assert_eq!(part.rect(), *rect);
        let crop = whole.crop(rect).unwrap();
        assert!(
            part.pixels() == crop.pixels(),
            "rect {rect:?} differs from the crop of the whole image"
        );
    }
}

fn edge_and_interior_rects(width: usize, height: usize) -> Vec<PixelRect> {
    vec![
        PixelRect::new(0, 0, width, height),
        PixelRect::new(0, 0, 1, 1),
        PixelRect::new(width - 1, height - 1, 1, 1),
        PixelRect::new(0, 17, width, 1),
        PixelRect::new(width - 40, 0, 40, height),
        PixelRect::new(31, height - 9, 100, 9),
        PixelRect::new(57, 41, 133, 129),
    ]
}

/// Every rectangle of a tiling, tiles deliberately not dividing the image.
fn tiling(width: usize, height: usize, tile_w: usize, tile_h: usize) -> Vec<PixelRect> {
    let mut rects = Vec::new();
    for y in (0..height).step_by(tile_h) {
        for x in (0..width).step_by(tile_w) {
            rects.push(PixelRect::new(
                x,
                y,
                tile_w.min(width - x),
                tile_h.min(height - y),
            ));
        }
    }
    rects
}

#[test]
fn any_rectangle_renders_exactly_as_the_crop_of_the_whole_image() {
    let field = Field::new(crowded(257, 193, 3)).unwrap();
    let mut rects = edge_and_interior_rects(257, 193);
    rects.extend(tiling(257, 193, 64, 50));
    assert_rects_match_the_whole(&field, &rects);
}

#[test]
fn a_rotated_elliptical_beam_tiles_exactly_too() {
    let config = FieldConfig {
        beam: BeamConfig {
            major_arcsec: 11.0,
            minor_arcsec: 6.0,
            pa_deg: 35.0,
        },
        ..crowded(220, 180, 4)
    };
    let field = Field::new(config).unwrap();
    let mut rects = edge_and_interior_rects(220, 180);
    rects.extend(tiling(220, 180, 45, 70));
    assert_rects_match_the_whole(&field, &rects);
}

#[test]
fn a_field_can_be_shared_with_writer_threads() {
    fn shareable<T: Send + Sync>(_: &T) {}
    let field = Field::new(crowded(64, 64, 1)).unwrap();
    shareable(&field);
    let copy = field.clone();
    std::thread::scope(|s| {
        let a = s.spawn(|| field.render_rect(PixelRect::new(0, 0, 64, 32)).unwrap());
        let b = s.spawn(|| copy.render_rect(PixelRect::new(0, 0, 64, 32)).unwrap());
        assert_eq!(a.join().unwrap(), b.join().unwrap());
    });
}

#[test]
fn thread_count_and_row_blocks_do_not_change_a_bit() {
    let field = Field::new(crowded(200, 400, 5)).unwrap();
    let one = field.render_rect_threads(field.bounds(), 1).unwrap();
    let five = field.render_rect_threads(field.bounds(), 5).unwrap();
    assert!(one.pixels() == five.pixels());
    let blocks: Vec<f32> = field
        .row_blocks(37)
        .flat_map(|block| block.unwrap().into_pixels())
        .collect();
    assert!(blocks == one.pixels());
}

#[test]
fn a_rectangle_outside_the_image_is_an_error_naming_both_sizes() {
    let field = Field::new(crowded(100, 80, 1)).unwrap();
    let err = field
        .render_rect(PixelRect::new(90, 0, 20, 10))
        .unwrap_err();
    assert!(matches!(err, SimError::RectOutsideImage { .. }));
    let text = err.to_string();
    assert!(
        text.contains("90,0 20x10") && text.contains("100x80"),
        "{text}"
    );
}

/// Isolated sources wholly inside the image, with their support.
fn isolated(field: &Field) -> Vec<(usize, prospector_skysim::Support)> {
    (0..field.truth().len())
        .filter(|&id| field.blend_count(id) == Some(0))
        .filter_map(|id| field.support(id).map(|s| (id, s)))
        .filter(|(_, s)| inside(field, s))
        .collect()
}

#[test]
fn every_isolated_source_integrates_to_its_catalogued_flux() {
    let noiseless = FieldConfig {
        noise_rms_jy: 0.0,
        ..sparse(1400, 1400, 11)
    };
    let field = Field::new(noiseless.clone()).unwrap();
    let image = field.render().unwrap();
    let beam_area = noiseless.beam_area_pixels();
    let sources = isolated(&field);
    let extended = sources
        .iter()
        .filter(|(id, _)| field.truth()[*id].class != SourceClass::Point)
        .count();
    assert!(
        sources.len() > 50 && extended > 10,
        "{} isolated, {extended} extended",
        sources.len()
    );
    for (id, support) in &sources {
        let truth = &field.truth()[*id];
        let flux = box_sum(&image, support) / beam_area;
        // Truncation at 5 sigma loses < 4e-6; f32 pixels add ~1e-7.
        assert!(
            (flux - truth.flux_jy).abs() < 1e-5 * truth.flux_jy,
            "{truth:?}: measured {flux} Jy"
        );
    }

    // With noise: the same field, same sources, flux within five noise sigmas of the box.
    let noisy = Field::new(FieldConfig {
        noise_rms_jy: 4e-6,
        ..noiseless
    })
    .unwrap();
    let image = noisy.render().unwrap();
    for (id, support) in &sources {
        let truth = &noisy.truth()[*id];
        let pixels = (support.width() * support.height()) as f64;
        // Noise correlated like the beam: var(sum) = rms^2 * pixels * beam_area.
        let sigma_jy = 4e-6 * (pixels / beam_area).sqrt();
        let flux = box_sum(&image, support) / beam_area;
        assert!(
            (flux - truth.flux_jy).abs() < 5.0 * sigma_jy,
            "{truth:?}: measured {flux} +- {sigma_jy}"
        );
    }
}

fn brightest_pixel(image: &Image, s: &prospector_skysim::Support) -> (f64, f64, f32) {
    let mut best = (0.0, 0.0, f32::NEG_INFINITY);
    for y in s.y_min..=s.y_max {
        for x in s.x_min..=s.x_max {
            let v = image.get(x as usize, y as usize).unwrap();
            if v > best.2 {
                best = (x as f64, y as f64, v);
            }
        }
    }
    best
}

#[test]
fn point_sources_peak_where_and_as_bright_as_the_catalogue_says() {
    let field = Field::new(sparse(1400, 1400, 12)).unwrap();
    let image = field.render().unwrap();
    let rms = field.config().noise_rms_jy;
    let mut checked = 0;
    for (id, support) in isolated(&field) {
        let truth = &field.truth()[id];
        if truth.class != SourceClass::Point || truth.peak_jy_beam < 30.0 * rms {
            continue;
        }
        let (x, y, peak) = brightest_pixel(&image, &support);
        let offset = ((x - truth.x).powi(2) + (y - truth.y).powi(2)).sqrt();
        assert!(offset <= 1.5, "{truth:?}: brightest pixel at ({x}, {y})");
        // A pixel centre is at most 0.71 px from the true peak: >= 94% of it for a 2.1 px sigma beam.
        let expected = truth.peak_jy_beam;
        assert!(
            (peak as f64) > 0.94 * expected - 5.0 * rms && (peak as f64) < expected + 5.0 * rms,
            "{truth:?}: brightest pixel {peak}"
        );
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} bright isolated point sources");
}

/// `copies` sources of every class (different shapes, sizes and angles) on a
/// grid of `cell`-pixel cells, far enough apart to be isolated.
fn every_class_on_a_grid(copies: usize, cell: usize) -> (FieldConfig, Vec<SourceSpec>) {
    let columns = 6;
    let count = SourceClass::ALL.len() * copies;
    let config = FieldConfig {
        noise_rms_jy: 0.0,
        ..sparse(columns * cell, count.div_ceil(columns) * cell, 14)
    };
    let specs = (0..count)
        .map(|i| {
            let class = SourceClass::ALL[i % SourceClass::ALL.len()];
            let (lo, hi) = class.size_range_arcsec();
            let copy = (i / SourceClass::ALL.len()) as f64;
            SourceSpec {
                class,
                x: ((i % columns) * cell + cell / 2) as f64 + 0.3,
                y: ((i / columns) * cell + cell / 2) as f64 - 0.2,
                flux_jy: 2e-3,
                size_arcsec: (lo * (1.0 + copy)).min(hi).min(150.0),
                pa_deg: 25.0 * i as f64,
                shape_seed: i as u64,
            }
        })
        .collect();
    (config, specs)
}

#[test]
fn every_class_renders_its_catalogued_flux_and_peak() {
    let (config, specs) = every_class_on_a_grid(3, 400);
    let field = Field::with_sources(config.clone(), &specs).unwrap();
    let image = field.render().unwrap();
    for (id, truth) in field.truth().iter().enumerate() {
        assert_eq!(field.blend_count(id), Some(0), "{truth:?} is not isolated");
        let support = field.support(id).unwrap();
        assert!(
            inside(&field, &support),
            "{truth:?} spills out of the image"
        );
        let flux = box_sum(&image, &support) / config.beam_area_pixels();
        assert!(
            (flux - truth.flux_jy).abs() < 1e-5 * truth.flux_jy,
            "{truth:?}: measured {flux} Jy"
        );
        let (_, _, peak) = brightest_pixel(&image, &support);
        let ratio = peak as f64 / truth.peak_jy_beam;
        // The catalogue gives the continuous peak; pixel centres sample near it.
        assert!(
            ratio > 0.9 && ratio <= 1.0 + 1e-6,
            "{truth:?}: brightest pixel {peak}"
        );
        assert_eq!(truth.exotic, truth.class.is_exotic());
    }
}

#[test]
fn injected_sources_land_where_asked_in_an_existing_image() {
    let background = Field::new(FieldConfig {
        source_density_per_sq_deg: 0.0,
        ..crowded(256, 256, 21)
    })
    .unwrap();
    let mut image = background.render().unwrap();
    let before = image.clone();
    let spec = SourceSpec {
        class: SourceClass::Frii,
        x: 120.25,
        y: 140.5,
        flux_jy: 0.003,
        size_arcsec: 90.0,
        pa_deg: 70.0,
        shape_seed: 5,
    };
    let injected = Field::with_sources(
        FieldConfig {
            noise_rms_jy: 0.0,
            ..background.config().clone()
        },
        &[spec],
    )
    .unwrap();
    injected.add_model_into(&mut image).unwrap();
    let added: f64 = image
        .pixels()
        .iter()
        .zip(before.pixels())
        .map(|(a, b)| (a - b) as f64)
        .sum();
    let flux = added / background.config().beam_area_pixels();
    assert!((flux - 0.003).abs() < 1e-6, "injected {flux} Jy");
    let truth = &injected.truth()[0];
    assert_eq!(
        (truth.x, truth.y, truth.class),
        (120.25, 140.5, SourceClass::Frii)
    );

    let bad = SourceSpec {
        flux_jy: -1.0,
        ..spec
    };
    let err = Field::with_sources(FieldConfig::default(), &[spec, bad]).unwrap_err();
    assert!(
        err.to_string().contains("source 1") && err.to_string().contains("flux"),
        "{err}"
    );
    let huge = SourceSpec {
        size_arcsec: 1e9,
        ..spec
    };
    let err = Field::with_sources(FieldConfig::default(), &[huge]).unwrap_err();
    assert!(
        err.to_string().contains("source 0") && err.to_string().contains("size"),
        "{err}"
    );
}

#[test]
fn bright_sources_carry_zero_flux_sidelobe_artefacts() {
    let config = FieldConfig {
        noise_rms_jy: 0.0,
        ..crowded(400, 400, 2)
    };
    let spec = SourceSpec {
        class: SourceClass::Point,
        x: 200.0,
        y: 200.0,
        flux_jy: 0.5,
        size_arcsec: 0.0,
        pa_deg: 0.0,
        shape_seed: 0,
    };
    let with = Field::with_sources(config.clone(), &[spec])
        .unwrap()
        .render()
        .unwrap();
    let mut without_config = config.clone();
    without_config.artefacts.enabled = false;
    let without = Field::with_sources(without_config, &[spec])
        .unwrap()
        .render()
        .unwrap();
    let diff: Vec<f64> = with
        .pixels()
        .iter()
        .zip(without.pixels())
        .map(|(a, b)| (a - b) as f64)
        .collect();
    let deepest = diff.iter().cloned().fold(f64::INFINITY, f64::min);
    let highest = diff.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    // Spoke ridges run at relative_amplitude times the 0.5 Jy/beam peak (less
    // at their very start, where a chain has neighbours on one side only), both signs.
    let ridge = config.artefacts.relative_amplitude * 0.5;
    for extreme in [highest, -deepest] {
        assert!(
            extreme > 0.6 * ridge && extreme < 1.3 * ridge,
            "artefact extremes {highest}, {deepest}"
        );
    }
    let net: f64 = diff.iter().sum::<f64>() / config.beam_area_pixels();
    assert!(net.abs() < 1e-6, "artefacts add {net} Jy");
    // Within one beam of the source the artefacts are a tenth of their ridge
    // brightness at most: they surround the source rather than alter it.
    for y in 195..=205usize {
        for x in 195..=205usize {
            if (x.abs_diff(200).pow(2) + y.abs_diff(200).pow(2)) <= 25 {
                assert!(
                    diff[y * 400 + x].abs() < 0.1 * ridge,
                    "artefact on the source at ({x}, {y})"
                );
            }
        }
    }
}

#[test]
fn per_source_models_add_up_to_the_noiseless_image_and_touching_finds_them() {
    let config = FieldConfig {
        noise_rms_jy: 0.0,
        artefacts: prospector_skysim::ArtefactConfig {
            enabled: false,
            ..Default::default()
        },
        ..crowded(200, 180, 5)
    };
    let field = Field::new(config).unwrap();
    let rect = PixelRect::new(40, 30, 90, 70);
    let image = field.render_rect(rect).unwrap();
    let touching = field.sources_touching(&rect);
    assert!(
        touching.len() > 3,
        "a crowded field puts several sources here"
    );
    let mut sum = vec![0.0f64; rect.area()];
    for id in 0..field.truth().len() {
        let model = field.source_model(id, &rect).unwrap();
        let contributes = model.iter().any(|&v| v != 0.0);
        assert!(
            !contributes || touching.contains(&id),
            "source {id} adds flux to the rectangle but was not listed as touching it"
        );
        for (s, v) in sum.iter_mut().zip(model) {
            *s += v;
        }
    }
    for (&pixel, s) in image.pixels().iter().zip(sum) {
        assert!((f64::from(pixel) - s).abs() <= 1e-6 * s.abs().max(1e-9));
    }
    assert_eq!(field.source_model(field.truth().len(), &rect), None);
}
