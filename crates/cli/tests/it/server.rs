use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};

use crate::{cxray, import_cdnow_sample, initialised};

/// A `cxray serve` process on a free loopback port, killed on drop.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data: &std::path::Path) -> Server {
    let mut child = cxray(data)
        .args(["serve", "--bind", "127.0.0.1:0"])
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
    Server { child, addr }
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
fn health_and_the_data_overview_page() {
    let (_dir, data) = initialised();
    import_cdnow_sample(&data);
    let server = serve(&data);
    let (status, body) = get(&server.addr, "/health");
    assert_eq!(status, 200);
    assert!(body.contains("\"status\":\"ok\""), "{body}");
    let (status, page) = get(&server.addr, "/");
    assert_eq!(status, 200);
    assert!(
        page.contains(
            "<th scope=\"row\">transactions</th><td class=\"num\" data-rows=\"6919\">6,919</td>"
        ),
        "{page}"
    );
    assert!(page.contains("1997-01-01 – 1998-06-30"), "{page}");
    assert_eq!(get(&server.addr, "/nope").0, 404);
}
