//! The serve measurement shared by `benches/serve.rs` and `benches/compare.rs`
//! (each includes this file with `#[path]`): start `thematic serve` on a
//! synthetic study, then edit one quote at a time and poll the server until the
//! quote's page is served with the new text.
//!
//! The page to poll is the quote's home page, read from the served site's
//! `data/quotes.json` (its `url`, without the `#anchor`), so it follows the
//! site wherever the quote lives (`themes/ID/index.html`, or
//! `themes/ID/page/N/index.html` on a paginated list). Edits are spread over the
//! study: a different quote, file and theme each time. Before each edit it waits
//! until the downloads of the last one (data files and search index, built after
//! the pages) are done, as an author's next save would. The quote files are
//! restored when the server has stopped. The including bench declares
//! `mod synthetic` (benches/synthetic.rs) beside this module.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use super::synthetic;

/// What the serve measurement found.
pub struct ServeTimes {
    /// From saving the quote file to its page being served with the new text, per edit, in ms.
    pub edits_ms: Vec<f64>,
    /// From spawning `thematic serve` to its "Serving" line (the first build, in memory), in ms.
    pub start_ms: f64,
    /// One of serve's own rebuild lines, if it printed any.
    #[allow(dead_code)] // used by the serve bench only
    pub rebuild_line: Option<String>,
}

impl ServeTimes {
    fn sorted(&self) -> Vec<f64> {
        let mut s = self.edits_ms.clone();
        s.sort_by(|a, b| a.partial_cmp(b).unwrap());
        s
    }
    /// The median edit time in ms.
    pub fn median(&self) -> f64 {
        let s = self.sorted();
        s[s.len() / 2]
    }
    /// The 90th percentile edit time in ms.
    pub fn p90(&self) -> f64 {
        let s = self.sorted();
        s[(s.len() * 9 / 10).min(s.len() - 1)]
    }
    /// The fastest edit in ms.
    pub fn min(&self) -> f64 {
        self.sorted()[0]
    }
    /// The slowest edit in ms.
    pub fn max(&self) -> f64 {
        *self.sorted().last().unwrap()
    }
}

/// A GET request to the server; the whole response, headers included.
fn get_raw(port: u16, path: &str) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to thematic serve");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    out
}

fn get(port: u16, path: &str) -> String {
    String::from_utf8_lossy(&get_raw(port, path)).into_owned()
}

/// The body of a response that must be 200 OK.
fn get_body(port: u16, path: &str) -> Vec<u8> {
    let r = get_raw(port, path);
    let end = r
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response");
    let head = String::from_utf8_lossy(&r[..end]);
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "GET {path}: {}",
        head.lines().next().unwrap_or("")
    );
    r[end + 4..].to_vec()
}

fn generation(port: u16) -> u64 {
    let r = get(port, "/__thematic/status");
    let i = r.find("\"generation\":").expect("status") + 13;
    r[i..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

fn downloads_pending(port: u16) -> bool {
    get(port, "/__thematic/status").contains("\"downloads_pending\":true")
}

fn wait_for_downloads(port: u16) {
    let t = Instant::now();
    while downloads_pending(port) {
        assert!(
            t.elapsed() < Duration::from_secs(600),
            "the downloads never finished"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Each quote's page as a server path (`/themes/t3-s1/page/2/index.html`), from
/// the served `data/quotes.json`: its `url` without the `#anchor`.
fn quote_pages(port: u16) -> HashMap<String, String> {
    let body = get_body(port, "/data/quotes.json");
    let doc: serde_json::Value = serde_json::from_slice(&body).expect("data/quotes.json");
    let list = doc
        .get("quotes")
        .or(Some(&doc))
        .and_then(|q| q.as_array())
        .expect("data/quotes.json: a list of quotes");
    list.iter()
        .filter_map(|q| {
            let id = q.get("id")?.as_str()?;
            let url = q.get("url")?.as_str()?;
            let page = url.split('#').next().unwrap_or(url);
            // A site with base_url could give absolute URLs: keep the path.
            let page = match page.split_once("://") {
                Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i + 1..]),
                None => page,
            };
            Some((id.to_string(), format!("/{}", page.trim_start_matches('/'))))
        })
        .collect()
}

/// A running `thematic serve`, stopped (SIGINT) when dropped.
struct Server {
    child: Child,
    port: u16,
    lines: Receiver<String>,
}

impl Server {
    fn start(bin: &str, dir: &Path) -> (Server, f64) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let t = Instant::now();
        let mut child = Command::new(bin)
            .args(["serve", ".", "--port", &port.to_string()])
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{bin} serve: {e}"));
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let server = Server {
            child,
            port,
            lines: rx,
        };
        loop {
            let line = server
                .lines
                .recv_timeout(Duration::from_secs(600))
                .expect("thematic serve did not start");
            if line.starts_with("Serving") {
                break;
            }
        }
        (server, t.elapsed().as_secs_f64() * 1000.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// Starts `bin serve` in the synthetic study `dir` of `n` quotes (written by
/// `synthetic::write_study`) and times `edits` one-quote edits.
pub fn measure(bin: &str, dir: &Path, n: usize, edits: usize) -> ServeTimes {
    assert!(
        edits > 0 && n > 0,
        "at least one edit of at least one quote"
    );
    let (server, start_ms) = Server::start(bin, dir);
    let port = server.port;
    wait_for_downloads(port);
    let pages = quote_pages(port);

    let mut originals: Vec<(PathBuf, String)> = Vec::new();
    let mut edits_ms = Vec::with_capacity(edits);
    let mut rebuild_lines = Vec::new();
    for e in 0..edits {
        let i = (e * 7919) % n;
        let (file, id) = synthetic::quote_location(i, n);
        let path = dir.join(&file);
        let text = std::fs::read_to_string(&path).unwrap();
        if !originals.iter().any(|(p, _)| p == &path) {
            originals.push((path.clone(), text.clone()));
        }
        let token = format!("edittoken{e}x");
        let marker = format!("  - id: {id}\n");
        let at = text.find(&marker).expect("quote in its file") + marker.len();
        let lead = "text: >-\n      ";
        let text_at = text[at..].find(lead).expect("the quote's text") + at + lead.len();
        let new = format!("{}{token} {}", &text[..text_at], &text[text_at..]);
        let page = pages
            .get(&id)
            .unwrap_or_else(|| panic!("{id} is not in data/quotes.json"));
        // An author saves, reads, then saves again: let the downloads that follow the
        // last edit (data files, search index) finish first, as they would.
        wait_for_downloads(port);
        let before = generation(port);
        let t0 = Instant::now();
        std::fs::write(&path, new).unwrap();
        loop {
            if generation(port) > before && get(port, page).contains(&token) {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "edit {e} ({id} in {file}) never showed up on {page}"
            );
            std::thread::sleep(Duration::from_micros(500));
        }
        edits_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
        while let Ok(l) = server.lines.try_recv() {
            rebuild_lines.push(l);
        }
    }
    drop(server);
    for (path, text) in originals {
        std::fs::write(path, text).unwrap();
    }
    ServeTimes {
        edits_ms,
        start_ms,
        rebuild_line: rebuild_lines.into_iter().find(|l| l.contains("rendered")),
    }
}
