//! Group commit: one writer thread applies the batches of concurrent committers in one engine
//! transaction and one sync, then answers each of them.
//!
//! The thread takes the first pending request, drains whatever else is already queued (up to
//! [`MAX_GROUP`]), and evaluates the batches in arrival order against the transaction, so a
//! batch sees the writes of the batches before it. A batch whose check fails is answered
//! [`Error::Conflict`] and its operations are skipped; the others are applied and made durable
//! by the single commit of the group. If the engine fails, every batch of the group fails
//! with it: the engine rolled the whole transaction back.

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use nimbus_store::{Check, Error, Op, Result, WriteBatch, add_to_counters};

use crate::engine::{Engine, Transaction};

/// The most batches one sync covers; bounds the latency a large group adds.
pub(crate) const MAX_GROUP: usize = 1024;

/// Where the writer sends the outcome of a request.
pub(crate) enum Reply {
    /// A thread blocked in [`Store::commit`](nimbus_store::Store::commit) or `flush`.
    Blocking(SyncSender<Result<()>>),
    /// A future returned by [`Store::commit_async`](nimbus_store::Store::commit_async).
    Async(AsyncReply),
}

impl Reply {
    fn send(self, result: Result<()>) {
        match self {
            // A committer that gave up waiting has nobody left to tell.
            Reply::Blocking(sender) => {
                let _ = sender.send(result);
            }
            Reply::Async(reply) => reply.send(result),
        }
    }
}

/// The state shared by an [`AsyncReply`] and its [`Answer`].
enum Slot {
    Waiting(Option<Waker>),
    Done(Result<()>),
    Taken,
}

/// The writer's end of an awaited answer. Dropped unanswered (the writer stopped), it
/// answers that the writer has stopped.
pub(crate) struct AsyncReply(Option<Arc<Mutex<Slot>>>);

/// The future of an awaited answer.
pub(crate) struct Answer(Arc<Mutex<Slot>>);

/// A connected [`AsyncReply`] and [`Answer`].
pub(crate) fn async_reply() -> (AsyncReply, Answer) {
    let slot = Arc::new(Mutex::new(Slot::Waiting(None)));
    (AsyncReply(Some(Arc::clone(&slot))), Answer(slot))
}

pub(crate) fn stopped() -> Error {
    Error::Backend("store writer thread has stopped".into())
}

impl AsyncReply {
    fn send(mut self, result: Result<()>) {
        if let Some(slot) = self.0.take() {
            fill(&slot, result);
        }
    }
}

impl Drop for AsyncReply {
    fn drop(&mut self) {
        if let Some(slot) = self.0.take() {
            fill(&slot, Err(stopped()));
        }
    }
}

fn fill(slot: &Mutex<Slot>, result: Result<()>) {
    // The lock guards a plain value: a panic elsewhere cannot leave it half-written.
    let mut state = slot.lock().unwrap_or_else(PoisonError::into_inner);
    if let Slot::Waiting(waker) = std::mem::replace(&mut *state, Slot::Done(result)) {
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Future for Answer {
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match std::mem::replace(&mut *state, Slot::Taken) {
            Slot::Done(result) => Poll::Ready(result),
            Slot::Waiting(_) => {
                *state = Slot::Waiting(Some(cx.waker().clone()));
                Poll::Pending
            }
            Slot::Taken => Poll::Ready(Err(Error::Backend(
                "commit answer polled after it was taken".into(),
            ))),
        }
    }
}

pub(crate) enum Request {
    Commit(WriteBatch, Reply),
    Flush(Reply),
}

pub(crate) struct Writer<E> {
    pub(crate) engine: Arc<E>,
    pub(crate) durable: bool,
    /// 1 disables group commit: every batch gets its own transaction and sync.
    pub(crate) max_group: usize,
}

impl<E: Engine> Writer<E> {
    /// Serves requests until every sender is gone.
    pub(crate) fn run(self, requests: Receiver<Request>) {
        let mut commits = Vec::with_capacity(self.max_group);
        let mut flushes = Vec::new();
        while let Ok(first) = requests.recv() {
            let mut next = Some(first);
            while let Some(request) = next.take() {
                match request {
                    Request::Commit(batch, reply) => commits.push((batch, reply)),
                    Request::Flush(reply) => flushes.push(reply),
                }
                if commits.len() < self.max_group {
                    next = requests.try_recv().ok();
                }
            }
            if !commits.is_empty() {
                self.commit_group(&mut commits);
            }
            if !flushes.is_empty() {
                let result = self.engine.flush();
                for reply in flushes.drain(..) {
                    reply.send(clone_result(&result));
                }
            }
        }
        if !self.durable
            && let Err(error) = self.engine.flush()
        {
            tracing::warn!(error = %error, "store flush at close failed");
        }
    }

    fn commit_group(&self, commits: &mut Vec<(WriteBatch, Reply)>) {
        let mut verdicts: Vec<Result<()>> = Vec::with_capacity(commits.len());
        let mut apply = |tx: &mut dyn Transaction| {
            verdicts.clear();
            for (batch, _) in commits.iter_mut() {
                let verdict = first_failing_check(tx, &batch.checks)?;
                if verdict.is_ok() {
                    for op in std::mem::take(&mut batch.ops) {
                        match op {
                            Op::Put(key, value) => tx.put(key, value)?,
                            Op::Delete(key) => tx.delete(key)?,
                            Op::DeleteRange(range) => tx.delete_range(&range)?,
                            Op::Add(key, deltas) => {
                                let sum = add_to_counters(tx.get(&key)?.as_deref(), &deltas);
                                tx.put(key, sum)?
                            }
                        }
                    }
                }
                verdicts.push(verdict);
            }
            Ok(())
        };
        let outcome = self.engine.write(self.durable, &mut apply);
        for (index, (_, reply)) in commits.drain(..).enumerate() {
            let answer = match &outcome {
                Ok(()) => verdicts.get(index).map_or_else(
                    || Err(Error::Backend("write group lost a verdict".into())),
                    clone_result,
                ),
                Err(error) => Err(clone_error(error)),
            };
            reply.send(answer);
        }
    }
}

/// `Err(Conflict)` for the first check of `checks` that does not hold in `tx`.
fn first_failing_check(tx: &mut dyn Transaction, checks: &[Check]) -> Result<Result<()>> {
    for (index, check) in checks.iter().enumerate() {
        let holds = match check {
            Check::Absent(key) => tx.get(key)?.is_none(),
            Check::Equals(key, value) => tx.get(key)?.as_ref() == Some(value),
        };
        if !holds {
            return Ok(Err(Error::Conflict { index }));
        }
    }
    Ok(Ok(()))
}

fn clone_error(error: &Error) -> Error {
    match error {
        Error::Conflict { index } => Error::Conflict { index: *index },
        Error::Backend(message) => Error::Backend(message.clone()),
    }
}

fn clone_result(result: &Result<()>) -> Result<()> {
    result.as_ref().map(|_| ()).map_err(clone_error)
}
