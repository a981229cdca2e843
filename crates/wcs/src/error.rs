//! Why a header does not describe a usable celestial WCS.

/// A fault in the WCS cards of a header. The messages name the keyword at fault;
/// callers that read files add the file name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WcsError {
    #[error("no CTYPEn names an RA---/DEC-- axis")]
    NoCelestialAxes,
    #[error("only one celestial axis ({0}); RA and DEC are both needed")]
    OneCelestialAxis(String),
    #[error("the celestial axes are FITS axes {lng_axis} and {lat_axis}; they must be the image axes 1 and 2")]
    CelestialAxesNotImageAxes { lng_axis: usize, lat_axis: usize },
    #[error("unsupported projection '{0}' (supported: SIN, TAN, NCP, ARC, CAR)")]
    UnsupportedProjection(String),
    #[error("RA and DEC axes use different projections ('{0}' and '{1}')")]
    MixedProjections(String, String),
    #[error("no pixel scale: neither CDELT{axis} nor a CD matrix is given")]
    NoPixelScale { axis: usize },
    #[error("{keyword} = {value}: {reason}")]
    InvalidValue {
        keyword: String,
        value: f64,
        reason: &'static str,
    },
    #[error("the pixel-to-sky matrix is singular (zero pixel scale or degenerate CD/PC)")]
    SingularMatrix,
    #[error("unsupported celestial reference system RADESYS = '{0}'")]
    UnsupportedFrame(String),
    #[error("the native pole cannot be placed for this CRVAL/LONPOLE/LATPOLE combination")]
    ImpossiblePole,
}
