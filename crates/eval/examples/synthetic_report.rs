//! Runs the full protocol with the synthetic scorer of the tests (scores from two
//! Gaussians, expected AUC Phi(d / sqrt 2)) and writes the report, to look at the page
//! the real model's evaluation will produce:
//!
//!     cargo run -p prospector-eval --example synthetic_report -- /tmp/synthetic-report
//!
//! Writes <dir>/runs/*.json|csv, <dir>/summary.json|csv, <dir>/report.html and the PNGs.
//! Run it again on the same folder and the saved runs are reused (only the report is
//! rebuilt).

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;

use prospector_eval::protocol::{run_protocol, summarize, write_summary, ProtocolSettings, NCC};
use prospector_eval::report::{build_report, write_report, ReportSettings};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: synthetic_report <output folder>")?,
    );
    let dataset = common::synthetic_dataset(58, 2050, 1500);
    let settings = ProtocolSettings {
        jobs: 2,
        ..ProtocolSettings::default()
    };
    let results = run_protocol(&dataset, &settings, &common::factory(&dataset, 1.3), &out)?;
    let summary = summarize(&results, NCC)?;
    write_summary(&summary, &out)?;
    let report = build_report(&results, &summary, &ReportSettings::default())?;
    write_report(&report, &out.join("report.html"))?;
    for image in &report.images {
        std::fs::write(out.join(format!("{}.png", image.name)), &image.png.bytes)?;
    }
    println!(
        "expected AUC {:.3}",
        prospector_eval::metrics::normal_cdf(1.3 / 2f64.sqrt())
    );
    for c in &summary.configs {
        let s = &c.scores[NCC];
        println!(
            "{}: AUC {:.3} ± {:.3}, F1 {:.3}, F2 {:.3}",
            c.config, s.auc.mean, s.auc.std, s.f1.mean, s.f2.mean
        );
    }
    Ok(())
}
