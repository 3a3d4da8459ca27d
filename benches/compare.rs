//! Comparison benchmark (issue 9): full builds of the same synthetic study by
//! thematic, Hugo and Zola, interleaved, plus the "floor" (read every input,
//! render every quote's Markdown, write as many bytes to as many files as
//! thematic's output).
//!
//! `cargo bench --bench compare -- [SIZES...] [--runs N] [--only NAME[,NAME]]`
//! (defaults: 1000 10000 100000, 3 runs, all of thematic, hugo, zola, floor).
//! Hugo is `hugo` on PATH (or env HUGO); Zola is env ZOLA or /tmp/zola. A missing
//! generator is skipped with a message. See docs/performance.md.

#[path = "hugo_zola.rs"]
mod hugo_zola;
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
    pages: u64,
    files: u64,
    bytes: u64,
}

fn output_stats(dir: &Path) -> Output {
    let mut o = Output::default();
    for e in walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
    {
        if e.file_type().is_file() {
            o.files += 1;
            o.bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
            if e.file_name() == "index.html" {
                o.pages += 1;
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
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|r| r.parse().ok()).expect("--runs N"),
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

    let mut table = vec![
        "| quotes | generator | wall time, median (min-max) | CPU user+sys, median | peak RSS, max | pages | files | output | thematic's speed-up |".to_string(),
        "|---|---|---|---|---|---|---|---|---|".to_string(),
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
                    hugo_zola::write_hugo(&d, &quotes, &findings, &title);
                    d
                }
                "zola" => {
                    let d = base.join("zola");
                    hugo_zola::write_zola(&d, &quotes, &findings, &title);
                    d
                }
                _ => study.clone(),
            };
            dirs.push((i, d));
        }
        eprintln!(
            "{n} quotes: sites written in {:.1} s under {}",
            t.elapsed().as_secs_f64(),
            base.display()
        );

        let mut results: Vec<Vec<Run>> = vec![Vec::new(); generators.len()];
        let mut outputs = vec![Output::default(); generators.len()];
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
        }
        // The floor, after thematic (it writes thematic's file count and bytes).
        let mut floor_runs = Vec::new();
        let floor_target = generators
            .iter()
            .position(|g| g.name == "thematic")
            .map(|i| outputs[i]);
        if with_floor && let Some(target) = floor_target {
            for r in 0..runs {
                let out = out_base.join("floor");
                let _ = fs::remove_dir_all(&out);
                let run = floor(&study, &out, target);
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
            table.push(format!(
                "| {} | {} | {} ({}-{}) | {} | {} | {} | {} | {} | {} |",
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
                group_digits(o.pages),
                group_digits(o.files),
                fmt_bytes(o.bytes),
                speedup
            ));
        }
        if let (false, Some(target), Some(t)) =
            (floor_runs.is_empty(), floor_target, thematic_median)
        {
            let walls: Vec<f64> = floor_runs.iter().map(|r| r.wall).collect();
            let m = median(&walls);
            let min = walls.iter().cloned().fold(f64::INFINITY, f64::min);
            let max = walls.iter().cloned().fold(0.0, f64::max);
            table.push(format!(
                "| {} | floor (read, render Markdown, write) | {} ({}-{}) | - | - | {} | {} | {} | thematic takes {:.1}x the floor |",
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
    }
    let _ = fs::remove_dir_all(&out_base);
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout).unwrap();
    for l in table {
        writeln!(stdout, "{l}").unwrap();
    }
}
