//! Test harness shared by the integration tests, in the spirit of mdBook's testsuite:
//! copy a fixture study into a temporary folder, run the real `thematic` binary on it,
//! and inspect what it printed and what it wrote.
//!
//! - [`TestStudy`]: a study folder in a tempdir (from a fixture, the example study, or a
//!   broken variant of `tests/fixtures/minimal`), with helpers to run `build`/`check`.
//! - [`Run`]: exit code, stdout and stderr of one run, with parsed diagnostics.
//! - [`list_files`], [`snapshot`], [`read_page`]: look at an output folder.
//! - [`check_links`]: a hand-written link checker for a built site.
//! - [`facts::Facts`]: an independent reading of a study's content, to compute the
//!   page set a build must produce.

#![allow(dead_code)]

pub mod facts;
pub mod search_index;
pub mod server;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

/// The binary under test, built by cargo for the integration tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_thematic");

/// The repository root, which is also the example study.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/fixtures/`.
pub fn fixtures_dir() -> PathBuf {
    repo_root().join("tests").join("fixtures")
}

// ---------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------

/// One diagnostic as printed on stderr:
/// `error: MESSAGE\n --> FILE:LINE:COL\n  |\nN | source\n  = help: HINT`.
#[derive(Debug, Clone)]
pub struct Diag {
    /// `error` or `warning`.
    pub severity: String,
    /// The headline after `error: `.
    pub message: String,
    /// What follows `--> ` (`content/x.yaml:3:5`), empty when absent.
    pub location: String,
    /// The whole printed block, for messages and hint checks.
    pub text: String,
}

impl Diag {
    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == "error"
    }

    /// True when the location is `file:line` or `file:line:col`.
    pub fn is_at(&self, file: &str, line: usize) -> bool {
        self.location == format!("{file}:{line}")
            || self.location.starts_with(&format!("{file}:{line}:"))
    }

    /// The file part of the location.
    pub fn file(&self) -> &str {
        self.location.split(':').next().unwrap_or("")
    }
}

/// The result of running the binary once.
#[derive(Debug, Clone)]
pub struct Run {
    /// The arguments, for failure messages.
    pub args: Vec<String>,
    /// Exit code; `None` when killed by a signal.
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`thematic {}` exited with {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }
}

impl Run {
    /// Asserts exit code 0.
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(self.code, Some(0), "expected success\n{self}");
        self
    }

    /// Asserts exit code 0 and nothing at all on stderr (no warnings).
    #[track_caller]
    pub fn assert_ok_quiet(&self) -> &Self {
        self.assert_ok();
        assert!(
            self.stderr.trim().is_empty(),
            "expected no diagnostics\n{self}"
        );
        self
    }

    /// Asserts a specific exit code.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "unexpected exit code\n{self}");
        self
    }

    /// Asserts exit code 1 (content errors).
    #[track_caller]
    pub fn assert_failed(&self) -> &Self {
        self.assert_code(1)
    }

    /// Asserts that stderr contains `needle`.
    #[track_caller]
    pub fn assert_stderr_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n{self}"
        );
        self
    }

    /// Asserts that stdout contains `needle`.
    #[track_caller]
    pub fn assert_stdout_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n{self}"
        );
        self
    }

    /// The diagnostics printed on stderr, in order.
    pub fn diagnostics(&self) -> Vec<Diag> {
        let mut out: Vec<Diag> = Vec::new();
        for line in self.stderr.lines() {
            let head = line
                .strip_prefix("error: ")
                .map(|m| ("error", m))
                .or_else(|| line.strip_prefix("warning: ").map(|m| ("warning", m)));
            if let Some((severity, message)) = head {
                out.push(Diag {
                    severity: severity.into(),
                    message: message.into(),
                    location: String::new(),
                    text: format!("{line}\n"),
                });
                continue;
            }
            if line.starts_with("Build failed") || line.starts_with("Check failed") {
                break;
            }
            if let Some(d) = out.last_mut() {
                d.text.push_str(line);
                d.text.push('\n');
                if d.location.is_empty() {
                    if let Some(loc) = line.trim_start().strip_prefix("--> ") {
                        d.location = loc.trim().to_string();
                    }
                }
            }
        }
        out
    }

    /// The errors printed on stderr.
    pub fn errors(&self) -> Vec<Diag> {
        self.diagnostics()
            .into_iter()
            .filter(Diag::is_error)
            .collect()
    }

    /// The error located at `file:line` whose headline contains `message`. Also checks
    /// the literal `--> file:line` text, so the printed format itself is tested.
    #[track_caller]
    pub fn error_at(&self, file: &str, line: usize, message: &str) -> Diag {
        let arrow = format!("--> {file}:{line}");
        let printed = self.stderr.match_indices(&arrow).any(|(i, _)| {
            matches!(
                self.stderr[i + arrow.len()..].chars().next(),
                None | Some(':') | Some('\n') | Some('\r')
            )
        });
        assert!(printed, "stderr has no `{arrow}` location\n{self}");
        self.errors()
            .into_iter()
            .find(|d| d.is_at(file, line) && d.message.contains(message))
            .unwrap_or_else(|| {
                panic!("no error at {file}:{line} whose message contains {message:?}\n{self}")
            })
    }

    /// The error whose headline contains `message`, wherever it is.
    #[track_caller]
    pub fn error_with(&self, message: &str) -> Diag {
        self.errors()
            .into_iter()
            .find(|d| d.message.contains(message))
            .unwrap_or_else(|| panic!("no error whose message contains {message:?}\n{self}"))
    }
}

/// Runs the binary with `args` in `cwd` and waits for it.
pub fn thematic<S: AsRef<OsStr>>(args: &[S], cwd: &Path) -> Run {
    let output = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run the thematic binary");
    Run {
        args: args
            .iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect(),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `thematic import ARGS` in `dir`.
pub fn import(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["import"];
    all.extend_from_slice(args);
    thematic(&all, dir)
}

/// The summary line of an import run (`Imported ...` or `Dry run ...`).
#[track_caller]
pub fn import_summary(run: &Run) -> String {
    run.stdout
        .lines()
        .find(|l| l.starts_with("Imported ") || l.starts_with("Dry run"))
        .unwrap_or_else(|| panic!("no summary line:\n{run}"))
        .to_string()
}

// ---------------------------------------------------------------------------
// Study folders
// ---------------------------------------------------------------------------

/// A study folder inside its own temporary directory:
/// `TMP/study/` holds the study, and `TMP/` is free for other output folders.
pub struct TestStudy {
    tmp: TempDir,
    dir: PathBuf,
}

impl TestStudy {
    /// An empty study folder (no content/).
    pub fn empty() -> Self {
        let tmp = tempfile::Builder::new()
            .prefix("thematic-test-")
            .tempdir()
            .expect("create a tempdir");
        let dir = tmp.path().join("study");
        fs::create_dir_all(&dir).expect("create the study folder");
        TestStudy { tmp, dir }
    }

    /// A copy of a folder that holds a study.
    pub fn copy_of(src: &Path) -> Self {
        let s = TestStudy::empty();
        copy_dir(src, &s.dir);
        s
    }

    /// A copy of `tests/fixtures/NAME`.
    pub fn fixture(name: &str) -> Self {
        let src = fixtures_dir().join(name);
        assert!(src.is_dir(), "no fixture {}", src.display());
        TestStudy::copy_of(&src)
    }

    /// A copy of the example study at the repository root: `content/`, and `themes/`
    /// when present. Never builds into the repository.
    pub fn example() -> Self {
        let s = TestStudy::empty();
        let root = repo_root();
        copy_dir(&root.join("content"), &s.dir.join("content"));
        if root.join("themes").is_dir() {
            copy_dir(&root.join("themes"), &s.dir.join("themes"));
        }
        s
    }

    /// `tests/fixtures/minimal` with `tests/fixtures/broken/NAME/` copied over it
    /// (files there add to or replace the minimal study's files). A broken case that
    /// only deletes or corrupts a file has no folder: the test does that itself.
    pub fn broken(name: &str) -> Self {
        let s = TestStudy::fixture("minimal");
        let overlay = fixtures_dir().join("broken").join(name);
        assert!(overlay.is_dir(), "no broken fixture {}", overlay.display());
        copy_dir(&overlay, &s.dir);
        s
    }

    /// The study folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The temporary directory around the study folder.
    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    /// The default output folder, `STUDY/output`.
    pub fn out(&self) -> PathBuf {
        self.dir.join("output")
    }

    /// A path inside the study folder.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// Writes a file in the study folder, creating folders as needed.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, contents).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
    }

    /// Reads a text file of the study folder.
    pub fn read(&self, rel: &str) -> String {
        let p = self.path(rel);
        fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
    }

    /// Replaces the first occurrence of `from` in a file, which must contain it.
    #[track_caller]
    pub fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} does not contain {from:?}");
        self.write(rel, text.replacen(from, to, 1));
    }

    /// Removes a file or folder of the study.
    pub fn remove(&self, rel: &str) {
        let p = self.path(rel);
        if p.is_dir() {
            fs::remove_dir_all(&p).unwrap();
        } else {
            fs::remove_file(&p).unwrap();
        }
    }

    /// The 1-based line of the first line containing `needle` in a study file.
    #[track_caller]
    pub fn line_of(&self, rel: &str, needle: &str) -> usize {
        line_of(&self.read(rel), needle)
    }

    /// Runs the binary with `args`, in the temporary directory.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Run {
        thematic(args, self.root())
    }

    /// `thematic build STUDY EXTRA...`.
    pub fn build_with(&self, extra: &[&str]) -> Run {
        let mut args: Vec<&OsStr> = vec![OsStr::new("build"), self.dir.as_os_str()];
        args.extend(extra.iter().map(OsStr::new));
        self.run(&args)
    }

    /// `thematic build STUDY`.
    pub fn build(&self) -> Run {
        self.build_with(&[])
    }

    /// `thematic build STUDY --output DIR`.
    pub fn build_into(&self, out: &Path, extra: &[&str]) -> Run {
        let mut args: Vec<&OsStr> = vec![
            OsStr::new("build"),
            self.dir.as_os_str(),
            OsStr::new("--output"),
            out.as_os_str(),
        ];
        args.extend(extra.iter().map(OsStr::new));
        self.run(&args)
    }

    /// `thematic check STUDY EXTRA...`.
    pub fn check_with(&self, extra: &[&str]) -> Run {
        let mut args: Vec<&OsStr> = vec![OsStr::new("check"), self.dir.as_os_str()];
        args.extend(extra.iter().map(OsStr::new));
        self.run(&args)
    }

    /// `thematic check STUDY`.
    pub fn check(&self) -> Run {
        self.check_with(&[])
    }

    /// The facts of this study's content, read independently of thematic.
    pub fn facts(&self) -> facts::Facts {
        facts::Facts::read(&self.dir)
    }
}

/// The 1-based line of the first line of `text` containing `needle`.
#[track_caller]
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle:?} not found in:\n{text}"))
}

/// Copies a folder recursively (files and folders only).
pub fn copy_dir(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for entry in fs::read_dir(src).unwrap_or_else(|e| panic!("read {}: {e}", src.display())) {
        let entry = entry.unwrap();
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let ty = entry.file_type().unwrap();
        if ty.is_dir() {
            copy_dir(&from, &to);
        } else if ty.is_file() {
            fs::copy(&from, &to).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------
// Output folders
// ---------------------------------------------------------------------------

/// Every file under `dir` (dotfiles included), relative, with `/` separators, sorted.
pub fn list_files(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(rel_path(base, &p));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The `.html` files under `dir`.
pub fn html_files(dir: &Path) -> BTreeSet<String> {
    list_files(dir)
        .into_iter()
        .filter(|f| f.ends_with(".html"))
        .collect()
}

fn rel_path(base: &Path, p: &Path) -> String {
    p.strip_prefix(base)
        .unwrap()
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Every file under `dir` with its bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    list_files(dir)
        .into_iter()
        .map(|f| {
            let bytes = fs::read(dir.join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

/// Asserts that two snapshots are identical, naming the first differences.
#[track_caller]
pub fn assert_same_snapshot(
    a: &BTreeMap<String, Vec<u8>>,
    b: &BTreeMap<String, Vec<u8>>,
    what: &str,
) {
    let only_a: Vec<&String> = a.keys().filter(|k| !b.contains_key(*k)).collect();
    let only_b: Vec<&String> = b.keys().filter(|k| !a.contains_key(*k)).collect();
    let differ: Vec<&String> = a
        .iter()
        .filter(|(k, v)| b.get(*k).is_some_and(|w| w != *v))
        .map(|(k, _)| k)
        .collect();
    assert!(
        only_a.is_empty() && only_b.is_empty() && differ.is_empty(),
        "{what}: only in first: {only_a:?}; only in second: {only_b:?}; different: {:?}",
        differ.iter().take(10).collect::<Vec<_>>()
    );
}

/// Reads an output page as text.
#[track_caller]
pub fn read_page(out: &Path, rel: &str) -> String {
    let p = out.join(rel);
    fs::read_to_string(&p).unwrap_or_else(|e| panic!("read page {}: {e}", p.display()))
}

/// Every text file of an output folder that contains `needle`.
pub fn files_containing(out: &Path, needle: &str) -> Vec<String> {
    list_files(out)
        .into_iter()
        .filter(|f| {
            fs::read(out.join(f))
                .map(|b| String::from_utf8_lossy(&b).contains(needle))
                .unwrap_or(false)
        })
        .collect()
}

/// Escapes text as our templates do, to search rendered pages for plain text.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

// ---------------------------------------------------------------------------
// HTML scanning
// ---------------------------------------------------------------------------

/// A start tag found in a page.
#[derive(Debug, Clone)]
pub struct Tag {
    /// Lowercase tag name.
    pub name: String,
    /// Attributes in order, names lowercased, values with entities decoded.
    pub attrs: Vec<(String, String)>,
    /// Byte offset of the `<` in the page.
    pub offset: usize,
}

impl Tag {
    /// An attribute's value.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// True when the `class` attribute has `class` among its words.
    pub fn has_class(&self, class: &str) -> bool {
        self.attr("class")
            .is_some_and(|c| c.split_whitespace().any(|w| w == class))
    }
}

/// Decodes the character references our output uses in attribute values.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ if name.starts_with("#x") || name.starts_with("#X") => {
                    u32::from_str_radix(&name[2..], 16)
                        .ok()
                        .and_then(char::from_u32)
                }
                _ if name.starts_with('#') => name[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every start tag of a page, found by simple scanning: comments are skipped, and so
/// is the content of `<script>` and `<style>` elements; attribute values may be
/// double-quoted, single-quoted or bare.
pub fn tags(html: &str) -> Vec<Tag> {
    let b = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        let start = i + off;
        if html[start..].starts_with("<!--") {
            i = html[start..]
                .find("-->")
                .map_or(html.len(), |e| start + e + 3);
            continue;
        }
        let mut j = start + 1;
        if j >= b.len() || !b[j].is_ascii_alphabetic() {
            // `</x>`, `<!DOCTYPE>` or a stray `<`.
            i = start + 1;
            continue;
        }
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'-') {
            j += 1;
        }
        let name = html[start + 1..j].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            if j >= b.len() {
                break;
            }
            if b[j] == b'>' {
                j += 1;
                break;
            }
            if b[j] == b'/' {
                j += 1;
                continue;
            }
            let n0 = j;
            while j < b.len()
                && !b[j].is_ascii_whitespace()
                && b[j] != b'='
                && b[j] != b'>'
                && b[j] != b'/'
            {
                j += 1;
            }
            let attr_name = html[n0..j].to_ascii_lowercase();
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            let mut value = String::new();
            if j < b.len() && b[j] == b'=' {
                j += 1;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                if j < b.len() && (b[j] == b'"' || b[j] == b'\'') {
                    let q = b[j];
                    let v0 = j + 1;
                    let v1 = html[v0..].find(q as char).map_or(html.len(), |e| v0 + e);
                    value = decode_entities(&html[v0..v1]);
                    j = (v1 + 1).min(html.len());
                } else {
                    let v0 = j;
                    while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                        j += 1;
                    }
                    value = decode_entities(&html[v0..j]);
                }
            }
            if !attr_name.is_empty() {
                attrs.push((attr_name, value));
            }
        }
        i = j;
        if name == "script" || name == "style" {
            let close = format!("</{name}");
            i = html[i..]
                .to_ascii_lowercase()
                .find(&close)
                .map_or(html.len(), |e| i + e);
        }
        out.push(Tag {
            name,
            attrs,
            offset: start,
        });
    }
    out
}

/// The `id` values of a page, in order (duplicates kept).
pub fn ids(html: &str) -> Vec<String> {
    tags(html)
        .into_iter()
        .filter_map(|t| t.attr("id").map(str::to_string))
        .collect()
}

/// The tags of a page that have attribute `attr` equal to `value`.
pub fn tags_with(html: &str, attr: &str, value: &str) -> Vec<Tag> {
    tags(html)
        .into_iter()
        .filter(|t| t.attr(attr) == Some(value))
        .collect()
}

/// The `href` values of `<a>` elements of a page, in order.
pub fn links(html: &str) -> Vec<String> {
    tags(html)
        .into_iter()
        .filter(|t| t.name == "a")
        .filter_map(|t| t.attr("href").map(str::to_string))
        .collect()
}

/// The text of the element that starts with the tag at `offset`, up to its matching
/// close tag (same-name nesting counted). Good enough for `<figure>` and `<div>`.
pub fn element_at(html: &str, offset: usize) -> &str {
    let rest = &html[offset..];
    let name_end = rest[1..]
        .find(|c: char| !c.is_ascii_alphanumeric())
        .map_or(rest.len(), |e| e + 1);
    let name = &rest[1..name_end];
    let open = format!("<{name}");
    let close = format!("</{name}>");
    let mut depth = 0usize;
    let mut i = 0;
    while i < rest.len() {
        if rest[i..].starts_with(&close) {
            depth -= 1;
            if depth == 0 {
                return &rest[..i + close.len()];
            }
            i += close.len();
        } else if rest[i..].starts_with(&open)
            && rest[i + open.len()..]
                .chars()
                .next()
                .is_some_and(|c| c == '>' || c.is_whitespace())
        {
            depth += 1;
            i += open.len();
        } else {
            i += rest[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    rest
}

/// Every element (as text) of a page that carries `data-quote-id="ID"`.
pub fn quote_elements<'a>(html: &'a str, id: &str) -> Vec<&'a str> {
    tags_with(html, "data-quote-id", id)
        .into_iter()
        .map(|t| element_at(html, t.offset))
        .collect()
}

// ---------------------------------------------------------------------------
// Link checking
// ---------------------------------------------------------------------------

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Resolves `target` (a relative path without fragment) against the page at `page`
/// (relative to the site root); `None` when it climbs above the root.
fn resolve_relative(page: &str, target: &str) -> Option<String> {
    let mut parts: Vec<String> = page.split('/').map(str::to_string).collect();
    parts.pop(); // the page's own file name
    for c in Path::new(target).components() {
        match c {
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir => {}
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

/// What the link checker found.
#[derive(Debug, Default)]
pub struct LinkReport {
    /// Pages scanned.
    pub pages: usize,
    /// Internal links and resources checked.
    pub checked: usize,
    /// External `<a href>` links seen (allowed, not followed).
    pub external: BTreeSet<String>,
    /// Everything wrong, one line each: `page: problem`.
    pub problems: Vec<String>,
}

/// Checks every `.html` page under `out`:
/// - every relative `href`/`src` resolves to an existing file (not a folder, which would
///   not open from `file://`), without climbing above the site root;
/// - every `#fragment` names an `id` of the target page (pure `#frag` on the same page);
/// - no link starts with `/` (absolute or protocol-relative);
/// - no `src=` and no `<link href=` loads an http(s) resource (a `rel="canonical"` link
///   is a URL, not a request, and is allowed); `<a href>` to http(s)/mailto is allowed;
/// - no other scheme is left in a link (an unresolved `theme:x` would show here);
/// - every `id` is unique within its page (anchors must be stable).
pub fn check_links(out: &Path) -> LinkReport {
    let mut report = LinkReport::default();
    let pages: Vec<String> = html_files(out).into_iter().collect();
    let mut id_cache: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut page_tags: Vec<(String, Vec<Tag>)> = Vec::new();
    for page in &pages {
        let html = fs::read_to_string(out.join(page)).unwrap_or_default();
        let tags = tags(&html);
        let mut seen = BTreeSet::new();
        for t in &tags {
            if let Some(id) = t.attr("id") {
                if !seen.insert(id.to_string()) {
                    report
                        .problems
                        .push(format!("{page}: duplicate id=\"{id}\""));
                }
            }
        }
        id_cache.insert(page.clone(), seen);
        page_tags.push((page.clone(), tags));
    }
    report.pages = pages.len();
    for (page, tags) in &page_tags {
        for t in tags {
            for (attr, value) in &t.attrs {
                if attr != "href" && attr != "src" {
                    continue;
                }
                let v = value.trim();
                let mut problem = |p: String| report.problems.push(format!("{page}: {p}"));
                if v.is_empty() {
                    problem(format!("empty {attr} on <{}>", t.name));
                    continue;
                }
                if v.starts_with('/') {
                    problem(format!("absolute link {attr}=\"{v}\" on <{}>", t.name));
                    continue;
                }
                let lower = v.to_ascii_lowercase();
                if lower.starts_with("http://") || lower.starts_with("https://") {
                    let canonical = t.name == "link" && t.attr("rel") == Some("canonical");
                    let allowed = (t.name == "a" && attr == "href") || canonical;
                    if !allowed {
                        problem(format!("external resource {attr}=\"{v}\" on <{}>", t.name));
                    } else {
                        report.external.insert(v.to_string());
                    }
                    continue;
                }
                if lower.starts_with("mailto:") {
                    continue;
                }
                let (path_part, fragment) = match v.split_once('#') {
                    Some((p, f)) => (p, Some(f)),
                    None => (v, None),
                };
                if let Some(colon) = path_part.find(':') {
                    if !path_part[..colon].contains('/') {
                        problem(format!("unexpected scheme in {attr}=\"{v}\""));
                        continue;
                    }
                }
                report.checked += 1;
                let path_part = path_part.split('?').next().unwrap_or("");
                let target = if path_part.is_empty() {
                    page.clone()
                } else {
                    match resolve_relative(page, &percent_decode(path_part)) {
                        Some(t) => t,
                        None => {
                            problem(format!("{attr}=\"{v}\" climbs above the site root"));
                            continue;
                        }
                    }
                };
                let full = out.join(&target);
                if full.is_dir() {
                    problem(format!(
                        "{attr}=\"{v}\" points to a folder ({target}/), which does not open from file://"
                    ));
                    continue;
                }
                if !full.is_file() {
                    problem(format!("{attr}=\"{v}\" -> {target} does not exist"));
                    continue;
                }
                if let Some(f) = fragment {
                    let f = percent_decode(f);
                    if f.is_empty() {
                        continue;
                    }
                    let ids = id_cache.entry(target.clone()).or_insert_with(|| {
                        ids(&fs::read_to_string(&full).unwrap_or_default())
                            .into_iter()
                            .collect()
                    });
                    if !ids.contains(&f) {
                        problem(format!("{attr}=\"{v}\": no id=\"{f}\" in {target}"));
                    }
                }
            }
        }
    }
    report
}

/// Runs [`check_links`] and fails with every problem found.
#[track_caller]
pub fn assert_links_ok(out: &Path) -> LinkReport {
    let report = check_links(out);
    assert!(report.pages > 0, "no pages in {}", out.display());
    assert!(
        report.problems.is_empty(),
        "{} link problem(s) in {}:\n{}",
        report.problems.len(),
        out.display(),
        report.problems.join("\n")
    );
    report
}
