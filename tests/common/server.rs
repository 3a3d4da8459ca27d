//! Running `thematic serve` in tests.
//!
//! - [`ServeProcess`]: the real binary serving a study folder on a free port, with its
//!   stdout collected line by line, polling helpers that wait for rebuilds, and a
//!   kill on drop.
//! - [`request`], [`raw_request`]: a tiny HTTP/1.1 client over `std::net::TcpStream`
//!   (`Connection: close`, read to the end), so a test controls the exact bytes sent.
//! - [`SseClient`]: a raw reader of `/__thematic/events` that decodes the chunked
//!   stream incrementally and parses server-sent events.
//!
//! Every wait polls every ~20 ms and gives up after [`TIMEOUT`], which is generous so
//! that a slow CI machine never flakes; on a normal machine each wait ends in a few
//! tens of milliseconds.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long any wait lasts before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// How often the polling helpers look again.
pub const POLL: Duration = Duration::from_millis(20);

/// A port nobody listens on right now: bind port 0, read the port, let it go.
/// (Another process could take it before `serve` does; `serve` then moves to the next
/// free port and says so, and [`ServeProcess`] reads the real address from stdout.)
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port()
}

/// Calls `cond` every [`POLL`] until it returns true or `timeout` passes; says which.
pub fn poll_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(POLL);
    }
}

// ---------------------------------------------------------------------------
// A tiny HTTP/1.1 client
// ---------------------------------------------------------------------------

/// One HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers in order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked when the server chunked it).
    pub body: Vec<u8>,
}

impl Response {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Splits a raw response into status, headers and body. `None` when the head is incomplete.
pub fn parse_response(raw: &[u8]) -> Option<Response> {
    let end = find(raw, b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let status = status_line.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        let mut decoder = Dechunker::default();
        decoder.feed(&body);
        body = decoder.out;
    }
    Some(Response {
        status,
        headers,
        body,
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Sends `request` exactly as given (nothing is normalised) and reads the response to
/// the end. The request must ask for `Connection: close`.
pub fn raw_request(addr: SocketAddr, request: &[u8]) -> Response {
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT)
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream
        .write_all(request)
        .unwrap_or_else(|e| panic!("send to {addr}: {e}"));
    let mut raw = Vec::new();
    if let Err(e) = stream.read_to_end(&mut raw) {
        // A reset after a complete response (the server closed first) is fine.
        if raw.is_empty() || e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut {
            panic!(
                "read from {addr}: {e}; got {:?}",
                String::from_utf8_lossy(&raw)
            );
        }
    }
    parse_response(&raw).unwrap_or_else(|| {
        panic!(
            "not an HTTP response from {addr} for {:?}: {:?}",
            String::from_utf8_lossy(request),
            String::from_utf8_lossy(&raw)
        )
    })
}

/// `METHOD path HTTP/1.1` with `Connection: close`; `path` is sent verbatim.
pub fn request(addr: SocketAddr, method: &str, path: &str) -> Response {
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: thematic-tests\r\nConnection: close\r\n\r\n"
    );
    raw_request(addr, req.as_bytes())
}

/// Decodes `Transfer-Encoding: chunked` as bytes arrive.
#[derive(Default)]
struct Dechunker {
    pending: Vec<u8>,
    out: Vec<u8>,
    done: bool,
}

impl Dechunker {
    fn feed(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        while !self.done {
            let Some(eol) = find(&self.pending, b"\r\n") else {
                return;
            };
            let size_text = String::from_utf8_lossy(&self.pending[..eol]).into_owned();
            let size_hex = size_text.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_hex, 16)
                .unwrap_or_else(|_| panic!("bad chunk size line {size_text:?}"));
            if size == 0 {
                self.done = true;
                self.pending.clear();
                return;
            }
            let start = eol + 2;
            if self.pending.len() < start + size + 2 {
                return;
            }
            self.out
                .extend_from_slice(&self.pending[start..start + size]);
            self.pending.drain(..start + size + 2);
        }
    }
}

// ---------------------------------------------------------------------------
// The serve process
// ---------------------------------------------------------------------------

/// What `/__thematic/status` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// Increases by one after every rebuild, good or bad.
    pub generation: u64,
    /// How many errors the last rebuild had.
    pub errors: u64,
}

impl Status {
    fn settled(v: &serde_json::Value) -> bool {
        !v["downloads_pending"].as_bool().unwrap_or(false)
    }
}

/// `thematic serve` running on a study folder; killed on drop.
pub struct ServeProcess {
    child: Child,
    /// Where it listens, as printed on the `Serving` line.
    pub addr: SocketAddr,
    /// The URL printed on the `Serving` line (`http://127.0.0.1:PORT/`).
    pub url: String,
    /// The port asked for with `--port`.
    pub requested_port: u16,
    /// Every stdout line so far, in order.
    stdout: Arc<Mutex<Vec<String>>>,
    /// Every stderr line so far, in order.
    stderr: Arc<Mutex<Vec<String>>>,
    readers: Vec<thread::JoinHandle<()>>,
    study_dir: PathBuf,
}

fn collect_lines(
    pipe: impl Read + Send + 'static,
    into: Arc<Mutex<Vec<String>>>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            into.lock().unwrap().push(line);
        }
    })
}

impl ServeProcess {
    /// `thematic serve DIR --port FREE EXTRA...`, waiting until it serves.
    #[track_caller]
    pub fn start(study_dir: &Path, extra: &[&str]) -> Self {
        Self::start_on(study_dir, free_port(), extra)
    }

    /// `thematic serve DIR --port PORT EXTRA...`, waiting until it serves.
    ///
    /// Ready means: the `Serving ... at URL` line was printed, and a request to
    /// `/__thematic/status` was answered. `serve` prints that line before it sets up
    /// the file watcher, but starts answering HTTP only after the watcher is in place,
    /// so after the answer an edit can no longer be missed.
    #[track_caller]
    pub fn start_on(study_dir: &Path, port: u16, extra: &[&str]) -> Self {
        let mut child = Command::new(super::BIN)
            .arg("serve")
            .arg(study_dir)
            .arg("--port")
            .arg(port.to_string())
            .args(extra)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn thematic serve");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            collect_lines(child.stdout.take().unwrap(), stdout.clone()),
            collect_lines(child.stderr.take().unwrap(), stderr.clone()),
        ];
        let mut serve = ServeProcess {
            child,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            url: String::new(),
            requested_port: port,
            stdout,
            stderr,
            readers,
            study_dir: study_dir.to_path_buf(),
        };
        let mut serving = None;
        let mut exited = None;
        poll_until(TIMEOUT, || {
            serving = serve
                .stdout_lines()
                .into_iter()
                .find(|l| l.starts_with("Serving "));
            if serving.is_none() {
                exited = serve.child.try_wait().ok().flatten();
            }
            serving.is_some() || exited.is_some()
        });
        let Some(line) = serving else {
            match exited {
                Some(status) => panic!(
                    "thematic serve exited with {status} before serving\n{}",
                    serve.transcript()
                ),
                None => panic!(
                    "thematic serve printed no `Serving` line within {TIMEOUT:?}\n{}",
                    serve.transcript()
                ),
            }
        };
        let url = line
            .rsplit_once(" at ")
            .map(|(_, rest)| rest.split_whitespace().next().unwrap_or(""))
            .filter(|u| u.starts_with("http://") && u.ends_with('/'))
            .unwrap_or_else(|| panic!("no URL on the Serving line {line:?}"))
            .to_string();
        let host_port = &url["http://".len()..url.len() - 1];
        let mut addr: SocketAddr = host_port
            .parse()
            .unwrap_or_else(|e| panic!("bad address {host_port:?} in {line:?}: {e}"));
        if addr.ip().is_unspecified() {
            // Listening on every interface: reach it over loopback.
            addr.set_ip(Ipv4Addr::LOCALHOST.into());
        }
        serve.addr = addr;
        serve.url = url;
        let ready = serve.get("/__thematic/status");
        assert_eq!(ready.status, 200, "status endpoint\n{}", serve.transcript());
        serve
    }

    /// The study folder being served.
    pub fn study_dir(&self) -> &Path {
        &self.study_dir
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every stdout line so far.
    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// Every stderr line so far.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Stdout and stderr so far, for failure messages.
    pub fn transcript(&self) -> String {
        format!(
            "--- serve stdout ---\n{}\n--- serve stderr ---\n{}",
            self.stdout_lines().join("\n"),
            self.stderr_lines().join("\n")
        )
    }

    /// `GET path`, the path sent verbatim.
    pub fn get(&self, path: &str) -> Response {
        request(self.addr, "GET", path)
    }

    /// `METHOD path`.
    pub fn request(&self, method: &str, path: &str) -> Response {
        request(self.addr, method, path)
    }

    /// `GET path`, which must answer 200; its body as text.
    #[track_caller]
    pub fn page(&self, path: &str) -> String {
        let r = self.get(path);
        assert_eq!(r.status, 200, "GET {path}\n{}", self.transcript());
        r.text()
    }

    /// What `/__thematic/status` says now.
    #[track_caller]
    pub fn status(&self) -> Status {
        let r = self.get("/__thematic/status");
        assert_eq!(
            r.status,
            200,
            "GET /__thematic/status\n{}",
            self.transcript()
        );
        let v: serde_json::Value = serde_json::from_slice(&r.body)
            .unwrap_or_else(|e| panic!("status is not JSON ({e}): {}", r.text()));
        Status {
            generation: v["generation"].as_u64().expect("status.generation"),
            errors: v["errors"].as_u64().expect("status.errors"),
        }
    }

    /// The current generation.
    #[track_caller]
    pub fn generation(&self) -> u64 {
        self.status().generation
    }

    /// What `/__thematic/errors` says now: the error texts.
    #[track_caller]
    pub fn errors(&self) -> Vec<String> {
        let r = self.get("/__thematic/errors");
        assert_eq!(
            r.status,
            200,
            "GET /__thematic/errors\n{}",
            self.transcript()
        );
        assert_eq!(r.header("content-type"), Some("application/json"));
        serde_json::from_slice(&r.body)
            .unwrap_or_else(|e| panic!("errors is not a JSON list of strings ({e}): {}", r.text()))
    }

    /// Waits until the generation is at least `n` (that many rebuilds happened) and
    /// the downloads that follow the pages (data files, search index) are in place.
    #[track_caller]
    pub fn wait_for_generation(&self, n: u64, timeout: Duration) -> Status {
        let mut last = self.status();
        let ok = poll_until(timeout, || {
            let r = self.get("/__thematic/status");
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
            last = Status {
                generation: v["generation"].as_u64().unwrap_or(0),
                errors: v["errors"].as_u64().unwrap_or(0),
            };
            last.generation >= n && Status::settled(&v)
        });
        assert!(
            ok,
            "generation {} never reached {n} within {timeout:?}: no rebuild after the change?\n{}",
            last.generation,
            self.transcript()
        );
        last
    }

    /// Waits until `cond` holds, failing with `what` and the transcript.
    #[track_caller]
    pub fn wait_until(&self, what: &str, timeout: Duration, cond: impl FnMut() -> bool) {
        assert!(
            poll_until(timeout, cond),
            "timed out after {timeout:?} waiting until {what}\n{}",
            self.transcript()
        );
    }

    /// Waits until `GET path` answers 200 with a body that contains `needle`; the body.
    #[track_caller]
    pub fn wait_for_text(&self, path: &str, needle: &str) -> String {
        let mut body = String::new();
        self.wait_until(&format!("{path} shows {needle:?}"), TIMEOUT, || {
            let r = self.get(path);
            body = r.text();
            r.status == 200 && body.contains(needle)
        });
        body
    }

    /// Waits until a stdout line satisfies `pred`; that line.
    #[track_caller]
    pub fn wait_for_line(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let mut found = None;
        self.wait_until(&format!("stdout has {what}"), TIMEOUT, || {
            found = self.stdout_lines().into_iter().find(|l| pred(l));
            found.is_some()
        });
        found.unwrap()
    }

    /// Sends SIGINT, as Ctrl-C in the terminal does.
    pub fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.pid().to_string()])
            .status()
            .expect("run kill -INT");
        assert!(status.success(), "kill -INT {} failed", self.pid());
    }

    /// Waits for the process to exit; its status, or `None` after `timeout`. Once it
    /// has exited, waits for the readers so that every line is collected.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let mut status = None;
        poll_until(timeout, || {
            status = self.child.try_wait().ok().flatten();
            status.is_some()
        });
        if status.is_some() {
            for r in self.readers.drain(..) {
                let _ = r.join();
            }
        }
        status
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// Server-sent events
// ---------------------------------------------------------------------------

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// `event:` (`message` when absent).
    pub event: String,
    /// `data:` lines joined with `\n`.
    pub data: String,
}

/// A raw client of an event stream, read incrementally.
pub struct SseClient {
    stream: TcpStream,
    dechunker: Dechunker,
    chunked: bool,
    body: Vec<u8>,
    events: VecDeque<SseEvent>,
    /// Every event received so far, in order.
    pub seen: Vec<SseEvent>,
    closed: bool,
}

impl SseClient {
    /// Opens `GET path` and waits for the response head, which `serve` sends only
    /// once it has subscribed this client to rebuild events.
    #[track_caller]
    pub fn connect(addr: SocketAddr, path: &str) -> Self {
        let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT)
            .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
        stream.set_write_timeout(Some(TIMEOUT)).unwrap();
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(req.as_bytes()).unwrap();
        let deadline = Instant::now() + TIMEOUT;
        let mut raw = Vec::new();
        let head_end = loop {
            if let Some(end) = find(&raw, b"\r\n\r\n") {
                break end;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no response head for {path} within {TIMEOUT:?}"
            );
            stream.set_read_timeout(Some(left)).unwrap();
            let mut buf = [0u8; 4096];
            match stream.read(&mut buf) {
                Ok(0) => panic!("{path}: connection closed before the response head"),
                Ok(n) => raw.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!("{path}: {e}"),
            }
        };
        let head = parse_response(&raw[..head_end + 4]).expect("response head");
        assert_eq!(head.status, 200, "GET {path}: {head:?}");
        let ct = head.header("content-type").unwrap_or("");
        assert!(
            ct.starts_with("text/event-stream"),
            "GET {path}: content-type {ct:?}"
        );
        let chunked = head
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        let mut client = SseClient {
            stream,
            dechunker: Dechunker::default(),
            chunked,
            body: Vec::new(),
            events: VecDeque::new(),
            seen: Vec::new(),
            closed: false,
        };
        client.take_bytes(&raw[head_end + 4..]);
        client
    }

    fn take_bytes(&mut self, bytes: &[u8]) {
        if self.chunked {
            self.dechunker.feed(bytes);
            self.body.append(&mut self.dechunker.out);
            if self.dechunker.done {
                self.closed = true;
            }
        } else {
            self.body.extend_from_slice(bytes);
        }
        // Events end with a blank line.
        while let Some(end) = find(&self.body, b"\n\n") {
            let block = String::from_utf8_lossy(&self.body[..end]).into_owned();
            self.body.drain(..end + 2);
            let mut event = None;
            let mut data: Vec<String> = Vec::new();
            for line in block.lines() {
                if line.starts_with(':') {
                    continue; // a comment: keep-alive
                }
                let (field, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "event" => event = Some(value.to_string()),
                    "data" => data.push(value.to_string()),
                    _ => {}
                }
            }
            if event.is_some() || !data.is_empty() {
                let e = SseEvent {
                    event: event.unwrap_or_else(|| "message".into()),
                    data: data.join("\n"),
                };
                self.seen.push(e.clone());
                self.events.push_back(e);
            }
        }
    }

    /// Reads once, waiting at most until `deadline`; false when nothing came.
    fn read_some(&mut self, deadline: Instant) -> bool {
        if self.closed {
            return false;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        self.stream.set_read_timeout(Some(left)).unwrap();
        let mut buf = [0u8; 8192];
        match self.stream.read(&mut buf) {
            Ok(0) => {
                self.closed = true;
                false
            }
            Ok(n) => {
                self.take_bytes(&buf[..n]);
                true
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
            Err(_) => {
                self.closed = true;
                false
            }
        }
    }

    /// The next event, waiting at most `timeout`.
    pub fn next_event(&mut self, timeout: Duration) -> Option<SseEvent> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.events.pop_front() {
                return Some(e);
            }
            if !self.read_some(deadline) && (self.closed || Instant::now() >= deadline) {
                return None;
            }
        }
    }

    /// Waits for an event called `name` whose data satisfies `pred`; other events are
    /// skipped (and kept in [`SseClient::seen`]).
    #[track_caller]
    pub fn wait_for(&mut self, name: &str, pred: impl Fn(&str) -> bool) -> SseEvent {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_event(left) {
                Some(e) if e.event == name && pred(&e.data) => return e,
                Some(_) => {}
                None => panic!(
                    "no matching `{name}` event within {TIMEOUT:?} (stream {}); events seen: {:#?}",
                    if self.closed { "closed" } else { "open" },
                    self.seen
                ),
            }
        }
    }

    /// Waits until the server ends the stream; false after `timeout`.
    pub fn wait_closed(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while !self.closed && Instant::now() < deadline {
            self.read_some(deadline);
        }
        self.closed
    }
}
