//! FITS images for Prospector: headers, beams, subset reads of any rectangle, and FITS output with WCS.
