//! Exit codes of the `prospector` program, for imaging pipelines that call it as a
//! hook. They are part of the interface: never renumber one.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success (for `submit --wait`: the image is complete) |
//! | 1 | an internal error (a bug: please report it) |
//! | 2 | the command line is wrong (clap's own code) |
//! | 3 | an input file is unusable: not FITS, truncated, no WCS, no beam, too large... |
//! | 4 | an output could not be written (permissions, disk full) |
//! | 5 | the server could not be reached or refused the request (credentials, limits) |
//! | 6 | the image was processed but failed in the pipeline (reason printed) |

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Internal = 1,
    BadInput = 3,
    Output = 4,
    /// The server is unreachable or refused the credentials.
    Unavailable = 5,
    /// The image was processed and failed in the pipeline.
    PipelineFailed = 6,
}

/// An error for the user: what went wrong (naming the file or server) and which
/// exit code says so.
#[derive(Debug)]
pub struct CliError {
    pub exit: Exit,
    pub error: anyhow::Error,
}

impl CliError {
    pub fn new(exit: Exit, error: impl Into<anyhow::Error>) -> Self {
        Self {
            exit,
            error: error.into(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `{:#}` prints the whole chain of causes on one line: "reading x.fits: truncated".
        write!(f, "{:#}", self.error)
    }
}

/// Attaches an exit code to any error.
pub trait ExitContext<T> {
    fn or_exit(self, exit: Exit) -> Result<T, CliError>;
}

impl<T, E: Into<anyhow::Error>> ExitContext<T> for Result<T, E> {
    fn or_exit(self, exit: Exit) -> Result<T, CliError> {
        self.map_err(|e| CliError::new(exit, e))
    }
}
