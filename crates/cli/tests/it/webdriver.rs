//! A small WebDriver client (W3C protocol over plain HTTP/1.1) driving the system's
//! headless Chromium through `chromedriver`, enough for the browser tests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A running chromedriver with one headless Chromium session; both end on drop.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = request(
            self.port,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP request to chromedriver; the parsed JSON body.
fn request(port: u16, method: &str, path: &str, body: Option<&Value>) -> std::io::Result<Value> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut reader = BufReader::new(s);
    let mut length = None;
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse::<usize>().ok();
        }
    }
    let mut raw = Vec::new();
    match length {
        Some(n) => {
            raw.resize(n, 0);
            reader.read_exact(&mut raw)?;
        }
        None => {
            reader.read_to_end(&mut raw)?;
        }
    }
    serde_json::from_slice(&raw).map_err(std::io::Error::other)
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session.
    pub fn start() -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) must be installed");
        let started = Instant::now();
        while request(port, "GET", "/status", None).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,2000"]
            }
        }}});
        let created = request(port, "POST", "/session", Some(&caps)).unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_string();
        Browser {
            driver,
            port,
            session,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        let reply = request(self.port, method, &path, body.as_ref()).unwrap();
        assert!(
            reply["value"]["error"].is_null(),
            "{method} {path}: {}",
            reply["value"]
        );
        reply["value"].clone()
    }

    /// Opens a URL and waits for the page to load.
    pub fn open(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url})));
    }

    /// Runs a script in the page and returns its result.
    pub fn script(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Runs an asynchronous script (its last argument is the callback) and returns what
    /// it passed to the callback.
    pub fn script_async(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/async",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Presses the Tab key `times` times, as a person at the keyboard would.
    pub fn press_tab(&self, times: usize) {
        let press = [
            json!({"type": "keyDown", "value": "\u{E004}"}),
            json!({"type": "keyUp", "value": "\u{E004}"}),
        ];
        let actions: Vec<Value> = (0..times).flat_map(|_| press.clone()).collect();
        let keys = json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]});
        self.call("POST", "/actions", Some(keys));
        self.call("DELETE", "/actions", None);
    }

    /// Lays pages out as a screen `width` × `height` CSS pixels wide (a phone's below 600).
    pub fn emulate(&self, width: u32, height: u32) {
        let params = json!({"width": width, "height": height, "deviceScaleFactor": 1,
                            "mobile": width < 600});
        let cmd = json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": params});
        self.call("POST", "/goog/cdp/execute", Some(cmd));
    }

    /// The page's text content.
    pub fn text(&self) -> String {
        self.script(
            "return document.body ? document.body.innerText : '';",
            json!([]),
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// The page's title.
    pub fn title(&self) -> String {
        self.call("GET", "/title", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits (up to 20 s) until the page has loaded and its path is no longer `path`.
    pub fn wait_until_left(&self, path: &str) {
        let started = Instant::now();
        let script = "return document.readyState === 'complete' ? location.pathname : '';";
        loop {
            let now = self.script(script, json!([]));
            if now.as_str().is_some_and(|p| !p.is_empty() && p != path) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "still on {path}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits (up to 20 s) until the page's text holds `needle` — a form's answer that may
    /// come back to the same path — and returns the text (whatever it is by then).
    pub fn wait_for_text(&self, needle: &str) -> String {
        let started = Instant::now();
        loop {
            let text = self.text();
            if text.contains(needle) || started.elapsed() > Duration::from_secs(20) {
                return text;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types into the element matching `css` (replacing its value).
    pub fn fill(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.call("POST", &format!("/element/{id}/clear"), Some(json!({})));
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        );
    }

    /// Clicks the element matching `css`.
    pub fn click(&self, css: &str) {
        let id = self.element(css);
        self.call("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    fn element(&self, css: &str) -> String {
        let found = self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string()
    }

    /// Every `<data data-key>` figure on the page: key → raw value.
    pub fn figures(&self) -> Vec<(String, f64)> {
        let found = self.script(
            "return Array.from(document.querySelectorAll('data[data-key]')).map(e => [e.dataset.key, e.value]);",
            json!([]),
        );
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| {
                let value = pair[1].as_str().unwrap().parse().unwrap();
                (pair[0].as_str().unwrap().to_string(), value)
            })
            .collect()
    }

    /// A PNG screenshot of the window.
    pub fn screenshot(&self) -> Vec<u8> {
        let text = self.call("GET", "/screenshot", None);
        decode_base64(text.as_str().unwrap())
    }

    /// Sets the window's size in CSS pixels.
    pub fn resize(&self, width: u32, height: u32) {
        let rect = json!({"width": width, "height": height});
        self.call("POST", "/window/rect", Some(rect));
    }

    /// Runs a Chrome DevTools Protocol command (e.g. `Emulation.setEmulatedMedia`).
    pub fn cdp(&self, cmd: &str, params: Value) -> Value {
        let body = json!({"cmd": cmd, "params": params});
        self.call("POST", "/goog/cdp/execute", Some(body))
    }

    /// The page printed as a PDF on A4 landscape, 1 cm margins (with its print stylesheet).
    pub fn print_a4_landscape(&self) -> Vec<u8> {
        let options = json!({
            "orientation": "landscape",
            "page": {"width": 21.0, "height": 29.7},
            "margin": {"top": 1.0, "bottom": 1.0, "left": 1.0, "right": 1.0},
        });
        let text = self.call("POST", "/print", Some(options));
        decode_base64(text.as_str().unwrap())
    }
}

/// Standard base64 (the encoding of screenshots and printed pages).
fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let clean: Vec<u8> = text
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, c)| {
            acc | u32::from(value(*c)) << (18 - 6 * i)
        });
        out.extend(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}
