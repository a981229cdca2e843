//! Which files `SubmitImage` may read: a path that resolves, symlinks and all, to a
//! regular file under one of the configured input roots, no larger than the limit.

use std::path::{Component, Path, PathBuf};

/// Why a submitted path is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("no path given")]
    Empty,
    #[error("{0}: `..` is not allowed in a submitted path")]
    Traversal(String),
    #[error("{0}: not under any of this server's input roots")]
    OutsideRoots(String),
    #[error("this server has no input roots configured (tiler.input_roots): it accepts no files")]
    NoRoots,
    #[error("{path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("{0}: not a regular file")]
    NotAFile(String),
    #[error("{path}: {size} bytes is over this server's limit of {limit} (tiler.max_image_bytes)")]
    TooLarge { path: String, size: u64, limit: u64 },
}

/// The input roots, resolved once at start-up.
#[derive(Debug, Clone)]
pub struct InputRoots {
    roots: Vec<PathBuf>,
    max_bytes: u64,
}

impl InputRoots {
    /// Resolves each root (it must exist); a missing root is an error naming it.
    pub fn new(roots: &[PathBuf], max_bytes: u64) -> Result<Self, InputError> {
        let roots = roots
            .iter()
            .map(|root| {
                root.canonicalize().map_err(|e| InputError::Unreadable {
                    path: root.display().to_string(),
                    reason: format!("input root: {e}"),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { roots, max_bytes })
    }

    /// The file `requested` names, resolved, with its size; or why it may not be read.
    /// A relative path is taken relative to each root in turn.
    pub fn resolve(&self, requested: &str) -> Result<(PathBuf, u64), InputError> {
        if requested.is_empty() {
            return Err(InputError::Empty);
        }
        if self.roots.is_empty() {
            return Err(InputError::NoRoots);
        }
        let path = Path::new(requested);
        if path.components().any(|c| c == Component::ParentDir) {
            return Err(InputError::Traversal(requested.to_owned()));
        }
        let candidates: Vec<PathBuf> = if path.is_absolute() {
            vec![path.to_path_buf()]
        } else {
            self.roots.iter().map(|root| root.join(path)).collect()
        };
        let mut last_error = None;
        for candidate in candidates {
            // Resolving every symlink first means a link inside a root that points
            // outside it is judged by where it leads.
            let resolved = match candidate.canonicalize() {
                Ok(resolved) => resolved,
                Err(e) => {
                    last_error = Some(InputError::Unreadable {
                        path: requested.to_owned(),
                        reason: e.to_string(),
                    });
                    continue;
                }
            };
            if !self.roots.iter().any(|root| resolved.starts_with(root)) {
                return Err(InputError::OutsideRoots(requested.to_owned()));
            }
            let metadata = std::fs::metadata(&resolved).map_err(|e| InputError::Unreadable {
                path: requested.to_owned(),
                reason: e.to_string(),
            })?;
            if !metadata.is_file() {
                return Err(InputError::NotAFile(requested.to_owned()));
            }
            if metadata.len() > self.max_bytes {
                return Err(InputError::TooLarge {
                    path: requested.to_owned(),
                    size: metadata.len(),
                    limit: self.max_bytes,
                });
            }
            return Ok((resolved, metadata.len()));
        }
        Err(last_error.unwrap_or_else(|| InputError::OutsideRoots(requested.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_under_a_root_within_the_limit_are_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(root.join("sub/a.fits"), vec![0u8; 100]).unwrap();
        std::fs::write(root.join("big.fits"), vec![0u8; 101]).unwrap();
        std::fs::write(outside.join("secret.fits"), b"x").unwrap();
        std::os::unix::fs::symlink(outside.join("secret.fits"), root.join("link.fits")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("linkdir")).unwrap();
        let roots = InputRoots::new(std::slice::from_ref(&root), 100).unwrap();
        let canonical = root.canonicalize().unwrap().join("sub/a.fits");

        let text = |p: &Path| p.display().to_string();
        assert_eq!(roots.resolve("sub/a.fits"), Ok((canonical.clone(), 100)));
        assert_eq!(
            roots.resolve(&text(&root.join("sub/a.fits"))),
            Ok((canonical, 100))
        );
        let traversal = text(&root.join("sub/../../outside/secret.fits"));
        assert_eq!(
            roots.resolve(&traversal),
            Err(InputError::Traversal(traversal.clone()))
        );
        assert_eq!(
            roots.resolve("../outside/secret.fits"),
            Err(InputError::Traversal("../outside/secret.fits".into()))
        );
        let secret = text(&outside.join("secret.fits"));
        assert_eq!(
            roots.resolve(&secret),
            Err(InputError::OutsideRoots(secret.clone()))
        );
        assert_eq!(
            roots.resolve("link.fits"),
            Err(InputError::OutsideRoots("link.fits".into()))
        );
        assert_eq!(
            roots.resolve("linkdir/secret.fits"),
            Err(InputError::OutsideRoots("linkdir/secret.fits".into()))
        );
        assert!(matches!(
            roots.resolve("big.fits"),
            Err(InputError::TooLarge {
                size: 101,
                limit: 100,
                ..
            })
        ));
        assert_eq!(
            roots.resolve("sub"),
            Err(InputError::NotAFile("sub".into()))
        );
        assert!(matches!(
            roots.resolve("missing.fits"),
            Err(InputError::Unreadable { .. })
        ));
        assert_eq!(roots.resolve(""), Err(InputError::Empty));
        let none = InputRoots::new(&[], 100).unwrap();
        assert_eq!(none.resolve("sub/a.fits"), Err(InputError::NoRoots));
    }
}
