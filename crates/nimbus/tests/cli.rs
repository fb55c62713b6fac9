//! The `nimbus` binary as a user runs it: configuration precedence, the credentials file, and
//! graceful shutdown with a request in flight.

// Synchronous test code: there is no async runtime to block here.
#![allow(clippy::disallowed_methods)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn nimbus() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nimbus"));
    for var in [
        "NIMBUS_CONFIG",
        "NIMBUS_DATA_DIR",
        "NIMBUS_LISTEN",
        "NIMBUS_GATEWAY",
        "NIMBUS_REGION",
        "NIMBUS_LOG",
        "NIMBUS_NO_AUTH",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn credentials_json(cmd: &mut Command) -> serde_json::Value {
    let out = cmd.output().expect("run nimbus credentials");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json output")
}

#[test]
fn data_dir_precedence_is_flag_then_env_then_file_then_default() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let config = root.join("nimbus.toml");
    std::fs::write(
        &config,
        format!("data_dir = \"{}\"\n", root.join("file").display()),
    )
    .expect("config");
    let run = |flag: bool, env: bool, file: bool| {
        let mut cmd = nimbus();
        cmd.current_dir(root).args(["credentials", "--json"]);
        if flag {
            cmd.arg("--data-dir").arg(root.join("flag"));
        }
        if env {
            cmd.env("NIMBUS_DATA_DIR", root.join("env"));
        }
        if file {
            cmd.env("NIMBUS_CONFIG", &config);
        }
        credentials_json(&mut cmd)
    };
    let has = |dir: &str| root.join(dir).join("credentials.json").exists();
    run(true, true, true);
    assert!(has("flag") && !has("env") && !has("file"));
    run(false, true, true);
    assert!(has("env") && !has("file"));
    run(false, false, true);
    assert!(has("file") && !has(".nimbus"));
    run(false, false, false);
    assert!(has(".nimbus"));
}

#[test]
fn credentials_are_private_stable_and_printed_as_documented() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("d");
    let first = credentials_json(
        nimbus()
            .args(["credentials", "--json", "--data-dir"])
            .arg(&dir),
    );
    let second = credentials_json(
        nimbus()
            .args(["credentials", "--json", "--data-dir"])
            .arg(&dir),
    );
    assert_eq!(first, second);
    let key = first["access_key_id"].as_str().expect("key id");
    assert_eq!(key.len(), 20);
    assert_eq!(first["secret_access_key"].as_str().map(str::len), Some(40));
    let mode = std::fs::metadata(dir.join("credentials.json"))
        .expect("file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

struct Server {
    child: Child,
    aws: String,
    banner: String,
}

fn start(data_dir: &Path, extra_env: &[(&str, &str)]) -> Server {
    let mut cmd = nimbus();
    cmd.args(["serve", "--gateway", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if !extra_env.iter().any(|(k, _)| *k == "NIMBUS_LISTEN") {
        cmd.args(["--listen", "127.0.0.1:0"]);
    }
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn nimbus serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut banner = String::new();
    let mut aws = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("banner line");
        banner.push_str(&line);
        banner.push('\n');
        if let Some(rest) = line.trim().strip_prefix("AWS API endpoint: http://") {
            aws = rest.split_whitespace().next().map(str::to_owned);
        }
        if line.contains("list-tables") {
            break;
        }
    }
    Server {
        child,
        aws: aws.expect("banner names the AWS endpoint"),
        banner,
    }
}

fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(Instant::now() < deadline, "server did not exit in time");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn banner_tells_how_to_connect_and_env_sets_the_listen_address() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let listen = format!("127.0.0.1:{port}");
    let mut server = start(tmp.path(), &[("NIMBUS_LISTEN", &listen)]);
    assert_eq!(server.aws, listen);
    assert!(
        server.banner.contains(&format!(
            "aws --endpoint-url http://{listen} --region us-east-1 dynamodb list-tables"
        )),
        "{}",
        server.banner
    );
    assert!(server.banner.contains("AWS_SECRET_ACCESS_KEY="));
    terminate(&server.child);
    assert!(wait_exit(&mut server.child, Duration::from_secs(10)).success());
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_then_exits_zero() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut server = start(tmp.path(), &[("NIMBUS_NO_AUTH", "true")]);
    let mut conn = TcpStream::connect(&server.aws).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    // Headers and half of the body: the request is in flight when the signal arrives.
    conn.write_all(
        b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.NoSuchOperation\r\n\
          Content-Type: application/x-amz-json-1.0\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{",
    )
    .expect("send head");
    std::thread::sleep(Duration::from_millis(200));
    terminate(&server.child);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        server.child.try_wait().expect("wait").is_none(),
        "server must wait for the request in flight"
    );
    conn.write_all(b"}").expect("send rest");
    let mut response = String::new();
    conn.read_to_string(&mut response).expect("response");
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(response.contains("UnknownOperationException"), "{response}");
    assert!(response.to_ascii_lowercase().contains("x-amzn-requestid"));
    assert!(wait_exit(&mut server.child, Duration::from_secs(10)).success());
}
