//! The example site stays light, so it is quick to read on a phone over a slow
//! connection: the home page is under 100 KB of HTML, no page needs more than 30 KB of
//! CSS and JavaScript together once gzipped (as a web server sends them), and no page
//! asks for anything from another host (which would be slow, could track readers, and
//! breaks the site offline). And no page of a study of thousands of quotes is
//! over 1 MB: long lists come in pages.
//!
//! No browser: the built files are read and their `<link>`, `<script>`, `<img>` tags
//! scanned, so every page of the site is covered in well under a second. The browser
//! suite (`tests/reader.rs`) checks the requests a real page makes.

mod common;
// The benchmarks' synthetic study; the test uses only `write_study`.
#[allow(dead_code)]
#[path = "../benches/synthetic.rs"]
mod synthetic;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;

use common::*;

/// A kilobyte, as the limits count it (the stricter decimal one).
const KB: usize = 1000;
/// The largest home page, in bytes of HTML.
const HOME_LIMIT: usize = 100 * KB;
/// The most CSS and JS one page may load, in gzipped bytes.
const ASSETS_LIMIT: usize = 30 * KB;

/// The example study built into a fresh folder; the study keeps the folder alive.
fn built_example() -> (TestStudy, std::path::PathBuf) {
    let study = TestStudy::example();
    let out = study.root().join("site");
    study.build_into(&out, &[]).assert_ok();
    (study, out)
}

fn gzipped_len(bytes: &[u8]) -> usize {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap().len()
}

/// Resolves `href` (relative, without query or fragment) against the page `page`,
/// both relative to the site root.
fn resolve(page: &str, href: &str) -> String {
    let href = href.split(['?', '#']).next().unwrap_or("");
    let mut parts: Vec<&str> = page.split('/').collect();
    parts.pop();
    for seg in href.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

fn is_external(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("//")
}

/// The stylesheets and scripts a page loads, relative to the site root.
fn assets_of(page: &str, html: &str) -> Vec<String> {
    tags(html)
        .iter()
        .filter_map(|t| match t.name.as_str() {
            "link"
                if t.attr("rel").is_some_and(|r| {
                    r.split_whitespace()
                        .any(|w| w.eq_ignore_ascii_case("stylesheet"))
                }) =>
            {
                t.attr("href")
            }
            "script" => t.attr("src"),
            _ => None,
        })
        .filter(|url| !is_external(url))
        .map(|url| resolve(page, url))
        .collect()
}

#[test]
fn home_page_is_under_100_kb() {
    let (_study, out) = built_example();
    let size = fs::metadata(out.join("index.html")).unwrap().len() as usize;
    assert!(
        size < HOME_LIMIT,
        "index.html is {size} bytes of HTML; the limit is {HOME_LIMIT}"
    );
}

/// No HTML page may pass 1 MB, whatever the size of the study (issue 9).
const PAGE_LIMIT: usize = 1_000 * KB;

#[test]
fn no_page_is_over_1_mb_in_a_large_study() {
    // 3,000 quotes of 40 to 120 words: without pages, the list of all quotes
    // alone would be over 3 MB, and each group's over 1 MB.
    let study = TestStudy::empty();
    synthetic::write_study(study.dir(), 3_000, 7);
    let out = study.root().join("site");
    study.build_into(&out, &[]).assert_ok_quiet();
    let mut pages = 0;
    let mut largest = (0, String::new());
    for path in html_files(&out) {
        let len = fs::metadata(out.join(&path)).unwrap().len() as usize;
        pages += 1;
        if len > largest.0 {
            largest = (len, path);
        }
    }
    assert!(pages > 300, "only {pages} pages built");
    assert!(
        largest.0 <= PAGE_LIMIT,
        "{} is {} bytes, over the 1 MB limit",
        largest.1,
        largest.0
    );
    assert!(
        out.join("quotes/page/30/index.html").is_file(),
        "3,000 quotes at 100 a page make 30 pages of all quotes"
    );
}

#[test]
fn every_page_loads_at_most_30_kb_of_css_and_js_gzipped() {
    let (_study, out) = built_example();
    let mut gzipped: BTreeMap<String, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    let pages = html_files(&out);
    let mut heaviest = (String::new(), 0);
    for page in &pages {
        let html = read_page(&out, page);
        let mut total = 0;
        for asset in assets_of(page, &html) {
            let size = match gzipped.get(&asset) {
                Some(&n) => n,
                None => match fs::read(out.join(&asset)) {
                    Ok(bytes) => {
                        let n = gzipped_len(&bytes);
                        gzipped.insert(asset.clone(), n);
                        n
                    }
                    Err(e) => {
                        problems.push(format!("{page}: loads {asset}, which cannot be read: {e}"));
                        continue;
                    }
                },
            };
            total += size;
        }
        if total > heaviest.1 {
            heaviest = (page.clone(), total);
        }
        if total > ASSETS_LIMIT {
            let list: Vec<String> = assets_of(page, &html)
                .into_iter()
                .map(|a| format!("{a} {} B", gzipped.get(&a).copied().unwrap_or(0)))
                .collect();
            problems.push(format!(
                "{page}: {total} B of CSS and JS gzipped (limit {ASSETS_LIMIT}): {}",
                list.join(", ")
            ));
        }
    }
    assert!(!pages.is_empty(), "no pages built");
    assert!(
        gzipped.contains_key("static/style.css"),
        "no page loads static/style.css: {:?}",
        gzipped.keys().collect::<Vec<_>>()
    );
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    eprintln!(
        "{} pages; heaviest: {} with {} B of CSS and JS gzipped",
        pages.len(),
        heaviest.0,
        heaviest.1
    );
}

/// Every `url(...)` and `@import` target of a stylesheet.
fn css_urls(css: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lower = css.to_ascii_lowercase();
    for (i, _) in lower.match_indices("url(") {
        let rest = &css[i + 4..];
        let end = rest.find(')').unwrap_or(rest.len());
        out.push(rest[..end].trim().trim_matches(['"', '\'']).to_string());
    }
    for (i, _) in lower.match_indices("@import") {
        let rest = css[i + 7..].trim_start();
        if let Some(q) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') {
            let end = rest[1..].find(q).map_or(rest.len(), |e| e + 1);
            out.push(rest[1..end].to_string());
        }
    }
    out
}

#[test]
fn no_page_requests_anything_from_another_host() {
    let (_study, out) = built_example();
    let mut problems = Vec::new();
    for page in html_files(&out) {
        let html = read_page(&out, &page);
        for t in tags(&html) {
            for (attr, value) in &t.attrs {
                let urls: Vec<&str> = match attr.as_str() {
                    "src" | "href" | "poster" | "data" | "action" => vec![value.as_str()],
                    // `srcset="a.png 1x, b.png 2x"`
                    "srcset" => value
                        .split(',')
                        .filter_map(|c| c.split_whitespace().next())
                        .collect(),
                    _ => vec![],
                };
                // A link to read elsewhere and the canonical address are not requests.
                let allowed = attr == "href"
                    && (t.name == "a"
                        || (t.name == "link"
                            && t.attr("rel")
                                .is_some_and(|r| r.eq_ignore_ascii_case("canonical"))));
                for url in urls {
                    if is_external(url) && !allowed {
                        problems.push(format!("{page}: <{} {attr}=\"{url}\">", t.name));
                    }
                }
            }
            if let Some(style) = t.attr("style") {
                for url in css_urls(style) {
                    if is_external(&url) {
                        problems.push(format!(
                            "{page}: style=\"...url({url})...\" on <{}>",
                            t.name
                        ));
                    }
                }
            }
        }
    }
    for file in list_files(&out).iter().filter(|f| f.ends_with(".css")) {
        let css = fs::read_to_string(out.join(file)).unwrap();
        for url in css_urls(&css) {
            if is_external(&url) {
                problems.push(format!("{file}: loads {url}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} request(s) to another host:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn css_url_scanner_finds_imports_and_urls() {
    let urls = css_urls(
        "@import 'https://x.test/a.css'; b{background:URL( \"https://y.test/b.png\" )} \
         @font-face{src:url(f.woff2)}",
    );
    assert_eq!(
        urls,
        ["https://y.test/b.png", "f.woff2", "https://x.test/a.css"]
    );
    assert_eq!(
        resolve("themes/a/index.html", "../../static/s.css?v=1"),
        "static/s.css"
    );
}
