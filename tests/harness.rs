//! Tests of the test harness itself: the link checker and HTML scanner must catch
//! what they claim to catch, or the site tests would pass vacuously.

mod common;

use std::fs;
use std::path::Path;

use common::*;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

#[test]
fn tag_scanner_reads_attributes_and_skips_comments() {
    let html = r#"<!-- <a href="hidden.html"> --><p class="a b" id=x data-v='1 &amp; 2'>t</p>
<a
  href="../x/index.html#q-1">y</a><script>if (a<b) {}</script><img src="i.png"/>"#;
    let t = tags(html);
    let names: Vec<&str> = t.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["p", "a", "script", "img"]);
    assert!(t[0].has_class("b"));
    assert_eq!(t[0].attr("id"), Some("x"));
    assert_eq!(t[0].attr("data-v"), Some("1 & 2"));
    assert_eq!(t[1].attr("href"), Some("../x/index.html#q-1"));
    assert_eq!(t[3].attr("src"), Some("i.png"));
    assert_eq!(decode_entities("&lt;&#39;&#x2F;&gt;&amp;x"), "<'/>&x");
    let fig = r#"<div><figure id="f"><figure>in</figure></figure>after</div>"#;
    assert_eq!(
        element_at(fig, 5),
        r#"<figure id="f"><figure>in</figure></figure>"#
    );
}

#[test]
fn link_checker_accepts_a_good_site() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    write(
        out,
        "index.html",
        r##"<link rel="stylesheet" href="static/s.css"><link rel="canonical" href="https://example.org/"><a href="a/index.html#top">a</a> <a href="#me" id="me">me</a> <a href="https://doi.org/10.1/x">doi</a> <a href="mailto:x@example.org">mail</a>"##,
    );
    write(
        out,
        "a/index.html",
        r#"<h1 id="top">A</h1><a href="../index.html">home</a><a href="./index.html#top">self</a>"#,
    );
    write(out, "static/s.css", "body{}");
    let r = check_links(out);
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(r.pages, 2);
    assert!(r.checked >= 4);
    assert!(r.external.contains("https://doi.org/10.1/x"));
}

#[test]
fn link_checker_catches_every_kind_of_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    write(
        out,
        "index.html",
        r##"<a href="missing.html">1</a>
<a href="a/index.html#nope">2</a>
<a href="#nowhere">3</a>
<a href="/abs/index.html">4</a>
<img src="https://cdn.example.org/x.png">
<link rel="stylesheet" href="https://fonts.example.org/f.css">
<a href="a/">5</a>
<a href="theme:care">6</a>
<a href="../../outside.html">7</a>
<a href="//cdn.example.org/x.js">8</a>
<p id="dup"></p><p id="dup"></p>"##,
    );
    write(out, "a/index.html", r#"<h1 id="top">A</h1>"#);
    let r = check_links(out);
    let all = r.problems.join("\n");
    for needle in [
        "missing.html",
        "no id=\"nope\"",
        "no id=\"nowhere\"",
        "absolute link href=\"/abs/index.html\"",
        "external resource src=\"https://cdn.example.org/x.png\"",
        "external resource href=\"https://fonts.example.org/f.css\"",
        "points to a folder",
        "unexpected scheme in href=\"theme:care\"",
        "climbs above the site root",
        "absolute link href=\"//cdn.example.org/x.js\"",
        "duplicate id=\"dup\"",
    ] {
        assert!(all.contains(needle), "not caught: {needle}\n{all}");
    }
    assert_eq!(r.problems.len(), 11, "{all}");
}

#[test]
fn diagnostics_are_parsed_from_stderr() {
    let run = Run {
        args: vec![],
        code: Some(1),
        stdout: String::new(),
        stderr: "error: unknown field `sit` in quote\n --> content/quotes/a.yaml:4:3\n  |\n4 |   sit: x\n  |   ^^^\n  = help: did you mean `site`?\n\nwarning: site `b` has no quotes\n --> content/sites/b.md:1\n\nBuild failed: 1 error, 1 warning. Nothing was written.\n".into(),
    };
    let d = run.diagnostics();
    assert_eq!(d.len(), 2);
    assert!(d[0].is_error() && !d[1].is_error());
    assert!(d[0].is_at("content/quotes/a.yaml", 4));
    assert!(!d[0].is_at("content/quotes/a.yaml", 43));
    assert!(d[1].is_at("content/sites/b.md", 1));
    assert!(d[0].text.contains("did you mean `site`?"));
    run.error_at("content/quotes/a.yaml", 4, "unknown field `sit`");
}
