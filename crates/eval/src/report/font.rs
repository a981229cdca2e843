//! The font the plots' text is drawn with. plotters' `ab_glyph` backend needs the font
//! bytes registered once; they come from a TrueType file (Debian's fonts-dejavu-core,
//! installed by scripts/bootstrap.sh), so no system font lookup is involved.

use std::path::PathBuf;
use std::sync::OnceLock;

use plotters::style::FontStyle;

use crate::error::EvalError;

/// The family name plots ask for.
pub const FAMILY: &str = "sans-serif";

/// Environment variable naming another TrueType file to use.
pub const FONT_ENV: &str = "PROSPECTOR_FONT";

const CANDIDATES: [&str; 2] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
];

static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();

fn register() -> Result<(), String> {
    let paths: Vec<PathBuf> = match std::env::var_os(FONT_ENV) {
        Some(p) => vec![PathBuf::from(p)],
        None => CANDIDATES.iter().map(PathBuf::from).collect(),
    };
    let (path, bytes) = paths
        .iter()
        .find_map(|p| std::fs::read(p).ok().map(|b| (p, b)))
        .ok_or_else(|| {
            format!(
                "no font file: looked for {}; install fonts-dejavu-core (scripts/bootstrap.sh) \
                 or set {FONT_ENV} to a TrueType file",
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
    // Registered once per process and used until exit: leaking the bytes is intended.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    for style in [FontStyle::Normal, FontStyle::Bold] {
        plotters::style::register_font(FAMILY, style, bytes)
            .map_err(|_| format!("{}: not a usable TrueType font", path.display()))?;
    }
    Ok(())
}

/// Registers the font (once per process); an error says where it looked.
pub fn ensure_font() -> Result<(), EvalError> {
    REGISTERED
        .get_or_init(register)
        .clone()
        .map_err(|reason| EvalError::Plot {
            what: "text".into(),
            reason,
        })
}
