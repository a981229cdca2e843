//! The physical limit beside the pipeline: how long merely reading an image's bytes
//! takes, and how fast the VQ-VAE could go if every one of its FLOPs ran at the speed of
//! libtorch's own large matrix product on this machine.

use crate::finder::{rate, SimField};
use crate::report::{Cell, Summary, Table};
use crate::vqvae::VqResults;
use crate::{io_error, BenchError, BenchOptions, Result};
use prospector_model::{forward_flops, set_threads, Preset, TrainConfig};
use std::io::Read;
use std::path::Path;
use std::time::Instant;

/// Side of the square matrices whose product measures the peak.
const MATMUL_SIDE: i64 = 2048;
/// A training step: the forward pass and a backward pass of about twice its cost.
const TRAIN_FLOPS_PER_FORWARD: f64 = 3.0;

pub fn run(
    options: &BenchOptions,
    fields: &[SimField],
    ours_by_side: &[(usize, Summary)],
    vq: &VqResults,
) -> Result<Table> {
    let mut table = Table::new(
        "The physical limit beside the pipeline",
        "in-process: read(2) of the FITS file; a 2048² f32 matmul in libtorch (tch)",
        &["work", "physical limit", "Prospector", "Prospector / limit"],
    );
    for (side, finder) in ours_by_side {
        let Some(field) = fields.iter().find(|f| f.side == *side) else {
            continue;
        };
        println!("limits: reading the {side}² field's bytes");
        let read = read_time(&field.path, options.runs.max(3))?;
        let gb_s = rate(read, field.image_bytes() / 1e9).median;
        table.push(vec![
            Cell::text(format!("find sources in a {side}² field (s)")),
            Cell::text(format!(
                "read its bytes: {:.3} s ({gb_s:.1} GB/s)",
                read.median
            )),
            Cell::figure(*finder, "s", 2),
            Cell::text(format!("{:.0}×", finder.median / read.median)),
        ]);
    }
    println!("limits: libtorch matmul peak");
    let peak = matmul_gflops(options.threads, options.runs.max(5))?;
    let arch = TrainConfig::preset(Preset::Baseline).architecture;
    let forward = forward_flops(&arch) as f64;
    table.push(vec![
        Cell::text(format!(
            "libtorch f32 matmul {MATMUL_SIDE}², {} threads (GFLOP/s)",
            options.threads
        )),
        Cell::figure(peak, "GFLOP/s", 1),
        Cell::text("—"),
        Cell::text("—"),
    ]);
    for (what, ours, flops) in [
        ("VQ-VAE inference (images/s)", vq.ours_score, forward),
        (
            "VQ-VAE training (images/s)",
            vq.ours_train,
            TRAIN_FLOPS_PER_FORWARD * forward,
        ),
    ] {
        let at_peak = peak.median * 1e9 / flops;
        table.push(vec![
            Cell::text(what),
            Cell::text(format!(
                "{at_peak:.0} images/s ({:.1} MFLOP per image at the matmul peak)",
                flops / 1e6
            )),
            Cell::figure(ours, "", 1),
            Cell::text(format!("{:.1}%", 100.0 * ours.median / at_peak)),
        ]);
    }
    table.note("Reading is from the page cache (the field was just written and read): a cold read from disk is slower, so the ratio is the pipeline's cost over the best case of I/O.");
    table.note(format!(
        "Model FLOPs counted from the network's layers (prospector_model::forward_flops: convolutions and transposed convolutions as 2 × k² × C_in × C_out per position, plus the quantiser's distances to all {} codes); training as {TRAIN_FLOPS_PER_FORWARD}× the forward pass. Small 64² convolutions reach a fraction of a large matmul's rate.",
        arch.num_codes
    ));
    Ok(table)
}

/// Seconds to read every byte of `path`, `runs` times.
fn read_time(path: &Path, runs: usize) -> Result<Summary> {
    let mut buffer = vec![0u8; 8 << 20];
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let mut file =
            std::fs::File::open(path).map_err(io_error(format!("opening {}", path.display())))?;
        let mut total = 0usize;
        loop {
            let n = file
                .read(&mut buffer)
                .map_err(io_error(format!("reading {}", path.display())))?;
            if n == 0 {
                break;
            }
            total += n;
        }
        times.push(start.elapsed().as_secs_f64());
        std::hint::black_box(total);
    }
    Summary::of(&times).ok_or_else(|| BenchError::Run("no read measured".into()))
}

/// GFLOP/s of a large f32 matrix product in libtorch on `threads` threads.
fn matmul_gflops(threads: usize, runs: usize) -> Result<Summary> {
    set_threads(threads);
    let options = (tch::Kind::Float, tch::Device::Cpu);
    let a = tch::Tensor::f_randn([MATMUL_SIDE, MATMUL_SIDE], options)
        .map_err(|e| BenchError::Run(e.to_string()))?;
    let b = tch::Tensor::f_randn([MATMUL_SIDE, MATMUL_SIDE], options)
        .map_err(|e| BenchError::Run(e.to_string()))?;
    let flops = 2.0 * (MATMUL_SIDE as f64).powi(3);
    let mut rates = Vec::new();
    // The first product warms the allocator and the threads: not counted.
    for k in 0..=runs {
        let start = Instant::now();
        // libtorch computes eagerly: the product exists when the call returns.
        let _product = a.f_matmul(&b).map_err(|e| BenchError::Run(e.to_string()))?;
        if k > 0 {
            rates.push(flops / start.elapsed().as_secs_f64() / 1e9);
        }
    }
    Summary::of(&rates).ok_or_else(|| BenchError::Run("no matmul measured".into()))
}
