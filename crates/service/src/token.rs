//! The bearer token that `SubmitImage` and `SubmitLabels` require when configured.

use std::path::{Path, PathBuf};

/// Why the API token cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("cannot read the API token file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the API token file {0} is empty")]
    Empty(PathBuf),
}

/// The bearer token submissions must carry, read from `grpc.api_token_file`. Its
/// `Debug` form never shows it, so it cannot reach a log.
#[derive(Clone)]
pub struct ApiToken(String);

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

impl ApiToken {
    pub fn read(path: &Path) -> Result<Self, TokenError> {
        let text = std::fs::read_to_string(path).map_err(|source| TokenError::Read {
            path: path.to_owned(),
            source,
        })?;
        let token = text.trim();
        if token.is_empty() {
            return Err(TokenError::Empty(path.to_owned()));
        }
        Ok(Self(token.to_owned()))
    }

    /// The token `grpc.api_token_file` names, if it names one.
    pub fn from_config(grpc: &prospector_config::GrpcConfig) -> Result<Option<Self>, TokenError> {
        grpc.api_token_file.as_deref().map(Self::read).transpose()
    }

    /// `Ok` when `authorization` (the request's `authorization` header) is
    /// `Bearer <token>`; else why not, for an `UNAUTHENTICATED` answer.
    pub fn check(&self, authorization: Option<&str>) -> Result<(), &'static str> {
        match authorization {
            None => Err("this call needs an `authorization: Bearer <token>` header"),
            Some(header) if self.admits(header) => Ok(()),
            Some(_) => Err("the bearer token is not valid"),
        }
    }

    /// Compares every byte whatever the first difference, so the time taken does not
    /// reveal how much of a guess was right.
    fn admits(&self, authorization: &str) -> bool {
        let Some(given) = authorization.strip_prefix("Bearer ") else {
            return false;
        };
        let (given, expected) = (given.trim().as_bytes(), self.0.as_bytes());
        given.len() == expected.len()
            && given
                .iter()
                .zip(expected)
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_is_admitted_and_it_never_shows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "s3cret\n").unwrap();
        let token = ApiToken::read(&path).unwrap();
        assert_eq!(token.check(Some("Bearer s3cret")), Ok(()));
        assert!(token.check(None).unwrap_err().contains("authorization"));
        for wrong in ["Bearer s3cres", "Bearer s3cret2", "s3cret", "Basic s3cret"] {
            assert_eq!(
                token.check(Some(wrong)),
                Err("the bearer token is not valid")
            );
        }
        assert!(!format!("{token:?}").contains("s3cret"));
        std::fs::write(&path, " \n").unwrap();
        assert!(matches!(ApiToken::read(&path), Err(TokenError::Empty(_))));
    }
}
