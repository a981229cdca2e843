//! The deployment files under deploy/ against the validators a cluster or a monitoring
//! stack would apply to them: Helm's linter and renderer, the Kubernetes OpenAPI schemas,
//! kustomize, promtool, Grafana's schema models, nats-server and hadolint. Each validator
//! is installed by scripts/bootstrap.sh; a missing one fails the test with how to get it.

mod docker;
mod grafana;
mod helm;
mod k8s;
mod metric_names;
mod nats;
mod prometheus;
mod support;
