//! Long quote lists are split into pages of `page_size` quotes (study.yaml).
//!
//! The riverside fixture is built with `page_size: 2`, so that every list of more
//! than two quotes has pages. What each list must hold comes from the fixture's
//! files (tests/common/facts.rs), not from thematic: every quote of a list is on
//! exactly one of its pages, each page holds at most `page_size`, the pages link
//! to each other, each quote's link names the page that shows it, and the list's
//! `list.js` (which the filter reads to count matches on other pages) lists the
//! same quotes in the same order.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use common::facts::Facts;
use common::*;

const SIZE: usize = 2;

/// Riverside with `page_size: 2`, built; the study keeps the folder alive.
fn built(extra_yaml: &str) -> (TestStudy, std::path::PathBuf) {
    built_at(SIZE, extra_yaml)
}

fn built_at(size: usize, extra_yaml: &str) -> (TestStudy, std::path::PathBuf) {
    let study = TestStudy::fixture("riverside");
    let yaml = study.read("content/study.yaml");
    study.write(
        "content/study.yaml",
        format!("{yaml}page_size: {size}\n{extra_yaml}"),
    );
    let out = study.root().join("site");
    study.build_into(&out, &[]).assert_ok();
    (study, out)
}

/// The ids of the quotes a page lists, in order (quotes embedded in its prose left out).
fn listed_quotes(html: &str) -> Vec<String> {
    html.split("<figure class=\"")
        .skip(1)
        .filter(|f| {
            let class = f.split('"').next().unwrap_or("");
            class.split(' ').any(|c| c == "quote") && !class.contains("quote-embed")
        })
        .filter_map(|f| {
            let start = f.find("data-quote-id=\"")? + "data-quote-id=\"".len();
            Some(f[start..].split('"').next()?.to_string())
        })
        .collect()
}

fn title_of(html: &str) -> String {
    let start = html.find("<title>").expect("a title") + "<title>".len();
    html[start..].split("</title>").next().unwrap().to_string()
}

/// The path of page `n` (from 1) of the list whose first page is `first`.
fn page(first: &str, n: usize) -> String {
    if n == 1 {
        first.to_string()
    } else {
        format!(
            "{}page/{n}/index.html",
            first.trim_end_matches("index.html")
        )
    }
}

/// Every list of the study: its first page and its quotes (as a set; order is the
/// site's to choose and is checked against list.js).
fn lists(facts: &Facts) -> BTreeMap<String, BTreeSet<String>> {
    let quotes = facts.published_quotes(false);
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    out.insert(
        "quotes/index.html".into(),
        quotes.iter().map(|q| q.id.clone()).collect(),
    );
    for q in &quotes {
        out.entry(format!("sites/{}/index.html", q.site))
            .or_default()
            .insert(q.id.clone());
        out.entry(format!("groups/{}/index.html", q.group))
            .or_default()
            .insert(q.id.clone());
        for t in &q.themes {
            for a in facts.lineage(t) {
                out.entry(format!("themes/{a}/index.html"))
                    .or_default()
                    .insert(q.id.clone());
                out.entry(format!("themes/{a}/{}/index.html", q.site))
                    .or_default()
                    .insert(q.id.clone());
            }
        }
    }
    out
}

/// The pages of a list as built: each page's quote ids, following page/N/ until none.
fn built_pages(out: &Path, first: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    for n in 1.. {
        let path = out.join(page(first, n));
        let Ok(html) = fs::read_to_string(&path) else {
            break;
        };
        pages.push(listed_quotes(&html));
    }
    pages
}

#[test]
fn every_quote_of_a_list_is_on_exactly_one_of_its_pages() {
    let (study, out) = built("");
    let facts = study.facts();
    let mut paginated = 0;
    for (first, expected) in lists(&facts) {
        let pages = built_pages(&out, &first);
        let want_pages = expected.len().div_ceil(SIZE).max(1);
        assert_eq!(
            pages.len(),
            want_pages,
            "{first}: {} quotes at {SIZE} a page make {want_pages} pages, found {}",
            expected.len(),
            pages.len()
        );
        let mut seen = BTreeSet::new();
        for (i, quotes) in pages.iter().enumerate() {
            let last = i + 1 == pages.len();
            let want = if last {
                expected.len() - SIZE * i
            } else {
                SIZE
            };
            assert_eq!(
                quotes.len(),
                want,
                "{}: holds {quotes:?}, expected {want} quotes",
                page(&first, i + 1)
            );
            for q in quotes {
                assert!(
                    seen.insert(q.clone()),
                    "{first}: quote {q} is on more than one page"
                );
            }
        }
        assert_eq!(seen, expected, "{first}: the pages hold other quotes");
        if pages.len() > 1 {
            paginated += 1;
        }
    }
    assert!(paginated >= 5, "only {paginated} lists have pages");
}

#[test]
fn pages_link_to_each_other_and_have_their_own_titles() {
    let (study, out) = built("");
    let mut titles: BTreeMap<String, String> = BTreeMap::new();
    for (first, expected) in lists(&study.facts()) {
        let n = expected.len().div_ceil(SIZE).max(1);
        for k in 1..=n {
            let path = page(&first, k);
            let html = fs::read_to_string(out.join(&path)).unwrap();
            let title = title_of(&html);
            if let Some(other) = titles.insert(title.clone(), path.clone()) {
                panic!("{path} and {other} share the title {title:?}");
            }
            if n == 1 {
                assert!(
                    !html.contains("class=\"pagination\""),
                    "{path}: a list on one page has no page links"
                );
                continue;
            }
            assert!(
                title.contains(&format!("page {k} of {n}")),
                "{path}: title {title:?} does not say which page it is"
            );
            // Both page navs link the first and last page and the two on either side
            // of this one, the current one marked.
            let root = "../".repeat(path.matches('/').count());
            for j in (1..=n).filter(|&j| j == 1 || j == n || j.abs_diff(k) <= 2) {
                let href = format!("href=\"{root}{}\"", page(&first, j));
                let links = html.matches(&href).count();
                assert!(links >= 2, "{path}: {href} is linked {links} times");
            }
            let gaps = html.matches("class=\"page-gap\"").count();
            let want_gaps = 2 * (usize::from(k > 4) + usize::from(k + 3 < n));
            assert_eq!(gaps, want_gaps, "{path}: gaps for left-out page numbers");
            let current = format!(
                "class=\"page-link\" href=\"{root}{}\" aria-current=\"page\"",
                page(&first, k)
            );
            assert_eq!(
                html.matches(&current).count(),
                2,
                "{path}: current page not marked"
            );
            assert_eq!(
                html.contains("rel=\"prev\""),
                k > 1,
                "{path}: a Previous link on every page but the first"
            );
            assert_eq!(
                html.contains("rel=\"next\""),
                k < n,
                "{path}: a Next link on every page but the last"
            );
            let first_quote = (k - 1) * SIZE + 1;
            let last_quote = (k * SIZE).min(expected.len());
            let range = if first_quote == last_quote {
                format!("Quote {first_quote} of {}", expected.len())
            } else {
                format!(
                    "Quotes {first_quote}&ndash;{last_quote} of {}",
                    expected.len()
                )
            };
            assert!(
                html.contains(&range),
                "{path}: does not say which quotes it shows ({range})"
            );
            assert!(
                html.contains(&format!(" of {}", expected.len())),
                "{path}: does not give the whole list's count"
            );
        }
        // A page past the last is not written.
        assert!(
            !out.join(page(&first, n + 1)).exists(),
            "{first}: page {} exists",
            n + 1
        );
    }
}

#[test]
fn a_quote_link_names_the_page_that_shows_it() {
    // One quote a page, so that quotes are found past the first page.
    let (_study, out) = built_at(1, "");
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("data/quotes.json")).unwrap()).unwrap();
    let quotes = json["quotes"].as_array().expect("a quotes list");
    let mut on_later_pages = 0;
    for q in quotes {
        let url = q["url"].as_str().unwrap();
        let (path, anchor) = url.split_once('#').expect("a quote URL has an anchor");
        let html = fs::read_to_string(out.join(path))
            .unwrap_or_else(|e| panic!("{url}: cannot read {path}: {e}"));
        assert!(
            html.contains(&format!("id=\"{anchor}\"")),
            "{url}: {path} does not show the quote"
        );
        if path.contains("/page/") {
            on_later_pages += 1;
        }
    }
    assert!(on_later_pages > 0, "no quote's home is past a first page");
}

/// The JSON inside `thematicList(...)`.
fn list_script(out: &Path, first: &str) -> serde_json::Value {
    let path = format!("{}list.js", first.trim_end_matches("index.html"));
    let js = fs::read_to_string(out.join(&path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    let body = js
        .trim()
        .strip_prefix("thematicList(")
        .and_then(|s| s.strip_suffix(");"))
        .unwrap_or_else(|| panic!("{path} is not a thematicList(...) call"));
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_list_script_has_the_facets_of_every_quote_in_page_order() {
    let (study, out) = built("");
    let facts = study.facts();
    let quotes = facts.quote_map(false);
    for (first, expected) in lists(&facts) {
        let in_order: Vec<String> = built_pages(&out, &first).concat();
        let script = out.join(format!("{}list.js", first.trim_end_matches("index.html")));
        if expected.len() <= SIZE {
            assert!(
                !script.exists(),
                "{first}: a one-page list needs no list.js"
            );
            continue;
        }
        let data = list_script(&out, &first);
        assert_eq!(data["size"], SIZE, "{first}: list.js page size");
        let ids = |key: &str| -> Vec<String> {
            data[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        let (sites, groups, themes) = (ids("sites"), ids("groups"), ids("themes"));
        let entries = data["quotes"].as_array().unwrap();
        assert_eq!(entries.len(), in_order.len(), "{first}: list.js length");
        for (i, (entry, id)) in entries.iter().zip(&in_order).enumerate() {
            let q = &quotes[id];
            let e: Vec<usize> = entry
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(sites[e[0]], q.site, "{first}: entry {i} ({id}) site");
            assert_eq!(groups[e[1]], q.group, "{first}: entry {i} ({id}) group");
            let got: BTreeSet<&str> = e[2..].iter().map(|&t| themes[t].as_str()).collect();
            let want: BTreeSet<String> = q.themes.iter().flat_map(|t| facts.lineage(t)).collect();
            let want: BTreeSet<&str> = want.iter().map(String::as_str).collect();
            assert_eq!(
                got, want,
                "{first}: entry {i} ({id}) themes with their ancestors"
            );
        }
    }
}

#[test]
fn sections_that_go_on_from_an_earlier_page_say_so() {
    let (_study, out) = built("");
    let html = fs::read_to_string(out.join("quotes/page/2/index.html")).unwrap();
    let first = fs::read_to_string(out.join("quotes/index.html")).unwrap();
    // Page 1 of all quotes starts a site; if page 2 starts with the same site, its
    // heading is marked as continued.
    let first_heading = |h: &str| {
        let start = h.find("<h3 id=\"sec-").unwrap() + 12;
        h[start..].split('"').next().unwrap().to_string()
    };
    let last_heading = |h: &str| {
        let start = h.rfind("<h3 id=\"sec-").unwrap() + 12;
        h[start..].split('"').next().unwrap().to_string()
    };
    let continues = last_heading(&first) == first_heading(&html);
    let h3 = &html[html.find("<h3 id=\"sec-").unwrap()..];
    let h3 = &h3[..h3.find("</h3>").unwrap()];
    assert_eq!(
        h3.contains("(continued)"),
        continues,
        "quotes/page/2: first heading {h3:?}"
    );
    assert!(
        !first.contains("(continued)"),
        "a first page continues nothing"
    );
}

#[test]
fn pages_after_the_first_leave_out_the_introduction() {
    let (_study, out) = built("");
    let first = fs::read_to_string(out.join("themes/belonging/index.html")).unwrap();
    let second = fs::read_to_string(out.join("themes/belonging/page/2/index.html")).unwrap();
    assert!(
        first.contains("id=\"chart-sites-title\""),
        "the first page has the charts"
    );
    assert!(
        !second.contains("class=\"bar-chart\""),
        "page 2 repeats the charts"
    );
    assert!(
        second.contains("<h1>Belonging</h1>"),
        "page 2 still says what it is about"
    );
    // The breadcrumb leads back to the first page.
    assert!(second.contains("<span aria-current=\"page\">Page 2</span>"));
}

#[test]
fn the_sitemap_lists_every_page() {
    let (_study, out) = built("base_url: https://example.org/riverside/\n");
    let sitemap = fs::read_to_string(out.join("sitemap.xml")).unwrap();
    assert!(
        sitemap.contains("<loc>https://example.org/riverside/themes/belonging/page/2/</loc>"),
        "{sitemap}"
    );
    assert!(sitemap.contains("<loc>https://example.org/riverside/quotes/page/2/</loc>"));
}

#[test]
fn without_page_size_short_lists_have_one_page() {
    let study = TestStudy::fixture("riverside");
    let out = study.root().join("site");
    study.build_into(&out, &[]).assert_ok();
    let mut paged = Vec::new();
    for entry in list_files(&out) {
        if entry.contains("/page/") || entry.ends_with("list.js") {
            paged.push(entry);
        }
    }
    assert!(
        paged.is_empty(),
        "pages or list scripts at the default size: {paged:?}"
    );
}

#[test]
fn page_size_zero_is_an_error_at_its_line() {
    let study = TestStudy::fixture("minimal");
    let yaml = study.read("content/study.yaml");
    study.write("content/study.yaml", format!("{yaml}page_size: 0\n"));
    let line = study.line_of("content/study.yaml", "page_size");
    let run = study.build();
    run.assert_failed();
    let d = run.error_at("content/study.yaml", line, "`page_size` must be at least 1");
    assert!(d.text.contains("leave it out"), "no hint: {}", d.text);
}

#[test]
fn page_size_that_is_not_a_number_is_an_error_at_its_line() {
    let study = TestStudy::fixture("minimal");
    let yaml = study.read("content/study.yaml");
    study.write("content/study.yaml", format!("{yaml}page_size: ten\n"));
    let line = study.line_of("content/study.yaml", "page_size");
    let run = study.build();
    run.assert_failed();
    run.error_at(
        "content/study.yaml",
        line,
        "field `page_size` must be a whole number of quotes per page",
    );
}

#[test]
fn a_very_large_page_size_is_a_warning_at_its_line() {
    let study = TestStudy::fixture("minimal");
    let yaml = study.read("content/study.yaml");
    study.write("content/study.yaml", format!("{yaml}page_size: 5000\n"));
    let line = study.line_of("content/study.yaml", "page_size");
    let run = study.build();
    run.assert_ok();
    let warning = run
        .diagnostics()
        .into_iter()
        .find(|d| !d.is_error() && d.is_at("content/study.yaml", line))
        .unwrap_or_else(|| panic!("no warning at study.yaml:{line}:\n{}", run.stderr));
    assert!(warning.text.contains("page_size: 5000"), "{}", warning.text);
}

#[test]
fn a_link_to_a_quote_in_a_list_leads_to_the_page_of_the_list_that_shows_it() {
    // With one quote a page, the waiting list's second quote is on its page 2:
    // `theme:waiting#q-ID` must lead there, not to the list's first page.
    let (study, out) = built_at(1, "");
    let second = listed_quotes(&read_page(&out, "themes/waiting/page/2/index.html"));
    let id = second.first().expect("a quote on page 2");
    let file = "content/findings/across-sites.md";
    let text = study.read(file);
    study.write(
        file,
        format!("{text}\nAs [one person said](theme:waiting#q-{id}).\n"),
    );
    study.build_into(&out, &[]).assert_ok();
    let html = read_page(&out, "findings/across-sites/index.html");
    let anchor = format!("#q-{id}");
    assert!(
        links(&html).contains(&format!("../../themes/waiting/page/2/index.html{anchor}")),
        "no link to page 2 of the waiting list: {:?}",
        links(&html)
    );
}
