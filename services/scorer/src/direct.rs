//! `ScorerService.ScoreCutouts`: scoring for callers that bypass the bus (a notebook
//! re-scoring a hand-picked sample, an imaging pipeline's quick look). The batch goes
//! through the same model, under the same lock, as the bus's batches, so a call is
//! scored wholly by one model version and a hot swap never splits it.

use prospector_bus::StageError;
use prospector_proto::v1::scorer_service_server::ScorerService;
use prospector_proto::v1::{ScoreCutoutsRequest, ScoreCutoutsResponse};
use prospector_service::{grpc::authorization, ApiToken};
use prospector_stages::{ScorerStage, VqVaeModel};
use tonic::{Request, Response, Status};

/// The gRPC face of the scorer's live model.
#[derive(Debug)]
pub struct DirectScoring {
    stage: ScorerStage<VqVaeModel>,
    token: Option<ApiToken>,
    /// Most cutouts one call may carry (`scorer.max_batch`): one forward pass, so one
    /// caller cannot hold the model (and the bus's cutouts) for long.
    max_cutouts: usize,
}

impl DirectScoring {
    pub fn new(
        stage: ScorerStage<VqVaeModel>,
        token: Option<ApiToken>,
        max_cutouts: usize,
    ) -> Self {
        Self {
            stage,
            token,
            max_cutouts,
        }
    }
}

#[tonic::async_trait]
impl ScorerService for DirectScoring {
    async fn score_cutouts(
        &self,
        request: Request<ScoreCutoutsRequest>,
    ) -> Result<Response<ScoreCutoutsResponse>, Status> {
        // Scoring spends the accelerator the survey needs: callers show the API token.
        if let Some(token) = &self.token {
            token
                .check(authorization(&request).as_deref())
                .map_err(Status::unauthenticated)?;
        }
        let request = request.into_inner();
        if request.cutouts.len() > self.max_cutouts {
            return Err(Status::invalid_argument(format!(
                "{} cutouts in one call; at most {} (scorer.max_batch)",
                request.cutouts.len(),
                self.max_cutouts
            )));
        }
        let stage = self.stage.clone();
        let cutouts = request.cutouts;
        let results = tokio::task::spawn_blocking(move || stage.score_cutouts(&cutouts))
            .await
            .map_err(|e| Status::internal(format!("scoring stopped: {e}")))?;
        let scores = results
            .into_iter()
            .map(|result| match result {
                Ok(mut score) => {
                    if !request.include_reconstructions {
                        score.reconstruction = None;
                    }
                    Ok(score)
                }
                // The reason names the cutout (source and image) and what is wrong.
                Err(StageError::Permanent(reason)) => Err(Status::invalid_argument(reason)),
                Err(StageError::Transient(reason)) => Err(Status::unavailable(reason)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Response::new(ScoreCutoutsResponse { scores }))
    }
}
