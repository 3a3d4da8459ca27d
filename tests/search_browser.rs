//! Search in a real browser (headless Chromium, see tests/common/browser.rs), the
//! two ways a reader opens a site: from disk (`file://`, where `fetch` is refused
//! and the index must load as scripts) and over HTTP under a sub-path.
//!
//! On the `riverside` fixture: a word of a quote finds it and its result leads to
//! the quote's anchor; upper case and stripped accents find the same quote; a word
//! of a Hebrew original finds its quote; narrowing by site keeps only that site's
//! quotes, with the count the study's files give; a draft quote's word finds
//! nothing; the query is in the URL; the keyboard alone can search and reach the
//! results; the header's search box leads to the results. Expected quotes are
//! computed from the study files (tests/common/facts.rs and the quote YAML), never
//! from thematic's index.

#[path = "common/browser.rs"]
mod browser;
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chromiumoxide::{Browser, Page};
use serde::Deserialize;

use browser::{ENTER, StaticServer, TAB, file_url, js, launch, press_key, scenario, wait_js};
use common::search_index::{fold, words};
use common::*;

const SUB_PATH: &str = "/studies/riverside/";

struct Site {
    _study: TestStudy,
    out: PathBuf,
    server: StaticServer,
    /// Quote id to (site, texts that are searched).
    quotes: BTreeMap<String, (String, Vec<String>)>,
}

impl Site {
    fn build() -> Site {
        let study = TestStudy::fixture("riverside");
        let out = study.root().join("site");
        study.build_into(&out, &[]).assert_ok();
        let server = StaticServer::start(&out, SUB_PATH);
        let facts = study.facts();
        let quotes = facts
            .published_quotes(false)
            .into_iter()
            .map(|q| {
                let mut t: Vec<String> =
                    q.searched_texts().into_iter().map(str::to_string).collect();
                t.push(q.participant.clone());
                (q.id.clone(), (q.site.clone(), t))
            })
            .collect();
        Site {
            _study: study,
            out,
            server,
            quotes,
        }
    }

    /// The search page's URL with a query string, from disk or over HTTP.
    fn search_url(&self, http: bool, query: &str) -> String {
        let base = if http {
            self.server.url_of("search/index.html")
        } else {
            file_url(&self.out.join("search/index.html"))
        };
        format!("{base}?{query}")
    }

    /// Quotes with a word equal to `word`, or starting with it when it has three
    /// letters or more (the search page's rule), folded by this test's own rules.
    fn expected(&self, word: &str, site: Option<&str>) -> BTreeSet<String> {
        let w = fold(word);
        self.quotes
            .iter()
            .filter(|(_, (s, _))| site.is_none_or(|want| want == s))
            .filter(|(_, (_, texts))| {
                texts.iter().any(|t| {
                    words(t)
                        .iter()
                        .any(|x| *x == w || (w.chars().count() >= 3 && x.starts_with(&w)))
                })
            })
            .map(|(id, _)| id.clone())
            .collect()
    }
}

#[derive(Debug, Deserialize)]
struct Results {
    status: String,
    /// Quote ids of the quote results shown (from their links' anchors).
    quotes: Vec<String>,
    /// Links of all results, resolved.
    links: Vec<String>,
    marks: Vec<String>,
    search: BTreeMap<String, String>,
    more: bool,
}

const RESULTS: &str = "(() => ({
  status: document.getElementById('search-status').textContent.trim(),
  quotes: [...document.querySelectorAll('#search-results .result-quote .result-meta a')]
    .map(a => a.hash.replace('#q-', '')),
  links: [...document.querySelectorAll('#search-results a')].map(a => a.href),
  marks: [...document.querySelectorAll('#search-results mark')].map(m => m.textContent),
  search: Object.fromEntries(new URLSearchParams(location.search)),
  more: !document.getElementById('search-more').hidden,
}))()";

/// Opens the search page with `query` and waits for the result count.
async fn search(page: &Page, url: &str) -> Results {
    page.goto(url)
        .await
        .unwrap_or_else(|e| panic!("open {url}: {e}"));
    wait_results(page, url).await
}

async fn wait_results(page: &Page, what: &str) -> Results {
    wait_js::<String>(
        page,
        &format!("results of {what}"),
        "document.getElementById('search-status')?.textContent ?? ''",
        |s| s.contains("result") || s.contains("failed"),
    )
    .await;
    js(page, RESULTS).await
}

fn count_text(n: usize) -> String {
    match n {
        0 => "No results".into(),
        1 => "1 result".into(),
        n => format!("{n} results"),
    }
}

/// The searches every reader makes, from one origin.
async fn searches(browser: &Browser, site: &Site, http: bool) {
    let page = browser.new_page("about:blank").await.expect("a tab");
    let how = if http { "over HTTP" } else { "from file://" };

    // A word of a quote's text finds it, and the result leads to its anchor.
    let r = search(&page, &site.search_url(http, "q=samba")).await;
    let want = site.expected("samba", None);
    assert_eq!(want, ["sp-01".to_string()].into(), "the fixture changed");
    assert_eq!(
        r.quotes.iter().cloned().collect::<BTreeSet<_>>(),
        want,
        "{how}: {r:?}"
    );
    assert!(
        r.status.starts_with("1 result for “samba”"),
        "{how}: {}",
        r.status
    );
    assert!(
        r.marks.iter().all(|m| fold(m) == "samba"),
        "{how}: {:?}",
        r.marks
    );
    let link = r
        .links
        .iter()
        .find(|l| l.ends_with("#q-sp-01"))
        .unwrap_or_else(|| panic!("{how}: no link to #q-sp-01 in {:?}", r.links))
        .clone();
    let clicked: bool = js(
        &page,
        "(() => { const a = [...document.querySelectorAll('#search-results a')]
            .find(a => a.hash === '#q-sp-01'); a.click(); return true; })()",
    )
    .await;
    assert!(clicked);
    wait_js::<bool>(
        &page,
        "the quote's page has opened at its anchor",
        "location.hash === '#q-sp-01' && document.readyState === 'complete' \
         && !!document.getElementById('q-sp-01')",
        |ok| *ok,
    )
    .await;
    let at: String = js(&page, "location.href").await;
    assert_eq!(at, link, "{how}");
    if http {
        assert!(at.contains(SUB_PATH), "{at} left the sub-path");
    }

    // Upper case and stripped accents find the same quotes.
    for (query, word) in [
        ("q=SAMBA", "samba"),
        ("q=familia", "família"),
        ("q=onibus", "ônibus"),
        ("q=%C3%94NIBUS", "ônibus"),
        ("q=muede", "müde"),
    ] {
        let r = search(&page, &site.search_url(http, query)).await;
        let want = if word == "müde" {
            // "muede" is the umlaut spelled with e: it finds "müde".
            site.expected("müde", None)
        } else {
            site.expected(word, None)
        };
        assert!(!want.is_empty(), "the fixture lacks {word}");
        assert_eq!(
            r.quotes.iter().cloned().collect::<BTreeSet<_>>(),
            want,
            "{how}: {query} should find what {word} finds"
        );
    }

    // A word of a Hebrew original finds its quote, marked in the original.
    let r = search(&page, &site.search_url(http, "q=%D7%9E%D7%A8%D7%A7")).await;
    assert_eq!(r.quotes, ["hf-01"], "{how}: {r:?}");
    assert_eq!(r.marks, ["מרק"], "{how}");

    // Narrowed to one site: only its quotes, as many as the study has.
    for (word, site_id) in [
        ("the", "haifa"),
        ("the", "lilongwe"),
        ("queues", "sao-paulo"),
    ] {
        let r = search(
            &page,
            &site.search_url(http, &format!("q={word}&site={site_id}")),
        )
        .await;
        let want = site.expected(word, Some(site_id));
        assert!(!want.is_empty(), "the fixture has no {word} at {site_id}");
        assert!(
            r.status
                .starts_with(&format!("{} for “{word}” in ", count_text(want.len()))),
            "{how}: {word} at {site_id}: {}",
            r.status
        );
        let shown: BTreeSet<String> = r.quotes.iter().cloned().collect();
        assert!(
            shown.is_subset(&want) && (shown.len() == want.len().min(10)),
            "{how}: {word} at {site_id}: shown {shown:?}, expected {want:?}"
        );
        assert_eq!(r.search.get("site").map(String::as_str), Some(site_id));
        assert_eq!(r.search.get("q").map(String::as_str), Some(word));
        assert_eq!(r.more, want.len() > 10);
    }

    // A theme and a country find the page of that theme at that site, first.
    let r = search(&page, &site.search_url(http, "q=paperwork+malawi")).await;
    assert!(
        r.links
            .first()
            .is_some_and(|l| l.ends_with("themes/paperwork/lilongwe/index.html")),
        "{how}: paperwork malawi: {:?}",
        r.links
    );
    let kind: String = js(
        &page,
        "document.querySelector('#search-results .result-kind')?.textContent ?? ''",
    )
    .await;
    assert_eq!(kind, "Theme at a site", "{how}");

    // A draft quote's word finds nothing.
    let r = search(&page, &site.search_url(http, "q=hf05")).await;
    assert!(r.quotes.is_empty(), "{how}: a draft was found: {r:?}");
    assert!(r.status.starts_with("No results"), "{how}: {}", r.status);

    page.close().await.ok();
}

/// Keyboard only: type, Enter, then Tab to the first result; the count is in a
/// live region; the query goes into the URL.
async fn keyboard(browser: &Browser, site: &Site) {
    let page = browser.new_page("about:blank").await.expect("a tab");
    let url = site.search_url(true, "");
    page.goto(&url).await.expect("open the search page");
    wait_js::<bool>(
        &page,
        "the page has loaded",
        "document.readyState === 'complete'",
        |d| *d,
    )
    .await;
    let role: String = js(
        &page,
        "document.getElementById('search-status').getAttribute('role')",
    )
    .await;
    assert_eq!(role, "status", "the result count must be announced");
    page.find_element("#search-q")
        .await
        .expect("the search input")
        .click()
        .await
        .expect("focus the input")
        .type_str("samba")
        .await
        .expect("type");
    press_key(&page, ENTER).await;
    let r = wait_results(&page, "samba, by keyboard").await;
    // A word of quotes only: no page title has it.
    let want = site.expected("samba", None);
    assert!(
        r.status.starts_with(&count_text(want.len())),
        "{}",
        r.status
    );
    assert_eq!(r.search.get("q").map(String::as_str), Some("samba"));
    // Tab from the input goes through the narrowing controls to the first result.
    let mut reached = false;
    for _ in 0..8 {
        press_key(&page, TAB).await;
        let inside: bool = js(
            &page,
            "!!document.activeElement.closest('#search-results') && document.activeElement.tagName === 'A'",
        )
        .await;
        if inside {
            reached = true;
            break;
        }
    }
    assert!(reached, "Tab does not reach the results");
    page.close().await.ok();
}

/// The search box in every header leads to the results.
async fn header_box(browser: &Browser, site: &Site) {
    let page = browser.new_page("about:blank").await.expect("a tab");
    let url = file_url(&site.out.join("themes/kinship/index.html"));
    page.goto(&url).await.expect("open a theme page");
    page.find_element("#site-search-q")
        .await
        .expect("the header's search box")
        .click()
        .await
        .expect("focus")
        .type_str("samba")
        .await
        .expect("type");
    press_key(&page, ENTER).await;
    let r = wait_results(&page, "samba from the header").await;
    assert_eq!(r.quotes, ["sp-01"], "{r:?}");
    let input: String = js(&page, "document.getElementById('search-q').value").await;
    assert_eq!(input, "samba");
    page.close().await.ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn search_in_headless_chromium() {
    let site = Site::build();
    let (browser, driver, _profile) = launch().await;
    let mut failures = Vec::new();
    let f = &mut failures;
    scenario("search from file://", searches(&browser, &site, false), f).await;
    scenario(
        "search over HTTP under a sub-path",
        searches(&browser, &site, true),
        f,
    )
    .await;
    scenario("search by keyboard", keyboard(&browser, &site), f).await;
    scenario("search from the header", header_box(&browser, &site), f).await;
    browser::close(browser, driver).await;
    assert!(
        failures.is_empty(),
        "{} search scenario(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
