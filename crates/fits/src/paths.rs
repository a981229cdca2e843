//! Paths handed to cfitsio, which reads its own syntax into file names.

use std::path::Path;

use crate::FitsError;

/// The path as cfitsio will take it literally, or an error: cfitsio needs
/// UTF-8 here (the fitsio crate panics otherwise) and reads `[...]`, `(...)`,
/// a trailing `+N`, a leading `!` and `-` as its extended file-name syntax, so
/// such names would silently open something else.
pub(crate) fn literal_cfitsio_path(path: &Path) -> Result<&str, FitsError> {
    let unsupported = |reason: &str| FitsError::UnsupportedPath {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let text = path
        .to_str()
        .ok_or_else(|| unsupported("the path is not valid UTF-8"))?;
    if text.contains(['[', ']', '(', ')']) {
        return Err(unsupported(
            "brackets and parentheses are cfitsio filter syntax",
        ));
    }
    if text.starts_with('!') || text == "-" {
        return Err(unsupported("a leading '!' or a bare '-' is cfitsio syntax"));
    }
    let after_plus = text.rsplit_once('+').map(|(_, n)| n);
    if after_plus.is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())) {
        return Err(unsupported("a trailing '+N' selects an HDU in cfitsio"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cfitsio_syntax_in_names_is_refused() {
        assert!(literal_cfitsio_path(Path::new("/data/img.fits")).is_ok());
        assert!(literal_cfitsio_path(Path::new("/data/a+b.fits")).is_ok());
        for bad in [
            "/data/img.fits[1]",
            "img(t).fits",
            "!img.fits",
            "-",
            "/data/img.fits+2",
        ] {
            let err = literal_cfitsio_path(Path::new(bad)).unwrap_err();
            assert_eq!(err.kind(), "unsupported_path", "{bad}");
        }
    }
}
