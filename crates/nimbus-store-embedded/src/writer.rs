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

use std::collections::HashMap;

use nimbus_store::{
    Check, Error, KeyRange, Op, Result, WriteBatch, add_to_counters, append_key, append_number,
};

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
    /// The next number of each log that [`Op::Append`] wrote to since the writer started.
    pub(crate) logs: Mutex<LogNumbers>,
}

/// The next entry number of each log under its prefix, so an append reads the log's last key
/// only once per writer. A number taken by a group whose commit then fails is not given back:
/// logs may skip numbers, never repeat them.
#[derive(Default)]
pub(crate) struct LogNumbers(HashMap<Vec<u8>, u64>);

impl LogNumbers {
    /// The number of the next entry of the log under `prefix`, taken.
    fn take(&mut self, tx: &mut dyn Transaction, prefix: &[u8]) -> Result<u64> {
        let next = match self.0.get_mut(prefix) {
            Some(next) => next,
            None => {
                let last = tx
                    .last_key(&KeyRange::prefix(prefix))?
                    .and_then(|key| append_number(prefix, &key))
                    .unwrap_or(0);
                self.0.entry(prefix.to_vec()).or_insert(last + 1)
            }
        };
        let n = *next;
        *next += 1;
        Ok(n)
    }
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
        // Only this thread writes: the lock is never contended.
        let mut logs = self.logs.lock().unwrap_or_else(PoisonError::into_inner);
        let mut apply = |tx: &mut dyn Transaction| {
            verdicts.clear();
            let mut counters = PendingCounters::default();
            for (batch, _) in commits.iter_mut() {
                for check in &batch.checks {
                    let (Check::Absent(key) | Check::Equals(key, _)) = check;
                    counters.settle(tx, key)?;
                }
                let verdict = first_failing_check(tx, &batch.checks)?;
                if verdict.is_ok() {
                    for op in std::mem::take(&mut batch.ops) {
                        match op {
                            Op::Put(key, value) => {
                                counters.settle(tx, &key)?;
                                tx.put(key, value)?
                            }
                            Op::Delete(key) => {
                                counters.settle(tx, &key)?;
                                tx.delete(key)?
                            }
                            Op::DeleteRange(range) => {
                                counters.settle_range(tx, &range)?;
                                tx.delete_range(&range)?
                            }
                            Op::Add(key, deltas) => counters.add(key, &deltas),
                            Op::Append(prefix, value) => {
                                let n = logs.take(tx, &prefix)?;
                                tx.put(append_key(&prefix, n), value)?
                            }
                        }
                    }
                }
                verdicts.push(verdict);
            }
            counters.settle_all(tx)
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

/// The [`Op::Add`]s of a group, summed per key and written once at the end of the group
/// instead of one read and one write per batch: every write to a table adds to that table's
/// counters, so a group of N writes to one table read and rewrote the same key N times (and
/// journalled it N times). A check or another operation on a key with pending additions first
/// writes them out, so every batch still sees exactly the state of the batches before it.
#[derive(Default)]
struct PendingCounters(Vec<(Vec<u8>, Vec<i64>)>);

impl PendingCounters {
    fn add(&mut self, key: Vec<u8>, deltas: &[i64]) {
        let sums = match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, sums)) => sums,
            None => {
                self.0.push((key, Vec::new()));
                &mut self.0.last_mut().expect("just pushed").1
            }
        };
        if sums.len() < deltas.len() {
            sums.resize(deltas.len(), 0);
        }
        for (sum, delta) in sums.iter_mut().zip(deltas) {
            *sum = sum.wrapping_add(*delta);
        }
    }

    /// Writes out the pending additions to `key`, if any.
    fn settle(&mut self, tx: &mut dyn Transaction, key: &[u8]) -> Result<()> {
        match self.0.iter().position(|(k, _)| k == key) {
            Some(index) => {
                let (key, deltas) = self.0.swap_remove(index);
                write_sum(tx, key, &deltas)
            }
            None => Ok(()),
        }
    }

    fn settle_range(&mut self, tx: &mut dyn Transaction, range: &KeyRange) -> Result<()> {
        let (inside, outside) = std::mem::take(&mut self.0)
            .into_iter()
            .partition(|(key, _)| range.contains(key));
        self.0 = outside;
        for (key, deltas) in inside {
            write_sum(tx, key, &deltas)?;
        }
        Ok(())
    }

    fn settle_all(self, tx: &mut dyn Transaction) -> Result<()> {
        for (key, deltas) in self.0 {
            write_sum(tx, key, &deltas)?;
        }
        Ok(())
    }
}

fn write_sum(tx: &mut dyn Transaction, key: Vec<u8>, deltas: &[i64]) -> Result<()> {
    let sum = add_to_counters(tx.get(&key)?.as_deref(), deltas);
    tx.put(key, sum)
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

#[cfg(test)]
mod tests {
    use std::sync::mpsc::sync_channel;

    use nimbus_store::mem::MemStore;
    use nimbus_store::{Direction, Store};

    use super::*;
    use crate::fjall_engine::FjallEngine;

    /// Every key and value a scan visits.
    fn collect(
        scan: impl FnOnce(&mut nimbus_store::Visitor<'_>) -> Result<()>,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut items = Vec::new();
        scan(&mut |k, v| {
            items.push((k.to_vec(), v.to_vec()));
            std::ops::ControlFlow::Continue(())
        })
        .expect("scan");
        items
    }

    /// A non-durable group-commit writer over `engine`, as the tests drive it directly.
    fn test_writer(engine: &Arc<FjallEngine>) -> Writer<FjallEngine> {
        Writer {
            engine: Arc::clone(engine),
            durable: false,
            max_group: MAX_GROUP,
            logs: Mutex::default(),
        }
    }

    fn counter(values: &[i64]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    /// One group whose batches add to the same counters, check them, overwrite and delete
    /// them: the group gives every batch the verdict and the final state that committing the
    /// batches one by one gives.
    #[test]
    fn a_group_sums_counter_additions_without_changing_what_any_batch_sees() {
        let mut batches = Vec::new();
        let mut b = WriteBatch::new();
        b.add(b"c".to_vec(), vec![1, 10])
            .add(b"r/1".to_vec(), vec![4]);
        batches.push(b);
        let mut b = WriteBatch::new();
        b.check(b"c".to_vec(), Some(counter(&[1, 10])))
            .add(b"c".to_vec(), vec![1, 5]);
        batches.push(b);
        let mut b = WriteBatch::new();
        b.add(b"c".to_vec(), vec![1]).add(b"r/2".to_vec(), vec![9]);
        batches.push(b);
        let mut b = WriteBatch::new();
        b.check(b"c".to_vec(), Some(counter(&[1, 10])))
            .add(b"c".to_vec(), vec![100]);
        batches.push(b);
        let mut b = WriteBatch::new();
        b.put(b"d".to_vec(), vec![1]).add(b"d".to_vec(), vec![7]);
        batches.push(b);
        let mut b = WriteBatch::new();
        b.delete_range(KeyRange::prefix(b"r/"))
            .add(b"r/2".to_vec(), vec![2]);
        batches.push(b);
        let mut b = WriteBatch::new();
        b.add(b"e".to_vec(), vec![3]).delete(b"e".to_vec());
        batches.push(b);

        let reference = MemStore::new();
        let want: Vec<_> = batches
            .iter()
            .map(|b| reference.commit(b.clone()).map_err(|e| e.to_string()))
            .collect();

        let dir = tempfile::tempdir().expect("tempdir");
        let engine = Arc::new(FjallEngine::open(dir.path(), 1 << 20).expect("open"));
        let writer = test_writer(&engine);
        let mut answers = Vec::new();
        let mut commits = Vec::new();
        for batch in batches {
            let (sender, receiver) = sync_channel(1);
            commits.push((batch, Reply::Blocking(sender)));
            answers.push(receiver);
        }
        writer.commit_group(&mut commits);
        let got: Vec<_> = answers
            .iter()
            .map(|a| a.recv().expect("answer").map_err(|e| e.to_string()))
            .collect();
        assert_eq!(got, want);

        let everything = KeyRange {
            start: std::ops::Bound::Unbounded,
            end: std::ops::Bound::Unbounded,
        };
        let engine_items = collect(|visit| engine.scan(&everything, Direction::Forward, visit));
        let reference_items =
            collect(|visit| reference.scan(&everything, Direction::Forward, visit));
        assert_eq!(engine_items, reference_items);
        assert!(engine_items.contains(&(b"c".to_vec(), counter(&[3, 15]))));
    }

    /// Appends number a log across groups and after a restart, from the last key kept.
    #[test]
    fn appends_continue_the_log_across_groups_and_restarts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let numbers = |engine: &FjallEngine| {
            let mut seen = Vec::new();
            engine
                .scan(
                    &KeyRange::prefix(b"log/"),
                    Direction::Forward,
                    &mut |k, v| {
                        seen.push((append_number(b"log/", k).expect("log key"), v.to_vec()));
                        std::ops::ControlFlow::Continue(())
                    },
                )
                .expect("scan");
            seen
        };
        let group = |writer: &Writer<FjallEngine>, values: &[&[u8]]| {
            let mut commits = Vec::new();
            let mut answers = Vec::new();
            for value in values {
                let mut b = WriteBatch::new();
                b.append(b"log/".to_vec(), value.to_vec());
                let (sender, receiver) = sync_channel(1);
                commits.push((b, Reply::Blocking(sender)));
                answers.push(receiver);
            }
            writer.commit_group(&mut commits);
            for a in answers {
                a.recv().expect("answer").expect("committed");
            }
        };
        {
            let engine = Arc::new(FjallEngine::open(dir.path(), 1 << 20).expect("open"));
            let writer = test_writer(&engine);
            group(&writer, &[b"a", b"b"]);
            group(&writer, &[b"c"]);
            // Trimming keeps the newest entry, from which numbering resumes.
            let mut b = WriteBatch::new();
            b.delete_range(KeyRange {
                start: std::ops::Bound::Included(append_key(b"log/", 0)),
                end: std::ops::Bound::Excluded(append_key(b"log/", 3)),
            });
            let (sender, receiver) = sync_channel(1);
            writer.commit_group(&mut vec![(b, Reply::Blocking(sender))]);
            receiver.recv().expect("answer").expect("trimmed");
            assert_eq!(numbers(&engine), vec![(3, b"c".to_vec())]);
            engine.flush().expect("flush");
        }
        let engine = Arc::new(FjallEngine::open(dir.path(), 1 << 20).expect("reopen"));
        let writer = test_writer(&engine);
        group(&writer, &[b"d"]);
        assert_eq!(
            numbers(&engine),
            vec![(3, b"c".to_vec()), (4, b"d".to_vec())]
        );
    }
}
