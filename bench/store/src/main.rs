//! Compares the storage engines behind `nimbus_store::Store` on the access pattern of Nimbus
//! tables: ~200-byte items under 30-byte keys that share a table prefix. Both engines run
//! under the same group-commit writer (`nimbus_store_embedded::EmbeddedStore`), so the
//! numbers compare the engines, not two wrappers.
//!
//! Run (from the repository root, ~5 minutes on 2 cores):
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-store cargo run --release --manifest-path bench/store/Cargo.toml -- [--keys 1000000] [--seconds 3] [--engine fjall|redb] [--dir DIR]
//! ```
//!
//! Cold opens drop the page cache first when the process may (root); the output says so.

mod redb_engine;

use std::io::{BufRead, BufReader, Write};
use std::ops::{Bound, ControlFlow};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nimbus_store::{Direction, KeyRange, Store, WriteBatch};
use nimbus_store_embedded::engine::Engine;
use nimbus_store_embedded::{EmbeddedOptions, EmbeddedStore, Error};
use redb_engine::RedbEngine;

const PREFIX: &str = "t/0001/orders/";
const VALUE_LEN: usize = 200;
const SCAN_LEN: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Fjall,
    Redb,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Fjall => "fjall",
            Kind::Redb => "redb",
        }
    }
}

/// An open store on either engine, behind the trait.
fn open(kind: Kind, dir: &Path, options: EmbeddedOptions) -> Arc<dyn Store> {
    fn engine_error(path: PathBuf, e: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::Engine {
            path,
            source: Box::new(e),
        }
    }
    fn arc<E: Engine>(store: Result<EmbeddedStore<E>, Error>) -> Arc<dyn Store> {
        Arc::new(store.unwrap_or_else(|e| panic!("open store: {e}")))
    }
    match kind {
        Kind::Fjall => arc(EmbeddedStore::open(dir, options)),
        Kind::Redb => arc(EmbeddedStore::open_with(dir, options, |dir, o| {
            let path = dir.join("items.redb");
            RedbEngine::open(&path, o.cache_size).map_err(|e| engine_error(path, e))
        })),
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The key of item `i`: a table prefix and a hashed id, so inserts land all over the range.
fn key(i: u64) -> Vec<u8> {
    format!("{PREFIX}{:016x}", splitmix(i)).into_bytes()
}

/// An item-like value: half varied bytes, half repeated attribute text.
fn value(i: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(VALUE_LEN);
    let mut x = i;
    while v.len() < VALUE_LEN / 2 {
        x = splitmix(x);
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(VALUE_LEN / 2);
    while v.len() < VALUE_LEN {
        v.extend_from_slice(format!("status=shipped;qty={};", i % 97).as_bytes());
    }
    v.truncate(VALUE_LEN);
    v
}

struct Args {
    keys: u64,
    seconds: u64,
    engines: Vec<Kind>,
    dir: PathBuf,
}

fn parse_args() -> Args {
    let mut args = Args {
        keys: 1_000_000,
        seconds: 3,
        engines: vec![Kind::Fjall, Kind::Redb],
        dir: std::env::temp_dir().join("nimbus-store-bench"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--keys" => args.keys = value().parse().expect("--keys N"),
            "--seconds" => args.seconds = value().parse().expect("--seconds N"),
            "--dir" => args.dir = PathBuf::from(value()),
            "--engine" => {
                args.engines = match value().as_str() {
                    "fjall" => vec![Kind::Fjall],
                    "redb" => vec![Kind::Redb],
                    other => panic!("unknown engine {other}"),
                }
            }
            other => panic!("unknown argument {other}"),
        }
    }
    args
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let kind = |name: &str| {
        if name == "redb" {
            Kind::Redb
        } else {
            Kind::Fjall
        }
    };
    match argv.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["crash-writer", engine, dir] => return crash_writer(kind(engine), Path::new(dir)),
        ["check-acked", engine, dir, acked] => {
            return check_acked(kind(engine), Path::new(dir), Path::new(acked));
        }
        _ => {}
    }
    let args = parse_args();
    println!(
        "# {} keys, {VALUE_LEN}-byte values, keys like {:?}; page cache drop: {}",
        args.keys,
        String::from_utf8_lossy(&key(0)),
        if drop_caches() {
            "yes"
        } else {
            "no (warm opens)"
        }
    );
    for kind in args.engines.clone() {
        bench_engine(kind, &args);
    }
}

fn bench_engine(kind: Kind, args: &Args) {
    let dir = args.dir.join(kind.name());
    let _ = std::fs::remove_dir_all(&dir);
    println!("\n## {}\n", kind.name());
    sanity_check(kind, &args.dir.join(format!("{}-sanity", kind.name())));

    // Bulk load without per-commit sync, 1000 items a batch, then a clean close.
    let started = Instant::now();
    {
        let store = open(
            kind,
            &dir,
            EmbeddedOptions {
                durable: false,
                ..EmbeddedOptions::default()
            },
        );
        for chunk in (0..args.keys).collect::<Vec<_>>().chunks(1000) {
            let mut batch = WriteBatch::new();
            for &i in chunk {
                batch.put(key(i), value(i));
            }
            store.commit(batch).expect("load");
        }
        store.flush().expect("flush");
    }
    let load = started.elapsed();
    report("bulk load (1000/batch)", args.keys, load, None);
    println!("| disk after load | {} |", footprint(&dir));

    let store = timed_open(kind, &dir, args.keys, "open after clean close");

    // Point gets and scans on one thread, random keys of the loaded table.
    let mut rng = 1u64;
    let mut lat = Vec::new();
    let n = 100_000;
    let started = Instant::now();
    for _ in 0..n {
        rng = splitmix(rng);
        let i = rng % args.keys;
        let t = Instant::now();
        let got = store.get(&key(i)).expect("get");
        lat.push(t.elapsed());
        assert_eq!(got.map(|v| v.len()), Some(VALUE_LEN));
    }
    report("point get (1 thread)", n, started.elapsed(), Some(&mut lat));
    for direction in [Direction::Forward, Direction::Reverse] {
        let n = 20_000;
        lat.clear();
        let started = Instant::now();
        for _ in 0..n {
            rng = splitmix(rng);
            let from = format!("{PREFIX}{:016x}", rng).into_bytes();
            let range = match direction {
                Direction::Forward => KeyRange {
                    start: Bound::Included(from),
                    end: KeyRange::prefix(PREFIX.as_bytes()).end,
                },
                Direction::Reverse => KeyRange {
                    start: Bound::Included(PREFIX.as_bytes().to_vec()),
                    end: Bound::Excluded(from),
                },
            };
            let mut seen = 0;
            let t = Instant::now();
            store
                .scan(&range, direction, &mut |_, _| {
                    seen += 1;
                    if seen == SCAN_LEN {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                })
                .expect("scan");
            lat.push(t.elapsed());
        }
        report(
            &format!("{SCAN_LEN}-item {direction:?} scan (1 thread)"),
            n,
            started.elapsed(),
            Some(&mut lat),
        );
    }
    drop(store);

    // Durable single-key puts of new items, with and without group commit.
    let next = Arc::new(AtomicU64::new(args.keys));
    for group_commit in [true, false] {
        let store = open(
            kind,
            &dir,
            EmbeddedOptions {
                group_commit,
                ..EmbeddedOptions::default()
            },
        );
        for threads in [1, 16, 64] {
            let label = format!(
                "durable put, {threads} writers, {}",
                if group_commit {
                    "group commit"
                } else {
                    "sync per commit"
                }
            );
            durable_puts(&store, threads, args.seconds, &next, &label);
        }
    }
    println!("| disk after puts | {} |", footprint(&dir));

    // Open after kill -9 in the middle of durable writes.
    crash_child(kind, &dir);
    drop(timed_open(kind, &dir, args.keys, "open after kill -9"));
    println!("| disk at end | {} |", footprint(&dir));
}

/// Opens the loaded store with a cold page cache and reports how long until the first get.
fn timed_open(kind: Kind, dir: &Path, keys: u64, label: &str) -> Arc<dyn Store> {
    let dropped = drop_caches();
    let started = Instant::now();
    let store = open(kind, dir, EmbeddedOptions::default());
    let first = store.get(&key(keys / 2)).expect("get");
    println!(
        "| {label}{} + first get | {:.1} ms |",
        if dropped { ", cold cache" } else { "" },
        started.elapsed().as_secs_f64() * 1e3
    );
    assert_eq!(first, Some(value(keys / 2)));
    store
}

fn durable_puts(
    store: &Arc<dyn Store>,
    threads: usize,
    seconds: u64,
    next: &Arc<AtomicU64>,
    label: &str,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (store, stop, next) = (store.clone(), stop.clone(), next.clone());
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let mut batch = WriteBatch::new();
                    batch.put(key(i), value(i));
                    let t = Instant::now();
                    store.commit(batch).expect("commit");
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    wait(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut lat: Vec<Duration> = workers
        .into_iter()
        .flat_map(|w| w.join().expect("writer"))
        .collect();
    let elapsed = started.elapsed();
    report(label, lat.len() as u64, elapsed, Some(&mut lat));
}

/// Blocks the calling thread for `d` (this program has no async runtime).
#[allow(clippy::disallowed_methods)]
fn wait(d: Duration) {
    std::thread::sleep(d);
}

fn report(label: &str, ops: u64, elapsed: Duration, lat: Option<&mut Vec<Duration>>) {
    let rate = ops as f64 / elapsed.as_secs_f64();
    match lat {
        Some(lat) if !lat.is_empty() => {
            lat.sort();
            let pct = |p: f64| lat[((lat.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e6;
            println!(
                "| {label} | {rate:.0} ops/s | p50 {:.0} µs | p99 {:.0} µs |",
                pct(0.5),
                pct(0.99)
            );
        }
        _ => println!(
            "| {label} | {rate:.0} ops/s | {:.1} s total |",
            elapsed.as_secs_f64()
        ),
    }
}

/// Allocated bytes under `dir` (what `du` counts).
fn footprint(dir: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    fn walk(dir: &Path) -> (u64, u64) {
        let mut total = (0, 0);
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                let (a, l) = walk(&entry.path());
                total = (total.0 + a, total.1 + l);
            } else {
                total = (total.0 + meta.blocks() * 512, total.1 + meta.len());
            }
        }
        total
    }
    let (allocated, apparent) = walk(dir);
    format!(
        "{:.1} MiB allocated ({:.1} MiB apparent)",
        allocated as f64 / 1048576.0,
        apparent as f64 / 1048576.0
    )
}

/// Drops the page cache, so opens read from disk. Needs root; false if refused.
fn drop_caches() -> bool {
    std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok()
}

/// Starts a writer process on `dir`, lets it acknowledge some durable commits, kills it.
fn crash_child(kind: Kind, dir: &Path) {
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .args(["crash-writer", kind.name()])
        .arg(dir)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start writer");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    for _ in stdout.lines().take(2000) {}
    child.kill().expect("kill -9");
    child.wait().expect("reap");
}

fn crash_writer(kind: Kind, dir: &Path) {
    let store = open(kind, dir, EmbeddedOptions::default());
    let mut out = std::io::stdout().lock();
    for i in u64::MAX / 2.. {
        let mut batch = WriteBatch::new();
        batch.put(key(i), value(i));
        store.commit(batch).expect("commit");
        let _ = writeln!(out, "{i}");
        let _ = out.flush();
    }
}

/// Checks that every item `crash-writer` acknowledged (one index a line in `acked`) is in
/// the store in `dir` with its exact value; for the power-cut check in `powerloss.sh`.
fn check_acked(kind: Kind, dir: &Path, acked: &Path) {
    let acked = std::fs::read_to_string(acked).expect("read acked list");
    let store = open(kind, dir, EmbeddedOptions::default());
    let mut checked = 0;
    for line in acked.lines() {
        let Ok(i) = line.trim().parse::<u64>() else {
            continue; // the cut may have left half a line
        };
        assert_eq!(
            store.get(&key(i)).expect("get"),
            Some(value(i)),
            "acknowledged item {i} lost"
        );
        checked += 1;
    }
    println!("{checked} acknowledged items present with their values");
}

/// A short check that the adapter keeps the contract before it is measured.
fn sanity_check(kind: Kind, dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    let store = open(kind, dir, EmbeddedOptions::default());
    let mut b = WriteBatch::new();
    for k in [&b"a"[..], b"b1", b"b2", b"b3", b"c", &[0xff, 0x00]] {
        b.put(k, k);
    }
    store.commit(b).expect("put");
    let mut b = WriteBatch::new();
    b.check_absent(b"zz".to_vec())
        .check_absent(b"a".to_vec())
        .delete(b"c".to_vec());
    assert!(matches!(
        store.commit(b),
        Err(nimbus_store::Error::Conflict { index: 1 })
    ));
    let mut b = WriteBatch::new();
    b.check_equals(b"a".to_vec(), b"a".to_vec())
        .delete_range(KeyRange::prefix(b"b"))
        .put(b"b2".to_vec(), Vec::new());
    store.commit(b).expect("delete range");
    let mut seen = Vec::new();
    store
        .scan(&KeyRange::prefix(b""), Direction::Reverse, &mut |k, v| {
            seen.push((k.to_vec(), v.to_vec()));
            ControlFlow::Continue(())
        })
        .expect("scan");
    let want: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (vec![0xff, 0x00], vec![0xff, 0x00]),
        (b"c".to_vec(), b"c".to_vec()),
        (b"b2".to_vec(), Vec::new()),
        (b"a".to_vec(), b"a".to_vec()),
    ];
    assert_eq!(seen, want, "{} breaks the contract", kind.name());
    drop(store);
    let _ = std::fs::remove_dir_all(dir);
}
