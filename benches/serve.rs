//! Serve benchmark: the time from saving one quote file to the rebuilt page
//! being served, against full builds of the same study.
//!
//! Run with `cargo bench --bench serve` (optionally `-- QUOTES EDITS`, default
//! 10000 quotes and 40 edits). It generates a synthetic study under
//! target/bench-studies/, times `thematic build` and `thematic check` (a full
//! render without writing), then starts `thematic serve` and edits one quote at
//! a time, polling the server until the quote's page (from `data/quotes.json`)
//! is served with the new text. The measurement is in `serve_edits.rs`, which
//! `cargo bench --bench compare` runs too.

#[path = "support/serve_edits.rs"]
mod serve_edits;
#[path = "synthetic.rs"]
mod synthetic;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_thematic");

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

    let serve = serve_edits::measure(BIN, &dir, n, edits);
    let edit_median = serve.median();
    println!("full build (write to disk), median of 5: {build_ms:.0} ms");
    println!("full render (check, no write), median of 5: {check_ms:.0} ms");
    println!(
        "serve start (first build, in memory): {:.0} ms",
        serve.start_ms
    );
    println!(
        "serve, save one quote -> page served: median {edit_median:.0} ms, p90 {:.0} ms, min {:.0} ms, max {:.0} ms over {edits} edits",
        serve.p90(),
        serve.min(),
        serve.max()
    );
    println!(
        "ratio full render / edit: {:.1}x; full build / edit: {:.1}x",
        check_ms / edit_median,
        build_ms / edit_median
    );
    if let Some(l) = &serve.rebuild_line {
        println!("a rebuild line: {l}");
    }
}
