//! Search index benchmark: how large the index is, and how many bytes a first
//! search downloads, at growing study sizes.
//!
//! Run with `cargo bench --bench search` (optionally `-- 1000 10000 100000`, the
//! default). For each size it generates the synthetic study (benches/synthetic.rs)
//! under target/bench-studies/, builds it with the release binary, then reads the
//! index back and replays what search.js loads for a first search of several
//! words: search.js, meta.js, the shards of the word, and the document chunks of
//! the first page of results. Sizes are given raw (what `file://` reads) and
//! gzipped (what a web server that compresses sends).

// The tests' reader of the index; the bench uses only part of it.
#[allow(dead_code)]
#[path = "../tests/common/search_index.rs"]
mod search_index;
#[path = "synthetic.rs"]
mod synthetic;

use std::collections::{BTreeMap, BTreeSet};

use search_index::{call_args, decode, file_key, split_of};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_thematic");
/// Results on the first page, as search.js shows them.
const PAGE: usize = 10;
const MIN_PREFIX: usize = 3;

fn gz(bytes: &[u8]) -> usize {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap().len()
}

/// Raw and gzipped size of a file.
fn sizes(path: &Path) -> (usize, usize) {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (b.len(), gz(&b))
}

struct Meta {
    prefix: usize,
    split: BTreeSet<String>,
    keys: Vec<String>,
    chunks: Vec<u32>,
}

impl Meta {
    fn shard_key(&self, term: &str) -> String {
        search_index::shard_key(term, self.prefix, &self.split)
    }

    /// The shards search.js loads for one word.
    fn shards_for(&self, word: &str) -> Vec<String> {
        let key = self.shard_key(word);
        let mut keys = vec![key.clone()];
        if key.ends_with('$') && word.chars().count() >= MIN_PREFIX {
            for k in &self.keys {
                if *k != key && k.starts_with(word) && keys.len() < 24 {
                    keys.push(k.clone());
                }
            }
        }
        keys.retain(|k| self.keys.contains(k));
        keys
    }

    fn chunk_of(&self, doc: u32) -> usize {
        self.chunks.iter().position(|&end| end > doc).unwrap()
    }
}

/// Bytes a first search for `word` downloads: (raw, gzipped, results, files).
fn first_search(out: &Path, meta: &Meta, word: &str) -> (usize, usize, usize, usize) {
    let search = out.join("search");
    let mut files: Vec<PathBuf> = vec![out.join("static/search.js"), search.join("meta.js")];
    let mut marks: BTreeMap<u32, u8> = BTreeMap::new();
    for key in meta.shards_for(word) {
        let path = search.join(format!("t/{}.js", file_key(&key)));
        let args = call_args(&path);
        for (term, postings) in args[1].as_object().unwrap() {
            let score = if term == word {
                2
            } else if word.chars().count() >= MIN_PREFIX && term.starts_with(word) {
                1
            } else {
                continue;
            };
            for d in decode(postings.as_str().unwrap()) {
                let m = marks.entry(d).or_default();
                *m = (*m).max(score);
            }
        }
        files.push(path);
    }
    let mut hits: Vec<(u8, u32)> = marks.iter().map(|(&d, &s)| (s, d)).collect();
    hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let chunks: BTreeSet<usize> = hits
        .iter()
        .take(PAGE)
        .map(|&(_, d)| meta.chunk_of(d))
        .collect();
    files.extend(chunks.iter().map(|c| search.join(format!("d/{c}.js"))));
    let (raw, gzipped) = files
        .iter()
        .map(|p| sizes(p))
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    (raw, gzipped, hits.len(), files.len())
}

fn read_meta(out: &Path) -> Meta {
    let m = call_args(&out.join("search/meta.js")).remove(0);
    let (prefix, split) = split_of(&m);
    Meta {
        prefix,
        split,
        keys: m["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect(),
        chunks: m["chunks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect(),
    }
}

fn folder_sizes(dir: &Path) -> (usize, usize, usize) {
    let mut total = (0, 0, 0);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n != "index.html") {
                let (r, g) = sizes(&p);
                total = (total.0 + r, total.1 + g, total.2 + 1);
            }
        }
    }
    total
}

fn kb(n: usize) -> String {
    format!("{:.1} kB", n as f64 / 1000.0)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes_wanted = if args.is_empty() {
        vec![1_000, 10_000, 100_000]
    } else {
        args
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-studies");
    // Words from the most common to the rarest, and a prefix.
    let words = ["the", "bus", "stigma", "kalon", "kaloka", "supp", "zuzuzun"];
    println!(
        "| quotes | index files | index size (raw / gzip) | build | word | results | first search downloads (raw / gzip) | files |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for n in sizes_wanted {
        let dir = root.join(format!("search-{n}"));
        synthetic::write_study(&dir, n, 42);
        let out = dir.join("output");
        let t = Instant::now();
        let status = Command::new(BIN)
            .arg("build")
            .stdout(std::process::Stdio::null())
            .arg(&dir)
            .status()
            .expect("run thematic");
        assert!(status.success(), "build of {n} quotes failed");
        let took = t.elapsed();
        let meta = read_meta(&out);
        let (raw, gzipped, files) = folder_sizes(&out.join("search"));
        for (i, w) in words.iter().enumerate() {
            let (r, g, hits, loaded) = first_search(&out, &meta, w);
            if i == 0 {
                println!(
                    "| {n} | {files} | {} / {} | {:.2} s | `{w}` | {hits} | {} / {} | {loaded} |",
                    kb(raw),
                    kb(gzipped),
                    took.as_secs_f64(),
                    kb(r),
                    kb(g)
                );
            } else {
                println!(
                    "| | | | | `{w}` | {hits} | {} / {} | {loaded} |",
                    kb(r),
                    kb(g)
                );
            }
        }
    }
}
