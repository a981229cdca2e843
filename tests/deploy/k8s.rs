//! The plain manifests (deploy/k8s): the base is the chart's rendering, and each overlay
//! builds with kustomize into valid objects with the placement it promises.

use crate::support::{assert_valid_kubernetes, deploy_dir, find_in, named, stdout_of_success};
use serde_json::Value;
use std::process::Command;

fn kustomize(overlay: &str) -> Vec<Value> {
    let yaml = stdout_of_success(
        Command::new(prospector_tests::tool("kubectl"))
            .arg("kustomize")
            .arg(deploy_dir().join("k8s/overlays").join(overlay)),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("built.yaml");
    std::fs::write(&path, yaml).unwrap();
    crate::support::yaml_documents(&path)
}

fn scorer_container(objects: &[Value]) -> &Value {
    &named(objects, "Deployment", "prospector-scorer")["spec"]["template"]["spec"]["containers"][0]
}

#[test]
fn the_base_is_the_charts_current_rendering() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("prospector.yaml");
    stdout_of_success(
        Command::new("bash")
            .arg(deploy_dir().join("k8s/generate.sh"))
            .arg(&fresh),
    );
    let committed = std::fs::read_to_string(deploy_dir().join("k8s/base/prospector.yaml")).unwrap();
    assert!(
        std::fs::read_to_string(&fresh).unwrap() == committed,
        "deploy/k8s/base/prospector.yaml is stale: run deploy/k8s/generate.sh and commit it"
    );
}

#[test]
fn both_overlays_build_into_valid_objects_in_their_namespace() {
    for overlay in ["cpu", "gpu"] {
        let objects = kustomize(overlay);
        assert!(objects
            .iter()
            .all(|o| o["metadata"]["namespace"] == "prospector"));
        assert_valid_kubernetes(&objects.iter().collect::<Vec<_>>(), overlay);
    }
}

#[test]
fn the_gpu_overlay_puts_the_cuda_scorer_on_gpu_nodes_and_the_cpu_overlay_does_not() {
    let gpu = kustomize("gpu");
    let scorer = scorer_container(&gpu);
    assert_eq!(scorer["resources"]["limits"]["nvidia.com/gpu"], 1);
    assert!(scorer["image"]
        .as_str()
        .unwrap()
        .contains("prospector-scorer-cuda:"));
    let device = find_in(&scorer["env"], "name", "PROSPECTOR_SCORER_DEVICE");
    assert_eq!(device.unwrap()["value"], "cuda");
    // The patch replaced the device, it did not add a second variable of the same name.
    let names: Vec<&Value> = scorer["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["name"])
        .collect();
    assert_eq!(
        names
            .iter()
            .filter(|n| **n == "PROSPECTOR_SCORER_DEVICE")
            .count(),
        1
    );
    let pod = &named(&gpu, "Deployment", "prospector-scorer")["spec"]["template"]["spec"];
    assert_eq!(pod["nodeSelector"]["nvidia.com/gpu.present"], "true");

    let cpu = kustomize("cpu");
    assert!(!scorer_container(&cpu)
        .to_string()
        .contains("nvidia.com/gpu"));
    assert_eq!(
        named(&cpu, "Deployment", "prospector-scorer")["spec"]["replicas"],
        6
    );
}
