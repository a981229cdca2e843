//! `EvaluatorService` over gRPC.

use crate::labels::{LabelDesk, SubmitError};
use crate::live_metrics::LiveMetrics;
use crate::state::Evaluator;
use prospector_proto::v1::evaluator_service_server::EvaluatorService;
use prospector_proto::v1::{
    GetMetricsRequest, GetMetricsResponse, LabelClass, QueryAnomaliesRequest,
    QueryAnomaliesResponse, RankedSource, SubmitLabelsRequest, SubmitLabelsResponse,
};
use prospector_ranking::AnomalyQuery;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Page size when a query asks for none, and the largest page served.
pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 1000;

#[derive(Debug, Clone)]
pub struct EvaluatorGrpc {
    evaluator: Arc<Evaluator>,
    labels: LabelDesk,
}

impl EvaluatorGrpc {
    pub fn new(evaluator: Arc<Evaluator>, labels: LabelDesk) -> Self {
        Self { evaluator, labels }
    }
}

/// The page size a caller asked for (0 = the default), capped.
pub fn page_limit(requested: usize) -> usize {
    match requested {
        0 => DEFAULT_LIMIT,
        n => n.min(MAX_LIMIT),
    }
}

#[tonic::async_trait]
impl EvaluatorService for EvaluatorGrpc {
    async fn query_anomalies(
        &self,
        request: Request<QueryAnomaliesRequest>,
    ) -> Result<Response<QueryAnomaliesResponse>, Status> {
        let r = request.into_inner();
        let label = LabelClass::try_from(r.label)
            .map_err(|_| Status::invalid_argument(format!("unknown label class {}", r.label)))?;
        let query = AnomalyQuery {
            image_id: (!r.image_id.is_empty()).then_some(r.image_id),
            min_anomaly: r.min_anomaly,
            label: (label != LabelClass::Unspecified).then_some(label),
            unlabelled_only: r.unlabelled_only,
            offset: r.offset as usize,
            limit: page_limit(r.limit as usize),
        };
        let catalogue = self.evaluator.read();
        let (page, total) = catalogue.query(&query);
        let sources = page
            .into_iter()
            .map(|entry| RankedSource {
                rank: entry.rank,
                score: Some(entry.score.clone()),
                label: entry.label.map_or(0, |l| l.label),
                labeller: entry.label.map(|l| l.labeller.clone()).unwrap_or_default(),
            })
            .collect();
        Ok(Response::new(QueryAnomaliesResponse { sources, total }))
    }

    async fn get_metrics(
        &self,
        _request: Request<GetMetricsRequest>,
    ) -> Result<Response<GetMetricsResponse>, Status> {
        Ok(Response::new(
            LiveMetrics::of(&self.evaluator.read()).into(),
        ))
    }

    async fn submit_labels(
        &self,
        request: Request<SubmitLabelsRequest>,
    ) -> Result<Response<SubmitLabelsResponse>, Status> {
        let authorization = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let accepted = self
            .labels
            .submit(authorization.as_deref(), request.into_inner().labels)
            .await
            .map_err(|e| match e {
                SubmitError::Unauthenticated(m) => Status::unauthenticated(m),
                SubmitError::Invalid(m) => Status::invalid_argument(m),
                e @ SubmitError::Unavailable(_) => Status::unavailable(e.to_string()),
            })?;
        Ok(Response::new(SubmitLabelsResponse { accepted }))
    }
}
