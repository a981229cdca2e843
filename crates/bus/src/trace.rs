//! W3C trace context (<https://www.w3.org/TR/trace-context/>) carried in the
//! `traceparent` header, so one image can be followed through every service's logs
//! (and by any OpenTelemetry collector reading the same header).

use rand::Rng;

/// A position in a trace: the trace every message of one image submission shares, and
/// the span (here: one stage's handling of one message) that produced the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: u128,
    pub span_id: u64,
    pub sampled: bool,
}

impl TraceContext {
    /// A new trace (for a message that arrived without one, e.g. a submission).
    pub fn new_root() -> Self {
        let mut rng = rand::rng();
        Self {
            trace_id: rng.random_range(1..=u128::MAX),
            span_id: rng.random_range(1..=u64::MAX),
            sampled: true,
        }
    }

    /// The context for messages that `span` starts a trace with (an image submission):
    /// the span's own ids when spans are exported, so the collector's tree has its root;
    /// else a new root.
    pub fn starting_at(span: &tracing::Span) -> Self {
        match prospector_telemetry::exported_ids(span) {
            Some((trace_id, span_id, sampled)) => Self {
                trace_id,
                span_id,
                sampled,
            },
            None => Self::new_root(),
        }
    }

    /// The context for work caused by this one: same trace, new span.
    pub fn child(&self) -> Self {
        Self {
            span_id: rand::rng().random_range(1..=u64::MAX),
            ..*self
        }
    }

    /// Parses a `traceparent` header value; `None` when it is not a valid version-00 one.
    pub fn parse(header: &str) -> Option<Self> {
        let mut parts = header.trim().split('-');
        let (version, trace, span, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if version != "00"
            || parts.next().is_some()
            || trace.len() != 32
            || span.len() != 16
            || flags.len() != 2
        {
            return None;
        }
        let trace_id = u128::from_str_radix(trace, 16).ok()?;
        let span_id = u64::from_str_radix(span, 16).ok()?;
        let flags = u8::from_str_radix(flags, 16).ok()?;
        (trace_id != 0 && span_id != 0).then_some(Self {
            trace_id,
            span_id,
            sampled: flags & 1 == 1,
        })
    }

    /// The `traceparent` header value.
    pub fn to_header(&self) -> String {
        format!(
            "00-{:032x}-{:016x}-{:02x}",
            self.trace_id, self.span_id, self.sampled as u8
        )
    }

    /// The trace id as logged (32 lower-case hex digits).
    pub fn trace_id_hex(&self) -> String {
        format!("{:032x}", self.trace_id)
    }
}

#[cfg(test)]
mod tests {
    use super::TraceContext;

    #[test]
    fn traceparent_round_trips_and_children_share_the_trace() {
        let example = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parsed = TraceContext::parse(example).unwrap();
        assert_eq!(parsed.to_header(), example);
        let child = parsed.child();
        assert_eq!(child.trace_id, parsed.trace_id);
        assert_ne!(child.span_id, parsed.span_id);
        assert!(TraceContext::parse(&TraceContext::new_root().to_header()).is_some());
    }

    #[test]
    fn malformed_traceparents_are_rejected() {
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        ] {
            assert!(TraceContext::parse(bad).is_none(), "{bad}");
        }
    }
}
