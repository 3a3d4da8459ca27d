//! Serve benchmark: the time from saving one quote file to the rebuilt page
//! being served, against full builds of the same study.
//!
//! Run with `cargo bench --bench serve` (optionally `-- QUOTES EDITS`, default
//! 10000 quotes and 40 edits). It generates a synthetic study under
//! target/bench-studies/, times `thematic build` and `thematic check` (a full
//! render without writing), then starts `thematic serve` and edits one quote at
//! a time, polling the server until the page with the new text is served. Before
//! each edit it waits until the downloads of the last one (data files and search
//! index, built after the pages) are done, as an author's next save would.

#[path = "synthetic.rs"]
mod synthetic;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_thematic");

fn get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
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

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn time_command(args: &[&str], dir: &Path, runs: usize) -> Vec<f64> {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            let st = Command::new(BIN)
                .args(args)
                .current_dir(dir)
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(st.success(), "{args:?} failed");
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let edits: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(40);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/bench-studies/serve-{n}"));
    synthetic::write_study(&dir, n, 42);
    println!("study: {n} quotes in {}", dir.display());

    let mut build = time_command(&["build", "."], &dir, 5);
    let mut check = time_command(&["check", "."], &dir, 5);
    let build_ms = median(&mut build);
    let check_ms = median(&mut check);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(BIN)
        .args(["serve", ".", "--port", &port.to_string()])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("serve did not start");
        if line.starts_with("Serving") {
            break;
        }
    }

    let mut latencies = Vec::with_capacity(edits);
    let mut rebuild_lines = Vec::new();
    for e in 0..edits {
        // Spread edits over the study: a different quote, file and theme each time.
        let i = (e * 7919) % n;
        let (file, id) = synthetic::quote_location(i, n);
        let path = dir.join(&file);
        let text = std::fs::read_to_string(&path).unwrap();
        let token = format!("edittoken{e}x");
        let marker = format!("  - id: {id}\n");
        let at = text.find(&marker).expect("quote in its file") + marker.len();
        let text_at = text[at..].find("text: >-\n      ").unwrap() + at + "text: >-\n      ".len();
        let new = format!("{}{token} {}", &text[..text_at], &text[text_at..]);
        let theme_line = &text[at..].lines().next().unwrap().to_string();
        let theme = theme_line
            .trim()
            .trim_start_matches("themes: [")
            .split([',', ']'])
            .next()
            .unwrap()
            .to_string();
        // An author saves, reads, then saves again: let the downloads that follow the
        // last edit (data files, search index) finish first, as they would.
        while downloads_pending(port) {
            std::thread::sleep(Duration::from_millis(2));
        }
        let before = generation(port);
        let t0 = Instant::now();
        std::fs::write(&path, new).unwrap();
        loop {
            if generation(port) > before {
                let page = get(port, &format!("/themes/{theme}/"));
                if page.contains(&token) {
                    break;
                }
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "edit {e} never showed up"
            );
            std::thread::sleep(Duration::from_micros(500));
        }
        latencies.push(t0.elapsed().as_secs_f64() * 1000.0);
        while let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
            rebuild_lines.push(l);
        }
    }
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();

    let mut sorted = latencies.clone();
    let edit_median = median(&mut sorted);
    let p90 = sorted[(sorted.len() * 9 / 10).min(sorted.len() - 1)];
    println!("full build (write to disk), median of 5: {build_ms:.0} ms");
    println!("full render (check, no write), median of 5: {check_ms:.0} ms");
    println!(
        "serve, save one quote -> page served: median {edit_median:.0} ms, p90 {p90:.0} ms, min {:.0} ms, max {:.0} ms over {edits} edits",
        sorted[0],
        sorted[sorted.len() - 1]
    );
    println!(
        "ratio full render / edit: {:.1}x; full build / edit: {:.1}x",
        check_ms / edit_median,
        build_ms / edit_median
    );
    if let Some(l) = rebuild_lines.iter().find(|l| l.contains("rendered")) {
        println!("a rebuild line: {l}");
    }
}
