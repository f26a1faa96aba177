use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use crate::{configured, cxray, import_cdnow_sample, initialised};

/// A `cxray serve` process on a free loopback port, killed on drop.
pub struct Server {
    /// The process started: the server, or the wrapper running it.
    child: Child,
    /// The server's process id.
    pid: u32,
    pub addr: String,
}

impl Server {
    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Sends the signal `name` (`TERM`, `KILL`) to the server and waits for the process
    /// started (and so its wrapper, if any) to end.
    pub fn stop(&mut self, name: &str) -> std::process::ExitStatus {
        let pid = self.pid.to_string();
        let sent = std::process::Command::new("kill")
            .args(["-s", name, &pid])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -s {name} {pid}");
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A wrapper killed leaves the server it runs running: kill the server first.
        if self.pid != self.child.id() && matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-s", "KILL", &self.pid.to_string()])
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data: &std::path::Path) -> Server {
    serve_with(data, &[])
}

/// `cxray serve` with extra arguments.
pub fn serve_with(data: &std::path::Path, args: &[&str]) -> Server {
    start(cxray(data), args)
}

/// `cxray serve` with extra arguments, run by `wrapper` (a program whose arguments end
/// with the binary and which runs it as its only child, as `strace` does).
pub fn serve_wrapped(wrapper: Command, data: &std::path::Path, args: &[&str]) -> Server {
    let mut server = start(configured(wrapper, data), args);
    let wrapper = server.child.id();
    let children = format!("/proc/{wrapper}/task/{wrapper}/children");
    let children = std::fs::read_to_string(&children).unwrap_or_else(|e| panic!("{children}: {e}"));
    server.pid = match children.split_whitespace().collect::<Vec<_>>()[..] {
        [pid] => pid.parse().unwrap(),
        ref other => panic!("the wrapper has children {other:?}, not one"),
    };
    server
}

/// Starts `cmd` (the binary, maybe wrapped) serving on a free loopback port.
fn start(mut cmd: Command, args: &[&str]) -> Server {
    let mut child = cmd
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    let pid = child.id();
    Server { child, pid, addr }
}

/// A plain HTTP/1.1 GET; returns the status code and the body.
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn health_metrics_and_sign_in_first() {
    let (_dir, data) = initialised();
    import_cdnow_sample(&data);
    let server = serve(&data);
    let (status, body) = get(&server.addr, "/health");
    assert_eq!(status, 200);
    assert!(body.contains("\"status\":\"ok\""), "{body}");
    // Pages need a signed-in user; the API says 401.
    assert_eq!(get(&server.addr, "/").0, 303);
    assert_eq!(get(&server.addr, "/api/v1/scorecard").0, 401);
    let (status, metrics) = get(&server.addr, "/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains(
            "cxray_http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"} 1"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("route=\"/\",status=\"303\""), "{metrics}");
    let (status, openapi) = get(&server.addr, "/api/v1/openapi.json");
    assert_eq!(status, 200);
    assert!(openapi.contains("\"/api/v1/scorecard\""), "{openapi}");
    assert_eq!(get(&server.addr, "/nope").0, 404);
}
