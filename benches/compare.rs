//! Comparison benchmark (issue 9): full builds of the same synthetic study by
//! thematic, Hugo and Zola, interleaved, plus the "floor" (read every input,
//! render every quote's Markdown, write as many bytes to as many files as
//! thematic's output). Then, for thematic, the serve measurement of
//! `cargo bench --bench serve` (support/serve_edits.rs): the time from saving
//! one quote file to the rebuilt page being served.
//!
//! `cargo bench --bench compare -- [SIZES...] [--runs N] [--only NAME[,NAME]]
//! [--no-serve] [--edits N] [--paginate]` (defaults: 1000 10000 100000, 3 runs, all of
//! thematic, hugo, zola, floor; serve measured whenever thematic runs, with 40
//! edits below 100,000 quotes and 10 at 100,000 and more; Hugo's and Zola's term
//! pages whole, as issue 9 defines the equivalent site, or with `--paginate` in
//! pages of 100 quotes like thematic's lists: Zola then slows down sharply, as
//! its pager puts every page of a term into each page's context).
//! Hugo is `hugo` on PATH (or env HUGO); Zola is env ZOLA or /tmp/zola. A missing
//! generator is skipped with a message. See docs/performance.md.

#[path = "hugo_zola.rs"]
mod hugo_zola;
#[path = "support/serve_edits.rs"]
mod serve_edits;
#[path = "synthetic.rs"]
mod synthetic;

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rayon::prelude::*;

const BIN: &str = env!("CARGO_BIN_EXE_thematic");
const SEED: u64 = 42;
/// Serve edits per size by default: fewer at 100,000 quotes and more, where each
/// edit also waits for the downloads (data files, search index) of the last.
const EDITS: usize = 40;
const EDITS_AT_100K: usize = 10;
/// Issue 9's limit for one HTML page.
const PAGE_LIMIT: u64 = 1_000_000;

/// What one build measured.
#[derive(Clone, Default)]
struct Run {
    wall: f64,
    /// User + system CPU seconds, when /usr/bin/time reports them.
    cpu: Option<f64>,
    /// Peak resident memory of the child in KiB, when known.
    rss_kib: Option<u64>,
}

#[derive(Clone, Copy, Default)]
struct Output {
    /// Files named `index.html`, redirects excluded.
    pages: u64,
    /// Redirect stubs named `index.html` (Hugo's and Zola's `page/1/`, which
    /// send the reader to the term page).
    redirects: u64,
    files: u64,
    bytes: u64,
    /// The largest `.html` file, in bytes.
    largest_page: u64,
    /// `.html` files over [`PAGE_LIMIT`].
    over_limit: u64,
}

/// A small HTML file that only redirects elsewhere.
fn is_redirect(path: &Path, len: u64) -> bool {
    len < 2048 && fs::read_to_string(path).is_ok_and(|t| t.contains("http-equiv=\"refresh\""))
}

fn output_stats(dir: &Path) -> Output {
    let mut o = Output::default();
    for e in walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
    {
        if e.file_type().is_file() {
            let len = e.metadata().map(|m| m.len()).unwrap_or(0);
            o.files += 1;
            o.bytes += len;
            if e.path().extension().is_some_and(|x| x == "html") {
                o.largest_page = o.largest_page.max(len);
                o.over_limit += u64::from(len > PAGE_LIMIT);
            }
            if e.file_name() == "index.html" {
                if is_redirect(e.path(), len) {
                    o.redirects += 1;
                } else {
                    o.pages += 1;
                }
            }
        }
    }
    o
}

/// The peak RSS of a running process so far (VmHWM), for when /usr/bin/time is missing.
fn vm_hwm(pid: u32) -> Option<u64> {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let l = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    l.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `program args` in `cwd`, timing it and measuring its peak memory.
fn measure(program: &str, args: &[&str], cwd: &Path, scratch: &Path) -> Run {
    let gnu_time = Path::new("/usr/bin/time").exists();
    let report = scratch.join("time-report");
    let mut cmd = if gnu_time {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-f")
            .arg("%e %M %U %S")
            .arg("-o")
            .arg(&report)
            .arg(program);
        c
    } else {
        Command::new(program)
    };
    cmd.args(args)
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let t = Instant::now();
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{program}: {e}"));
    let mut peak = None;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if !gnu_time {
            peak = vm_hwm(child.id()).max(peak);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = t.elapsed().as_secs_f64();
    if !status.success() {
        let mut err = String::new();
        use std::io::Read as _;
        let _ = child.stderr.take().unwrap().read_to_string(&mut err);
        panic!("{program} {args:?} failed: {status}\n{err}");
    }
    let mut run = Run {
        wall,
        cpu: None,
        rss_kib: peak,
    };
    if gnu_time && let Ok(r) = fs::read_to_string(&report) {
        // The last line: other lines may be the child's own messages.
        let f: Vec<f64> = r
            .lines()
            .last()
            .unwrap_or("")
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if f.len() == 4 {
            run.rss_kib = Some(f[1] as u64);
            run.cpu = Some(f[2] + f[3]);
        }
    }
    run
}

/// The floor: read every input file of the study, render every quote's Markdown
/// with pulldown-cmark, and write `target.bytes` bytes into `target.files` files
/// (one folder each, as a site's pages are), in parallel as thematic does.
fn floor(study: &Path, out: &Path, target: Output) -> Run {
    let t = Instant::now();
    let inputs: Vec<PathBuf> = walkdir::WalkDir::new(study.join("content"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    let html: Vec<String> = inputs
        .par_iter()
        .flat_map_iter(|p| {
            let text = fs::read_to_string(p).unwrap();
            let mut rendered = Vec::new();
            if p.extension().is_some_and(|x| x == "yaml") {
                let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
                if let Some(qs) = doc.get("quotes").and_then(|q| q.as_sequence()) {
                    for q in qs {
                        let md = q.get("text").and_then(|t| t.as_str()).unwrap_or("");
                        let mut s = String::new();
                        pulldown_cmark::html::push_html(&mut s, pulldown_cmark::Parser::new(md));
                        rendered.push(s);
                    }
                }
            } else {
                let mut s = String::new();
                pulldown_cmark::html::push_html(&mut s, pulldown_cmark::Parser::new(&text));
                rendered.push(s);
            }
            rendered
        })
        .collect();
    let blob: String = html.concat();
    let blob = if blob.is_empty() {
        "x".to_string()
    } else {
        blob
    };
    let files = target.files.max(1);
    let each = target.bytes / files;
    let extra = target.bytes % files;
    let blob = blob.as_bytes();
    (0..files).into_par_iter().for_each(|i| {
        let len = (each + u64::from(i < extra)) as usize;
        let start = (i as usize * 7919) % blob.len();
        let mut page = Vec::with_capacity(len);
        while page.len() < len {
            let from = if page.is_empty() { start } else { 0 };
            let take = (len - page.len()).min(blob.len() - from);
            page.extend_from_slice(&blob[from..from + take]);
        }
        let d = out.join(format!("p{}/{}", i / 1000, i));
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("index.html"), page).unwrap();
    });
    Run {
        wall: t.elapsed().as_secs_f64(),
        cpu: None,
        rss_kib: None,
    }
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    s[s.len() / 2]
}

fn fmt_secs(s: f64) -> String {
    if s < 10.0 {
        format!("{s:.2} s")
    } else {
        format!("{s:.1} s")
    }
}

fn fmt_bytes(b: u64) -> String {
    let b = b as f64;
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.0} kB", b / 1e3)
    }
}

fn fmt_ms(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        fmt_secs(ms / 1000.0)
    }
}

fn fmt_kib(k: u64) -> String {
    if k >= 1024 * 1024 {
        format!("{:.2} GiB", k as f64 / 1024.0 / 1024.0)
    } else {
        format!("{:.0} MiB", k as f64 / 1024.0)
    }
}

fn group_digits(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn version(program: &str, arg: &str) -> Option<String> {
    let o = Command::new(program).arg(arg).output().ok()?;
    if !o.status.success() {
        return None;
    }
    let s = String::from_utf8_lossy(&o.stdout);
    Some(s.lines().next().unwrap_or("").trim().to_string())
}

struct Generator {
    name: &'static str,
    program: String,
    label: String,
}

fn main() {
    let mut sizes: Vec<usize> = Vec::new();
    let mut runs = 3usize;
    let mut only: Option<Vec<String>> = None;
    let mut serve = true;
    let mut paginate = false;
    let mut edits: Option<usize> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|r| r.parse().ok()).expect("--runs N"),
            "--no-serve" => serve = false,
            "--paginate" => paginate = true,
            "--edits" => {
                edits = Some(
                    args.next()
                        .and_then(|r| r.parse().ok())
                        .filter(|&e| e > 0)
                        .expect("--edits N (at least 1)"),
                )
            }
            "--only" => {
                only = Some(
                    args.next()
                        .expect("--only NAME[,NAME]")
                        .split(',')
                        .map(str::to_string)
                        .collect(),
                )
            }
            _ if a.starts_with("--") => {} // cargo's --bench and the like
            _ => sizes.push(
                a.replace(['_', ','], "")
                    .parse()
                    .expect("a size: a number of quotes"),
            ),
        }
    }
    if sizes.is_empty() {
        sizes = vec![1_000, 10_000, 100_000];
    }
    let runs = runs.max(1);
    let wanted = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == name));

    let mut generators = Vec::new();
    if wanted("thematic") {
        generators.push(Generator {
            name: "thematic",
            program: BIN.to_string(),
            label: format!("thematic {}", env!("CARGO_PKG_VERSION")),
        });
    }
    if wanted("hugo") {
        let hugo = std::env::var("HUGO").unwrap_or_else(|_| "hugo".into());
        match version(&hugo, "version") {
            Some(v) => {
                let short = v
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("")
                    .trim_start_matches('v')
                    .split(['+', '-'])
                    .next()
                    .unwrap_or("")
                    .to_string();
                generators.push(Generator {
                    name: "hugo",
                    program: hugo,
                    label: format!("Hugo {short}"),
                })
            }
            None => eprintln!(
                "skipping Hugo: `{hugo} version` did not run (install Debian's package: apt-get install -y hugo, or set HUGO)"
            ),
        }
    }
    if wanted("zola") {
        let zola = std::env::var("ZOLA").unwrap_or_else(|_| "/tmp/zola".into());
        match version(&zola, "--version") {
            Some(v) => generators.push(Generator {
                name: "zola",
                label: format!("Zola {}", v.trim_start_matches("zola ")),
                program: zola,
            }),
            None => eprintln!(
                "skipping Zola: {zola} not found (set ZOLA, or unpack it: xz -dc ../shared/tools/zola-0.22.1-x86_64-linux.xz > /tmp/zola && chmod +x /tmp/zola)"
            ),
        }
    }
    let with_floor = wanted("floor")
        || only
            .as_ref()
            .is_some_and(|o| o.iter().any(|x| x == "thematic"));

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out_base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from(format!("/dev/shm/thematic-compare-{}", std::process::id()))
    } else {
        root.join("target/bench-output")
    };
    fs::create_dir_all(&out_base).unwrap();
    eprintln!(
        "output to {} ({}), {runs} run(s) each, interleaved",
        out_base.display(),
        if out_base.starts_with("/dev/shm") {
            "tmpfs"
        } else {
            "disk"
        }
    );

    let serve = serve && generators.iter().any(|g| g.name == "thematic");
    let edits_for = |n: usize| edits.unwrap_or(if n >= 100_000 { EDITS_AT_100K } else { EDITS });

    let mut table = vec![
        "| quotes | generator | wall time, median (min-max) | CPU user+sys, median | peak RSS, max | pages | files | output | largest page (over 1 MB) | thematic's speed-up |".to_string(),
        "|---|---|---|---|---|---|---|---|---|---|".to_string(),
    ];
    let mut serve_table = vec![
        "| quotes | edits | save one quote -> page served, median (min-max) | p90 | serve start (first build, in memory) | issue 9's target (median) |".to_string(),
        "|---|---|---|---|---|---|".to_string(),
    ];
    for &n in &sizes {
        let base = root.join(format!("target/bench-studies/compare-{n}"));
        let study = base.join("thematic");
        let t = Instant::now();
        synthetic::write_study(&study, n, SEED);
        let quotes = hugo_zola::read_quotes(&study);
        let findings = hugo_zola::read_findings(&study);
        let title = format!("Synthetic study of {n} quotes");
        let mut dirs: Vec<(usize, PathBuf)> = Vec::new();
        for (i, g) in generators.iter().enumerate() {
            let d = match g.name {
                "hugo" => {
                    let d = base.join("hugo");
                    hugo_zola::write_hugo(&d, &quotes, &findings, &title, paginate);
                    d
                }
                "zola" => {
                    let d = base.join("zola");
                    hugo_zola::write_zola(&d, &quotes, &findings, &title, paginate);
                    d
                }
                _ => study.clone(),
            };
            dirs.push((i, d));
        }
        // Written back to disk now, not in the kernel's own time during the
        // first builds (at 100,000 quotes it made each generator's first run
        // several seconds slower).
        let _ = Command::new("sync").status();
        eprintln!(
            "{n} quotes: sites written in {:.1} s under {}",
            t.elapsed().as_secs_f64(),
            base.display()
        );

        let mut results: Vec<Vec<Run>> = vec![Vec::new(); generators.len()];
        let mut outputs = vec![Output::default(); generators.len()];
        let mut floor_runs = Vec::new();
        let thematic = generators.iter().position(|g| g.name == "thematic");
        for r in 0..runs {
            for (i, dir) in &dirs {
                let g = &generators[*i];
                let out = out_base.join(g.name);
                let _ = fs::remove_dir_all(&out);
                let outs = out.to_str().unwrap();
                let args: Vec<&str> = match g.name {
                    "hugo" => vec!["--quiet", "--destination", outs],
                    "zola" => vec!["build", "--force", "--output-dir", outs],
                    _ => vec!["build", ".", "--output", outs],
                };
                let run = measure(&g.program, &args, dir, &out_base);
                eprintln!(
                    "  run {}/{runs} {:<8} {:>8.2} s {:>10}",
                    r + 1,
                    g.name,
                    run.wall,
                    run.rss_kib.map(fmt_kib).unwrap_or_default()
                );
                outputs[*i] = output_stats(&out);
                let _ = fs::remove_dir_all(&out);
                results[*i].push(run);
            }
            // The floor, in the same round as the builds (the machine's speed
            // drifts): it writes thematic's file count and bytes.
            if with_floor && let Some(i) = thematic {
                let out = out_base.join("floor");
                let _ = fs::remove_dir_all(&out);
                let run = floor(&study, &out, outputs[i]);
                eprintln!("  run {}/{runs} floor    {:>8.2} s", r + 1, run.wall);
                let _ = fs::remove_dir_all(&out);
                floor_runs.push(run);
            }
        }

        let thematic_median = generators
            .iter()
            .position(|g| g.name == "thematic")
            .map(|i| median(&results[i].iter().map(|r| r.wall).collect::<Vec<_>>()));
        for (i, g) in generators.iter().enumerate() {
            let walls: Vec<f64> = results[i].iter().map(|r| r.wall).collect();
            let m = median(&walls);
            let min = walls.iter().cloned().fold(f64::INFINITY, f64::min);
            let max = walls.iter().cloned().fold(0.0, f64::max);
            let cpus: Vec<f64> = results[i].iter().filter_map(|r| r.cpu).collect();
            let rss = results[i].iter().filter_map(|r| r.rss_kib).max();
            let speedup = match (g.name, thematic_median) {
                ("thematic", _) => "1x".to_string(),
                (_, Some(t)) => format!("{:.1}x", m / t),
                _ => "-".to_string(),
            };
            let o = outputs[i];
            let pages = if o.redirects > 0 {
                format!(
                    "{} (+{} redirects)",
                    group_digits(o.pages),
                    group_digits(o.redirects)
                )
            } else {
                group_digits(o.pages)
            };
            table.push(format!(
                "| {} | {} | {} ({}-{}) | {} | {} | {} | {} | {} | {} ({}) | {} |",
                group_digits(n as u64),
                g.label,
                fmt_secs(m),
                fmt_secs(min),
                fmt_secs(max),
                if cpus.is_empty() {
                    "-".into()
                } else {
                    fmt_secs(median(&cpus))
                },
                rss.map(fmt_kib).unwrap_or_else(|| "-".into()),
                pages,
                group_digits(o.files),
                fmt_bytes(o.bytes),
                fmt_bytes(o.largest_page),
                group_digits(o.over_limit),
                speedup
            ));
        }
        if let (false, Some(i), Some(t)) = (floor_runs.is_empty(), thematic, thematic_median) {
            let target = outputs[i];
            let walls: Vec<f64> = floor_runs.iter().map(|r| r.wall).collect();
            let m = median(&walls);
            let min = walls.iter().cloned().fold(f64::INFINITY, f64::min);
            let max = walls.iter().cloned().fold(0.0, f64::max);
            table.push(format!(
                "| {} | floor (read, render Markdown, write) | {} ({}-{}) | - | - | {} | {} | {} | - | thematic takes {:.1}x the floor |",
                group_digits(n as u64),
                fmt_secs(m),
                fmt_secs(min),
                fmt_secs(max),
                group_digits(target.files),
                group_digits(target.files),
                fmt_bytes(target.bytes),
                t / m
            ));
        }

        // Serve, thematic only, after the builds (it edits the study's quote
        // files, and puts them back when it is done).
        if serve {
            let e = edits_for(n);
            eprintln!("  serve: {e} one-quote edits");
            let times = serve_edits::measure(BIN, &study, n, e);
            eprintln!(
                "  serve: start {}, edits median {}",
                fmt_ms(times.start_ms),
                fmt_ms(times.median())
            );
            let target = match n {
                10_000 => "under 100 ms",
                100_000 => "under 300 ms",
                _ => "-",
            };
            serve_table.push(format!(
                "| {} | {} | {} ({}-{}) | {} | {} | {target} |",
                group_digits(n as u64),
                times.edits_ms.len(),
                fmt_ms(times.median()),
                fmt_ms(times.min()),
                fmt_ms(times.max()),
                fmt_ms(times.p90()),
                fmt_ms(times.start_ms),
            ));
        }
    }
    let _ = fs::remove_dir_all(&out_base);
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout).unwrap();
    for l in table {
        writeln!(stdout, "{l}").unwrap();
    }
    let term_pages = if paginate {
        format!(
            "Hugo and Zola paginate their term pages at {} quotes (--paginate).",
            hugo_zola::PAGE_SIZE
        )
    } else {
        "Hugo's and Zola's term pages list all their quotes on one page, as issue 9 defines the equivalent site (--paginate splits them as thematic does).".to_string()
    };
    writeln!(
        stdout,
        "\npages: files named index.html, not counting redirect stubs (Hugo's and Zola's page/1/, which send the reader to the term page); largest page: the largest .html file, and how many are over 1 MB (1,000,000 bytes, issue 9's limit). {term_pages}"
    )
    .unwrap();
    if serve {
        writeln!(stdout).unwrap();
        for l in serve_table {
            writeln!(stdout, "{l}").unwrap();
        }
        let counts = match edits {
            Some(e) => format!("{e} edits per size (--edits)"),
            None => format!(
                "{EDITS} edits per size below 100,000 quotes, {EDITS_AT_100K} at 100,000 and more (each edit waits for the last one's data files and search index; --edits N to change)"
            ),
        };
        writeln!(
            stdout,
            "\nserve (thematic only; --no-serve to skip): `thematic serve` on the same study, one quote file saved at a time, timed until the quote's page (its url in data/quotes.json) is served with the new text; {counts}."
        )
        .unwrap();
    }
}
