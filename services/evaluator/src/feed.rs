//! Reading the history streams: every plan, progress event, score and label since the
//! first, then whatever arrives.
//!
//! Each stream is read with an ordered consumer (ephemeral, no acks, deliver-all) rather
//! than a durable one (the topology creates none for the evaluator). The catalogue is a function of
//! the streams' whole contents, so every start must read them from sequence 1: a durable
//! consumer would resume after what an earlier process acknowledged (and would have to
//! be reset, racing any other replica sharing it), while an ordered consumer starts at
//! the beginning every time, lets each replica read everything, leaves nothing on the
//! server when the process goes, and recreates itself on a gap. The streams keep their
//! messages after they are read (limits retention), so reading without acks loses nothing.

use async_nats::jetstream::{self, consumer};
use futures::StreamExt;
use prospector_bus::topology::{stream_name, subjects};
use prospector_bus::{decode, DecodeError};
use prospector_proto::v1::{Label, ProgressEvent, Score, TilePlan};
use tokio::sync::mpsc;

/// One message of a history stream, decoded.
#[derive(Debug)]
pub enum Event {
    Plan(TilePlan),
    Progress(ProgressEvent),
    /// A score with its sequence in the scores stream (where its pictures stay).
    Score {
        score: Box<Score>,
        sequence: u64,
    },
    Label(Label),
    /// The stream named has been read up to where it stood when reading began.
    CaughtUp(&'static str),
}

/// Decodes one stream's payload, read at the given stream sequence, into an [`Event`].
type Decoder = fn(&[u8], u64) -> Result<Event, DecodeError>;

/// The history streams the catalogue is built from, with how to decode each.
const FEEDS: [(&str, Decoder); 4] = [
    (subjects::PLANS, |p, _| decode(p).map(Event::Plan)),
    (subjects::PROGRESS, |p, _| decode(p).map(Event::Progress)),
    (subjects::SCORES, |p, sequence| {
        decode(p).map(|s| Event::Score {
            score: Box::new(s),
            sequence,
        })
    }),
    (subjects::LABELS, |p, _| decode(p).map(Event::Label)),
];

/// How many streams [`spawn_feeds`] reads (and so how many [`Event::CaughtUp`] to expect).
pub const FEED_COUNT: usize = FEEDS.len();

/// Why a stream cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read stream `{stream}` from its start: {message}")]
pub struct FeedError {
    pub stream: String,
    pub message: String,
}

/// Starts reading every history stream from its first message into `events`. Fails if a
/// stream is missing (the topology is not created) before anything is read.
pub async fn spawn_feeds(
    jetstream: &jetstream::Context,
    events: mpsc::Sender<Event>,
) -> Result<Vec<tokio::task::JoinHandle<()>>, FeedError> {
    let mut tasks = Vec::new();
    for (subject, decoder) in FEEDS {
        let (messages, caught_up_at) = open(jetstream, subject).await?;
        tasks.push(tokio::spawn(follow(
            subject,
            messages,
            caught_up_at,
            decoder,
            events.clone(),
        )));
    }
    Ok(tasks)
}

/// An ordered consumer on `subject`'s stream from sequence 1, and the stream's last
/// sequence now (reading is caught up once it is reached).
async fn open(
    jetstream: &jetstream::Context,
    subject: &'static str,
) -> Result<(consumer::pull::Ordered, u64), FeedError> {
    let name = stream_name(subject);
    let error = |e: &dyn std::fmt::Display| FeedError {
        stream: name.clone(),
        message: e.to_string(),
    };
    let mut stream = jetstream.get_stream(&name).await.map_err(|e| error(&e))?;
    let state = stream.info().await.map_err(|e| error(&e))?.state.clone();
    let last = if state.messages == 0 {
        0
    } else {
        state.last_sequence
    };
    // No filter: the stream holds only this subject and the ones below it.
    let consumer = stream
        .create_consumer(consumer::pull::OrderedConfig {
            deliver_policy: consumer::DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .map_err(|e| error(&e))?;
    let messages = consumer.messages().await.map_err(|e| error(&e))?;
    Ok((messages, last))
}

async fn follow(
    subject: &'static str,
    mut messages: consumer::pull::Ordered,
    caught_up_at: u64,
    decoder: Decoder,
    events: mpsc::Sender<Event>,
) {
    let mut caught_up = caught_up_at == 0;
    if caught_up && events.send(Event::CaughtUp(subject)).await.is_err() {
        return;
    }
    while let Some(item) = messages.next().await {
        let message = match item {
            Ok(message) => message,
            Err(e) => {
                // The ordered consumer recreates itself after a gap or a lost server;
                // what it reports here is informational.
                tracing::warn!(error = %e, subject, "reading the stream hit an error; it resumes");
                continue;
            }
        };
        let sequence = message.info().map(|i| i.stream_sequence).unwrap_or(0);
        match decoder(&message.payload, sequence) {
            Ok(event) => {
                if events.send(event).await.is_err() {
                    return;
                }
            }
            Err(e) => tracing::warn!(error = %e, subject, sequence, "skipping a message"),
        }
        if !caught_up && sequence >= caught_up_at {
            caught_up = true;
            if events.send(Event::CaughtUp(subject)).await.is_err() {
                return;
            }
        }
    }
    tracing::warn!(subject, "stream reading ended");
}
