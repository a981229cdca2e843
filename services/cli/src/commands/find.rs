//! `prospector find IMAGE.fits --out DIR`: PyBDSF-style source finding.

use crate::exit::{Exit, ExitContext};
use crate::CliError;
use anyhow::anyhow;
use clap::{Args, ValueEnum};
use prospector_fits::{FitsImage, OpenOptions};
use prospector_image::Beam;
use prospector_sources::cutout::Stretch;
use prospector_sources::{find_sources, CutoutOutput, FindOptions, FinderConfig, SourcesError};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct FindArgs {
    /// The FITS image.
    image: PathBuf,
    /// Folder for the catalogue (CSV, FITS table), ds9 regions, rms and mean maps and cutouts.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    finder: FinderArgs,
    /// Which cutouts to write.
    #[arg(long, value_enum, default_value_t = CutoutsArg::All)]
    cutouts: CutoutsArg,
}

/// Source-finder settings shared by every command that finds sources.
#[derive(Debug, Args)]
pub struct FinderArgs {
    /// Island threshold, in units of the local rms above the local mean (PyBDSF's thresh_isl).
    #[arg(long, default_value_t = 3.0)]
    thresh_isl: f64,
    /// Peak threshold an island must reach, in units of the local rms (PyBDSF's thresh_pix).
    #[arg(long, default_value_t = 5.0)]
    thresh_pix: f64,
    /// Side of the model-sized cutouts in pixels.
    #[arg(long, default_value_t = 64)]
    cutout_size: usize,
    /// Cutout normalisation: min-max to [0,1] (the study's), or an asinh stretch first.
    #[arg(long, value_enum, default_value_t = StretchArg::MinMax)]
    stretch: StretchArg,
    /// Plane of a cube (default: the first, or the broadband plane of an MFImage cube).
    #[arg(long)]
    plane: Option<usize>,
    /// Beam to use when the header has none: "BMAJ,BMIN,BPA" in arcsec, arcsec, degrees.
    #[arg(long, value_parser = parse_beam)]
    beam: Option<Beam>,
    /// Worker threads (0 = all cores). Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CutoutsArg {
    /// The model-sized cutout set and every raw cutout as FITS with its WCS.
    All,
    /// The model-sized cutout set only.
    Set,
    /// No cutouts: catalogue, regions and maps only.
    None,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum StretchArg {
    MinMax,
    Asinh,
}

impl FinderArgs {
    pub fn finder_config(&self) -> FinderConfig {
        let mut config = FinderConfig {
            thresh_isl: self.thresh_isl,
            thresh_pix: self.thresh_pix,
            threads: self.threads,
            ..FinderConfig::default()
        };
        config.cutouts.size = self.cutout_size;
        if let StretchArg::Asinh = self.stretch {
            config.cutouts.stretch = Stretch::Asinh { softening_rms: 3.0 };
        }
        config
    }

    pub fn open_options(&self) -> OpenOptions {
        OpenOptions {
            plane: self.plane,
            beam: self.beam,
            ..OpenOptions::default()
        }
    }
}

fn parse_beam(text: &str) -> Result<Beam, String> {
    let parts: Vec<f64> = text
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{text:?}: {e}"))?;
    match parts[..] {
        [major, minor, pa] if major > 0.0 && minor > 0.0 => Ok(Beam {
            major_deg: major / 3600.0,
            minor_deg: minor / 3600.0,
            pa_deg: pa,
        }),
        _ => Err(format!(
            "{text:?}: expected BMAJ,BMIN,BPA (arcsec, arcsec, degrees), both axes > 0"
        )),
    }
}

pub fn run(args: FindArgs) -> Result<(), CliError> {
    let open = args.finder.open_options();
    // Open first so that an unusable image is reported as bad input, naming the file,
    // before anything is written.
    let image = FitsImage::open(&args.image, &open).or_exit(Exit::BadInput)?;
    image.beam().or_exit(Exit::BadInput)?;
    let options = FindOptions {
        finder: args.finder.finder_config(),
        beam: args.finder.beam,
        plane: args.finder.plane,
        cutouts: match args.cutouts {
            CutoutsArg::All => CutoutOutput::All,
            CutoutsArg::Set => CutoutOutput::SetOnly,
            CutoutsArg::None => CutoutOutput::None,
        },
    };
    let summary = find_sources(&args.image, &options, &args.out).map_err(|e| {
        let exit = match e {
            SourcesError::Io { .. } | SourcesError::Csv { .. } | SourcesError::Cutouts(_) => {
                Exit::Output
            }
            _ => Exit::BadInput,
        };
        CliError::new(exit, anyhow!("{}: {e}", args.image.display()))
    })?;
    println!(
        "{}: {} sources (image id {}), written to {}",
        args.image.display(),
        summary.sources,
        &summary.image_id[..16],
        summary.out_dir.display()
    );
    Ok(())
}
