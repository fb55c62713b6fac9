//! Function logs: one log group per function (`/aws/lambda/{name}`), one log stream per
//! execution environment (`YYYY/MM/DD/[version]id`, as Lambda names them), one event per line
//! of the environment's output plus Lambda's `START`, `END` and `REPORT` lines.
//!
//! Events are appended to one file per stream under `<data-dir>/logs/<function>/` by a
//! dedicated writer thread, so no invocation waits on log I/O. Logs are an operational record,
//! not data: they are not fsynced per line, and streams older than the retention period are
//! deleted.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEvent {
    /// Epoch milliseconds.
    pub timestamp: u64,
    pub message: String,
    pub stream: String,
}

/// Which events to read.
#[derive(Debug, Clone)]
pub struct LogQuery<'a> {
    /// Only these streams; all when empty.
    pub streams: &'a [String],
    /// Epoch milliseconds, inclusive.
    pub start_ms: u64,
    /// Epoch milliseconds, exclusive.
    pub end_ms: u64,
    pub limit: usize,
    /// Keep the oldest `limit` events (else the newest).
    pub from_head: bool,
}

impl Default for LogQuery<'_> {
    fn default() -> Self {
        LogQuery {
            streams: &[],
            start_ms: 0,
            end_ms: u64::MAX,
            limit: 10_000,
            from_head: true,
        }
    }
}

/// A log stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreamInfo {
    pub name: String,
    pub first_event_ms: u64,
    pub last_event_ms: u64,
    pub stored_bytes: u64,
}

/// The logs of one function (its log group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupInfo {
    pub function: String,
    pub created_ms: u64,
    pub stored_bytes: u64,
    pub retention_days: Option<u32>,
}

/// The file, in a function's log directory, that holds its retention in days.
const RETENTION_FILE: &str = ".retention-days";

/// The current time as an ISO 8601 UTC timestamp with milliseconds (`2024-05-01T12:00:00.123Z`).
pub fn iso_now() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

/// Now, in epoch milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

enum Write_ {
    Line { file: PathBuf, line: String },
    Flush(mpsc::Sender<()>),
}

/// The log files of all functions.
#[derive(Clone)]
pub struct LogStore {
    root: PathBuf,
    writer: mpsc::Sender<Write_>,
}

impl std::fmt::Debug for LogStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogStore")
            .field("root", &self.root)
            .finish()
    }
}

/// Turns a stream name into a file name and back: `/` is not allowed in file names.
fn stream_file(stream: &str) -> String {
    stream.replace('%', "%25").replace('/', "%2F")
}

fn file_stream(file: &str) -> String {
    file.replace("%2F", "/").replace("%25", "%")
}

impl LogStore {
    /// Starts the writer thread. The thread ends when the last handle is dropped.
    pub fn open(root: PathBuf) -> std::io::Result<LogStore> {
        std::fs::create_dir_all(&root)?;
        let (writer, requests) = mpsc::channel::<Write_>();
        std::thread::Builder::new()
            .name("nimbus-logs".into())
            .spawn(move || write_loop(requests))?;
        Ok(LogStore { root, writer })
    }

    fn function_dir(&self, function: &str) -> PathBuf {
        self.root.join(function)
    }

    /// A new stream of `function` for an environment running `version`.
    pub fn stream(&self, function: &str, version: &str, id: &str) -> LogStream {
        let date = time::OffsetDateTime::now_utc().date();
        let name = format!(
            "{:04}/{:02}/{:02}/[{version}]{id}",
            date.year(),
            u8::from(date.month()),
            date.day()
        );
        LogStream {
            file: self.function_dir(function).join(stream_file(&name)),
            name,
            writer: self.writer.clone(),
        }
    }

    /// Waits until every line written so far is in its file.
    pub fn flush(&self) {
        let (tx, rx) = mpsc::channel();
        if self.writer.send(Write_::Flush(tx)).is_ok() {
            let _ = rx.recv_timeout(Duration::from_secs(5));
        }
    }

    /// The events of `function` matching `query`, oldest first. Blocks on I/O.
    pub fn events(&self, function: &str, query: &LogQuery<'_>) -> std::io::Result<Vec<LogEvent>> {
        self.flush();
        let mut events = Vec::new();
        for (name, path) in self.stream_files(function)? {
            if !query.streams.is_empty() && !query.streams.contains(&name) {
                continue;
            }
            for line in BufReader::new(File::open(path)?).lines() {
                let line = line?;
                let Some((ts, message)) = line.split_once('\t') else {
                    continue;
                };
                let Ok(timestamp) = ts.parse::<u64>() else {
                    continue;
                };
                if timestamp >= query.start_ms && timestamp < query.end_ms {
                    events.push(LogEvent {
                        timestamp,
                        message: unescape(message),
                        stream: name.clone(),
                    });
                }
            }
        }
        // Stable: lines of one stream keep their order within a millisecond.
        events.sort_by_key(|e| e.timestamp);
        if events.len() > query.limit {
            if query.from_head {
                events.truncate(query.limit);
            } else {
                events.drain(..events.len() - query.limit);
            }
        }
        Ok(events)
    }

    /// The streams of `function`, by name, with their files.
    fn stream_files(&self, function: &str) -> std::io::Result<Vec<(String, PathBuf)>> {
        let entries = match std::fs::read_dir(self.function_dir(function)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry?;
            let file = entry.file_name().to_string_lossy().into_owned();
            if file.starts_with('.') {
                continue;
            }
            files.push((file_stream(&file), entry.path()));
        }
        files.sort();
        Ok(files)
    }

    /// The streams of `function` with their first and last event times and sizes.
    pub fn streams(&self, function: &str) -> std::io::Result<Vec<StreamInfo>> {
        self.flush();
        let mut out = Vec::new();
        for (name, path) in self.stream_files(function)? {
            let bytes = std::fs::metadata(&path)?.len();
            let mut first = None;
            let mut last = None;
            for line in BufReader::new(File::open(&path)?).lines() {
                let line = line?;
                if let Some(ts) = line
                    .split_once('\t')
                    .and_then(|(t, _)| t.parse::<u64>().ok())
                {
                    first.get_or_insert(ts);
                    last = Some(ts);
                }
            }
            out.push(StreamInfo {
                name,
                first_event_ms: first.unwrap_or(0),
                last_event_ms: last.unwrap_or(0),
                stored_bytes: bytes,
            });
        }
        Ok(out)
    }

    /// The functions that have logs, with their total size and the time of their first
    /// event.
    pub fn groups(&self) -> std::io::Result<Vec<GroupInfo>> {
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return Ok(out);
        };
        for entry in entries.flatten() {
            let function = entry.file_name().to_string_lossy().into_owned();
            let streams = self.streams(&function)?;
            out.push(GroupInfo {
                retention_days: self.retention_days(&function),
                created_ms: streams.iter().map(|s| s.first_event_ms).min().unwrap_or(0),
                stored_bytes: streams.iter().map(|s| s.stored_bytes).sum(),
                function,
            });
        }
        out.sort_by(|a, b| a.function.cmp(&b.function));
        Ok(out)
    }

    /// The retention set for `function`'s logs, if any.
    pub fn retention_days(&self, function: &str) -> Option<u32> {
        std::fs::read_to_string(self.function_dir(function).join(RETENTION_FILE))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    /// Sets (or, with `None`, removes) the retention of `function`'s logs.
    pub fn set_retention_days(&self, function: &str, days: Option<u32>) -> std::io::Result<()> {
        let dir = self.function_dir(function);
        std::fs::create_dir_all(&dir)?;
        let file = dir.join(RETENTION_FILE);
        match days {
            Some(days) => std::fs::write(file, days.to_string()),
            None => match std::fs::remove_file(file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        }
    }

    /// Deletes streams not written to for `retention`, or for the function's own retention
    /// when one is set. Blocks on I/O.
    pub fn expire(&self, retention: Duration) -> std::io::Result<usize> {
        let mut removed = 0;
        let Ok(functions) = std::fs::read_dir(&self.root) else {
            return Ok(0);
        };
        for function in functions.flatten() {
            let own = self
                .retention_days(&function.file_name().to_string_lossy())
                .map(|d| Duration::from_secs(u64::from(d) * 86_400));
            let cutoff = SystemTime::now() - own.unwrap_or(retention);
            for stream in std::fs::read_dir(function.path())?.flatten() {
                if stream.file_name().to_string_lossy().starts_with('.') {
                    continue;
                }
                let old = stream
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|m| m < cutoff);
                if old && std::fs::remove_file(stream.path()).is_ok() {
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

/// Lines are stored one per line of the file: newlines and backslashes are escaped.
fn escape(message: &str) -> String {
    message
        .replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

fn unescape(stored: &str) -> String {
    let mut out = String::with_capacity(stored.len());
    let mut chars = stored.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Appends lines as they come, buffered: everything received in one wake-up is written, then
/// every touched file is flushed before the thread sleeps again.
fn write_loop(requests: mpsc::Receiver<Write_>) {
    let mut files: HashMap<PathBuf, BufWriter<File>> = HashMap::new();
    while let Ok(first) = requests.recv() {
        // A line rarely comes alone (an invocation writes START, its output, END and REPORT):
        // let the others arrive before writing. While this thread sleeps, sending to it wakes
        // nobody, so the invocations pay one wake-up of this thread per millisecond at most
        // instead of one per line (a tenth of the server's CPU at 4,000 invocations/s).
        // A flush (a reader waiting) is served at once.
        if matches!(first, Write_::Line { .. }) {
            // This is the log writer's own thread, not a runtime worker.
            #[allow(clippy::disallowed_methods)]
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut waiters = Vec::new();
        let mut next = Some(first);
        while let Some(request) = next {
            write_one(&mut files, request, &mut waiters);
            next = requests.try_recv().ok();
        }
        for f in files.values_mut() {
            let _ = f.flush();
        }
        for done in waiters {
            let _ = done.send(());
        }
        // Keep at most a bounded number of files open.
        if files.len() > 256 {
            files.clear();
        }
    }
}

fn write_one(
    files: &mut HashMap<PathBuf, BufWriter<File>>,
    request: Write_,
    waiters: &mut Vec<mpsc::Sender<()>>,
) {
    {
        match request {
            Write_::Line { file, line } => {
                if !files.contains_key(&file) {
                    if let Some(parent) = file.parent() {
                        let _ = std::fs::create_dir_all(parent);
                    }
                    match std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&file)
                    {
                        Ok(f) => {
                            files.insert(file.clone(), BufWriter::new(f));
                        }
                        Err(e) => {
                            tracing::warn!("cannot open log stream {}: {e}", file.display());
                            return;
                        }
                    }
                }
                if let Some(f) = files.get_mut(&file) {
                    let _ = f.write_all(line.as_bytes());
                }
            }
            Write_::Flush(done) => waiters.push(done),
        }
    }
}

/// The log stream of one environment.
#[derive(Clone, Debug)]
pub struct LogStream {
    pub name: String,
    file: PathBuf,
    writer: mpsc::Sender<Write_>,
}

impl LogStream {
    /// Appends one event.
    pub fn write(&self, message: &str) {
        let line = format!("{}\t{}\n", now_ms(), escape(message));
        let _ = self.writer.send(Write_::Line {
            file: self.file.clone(),
            line,
        });
    }

    pub fn path(&self) -> &Path {
        &self.file
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_with_newlines_and_expire() {
        let tmp = tempfile::tempdir().expect("tmp");
        let logs = LogStore::open(tmp.path().join("logs")).expect("open");
        let stream = logs.stream("f", "$LATEST", "abc");
        assert!(stream.name.ends_with("/[$LATEST]abc"), "{}", stream.name);
        stream.write("START RequestId: 1");
        stream.write("multi\nline \\ text");
        let other = logs.stream("f", "1", "def");
        other.write("hello");
        let all = logs.events("f", &LogQuery::default()).expect("events");
        assert_eq!(all.len(), 3);
        let mine: Vec<&str> = all
            .iter()
            .filter(|e| e.stream == stream.name)
            .map(|e| e.message.as_str())
            .collect();
        assert_eq!(mine, ["START RequestId: 1", "multi\nline \\ text"]);
        let only = [other.name.clone()];
        let one = logs
            .events(
                "f",
                &LogQuery {
                    streams: &only,
                    ..LogQuery::default()
                },
            )
            .expect("events");
        assert_eq!(one.len(), 1);
        let newest = logs
            .events(
                "f",
                &LogQuery {
                    limit: 1,
                    from_head: false,
                    ..LogQuery::default()
                },
            )
            .expect("events");
        assert_eq!(newest.len(), 1);
        let streams = logs.streams("f").expect("streams");
        assert_eq!(streams.len(), 2);
        assert!(
            streams
                .iter()
                .all(|s| s.stored_bytes > 0 && s.first_event_ms > 0)
        );
        logs.set_retention_days("f", Some(7)).expect("retention");
        let groups = logs.groups().expect("groups");
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].retention_days, Some(7));
        assert_eq!(
            logs.expire(Duration::ZERO).expect("expire"),
            0,
            "7 days apply"
        );
        logs.set_retention_days("f", None).expect("retention");
        assert_eq!(logs.expire(Duration::from_secs(3600)).expect("expire"), 0);
        assert_eq!(logs.expire(Duration::ZERO).expect("expire"), 2);
        assert!(
            logs.events("nope", &LogQuery::default())
                .expect("events")
                .is_empty()
        );
    }
}
