//! [`InProcessBus`]: the bus of the embedded mode (`prospector run`), with no server.
//! One bounded tokio channel per durable consumer gives the same semantics the stage
//! runner relies on from JetStream: every consumer sees each message on its filter, the
//! workers of one consumer share its messages, a NAK redelivers after its delay, a
//! delivery dropped unsettled (a worker that died) is redelivered, message ids are
//! de-duplicated within the window, and a full queue makes the publisher wait
//! (backpressure instead of unbounded memory).

use crate::headers::{IMAGE_ID_HEADER, MSG_ID_HEADER, SOURCE_ID_HEADER, TRACEPARENT_HEADER};
use crate::subject::matches;
use crate::topology::ConsumerSpec;
use crate::{Bus, BusError, Delivery, Outgoing, PublishReceipt, Subscription};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The in-process bus. Cheap to clone.
#[derive(Clone, Debug)]
pub struct InProcessBus {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    queues: Vec<Queue>,
    duplicate_window: Duration,
    /// Last sequence and, per message id, its sequence and when it was published.
    store: Mutex<Store>,
}

#[derive(Debug, Default)]
struct Store {
    sequence: u64,
    seen: HashMap<String, (u64, Instant)>,
}

#[derive(Debug)]
struct Queue {
    durable: String,
    filter: String,
    sender: mpsc::Sender<Envelope>,
    receiver: Arc<tokio::sync::Mutex<mpsc::Receiver<Envelope>>>,
}

#[derive(Debug, Clone)]
struct Envelope {
    subject: String,
    payload: Bytes,
    headers: Vec<(&'static str, String)>,
    sequence: u64,
    deliveries: u64,
}

impl InProcessBus {
    /// A bus with one queue of `capacity` messages for each consumer the process will
    /// run. Messages on a subject no listed consumer reads are dropped, as on core NATS:
    /// list every consumer whose messages matter (including `evaluator-dead` to keep
    /// dead letters).
    pub fn new(consumers: &[ConsumerSpec], capacity: usize, duplicate_window: Duration) -> Self {
        let queues = consumers
            .iter()
            .map(|spec| {
                let (sender, receiver) = mpsc::channel(capacity.max(1));
                Queue {
                    durable: spec.durable.clone(),
                    filter: spec.filter_subject.clone(),
                    sender,
                    receiver: Arc::new(tokio::sync::Mutex::new(receiver)),
                }
            })
            .collect();
        Self {
            inner: Arc::new(Inner {
                queues,
                duplicate_window,
                store: Mutex::new(Store::default()),
            }),
        }
    }

    /// The stored sequence for a new message id, or `Err(original)` for a duplicate.
    fn admit(&self, msg_id: &str) -> Result<u64, u64> {
        let mut store = self
            .inner
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let window = self.inner.duplicate_window;
        store
            .seen
            .retain(|_, (_, at)| now.duration_since(*at) < window);
        if let Some((sequence, _)) = store.seen.get(msg_id) {
            return Err(*sequence);
        }
        store.sequence += 1;
        let sequence = store.sequence;
        store.seen.insert(msg_id.to_owned(), (sequence, now));
        Ok(sequence)
    }
}

impl Bus for InProcessBus {
    type Subscription = InProcessSubscription;

    async fn publish(&self, messages: Vec<Outgoing>) -> Result<Vec<PublishReceipt>, BusError> {
        let mut receipts = Vec::with_capacity(messages.len());
        for message in messages {
            let sequence = match self.admit(&message.msg_id) {
                Ok(sequence) => sequence,
                Err(original) => {
                    receipts.push(PublishReceipt {
                        subject: message.subject,
                        sequence: original,
                        duplicate: true,
                    });
                    continue;
                }
            };
            let mut headers = vec![(MSG_ID_HEADER, message.msg_id)];
            if !message.image_id.is_empty() {
                headers.push((IMAGE_ID_HEADER, message.image_id));
            }
            if let Some(source_id) = message.source_id {
                headers.push((SOURCE_ID_HEADER, source_id));
            }
            if let Some(traceparent) = message.traceparent {
                headers.push((TRACEPARENT_HEADER, traceparent));
            }
            let envelope = Envelope {
                subject: message.subject,
                payload: message.payload,
                headers,
                sequence,
                deliveries: 1,
            };
            for queue in self
                .inner
                .queues
                .iter()
                .filter(|q| matches(&q.filter, &envelope.subject))
            {
                // The receiver lives as long as the bus, so sending cannot fail while
                // `self` exists; waiting here is the backpressure.
                queue
                    .sender
                    .send(envelope.clone())
                    .await
                    .map_err(|_| BusError::Publish {
                        subject: envelope.subject.clone(),
                        message: format!("queue of consumer `{}` is closed", queue.durable),
                    })?;
            }
            receipts.push(PublishReceipt {
                subject: envelope.subject,
                sequence,
                duplicate: false,
            });
        }
        Ok(receipts)
    }

    async fn subscribe(&self, spec: &ConsumerSpec) -> Result<InProcessSubscription, BusError> {
        let queue = self
            .inner
            .queues
            .iter()
            .find(|q| q.durable == spec.durable)
            .ok_or_else(|| BusError::UnknownConsumer(spec.durable.clone()))?;
        Ok(InProcessSubscription {
            receiver: queue.receiver.clone(),
            sender: queue.sender.clone(),
        })
    }
}

/// A worker's handle on one consumer's queue (shared with the consumer's other workers).
#[derive(Debug)]
pub struct InProcessSubscription {
    receiver: Arc<tokio::sync::Mutex<mpsc::Receiver<Envelope>>>,
    sender: mpsc::Sender<Envelope>,
}

impl Subscription for InProcessSubscription {
    type Delivery = InProcessDelivery;

    async fn next_batch(
        &mut self,
        max: usize,
        max_wait: Duration,
        idle: Duration,
    ) -> Result<Vec<InProcessDelivery>, BusError> {
        let first = tokio::time::timeout(idle, async {
            let mut receiver = self.receiver.lock().await;
            let first = receiver.recv().await;
            first.map(|envelope| (envelope, receiver))
        })
        .await;
        let Ok(Some((first, mut receiver))) = first else {
            return Ok(Vec::new());
        };
        let mut batch = vec![first];
        let deadline = Instant::now() + max_wait;
        while batch.len() < max {
            match tokio::time::timeout_at(deadline, receiver.recv()).await {
                Ok(Some(envelope)) => batch.push(envelope),
                _ => break,
            }
        }
        Ok(batch
            .into_iter()
            .map(|envelope| InProcessDelivery {
                envelope,
                redeliver: self.sender.clone(),
                settled: AtomicBool::new(false),
            })
            .collect())
    }
}

/// A message delivered by the in-process bus.
#[derive(Debug)]
pub struct InProcessDelivery {
    envelope: Envelope,
    redeliver: mpsc::Sender<Envelope>,
    settled: AtomicBool,
}

impl InProcessDelivery {
    /// Marks the delivery settled; true if it was not already.
    fn settle(&self) -> bool {
        !self.settled.swap(true, Ordering::SeqCst)
    }

    fn next_delivery(&self) -> Envelope {
        Envelope {
            deliveries: self.envelope.deliveries + 1,
            ..self.envelope.clone()
        }
    }
}

impl Delivery for InProcessDelivery {
    fn subject(&self) -> &str {
        &self.envelope.subject
    }

    fn payload(&self) -> &[u8] {
        &self.envelope.payload
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.envelope
            .headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn deliveries(&self) -> u64 {
        self.envelope.deliveries
    }

    fn id(&self) -> String {
        format!("in-process/{}", self.envelope.sequence)
    }

    async fn ack(&self) -> Result<(), BusError> {
        self.settle();
        Ok(())
    }

    async fn nak(&self, delay: Duration) -> Result<(), BusError> {
        if self.settle() {
            let again = self.next_delivery();
            let sender = self.redeliver.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                // Fails only when the bus is gone, and the message with it.
                let _ = sender.send(again).await;
            });
        }
        Ok(())
    }

    /// Nothing to extend: the in-process bus redelivers only what is dropped unsettled.
    async fn in_progress(&self) -> Result<(), BusError> {
        Ok(())
    }

    async fn term(&self) -> Result<(), BusError> {
        self.settle();
        Ok(())
    }
}

impl Drop for InProcessDelivery {
    /// A delivery dropped without an ack, NAK or term belonged to a worker that died:
    /// deliver it again, as JetStream does when the ack wait expires.
    fn drop(&mut self) {
        if !self.settle() {
            return;
        }
        let again = self.next_delivery();
        match self.redeliver.try_send(again) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(again)) => {
                let sender = self.redeliver.clone();
                match tokio::runtime::Handle::try_current() {
                    Ok(runtime) => {
                        runtime.spawn(async move {
                            let _ = sender.send(again).await;
                        });
                    }
                    Err(_) => tracing::error!(
                        subject = %again.subject,
                        "unacknowledged message lost: no runtime left to redeliver it"
                    ),
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}
