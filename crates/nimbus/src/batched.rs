//! A lane's connections hand their answers to the lane, which sends them together, in one
//! system call, once the requests that were ready have all been served.
//!
//! Why: when clients share the machine's cores (functions, tools, a load generator), every
//! answer sent wakes a client thread, and the scheduler lets the woken thread take the core
//! from the lane when the sending system call returns. Sent one `writev` at a time, each answer
//! costs the lane a switch and each client wake-up finds one answer. Sent together through one
//! `io_uring_enter`, the lane is interrupted at most once per turn and each client thread finds
//! all of its answers when it runs. Measured on GetItem at 16 connections, two cores shared with
//! the load generator: 42k → 61k requests/s, server CPU 29 → 19 µs per request
//! (docs/BENCHMARKS.md).
//!
//! How: a connection's writes are copied into its `Held` bytes and the connection is queued on
//! the lane's [`Sender`]; its flush waits. The sender task is woken by the first answer of a
//! turn, so it runs after the tasks that were already ready (tokio's current-thread scheduler
//! runs woken tasks in order). It sends every queued connection's bytes with non-blocking sends
//! submitted together, then wakes the connections. What a socket did not take at once is written
//! by the connection's own task, waiting for the socket as usual. Where `io_uring` is not
//! available (an old kernel, or one that refuses it), the sender writes the queued answers one
//! after the other: the turn is still served without interruption.
//!
//! Written here rather than taken from a crate: the `io-uring` crate gives the ring; the
//! runtimes built on it (tokio-uring, monoio, glommio) replace tokio and hyper's I/O, which the
//! rest of the server is built on.

use std::io::{self, IoSlice};
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker, ready};

use io_uring::{IoUring, opcode, types};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::Notify;

/// Bytes a connection may hold. A write that would go over waits for the held bytes to be
/// sent; a single larger write (a big Query page) goes straight to the socket.
const HOLD_LIMIT: usize = 64 * 1024;

/// The buffer a connection keeps between answers; a larger one is freed once sent. Point
/// operations' answers fit, and 10,000 idle keep-alive connections keep at most 40 MB.
const KEEP_CAPACITY: usize = 4 * 1024;

/// Sends submitted per `io_uring_enter`: a turn with more queued connections takes several.
const RING_ENTRIES: u32 = 256;

/// One lane's connections waiting for their answers to be sent, and the task that sends them.
#[derive(Default)]
pub struct Sender {
    queue: Mutex<Vec<Arc<Shared>>>,
    wake: Notify,
}

impl Sender {
    /// Sends the queued answers each time some are queued. Runs on the lane until the lane's
    /// runtime is dropped.
    pub async fn run(self: Arc<Self>) {
        let ring = match IoUring::new(RING_ENTRIES) {
            Ok(ring) => Some(ring),
            Err(error) => {
                tracing::debug!(%error, "no io_uring: answers are sent one by one");
                None
            }
        };
        self.run_with(ring).await;
    }

    async fn run_with(self: Arc<Self>, mut ring: Option<IoUring>) {
        let mut batch = Vec::new();
        loop {
            self.wake.notified().await;
            std::mem::swap(&mut batch, &mut *lock(&self.queue));
            if let Some(active) = ring.as_mut() {
                for chunk in batch.chunks(RING_ENTRIES as usize) {
                    if let Err(error) = send_together(active, chunk) {
                        tracing::warn!(%error, "io_uring failed: answers are sent one by one");
                        ring = None;
                        break;
                    }
                }
            }
            // Without a ring (or after it failed), and for whatever the ring did not send.
            for shared in batch.drain(..) {
                send_one(&mut lock(&shared.held));
            }
        }
    }

    fn enqueue(&self, shared: &Arc<Shared>) {
        lock(&self.queue).push(Arc::clone(shared));
        self.wake.notify_one();
    }
}

/// A connection's write half and the answer bytes it holds, shared with the lane's sender.
struct Shared {
    held: Mutex<Held>,
}

struct Held {
    write: OwnedWriteHalf,
    bytes: Vec<u8>,
    /// In the sender's queue.
    queued: bool,
    /// The connection's task, waiting for its bytes to be sent.
    waiter: Option<Waker>,
    /// A send failed in the sender: the connection's next write or flush reports it.
    error: Option<io::Error>,
}

impl Held {
    /// Takes the outcome of a send of the held bytes: `sent` bytes went out, or it failed.
    fn sent(&mut self, outcome: io::Result<usize>) {
        match outcome {
            Ok(sent) => {
                self.bytes.drain(..sent.min(self.bytes.len()));
                if self.bytes.is_empty() && self.bytes.capacity() > KEEP_CAPACITY {
                    // An idle connection keeps a small buffer, not its largest answer's.
                    self.bytes = Vec::new();
                }
            }
            // The socket is full: the connection's task writes the rest when it can.
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) => {
                self.bytes.clear();
                self.error = Some(error);
            }
        }
    }

    fn done(&mut self) {
        self.queued = false;
        if let Some(waiter) = self.waiter.take() {
            waiter.wake();
        }
    }
}

/// Sends one queued connection's bytes with a plain non-blocking write.
fn send_one(held: &mut Held) {
    if !held.queued {
        return; // Sent together already.
    }
    if !held.bytes.is_empty() {
        let outcome = held.write.try_write(&held.bytes);
        held.sent(outcome);
    }
    held.done();
}

/// Sends the queued connections' bytes with one `io_uring_enter`. An error means the ring
/// cannot be used; the connections it did not send stay queued for [`send_one`].
#[allow(unsafe_code)]
fn send_together(ring: &mut IoUring, batch: &[Arc<Shared>]) -> io::Result<()> {
    // Every connection's lock is held until its send has completed: its bytes and its socket
    // stay as they are while the kernel reads them.
    let mut guards: Vec<MutexGuard<'_, Held>> = batch.iter().map(|s| lock(&s.held)).collect();
    let mut submitted = 0;
    for (index, held) in guards.iter_mut().enumerate() {
        if !held.queued || held.bytes.is_empty() {
            continue;
        }
        let fd = types::Fd(held.write.as_ref().as_raw_fd());
        // A connection holds at most HOLD_LIMIT bytes, far below u32::MAX.
        let len = u32::try_from(held.bytes.len()).unwrap_or(u32::MAX);
        let send = opcode::Send::new(fd, held.bytes.as_ptr(), len)
            // MSG_DONTWAIT: a full socket completes at once with EAGAIN instead of leaving the
            // send pending in the kernel, so every send completes within this call.
            .flags(libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL)
            .build()
            .user_data(index as u64);
        // SAFETY: the buffer and the socket outlive the send: both belong to the `Held` whose
        // guard is in `guards`, which is kept until this function has reaped the send's
        // completion (or, if the ring fails, leaks the buffer, below). The queue has room: it
        // holds RING_ENTRIES entries, is empty when this function starts (every earlier
        // submission was reaped), and a batch is at most RING_ENTRIES connections.
        if unsafe { ring.submission().push(&send) }.is_err() {
            break;
        }
        submitted += 1;
    }
    let mut reaped = 0;
    let mut retries = 0;
    while reaped < submitted {
        let waited = ring.submit_and_wait(submitted - reaped);
        reaped += reap(ring, &mut guards);
        match waited {
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            // The kernel is short of memory for the moment, or its completion queue was full
            // (reaped just above): try again, a few times.
            Err(error)
                if matches!(error.raw_os_error(), Some(libc::EAGAIN | libc::EBUSY))
                    && retries < 3 =>
            {
                retries += 1;
            }
            Err(error) => {
                // Sends may still be in the kernel: their buffers must never be freed or
                // reused. Leak them (their connections report the error) and give up the ring.
                for held in guards.iter_mut() {
                    if held.queued && !held.bytes.is_empty() {
                        std::mem::forget(std::mem::take(&mut held.bytes));
                        held.error = Some(io::Error::other("answer lost: io_uring failed"));
                        held.done();
                    }
                }
                return Err(error);
            }
        }
    }
    Ok(())
}

/// Takes the completed sends' outcomes; returns how many there were.
fn reap(ring: &mut IoUring, guards: &mut [MutexGuard<'_, Held>]) -> usize {
    let mut count = 0;
    for completion in ring.completion() {
        count += 1;
        let Some(held) = usize::try_from(completion.user_data())
            .ok()
            .and_then(|index| guards.get_mut(index))
        else {
            continue;
        };
        let result = completion.result();
        held.sent(if result >= 0 {
            Ok(result.unsigned_abs() as usize)
        } else {
            Err(io::Error::from_raw_os_error(-result))
        });
        held.done();
    }
    count
}

/// A lane's connection: reads go straight to the socket, writes wait for the lane's sender.
pub struct BatchedStream {
    read: OwnedReadHalf,
    shared: Arc<Shared>,
    sender: Arc<Sender>,
}

impl BatchedStream {
    pub fn new(stream: TcpStream, sender: Arc<Sender>) -> Self {
        let (read, write) = stream.into_split();
        let shared = Arc::new(Shared {
            held: Mutex::new(Held {
                write,
                bytes: Vec::new(),
                queued: false,
                waiter: None,
                error: None,
            }),
        });
        BatchedStream {
            read,
            shared,
            sender,
        }
    }

    /// Ready once every held byte is in the socket: waits for the sender if the bytes are
    /// queued, writes them from this task otherwise (what the sender could not send).
    fn poll_drain(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut guard = lock(&self.shared.held);
        let held = &mut *guard;
        if let Some(error) = held.error.take() {
            return Poll::Ready(Err(error));
        }
        if held.queued {
            held.waiter = Some(cx.waker().clone());
            return Poll::Pending;
        }
        while !held.bytes.is_empty() {
            let n = ready!(Pin::new(&mut held.write).poll_write(cx, &held.bytes))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            held.sent(Ok(n));
        }
        Poll::Ready(Ok(()))
    }

    fn hold(&self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if lock(&self.shared.held).bytes.len() + total > HOLD_LIMIT {
            ready!(self.poll_drain(cx))?;
            if total > HOLD_LIMIT {
                // Nothing is held now, so the order of the bytes is kept.
                return Pin::new(&mut lock(&self.shared.held).write).poll_write_vectored(cx, bufs);
            }
        }
        let mut held = lock(&self.shared.held);
        if let Some(error) = held.error.take() {
            return Poll::Ready(Err(error));
        }
        for buf in bufs {
            held.bytes.extend_from_slice(buf);
        }
        if !held.queued && total > 0 {
            held.queued = true;
            drop(held);
            self.sender.enqueue(&self.shared);
        }
        Poll::Ready(Ok(total))
    }
}

impl AsyncRead for BatchedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.read).poll_read(cx, buf)
    }
}

impl AsyncWrite for BatchedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.hold(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.hold(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_drain(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut lock(&self.shared.held).write).poll_shutdown(cx)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // What the mutexes guard stays consistent if a holder panics (bytes and flags, each
    // update complete before anything that could panic).
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A connected pair: the server side batched, the client side plain.
    async fn pair(sender: &Arc<Sender>) -> (BatchedStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap());
        let (client, accepted) = tokio::join!(client, listener.accept());
        let server = BatchedStream::new(accepted.unwrap().0, Arc::clone(sender));
        (server, client.unwrap())
    }

    /// A lane's sender, with a ring or without one (the fallback).
    fn start(with_ring: bool) -> Arc<Sender> {
        let sender = Arc::new(Sender::default());
        let ring = with_ring.then(|| IoUring::new(RING_ENTRIES).unwrap());
        tokio::spawn(Arc::clone(&sender).run_with(ring));
        sender
    }

    #[tokio::test(flavor = "current_thread")]
    async fn answers_of_several_connections_arrive_whole_and_in_order() {
        for with_ring in [true, false] {
            several_connections(start(with_ring)).await;
        }
    }

    async fn several_connections(sender: Arc<Sender>) {
        // More connections than one submission takes.
        let mut pairs = Vec::new();
        for _ in 0..RING_ENTRIES + 40 {
            pairs.push(pair(&sender).await);
        }
        // Several writes per connection before a flush, and a second round after it.
        for round in 0..2u8 {
            for (index, (server, _)) in pairs.iter_mut().enumerate() {
                server
                    .write_all(format!("r{round}c{index}-").as_bytes())
                    .await
                    .unwrap();
                server.write_all(b"head,").await.unwrap();
                server.write_all(b"body;").await.unwrap();
            }
            for (server, _) in &mut pairs {
                server.flush().await.unwrap();
            }
        }
        for (index, (server, client)) in pairs.iter_mut().enumerate() {
            server.shutdown().await.unwrap();
            let mut got = String::new();
            client.read_to_string(&mut got).await.unwrap();
            assert_eq!(got, format!("r0c{index}-head,body;r1c{index}-head,body;"));
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_write_larger_than_the_limit_follows_the_held_bytes() {
        for with_ring in [true, false] {
            larger_than_the_limit(start(with_ring)).await;
        }
    }

    async fn larger_than_the_limit(sender: Arc<Sender>) {
        let (mut server, mut client) = pair(&sender).await;
        let big: Vec<u8> = (0..HOLD_LIMIT * 3).map(|i| (i % 251) as u8).collect();
        let expected: Vec<u8> = b"first".iter().chain(big.iter()).copied().collect();
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            client.read_to_end(&mut got).await.unwrap();
            got
        });
        server.write_all(b"first").await.unwrap();
        server.write_all(&big).await.unwrap();
        server.shutdown().await.unwrap();
        drop(server);
        assert_eq!(reader.await.unwrap(), expected);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_client_that_reads_late_gets_every_byte() {
        for with_ring in [true, false] {
            late_reader(start(with_ring)).await;
        }
    }

    /// Far more than the socket buffers take: sends come back short or with EAGAIN, and the
    /// connection's task writes the rest as the client reads.
    async fn late_reader(sender: Arc<Sender>) {
        let (mut server, mut client) = pair(&sender).await;
        let chunk: Vec<u8> = (0..10_000).map(|i| (i % 241) as u8).collect();
        let rounds = 800; // 8 MB
        let reader = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            let mut got = Vec::new();
            client.read_to_end(&mut got).await.unwrap();
            got
        });
        for _ in 0..rounds {
            server.write_all(&chunk).await.unwrap();
        }
        server.shutdown().await.unwrap();
        drop(server);
        let got = reader.await.unwrap();
        assert_eq!(got.len(), chunk.len() * rounds);
        assert!(got.chunks(chunk.len()).all(|c| c == chunk.as_slice()));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn reads_pass_through() {
        let sender = start(true);
        let (mut server, mut client) = pair(&sender).await;
        client.write_all(b"ping").await.unwrap();
        let mut got = [0u8; 4];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"ping");
    }
}
