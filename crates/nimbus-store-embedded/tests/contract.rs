//! The contract of `nimbus_store::Store` (as `MemStore` defines it) run against the embedded
//! engine, plus what only a real backend has: reopening, the directory lock, concurrent
//! committers sharing syncs.

use std::future::Future;
use std::ops::{Bound, ControlFlow};
use std::path::Path;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use nimbus_store::mem::MemStore;
use nimbus_store::{Direction, Error, KeyRange, Store, WriteBatch};
use nimbus_store_embedded::{EmbeddedOptions, EmbeddedStore};

fn open(dir: &Path) -> EmbeddedStore {
    EmbeddedStore::open(dir, EmbeddedOptions::default()).expect("open store")
}

fn fresh() -> (tempfile::TempDir, EmbeddedStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(dir.path());
    (dir, store)
}

fn put_all(store: &dyn Store, pairs: &[(&[u8], &[u8])]) {
    let mut batch = WriteBatch::new();
    for (k, v) in pairs {
        batch.put(*k, *v);
    }
    store.commit(batch).expect("commit");
}

fn collect(store: &dyn Store, range: &KeyRange, direction: Direction) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut seen = Vec::new();
    store
        .scan(range, direction, &mut |k, v| {
            seen.push((k.to_vec(), v.to_vec()));
            ControlFlow::Continue(())
        })
        .expect("scan");
    seen
}

fn keys(store: &dyn Store, range: &KeyRange, direction: Direction) -> Vec<Vec<u8>> {
    collect(store, range, direction)
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

fn all() -> KeyRange {
    KeyRange {
        start: Bound::Unbounded,
        end: Bound::Unbounded,
    }
}

#[test]
fn checks_guard_the_whole_batch() {
    let (_dir, s) = fresh();
    put_all(&s, &[(b"a", b"1")]);

    let mut b = WriteBatch::new();
    b.check_equals(b"a".to_vec(), b"1".to_vec())
        .check_absent(b"a".to_vec())
        .put(b"b".to_vec(), b"2".to_vec())
        .delete(b"a".to_vec());
    assert!(matches!(s.commit(b), Err(Error::Conflict { index: 1 })));
    assert_eq!(s.get(b"a").unwrap(), Some(b"1".to_vec()));
    assert_eq!(s.get(b"b").unwrap(), None);

    let mut b = WriteBatch::new();
    b.check_equals(b"a".to_vec(), b"2".to_vec())
        .put(b"b".to_vec(), b"2".to_vec());
    assert!(matches!(s.commit(b), Err(Error::Conflict { index: 0 })));
    assert!(matches!(
        s.commit({
            let mut b = WriteBatch::new();
            b.check_absent(b"zz".to_vec());
            b
        }),
        Ok(())
    ));

    let mut b = WriteBatch::new();
    b.check(b"a".to_vec(), Some(b"1".to_vec()))
        .check(b"b".to_vec(), None)
        .put(b"a".to_vec(), b"10".to_vec())
        .put(b"b".to_vec(), b"20".to_vec());
    s.commit(b).unwrap();
    assert_eq!(s.get(b"a").unwrap(), Some(b"10".to_vec()));
    assert_eq!(s.get(b"b").unwrap(), Some(b"20".to_vec()));
}

#[test]
fn checks_see_the_state_before_the_batch() {
    let (_dir, s) = fresh();
    let mut b = WriteBatch::new();
    b.put(b"k".to_vec(), b"v".to_vec())
        .check_absent(b"k".to_vec());
    s.commit(b).unwrap();
    assert_eq!(s.get(b"k").unwrap(), Some(b"v".to_vec()));
}

#[test]
fn delete_and_delete_range() {
    let (_dir, s) = fresh();
    put_all(
        &s,
        &[
            (b"a", b""),
            (b"b1", b""),
            (b"b2", b""),
            (b"b3", b""),
            (b"c", b""),
        ],
    );
    let mut b = WriteBatch::new();
    b.delete(b"a".to_vec()).delete(b"missing".to_vec());
    b.delete_range(KeyRange {
        start: Bound::Excluded(b"b1".to_vec()),
        end: Bound::Included(b"b3".to_vec()),
    });
    s.commit(b).unwrap();
    assert_eq!(
        keys(&s, &all(), Direction::Forward),
        vec![b"b1".to_vec(), b"c".to_vec()]
    );

    // A range delete in the same batch as puts into the range: ops apply in order.
    let mut b = WriteBatch::new();
    b.put(b"b5".to_vec(), b"x".to_vec())
        .delete_range(KeyRange::prefix(b"b"))
        .put(b"b9".to_vec(), b"y".to_vec());
    s.commit(b).unwrap();
    assert_eq!(
        keys(&s, &all(), Direction::Forward),
        vec![b"b9".to_vec(), b"c".to_vec()]
    );

    let mut b = WriteBatch::new();
    b.delete_range(all());
    s.commit(b).unwrap();
    assert!(keys(&s, &all(), Direction::Forward).is_empty());
}

#[test]
fn scans_both_ways_with_bounds_and_early_break() {
    let (_dir, s) = fresh();
    put_all(
        &s,
        &[
            (b"p1", b"1"),
            (b"p2", b"2"),
            (b"p3", b"3"),
            (b"q1", b"4"),
            (b"o9", b"0"),
        ],
    );
    let p = KeyRange::prefix(b"p");
    assert_eq!(
        keys(&s, &p, Direction::Forward),
        vec![b"p1".to_vec(), b"p2".to_vec(), b"p3".to_vec()]
    );
    assert_eq!(
        keys(&s, &p, Direction::Reverse),
        vec![b"p3".to_vec(), b"p2".to_vec(), b"p1".to_vec()]
    );

    let mut seen = Vec::new();
    s.scan(&all(), Direction::Reverse, &mut |k, _| {
        seen.push(k.to_vec());
        if seen.len() == 2 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    assert_eq!(seen, vec![b"q1".to_vec(), b"p3".to_vec()]);

    let mixed = KeyRange {
        start: Bound::Excluded(b"p1".to_vec()),
        end: Bound::Included(b"q1".to_vec()),
    };
    assert_eq!(
        keys(&s, &mixed, Direction::Reverse),
        vec![b"q1".to_vec(), b"p3".to_vec(), b"p2".to_vec()]
    );

    let inverted = KeyRange {
        start: Bound::Included(b"q".to_vec()),
        end: Bound::Excluded(b"p".to_vec()),
    };
    assert!(keys(&s, &inverted, Direction::Forward).is_empty());
    assert!(keys(&s, &inverted, Direction::Reverse).is_empty());
}

#[test]
fn empty_values_are_values() {
    let (_dir, s) = fresh();
    put_all(&s, &[(b"e", b"")]);
    assert_eq!(s.get(b"e").unwrap(), Some(Vec::new()));
    let mut b = WriteBatch::new();
    b.check_absent(b"e".to_vec());
    assert!(matches!(s.commit(b), Err(Error::Conflict { index: 0 })));
    let mut b = WriteBatch::new();
    b.check_equals(b"e".to_vec(), Vec::new())
        .delete(b"e".to_vec());
    s.commit(b).unwrap();
    assert_eq!(s.get(b"e").unwrap(), None);
}

#[test]
fn binary_keys_with_zero_and_ff_bytes() {
    let (_dir, s) = fresh();
    let ks: Vec<Vec<u8>> = vec![
        vec![0x00],
        vec![0x00, 0x00],
        vec![0x01, 0x00, 0xff],
        vec![0x01, 0xff],
        vec![0x01, 0xff, 0x00],
        vec![0xff],
        vec![0xff, 0xff, 0xff],
    ];
    let mut b = WriteBatch::new();
    for k in ks.iter().rev() {
        b.put(k.clone(), k.clone());
    }
    s.commit(b).unwrap();
    assert_eq!(keys(&s, &all(), Direction::Forward), ks);
    assert_eq!(
        keys(&s, &KeyRange::prefix(&[0x01, 0xff]), Direction::Forward),
        vec![vec![0x01, 0xff], vec![0x01, 0xff, 0x00]]
    );
    assert_eq!(
        keys(&s, &KeyRange::prefix(&[0xff]), Direction::Reverse),
        vec![vec![0xff, 0xff, 0xff], vec![0xff]]
    );
    assert_eq!(
        keys(&s, &KeyRange::prefix(&[0x00]), Direction::Forward),
        vec![vec![0x00], vec![0x00, 0x00]]
    );
    for k in &ks {
        assert_eq!(s.get(k).unwrap().as_ref(), Some(k));
    }
}

/// A tiny deterministic generator, so failures replay.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn key(&mut self) -> Vec<u8> {
        let alphabet = [0x00, 0x01, b'a', b'b', 0xfe, 0xff];
        let len = 1 + self.below(3) as usize;
        (0..len)
            .map(|_| alphabet[self.below(alphabet.len() as u64) as usize])
            .collect()
    }
    fn bound(&mut self) -> Bound<Vec<u8>> {
        match self.below(3) {
            0 => Bound::Included(self.key()),
            1 => Bound::Excluded(self.key()),
            _ => Bound::Unbounded,
        }
    }
}

/// Random batches applied to the engine and to `MemStore` give the same answers and state.
#[test]
fn behaves_like_the_reference_store() {
    let (_dir, s) = fresh();
    let reference = MemStore::new();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..400 {
        let mut b = WriteBatch::new();
        for _ in 0..rng.below(3) {
            let key = rng.key();
            let current = reference.get(&key).unwrap();
            let expected = match (rng.below(4), current) {
                (0, _) => Some(vec![rng.below(3) as u8]),
                (_, current) => current,
            };
            b.check(key, expected);
        }
        for _ in 0..1 + rng.below(4) {
            match rng.below(10) {
                0 => {
                    let (start, end) = (rng.bound(), rng.bound());
                    b.delete_range(KeyRange { start, end });
                }
                1..=3 => {
                    b.delete(rng.key());
                }
                4 => {
                    let deltas = (0..rng.below(3)).map(|_| rng.below(5) as i64 - 2).collect();
                    b.add(rng.key(), deltas);
                }
                _ => {
                    let len = rng.below(3) as usize;
                    b.put(rng.key(), vec![round as u8; len]);
                }
            }
        }
        let got = s.commit(b.clone());
        let want = reference.commit(b);
        match (&got, &want) {
            (Ok(()), Ok(())) => {}
            (Err(Error::Conflict { index: g }), Err(Error::Conflict { index: w })) => {
                assert_eq!(g, w, "round {round}")
            }
            _ => panic!("round {round}: engine {got:?}, reference {want:?}"),
        }
        let probe: Vec<Vec<u8>> = (0..rng.below(4)).map(|_| rng.key()).collect();
        let probe: Vec<&[u8]> = probe.iter().map(Vec::as_slice).collect();
        assert_eq!(
            s.get_many(&probe).unwrap(),
            reference.get_many(&probe).unwrap(),
            "round {round} get_many {probe:?}"
        );
        let range = KeyRange {
            start: rng.bound(),
            end: rng.bound(),
        };
        if nimbus_store_embedded::engine::is_empty_range(&range) {
            continue;
        }
        for direction in [Direction::Forward, Direction::Reverse] {
            assert_eq!(
                collect(&s, &range, direction),
                collect(&reference, &range, direction),
                "round {round} {direction:?} {range:?}"
            );
        }
    }
    assert_eq!(
        collect(&s, &all(), Direction::Forward),
        collect(&reference, &all(), Direction::Forward)
    );
}

#[test]
fn reopen_keeps_commits_and_the_lock_excludes_a_second_store() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(dir.path());
        put_all(&s, &[(b"t/1", b"one"), (b"t/2", b"two")]);
        match EmbeddedStore::open(dir.path(), EmbeddedOptions::default()) {
            Err(nimbus_store_embedded::Error::Locked { dir: locked }) => {
                assert_eq!(locked, dir.path())
            }
            Err(other) => panic!("expected Locked, got {other}"),
            Ok(_) => panic!("a second store opened a locked directory"),
        }
        s.flush().unwrap();
    }
    let s = open(dir.path());
    assert_eq!(s.get(b"t/1").unwrap(), Some(b"one".to_vec()));
    assert_eq!(
        keys(&s, &KeyRange::prefix(b"t/"), Direction::Reverse),
        vec![b"t/2".to_vec(), b"t/1".to_vec()]
    );
}

#[test]
fn non_durable_mode_keeps_commits_across_a_clean_close() {
    let dir = tempfile::tempdir().unwrap();
    let fast = EmbeddedOptions {
        durable: false,
        ..EmbeddedOptions::default()
    };
    {
        let s = EmbeddedStore::open(dir.path(), fast.clone()).unwrap();
        put_all(&s, &[(b"k", b"v")]);
    }
    let s = EmbeddedStore::open(dir.path(), fast).unwrap();
    assert_eq!(s.get(b"k").unwrap(), Some(b"v".to_vec()));
}

/// Runs `commit(store, thread, n)` for `n` in `0..per_thread` on each of `threads` threads.
fn on_threads(
    s: &Arc<EmbeddedStore>,
    threads: usize,
    per_thread: i64,
    commit: fn(&EmbeddedStore, usize, i64),
) {
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || (0..per_thread).for_each(|n| commit(&s, t, n)))
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn concurrent_committers_are_all_acknowledged_and_present() {
    let (_dir, s) = fresh();
    let s = Arc::new(s);
    let threads = 16;
    let per_thread = 50;
    on_threads(&s, threads, per_thread, |s, t, n| {
        let mut b = WriteBatch::new();
        let key = format!("c/{t:02}/{n:03}");
        b.check_absent(key.clone()).put(key.clone(), key.repeat(4));
        s.commit(b).expect("commit");
    });
    let found = collect(&*s, &KeyRange::prefix(b"c/"), Direction::Forward);
    assert_eq!(found.len(), threads * per_thread as usize);
    for (k, v) in found {
        assert_eq!(v, k.repeat(4));
    }
}

/// Committers racing for the same key: the group evaluates them in order, so exactly one
/// `check_absent` wins per key even when they share a sync.
#[test]
fn racing_conditional_puts_have_one_winner() {
    let (_dir, s) = fresh();
    let s = Arc::new(s);
    let keys_to_race = 40;
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                let mut won = 0;
                for n in 0..keys_to_race {
                    let mut b = WriteBatch::new();
                    let key = format!("race/{n:03}");
                    b.check_absent(key.clone()).put(key, vec![t as u8]);
                    match s.commit(b) {
                        Ok(()) => won += 1,
                        Err(Error::Conflict { index: 0 }) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
                won
            })
        })
        .collect();
    let wins: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(wins, keys_to_race);
    assert_eq!(
        keys(&*s, &KeyRange::prefix(b"race/"), Direction::Forward).len(),
        keys_to_race
    );
}

/// Runs `future` to completion on this thread, parking while it is pending.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => return output,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// Awaited commits share syncs with blocking ones, and concurrent `Add`s to one counter
/// never conflict: every one of them lands.
#[test]
fn awaited_commits_and_counter_adds_from_many_committers() {
    let (dir, s) = fresh();
    let s = Arc::new(s);
    let threads = 8;
    let per_thread = 40;
    on_threads(&s, threads, per_thread, |s, t, n| {
        let mut b = WriteBatch::new();
        b.put(format!("a/{t}/{n:03}"), b"v".to_vec())
            .add(b"counter".to_vec(), vec![1, n]);
        let commit = s.commit_async(b);
        if n % 2 == 0 {
            block_on(commit).expect("awaited commit");
        } else {
            // Dropping the future does not withdraw the batch.
            drop(commit);
            let mut b = WriteBatch::new();
            b.add(b"counter".to_vec(), vec![0, 0]);
            s.commit(b).expect("blocking commit");
        }
    });
    let sum: i64 = (0..per_thread).sum::<i64>() * threads as i64;
    let mut expected = (threads as i64 * per_thread).to_be_bytes().to_vec();
    expected.extend_from_slice(&sum.to_be_bytes());
    assert_eq!(s.get(b"counter").unwrap(), Some(expected.clone()));
    assert_eq!(
        keys(&*s, &KeyRange::prefix(b"a/"), Direction::Forward).len(),
        threads * per_thread as usize
    );
    drop(s);
    let s = open(dir.path());
    assert_eq!(s.get(b"counter").unwrap(), Some(expected));
    let mut empty = WriteBatch::new();
    assert!(block_on(s.commit_async(std::mem::take(&mut empty))).is_ok());
}

/// A key longer than the engine stores fails its own commit and nothing else: the writer
/// thread keeps serving, and reading such a key finds nothing.
#[test]
fn an_overlong_key_fails_its_commit_only() {
    let (_dir, store) = fresh();
    let long = vec![b'k'; 70_000];
    let mut batch = WriteBatch::new();
    batch
        .put(b"a".to_vec(), b"1".to_vec())
        .put(long.clone(), b"2".to_vec());
    assert!(matches!(store.commit(batch), Err(Error::Backend(_))));
    assert_eq!(store.get(b"a").unwrap(), None, "the batch is atomic");
    assert_eq!(store.get(&long).unwrap(), None);
    put_all(&store, &[(b"b", b"3")]);
    assert_eq!(store.get(b"b").unwrap().as_deref(), Some(&b"3"[..]));
}

/// A range bound longer than any key the engine stores selects the keys it would select if
/// keys could be that long.
#[test]
fn overlong_range_bounds_select_what_they_would() {
    let (_dir, store) = fresh();
    let edge = vec![b'k'; 65_535];
    let mut above = edge.clone();
    above[65_534] = b'l';
    put_all(&store, &[(b"j", b"1"), (&edge, b"2"), (&above, b"3")]);
    let mut long = edge.clone();
    long.push(b'x');
    let from = KeyRange {
        start: Bound::Included(long.clone()),
        end: Bound::Unbounded,
    };
    assert_eq!(keys(&store, &from, Direction::Forward), vec![above.clone()]);
    let to = KeyRange {
        start: Bound::Unbounded,
        end: Bound::Excluded(long),
    };
    assert_eq!(
        keys(&store, &to, Direction::Reverse),
        vec![edge, b"j".to_vec()]
    );
}

#[test]
fn readers_see_a_batch_whole_or_not_at_all() {
    // One writer commits batches that set `a` and `b` to the same number, non-durably so that
    // commits come fast; readers must never see one key of a batch without the other. A scan
    // of both keys sees them equal; a get of `a` then a get of `b` sees `b` at least as new.
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(
        EmbeddedStore::open(
            dir.path(),
            EmbeddedOptions {
                durable: false,
                ..EmbeddedOptions::default()
            },
        )
        .expect("open store"),
    );
    put_all(store.as_ref(), &[(b"a", b"0"), (b"b", b"0")]);
    let number = |v: Option<Vec<u8>>| -> u64 {
        String::from_utf8(v.expect("present"))
            .expect("utf8")
            .parse()
            .expect("number")
    };
    let writer = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            for n in 1..=20_000u64 {
                let value = n.to_string();
                put_all(
                    store.as_ref(),
                    &[(b"a", value.as_bytes()), (b"b", value.as_bytes())],
                );
            }
        })
    };
    while !writer.is_finished() {
        let pairs = collect(store.as_ref(), &all(), Direction::Forward);
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[0].1, pairs[1].1, "a scan saw half a batch");
        let a = number(store.get(b"a").expect("get a"));
        let b = number(store.get(b"b").expect("get b"));
        assert!(b >= a, "b = {b} read after a = {a}: half a batch");
        let together = store.get_many(&[b"a", b"missing", b"b"]).expect("get many");
        assert_eq!(together.len(), 3);
        assert_eq!(together[1], None);
        assert_eq!(together[0], together[2], "get_many saw half a batch");
    }
    writer.join().expect("writer");
}
