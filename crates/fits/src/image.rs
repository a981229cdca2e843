//! Opening a FITS image and reading rectangles of one plane.

use std::ops::Range;
use std::path::{Path, PathBuf};

use fitsio::threadsafe_fitsfile::ThreadsafeFitsFile;
use fitsio::FitsFile;
use prospector_image::{Beam, Image, PixelRect};
use prospector_wcs::{CardValue, Wcs};

use crate::beam::{beam_from_header, BeamFault};
use crate::geometry::{Axis, Geometry};
use crate::header::{self, Header, BLOCK};
use crate::paths::literal_cfitsio_path;
use crate::FitsError;

/// Room for a 32768 x 32768 plane twice over (2^31 pixels, 8 GiB as f32).
pub const DEFAULT_MAX_PIXELS: u64 = 1 << 31;

/// How to open an image.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenOptions {
    /// Which 2-D plane to read, counting over the axes beyond the second (the
    /// third axis varies fastest). `None` accepts only images whose extra axes
    /// all have length 1 (FREQ/STOKES of a continuum image), and Obit MFImage
    /// cubes (CTYPE3 `SPECLNMF`, as in MeerKAT/MGCLS products), whose plane 0
    /// is the broadband image; any other cube with several planes then fails
    /// with [`FitsError::PlaneRequired`].
    pub plane: Option<usize>,
    /// A restoring beam to use instead of the header's (or where it has none).
    pub beam: Option<Beam>,
    /// Largest plane (width x height) accepted; for gzip files, the largest
    /// whole array, since cfitsio decompresses the whole file into memory.
    /// Checked on the header before anything is allocated.
    pub max_pixels: u64,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            plane: None,
            beam: None,
            max_pixels: DEFAULT_MAX_PIXELS,
        }
    }
}

/// An open FITS image: header, WCS and beam are read at open; pixels only on
/// request, by rectangle.
///
/// Reads of gzip-compressed files (`.fits.gz`, recognised by content) work the
/// same way, but cfitsio decompresses the whole file into memory when it is
/// opened, so memory then follows the file, not the tile.
///
/// `FitsImage` is `Send` but not `Sync` (a cfitsio handle may not be used
/// from two threads at once). To share one image, wrap it in a `Mutex`; to read
/// in parallel, give each worker its own handle with [`FitsImage::reopen`].
pub struct FitsImage {
    path: PathBuf,
    header: Header,
    geometry: Geometry,
    plane: usize,
    wcs: Wcs,
    beam: Result<Beam, BeamFault>,
    gzip: bool,
    file: ThreadsafeFitsFile,
}

impl std::fmt::Debug for FitsImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FitsImage")
            .field("path", &self.path)
            .field("axes", &self.geometry.axes)
            .field("bitpix", &self.geometry.bitpix)
            .field("plane", &self.plane)
            .finish_non_exhaustive()
    }
}

impl FitsImage {
    /// Reads and checks the header (shape, size limit, file length, WCS, plane)
    /// and opens the file for pixel reads. No pixel is read.
    pub fn open(path: impl AsRef<Path>, options: &OpenOptions) -> Result<FitsImage, FitsError> {
        let path = path.as_ref();
        let gzip = header::is_gzip(path)?;
        let (header, header_bytes) = header::read_primary_header(path, gzip)?;
        if header.value("SIMPLE") != Some(&CardValue::Logical(true)) {
            return Err(FitsError::NotFits {
                path: path.to_path_buf(),
                reason: "SIMPLE is not T: the file says it does not conform to FITS".into(),
            });
        }
        let geometry = Geometry::from_header(&header, path, options.max_pixels, gzip)?;
        let wcs = Wcs::from_header(&header).map_err(|source| FitsError::Wcs {
            path: path.to_path_buf(),
            source,
        })?;
        if wcs.frame().is_fk4() {
            tracing::warn!(
                "{}: coordinates are {} (FK4); they are used as they are, not precessed to J2000",
                path.display(),
                wcs.frame()
            );
        }
        let plane = choose_plane(path, &geometry, options.plane)?;
        let beam = match options.beam {
            Some(beam) => Ok(beam),
            None => beam_from_header(&header),
        };
        check_length(path, header_bytes, &geometry, gzip)?;
        let file = open_cfitsio(path)?;
        Ok(FitsImage {
            path: path.to_path_buf(),
            header,
            geometry,
            plane,
            wcs,
            beam,
            gzip,
            file,
        })
    }

    /// Another handle on the same file, for a worker that reads in parallel
    /// with this one. The header checks are not repeated; cfitsio opens the file
    /// again (for gzip files that means decompressing it again).
    pub fn reopen(&self) -> Result<FitsImage, FitsError> {
        Ok(FitsImage {
            path: self.path.clone(),
            header: self.header.clone(),
            geometry: self.geometry.clone(),
            plane: self.plane,
            wcs: self.wcs.clone(),
            beam: self.beam.clone(),
            gzip: self.gzip,
            file: open_cfitsio(&self.path)?,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// NAXIS1: pixels per row.
    pub fn width(&self) -> usize {
        self.geometry.width()
    }

    /// NAXIS2: rows.
    pub fn height(&self) -> usize {
        self.geometry.height()
    }

    /// The whole image as a rectangle.
    pub fn bounds(&self) -> PixelRect {
        PixelRect::new(0, 0, self.width(), self.height())
    }

    /// Every axis of the primary array (CTYPEn, NAXISn), including degenerate ones.
    pub fn axes(&self) -> &[Axis] {
        &self.geometry.axes
    }

    pub fn bitpix(&self) -> i64 {
        self.geometry.bitpix
    }

    /// The plane that reads return (0 for a plain 2-D image).
    pub fn plane(&self) -> usize {
        self.plane
    }

    pub fn wcs(&self) -> &Wcs {
        &self.wcs
    }

    /// Whether the file is gzip-compressed (decompressed in memory by cfitsio).
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// The restoring beam: the one given in [`OpenOptions::beam`], else the
    /// header's BMAJ/BMIN/BPA, else an AIPS CLEAN HISTORY card.
    pub fn beam(&self) -> Result<Beam, FitsError> {
        self.beam.clone().map_err(|fault| match fault {
            BeamFault::Missing => FitsError::MissingBeam {
                path: self.path.clone(),
            },
            BeamFault::Invalid(reason) => FitsError::InvalidBeam {
                path: self.path.clone(),
                reason,
            },
        })
    }

    /// The value of a header card, by keyword (upper case).
    pub fn header_value(&self, keyword: &str) -> Option<&CardValue> {
        self.header.value(keyword)
    }

    /// All header cards, HISTORY and COMMENT included.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Reads one rectangle of the selected plane with a cfitsio subset read, so
    /// memory follows the rectangle, not the image. BSCALE/BZERO are applied;
    /// BLANK pixels (integer BITPIX), NaN and infinities come back as NaN.
    pub fn read_rect(&self, rect: PixelRect) -> Result<Image, FitsError> {
        // Checked sums: a rectangle near usize::MAX must be refused, not overflow.
        let inside = |start: usize, len: usize, limit: usize| {
            start.checked_add(len).is_some_and(|end| end <= limit)
        };
        if !inside(rect.x0, rect.width, self.width())
            || !inside(rect.y0, rect.height, self.height())
        {
            return Err(FitsError::RectOutOfBounds {
                path: self.path.clone(),
                rect,
                width: self.width(),
                height: self.height(),
            });
        }
        if rect.is_empty() {
            return Ok(Image::filled(rect, f32::NAN));
        }
        let mut ranges: Vec<Range<usize>> = vec![rect.x0..rect.x1(), rect.y0..rect.y1()];
        ranges.extend(
            self.geometry
                .plane_indices(self.plane)
                .into_iter()
                .map(|i| i..i + 1),
        );
        let range_refs: Vec<&Range<usize>> = ranges.iter().collect();
        let fail = |e| FitsError::cfitsio(&self.path, "read pixels", e);
        let mut file = self
            .file
            .lock()
            .map_err(|e| FitsError::cfitsio(&self.path, "lock the file", e))?;
        let hdu = file.primary_hdu().map_err(fail)?;
        let pixels: Vec<f32> = if self.geometry.bitpix == -32 {
            let mut raw: Vec<f32> = hdu.read_region(&mut file, &range_refs).map_err(fail)?;
            raw.iter_mut()
                .filter(|v| !v.is_finite())
                .for_each(|v| *v = f32::NAN);
            raw
        } else {
            let raw: Vec<f64> = hdu.read_region(&mut file, &range_refs).map_err(fail)?;
            let blank = self.blank_value();
            raw.into_iter()
                .map(|v| {
                    if Some(v) == blank || !v.is_finite() {
                        f32::NAN
                    } else {
                        v as f32
                    }
                })
                .collect()
        };
        Image::new(rect, pixels).map_err(|e| FitsError::Cfitsio {
            path: self.path.clone(),
            action: "read pixels",
            message: e.to_string(),
        })
    }

    /// The whole selected plane (bounded by [`OpenOptions::max_pixels`]).
    pub fn read_all(&self) -> Result<Image, FitsError> {
        self.read_rect(self.bounds())
    }

    /// The physical value cfitsio returns for a BLANK pixel of an integer image:
    /// BLANK * BSCALE + BZERO, computed exactly as cfitsio scales raw values.
    fn blank_value(&self) -> Option<f64> {
        if self.geometry.bitpix < 0 {
            return None;
        }
        let blank = match self.header.value("BLANK")? {
            CardValue::Integer(b) => *b as f64,
            _ => return None,
        };
        let number = |k: &str, default: f64| {
            self.header
                .value(k)
                .and_then(|v| v.as_f64())
                .unwrap_or(default)
        };
        Some(blank * number("BSCALE", 1.0) + number("BZERO", 0.0))
    }
}

fn open_cfitsio(path: &Path) -> Result<ThreadsafeFitsFile, FitsError> {
    Ok(FitsFile::open(literal_cfitsio_path(path)?)
        .map_err(|e| FitsError::cfitsio(path, "open the file", e))?
        .threadsafe())
}

/// The file must hold the whole data array the header declares. A gzip file
/// is decompressed once, streaming, to learn its length (cfitsio would
/// otherwise fail, or read zeros, only when the pixels are read).
fn check_length(
    path: &Path,
    header_bytes: u64,
    geometry: &Geometry,
    gzip: bool,
) -> Result<(), FitsError> {
    let actual = if gzip {
        header::decompressed_length(path)?
    } else {
        std::fs::metadata(path)
            .map_err(|source| FitsError::Io {
                path: path.to_path_buf(),
                action: "read the size of",
                source,
            })?
            .len()
    };
    // cfitsio reads whole 2880-byte blocks, so the padding of the last one counts.
    let needed =
        u128::from(header_bytes) + geometry.data_bytes().div_ceil(BLOCK as u128) * BLOCK as u128;
    if u128::from(actual) < needed {
        return Err(FitsError::Truncated {
            path: path.to_path_buf(),
            reason: format!(
                "the header declares {needed} bytes of header and data (padded to 2880-byte blocks) but the {} has {actual}",
                if gzip { "decompressed file" } else { "file" }
            ),
        });
    }
    Ok(())
}

/// Whether the only non-degenerate extra axis is Obit MFImage's `SPECLNMF`
/// (MeerKAT pipelines, MGCLS cubes), whose plane 0 is the broadband image and
/// later planes spectral terms and sub-bands.
fn is_mfimage_cube(geometry: &Geometry) -> bool {
    geometry.axes[2..]
        .iter()
        .filter(|a| a.length > 1)
        .all(|a| a.ctype.starts_with("SPECLNMF"))
}

fn choose_plane(
    path: &Path,
    geometry: &Geometry,
    requested: Option<usize>,
) -> Result<usize, FitsError> {
    let planes = geometry.planes();
    let planes_usize = usize::try_from(planes).unwrap_or(usize::MAX);
    match requested {
        None if planes == 1 => Ok(0),
        None if is_mfimage_cube(geometry) => {
            tracing::info!(
                "{}: Obit MFImage cube (SPECLNMF, {planes} planes): reading plane 0, the broadband image",
                path.display()
            );
            Ok(0)
        }
        None => Err(FitsError::PlaneRequired {
            path: path.to_path_buf(),
            planes: planes_usize,
            axes: geometry.extra_axes_summary(),
        }),
        Some(plane) if (plane as u128) < planes => Ok(plane),
        Some(plane) => Err(FitsError::PlaneOutOfRange {
            path: path.to_path_buf(),
            plane,
            planes: planes_usize,
        }),
    }
}
