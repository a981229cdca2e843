//! OTLP span export (feature `otlp`): the stage runner's per-message spans go to an
//! OpenTelemetry collector over gRPC, joined into the trace that the `traceparent` NATS
//! header carries, so one image can be followed across every service in Jaeger or Tempo.

use crate::TelemetryError;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider,
};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing::Subscriber;
use tracing_opentelemetry::{OpenTelemetryLayer, OpenTelemetrySpanExt};
use tracing_subscriber::registry::LookupSpan;

/// The tracing layer that exports spans to `endpoint` (e.g. `http://collector:4317`),
/// and the provider that must be shut down to flush the last batch.
/// Must be called inside a Tokio runtime: the gRPC channel lives on it.
pub(crate) fn layer<S>(
    service: &str,
    endpoint: &str,
) -> Result<(OpenTelemetryLayer<S, SdkTracer>, SdkTracerProvider), TelemetryError>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .map_err(|e| TelemetryError::Otlp(format!("exporter for `{endpoint}`: {e}")))?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(format!("prospector-{service}"))
                .build(),
        )
        .build();
    let tracer = provider.tracer("prospector");
    Ok((tracing_opentelemetry::layer().with_tracer(tracer), provider))
}

/// The trace and span id `span` is exported under, if it is.
pub(crate) fn exported_ids(span: &tracing::Span) -> Option<(u128, u64, bool)> {
    let context = span.context();
    let exported = context.span().span_context().clone();
    exported.is_valid().then(|| {
        (
            u128::from_be_bytes(exported.trace_id().to_bytes()),
            u64::from_be_bytes(exported.span_id().to_bytes()),
            exported.is_sampled(),
        )
    })
}

/// Makes `span` a child of the remote span `(trace_id, parent_span_id)` and returns
/// the span id it will be exported under, which messages caused by it must carry as
/// their parent. `None` when no OTLP layer is installed (or the span is disabled).
pub(crate) fn continue_trace(
    span: &tracing::Span,
    trace_id: u128,
    parent_span_id: u64,
    sampled: bool,
) -> Option<u64> {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    let parent = SpanContext::new(
        TraceId::from_bytes(trace_id.to_be_bytes()),
        SpanId::from_bytes(parent_span_id.to_be_bytes()),
        flags,
        true,
        TraceState::default(),
    );
    span.set_parent(opentelemetry::Context::new().with_remote_span_context(parent))
        .ok()?;
    exported_ids(span)
        .filter(|(exported_trace, _, _)| *exported_trace == trace_id)
        .map(|(_, span_id, _)| span_id)
}
