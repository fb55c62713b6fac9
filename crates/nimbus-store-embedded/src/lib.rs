//! The embedded storage backend of Nimbus: [`nimbus_store::Store`] on a local engine, the
//! default for a single machine.
//!
//! Engine: [fjall](https://docs.rs/fjall) 3, a log-structured merge tree with a write-ahead
//! journal, chosen over redb 4 by measurement on the access pattern of Nimbus tables
//! (`docs/decisions/001-storage-engine.md`): under group commit it sustained about 2.5x
//! redb's durable single-key puts at 16 and 64 writers, loads 2.4x faster, reopens after a
//! crash in half a second where redb walks its whole file (3.5 s at 1M items), and takes
//! 35% less disk. redb scans and opens cleanly faster; fjall adds background compaction.
//!
//! What this crate adds to the engine:
//! - **Group commit.** One writer thread owns every write. It drains the queue of pending
//!   batches, evaluates each batch's checks against the current state in arrival order (a
//!   batch sees the writes of the batches before it), applies the batches whose checks hold,
//!   syncs once, and only then answers every waiter. Concurrent committers share one fsync;
//!   a single writer makes check-then-write atomic without locks. A waiter is a thread
//!   blocked in [`Store::commit`] or a future returned by [`Store::commit_async`], so async
//!   callers wait for the sync without parking a thread. [`nimbus_store::Op::Add`] is applied
//!   by the writer, inside the group, on the counter's current value; the additions of a
//!   group to one counter are summed and written once (a check or write of that counter by a
//!   later batch of the group sees them first). [`nimbus_store::Op::Append`] takes the next
//!   number of its log from the writer's cache (read once per log from its last key), so
//!   appends are numbered in commit order.
//! - **Reads** go straight to the engine from the calling thread and see every batch whose
//!   commit has returned.
//! - **One process per data directory.** `LOCK` in the directory is held with an exclusive
//!   file lock for the life of the store; a second open fails with [`Error::Locked`].
//!
//! Layout of a data directory: `LOCK`, and `fjall/` with the engine's journal and tables.
//! The directory and everything created under it are fsynced before they are relied upon.
//!
//! This crate knows nothing of DynamoDB or HTTP; the binary chooses it behind the trait.

pub mod engine;
mod error;
mod fjall_engine;
mod lock;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;

use nimbus_store::{Commit, Direction, KeyRange, Store, WriteBatch};

pub use error::{Error, Result};
pub use fjall_engine::FjallEngine;

use engine::Engine;
use lock::DirLock;
use writer::{Reply, Request, Writer, async_reply, stopped};

/// How to open an [`EmbeddedStore`].
#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    /// Acknowledge a commit only once it is on stable storage (default `true`).
    ///
    /// `false` is for benchmarks only: commits are acknowledged before they are synced, so a
    /// crash or power cut may lose any of them until [`Store::flush`] returns.
    pub durable: bool,
    /// Bytes of the engine's block cache (default 64 MiB).
    pub cache_size: u64,
    /// Let concurrent commits share one sync (default `true`). `false` gives every commit
    /// its own transaction and sync; it exists to measure what group commit buys.
    pub group_commit: bool,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        EmbeddedOptions {
            durable: true,
            cache_size: 64 << 20,
            group_commit: true,
        }
    }
}

/// A [`Store`] in a local data directory. Dropping it stops the writer thread after it has
/// answered every pending commit.
pub struct EmbeddedStore<E: Engine = FjallEngine> {
    requests: Option<mpsc::Sender<Request>>,
    writer: Option<JoinHandle<()>>,
    engine: Arc<E>,
    _lock: DirLock,
}

/// Where the engine keeps its files inside the data directory.
const FJALL_DIR: &str = "fjall";

impl EmbeddedStore {
    /// Opens the store in `dir`, creating the directory if needed. Fails with
    /// [`Error::Locked`] if another store has it open.
    pub fn open(dir: &Path, options: EmbeddedOptions) -> Result<Self> {
        Self::open_with(dir, options, |dir, options| {
            let path = dir.join(FJALL_DIR);
            FjallEngine::open(&path, options.cache_size).map_err(|e| Error::Engine {
                path,
                source: Box::new(e),
            })
        })
    }
}

impl<E: Engine> EmbeddedStore<E> {
    /// Opens the store in `dir` on the engine that `open_engine` opens inside it. The lock
    /// file is taken first, so `open_engine` runs with the directory to itself.
    pub fn open_with(
        dir: &Path,
        options: EmbeddedOptions,
        open_engine: impl FnOnce(&Path, &EmbeddedOptions) -> Result<E>,
    ) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            step: "create data directory",
            path: dir.to_path_buf(),
            source,
        })?;
        let lock = DirLock::acquire(dir)?;
        let engine = Arc::new(open_engine(dir, &options)?);
        // Every entry created on the way (the data directory, its lock file, the engine's
        // folders and files) must survive a power cut before the first commit is
        // acknowledged. fjall 3.1 does not fsync the parent of a keyspace folder it creates;
        // without this, a power cut after the first open loses the keyspace and with it
        // every acknowledged commit (found with powerloss_fs.py --strict-dirs).
        sync_tree(dir)?;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
        let (requests, queue) = mpsc::channel();
        let writer = Writer {
            engine: engine.clone(),
            durable: options.durable,
            max_group: if options.group_commit {
                writer::MAX_GROUP
            } else {
                1
            },
            logs: Default::default(),
        };
        let writer = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer.run(queue))
            .map_err(Error::Thread)?;
        Ok(EmbeddedStore {
            requests: Some(requests),
            writer: Some(writer),
            engine,
            _lock: lock,
        })
    }

    /// Queues `request` for the writer thread.
    fn send(&self, request: Request) -> nimbus_store::Result<()> {
        self.requests
            .as_ref()
            .ok_or_else(stopped)?
            .send(request)
            .map_err(|_| stopped())
    }

    /// Queues a request and blocks until the writer answers it.
    fn request(&self, make: impl FnOnce(Reply) -> Request) -> nimbus_store::Result<()> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.send(make(Reply::Blocking(reply)))?;
        answer.recv().map_err(|_| stopped())?
    }
}

/// Fsyncs `dir` and every directory below it, deepest first.
fn sync_tree(dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        step: "list directory",
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io {
            step: "list directory",
            path: dir.to_path_buf(),
            source,
        })?;
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            sync_tree(&entry.path())?;
        }
    }
    sync_dir(dir)
}

fn sync_dir(path: &Path) -> Result<()> {
    let io = |source| Error::Io {
        step: "sync directory",
        path: PathBuf::from(path),
        source,
    };
    std::fs::File::open(path)
        .map_err(io)?
        .sync_all()
        .map_err(io)
}

impl<E: Engine> Store for EmbeddedStore<E> {
    fn get(&self, key: &[u8]) -> nimbus_store::Result<Option<Vec<u8>>> {
        self.engine.get(key)
    }

    fn get_many(&self, keys: &[&[u8]]) -> nimbus_store::Result<Vec<Option<Vec<u8>>>> {
        self.engine.get_many(keys)
    }

    fn scan(
        &self,
        range: &KeyRange,
        direction: Direction,
        visit: &mut nimbus_store::Visitor<'_>,
    ) -> nimbus_store::Result<()> {
        self.engine.scan(range, direction, visit)
    }

    fn commit(&self, batch: WriteBatch) -> nimbus_store::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.request(|reply| Request::Commit(batch, reply))
    }

    fn commit_async(&self, batch: WriteBatch) -> Commit {
        if batch.is_empty() {
            return Box::pin(std::future::ready(Ok(())));
        }
        let (reply, answer) = async_reply();
        // A request the writer never sees drops its reply, which answers "stopped".
        let _ = self.send(Request::Commit(batch, Reply::Async(reply)));
        Box::pin(answer)
    }

    fn flush(&self) -> nimbus_store::Result<()> {
        self.request(Request::Flush)
    }
}

impl<E: Engine> Drop for EmbeddedStore<E> {
    fn drop(&mut self) {
        // Closing the queue ends the writer's loop once it has answered what was queued.
        self.requests.take();
        if let Some(writer) = self.writer.take()
            && writer.join().is_err()
        {
            tracing::error!("store writer thread panicked");
        }
    }
}
