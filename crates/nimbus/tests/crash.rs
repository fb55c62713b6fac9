//! An acknowledged write survives `kill -9` of the whole server, end to end over the AWS wire
//! protocol.
//!
//! Concurrent writers put numbered items and add to counters through the AWS SDK, recording a
//! write only once its 200 response arrived. The server is killed with SIGKILL in the middle of
//! the load and restarted on the same data directory. Then every acknowledged item must be there
//! with exactly its value, every item a full Scan returns must be one that some writer sent,
//! whole, and each counter must lie between its acknowledged and its attempted additions. Two
//! kill cycles in a row, so that recovery of an already recovered store is covered too.

// Synchronous test code: the server is managed from the test thread, outside the runtime.
#![allow(clippy::disallowed_methods)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use tokio::runtime::Runtime;

type Item = HashMap<String, AttributeValue>;

const TABLE: &str = "crash";
const WRITERS: u64 = 8;
const CYCLES: u64 = 2;
/// Partition key of the counter items; one counter per writer, sort key = writer.
const COUNTERS: &str = "counters";

/// The item that writer `w` puts as its `i`-th write of `cycle`: several attribute types and a
/// binary payload whose size varies from nothing to a few KB, all derived from the key.
fn item(cycle: u64, w: u64, i: u64) -> Item {
    let seed = cycle * 1_000_003 + w * 10_007 + i;
    let len = (seed * 7919 % 6000) as usize;
    let blob: Vec<u8> = (0..len).map(|k| (seed as usize + k * 31) as u8).collect();
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(format!("c{cycle}w{w}"))),
        ("sk".to_owned(), AttributeValue::N(i.to_string())),
        (
            "v".to_owned(),
            AttributeValue::S(format!("cycle {cycle} writer {w} item {i}")),
        ),
        ("seq".to_owned(), AttributeValue::N(format!("{seed}.25"))),
        ("blob".to_owned(), AttributeValue::B(Blob::new(blob))),
        (
            "m".to_owned(),
            AttributeValue::M(HashMap::from([
                ("even".to_owned(), AttributeValue::Bool(i.is_multiple_of(2))),
                (
                    "l".to_owned(),
                    AttributeValue::L(vec![
                        AttributeValue::N(w.to_string()),
                        AttributeValue::Null(true),
                    ]),
                ),
            ])),
        ),
    ])
}

/// What the writers did, over all cycles.
#[derive(Default)]
struct Ledger {
    /// (cycle, writer) -> indices whose PutItem returned 200.
    acked: BTreeMap<(u64, u64), Vec<u64>>,
    /// (cycle, writer) -> number of PutItem requests sent (indices 0..n).
    attempted: BTreeMap<(u64, u64), u64>,
    /// writer -> ADD requests that returned 200 / that were sent.
    counter_acked: BTreeMap<u64, u64>,
    counter_attempted: BTreeMap<u64, u64>,
}

struct WriterReport {
    w: u64,
    acked: Vec<u64>,
    attempted: u64,
    adds_acked: u64,
    adds_attempted: u64,
    /// An error that arrived before the server was killed: the server failed a write on its own.
    early_error: Option<String>,
}

async fn writer(client: Client, cycle: u64, w: u64, killed: Arc<AtomicBool>) -> WriterReport {
    let mut r = WriterReport {
        w,
        acked: Vec::new(),
        attempted: 0,
        adds_acked: 0,
        adds_attempted: 0,
        early_error: None,
    };
    let fail = |r: &mut WriterReport, what: String| {
        if !killed.load(Ordering::SeqCst) {
            r.early_error = Some(what);
        }
    };
    for i in 0.. {
        r.attempted = i + 1;
        let put = client
            .put_item()
            .table_name(TABLE)
            .set_item(Some(item(cycle, w, i)))
            .send()
            .await;
        match put {
            Ok(_) => r.acked.push(i),
            Err(e) => {
                fail(&mut r, format!("PutItem c{cycle}w{w} #{i}: {e:?}"));
                break;
            }
        }
        if i.is_multiple_of(3) {
            r.adds_attempted += 1;
            let add = client
                .update_item()
                .table_name(TABLE)
                .key("pk", AttributeValue::S(COUNTERS.to_owned()))
                .key("sk", AttributeValue::N(w.to_string()))
                .update_expression("ADD hits :one")
                .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
                .send()
                .await;
            match add {
                Ok(_) => r.adds_acked += 1,
                Err(e) => {
                    fail(&mut r, format!("UpdateItem ADD counter w{w}: {e:?}"));
                    break;
                }
            }
        }
    }
    r
}

fn client(rt: &Runtime, server: &common::Server, data_dir: &Path) -> Client {
    // No SDK retries: each call is one request, so "attempted" counts what the server may have
    // applied, and an ADD is never applied twice for one call.
    rt.block_on(common::dynamodb_client(
        &server.endpoint_url(),
        common::credentials(data_dir),
        false,
    ))
}

fn create_table(rt: &Runtime, client: &Client) {
    rt.block_on(async {
        let def = |name: &str, t| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(t)
                .build()
                .expect("attribute definition")
        };
        let key = |name: &str, t| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(t)
                .build()
                .expect("key schema")
        };
        client
            .create_table()
            .table_name(TABLE)
            .attribute_definitions(def("pk", ScalarAttributeType::S))
            .attribute_definitions(def("sk", ScalarAttributeType::N))
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .expect("CreateTable");
    });
}

/// A point between 1.0 and 2.0 s into the load, different from run to run.
fn load_duration() -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    Duration::from_millis(1000 + u64::from(nanos) % 1000)
}

/// Runs the writers against `server` for a while, kills it with SIGKILL mid-load and records
/// what was acknowledged.
fn load_then_kill9(
    rt: &Runtime,
    server: common::Server,
    client: &Client,
    cycle: u64,
    ledger: &mut Ledger,
) {
    let killed = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| rt.spawn(writer(client.clone(), cycle, w, killed.clone())))
        .collect();
    let started = Instant::now();
    let run_for = load_duration();
    while started.elapsed() < run_for && !tasks.iter().any(|t| t.is_finished()) {
        std::thread::sleep(Duration::from_millis(10));
    }
    killed.store(true, Ordering::SeqCst);
    let all_running = !tasks.iter().any(|t| t.is_finished());
    server.kill9();
    let reports: Vec<WriterReport> = rt.block_on(async {
        let mut out = Vec::new();
        for t in tasks {
            let r = tokio::time::timeout(Duration::from_secs(15), t)
                .await
                .expect("writers stop once the server is gone")
                .expect("writer task");
            out.push(r);
        }
        out
    });
    for r in &reports {
        assert!(
            r.early_error.is_none(),
            "a write failed while the server was up: {}",
            r.early_error.as_deref().unwrap_or_default()
        );
    }
    assert!(all_running, "every writer was still writing at the kill");
    let mut acked = 0;
    for r in reports {
        acked += r.acked.len();
        ledger.attempted.insert((cycle, r.w), r.attempted);
        ledger.acked.insert((cycle, r.w), r.acked);
        *ledger.counter_acked.entry(r.w).or_default() += r.adds_acked;
        *ledger.counter_attempted.entry(r.w).or_default() += r.adds_attempted;
    }
    eprintln!(
        "cycle {cycle}: {acked} puts acknowledged in {:?} before kill -9",
        started.elapsed()
    );
    assert!(
        acked >= WRITERS as usize,
        "the load made progress before the kill: {acked} writes"
    );
}

fn number(item: &Item, name: &str) -> u64 {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n
            .parse()
            .unwrap_or_else(|_| panic!("{name} is not an integer: {item:?}")),
        other => panic!("{name} is not a number ({other:?}) in {item:?}"),
    }
}

/// Checks what a restarted server holds against the ledger.
fn verify(rt: &Runtime, client: &Client, ledger: &Ledger) {
    rt.block_on(async {
        // Every acknowledged item, with a consistent GetItem, has exactly its value.
        let checks = ledger.acked.iter().map(|(&(cycle, w), indices)| {
            let client = client.clone();
            let indices = indices.clone();
            tokio::spawn(async move {
                for i in indices {
                    let want = item(cycle, w, i);
                    let got = client
                        .get_item()
                        .table_name(TABLE)
                        .key("pk", want["pk"].clone())
                        .key("sk", want["sk"].clone())
                        .consistent_read(true)
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("GetItem c{cycle}w{w} #{i}: {e:?}"));
                    match got.item {
                        Some(got) => assert!(
                            got == want,
                            "acknowledged item c{cycle}w{w} #{i} has another value: {:?}",
                            got.get("v")
                        ),
                        None => panic!("acknowledged item c{cycle}w{w} #{i} is lost"),
                    }
                }
            })
        });
        for check in checks.collect::<Vec<_>>() {
            check.await.expect("GetItem checks");
        }

        // A full Scan succeeds; each item it returns decodes and is exactly one that a writer
        // sent (acknowledged or not), and every acknowledged item is among them.
        let scanned: Vec<Item> = client
            .scan()
            .table_name(TABLE)
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("full Scan after restart");
        let mut found: BTreeMap<(u64, u64), Vec<u64>> = BTreeMap::new();
        let mut counters = BTreeMap::new();
        for got in &scanned {
            let pk = match got.get("pk") {
                Some(AttributeValue::S(pk)) => pk.as_str(),
                other => panic!("scanned item with pk {other:?}: {got:?}"),
            };
            let sk = number(got, "sk");
            if pk == COUNTERS {
                counters.insert(sk, number(got, "hits"));
                continue;
            }
            let (cycle, w) = pk
                .strip_prefix('c')
                .and_then(|rest| rest.split_once('w'))
                .and_then(|(c, w)| Some((c.parse().ok()?, w.parse().ok()?)))
                .unwrap_or_else(|| panic!("scanned item with an unknown key: {pk}"));
            let attempted = ledger.attempted.get(&(cycle, w)).copied().unwrap_or(0);
            assert!(
                sk < attempted,
                "scanned item c{cycle}w{w} #{sk} was never written (only {attempted} were sent)"
            );
            assert!(
                *got == item(cycle, w, sk),
                "scanned item c{cycle}w{w} #{sk} is torn: {:?}",
                got.get("v")
            );
            found.entry((cycle, w)).or_default().push(sk);
        }
        for ((cycle, w), acked) in &ledger.acked {
            let found = found.remove(&(*cycle, *w)).unwrap_or_default();
            let missing: Vec<_> = acked.iter().filter(|i| !found.contains(i)).collect();
            assert!(
                missing.is_empty(),
                "Scan misses acknowledged items of c{cycle}w{w}: {missing:?}"
            );
        }

        // Each counter counts every acknowledged ADD and at most the attempted ones.
        for (w, &acked) in &ledger.counter_acked {
            let attempted = ledger.counter_attempted[w];
            let hits = counters.get(w).copied().unwrap_or(0);
            assert!(
                acked <= hits && hits <= attempted,
                "counter of writer {w} is {hits}: {acked} ADDs acknowledged, {attempted} sent"
            );
        }
        eprintln!(
            "verified {} scanned items and {} counters",
            scanned.len(),
            counters.len()
        );
    });
}

#[test]
fn acknowledged_writes_survive_kill_9_twice() {
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("tempdir");
    let data_dir = tmp.path().join("data");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut ledger = Ledger::default();

    let mut server = common::Server::start(&data_dir);
    let mut client = client(&rt, &server, &data_dir);
    create_table(&rt, &client);
    for cycle in 0..CYCLES {
        load_then_kill9(&rt, server, &client, cycle, &mut ledger);
        server = common::Server::start(&data_dir);
        client = self::client(&rt, &server, &data_dir);
        verify(&rt, &client, &ledger);
    }
    let status = server.terminate(Duration::from_secs(10));
    assert!(status.success(), "graceful exit after recovery: {status:?}");
    let errors = common::error_lines(&data_dir);
    assert!(
        errors.is_empty(),
        "server logged errors:\n{}",
        errors.join("\n")
    );
    eprintln!("two kill -9 cycles in {:?}", started.elapsed());
}
