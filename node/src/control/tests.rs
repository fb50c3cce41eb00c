use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::oneshot;

use super::*;
use crate::store::scratch::Scratch;

#[derive(Default)]
struct TestHandler {
    seen: Mutex<Vec<Command>>,
}

fn status(zone: &str) -> ZoneStatusView {
    ZoneStatusView {
        zone: zone.into(),
        state: ZoneState::Ok,
        epoch: 0,
        serial: Some(7),
        primary_serial: Some(7),
        last_refresh: None,
        last_result: None,
        next_refresh: None,
        expires_at: None,
        last_error: None,
        last_primary: None,
        source: None,
        verified_age_seconds: None,
        records: 3,
        bytes: 100,
        transfers: TransferCounts::default(),
    }
}

impl Handler for TestHandler {
    async fn handle(&self, command: Command) -> Response {
        if let Ok(mut seen) = self.seen.lock() {
            seen.push(command.clone());
        }
        match command {
            Command::ZoneStatus(None) => Response::ZoneStatus {
                zones: vec![status("a.example."), status("b.example.")],
            },
            Command::ZoneStatus(Some(name)) => Response::ZoneStatus {
                zones: vec![status(&name.to_string())],
            },
            Command::ZoneRefresh(name) if name.to_string() == "slow." => {
                tokio::time::sleep(Duration::from_secs(10)).await;
                Response::done("late")
            }
            Command::ZoneRefresh(name) => Response::done(format!("refresh of {name} scheduled")),
            Command::ZoneAdd(spec) if spec.primaries.is_empty() => Response::error("no primaries"),
            Command::ZoneAdd(spec) => Response::done(format!("added {}", spec.name)),
            other => Response::not_available(other.op()),
        }
    }
}

struct Running {
    socket: PathBuf,
    handler: Arc<TestHandler>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    _dir: Scratch,
}

impl Running {
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.unwrap();
    }
}

fn start(timeout: Duration) -> Running {
    let dir = Scratch::new("control");
    let socket = dir.path().join("run/understudy/control.sock");
    let server = ControlServer::bind(&socket)
        .unwrap()
        .with_request_timeout(timeout);
    let handler = Arc::new(TestHandler::default());
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(server.serve(Arc::clone(&handler), async {
        let _ = stopped.await;
    }));
    Running {
        socket,
        handler,
        stop: Some(stop),
        task,
        _dir: dir,
    }
}

async fn exchange(socket: &Path, request: Request) -> Response {
    let socket = socket.to_path_buf();
    tokio::task::spawn_blocking(move || send(&socket, &request, Duration::from_secs(5)))
        .await
        .unwrap()
        .unwrap()
}

async fn raw_lines(socket: &Path, lines: &[&[u8]], replies: usize) -> Vec<Response> {
    let stream = UnixStream::connect(socket).await.unwrap();
    let (read, mut write) = stream.into_split();
    for line in lines {
        write.write_all(line).await.unwrap();
    }
    let mut reader = BufReader::new(read);
    let mut responses = Vec::new();
    for _ in 0..replies {
        let mut text = String::new();
        reader.read_line(&mut text).await.unwrap();
        responses.push(serde_json::from_str(&text).unwrap());
    }
    responses
}

#[tokio::test]
async fn control_requests_reach_the_handler_and_answers_come_back() {
    let running = start(DEFAULT_REQUEST_TIMEOUT);
    let all = exchange(&running.socket, Request::ZoneStatus { zone: None }).await;
    let Response::ZoneStatus { zones } = all else {
        panic!("{all:?}")
    };
    assert_eq!(zones.len(), 2);
    let refresh = exchange(
        &running.socket,
        Request::ZoneRefresh {
            zone: "Example.COM".into(),
        },
    )
    .await;
    assert_eq!(refresh, Response::done("refresh of Example.COM. scheduled"));
    let drain = exchange(&running.socket, Request::Drain).await;
    assert_eq!(
        drain,
        Response::error("drain is not available on this node")
    );
    let seen = running.handler.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert!(matches!(&seen[1], Command::ZoneRefresh(name) if name.to_string() == "Example.COM."));
    running.stop().await;
}

#[tokio::test]
async fn control_socket_is_private_and_removed_on_shutdown() {
    let running = start(DEFAULT_REQUEST_TIMEOUT);
    let metadata = std::fs::symlink_metadata(&running.socket).unwrap();
    assert!(metadata.file_type().is_socket());
    assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
    let parent = std::fs::metadata(running.socket.parent().unwrap()).unwrap();
    assert_eq!(parent.permissions().mode() & 0o777, 0o700);
    let socket = running.socket.clone();
    let dir_entries = || std::fs::read_dir(socket.parent().unwrap()).unwrap().count();
    assert_eq!(dir_entries(), 1, "no temporary socket is left behind");
    running.stop().await;
    assert!(!socket.exists());
}

#[tokio::test]
async fn control_stale_socket_is_replaced_but_a_live_one_or_a_file_is_not() {
    let dir = Scratch::new("control-stale");
    let socket = dir.path().join("control.sock");
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    assert!(socket.exists(), "a dead node's socket file remains");
    let live = ControlServer::bind(&socket).unwrap();
    assert!(matches!(
        ControlServer::bind(&socket),
        Err(BindError::InUse { .. })
    ));
    drop(live);
    let file = dir.write("not-a-socket", "precious");
    assert!(matches!(
        ControlServer::bind(&file),
        Err(BindError::NotASocket { .. })
    ));
    assert_eq!(std::fs::read_to_string(file).unwrap(), "precious");
}

#[tokio::test]
async fn control_malformed_lines_get_errors_and_the_connection_goes_on() {
    let running = start(DEFAULT_REQUEST_TIMEOUT);
    let lines: [&[u8]; 6] = [
        b"this is not json\n",
        b"{\"op\":\"format_disk\"}\n",
        b"{\"op\":\"zone_refresh\",\"zone\":\"a..b\"}\n",
        b"\n",
        b"\xff\xfe\n",
        b"{\"op\":\"zone_refresh\",\"zone\":\"ok.example.\"}\n",
    ];
    let responses = raw_lines(&running.socket, &lines, 5).await;
    for response in &responses[..4] {
        assert!(matches!(response, Response::Error { .. }), "{response:?}");
    }
    assert_eq!(
        responses[4],
        Response::done("refresh of ok.example. scheduled")
    );
    running.stop().await;
}

#[tokio::test]
async fn control_oversized_request_is_refused() {
    let running = start(DEFAULT_REQUEST_TIMEOUT);
    let huge = vec![b'x'; 100_000];
    let responses = raw_lines(&running.socket, &[&huge], 1).await;
    assert!(
        matches!(&responses[0], Response::Error { message } if message.contains("longer than")),
        "{responses:?}"
    );
    running.stop().await;
}

#[tokio::test]
async fn control_vanished_client_does_not_kill_the_server() {
    let running = start(Duration::from_secs(1));
    for _ in 0..3 {
        let mut stream = UnixStream::connect(&running.socket).await.unwrap();
        stream
            .write_all(b"{\"op\":\"zone_refresh\",\"zone\":\"slow.\"}\n")
            .await
            .unwrap();
        drop(stream);
        let mut half = UnixStream::connect(&running.socket).await.unwrap();
        half.write_all(b"{\"op\":\"zone_st").await.unwrap();
        drop(half);
    }
    let response = exchange(&running.socket, Request::ZoneStatus { zone: None }).await;
    assert!(
        matches!(response, Response::ZoneStatus { .. }),
        "{response:?}"
    );
    running.stop().await;
}

#[tokio::test]
async fn control_slow_handler_is_answered_with_a_timeout() {
    let running = start(Duration::from_millis(200));
    let response = exchange(
        &running.socket,
        Request::ZoneRefresh {
            zone: "slow.".into(),
        },
    )
    .await;
    assert!(
        matches!(&response, Response::Error { message } if message.contains("did not finish")),
        "{response:?}"
    );
    running.stop().await;
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    ctl: CtlArgs,
}

fn ctl(args: &[&str]) -> CtlArgs {
    let mut argv = vec!["ctl"];
    argv.extend_from_slice(args);
    Cli::try_parse_from(argv).unwrap().ctl
}

#[test]
fn control_command_lines_become_requests() {
    let args = ctl(&[
        "zone",
        "add",
        "example.com",
        "--primary",
        "192.0.2.1",
        "--primary",
        "[::1]:5300",
        "--tsig-key",
        "xfr-key",
        "--allow-transfer",
        "key:xfr-key",
        "--json",
    ]);
    assert!(args.json);
    let Request::ZoneAdd { spec } = ctl::request(args.command) else {
        panic!("not zone_add")
    };
    assert_eq!(spec.primaries, ["192.0.2.1", "[::1]:5300"]);
    assert_eq!(spec.tsig_key.as_deref(), Some("xfr-key"));
    assert_eq!(spec.allow_transfer, ["key:xfr-key"]);
    let status = ctl(&["--socket", "/tmp/x.sock", "zone", "status"]);
    assert_eq!(status.socket.as_deref(), Some(Path::new("/tmp/x.sock")));
    assert_eq!(
        ctl::request(status.command),
        Request::ZoneStatus { zone: None }
    );
    assert_eq!(
        ctl::request(ctl(&["cluster", "members"]).command),
        Request::ClusterMembers
    );
    assert_eq!(ctl::request(ctl(&["health"]).command), Request::Health);
    assert_eq!(ctl::request(ctl(&["undrain"]).command), Request::Undrain);
    let parse = |argv: &[&str]| Cli::try_parse_from(argv).is_ok();
    assert!(
        !parse(&["ctl", "zone", "add", "example.com"]),
        "a primary is required"
    );
    assert!(!parse(&["ctl", "--config", "a", "--socket", "b", "drain"]));
}

#[tokio::test]
async fn control_ctl_exit_codes() {
    let running = start(DEFAULT_REQUEST_TIMEOUT);
    let socket = running.socket.to_string_lossy().into_owned();
    let code = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            run(ctl(&argv))
        })
    };
    let ok = code(vec![
        "--socket".into(),
        socket.clone(),
        "zone".into(),
        "refresh".into(),
        "a.".into(),
    ]);
    assert_eq!(ok.await.unwrap(), ExitCode::SUCCESS);
    let refused = code(vec!["--socket".into(), socket.clone(), "drain".into()]);
    assert_eq!(refused.await.unwrap(), ExitCode::FAILURE);
    let nowhere = code(vec![
        "--socket".into(),
        format!("{socket}.missing"),
        "drain".into(),
    ]);
    assert_eq!(nowhere.await.unwrap(), ExitCode::from(2));
    running.stop().await;
}

#[tokio::test]
async fn control_ctl_finds_the_socket_through_the_config() {
    let running = start(DEFAULT_REQUEST_TIMEOUT);
    let dir = Scratch::new("control-config");
    let config = dir.write(
        "understudy.toml",
        &format!(
            "version = 1\n[node]\nid = \"n1\"\n[control]\nsocket = \"{}\"\n",
            running.socket.display()
        ),
    );
    let config = config.to_string_lossy().into_owned();
    let code = tokio::task::spawn_blocking(move || {
        run(ctl(&["--config", &config, "zone", "status", "a.example."]))
    });
    assert_eq!(code.await.unwrap(), ExitCode::SUCCESS);
    let seen = running.handler.seen.lock().unwrap().clone();
    assert!(
        matches!(&seen[..], [Command::ZoneStatus(Some(_))]),
        "{seen:?}"
    );
    running.stop().await;
}
