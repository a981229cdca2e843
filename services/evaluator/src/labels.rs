//! The one way labels enter the catalogue, for gRPC `SubmitLabels` and `POST /api/labels`
//! alike: check the caller's token, check every label, then store each in the labels KV
//! bucket and publish it on `prospector.labels` (the stream replays rebuild it from).

use crate::state::Evaluator;
use async_nats::jetstream::kv;
use prospector_bus::topology::subjects;
use prospector_bus::{Bus, NatsBus, Outgoing};
use prospector_proto::v1::{Label, LabelClass};
use prospector_proto::SCHEMA_VERSION;
use prospector_service::ApiToken;
use prost::Message;
use std::sync::Arc;

/// Why a submission was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("{0}")]
    Invalid(String),
    #[error("labels not stored: {0}")]
    Unavailable(String),
}

/// Receives labels (see the module documentation).
#[derive(Debug, Clone)]
pub struct LabelDesk {
    evaluator: Arc<Evaluator>,
    token: Option<ApiToken>,
    labels_kv: kv::Store,
    bus: NatsBus,
}

impl LabelDesk {
    /// Without a token, submissions are open (a laptop set-up; deployments set one).
    pub fn new(
        evaluator: Arc<Evaluator>,
        token: Option<ApiToken>,
        labels_kv: kv::Store,
        bus: NatsBus,
    ) -> Self {
        Self {
            evaluator,
            token,
            labels_kv,
            bus,
        }
    }

    /// Checks `authorization` (the request's `authorization` header) and every label,
    /// then stores and publishes them all; returns how many were accepted. Nothing is
    /// stored when any label is refused.
    pub async fn submit(
        &self,
        authorization: Option<&str>,
        labels: Vec<Label>,
    ) -> Result<u32, SubmitError> {
        if let Some(token) = &self.token {
            token
                .check(authorization)
                .map_err(SubmitError::Unauthenticated)?;
        }
        let labels = self.validated(labels)?;
        for label in &labels {
            self.labels_kv
                .put(&label.source_id, label.encode_to_vec().into())
                .await
                .map_err(|e| {
                    SubmitError::Unavailable(format!(
                        "KV bucket {}: {e}",
                        prospector_bus::topology::buckets::LABELS
                    ))
                })?;
        }
        let messages = labels
            .iter()
            .map(|l| Outgoing::new(subjects::LABELS, l))
            .collect();
        self.bus
            .publish(messages)
            .await
            .map_err(|e| SubmitError::Unavailable(e.to_string()))?;
        let accepted = labels.len() as u32;
        {
            // Applied now so the next query shows them; the feed's copy is an idempotent repeat.
            let mut catalogue = self.evaluator.write();
            for label in labels {
                catalogue.apply_label(label);
            }
        }
        self.evaluator.refresh_labelled_auc();
        Ok(accepted)
    }

    fn validated(&self, labels: Vec<Label>) -> Result<Vec<Label>, SubmitError> {
        if labels.is_empty() {
            return Err(SubmitError::Invalid("no labels given".into()));
        }
        let now = unix_millis_now();
        let catalogue = self.evaluator.read();
        labels
            .into_iter()
            .map(|mut label| {
                let source = &label.source_id;
                if catalogue.score(source).is_none() {
                    return Err(SubmitError::Invalid(format!(
                        "source `{source}` is not in the catalogue"
                    )));
                }
                match LabelClass::try_from(label.label) {
                    Ok(LabelClass::Unspecified) | Err(_) => {
                        return Err(SubmitError::Invalid(format!(
                            "label of source `{source}` is not set (typical, exotic or artefact)"
                        )))
                    }
                    Ok(_) => {}
                }
                label.schema_version = SCHEMA_VERSION;
                if label.at_unix_ms == 0 {
                    label.at_unix_ms = now;
                }
                Ok(label)
            })
            .collect()
    }
}

fn unix_millis_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
