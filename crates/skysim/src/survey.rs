//! Many fields at once: the configurations of a survey of distinct fields.

use crate::config::FieldConfig;
use crate::rng::{hash3, stream};

/// Fraction of a field's side left between neighbouring field centres
/// beyond the field itself, so no two fields share sky.
const GAP: f64 = 0.1;

/// `count` copies of `base`, each with its own seed (from `seed` and its
/// index) and its own centre: fields tile a grid in RA and Dec starting at
/// `base`'s centre and stepping in Dec towards the equator, so they never
/// overlap on the sky. The expected number of sources is `count *
/// base.source_density_per_sq_deg * base.area_sq_deg()`, of which a fraction
/// `base.exotic_fraction` is exotic.
pub fn survey_fields(base: &FieldConfig, count: usize, seed: u64) -> Vec<FieldConfig> {
    let columns = (count as f64).sqrt().ceil().max(1.0) as usize;
    let side_ra_deg = base.width as f64 * base.pixel_scale_arcsec / 3600.0 * (1.0 + GAP);
    let side_dec_deg = base.height as f64 * base.pixel_scale_arcsec / 3600.0 * (1.0 + GAP);
    let towards_equator = if base.centre_dec_deg > 0.0 { -1.0 } else { 1.0 };
    (0..count)
        .map(|i| {
            let (row, column) = (i / columns, i % columns);
            let dec = base.centre_dec_deg + towards_equator * row as f64 * side_dec_deg;
            let ra =
                base.centre_ra_deg + column as f64 * side_ra_deg / dec.to_radians().cos().max(0.05);
            FieldConfig {
                centre_ra_deg: ra.rem_euclid(360.0),
                centre_dec_deg: dec.clamp(-90.0, 90.0),
                seed: hash3(seed ^ stream::SURVEY, i as i64, 0),
                ..base.clone()
            }
        })
        .collect()
}

/// How many fields like `base` are expected to hold `sources` sources (the
/// evaluation protocol, for instance, wants about 16,000: 14,000 unlabelled
/// and 2,100 labelled). At least one.
pub fn fields_needed(base: &FieldConfig, sources: usize) -> usize {
    let per_field = base.source_density_per_sq_deg * base.area_sq_deg();
    if per_field <= 0.0 {
        return 1;
    }
    ((sources as f64 / per_field).ceil() as usize).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enough_fields_are_planned_for_a_source_count() {
        let base = FieldConfig::default();
        let per_field = base.source_density_per_sq_deg * base.area_sq_deg();
        let n = fields_needed(&base, 16_100);
        assert!(n as f64 * per_field >= 16_100.0 && (n - 1) as f64 * per_field < 16_100.0);
        assert_eq!(
            fields_needed(
                &FieldConfig {
                    source_density_per_sq_deg: 0.0,
                    ..base
                },
                10
            ),
            1
        );
    }

    #[test]
    fn survey_fields_have_distinct_seeds_and_separated_centres() {
        let base = FieldConfig {
            width: 1000,
            height: 1000,
            ..FieldConfig::default()
        };
        let fields = survey_fields(&base, 10, 3);
        assert_eq!(fields.len(), 10);
        let side = 1000.0 * 1.5 / 3600.0;
        for (i, a) in fields.iter().enumerate() {
            for b in &fields[i + 1..] {
                assert_ne!(a.seed, b.seed);
                let dra = (a.centre_ra_deg - b.centre_ra_deg) * a.centre_dec_deg.to_radians().cos();
                let ddec = a.centre_dec_deg - b.centre_dec_deg;
                assert!(
                    dra.abs() > side || ddec.abs() > side,
                    "fields {a:?} and {b:?} overlap"
                );
            }
        }
        assert_eq!(survey_fields(&base, 10, 3), fields, "deterministic");
    }
}
