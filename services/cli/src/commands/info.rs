//! `prospector info IMAGE.fits`: what an image is, without reading all of it.

use crate::exit::{Exit, ExitContext};
use crate::CliError;
use clap::Args;
use prospector_fits::{FitsImage, ImageInfo, OpenOptions};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The FITS image (gzip-compressed files are read too).
    image: PathBuf,
    /// Plane of a cube to describe (default: the first, or the broadband plane of an MFImage cube).
    #[arg(long)]
    plane: Option<usize>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: InfoArgs) -> Result<(), CliError> {
    let options = OpenOptions {
        plane: args.plane,
        ..OpenOptions::default()
    };
    let image = FitsImage::open(&args.image, &options).or_exit(Exit::BadInput)?;
    let info = ImageInfo::gather(&image).or_exit(Exit::BadInput)?;
    if args.json {
        let text = serde_json::to_string_pretty(&info).or_exit(Exit::Internal)?;
        println!("{text}");
    } else {
        println!("{info}");
    }
    // Describe first, then fail: an all-blank image is worth seeing described.
    info.ensure_has_data().or_exit(Exit::BadInput)
}
