//! `kill -9` in the middle of a write load loses no acknowledged commit and tears no value.
//!
//! The test binary re-invokes itself as the writer: with `NIMBUS_STORE_CRASH_DIR` set,
//! `crash_writer` opens the store there and commits numbered keys from several threads,
//! printing `ack <key>` once `commit` has returned. The parent kills it mid-load, reopens the
//! store and checks every acknowledged key.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::ops::ControlFlow;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nimbus_store::{Direction, KeyRange, Store, WriteBatch};
use nimbus_store_embedded::{EmbeddedOptions, EmbeddedStore};

const DIR_ENV: &str = "NIMBUS_STORE_CRASH_DIR";
const ROUND_ENV: &str = "NIMBUS_STORE_CRASH_ROUND";
const THREADS: usize = 6;

/// Each commit writes a key and its twin in one batch; both or neither may exist.
fn twin(key: &str) -> String {
    format!("{key}/twin")
}

/// A ~200-byte value that names its key, so a torn or misplaced value cannot pass.
fn value_of(key: &str) -> Vec<u8> {
    let mut value = Vec::with_capacity(200);
    while value.len() < 200 {
        value.extend_from_slice(key.as_bytes());
        value.push(b'|');
    }
    value.truncate(200);
    value
}

/// The writer side; a no-op when run as an ordinary test.
#[test]
fn crash_writer() {
    let (Some(dir), Some(round)) = (std::env::var_os(DIR_ENV), std::env::var_os(ROUND_ENV)) else {
        return;
    };
    let round = round.to_string_lossy().into_owned();
    let store = Arc::new(EmbeddedStore::open(Path::new(&dir), EmbeddedOptions::default()).unwrap());
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = store.clone();
            let round = round.clone();
            std::thread::spawn(move || {
                for n in 0u64.. {
                    let key = format!("r{round}/t{t}/{n:08}");
                    let mut batch = WriteBatch::new();
                    batch
                        .check_absent(key.clone())
                        .put(key.clone(), value_of(&key))
                        .put(twin(&key), value_of(&twin(&key)));
                    store.commit(batch).unwrap();
                    println!("ack {key}");
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

/// Runs one writer, kills it after `acks_before_kill` acknowledgements, and returns the
/// acknowledged keys.
fn run_and_kill(dir: &Path, round: usize, acks_before_kill: usize) -> Vec<String> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_writer", "--nocapture", "--test-threads=1"])
        .env(DIR_ENV, dir)
        .env(ROUND_ENV, round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut acked = Vec::new();
    let mut line = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut killed = false;
    loop {
        line.clear();
        if stdout.read_until(b'\n', &mut line).unwrap() == 0 {
            break;
        }
        // Only whole lines count: the kill may cut the last one short.
        if let Some(key) = line
            .strip_suffix(b"\n")
            .and_then(|l| l.strip_prefix(b"ack "))
        {
            acked.push(String::from_utf8(key.to_vec()).unwrap());
        }
        if !killed && (acked.len() >= acks_before_kill || Instant::now() > deadline) {
            // While the writer lives, the directory is locked against this process too.
            assert!(matches!(
                EmbeddedStore::open(dir, EmbeddedOptions::default()),
                Err(nimbus_store_embedded::Error::Locked { .. })
            ));
            child.kill().unwrap(); // SIGKILL
            killed = true;
        }
    }
    child.wait().unwrap();
    assert!(killed, "the writer exited before it was killed");
    acked
}

#[test]
fn kill_9_loses_no_acknowledged_commit() {
    let dir = tempfile::tempdir().unwrap();
    let mut all_acked = Vec::new();
    for (round, acks) in [300, 1500, 700].into_iter().enumerate() {
        let acked = run_and_kill(dir.path(), round, acks);
        assert!(acked.len() >= acks, "round {round}: {} acks", acked.len());
        all_acked.extend(acked);

        let store = EmbeddedStore::open(dir.path(), EmbeddedOptions::default()).unwrap();
        let mut present = BTreeMap::new();
        store
            .scan(&KeyRange::prefix(b"r"), Direction::Forward, &mut |k, v| {
                present.insert(String::from_utf8(k.to_vec()).unwrap(), v.to_vec());
                ControlFlow::Continue(())
            })
            .unwrap();
        for key in &all_acked {
            assert_eq!(
                present.get(key).map(Vec::as_slice),
                Some(&value_of(key)[..]),
                "acknowledged key {key} lost or wrong after round {round}"
            );
        }
        for (key, value) in &present {
            assert_eq!(value, &value_of(key), "torn value under {key}");
            let (main, twin_key) = match key.strip_suffix("/twin") {
                Some(main) => (main.to_string(), key.clone()),
                None => (key.clone(), twin(key)),
            };
            assert!(
                present.contains_key(&main) && present.contains_key(&twin_key),
                "half a batch survived: {key}"
            );
        }
        // Each thread commits in sequence, so its surviving keys have no gaps.
        for t in 0..THREADS {
            let prefix = format!("r{round}/t{t}/");
            let numbers: Vec<u64> = present
                .keys()
                .filter_map(|k| k.strip_prefix(&prefix))
                .filter(|rest| !rest.ends_with("/twin"))
                .map(|n| n.parse().unwrap())
                .collect();
            assert!(
                numbers.iter().enumerate().all(|(i, n)| *n == i as u64),
                "gap in thread {t} of round {round}"
            );
        }
    }
}
