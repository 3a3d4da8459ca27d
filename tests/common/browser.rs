//! Driving headless Chromium in tests, shared by the browser suites (`tests/browser.rs`,
//! `tests/reader.rs`, `tests/pagination_browser.rs`, `tests/search_browser.rs`). Include it next to `mod common;` with
//! `#[path = "common/browser.rs"] mod browser;`: it is not part of `common` itself,
//! so the suites that never start a browser do not compile it.
//!
//! - [`launch`]: Debian's `/usr/bin/chromium` with a fresh profile, and the task that
//!   drives its DevTools connection.
//! - [`eval`], [`wait_js`]: evaluate JavaScript in a page and decode the value (promises
//!   are awaited), or poll until it is what the test waits for.
//! - [`PageEvents`]: console errors, exceptions and failed or foreign requests of a tab.
//! - [`new_tab`], [`goto`], [`choose`]: a tab that has focus as a reader's would, a
//!   page loaded completely, and a filter choice made as a reader makes it.
//! - [`press_key`]: real key presses through `Input.dispatchKeyEvent`, so focus moves the
//!   way it does for a keyboard user.
//! - [`scenario`], [`panic_text`]: run named scenarios one after the other, catching
//!   panics, so one failure does not hide the others.
//! - [`StaticServer`]: a tiny static file server for a built site under a sub-path,
//!   because a site must work when it is not at the root of its host.

#![allow(dead_code)]

use std::future::Future;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::panic::AssertUnwindSafe;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use chromiumoxide::cdp::browser_protocol::emulation::{
    MediaFeature, SetEmulatedMediaParams, SetFocusEmulationEnabledParams,
};
use chromiumoxide::cdp::browser_protocol::input::{DispatchKeyEventParams, DispatchKeyEventType};
use chromiumoxide::cdp::browser_protocol::log::{EventEntryAdded, LogEntryLevel};
use chromiumoxide::cdp::browser_protocol::network::{
    EventLoadingFailed, EventRequestWillBeSent, EventResponseReceived,
};
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EvaluateParams, EventConsoleApiCalled, EventExceptionThrown,
};
use chromiumoxide::listeners::EventStream;
use chromiumoxide::{Browser, BrowserConfig, Page};
use futures::{FutureExt, StreamExt};
use serde::de::DeserializeOwned;
use tempfile::TempDir;

use crate::common::server::TIMEOUT;

/// Debian's Chromium, which `scripts/test` installs.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// How often the DOM is looked at while waiting.
pub const DOM_POLL: Duration = Duration::from_millis(50);

/// How long one evaluation may take (axe on a long page takes about a second).
const EVAL_TIMEOUT: Duration = Duration::from_secs(20);

/// Starts headless Chromium with a fresh profile. Keep the three values alive until
/// the browser is closed: the task drives the DevTools connection, and the profile
/// folder is removed when dropped.
pub async fn launch() -> (Browser, tokio::task::JoinHandle<()>, TempDir) {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: the browser tests need Debian's chromium. \
         Run scripts/test, which installs it (or: sudo apt-get install chromium)."
    );
    let profile = tempfile::Builder::new()
        .prefix("thematic-chromium-")
        .tempdir()
        .expect("create a profile folder");
    // chromiumoxide adds the leading `--` itself: `.arg("--x")` would pass `----x`.
    let config = BrowserConfig::builder()
        .chrome_executable(CHROMIUM)
        .no_sandbox()
        .new_headless_mode()
        .user_data_dir(profile.path())
        .args([
            "disable-gpu",
            "disable-background-networking",
            "disable-component-update",
            "disable-sync",
            "no-first-run",
            "disable-quic",
        ])
        .build()
        .expect("browser config");
    let (browser, mut handler) = Browser::launch(config)
        .await
        .unwrap_or_else(|e| panic!("launch {CHROMIUM}: {e}"));
    // The handler drives the DevTools connection; nothing works unless it is polled.
    // It can report messages it does not know: keep going, never stop on those.
    let driver = tokio::spawn(async move { while handler.next().await.is_some() {} });
    (browser, driver, profile)
}

/// Closes the browser and stops its driver task.
pub async fn close(mut browser: Browser, driver: tokio::task::JoinHandle<()>) {
    browser.close().await.ok();
    browser.wait().await.ok();
    driver.abort();
}

/// Evaluates `expr` in the page and decodes its value (through JSON, so any
/// serialisable value comes back; a promise is awaited first). Errors, including
/// those while the page is reloading, are returned.
pub async fn eval<T: DeserializeOwned>(page: &Page, expr: &str) -> Result<T, String> {
    let js = format!("(async () => JSON.stringify((await ({expr})) ?? null))()");
    let result = tokio::time::timeout(EVAL_TIMEOUT, page.evaluate_expression(js))
        .await
        .map_err(|_| format!("evaluating {expr:?} timed out"))?
        .map_err(|e| format!("evaluating {expr:?}: {e}"))?;
    let json: String = result
        .into_value()
        .map_err(|e| format!("{expr:?} gave no JSON text: {e}"))?;
    serde_json::from_str(&json).map_err(|e| format!("{expr:?} = {json}: {e}"))
}

/// [`eval`] that fails the test on error.
pub async fn js<T: DeserializeOwned>(page: &Page, expr: &str) -> T {
    eval(page, expr).await.unwrap_or_else(|e| panic!("{e}"))
}

/// Evaluates `expr` every 50 ms until `done` accepts its value; that value. Fails
/// after [`TIMEOUT`] with the last value (or error) seen.
pub async fn wait_js<T: DeserializeOwned + std::fmt::Debug>(
    page: &Page,
    what: &str,
    expr: &str,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let last = eval::<T>(page, expr).await;
        if let Ok(v) = &last {
            if done(v) {
                return last.unwrap();
            }
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {TIMEOUT:?} waiting until {what}; last: {last:?}"
        );
        tokio::time::sleep(DOM_POLL).await;
    }
}

/// A key as `Input.dispatchKeyEvent` wants it: `key`, `code`, Windows key code, and
/// the text it types (Enter types `\r`, which is what activates a button).
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub key: &'static str,
    pub code: &'static str,
    pub key_code: i64,
    pub text: Option<&'static str>,
}

pub const TAB: Key = Key {
    key: "Tab",
    code: "Tab",
    key_code: 9,
    text: None,
};
pub const ARROW_DOWN: Key = Key {
    key: "ArrowDown",
    code: "ArrowDown",
    key_code: 40,
    text: None,
};
pub const ENTER: Key = Key {
    key: "Enter",
    code: "Enter",
    key_code: 13,
    text: Some("\r"),
};

/// Presses and releases `key`, as a keyboard does.
pub async fn press_key(page: &Page, key: Key) {
    for kind in [DispatchKeyEventType::KeyDown, DispatchKeyEventType::KeyUp] {
        let down = kind == DispatchKeyEventType::KeyDown;
        let mut b = DispatchKeyEventParams::builder()
            .r#type(kind)
            .key(key.key)
            .code(key.code)
            .windows_virtual_key_code(key.key_code)
            .native_virtual_key_code(key.key_code);
        if let (true, Some(text)) = (down, key.text) {
            b = b.text(text).unmodified_text(text);
        }
        page.execute(b.build().expect("key event"))
            .await
            .unwrap_or_else(|e| panic!("press {}: {e}", key.key));
    }
}

/// The message of a caught panic.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".into())
}

/// Runs one named scenario, catching its panic: a failure is added to `failures`
/// (`name: message`) and the next scenario still runs. Prints each outcome and time.
pub async fn scenario(name: &str, run: impl Future<Output = ()>, failures: &mut Vec<String>) {
    let start = Instant::now();
    let result = AssertUnwindSafe(run).catch_unwind().await;
    let took = start.elapsed();
    match result {
        Ok(()) => eprintln!("scenario {name}: ok ({took:.1?})"),
        Err(payload) => {
            eprintln!("scenario {name}: FAILED ({took:.1?})");
            failures.push(format!("{name}: {}", panic_text(payload.as_ref())));
        }
    }
}

/// A `file://` URL for a local path.
pub fn file_url(path: &Path) -> String {
    let path = path.to_string_lossy();
    let mut out = String::from("file://");
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// A static file server
// ---------------------------------------------------------------------------

/// One request the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// The request target as sent (path and query).
    pub target: String,
    /// The status code of the answer.
    pub status: u16,
}

/// Serves the files of a folder over HTTP/1.1 on `127.0.0.1` (a free port) under a
/// path prefix such as `/some/sub/path/`, the way a site is often published: GET
/// only, `index.html` for a folder, a redirect to add the slash of a folder, 404 for
/// anything else (everything outside the prefix included). Each connection gets its
/// own thread and one answer (`Connection: close`). Stops when dropped.
pub struct StaticServer {
    /// `http://127.0.0.1:PORT/PREFIX/`.
    pub url: String,
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Served>>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl StaticServer {
    /// Serves `root` under `prefix` (which starts and ends with `/`).
    pub fn start(root: &Path, prefix: &str) -> StaticServer {
        assert!(
            prefix.starts_with('/') && prefix.ends_with('/'),
            "prefix {prefix:?} must start and end with /"
        );
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let root = root.to_path_buf();
        let prefix_owned = prefix.to_string();
        let thread = {
            let stop = stop.clone();
            let log = log.clone();
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (root, prefix, log) = (root.clone(), prefix_owned.clone(), log.clone());
                    thread::spawn(move || {
                        if let Some(served) = answer(stream, &root, &prefix) {
                            log.lock().unwrap().push(served);
                        }
                    });
                }
            })
        };
        StaticServer {
            url: format!("http://{addr}{prefix}"),
            addr,
            stop,
            log,
            thread: Some(thread),
        }
    }

    /// The URL of a file of the site, given relative to its root.
    pub fn url_of(&self, rel: &str) -> String {
        format!("{}{rel}", self.url)
    }

    /// `http://127.0.0.1:PORT`, without a slash.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests answered since the last call, in order.
    pub fn take_log(&self) -> Vec<Served> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        TcpStream::connect(self.addr).ok();
        if let Some(t) = self.thread.take() {
            t.join().ok();
        }
    }
}

/// The media type of a file, by extension.
fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" => "application/json",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Reads one request from `stream` and answers it; what was answered.
fn answer(mut stream: TcpStream, root: &Path, prefix: &str) -> Option<Served> {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    // Read (and ignore) the headers; a GET has no body.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next()?, parts.next()?.to_string());
    let path = target.split(['?', '#']).next().unwrap_or("");

    let (status, headers, body): (u16, Vec<(&str, String)>, Vec<u8>) = if method != "GET" {
        (405, vec![("Allow", "GET".into())], b"GET only\n".to_vec())
    } else {
        match resolve(root, prefix, path) {
            Resolved::File(file) => match std::fs::read(&file) {
                Ok(bytes) => (
                    200,
                    vec![("Content-Type", content_type(&file).into())],
                    bytes,
                ),
                Err(_) => not_found(),
            },
            Resolved::Folder => (
                301,
                vec![("Location", format!("{path}/"))],
                b"moved\n".to_vec(),
            ),
            Resolved::Missing => not_found(),
        }
    };
    let reason = match status {
        200 => "OK",
        301 => "Moved Permanently",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(&body).ok()?;
    stream.flush().ok();
    Some(Served { target, status })
}

fn not_found() -> (u16, Vec<(&'static str, String)>, Vec<u8>) {
    (
        404,
        vec![("Content-Type", "text/plain; charset=utf-8".into())],
        b"not found\n".to_vec(),
    )
}

enum Resolved {
    File(PathBuf),
    Folder,
    Missing,
}

/// The file a request path names: under `prefix`, percent-decoded, never above
/// `root`; `index.html` for a folder path ending in `/`.
fn resolve(root: &Path, prefix: &str, path: &str) -> Resolved {
    let Some(rest) = path.strip_prefix(prefix) else {
        return Resolved::Missing;
    };
    let Some(rest) = percent_decode(rest) else {
        return Resolved::Missing;
    };
    let rel = Path::new(&rest);
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Resolved::Missing;
    }
    let full = root.join(rel);
    if full.is_dir() {
        if rest.is_empty() || rest.ends_with('/') {
            let index = full.join("index.html");
            return if index.is_file() {
                Resolved::File(index)
            } else {
                Resolved::Missing
            };
        }
        return Resolved::Folder;
    }
    if full.is_file() {
        Resolved::File(full)
    } else {
        Resolved::Missing
    }
}

/// A new tab that behaves as if its window had focus (headless windows do not), so
/// `:focus-visible`, the clipboard and keyboard focus work as for a reader.
pub async fn new_tab(browser: &Browser) -> Page {
    let page = browser.new_page("about:blank").await.expect("open a tab");
    page.execute(SetFocusEmulationEnabledParams::new(true))
        .await
        .expect("emulate focus");
    page
}
pub async fn goto(page: &Page, url: &str) {
    page.goto(url)
        .await
        .unwrap_or_else(|e| panic!("open {url}: {e}"));
    wait_js::<bool>(
        page,
        &format!("{url} has loaded"),
        "document.readyState === 'complete'",
        |done| *done,
    )
    .await;
}
/// Chooses `value` in the select `#filter-NAME` the way a change from the reader
/// arrives: set, then a bubbling `change` event.
pub async fn choose(page: &Page, name: &str, value: &str) {
    let ok: bool = js(
        page,
        &format!(
            "(() => {{ const s = document.getElementById('filter-{name}');
               if (!s || ![...s.options].some(o => o.value === {value:?})) return false;
               s.value = {value:?};
               s.dispatchEvent(new Event('change', {{bubbles: true}}));
               return true; }})()"
        ),
    )
    .await;
    assert!(ok, "no #filter-{name} select with an option {value:?}");
}

/// Emulates a colour scheme (`light` or `dark`) for `prefers-color-scheme`.
pub async fn set_color_scheme(page: &Page, scheme: &str) {
    page.execute(
        SetEmulatedMediaParams::builder()
            .features(vec![MediaFeature::new("prefers-color-scheme", scheme)])
            .build(),
    )
    .await
    .expect("emulate the colour scheme");
}

/// One rule axe-core found broken on a page.
#[derive(Debug, serde::Deserialize)]
pub struct Violation {
    pub id: String,
    pub impact: Option<String>,
    pub help: String,
    pub nodes: usize,
    pub targets: Vec<String>,
}

impl std::fmt::Display for Violation {
    /// `rule (impact) on N node(s): targets -- help`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}) on {} node(s): {} -- {}",
            self.id,
            self.impact.as_deref().unwrap_or("?"),
            self.nodes,
            self.targets.join(", "),
            self.help
        )
    }
}

/// axe-core's WCAG 2.1 A and AA violations on the page open in `page` (`what`
/// names it in failures), after checking that `scheme` is the emulated one.
pub async fn axe_violations(page: &Page, scheme: &str, what: &str) -> Vec<Violation> {
    static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let source = SOURCE.get_or_init(|| {
        let path = crate::common::repo_root().join("tests/tools/node_modules/axe-core/axe.min.js");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}: run scripts/test, which installs the test tools \
                 (npm ci --prefix tests/tools)",
                path.display()
            )
        });
        format!("{text}\n;0")
    });
    let applied: bool = js(
        page,
        &format!("matchMedia('(prefers-color-scheme: {scheme})').matches"),
    )
    .await;
    assert!(applied, "the {scheme} scheme is not emulated on {what}");
    page.evaluate_expression(
        EvaluateParams::builder()
            .expression(source.as_str())
            .build()
            .unwrap(),
    )
    .await
    .unwrap_or_else(|e| panic!("inject axe-core into {what}: {e}"));
    js(
        page,
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, \
         resultTypes: ['violations']}).then(r => r.violations.map(v => ({ \
           id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length, \
           targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')) })))",
    )
    .await
}

/// What a tab reports that a reader must never meet: console errors, uncaught
/// exceptions, log errors, requests that leave the site, failed requests and HTTP
/// errors. Listen before the page loads; [`PageEvents::drain`] after each step.
pub struct PageEvents {
    console: EventStream<EventConsoleApiCalled>,
    exceptions: EventStream<EventExceptionThrown>,
    log: EventStream<EventEntryAdded>,
    failed: EventStream<EventLoadingFailed>,
    responses: EventStream<EventResponseReceived>,
    requests: EventStream<EventRequestWillBeSent>,
    /// Request ids to URLs.
    urls: std::collections::BTreeMap<String, String>,
    /// Every URL requested, in order.
    pub requested: Vec<String>,
}

impl PageEvents {
    pub async fn new(page: &Page) -> PageEvents {
        PageEvents {
            console: page.event_listener().await.unwrap(),
            exceptions: page.event_listener().await.unwrap(),
            log: page.event_listener().await.unwrap(),
            failed: page.event_listener().await.unwrap(),
            responses: page.event_listener().await.unwrap(),
            requests: page.event_listener().await.unwrap(),
            urls: std::collections::BTreeMap::new(),
            requested: Vec::new(),
        }
    }

    /// The problems reported since the last call, after waiting briefly for events
    /// still on their way. A request is outside the site unless its URL starts
    /// with `base` (or is a `data:` or `about:` URL).
    pub async fn drain(&mut self, base: &str) -> Vec<String> {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut found = Vec::new();
        while let Some(Some(e)) = self.console.next().now_or_never() {
            if matches!(
                e.r#type,
                ConsoleApiCalledType::Error | ConsoleApiCalledType::Assert
            ) {
                let args: Vec<String> = e
                    .args
                    .iter()
                    .map(|a| {
                        a.value
                            .as_ref()
                            .map(|v| v.to_string())
                            .or_else(|| a.description.clone())
                            .unwrap_or_default()
                    })
                    .collect();
                found.push(format!("console.error: {}", args.join(" ")));
            }
        }
        while let Some(Some(e)) = self.exceptions.next().now_or_never() {
            let d = &e.exception_details;
            let message = d
                .exception
                .as_ref()
                .and_then(|x| x.description.clone())
                .unwrap_or_else(|| d.text.clone());
            found.push(format!(
                "uncaught exception at {}:{}:{}: {message}",
                d.url.as_deref().unwrap_or("?"),
                d.line_number + 1,
                d.column_number + 1
            ));
        }
        while let Some(Some(e)) = self.log.next().now_or_never() {
            if e.entry.level == LogEntryLevel::Error {
                found.push(format!(
                    "log error: {} ({})",
                    e.entry.text,
                    e.entry.url.as_deref().unwrap_or("")
                ));
            }
        }
        while let Some(Some(e)) = self.requests.next().now_or_never() {
            let u = e.request.url.clone();
            self.urls.insert(e.request_id.inner().clone(), u.clone());
            if !(u.starts_with(base) || u.starts_with("data:") || u.starts_with("about:")) {
                found.push(format!("request outside the site: {u}"));
            }
            self.requested.push(u);
        }
        while let Some(Some(e)) = self.failed.next().now_or_never() {
            let u = self
                .urls
                .get(e.request_id.inner())
                .cloned()
                .unwrap_or_default();
            found.push(format!("request failed: {u} ({})", e.error_text));
        }
        while let Some(Some(e)) = self.responses.next().now_or_never() {
            if e.response.status >= 400 {
                found.push(format!("HTTP {} for {}", e.response.status, e.response.url));
            }
        }
        found
    }
}
