use prospector_image::{Beam, Image};
use prospector_sources::*;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let (path, w, h) = (
        &a[1],
        a[2].parse::<usize>().unwrap(),
        a[3].parse::<usize>().unwrap(),
    );
    let (bmaj, bmin, cdelt): (f64, f64, f64) = (
        a[4].parse().unwrap(),
        a[5].parse().unwrap(),
        a[6].parse().unwrap(),
    );
    let bytes = std::fs::read(path).unwrap();
    let data: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let img = Image::from_vec(w, h, data).unwrap();
    let beam = PixelBeam::new(
        &Beam {
            major_deg: bmaj,
            minor_deg: bmin,
            pa_deg: 0.0,
        },
        cdelt,
    );
    let mut cfg = FinderConfig::default();
    if a.len() > 7 {
        cfg.tile_core = a[7].parse().unwrap();
    }
    let t = std::time::Instant::now();
    let d = detect(&img, &beam, &cfg).unwrap();
    eprintln!(
        "{:?} box {:?} clipped {:?} rms_map {} mean_map {} islands {} minpix {}",
        t.elapsed(),
        d.background.rms_box(),
        d.background.clipped(),
        d.background.rms_is_map(),
        d.background.mean_is_map(),
        d.islands.len(),
        beam.default_min_island_pixels()
    );
    let (m, r) = d.background.maps(&img);
    std::fs::write(
        "/tmp/pyb/our_rms.f32",
        r.pixels()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    std::fs::write(
        "/tmp/pyb/our_mean.f32",
        m.pixels()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    for i in &d.islands {
        println!(
            "{:.3} {:.3} {} {:.5} {:.5}",
            i.x, i.y, i.pixels, i.peak_flux, i.total_flux
        );
    }
}
