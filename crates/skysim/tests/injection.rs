//! Injection-recovery on a real image: sources added to a real FITS image
//! land where, and with the flux, their catalogue says, in the image's own
//! sky coordinates.

mod common;

use prospector_fits::{FitsImage, OpenOptions};
use prospector_skysim::{Field, SimError, SourceClass, SourceSpec};
use prospector_testdata::shared_data;
use prospector_wcs::{Projection, Wcs};

fn spec(class: SourceClass, x: f64, y: f64, flux_jy: f64, size_arcsec: f64) -> SourceSpec {
    SourceSpec {
        class,
        x,
        y,
        flux_jy,
        size_arcsec,
        pa_deg: 40.0,
        shape_seed: 3,
    }
}

#[test]
fn sources_injected_into_a_real_lofar_image_carry_their_flux_and_the_image_coordinates() {
    let path = shared_data().join("fullfield/lofar_GRB201006A_144MHz_cutout256.fits");
    let fits = FitsImage::open(&path, &OpenOptions::default()).unwrap();
    let original = fits.read_all().unwrap();
    let beam = fits.beam().unwrap();
    let specs = [
        spec(SourceClass::Point, 60.3, 190.7, 0.05, 0.0),
        spec(SourceClass::Frii, 170.0, 80.0, 0.2, 200.0),
    ];
    let field = Field::for_injection(
        fits.wcs(),
        &beam,
        original.width(),
        original.height(),
        &specs,
    )
    .unwrap();
    let mut injected = original.clone();
    field.add_model_into(&mut injected).unwrap();

    let added: Vec<f64> = injected
        .pixels()
        .iter()
        .zip(original.pixels())
        .map(|(a, b)| (*a as f64) - (*b as f64))
        .collect();
    let beam_area = beam.area_pixels(fits.wcs().pixel_area_sq_deg());
    let total = added.iter().sum::<f64>() / beam_area;
    // f32 pixels of ~1 Jy/beam round at ~6e-8 each; 65k of them.
    assert!((total - 0.25).abs() < 1e-3 * 0.25, "injected {total} Jy");
    // The point source peaks at its flux (Jy/beam) on its nearest pixel.
    let at = |x: usize, y: usize| added[y * original.width() + x];
    assert!(
        (at(60, 191) / 0.05 - 1.0).abs() < 0.05,
        "point source pixel {}",
        at(60, 191)
    );

    for t in field.truth() {
        assert_eq!(
            Some((t.ra_deg, t.dec_deg)),
            fits.wcs().pixel_to_sky(t.x, t.y)
        );
    }
}

#[test]
fn an_image_with_non_square_pixels_is_refused_with_a_reason() {
    let wcs = Wcs::simple(
        Projection::Sin,
        10.0,
        -40.0,
        50.0,
        50.0,
        -1.0 / 3600.0,
        2.0 / 3600.0,
    )
    .unwrap();
    let beam = prospector_image::Beam {
        major_deg: 5.0 / 3600.0,
        minor_deg: 5.0 / 3600.0,
        pa_deg: 0.0,
    };
    let err = Field::for_injection(&wcs, &beam, 100, 100, &[]).unwrap_err();
    assert!(matches!(err, SimError::InvalidConfig { .. }));
    assert!(err.to_string().contains("square pixels"), "{err}");
}
