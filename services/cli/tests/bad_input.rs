//! Every file of the bad-input corpus through the `prospector` program: a clear error
//! that names the file, the documented exit code, and never a panic.

use prospector_fits::bad_inputs::{write_corpus, Expectation};
use std::process::Command;

const BAD_INPUT_EXIT: i32 = 3;

fn prospector(args: &[&std::ffi::OsStr]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_prospector"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the prospector binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "prospector panicked on {args:?}:\n{stderr}"
    );
    (out.status.code().expect("exited, not killed"), stderr)
}

#[test]
fn info_rejects_each_bad_file_by_name_with_the_bad_input_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = write_corpus(dir.path()).unwrap();
    assert!(
        corpus.len() >= 15,
        "the corpus shrank to {} files",
        corpus.len()
    );
    for bad in &corpus {
        let (code, stderr) = prospector(&["info".as_ref(), bad.path.as_os_str()]);
        let expect_failure = matches!(
            bad.expectation,
            Expectation::OpenFails(_) | Expectation::NoData
        );
        if expect_failure {
            assert_eq!(
                code,
                BAD_INPUT_EXIT,
                "{} ({}): {stderr}",
                bad.path.display(),
                bad.fault
            );
            let error_line = stderr
                .lines()
                .find(|l| l.starts_with("error: "))
                .unwrap_or_else(|| panic!("no error line for {}: {stderr}", bad.fault));
            assert!(
                error_line.contains(&*bad.path.to_string_lossy()),
                "the error does not name the file: {error_line}"
            );
        } else {
            assert_eq!(
                code,
                0,
                "{} ({}) should be described: {stderr}",
                bad.path.display(),
                bad.fault
            );
        }
    }
}

#[test]
fn a_missing_file_is_a_bad_input_naming_the_path() {
    let (code, stderr) = prospector(&["info".as_ref(), "/nonexistent/field.fits".as_ref()]);
    assert_eq!(code, BAD_INPUT_EXIT);
    assert!(stderr.contains("/nonexistent/field.fits"), "{stderr}");
}
