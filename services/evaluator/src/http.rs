//! The web console (three static files compiled into the binary: no external URL, so it
//! works on an observatory network without internet) and the JSON API it calls.

use crate::grpc::page_limit;
use crate::labels::{LabelDesk, SubmitError};
use crate::live_metrics::LiveMetrics;
use crate::pictures::{PictureError, ScoreArchive};
use crate::render::{render_png, View};
use crate::state::Evaluator;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use prospector_proto::v1::{Label, LabelClass};
use prospector_ranking::{label_name, AnomalyQuery, RankedEntry};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

const INDEX_HTML: &str = include_str!("../console/index.html");
const CONSOLE_JS: &str = include_str!("../console/console.js");
const CONSOLE_CSS: &str = include_str!("../console/console.css");

#[derive(Clone)]
struct AppState {
    evaluator: Arc<Evaluator>,
    labels: LabelDesk,
    archive: ScoreArchive,
}

/// The console's routes.
pub fn router(evaluator: Arc<Evaluator>, labels: LabelDesk, archive: ScoreArchive) -> Router {
    let asset = |content_type: &'static str, body: &'static str| {
        get(move || async move { ([(header::CONTENT_TYPE, content_type)], body) })
    };
    Router::new()
        .route("/", asset("text/html; charset=utf-8", INDEX_HTML))
        .route(
            "/console.js",
            asset("text/javascript; charset=utf-8", CONSOLE_JS),
        )
        .route(
            "/console.css",
            asset("text/css; charset=utf-8", CONSOLE_CSS),
        )
        .route("/api/images", get(images))
        .route("/api/anomalies", get(anomalies))
        .route("/api/metrics", get(metrics))
        .route("/api/labels", post(submit_labels))
        .route("/api/sources/{id}/{view}", get(source_picture))
        .with_state(AppState {
            evaluator,
            labels,
            archive,
        })
}

/// An error answered as plain text.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, message.into()).into_response()
}

#[derive(Serialize)]
struct ImageRow {
    image_id: String,
    stage: String,
    tiles_done: u32,
    tiles_total: Option<u32>,
    sources_found: u64,
    sources_scored: u64,
    detail: String,
}

async fn images(State(state): State<AppState>) -> Json<Vec<ImageRow>> {
    let catalogue = state.evaluator.read();
    Json(
        catalogue
            .images()
            .map(|(id, p)| ImageRow {
                image_id: id.to_owned(),
                stage: stage_name(p.stage()),
                tiles_done: p.tiles_done(),
                tiles_total: p.tiles_total(),
                sources_found: p.sources_found(),
                sources_scored: p.sources_scored(),
                detail: p.failure().unwrap_or_default().to_owned(),
            })
            .collect(),
    )
}

/// `STAGE_COMPLETE` -> `complete`.
fn stage_name(stage: prospector_proto::v1::Stage) -> String {
    stage
        .as_str_name()
        .trim_start_matches("STAGE_")
        .to_lowercase()
}

fn label_from_name(name: &str) -> Option<LabelClass> {
    [
        LabelClass::Typical,
        LabelClass::Exotic,
        LabelClass::Artefact,
    ]
    .into_iter()
    .find(|l| label_name(*l) == name)
}

#[derive(Deserialize)]
struct AnomalyParams {
    image_id: Option<String>,
    #[serde(default)]
    offset: usize,
    #[serde(default)]
    limit: usize,
    min_anomaly: Option<f64>,
    label: Option<String>,
    #[serde(default)]
    unlabelled_only: bool,
}

#[derive(Serialize)]
struct SourceRow {
    rank: u64,
    source_id: String,
    name: String,
    image_id: String,
    ra_deg: f64,
    dec_deg: f64,
    anomaly: f64,
    ncc: f64,
    mse: f64,
    code_rarity: f64,
    peak_flux_jy_beam: f64,
    model_version: String,
    label: Option<&'static str>,
    labeller: Option<String>,
}

impl From<RankedEntry<'_>> for SourceRow {
    fn from(entry: RankedEntry<'_>) -> Self {
        let s = entry.score;
        let scores = s.scores.unwrap_or_default();
        let sky = s.sky.unwrap_or_default();
        Self {
            rank: entry.rank,
            source_id: s.source_id.clone(),
            name: s.name.clone(),
            image_id: s.image_id.clone(),
            ra_deg: sky.ra_deg,
            dec_deg: sky.dec_deg,
            anomaly: scores.anomaly,
            ncc: scores.ncc,
            mse: scores.mse,
            code_rarity: scores.code_rarity,
            peak_flux_jy_beam: s.island.map_or(f64::NAN, |i| i.peak_flux_jy_beam),
            model_version: s.model_version.clone(),
            label: entry.label.map(|l| label_name(l.label())),
            labeller: entry.label.map(|l| l.labeller.clone()),
        }
    }
}

#[derive(Serialize)]
struct AnomalyPage {
    total: u64,
    sources: Vec<SourceRow>,
}

async fn anomalies(
    State(state): State<AppState>,
    Query(params): Query<AnomalyParams>,
) -> Result<Json<AnomalyPage>, Response> {
    let label = match params.label.as_deref().filter(|l| !l.is_empty()) {
        None => None,
        Some(name) => Some(label_from_name(name).ok_or_else(|| {
            error(
                StatusCode::BAD_REQUEST,
                format!("unknown label `{name}` (typical, exotic or artefact)"),
            )
        })?),
    };
    let query = AnomalyQuery {
        image_id: params.image_id.filter(|id| !id.is_empty()),
        min_anomaly: params.min_anomaly,
        label,
        unlabelled_only: params.unlabelled_only,
        offset: params.offset,
        limit: page_limit(params.limit),
    };
    let catalogue = state.evaluator.read();
    let (page, total) = catalogue.query(&query);
    Ok(Json(AnomalyPage {
        total,
        sources: page.into_iter().map(SourceRow::from).collect(),
    }))
}

async fn metrics(State(state): State<AppState>) -> Json<LiveMetrics> {
    Json(LiveMetrics::of(&state.evaluator.read()))
}

#[derive(Deserialize)]
struct LabelBody {
    labels: Vec<LabelEntry>,
}

#[derive(Deserialize)]
struct LabelEntry {
    source_id: String,
    label: String,
    #[serde(default)]
    labeller: String,
    #[serde(default)]
    note: String,
}

#[derive(Serialize)]
struct Accepted {
    accepted: u32,
}

async fn submit_labels(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<LabelBody>,
) -> Result<Json<Accepted>, Response> {
    let labels = body
        .labels
        .into_iter()
        .map(|entry| {
            // An unknown word becomes UNSPECIFIED, which the desk refuses naming the source.
            let class = label_from_name(&entry.label).unwrap_or(LabelClass::Unspecified);
            Label {
                source_id: entry.source_id,
                label: class as i32,
                labeller: entry.labeller,
                note: entry.note,
                ..Default::default()
            }
        })
        .collect();
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match state.labels.submit(authorization, labels).await {
        Ok(accepted) => Ok(Json(Accepted { accepted })),
        Err(e) => {
            let status = match e {
                SubmitError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
                SubmitError::Invalid(_) => StatusCode::BAD_REQUEST,
                SubmitError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            };
            Err(error(status, e.to_string()))
        }
    }
}

async fn source_picture(
    State(state): State<AppState>,
    Path((source_id, view)): Path<(String, String)>,
) -> Response {
    let Some(view) = View::from_file_name(&view) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("no picture `{view}` (input.png, reconstruction.png or residual.png)"),
        );
    };
    let Some(sequence) = state.evaluator.score_sequence(&source_id) else {
        return error(StatusCode::NOT_FOUND, format!("no source `{source_id}`"));
    };
    let score = match state.archive.score(&source_id, sequence).await {
        Ok(score) => score,
        Err(e @ PictureError::Gone { .. }) => return error(StatusCode::NOT_FOUND, e.to_string()),
        Err(e @ PictureError::Unavailable { .. }) => {
            return error(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
        }
    };
    match render_png(&score, view) {
        Ok(png) => ([(header::CONTENT_TYPE, "image/png")], png).into_response(),
        Err(e) => error(StatusCode::NOT_FOUND, e.to_string()),
    }
}
