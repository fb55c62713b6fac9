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
use std::io::{BufRead, BufReader, Write};
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

    /// The events of `function` at or after `since_ms`, oldest first, at most `limit`,
    /// optionally from one stream only. Blocks on I/O.
    pub fn events(
        &self,
        function: &str,
        stream: Option<&str>,
        since_ms: u64,
        limit: usize,
    ) -> std::io::Result<Vec<LogEvent>> {
        self.flush();
        let dir = self.function_dir(function);
        let mut events = Vec::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(events),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let name = file_stream(&entry.file_name().to_string_lossy());
            if stream.is_some_and(|s| s != name) {
                continue;
            }
            for line in BufReader::new(File::open(entry.path())?).lines() {
                let line = line?;
                let Some((ts, message)) = line.split_once('\t') else {
                    continue;
                };
                let Ok(timestamp) = ts.parse::<u64>() else {
                    continue;
                };
                if timestamp >= since_ms {
                    events.push(LogEvent {
                        timestamp,
                        message: unescape(message),
                        stream: name.clone(),
                    });
                }
            }
        }
        events.sort_by_key(|e| e.timestamp);
        if events.len() > limit {
            events.drain(..events.len() - limit);
        }
        Ok(events)
    }

    /// Deletes streams not written to for `retention`. Blocks on I/O.
    pub fn expire(&self, retention: Duration) -> std::io::Result<usize> {
        let mut removed = 0;
        let Ok(functions) = std::fs::read_dir(&self.root) else {
            return Ok(0);
        };
        let cutoff = SystemTime::now() - retention;
        for function in functions.flatten() {
            for stream in std::fs::read_dir(function.path())?.flatten() {
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

fn write_loop(requests: mpsc::Receiver<Write_>) {
    let mut files: HashMap<PathBuf, File> = HashMap::new();
    while let Ok(request) = requests.recv() {
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
                            files.insert(file.clone(), f);
                        }
                        Err(e) => {
                            tracing::warn!("cannot open log stream {}: {e}", file.display());
                            continue;
                        }
                    }
                }
                if let Some(f) = files.get_mut(&file) {
                    let _ = f.write_all(line.as_bytes());
                }
                // Keep at most a bounded number of files open.
                if files.len() > 256 {
                    files.clear();
                }
            }
            Write_::Flush(done) => {
                let _ = done.send(());
            }
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
        let all = logs.events("f", None, 0, 100).expect("events");
        assert_eq!(all.len(), 3);
        let mine: Vec<&str> = all
            .iter()
            .filter(|e| e.stream == stream.name)
            .map(|e| e.message.as_str())
            .collect();
        assert_eq!(mine, ["START RequestId: 1", "multi\nline \\ text"]);
        let one = logs.events("f", Some(&other.name), 0, 100).expect("events");
        assert_eq!(one.len(), 1);
        assert_eq!(logs.events("f", None, 0, 1).expect("events").len(), 1);
        assert_eq!(logs.expire(Duration::from_secs(3600)).expect("expire"), 0);
        assert_eq!(logs.expire(Duration::ZERO).expect("expire"), 2);
        assert!(logs.events("nope", None, 0, 10).expect("events").is_empty());
    }
}
