//! The Helm chart: lints clean, renders valid Kubernetes objects for every supported
//! combination of values, and encodes the operational promises the README makes.

use crate::support::{
    assert_valid_kubernetes, deploy_dir, find_in, is_custom_resource, lint_chart, named, of_kind,
    render_chart, render_chart_output, selects, str_at, yaml_document,
};
use prospector_bus::Topology;
use prospector_config::{ServiceConfig, ENV_OVERRIDES};
use serde_json::Value;
use std::collections::BTreeMap;

const COMPONENTS: [&str; 4] = ["tiler", "extractor", "scorer", "evaluator"];
const TILER_INPUT: &str = r#"tiler.inputs=[{"name":"survey","mountPath":"/data/survey","volume":{"persistentVolumeClaim":{"claimName":"survey-images","readOnly":true}}}]"#;
/// Every optional feature on at once.
const EVERYTHING_ON: [&str; 18] = [
    "--set",
    "autoscaling.mode=keda",
    "--set",
    "metrics.serviceMonitor.enabled=true",
    "--set",
    "metrics.prometheusRule.enabled=true",
    "--set",
    "networkPolicy.enabled=true",
    "--set",
    "nats.auth.mode=creds",
    "--set",
    "nats.tls.enabled=true",
    "--set",
    "nats.tls.clientCertificate=true",
    "--set",
    "grpcTls.enabled=true",
    "--set-json",
    TILER_INPUT,
];

fn example_values() -> String {
    deploy_dir()
        .join("helm/examples/prospector-values.yaml")
        .display()
        .to_string()
}

/// The value sets an operator is expected to use; each must render valid objects.
fn value_sets() -> Vec<(&'static str, Vec<String>)> {
    let owned = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    vec![
        ("defaults", vec![]),
        ("everything on", owned(&EVERYTHING_ON)),
        (
            "hpa, cpu scorer, existing evaluator claim, no auth",
            owned(&[
                "--set",
                "autoscaling.mode=hpa",
                "--set",
                "scorer.device=cpu",
                "--set",
                "evaluator.persistence.existingClaim=catalogues",
                "--set",
                "nats.auth.mode=none",
                "--set",
                "apiToken.enabled=false",
                "--set",
                "tiler.service.headless=false",
                "--set",
                "tiler.service.type=LoadBalancer",
            ]),
        ),
        ("the example values", vec!["-f".into(), example_values()]),
    ]
}

fn render(args: &[String]) -> Vec<Value> {
    render_chart(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn pod_spec(deployment: &Value) -> &Value {
    &deployment["spec"]["template"]["spec"]
}

fn container(deployment: &Value) -> &Value {
    &pod_spec(deployment)["containers"][0]
}

fn env_value<'a>(container: &'a Value, name: &str) -> Option<&'a Value> {
    find_in(&container["env"], "name", name)
}

#[test]
fn chart_lints_clean_with_defaults_and_with_the_example_values() {
    for args in [vec![], vec!["-f".to_string(), example_values()]] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        if let Err(report) = lint_chart(&args) {
            panic!("helm lint --strict {args:?} found problems:\n{report}");
        }
    }
}

#[test]
fn every_rendered_object_is_valid_for_kubernetes_or_a_known_custom_resource() {
    for (name, args) in value_sets() {
        let objects = render(&args);
        let (custom, builtin): (Vec<&Value>, Vec<&Value>) =
            objects.iter().partition(|o| is_custom_resource(o));
        assert_valid_kubernetes(&builtin, name);
        for object in custom {
            match str_at(object, "/kind") {
                "ScaledObject" => check_scaled_object(object, &objects),
                "ServiceMonitor" => check_service_monitor(object, &objects),
                "PrometheusRule" => check_prometheus_rule(object),
                other => panic!("{name}: unexpected custom resource {other}"),
            }
        }
    }
}

/// A KEDA ScaledObject as KEDA's nats-jetstream scaler reads it: it targets a Deployment
/// of this release that states no replica count of its own, its metadata are strings with
/// only the keys the scaler knows, and it watches the very consumer the services use.
fn check_scaled_object(scaled: &Value, objects: &[Value]) {
    assert_eq!(scaled["apiVersion"], "keda.sh/v1alpha1");
    let spec = &scaled["spec"];
    assert_eq!(spec["scaleTargetRef"]["kind"], "Deployment");
    let target = named(objects, "Deployment", str_at(spec, "/scaleTargetRef/name"));
    assert!(
        target["spec"].get("replicas").is_none(),
        "{} states replicas while KEDA owns them: every upgrade would reset the scale",
        target["metadata"]["name"]
    );
    let (min, max) = (&spec["minReplicaCount"], &spec["maxReplicaCount"]);
    assert!(
        min.as_u64().unwrap() <= max.as_u64().unwrap(),
        "min {min} > max {max}"
    );
    let triggers = spec["triggers"].as_array().expect("triggers");
    assert_eq!(triggers.len(), 1);
    assert_eq!(triggers[0]["type"], "nats-jetstream");
    let metadata = triggers[0]["metadata"]
        .as_object()
        .expect("trigger metadata");
    let known = [
        "natsServerMonitoringEndpoint",
        "account",
        "stream",
        "consumer",
        "lagThreshold",
        "activationLagThreshold",
        "useHttps",
    ];
    for (key, value) in metadata {
        assert!(
            known.contains(&key.as_str()),
            "nats-jetstream has no parameter {key}"
        );
        assert!(
            value.is_string(),
            "KEDA trigger metadata must be strings: {key}={value}"
        );
    }
    for required in [
        "natsServerMonitoringEndpoint",
        "stream",
        "consumer",
        "lagThreshold",
    ] {
        assert!(metadata.contains_key(required), "trigger lacks {required}");
    }
    let component = str_at(
        target,
        "/spec/template/metadata/labels/app.kubernetes.io~1component",
    );
    assert_consumer_is_the_services(
        component,
        str_at(&triggers[0], "/metadata/stream"),
        str_at(&triggers[0], "/metadata/consumer"),
    );
}

/// The stream and consumer an autoscaler watches are the ones the services read
/// (crates/bus/src/topology.rs): KEDA must see the backlog the pods actually drain.
fn assert_consumer_is_the_services(component: &str, stream: &str, consumer: &str) {
    let topology = Topology::default();
    let spec = topology
        .consumer(component)
        .unwrap_or_else(|e| panic!("{component} is autoscaled but {e}"));
    assert_eq!(consumer, spec.durable, "{component}'s consumer");
    assert_eq!(stream, spec.stream, "{component}'s stream");
}

/// A ServiceMonitor that selects every component's Service and scrapes its metrics port.
fn check_service_monitor(monitor: &Value, objects: &[Value]) {
    let selector = &monitor["spec"]["selector"]["matchLabels"];
    let selected: Vec<&Value> = of_kind(objects, "Service")
        .into_iter()
        .filter(|s| selects(selector, &s["metadata"]["labels"]))
        .collect();
    assert_eq!(
        selected.len(),
        COMPONENTS.len(),
        "the ServiceMonitor must select every Service"
    );
    for service in selected {
        let ports = service["spec"]["ports"].as_array().unwrap();
        assert!(
            ports
                .iter()
                .any(|p| p["name"] == "metrics" && p["port"] == 9090),
            "{} has no metrics port",
            service["metadata"]["name"]
        );
    }
    let endpoint = &monitor["spec"]["endpoints"][0];
    assert_eq!(endpoint["port"], "metrics");
    assert_eq!(endpoint["path"], "/metrics");
}

/// The PrometheusRule carries exactly the rules promtool checks and unit-tests.
fn check_prometheus_rule(rule: &Value) {
    let rules = yaml_document(&deploy_dir().join("prometheus/rules.yml"));
    assert_eq!(
        rule["spec"]["groups"], rules["groups"],
        "the PrometheusRule differs from rules.yml"
    );
}

#[test]
fn autoscaling_is_one_mode_at_a_time_and_owns_the_replica_count() {
    let fixed = render_chart(&[]);
    assert!(
        of_kind(&fixed, "ScaledObject").is_empty()
            && of_kind(&fixed, "HorizontalPodAutoscaler").is_empty()
    );
    assert_eq!(
        named(&fixed, "Deployment", "prospector-scorer")["spec"]["replicas"],
        2
    );

    let keda = render_chart(&["--set", "autoscaling.mode=keda"]);
    assert_eq!(of_kind(&keda, "ScaledObject").len(), 2);
    assert!(of_kind(&keda, "HorizontalPodAutoscaler").is_empty());

    let hpa = render_chart(&["--set", "autoscaling.mode=hpa"]);
    assert!(of_kind(&hpa, "ScaledObject").is_empty());
    let autoscalers = of_kind(&hpa, "HorizontalPodAutoscaler");
    assert_eq!(autoscalers.len(), 2);
    for autoscaler in autoscalers {
        let target = named(
            &hpa,
            "Deployment",
            str_at(autoscaler, "/spec/scaleTargetRef/name"),
        );
        assert!(target["spec"].get("replicas").is_none());
        let metric = &autoscaler["spec"]["metrics"][0]["external"]["metric"];
        assert_eq!(metric["name"], "prospector_consumer_pending_messages");
        let component = str_at(
            target,
            "/spec/template/metadata/labels/app.kubernetes.io~1component",
        );
        assert_consumer_is_the_services(
            component,
            str_at(metric, "/selector/matchLabels/stream"),
            str_at(metric, "/selector/matchLabels/consumer"),
        );
    }

    let both = render_chart_output(&["--set", "autoscaling.mode=both"]);
    let message = String::from_utf8_lossy(&both.stderr);
    assert!(
        !both.status.success() && message.contains("autoscaling/mode") && message.contains("keda"),
        "an unknown autoscaling mode must be refused with the allowed values, got: {message}"
    );
}

#[test]
fn a_misspelled_top_level_value_is_refused() {
    let out = render_chart_output(&["--set", "autoscalng.mode=keda"]);
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && message.contains("autoscalng"),
        "a typo in a values key must not be silently ignored, got: {message}"
    );
}

#[test]
fn the_scorer_runs_on_gpu_nodes_with_the_cuda_image_or_anywhere_on_cpu() {
    let gpu = render_chart(&[]);
    let scorer = named(&gpu, "Deployment", "prospector-scorer");
    let spec = pod_spec(scorer);
    assert_eq!(
        container(scorer)["resources"]["limits"]["nvidia.com/gpu"],
        1
    );
    assert_eq!(spec["nodeSelector"]["nvidia.com/gpu.present"], "true");
    assert!(spec["tolerations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["key"] == "nvidia.com/gpu"));
    assert!(str_at(container(scorer), "/image").contains("prospector-scorer-cuda:"));
    assert_eq!(
        env_value(container(scorer), "PROSPECTOR_SCORER_DEVICE").unwrap()["value"],
        "cuda"
    );

    let cpu = render_chart(&["--set", "scorer.device=cpu"]);
    let scorer = named(&cpu, "Deployment", "prospector-scorer");
    let text = scorer.to_string();
    assert!(
        !text.contains("nvidia.com/gpu"),
        "a CPU scorer must not ask for GPUs: {text}"
    );
    assert!(!str_at(container(scorer), "/image").contains("cuda"));
    assert_eq!(
        env_value(container(scorer), "PROSPECTOR_SCORER_DEVICE").unwrap()["value"],
        "cpu"
    );
    // The GPU count is added to the operator's limits, never replacing them.
    assert_eq!(
        named(&gpu, "Deployment", "prospector-scorer")["spec"]["template"]["spec"]["containers"][0]
            ["resources"]["limits"]["memory"],
        "16Gi"
    );
}

#[test]
fn every_container_is_hardened_and_probed_on_its_health_port() {
    let objects = render_chart(&EVERYTHING_ON);
    let deployments = of_kind(&objects, "Deployment");
    assert_eq!(deployments.len(), COMPONENTS.len());
    for deployment in deployments {
        let name = deployment["metadata"]["name"].clone();
        let pod = pod_spec(deployment);
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{name}");
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault",
            "{name}"
        );
        assert_eq!(pod["automountServiceAccountToken"], false, "{name}");
        let c = container(deployment);
        let security = &c["securityContext"];
        assert_eq!(security["readOnlyRootFilesystem"], true, "{name}");
        assert_eq!(security["allowPrivilegeEscalation"], false, "{name}");
        assert_eq!(
            security["capabilities"]["drop"],
            serde_json::json!(["ALL"]),
            "{name}"
        );
        // /tmp is writable through an emptyDir, since the root filesystem is not.
        let tmp = find_in(&c["volumeMounts"], "mountPath", "/tmp");
        let tmp_volume = tmp.and_then(|m| find_in(&pod["volumes"], "name", str_at(m, "/name")));
        assert!(
            tmp_volume.is_some_and(|v| v.get("emptyDir").is_some()),
            "{name}: no /tmp emptyDir"
        );
        // Probes reach /healthz and /readyz on the metrics port, 9090.
        let metrics_port = find_in(&c["ports"], "name", "metrics");
        assert_eq!(metrics_port.unwrap()["containerPort"], 9090, "{name}");
        assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz", "{name}");
        assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz", "{name}");
        assert_eq!(c["livenessProbe"]["httpGet"]["port"], "metrics", "{name}");
        assert_eq!(c["readinessProbe"]["httpGet"]["port"], "metrics", "{name}");
        assert!(
            c["resources"]["requests"]["memory"].is_string(),
            "{name}: no memory request"
        );
    }
}

#[test]
fn each_service_reads_only_its_own_nats_credentials() {
    let creds = render_chart(&["--set", "nats.auth.mode=creds"]);
    let password = render_chart(&[]);
    for component in COMPONENTS {
        let name = format!("prospector-{component}");
        let deployment = named(&creds, "Deployment", &name);
        let secret_items: Vec<&Value> = pod_spec(deployment)["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["secret"]["secretName"] == "prospector-nats")
            .flat_map(|v| v["secret"]["items"].as_array().unwrap())
            .collect();
        assert_eq!(
            secret_items.len(),
            1,
            "{name} mounts other services' credentials"
        );
        assert_eq!(secret_items[0]["key"], format!("{component}.creds"));
        assert_eq!(
            env_value(container(deployment), "PROSPECTOR_NATS_CREDS_FILE").unwrap()["value"],
            format!("/etc/prospector/nats/{component}.creds")
        );

        let deployment = named(&password, "Deployment", &name);
        for (variable, key) in [
            ("PROSPECTOR_NATS_USER", "user"),
            ("PROSPECTOR_NATS_PASSWORD", "password"),
        ] {
            let reference =
                &env_value(container(deployment), variable).unwrap()["valueFrom"]["secretKeyRef"];
            assert_eq!(
                reference["key"],
                format!("{component}-{key}"),
                "{name} {variable}"
            );
        }
    }
}

#[test]
fn the_evaluator_keeps_its_catalogues_on_a_volume_that_outlives_the_release() {
    let objects = render_chart(&[]);
    let evaluator = named(&objects, "Deployment", "prospector-evaluator");
    assert_eq!(evaluator["spec"]["replicas"], 1);
    // Recreate: a ReadWriteOnce volume cannot be attached to the old and new pod at once.
    assert_eq!(evaluator["spec"]["strategy"]["type"], "Recreate");
    let claim = named(
        &objects,
        "PersistentVolumeClaim",
        "prospector-evaluator-data",
    );
    assert_eq!(
        claim["metadata"]["annotations"]["helm.sh/resource-policy"],
        "keep"
    );
    let data = find_in(&pod_spec(evaluator)["volumes"], "name", "data").unwrap();
    assert_eq!(
        data["persistentVolumeClaim"]["claimName"],
        "prospector-evaluator-data"
    );
    let mount = find_in(&container(evaluator)["volumeMounts"], "name", "data").unwrap();
    assert_eq!(mount["mountPath"], "/var/lib/prospector");

    let existing = render_chart(&["--set", "evaluator.persistence.existingClaim=catalogues"]);
    assert!(of_kind(&existing, "PersistentVolumeClaim").is_empty());
    let evaluator = named(&existing, "Deployment", "prospector-evaluator");
    let data = find_in(&pod_spec(evaluator)["volumes"], "name", "data").unwrap();
    assert_eq!(data["persistentVolumeClaim"]["claimName"], "catalogues");
}

#[test]
fn selectors_of_services_budgets_and_policies_reach_their_pods() {
    let objects = render_chart(&EVERYTHING_ON);
    for component in COMPONENTS {
        let name = format!("prospector-{component}");
        let pod_labels =
            &named(&objects, "Deployment", &name)["spec"]["template"]["metadata"]["labels"];
        let service = named(&objects, "Service", &name);
        assert!(
            selects(&service["spec"]["selector"], pod_labels),
            "Service {name}"
        );
        let policy = named(&objects, "NetworkPolicy", &name);
        assert!(
            selects(&policy["spec"]["podSelector"]["matchLabels"], pod_labels),
            "NetworkPolicy {name}"
        );
        // Every port the container serves besides metrics is open to clients, and NATS is
        // reachable.
        let served: Vec<&Value> = container(named(&objects, "Deployment", &name))["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| &p["containerPort"])
            .collect();
        let allowed: Vec<&Value> = policy["spec"]["ingress"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|rule| rule["ports"].as_array().unwrap())
            .map(|p| &p["port"])
            .collect();
        assert!(
            served.iter().all(|p| allowed.contains(p)),
            "{name}: serves {served:?}, allows {allowed:?}"
        );
        let egress = policy["spec"]["egress"].to_string();
        assert!(
            egress.contains("4222") && egress.contains("53"),
            "{name}: egress {egress}"
        );
    }
    for budget in of_kind(&objects, "PodDisruptionBudget") {
        let deployment = named(&objects, "Deployment", str_at(budget, "/metadata/name"));
        assert!(selects(
            &budget["spec"]["selector"]["matchLabels"],
            &deployment["spec"]["template"]["metadata"]["labels"]
        ));
    }
}

/// The environment a container gets, as the process sees it: literal values as they are,
/// values from Secrets as a placeholder naming the key.
fn environment(container: &Value) -> BTreeMap<String, String> {
    container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|variable| {
            let value = match variable["value"].as_str() {
                Some(literal) => literal.to_owned(),
                None => format!("<{}>", variable["valueFrom"]),
            };
            (str_at(variable, "/name").to_owned(), value)
        })
        .collect()
}

#[test]
fn every_service_and_the_topology_job_accept_the_rendered_configuration() {
    for (what, args) in [
        ("defaults", vec![]),
        ("everything on", EVERYTHING_ON.to_vec()),
    ] {
        let objects = render_chart(&args);
        let config_map = of_kind(&objects, "ConfigMap")[0];
        let toml = str_at(config_map, "/data/prospector.toml");
        let workloads: Vec<&Value> = of_kind(&objects, "Deployment")
            .into_iter()
            .chain(of_kind(&objects, "Job"))
            .collect();
        assert_eq!(
            workloads.len(),
            COMPONENTS.len() + 1,
            "{what}: four services and the job"
        );
        for workload in workloads {
            let name = str_at(workload, "/metadata/name");
            let env = environment(container(workload));
            for variable in env.keys().filter(|v| v.starts_with("PROSPECTOR_")) {
                assert!(
                    variable == "PROSPECTOR_CONFIG"
                        || ENV_OVERRIDES.iter().any(|(known, _)| known == variable),
                    "{what}: {name} sets {variable}, which no service reads"
                );
            }
            let config = ServiceConfig::from_toml_and_env(toml, "the ConfigMap", |variable| {
                env.get(variable).cloned()
            })
            .unwrap_or_else(|e| panic!("{what}: {name} would refuse its configuration: {e}"));
            assert!(
                !config.bus.create,
                "{what}: {name} would create the topology with service credentials"
            );
        }
    }
}

#[test]
fn the_topology_job_runs_before_the_services_with_the_admin_credentials() {
    let objects = render_chart(&["--set", "nats.auth.mode=creds"]);
    let job = named(&objects, "Job", "prospector-topology");
    let hooks = str_at(job, "/metadata/annotations/helm.sh~1hook");
    assert_eq!(hooks, "pre-install,pre-upgrade");
    let config_map = of_kind(&objects, "ConfigMap")[0];
    let config_weight: i64 = str_at(config_map, "/metadata/annotations/helm.sh~1hook-weight")
        .parse()
        .unwrap();
    let job_weight: i64 = str_at(job, "/metadata/annotations/helm.sh~1hook-weight")
        .parse()
        .unwrap();
    assert!(
        config_weight < job_weight,
        "the job must find its ConfigMap already there"
    );
    let pod = pod_spec(job);
    assert_eq!(pod["restartPolicy"], "Never");
    let container = container(job);
    assert_eq!(
        container["command"],
        serde_json::json!(["prospector", "topology", "apply"])
    );
    assert_eq!(
        env_value(container, "PROSPECTOR_NATS_CREDS_FILE").unwrap()["value"],
        "/etc/prospector/nats/admin.creds"
    );
}
