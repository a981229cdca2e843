//! The Dockerfiles: hadolint-clean, and consistent with the repository and the chart.
//! They cannot be built on these machines (no Docker engine), so these checks are what
//! stands between a typo and a failed image build.

use crate::support::{chart_dir, deploy_dir, stdout_of_success, yaml_document};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

const DOCKERFILES: [&str; 2] = ["Dockerfile", "Dockerfile.scorer-cuda"];

fn dockerfile(name: &str) -> PathBuf {
    deploy_dir().join("docker").join(name)
}

/// The instructions of a Dockerfile: continuation lines joined, comments dropped.
fn instructions(name: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dockerfile(name)).unwrap();
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
        match line.strip_suffix('\\') {
            Some(start) => current.push_str(start),
            None => {
                current.push_str(line);
                if !current.trim().is_empty() {
                    joined.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    joined
        .into_iter()
        .map(|line| {
            let (keyword, args) = line
                .trim()
                .split_once(char::is_whitespace)
                .unwrap_or((&line, ""));
            (keyword.to_uppercase(), args.trim().to_string())
        })
        .collect()
}

/// Defaults of the ARGs declared before the first FROM (usable in FROM lines).
fn global_args(instructions: &[(String, String)]) -> HashMap<String, String> {
    instructions
        .iter()
        .take_while(|(keyword, _)| keyword != "FROM")
        .filter(|(keyword, _)| keyword == "ARG")
        .filter_map(|(_, args)| args.split_once('='))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

fn words(args: &str) -> Vec<&str> {
    args.split_whitespace().collect()
}

#[test]
fn dockerfiles_pass_hadolint() {
    for name in DOCKERFILES {
        stdout_of_success(Command::new(prospector_tests::tool("hadolint")).arg(dockerfile(name)));
    }
}

#[test]
fn every_base_image_is_pinned_to_a_tag_that_is_not_latest() {
    for name in DOCKERFILES {
        let instructions = instructions(name);
        let args = global_args(&instructions);
        let mut stages: Vec<String> = Vec::new();
        for (_, from) in instructions.iter().filter(|(k, _)| k == "FROM") {
            let parts = words(from);
            let mut image = parts[0].to_string();
            for (arg, value) in &args {
                image = image.replace(&format!("${{{arg}}}"), value);
            }
            if !stages.contains(&image) {
                let tag = image
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .split_once(':')
                    .map(|(_, t)| t);
                assert!(
                    matches!(tag, Some(t) if t != "latest") || image.contains("@sha256:"),
                    "{name}: base image {image} is not pinned to a tag"
                );
            }
            if let Some(alias) = parts.iter().position(|w| w.eq_ignore_ascii_case("AS")) {
                stages.push(parts[alias + 1].to_string());
            }
        }
    }
}

#[test]
fn every_copied_source_exists_and_is_in_the_build_context() {
    let root = prospector_tests::workspace_root();
    for name in DOCKERFILES {
        let ignore = std::fs::read_to_string(dockerfile(&format!("{name}.dockerignore")))
            .unwrap_or_else(|_| panic!("{name} has no {name}.dockerignore next to it"));
        let included: Vec<&str> = ignore.lines().filter_map(|l| l.strip_prefix('!')).collect();
        for (_, args) in instructions(name).iter().filter(|(k, _)| k == "COPY") {
            let parts: Vec<&str> = words(args)
                .into_iter()
                .filter(|w| !w.starts_with("--"))
                .collect();
            if words(args).iter().any(|w| w.starts_with("--from=")) {
                continue;
            }
            for source in &parts[..parts.len() - 1] {
                assert!(
                    root.join(source).exists(),
                    "{name}: COPY source {source} does not exist"
                );
                let top = source.trim_start_matches("./").split('/').next().unwrap();
                assert!(
                    included.contains(&top),
                    "{name}: COPY source {source} is excluded by {name}.dockerignore"
                );
            }
        }
    }
}

#[test]
fn images_run_as_the_non_root_user_the_chart_expects() {
    let values = yaml_document(&chart_dir().join("values.yaml"));
    let chart_uid = values["podSecurityContext"]["runAsUser"].as_u64().unwrap();
    for name in DOCKERFILES {
        let instructions = instructions(name);
        let final_stage = instructions.iter().rposition(|(k, _)| k == "FROM").unwrap();
        let user = instructions[final_stage..]
            .iter()
            .rfind(|(k, _)| k == "USER")
            .unwrap_or_else(|| {
                panic!("{name}: the final stage sets no USER and would run as root")
            });
        let uid: u64 = user
            .1
            .split(':')
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|_| {
                panic!(
                    "{name}: USER {} is not numeric; runAsNonRoot needs a numeric uid",
                    user.1
                )
            });
        assert_ne!(uid, 0, "{name} runs as root");
        assert_eq!(
            uid, chart_uid,
            "{name}: USER {uid} differs from the chart's runAsUser"
        );
    }
}

#[test]
fn the_images_hold_every_binary_the_chart_runs() {
    let cpu = std::fs::read_to_string(dockerfile("Dockerfile")).unwrap();
    let cuda = std::fs::read_to_string(dockerfile("Dockerfile.scorer-cuda")).unwrap();
    for component in ["tiler", "extractor", "scorer", "evaluator"] {
        let binary = format!("prospector-{component}");
        assert!(
            cpu.contains(&format!("-p {binary}"))
                && cpu.contains(&format!("target/release/{binary}")),
            "deploy/docker/Dockerfile does not build and copy {binary}"
        );
        let package =
            prospector_tests::workspace_root().join(format!("services/{component}/Cargo.toml"));
        assert!(std::fs::read_to_string(&package)
            .unwrap()
            .contains(&format!("name = \"{binary}\"")));
    }
    assert!(
        cuda.contains("/usr/local/bin/prospector-scorer"),
        "the CUDA image lacks the scorer"
    );
}

/// The top-level folders of the workspace members named in the root Cargo.toml.
fn workspace_member_folders() -> Vec<String> {
    let manifest =
        std::fs::read_to_string(prospector_tests::workspace_root().join("Cargo.toml")).unwrap();
    let members = manifest
        .split_once("members = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(list, _)| list)
        .expect("the root Cargo.toml lists its members");
    let mut folders: Vec<String> = members
        .split(',')
        .map(|m| m.trim().trim_matches('"'))
        .filter(|m| !m.is_empty())
        .map(|m| m.split('/').next().unwrap().to_string())
        .collect();
    folders.dedup();
    folders
}

#[test]
fn the_image_build_copies_every_workspace_member() {
    let copied: Vec<String> = instructions("Dockerfile")
        .iter()
        .filter(|(keyword, args)| keyword == "COPY" && !args.contains("--from="))
        .flat_map(|(_, args)| {
            let parts = words(args);
            parts[..parts.len() - 1]
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    for folder in workspace_member_folders() {
        assert!(
            copied.contains(&folder),
            "deploy/docker/Dockerfile does not copy {folder}/, so cargo cannot load the workspace"
        );
    }
}
