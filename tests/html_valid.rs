//! Every page of a built site is valid HTML, as the Nu HTML Checker (vnu, the W3C's
//! validator) sees it, run offline on the machine's Java.
//!
//! Browsers forgive broken markup, but screen readers and other tools build on the
//! document tree, and an unclosed element or a duplicate id changes what they
//! announce. The checker is the `vnu-jar` npm package pinned in `tests/tools`
//! (`scripts/test` installs it). It starts a JVM, which takes seconds, so each site
//! is checked in one run over its whole output folder. A failure lists every error as
//! `file:line:col: message`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use common::*;

/// The checker's jar, installed by `npm ci --prefix tests/tools`.
fn vnu_jar() -> PathBuf {
    let jar = repo_root().join("tests/tools/node_modules/vnu-jar/build/dist/vnu.jar");
    assert!(
        jar.is_file(),
        "{} is missing: run scripts/test, which installs the test tools \
         (npm ci --prefix tests/tools)",
        jar.display()
    );
    jar
}

/// One message of `vnu --format json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Message {
    r#type: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    first_line: Option<u64>,
    #[serde(default)]
    last_line: Option<u64>,
    #[serde(default)]
    first_column: Option<u64>,
    #[serde(default)]
    last_column: Option<u64>,
    #[serde(default)]
    message: String,
}

#[derive(Debug, Deserialize)]
struct Report {
    messages: Vec<Message>,
}

/// Runs the checker once over `out`; every error as `file:line:col: message`, with
/// the file relative to `out`.
fn vnu_errors(out: &Path) -> Vec<String> {
    let jar = vnu_jar();
    let run = Command::new("java")
        .arg("-jar")
        .arg(&jar)
        .args(["--errors-only", "--format", "json", "--skip-non-html"])
        .arg(out)
        .output()
        .unwrap_or_else(|e| {
            panic!("run java ({e}): the HTML check needs a Java runtime; run scripts/test, which installs one")
        });
    // vnu writes its report to stderr, and exits 1 when it found errors.
    let stderr = String::from_utf8_lossy(&run.stderr);
    let report: Report = serde_json::from_str(stderr.trim()).unwrap_or_else(|e| {
        panic!(
            "vnu gave no JSON report ({e}); exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{stderr}",
            run.status.code(),
            String::from_utf8_lossy(&run.stdout)
        )
    });
    let root = format!("file:{}/", out.display());
    report
        .messages
        .iter()
        .filter(|m| m.r#type != "info")
        .map(|m| {
            let file = m.url.strip_prefix(&root).unwrap_or(&m.url);
            let line = m.first_line.or(m.last_line).unwrap_or(0);
            let col = m.first_column.or(m.last_column).unwrap_or(0);
            let kind = if m.r#type == "error" {
                String::new()
            } else {
                format!("[{}] ", m.r#type)
            };
            format!("{file}:{line}:{col}: {kind}{}", m.message)
        })
        .collect()
}

/// Builds `study` into a fresh folder and checks every page.
fn assert_valid(study: &TestStudy, name: &str) {
    let out = study.root().join("site");
    study.build_into(&out, &[]).assert_ok();
    let pages = html_files(&out).len();
    assert!(pages > 0, "{name}: no pages built");
    let errors = vnu_errors(&out);
    assert!(
        errors.is_empty(),
        "{name}: the Nu HTML Checker found {} error(s) in {pages} pages:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

#[test]
fn example_study_is_valid_html() {
    assert_valid(&TestStudy::example(), "example study");
}

#[test]
fn riverside_fixture_is_valid_html() {
    assert_valid(&TestStudy::fixture("riverside"), "riverside fixture");
}

#[test]
fn pages_of_long_lists_are_valid_html() {
    // Two quotes a page: every list of more has pages, page links and headings
    // that continue from an earlier page.
    let study = TestStudy::fixture("riverside");
    let yaml = study.read("content/study.yaml");
    study.write("content/study.yaml", format!("{yaml}page_size: 2\n"));
    assert_valid(&study, "riverside fixture in pages of 2 quotes");
}
