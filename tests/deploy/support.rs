//! Running the validators and reading what they produce.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The Kubernetes versions rendered manifests must be valid for: the oldest the chart
/// supports (Chart.yaml kubeVersion) and the newest kubernetes-validate knows.
pub const KUBERNETES_VERSIONS: [&str; 2] = ["1.29.0", "1.37.0"];

pub fn deploy_dir() -> PathBuf {
    prospector_tests::workspace_root().join("deploy")
}

pub fn chart_dir() -> PathBuf {
    deploy_dir().join("helm/prospector")
}

/// The project virtualenv's Python, where bootstrap.sh installs the Python validators.
pub fn python() -> PathBuf {
    if let Some(venv) = std::env::var_os("PROSPECTOR_VENV") {
        let candidate = PathBuf::from(venv).join("bin/python");
        if candidate.is_file() {
            return candidate;
        }
    }
    prospector_tests::tool("python3")
}

/// Runs a command to completion; panics (naming the command) if it cannot start.
pub fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"))
}

/// What a command printed, standard output then standard error.
pub fn printed(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs a command that must succeed and returns its standard output; on failure panics
/// with the command and everything it printed.
pub fn stdout_of_success(command: &mut Command) -> String {
    let out = run(command);
    assert!(
        out.status.success(),
        "{command:?} failed ({}):\n{}",
        out.status,
        printed(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The element of a JSON array whose `key` equals `value`, if any.
pub fn find_in<'a>(array: &'a Value, key: &str, value: &str) -> Option<&'a Value> {
    array.as_array()?.iter().find(|item| item[key] == value)
}

fn parse_json(text: &str, what: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|err| panic!("{what} is not JSON: {err}"))
}

/// Every document of a YAML file, as JSON values (PyYAML, the parser kubectl-era tools share).
pub fn yaml_documents(path: &Path) -> Vec<Value> {
    let script = "import json,sys,yaml\n\
                  json.dump(list(yaml.safe_load_all(open(sys.argv[1], encoding='utf-8'))), sys.stdout)";
    let text = stdout_of_success(Command::new(python()).args(["-c", script]).arg(path));
    match parse_json(&text, &path.display().to_string()) {
        Value::Array(documents) => documents,
        other => panic!(
            "{} did not parse to a list of documents: {other}",
            path.display()
        ),
    }
}

/// The single document of a YAML file.
pub fn yaml_document(path: &Path) -> Value {
    let mut documents = yaml_documents(path);
    assert_eq!(
        documents.len(),
        1,
        "{} should hold one YAML document",
        path.display()
    );
    documents.remove(0)
}

fn helm_tool() -> Command {
    let mut command = Command::new(python());
    command.arg(deploy_dir().join("tools/helm_chart.py"));
    command
}

/// `helm template` of the chart with extra arguments (-f FILE, --set A=B, --set-json A=J).
pub fn render_chart_output(args: &[&str]) -> Output {
    run(helm_tool()
        .arg("template")
        .arg(chart_dir())
        .arg("--json")
        .args(args))
}

/// The chart's rendered objects; panics with the renderer's message if rendering fails.
pub fn render_chart(args: &[&str]) -> Vec<Value> {
    let out = render_chart_output(args);
    assert!(
        out.status.success(),
        "the chart does not render with {args:?}:\n{}",
        printed(&out)
    );
    match parse_json(&String::from_utf8_lossy(&out.stdout), "rendered chart") {
        Value::Array(objects) => objects,
        other => panic!("the renderer printed no list: {other}"),
    }
}

/// `helm lint --strict` of the chart; returns the linter's report on failure.
pub fn lint_chart(args: &[&str]) -> Result<String, String> {
    let out = run(helm_tool().arg("lint").arg(chart_dir()).args(args));
    let report = printed(&out);
    if out.status.success() {
        Ok(report)
    } else {
        Err(report)
    }
}

/// Objects whose kinds come from CRDs (KEDA, Prometheus Operator), which the Kubernetes
/// OpenAPI schemas do not cover; the tests check them structurally instead.
pub fn is_custom_resource(object: &Value) -> bool {
    let api_version = str_at(object, "/apiVersion");
    api_version.starts_with("keda.sh/") || api_version.starts_with("monitoring.coreos.com/")
}

/// Validates built-in objects with `kubernetes-validate --strict` (unknown fields are
/// errors) for every version in KUBERNETES_VERSIONS. Panics listing what failed.
pub fn assert_valid_kubernetes(objects: &[&Value], context: &str) {
    assert!(!objects.is_empty(), "{context}: nothing to validate");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let files: Vec<PathBuf> = objects
        .iter()
        .enumerate()
        .map(|(index, object)| {
            let path = dir.path().join(format!("{index:03}.yaml"));
            std::fs::write(&path, object.to_string()).expect("write a manifest");
            path
        })
        .collect();
    for version in KUBERNETES_VERSIONS {
        let out = run(Command::new(prospector_tests::tool("kubernetes-validate"))
            .args(["--strict", "-k", version])
            .args(&files));
        let report = printed(&out);
        let passed = report
            .lines()
            .filter(|l| l.contains(" passed for resource "))
            .count();
        assert!(
            out.status.success() && passed == files.len() && !report.contains("WARN"),
            "{context}: {passed} of {} objects passed kubernetes-validate --strict for {version}:\n{report}",
            files.len()
        );
    }
}

/// The string at a JSON pointer; panics naming the pointer if absent.
pub fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {value}"))
}

/// The objects of one kind.
pub fn of_kind<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["kind"] == kind).collect()
}

/// The object of a kind and name; panics listing what there is if absent.
pub fn named<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| {
            let present: Vec<String> = objects
                .iter()
                .map(|o| format!("{}/{}", o["kind"], o["metadata"]["name"]))
                .collect();
            panic!("no {kind} named {name}; rendered: {present:?}")
        })
}

/// Whether every label of `selector` is among `labels`.
pub fn selects(selector: &Value, labels: &Value) -> bool {
    selector.as_object().is_some_and(|pairs| {
        !pairs.is_empty() && pairs.iter().all(|(k, v)| labels.get(k) == Some(v))
    })
}
