//! Lists of quotes split into pages, proven in a real browser (headless Chromium, see
//! tests/common/browser.rs), the two ways a reader opens a site: over HTTP under a
//! sub-path and straight from disk (`file://`, where the whole list's facets come in
//! `list.js`, loaded as a script).
//!
//! The `riverside` fixture is built with `page_size: 2`, so its theme lists and the
//! page of all quotes run over several pages. On the theme with most quotes and on
//! the page of all quotes:
//!
//! - choosing a site says how many quotes of this page show (`#filter-status`) and
//!   how many of the whole list match, on which pages (`#filter-pages`), exactly as
//!   the study's files give them (read with `common::facts`, never from thematic's
//!   code) over the pages in the order the built pages hold them; a link there leads
//!   to another page with the filter applied, and a URL with a filter applies it;
//! - the page links (Previous, numbers, gaps, Next) carry the filter's query, and
//!   Tab then Enter on one moves to that page with the filter kept;
//! - no console error, no failed request, no request outside the site, and
//!   `list.js` requested and loaded (from `file://` too);
//! - axe-core's WCAG 2.1 A and AA rules pass on a page 2, unfiltered and filtered,
//!   in the light and the dark scheme;
//! - without JavaScript, Next leads through every page and each shows all its
//!   quotes; pages after the first hold no charts or tables.

#[path = "common/browser.rs"]
mod browser;
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;
use std::time::Instant;

use chromiumoxide::cdp::browser_protocol::dom::ScrollIntoViewIfNeededParams;
use chromiumoxide::cdp::browser_protocol::emulation::SetScriptExecutionDisabledParams;
use chromiumoxide::{Browser, Page};
use serde::Deserialize;

use browser::{
    ENTER, PageEvents, StaticServer, TAB, axe_violations, choose, file_url, goto, js, launch,
    new_tab, press_key, scenario, set_color_scheme, wait_js,
};
use common::facts::{Facts, Quote};
use common::*;

/// The sub-path the site is served under, as on a shared host.
const SUB_PATH: &str = "/research/paged-lists/";

/// Quotes per page in the built study.
const PAGE_SIZE: usize = 2;

// ---------------------------------------------------------------------------
// The site and its lists
// ---------------------------------------------------------------------------

/// How the site is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Http,
    File,
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Via::Http => "http",
            Via::File => "file",
        })
    }
}

/// A list of quotes split into pages.
struct List {
    /// What the list is, for messages.
    what: String,
    /// Its first page, relative to the site root.
    first: String,
    /// Its quotes, from the study's files.
    quotes: Vec<Quote>,
    /// The quote ids of each page, in order, as the built pages hold them.
    pages: Vec<Vec<String>>,
    /// The site the filter scenarios choose: the one whose quotes lie on most pages.
    site: String,
    /// The page the filter scenarios start on: the first after page 1 with a quote
    /// of `site`.
    start: usize,
}

impl List {
    /// Page `n` (from 1), relative to the site root.
    fn rel(&self, n: usize) -> String {
        page_rel(&self.first, n)
    }

    /// The script with the whole list's facets, beside the first page.
    fn script(&self) -> String {
        format!("{}list.js", self.folder())
    }

    fn folder(&self) -> &str {
        self.first.strip_suffix("index.html").unwrap()
    }

    /// Quotes of the whole list at `site`, from the study's files.
    fn matching(&self, site: &str) -> BTreeSet<String> {
        self.quotes
            .iter()
            .filter(|q| q.site == site)
            .map(|q| q.id.clone())
            .collect()
    }

    /// How many quotes of `site` each page holds.
    fn per_page(&self, site: &str) -> Vec<usize> {
        let matching = self.matching(site);
        self.pages
            .iter()
            .map(|p| p.iter().filter(|id| matching.contains(*id)).count())
            .collect()
    }
}

/// Page `n` (from 1) of the list whose first page is `first`: `first` itself, then
/// `FOLDER/page/N/index.html`.
fn page_rel(first: &str, n: usize) -> String {
    if n == 1 {
        first.to_string()
    } else {
        let folder = first.strip_suffix("index.html").unwrap();
        format!("{folder}page/{n}/index.html")
    }
}

/// The quote ids in `#quote-list` of a built page, in order.
fn list_ids(html: &str, rel: &str) -> Vec<String> {
    let list = tags(html)
        .into_iter()
        .find(|t| t.attr("id") == Some("quote-list"))
        .unwrap_or_else(|| panic!("{rel}: no #quote-list"));
    let inner = element_at(html, list.offset);
    tags(inner)
        .into_iter()
        .filter(|t| t.name == "figure" && t.has_class("quote"))
        .map(|t| {
            t.attr("data-quote-id")
                .unwrap_or_else(|| panic!("{rel}: a figure.quote without data-quote-id"))
                .to_string()
        })
        .collect()
}

/// Reads the pages of the list at `first` from the output, checks that together they
/// hold exactly `quotes`, `PAGE_SIZE` a page, and picks the site and page the
/// scenarios use.
fn read_list(out: &std::path::Path, what: String, first: &str, quotes: Vec<Quote>) -> List {
    let mut pages = Vec::new();
    while out.join(page_rel(first, pages.len() + 1)).is_file() {
        let rel = page_rel(first, pages.len() + 1);
        pages.push(list_ids(&read_page(out, &rel), &rel));
    }
    let expected_pages = quotes.len().div_ceil(PAGE_SIZE);
    assert_eq!(
        pages.len(),
        expected_pages,
        "{what}: {} quotes at {PAGE_SIZE} a page need {expected_pages} pages; \
         found {} ({first}, then page/N/index.html)",
        quotes.len(),
        pages.len()
    );
    for (i, p) in pages.iter().enumerate() {
        let want = PAGE_SIZE.min(quotes.len() - i * PAGE_SIZE);
        assert_eq!(
            p.len(),
            want,
            "{what}: page {} holds {p:?}, expected {want} quotes",
            i + 1
        );
    }
    let shown: Vec<&String> = pages.iter().flatten().collect();
    let unique: BTreeSet<&String> = shown.iter().copied().collect();
    assert_eq!(
        unique.len(),
        shown.len(),
        "{what}: a quote is on more than one page: {pages:?}"
    );
    let want: BTreeSet<&String> = quotes.iter().map(|q| &q.id).collect();
    assert_eq!(
        unique, want,
        "{what}: the pages' quotes are not the list's quotes from the study files"
    );

    let mut list = List {
        what,
        first: first.to_string(),
        quotes,
        pages,
        site: String::new(),
        start: 0,
    };
    let sites: BTreeSet<String> = list.quotes.iter().map(|q| q.site.clone()).collect();
    let spread = |s: &String| list.per_page(s).iter().filter(|c| **c > 0).count();
    let site = sites
        .iter()
        .max_by_key(|s| (spread(s), std::cmp::Reverse((*s).clone())))
        .unwrap()
        .clone();
    assert!(
        spread(&site) >= 2,
        "{}: no site has quotes on two pages; the test needs one",
        list.what
    );
    let per = list.per_page(&site);
    list.start = (2..=per.len())
        .find(|n| per[n - 1] > 0)
        .unwrap_or_else(|| panic!("{}: {site} has quotes on page 1 only", list.what));
    list.site = site;
    list
}

/// The riverside fixture with `page_size: 2`, built and served.
struct Site {
    /// Keeps the temporary folder (study and output) alive.
    _study: TestStudy,
    out: PathBuf,
    server: StaticServer,
    /// The theme with most quotes, and the page of all quotes.
    lists: Vec<List>,
}

impl Site {
    fn build() -> Site {
        let study = TestStudy::fixture("riverside");
        let yaml = study.read("content/study.yaml");
        study.write(
            "content/study.yaml",
            format!("{yaml}\npage_size: {PAGE_SIZE}\n"),
        );
        let out = study.root().join("site");
        study.build_into(&out, &[]).assert_ok();
        let facts: Facts = study.facts();
        let server = StaticServer::start(&out, SUB_PATH);

        let theme = facts
            .published_themes(false)
            .into_iter()
            .max_by_key(|t| {
                (
                    facts.quotes_of_theme(t, false).len(),
                    std::cmp::Reverse(t.clone()),
                )
            })
            .expect("a published theme");
        let lists = vec![
            read_list(
                &out,
                format!("theme {theme}"),
                &format!("themes/{theme}/index.html"),
                facts.quotes_of_theme(&theme, false),
            ),
            read_list(
                &out,
                "all quotes".into(),
                "quotes/index.html",
                facts.published_quotes(false),
            ),
        ];
        Site {
            _study: study,
            out,
            server,
            lists,
        }
    }

    /// The site's root URL, with a final slash.
    fn base(&self, via: Via) -> String {
        match via {
            Via::Http => self.server.url.clone(),
            Via::File => file_url(&self.out) + "/",
        }
    }

    /// The URL of a file of the site, given relative to its root.
    fn url(&self, via: Via, rel: &str) -> String {
        match via {
            Via::Http => self.server.url_of(rel),
            Via::File => file_url(&self.out.join(rel)),
        }
    }
}

// ---------------------------------------------------------------------------
// Tabs, console and network
// ---------------------------------------------------------------------------

/// Waits until the tab shows `url`, loaded, and, when a filter is set, has counted
/// the matches of the whole list (or said it could not). On timeout the message
/// gives the URL, ready state and `#filter-pages` text last seen.
async fn settle(page: &Page, url: &str) {
    wait_js::<(String, String, String)>(
        page,
        &format!("the tab shows {url}, loaded, with the whole list's matches counted"),
        "[location.href, document.readyState, \
          document.getElementById('filter-pages')?.textContent ?? '']",
        |(href, state, note)| href == url && state == "complete" && !note.starts_with("Counting"),
    )
    .await;
}

/// Everything a tab reports that a reader must never meet: console errors,
/// uncaught exceptions, log errors, failed requests, HTTP errors and requests that
/// leave the site. Read after each step, so a problem names the page it came from.
struct Watch {
    events: PageEvents,
    problems: Vec<String>,
}

impl Watch {
    async fn new(page: &Page, site: &Site) -> Watch {
        site.server.take_log();
        Watch {
            events: PageEvents::new(page).await,
            problems: Vec::new(),
        }
    }

    /// Reads what happened since the last call; `at` says where, for messages.
    async fn collect(&mut self, site: &Site, via: Via, at: &str) {
        let mut found = self.events.drain(&site.base(via)).await;
        if via == Via::Http {
            for s in site.server.take_log() {
                if s.status >= 400 {
                    found.push(format!("server answered {} to {}", s.status, s.target));
                }
            }
        }
        found.dedup();
        self.problems
            .extend(found.into_iter().map(|f| format!("{via} {at}: {f}")));
    }

    /// Fails with every problem seen.
    #[track_caller]
    fn assert_clean(&self) {
        assert!(
            self.problems.is_empty(),
            "{} console or network problem(s):\n{}",
            self.problems.len(),
            self.problems.join("\n")
        );
    }

    /// True when `url`, without query or fragment, was requested.
    fn was_requested(&self, url: &str) -> bool {
        self.events
            .requested
            .iter()
            .any(|u| u.split(['?', '#']).next() == Some(url))
    }
}

// ---------------------------------------------------------------------------
// What a list page shows
// ---------------------------------------------------------------------------

/// One page of a list as a reader sees it.
#[derive(Debug, Deserialize)]
struct View {
    href: String,
    /// `URLSearchParams` of `location.search`.
    search: BTreeMap<String, String>,
    /// The selects' values, by `name`.
    values: BTreeMap<String, String>,
    form_visible: bool,
    /// `data-page` of `#quote-list`.
    page: String,
    /// `figure.quote` in `#quote-list` that are rendered, by id.
    visible: Vec<String>,
    /// Those without a `hidden` attribute on them or an ancestor.
    not_hidden: Vec<String>,
    /// The "no quotes on this page match" paragraph is rendered.
    empty_visible: bool,
    status: String,
    note_visible: bool,
    /// `#filter-pages`'s text, spaces collapsed.
    note: String,
    /// Its links: text and resolved `href`.
    note_links: Vec<(String, String)>,
    /// Its `<strong>` texts (this page).
    note_strong: Vec<String>,
    /// Each `nav.pagination`: its `aria-label` and its items.
    navs: Vec<Nav>,
}

#[derive(Debug, Deserialize)]
struct Nav {
    label: String,
    items: Vec<NavItem>,
}

/// One item of a page navigation: a link or a gap.
#[derive(Debug, Deserialize)]
struct NavItem {
    /// `a.page-link`, or `span.page-gap` when false.
    link: bool,
    text: String,
    rel: String,
    current: String,
    /// Resolved `href`.
    href: String,
}

const VIEW: &str = "(() => {
  const text = e => (e?.textContent ?? '').replace(/\\s+/g, ' ').trim();
  const list = document.getElementById('quote-list');
  const quotes = [...document.querySelectorAll('#quote-list figure.quote')];
  const note = document.getElementById('filter-pages');
  const form = document.getElementById('quote-filter');
  return {
    href: location.href,
    search: Object.fromEntries(new URLSearchParams(location.search)),
    values: Object.fromEntries([...document.querySelectorAll('#quote-filter select')]
      .map(s => [s.name, s.value])),
    form_visible: !!form && form.checkVisibility(),
    page: list?.dataset.page ?? '',
    visible: quotes.filter(f => f.checkVisibility()).map(f => f.dataset.quoteId),
    not_hidden: quotes.filter(f => !f.closest('[hidden]')).map(f => f.dataset.quoteId),
    empty_visible: !!list?.querySelector('.filter-empty')?.checkVisibility(),
    status: text(document.getElementById('filter-status')),
    note_visible: !!note && note.checkVisibility(),
    note: text(note),
    note_links: note ? [...note.querySelectorAll('a')].map(a => [text(a), a.href]) : [],
    note_strong: note ? [...note.querySelectorAll('strong')].map(text) : [],
    navs: [...document.querySelectorAll('nav.pagination')].map(n => ({
      label: n.getAttribute('aria-label') ?? '',
      items: [...n.querySelectorAll('a.page-link, .page-gap')].map(e => ({
        link: e.matches('a.page-link'),
        text: text(e),
        rel: e.getAttribute('rel') ?? '',
        current: e.getAttribute('aria-current') ?? '',
        href: e.href ?? '',
      })),
    })),
  };
})()";

async fn view(page: &Page) -> View {
    js(page, VIEW).await
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// `#filter-pages` for a filter matching `per_page[i]` quotes on page `i + 1`, seen
/// on page `current`: its text, its links (text, page) and its bold part.
fn expected_note(
    per_page: &[usize],
    current: usize,
    total: usize,
) -> (String, Vec<(String, usize)>, Vec<String>) {
    let all: usize = per_page.iter().sum();
    if all == 0 {
        return (
            format!(
                "No quote in the whole list of {} matches.",
                plural(total, "quote")
            ),
            Vec::new(),
            Vec::new(),
        );
    }
    let (mut parts, mut links, mut strong, mut more) = (Vec::new(), Vec::new(), Vec::new(), 0);
    for (i, &count) in per_page.iter().enumerate() {
        let n = i + 1;
        if count == 0 {
            continue;
        }
        if parts.len() >= 12 {
            more += 1;
            continue;
        }
        let label = format!("page {n} ({count})");
        if n == current {
            strong.push(format!("{label}, this page"));
            parts.push(format!("{label}, this page"));
        } else {
            links.push((label.clone(), n));
            parts.push(label);
        }
    }
    let end = if more > 0 {
        format!(" and {}.", plural(more, "more page"))
    } else {
        ".".into()
    };
    let verb = if all == 1 { "matches" } else { "match" };
    (
        format!(
            "{} of {total} in the whole list {verb}, on {}{end}",
            plural(all, "quote"),
            parts.join(", ")
        ),
        links,
        strong,
    )
}

/// The server's status line of page `n` when no filter is set.
fn unfiltered_status(list: &List, n: usize) -> String {
    let first = (n - 1) * PAGE_SIZE + 1;
    let last = first + list.pages[n - 1].len() - 1;
    format!(
        "Showing quotes {first}\u{2013}{last} of {}",
        list.quotes.len()
    )
}

/// The page navigation of page `n` of `total` that numbers the pages `shown`:
/// Previous, those numbers with a gap wherever some are left out between them, Next.
/// Each item as (text, rel, aria-current, page it leads to; 0 for a gap). Which
/// numbers to show is the theme's choice; [`check_page`] only requires page 1, this
/// page and the last among them.
fn expected_nav(n: usize, total: usize, shown: &[usize]) -> Vec<(String, String, String, usize)> {
    let mut out = Vec::new();
    if n > 1 {
        out.push(("Previous page".into(), "prev".into(), String::new(), n - 1));
    }
    let mut last = 0;
    for &k in shown {
        if k > last + 1 && last > 0 {
            out.push(("\u{2026}".into(), String::new(), String::new(), 0));
        }
        let current = if k == n { "page" } else { "" };
        out.push((format!("Page {k}"), String::new(), current.into(), k));
        last = k;
    }
    if n < total {
        out.push(("Next page".into(), "next".into(), String::new(), n + 1));
    }
    out
}

/// Checks page `n` of `list` as the reader sees it with the site filter `site` (or
/// none): the selects and URL, the visible quotes, `#filter-status`,
/// `#filter-pages` and its links, the "none match" paragraph, and both page
/// navigations with the filter's query on every link.
async fn check_page(page: &Page, site: &Site, via: Via, list: &List, n: usize, filter: &str) {
    let v = view(page).await;
    let what = format!(
        "{via} {} page {n} ({}{})",
        list.what,
        list.rel(n),
        if filter.is_empty() {
            String::new()
        } else {
            format!("?site={filter}")
        }
    );
    let query = if filter.is_empty() {
        String::new()
    } else {
        format!("?site={filter}")
    };
    let on_page = &list.pages[n - 1];

    assert_eq!(v.page, n.to_string(), "{what}: data-page of #quote-list");
    assert!(v.form_visible, "{what}: the filter form is not shown");
    assert_eq!(
        v.values.get("site").map(String::as_str),
        Some(filter),
        "{what}: the site select (selects: {:?})",
        v.values
    );
    assert!(
        v.values
            .iter()
            .all(|(k, val)| k == "site" || val.is_empty()),
        "{what}: only the site select may be set: {:?}",
        v.values
    );
    assert_eq!(
        v.search.get("site").map(String::as_str),
        (!filter.is_empty()).then_some(filter),
        "{what}: location.search ({})",
        v.href
    );

    let matching = list.matching(filter);
    let expected: Vec<String> = on_page
        .iter()
        .filter(|id| filter.is_empty() || matching.contains(*id))
        .cloned()
        .collect();
    assert_eq!(
        v.visible, expected,
        "{what}: the visible quotes (this page holds {on_page:?}; the study's files give \
         {filter:?} the quotes {matching:?})"
    );
    assert_eq!(
        v.not_hidden, v.visible,
        "{what}: the quotes without a `hidden` attribute are not the visible ones"
    );
    assert_eq!(
        v.empty_visible,
        expected.is_empty(),
        "{what}: the \"No quotes on this page match\" paragraph shows (visible quotes: {expected:?})"
    );

    if filter.is_empty() {
        assert_eq!(
            v.status,
            unfiltered_status(list, n),
            "{what}: #filter-status"
        );
        assert!(
            !v.note_visible,
            "{what}: #filter-pages shows without a filter: {:?}",
            v.note
        );
    } else {
        let status = format!(
            "Showing {} of {} on this page",
            expected.len(),
            plural(on_page.len(), "quote")
        );
        assert_eq!(v.status, status, "{what}: #filter-status");
        let per_page = list.per_page(filter);
        let (note, links, strong) = expected_note(&per_page, n, list.quotes.len());
        assert!(v.note_visible, "{what}: #filter-pages is not shown");
        assert_eq!(
            v.note, note,
            "{what}: #filter-pages (quotes of {filter} per page, from the study's files \
             and the pages' order: {per_page:?})"
        );
        let links: Vec<(String, String)> = links
            .into_iter()
            .map(|(text, k)| (text, site.url(via, &list.rel(k)) + &query))
            .collect();
        assert_eq!(v.note_links, links, "{what}: the links of #filter-pages");
        assert_eq!(
            v.note_strong, strong,
            "{what}: the bold part of #filter-pages"
        );
    }

    let labels: Vec<&str> = v.navs.iter().map(|n| n.label.as_str()).collect();
    assert_eq!(
        labels,
        ["Pages of quotes, top", "Pages of quotes, bottom"],
        "{what}: the nav.pagination elements"
    );
    for nav in &v.navs {
        let got: Vec<(String, String, String, String)> = nav
            .items
            .iter()
            .map(|i| {
                assert_eq!(
                    i.link,
                    i.text != "\u{2026}",
                    "{what}, {}: {i:?} is neither a.page-link nor span.page-gap …",
                    nav.label
                );
                (
                    i.text.clone(),
                    i.rel.clone(),
                    i.current.clone(),
                    i.href.clone(),
                )
            })
            .collect();
        let total = list.pages.len();
        let shown: Vec<usize> = got
            .iter()
            .filter_map(|(text, ..)| text.strip_prefix("Page ")?.parse().ok())
            .collect();
        assert!(
            shown.windows(2).all(|w| w[0] < w[1])
                && [1, n, total].iter().all(|k| shown.contains(k))
                && shown.iter().all(|k| (1..=total).contains(k)),
            "{what}, {}: the numbered links {shown:?} must ascend and include page 1, \
             this page ({n}) and the last ({total})",
            nav.label
        );
        let want: Vec<(String, String, String, String)> = expected_nav(n, total, &shown)
            .into_iter()
            .map(|(text, rel, current, k)| {
                let href = if k == 0 {
                    String::new()
                } else {
                    site.url(via, &list.rel(k)) + &query
                };
                (text, rel, current, href)
            })
            .collect();
        assert_eq!(
            got, want,
            "{what}, {}: the page links as (text, rel, aria-current, href)",
            nav.label
        );
    }
}

/// Clicks the first element matching `selector` with the mouse, at its centre, as a
/// reader does. (chromiumoxide's `Element::click` scrolls with a script that never
/// finishes when scripts are off.)
async fn click(page: &Page, selector: &str, what: &str) {
    let el = page
        .find_element(selector)
        .await
        .unwrap_or_else(|e| panic!("{what}: no {selector}: {e}"));
    page.execute(
        ScrollIntoViewIfNeededParams::builder()
            .backend_node_id(el.backend_node_id)
            .build(),
    )
    .await
    .unwrap_or_else(|e| panic!("{what}: scroll {selector} into view: {e}"));
    let point = el
        .clickable_point()
        .await
        .unwrap_or_else(|e| panic!("{what}: where to click {selector}: {e}"));
    page.click(point)
        .await
        .unwrap_or_else(|e| panic!("{what}: click {selector}: {e}"));
}

// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

/// On each list: the start page unfiltered; a site chosen; a link of
/// `#filter-pages` followed; a page with none of the site's quotes opened from a URL
/// with the filter; the filter cleared. No console or network problem on the way,
/// and `list.js` loaded.
async fn filter_across_pages(browser: &Browser, site: &Site, via: Via) {
    let page = new_tab(browser).await;
    let mut watch = Watch::new(&page, site).await;
    for list in &site.lists {
        let (n, s) = (list.start, list.site.as_str());
        let url = site.url(via, &list.rel(n));
        goto(&page, &url).await;
        settle(&page, &url).await;
        check_page(&page, site, via, list, n, "").await;
        watch.collect(site, via, &list.rel(n)).await;

        choose(&page, "site", s).await;
        let filtered = format!("{url}?site={s}");
        settle(&page, &filtered).await;
        check_page(&page, site, via, list, n, s).await;
        watch
            .collect(site, via, &format!("{}?site={s}", list.rel(n)))
            .await;
        let script = site.url(via, &list.script());
        assert!(
            watch.was_requested(&script),
            "{via} {}: {script} was never requested once a filter was chosen; requested: {:?}",
            list.what,
            watch.events.requested
        );

        // Follow the first link of #filter-pages.
        let per = list.per_page(s);
        let target = (1..=per.len())
            .find(|&k| k != n && per[k - 1] > 0)
            .expect("another page with the site's quotes");
        click(&page, "#filter-pages a", &format!("{via} {}", list.what)).await;
        let next = format!("{}?site={s}", site.url(via, &list.rel(target)));
        settle(&page, &next).await;
        check_page(&page, site, via, list, target, s).await;
        watch
            .collect(site, via, &format!("{}?site={s}", list.rel(target)))
            .await;

        // A page without the site's quotes, opened from its URL.
        if let Some(none) = (1..=per.len()).find(|&k| per[k - 1] == 0) {
            let url = format!("{}?site={s}", site.url(via, &list.rel(none)));
            goto(&page, &url).await;
            settle(&page, &url).await;
            check_page(&page, site, via, list, none, s).await;
            watch
                .collect(site, via, &format!("{}?site={s}", list.rel(none)))
                .await;
        }

        // Clearing the filter restores the server's status and the plain links.
        js::<bool>(
            &page,
            "document.querySelector('#quote-filter [type=reset]').click() ?? true",
        )
        .await;
        let here: String = js(&page, "location.href.split('?')[0]").await;
        wait_js::<String>(
            &page,
            &format!("{via} {}: the filter is cleared", list.what),
            "location.search",
            |q| q.is_empty(),
        )
        .await;
        settle(&page, &here).await;
        let k = (1..=list.pages.len())
            .find(|&k| site.url(via, &list.rel(k)) == here)
            .unwrap_or_else(|| panic!("{via} {}: {here} is none of its pages", list.what));
        check_page(&page, site, via, list, k, "").await;
        watch.collect(site, via, &list.rel(k)).await;
    }
    watch.assert_clean();
    page.close().await.ok();
}

/// With a filter set, Tab reaches the page links after the filter, with a visible
/// focus; Enter on Next (Previous on the last page) opens that page with the filter
/// kept.
async fn keyboard(browser: &Browser, site: &Site, via: Via) {
    let page = new_tab(browser).await;
    let mut watch = Watch::new(&page, site).await;
    for list in &site.lists {
        let (n, s) = (list.start, list.site.as_str());
        let url = format!("{}?site={s}", site.url(via, &list.rel(n)));
        goto(&page, &url).await;
        settle(&page, &url).await;
        let rel = if n < list.pages.len() { "next" } else { "prev" };
        let target = if rel == "next" { n + 1 } else { n - 1 };
        let mut seen = Vec::new();
        let mut reached = false;
        for _ in 0..80 {
            press_key(&page, TAB).await;
            let (desc, link_rel, visible): (String, Option<String>, bool) = js(
                &page,
                "(() => { const e = document.activeElement;
                   if (!e || e === document.body) return ['(nothing)', null, false];
                   const s = getComputedStyle(e);
                   return [e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' \"'
                       + (e.textContent || '').replace(/\\s+/g, ' ').trim().slice(0, 30) + '\"',
                     e.matches('a.page-link') ? (e.getAttribute('rel') ?? '') : null,
                     (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
                       || (s.boxShadow !== 'none' && s.boxShadow !== '')]; })()",
            )
            .await;
            seen.push(desc.clone());
            if let Some(r) = link_rel {
                assert!(
                    visible,
                    "{via} {url}: the page link {desc} has the focus but no visible focus indicator"
                );
                if r == rel {
                    reached = true;
                    break;
                }
            }
        }
        assert!(
            reached,
            "{via} {url}: Tab never reached a.page-link[rel={rel}]; focus went through: {}",
            seen.join(" > ")
        );
        press_key(&page, ENTER).await;
        let next = format!("{}?site={s}", site.url(via, &list.rel(target)));
        settle(&page, &next).await;
        check_page(&page, site, via, list, target, s).await;
        watch
            .collect(
                site,
                via,
                &format!("{}?site={s} by keyboard", list.rel(target)),
            )
            .await;
    }
    watch.assert_clean();
    page.close().await.ok();
}

/// axe-core (WCAG 2.1 A and AA) on page 2 of each list, unfiltered and with the site
/// filter (so `#filter-pages` shows), in the light and the dark scheme.
async fn axe(browser: &Browser, site: &Site, via: Via) {
    let page = new_tab(browser).await;
    let mut problems = Vec::new();
    for scheme in ["light", "dark"] {
        set_color_scheme(&page, scheme).await;
        for list in &site.lists {
            for query in [String::new(), format!("?site={}", list.site)] {
                let url = format!("{}{query}", site.url(via, &list.rel(2)));
                goto(&page, &url).await;
                settle(&page, &url).await;
                for v in axe_violations(&page, scheme, &url).await {
                    problems.push(format!("{via} {}{query} [{scheme}]: {v}", list.rel(2)));
                }
            }
        }
    }
    page.close().await.ok();
    assert!(
        problems.is_empty(),
        "{} axe violation(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// JavaScript off: from page 1, clicking Next leads through every page, each shows
/// all its quotes and no filter form; pages after the first hold no chart or table;
/// page 1's numbered link leads back.
async fn no_javascript(browser: &Browser, site: &Site, via: Via) {
    let page = new_tab(browser).await;
    page.execute(SetScriptExecutionDisabledParams::new(true))
        .await
        .expect("disable JavaScript");
    for list in &site.lists {
        goto(&page, &site.url(via, &list.rel(1))).await;
        let mut shown: Vec<String> = Vec::new();
        for n in 1..=list.pages.len() {
            let url = site.url(via, &list.rel(n));
            let what = format!("{via} {} page {n} without JavaScript", list.what);
            wait_js::<String>(&page, &format!("{what} is open"), "location.href", |h| {
                *h == url
            })
            .await;
            wait_js::<bool>(
                &page,
                &format!("{what} has loaded"),
                "document.readyState === 'complete'",
                |d| *d,
            )
            .await;
            let (ran, form, visible, extras): (bool, bool, Vec<String>, usize) = js(
                &page,
                "[document.querySelectorAll('.copy-link').length > 0,
                  !!document.getElementById('quote-filter')?.checkVisibility(),
                  [...document.querySelectorAll('#quote-list figure.quote')]
                    .filter(f => f.checkVisibility()).map(f => f.dataset.quoteId),
                  document.querySelectorAll('main figure.chart, main table').length]",
            )
            .await;
            assert!(!ran, "{what}: the page script ran");
            assert!(!form, "{what}: the filter form shows");
            assert_eq!(
                visible,
                list.pages[n - 1],
                "{what}: the visible quotes are not all the page's quotes"
            );
            if n > 1 {
                assert_eq!(
                    extras, 0,
                    "{what}: charts or tables on a page after the first"
                );
            }
            shown.extend(visible);
            if n < list.pages.len() {
                click(&page, "a.page-link[rel=next]", &what).await;
            }
        }
        let all: BTreeSet<&String> = list.quotes.iter().map(|q| &q.id).collect();
        let seen: BTreeSet<&String> = shown.iter().collect();
        assert_eq!(
            seen, all,
            "{via} {}: following Next without JavaScript did not show the whole list",
            list.what
        );
        // Back to page 1 by its numbered link.
        click(
            &page,
            &format!("a.page-link:not([rel])[href$=\"/{}\"]", list.first),
            &format!("{via} {} last page without JavaScript", list.what),
        )
        .await;
        let url = site.url(via, &list.rel(1));
        wait_js::<String>(
            &page,
            &format!("{via} {}: page 1's link leads to {url}", list.what),
            "location.href",
            |h| *h == url,
        )
        .await;
    }
    page.close().await.ok();
}

#[test]
fn expected_texts() {
    assert_eq!(
        expected_note(&[2, 1, 2], 2, 13),
        (
            "5 quotes of 13 in the whole list match, on page 1 (2), page 2 (1), this page, \
             page 3 (2)."
                .to_string(),
            vec![("page 1 (2)".to_string(), 1), ("page 3 (2)".to_string(), 3)],
            vec!["page 2 (1), this page".to_string()]
        )
    );
    assert_eq!(
        expected_note(&[0, 1], 1, 3).0,
        "1 quote of 3 in the whole list matches, on page 2 (1)."
    );
    assert_eq!(
        expected_note(&[0, 0], 1, 3).0,
        "No quote in the whole list of 3 quotes matches."
    );
    let texts: Vec<String> = expected_nav(3, 7, &[1, 2, 3, 4, 5, 7])
        .into_iter()
        .map(|(t, ..)| t)
        .collect();
    assert_eq!(
        texts,
        [
            "Previous page",
            "Page 1",
            "Page 2",
            "Page 3",
            "Page 4",
            "Page 5",
            "\u{2026}",
            "Page 7",
            "Next page"
        ]
    );
    assert_eq!(page_rel("quotes/index.html", 1), "quotes/index.html");
    assert_eq!(
        page_rel("themes/a/index.html", 3),
        "themes/a/page/3/index.html"
    );
}

// ---------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn paginated_lists_in_headless_chromium() {
    let start = Instant::now();
    let site = Site::build();
    for l in &site.lists {
        eprintln!(
            "{}: pages {:?}; filter site {} from page {}",
            l.what, l.pages, l.site, l.start
        );
    }
    eprintln!("built the site in {:.1?}", start.elapsed());
    let (browser, driver, _profile) = launch().await;

    let mut failures = Vec::new();
    let f = &mut failures;
    for via in [Via::Http, Via::File] {
        scenario(
            &format!("filter across pages ({via})"),
            filter_across_pages(&browser, &site, via),
            f,
        )
        .await;
        scenario(
            &format!("keyboard ({via})"),
            keyboard(&browser, &site, via),
            f,
        )
        .await;
        scenario(&format!("axe ({via})"), axe(&browser, &site, via), f).await;
        scenario(
            &format!("no javascript ({via})"),
            no_javascript(&browser, &site, via),
            f,
        )
        .await;
    }

    browser::close(browser, driver).await;
    eprintln!("pagination scenarios done in {:.1?}", start.elapsed());
    assert!(
        failures.is_empty(),
        "{} pagination scenario(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
