//! Shared helpers for the end-to-end tests: locating the workspace, the shared data
//! and the tools that scripts/bootstrap.sh installs.

use std::path::PathBuf;

/// The workspace root (the folder holding the top-level Cargo.toml).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives inside the workspace")
        .to_path_buf()
}

/// A tool installed by scripts/bootstrap.sh into the project's virtualenv, found on PATH
/// (scripts/env.sh puts the virtualenv first). Panics with how to install it if missing:
/// a test that needs the tool cannot pass without it.
pub fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("`{name}` is not on PATH: run `bash scripts/bootstrap.sh` and `source scripts/env.sh`")
        })
}
