//! The reader's experience of a built site, proven in a real browser: headless
//! Chromium (Debian's `/usr/bin/chromium`, which `scripts/test` installs) driven over
//! the DevTools protocol by chromiumoxide.
//!
//! Readers of a findings site are policymakers, clinicians, peer workers and
//! participants, often on a phone, some with a keyboard or a screen reader only. So
//! the built example study and the `riverside` fixture are opened the two ways a
//! reader opens them, over HTTP under a sub-path (a small static server) and straight
//! from disk (`file://`), and checked for what HTML scanning cannot see: axe-core's
//! WCAG 2.1 A/AA rules in the light and dark colour schemes, console errors and
//! failed requests, keyboard order and visible focus, the quote filters against the
//! study's own data (read independently with `common::facts`, never from the HTML),
//! copying a quote's link, the page without JavaScript, no sideways scrolling at
//! 320 px, accessible charts, and screenshots for a reviewer to look at.
//!
//! One browser runs every scenario, one after the other; each catches its own panic,
//! so all run and the test fails naming every failed scenario. axe-core comes from
//! the npm tools in `tests/tools` (`scripts/test` installs them).

#[path = "common/browser.rs"]
mod browser;
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chromiumoxide::cdp::browser_protocol::accessibility::GetPartialAxTreeParams;
use chromiumoxide::cdp::browser_protocol::browser::{
    PermissionDescriptor, PermissionSetting, SetPermissionParams,
};
use chromiumoxide::cdp::browser_protocol::emulation::{
    SetDeviceMetricsOverrideParams, SetScriptExecutionDisabledParams,
};
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Browser, Page};
use serde::Deserialize;

use browser::{
    ARROW_DOWN, ENTER, PageEvents, StaticServer, TAB, axe_violations, choose, file_url, goto, js,
    launch, new_tab, press_key, scenario, set_color_scheme, wait_js,
};
use common::facts::{Facts, Quote};
use common::*;

/// The sub-path the sites are served under, as on a shared host.
const SUB_PATH: &str = "/research/peer-support/";

// ---------------------------------------------------------------------------
// The sites under test
// ---------------------------------------------------------------------------

/// One page of each kind a reader meets, by what it is.
#[derive(Debug, Clone)]
struct PageType {
    /// What the page is, for messages: `subtheme`, `theme by site`, ...
    label: String,
    /// The `page-KIND` class its `<body>` must carry, for the kinds the theme's
    /// contract names.
    kind: Option<&'static str>,
    /// Path relative to the site root.
    rel: String,
}

/// A study built into a temporary folder and served over HTTP under [`SUB_PATH`].
struct Site {
    name: &'static str,
    /// Keeps the temporary folder (study and output) alive.
    _study: TestStudy,
    out: PathBuf,
    facts: Facts,
    server: StaticServer,
    pages: Vec<PageType>,
}

impl Site {
    fn build(name: &'static str, study: TestStudy) -> Site {
        let out = study.root().join("site");
        study.build_into(&out, &[]).assert_ok();
        let facts = study.facts();
        let server = StaticServer::start(&out, SUB_PATH);
        let pages = page_types(&out, &facts);
        Site {
            name,
            _study: study,
            out,
            facts,
            server,
            pages,
        }
    }

    /// The page's URL over HTTP.
    fn http(&self, rel: &str) -> String {
        self.server.url_of(rel)
    }

    /// The page's `file://` URL.
    fn file(&self, rel: &str) -> String {
        file_url(&self.out.join(rel))
    }

    /// The page of a type (see [`page_types`]).
    #[track_caller]
    fn page(&self, label: &str) -> &str {
        &self
            .pages
            .iter()
            .find(|p| p.label == label)
            .unwrap_or_else(|| panic!("{}: no {label} page", self.name))
            .rel
    }

    /// Published quotes, in content order.
    fn quotes(&self) -> Vec<Quote> {
        self.facts.published_quotes(false)
    }

    fn title_of(&self, pages: &[common::facts::Page], id: &str) -> String {
        pages
            .iter()
            .find(|p| p.id == id)
            .map_or_else(|| id.to_string(), |p| p.title.clone())
    }
}

/// Children of a theme among the published ones.
fn children(facts: &Facts, id: &str) -> Vec<String> {
    let published = facts.published_themes(false);
    facts
        .themes
        .iter()
        .filter(|t| t.parent.as_deref() == Some(id) && published.contains(&t.id))
        .map(|t| t.id.clone())
        .collect()
}

/// The top-level theme with the deepest tree (ties: the one with most quotes), so
/// that a theme filter on its page has subthemes, and grandchildren if any exist.
fn theme_with_subthemes(facts: &Facts) -> String {
    fn depth(facts: &Facts, id: &str) -> usize {
        children(facts, id)
            .iter()
            .map(|c| 1 + depth(facts, c))
            .max()
            .unwrap_or(0)
    }
    let published = facts.published_themes(false);
    facts
        .themes
        .iter()
        .filter(|t| t.parent.is_none() && published.contains(&t.id))
        .max_by_key(|t| {
            (
                depth(facts, &t.id),
                facts.quotes_of_theme(&t.id, false).len(),
                std::cmp::Reverse(t.id.clone()),
            )
        })
        .map(|t| t.id.clone())
        .expect("a published top-level theme")
}

/// One real page of every type, found by listing the output.
fn page_types(out: &Path, facts: &Facts) -> Vec<PageType> {
    let files = html_files(out);
    let first = |pattern: &dyn Fn(&[&str]) -> bool| -> Option<String> {
        files
            .iter()
            .find(|f| pattern(&f.split('/').collect::<Vec<_>>()))
            .cloned()
    };
    let theme = theme_with_subthemes(facts);
    let subtheme = children(facts, &theme)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("theme {theme} has no subthemes"));
    let mut pages = vec![
        ("home", "home", Some("index.html".to_string())),
        ("codebook", "themes", Some("themes/index.html".into())),
        ("theme", "theme", Some(format!("themes/{theme}/index.html"))),
        (
            "subtheme",
            "theme",
            Some(format!("themes/{subtheme}/index.html")),
        ),
        (
            "theme by site",
            "theme_site",
            first(&|p| p.len() == 4 && p[0] == "themes" && p[1] == theme)
                .or_else(|| first(&|p| p.len() == 4 && p[0] == "themes")),
        ),
        ("sites", "sites", Some("sites/index.html".into())),
        ("site", "site", first(&|p| p.len() == 3 && p[0] == "sites")),
        ("groups", "groups", Some("groups/index.html".into())),
        (
            "group",
            "group",
            first(&|p| p.len() == 3 && p[0] == "groups"),
        ),
        ("findings", "findings", Some("findings/index.html".into())),
        (
            "finding",
            "finding",
            // One that embeds a quote, when there is one: its copy button differs.
            files
                .iter()
                .filter(|f| f.starts_with("findings/") && f.matches('/').count() == 2)
                .find(|f| read_page(out, f).contains("data-quote-id="))
                .cloned()
                .or_else(|| first(&|p| p.len() == 3 && p[0] == "findings")),
        ),
        ("quotes", "quotes", Some("quotes/index.html".into())),
        ("404", "404", Some("404.html".into())),
    ];
    let mut types: Vec<PageType> = pages
        .drain(..)
        .map(|(label, kind, rel)| {
            let rel = rel.unwrap_or_else(|| panic!("no {label} page in {}", out.display()));
            assert!(files.contains(&rel), "{rel} was not built");
            PageType {
                label: label.into(),
                kind: Some(kind),
                rel,
            }
        })
        .collect();
    // Pages of kinds added since (a search page, a data page): read the same way,
    // whatever their `<body>` class.
    let known = ["themes", "sites", "groups", "findings", "quotes"];
    for f in &files {
        if let Some((folder, "index.html")) = f.split_once('/') {
            if !known.contains(&folder) {
                types.push(PageType {
                    label: folder.to_string(),
                    kind: None,
                    rel: f.clone(),
                });
            }
        }
    }
    types
}

// ---------------------------------------------------------------------------
// Tabs
// ---------------------------------------------------------------------------

async fn set_viewport(page: &Page, width: i64, height: i64, mobile: bool) {
    page.execute(
        SetDeviceMetricsOverrideParams::builder()
            .width(width)
            .height(height)
            .device_scale_factor(1.0)
            .mobile(mobile)
            .build()
            .unwrap(),
    )
    .await
    .expect("set the viewport");
}

/// The accessible name and description Chromium computes for each element matching
/// `selector`, as a screen reader gets them.
async fn accessible_names(page: &Page, selector: &str) -> Vec<(String, String)> {
    let elements = page.find_elements(selector).await.unwrap_or_default();
    let mut out = Vec::new();
    for el in elements {
        let tree = page
            .execute(
                GetPartialAxTreeParams::builder()
                    .backend_node_id(el.backend_node_id)
                    .fetch_relatives(false)
                    .build(),
            )
            .await
            .unwrap_or_else(|e| panic!("accessibility tree of {selector}: {e}"));
        let text = |v: Option<&chromiumoxide::cdp::browser_protocol::accessibility::AxValue>| {
            v.and_then(|v| v.value.as_ref())
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let node = tree.result.nodes.first();
        out.push((
            text(node.and_then(|n| n.name.as_ref())),
            text(node.and_then(|n| n.description.as_ref())),
        ));
    }
    out
}

// ---------------------------------------------------------------------------
// axe
// ---------------------------------------------------------------------------

/// axe-core's WCAG 2.1 A and AA rules on one page of every type of the example, and
/// on the riverside fixture's home, theme and quotes pages, in the light and the dark
/// colour scheme: zero violations.
async fn axe(browser: &Browser, example: &Site, riverside: &Site) {
    let mut targets: Vec<(&Site, String, String)> = example
        .pages
        .iter()
        .map(|p| (example, format!("{} ({})", p.rel, p.label), p.rel.clone()))
        .collect();
    for label in ["home", "theme", "quotes"] {
        let rel = riverside.page(label).to_string();
        targets.push((riverside, format!("{rel} ({label})"), rel));
    }
    let page = new_tab(browser).await;
    let mut problems = Vec::new();
    for scheme in ["light", "dark"] {
        set_color_scheme(&page, scheme).await;
        for (site, what, rel) in &targets {
            goto(&page, &site.http(rel)).await;
            for v in axe_violations(&page, scheme, what).await {
                problems.push(format!("{} {what} [{scheme}]: {v}", site.name));
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

// ---------------------------------------------------------------------------
// Console and network
// ---------------------------------------------------------------------------

/// Every page type, over HTTP under the sub-path and from `file://`: no console
/// error, no uncaught exception, no failed request, no request that leaves the site
/// (the favicon included), and the `<body>` class of its kind.
async fn console_and_network(browser: &Browser, example: &Site) {
    let mut problems = Vec::new();
    for over_http in [true, false] {
        for p in &example.pages {
            let (url, base) = if over_http {
                (example.http(&p.rel), example.server.url.clone())
            } else {
                (example.file(&p.rel), file_url(&example.out) + "/")
            };
            let how = if over_http { "http" } else { "file" };
            let page = browser.new_page("about:blank").await.expect("open a tab");
            let mut events = PageEvents::new(&page).await;
            example.server.take_log();

            goto(&page, &url).await;
            let class: String = js(&page, "document.body.className").await;
            let kind_ok = match p.kind {
                Some(kind) => class
                    .split_whitespace()
                    .any(|c| c == format!("page-{kind}")),
                None => class.split_whitespace().any(|c| c.starts_with("page-")),
            };
            if !kind_ok {
                problems.push(format!(
                    "{how} {}: <body class=\"{class}\">, expected page-{}",
                    p.rel,
                    p.kind.unwrap_or("KIND")
                ));
            }
            // Headless Chromium never asks for an icon, but a reader's browser asks
            // for /favicon.ico (outside the sub-path, a 404) unless the page names one.
            let icon: Option<String> = js(
                &page,
                "document.querySelector('link[rel~=\"icon\"][href]')?.href ?? null",
            )
            .await;
            match icon {
                None => problems.push(format!(
                    "{how} {} ({}): no <link rel=\"icon\">, so browsers ask for /favicon.ico",
                    p.rel, p.label
                )),
                Some(icon) => {
                    let exists = icon
                        .strip_prefix(&base)
                        .is_some_and(|rel| example.out.join(rel).is_file());
                    if !exists {
                        problems.push(format!(
                            "{how} {} ({}): the icon {icon} is not a file of the site",
                            p.rel, p.label
                        ));
                    }
                }
            }
            let mut found = events.drain(&base).await;
            if over_http {
                // What the browser asked for on its own, such as /favicon.ico, shows
                // here even when the page's events do not list it.
                for s in example.server.take_log() {
                    if s.status >= 400 {
                        found.push(format!("server answered {} to {}", s.status, s.target));
                    }
                }
            }
            found.dedup();
            for f in found {
                problems.push(format!("{how} {} ({}): {f}", p.rel, p.label));
            }
            page.close().await.ok();
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------
// Keyboard
// ---------------------------------------------------------------------------

/// What has the focus, and whether it shows.
#[derive(Debug, Deserialize)]
struct Focused {
    /// `tag#id.class "text"`.
    desc: String,
    /// The place of the element in the expected order (see [`HEADER_ORDER`]), or -1.
    index: i64,
    id: String,
    reset: bool,
    /// A visible focus indicator: an outline, or a box shadow.
    indicator: bool,
    outline: String,
    in_view: bool,
}

/// The menu's links a reader expects, in order.
const MENU: [&str; 5] = ["Findings", "Themes", "Sites", "Groups", "All quotes"];

/// The header's focus order: skip link, site title, menu links.
const HEADER_ORDER: &str = "[document.querySelector('a.skip-link'), \
    document.querySelector('a.site-title'), ...document.querySelectorAll('nav.site-nav a')]";

fn focused_js() -> String {
    format!(
        "(() => {{
          const e = document.activeElement;
          if (!e || e === document.body) return null;
          const s = getComputedStyle(e);
          const r = e.getBoundingClientRect();
          const cls = typeof e.className === 'string' && e.className.trim()
            ? '.' + e.className.trim().split(/\\s+/).join('.') : '';
          return {{
            desc: e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + cls + ' \"'
              + (e.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40) + '\"',
            index: {HEADER_ORDER}.indexOf(e),
            id: e.id,
            reset: e.matches('#quote-filter [type=reset]'),
            indicator: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
              || (s.boxShadow !== 'none' && s.boxShadow !== ''),
            outline: s.outlineStyle + ' ' + s.outlineWidth + ' / ' + s.boxShadow,
            in_view: r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0
              && r.right <= innerWidth && r.bottom <= innerHeight,
          }};
        }})()"
    )
}

/// Presses Tab; what has the focus then. Fails when nothing has it, or when it shows
/// no focus indicator.
async fn tab(page: &Page, what: &str) -> Focused {
    press_key(page, TAB).await;
    let focused: Option<Focused> = js(page, &focused_js()).await;
    let f = focused.unwrap_or_else(|| panic!("{what}: Tab left the focus nowhere"));
    assert!(
        f.indicator,
        "{what}: {} has the focus but no visible focus indicator (outline / shadow: {})",
        f.desc, f.outline
    );
    f
}

/// Tab from the top of a page: skip link (visible once focused), site title, then
/// the menu in order.
async fn header_order(page: &Page, what: &str) {
    let n: i64 = js(page, &format!("{HEADER_ORDER}.filter(Boolean).length")).await;
    let nav: Vec<String> = js(
        page,
        "[...document.querySelectorAll('nav.site-nav a')].map(a => a.textContent.trim())",
    )
    .await;
    let mut wanted = MENU.iter();
    let mut next = wanted.next();
    for name in &nav {
        if next == Some(&name.as_str()) {
            next = wanted.next();
        }
    }
    assert!(
        next.is_none(),
        "{what}: the menu is {nav:?}; it must offer {MENU:?} in this order"
    );
    for i in 0..n {
        let f = tab(page, what).await;
        assert_eq!(
            f.index,
            i,
            "{what}: Tab number {} focused {}; expected {}",
            i + 1,
            f.desc,
            ["the skip link a.skip-link", "the site title a.site-title"]
                .get(i as usize)
                .map_or(format!("menu link {}", i - 1), |s| s.to_string())
        );
        if i == 0 {
            wait_js::<Option<Focused>>(
                page,
                &format!("{what}: the focused skip link is inside the viewport"),
                &focused_js(),
                |f| f.as_ref().is_some_and(|f| f.in_view),
            )
            .await;
        }
    }
}

/// Keyboard only: the header's order on the home and a theme page; on the quotes
/// page Tab reaches every filter control, ArrowDown on a select filters, and Enter on
/// the reset button clears.
async fn keyboard(browser: &Browser, example: &Site) {
    let page = new_tab(browser).await;
    for label in ["home", "theme"] {
        let rel = example.page(label);
        goto(&page, &example.http(rel)).await;
        header_order(&page, rel).await;
    }

    let rel = example.page("quotes");
    goto(&page, &example.http(rel)).await;
    let controls: Vec<String> = js(
        &page,
        "['filter-site', 'filter-group', 'filter-theme'].filter(id => document.getElementById(id))",
    )
    .await;
    assert!(
        controls.contains(&"filter-site".to_string())
            && controls.contains(&"filter-group".to_string()),
        "{rel}: the site and group selects are missing; found {controls:?}"
    );
    let mut wanted: Vec<String> = controls.clone();
    wanted.push("reset".into());
    let mut reached = Vec::new();
    let mut seen = Vec::new();
    for _ in 0..200 {
        let f = tab(&page, rel).await;
        seen.push(f.desc.clone());
        let name = if f.reset { "reset".to_string() } else { f.id };
        if wanted.contains(&name) && !reached.contains(&name) {
            reached.push(name);
        }
        if reached.len() == wanted.len() {
            break;
        }
    }
    assert_eq!(
        reached,
        wanted,
        "{rel}: Tab reached {reached:?} of the filter controls, in that order; \
         expected {wanted:?}. Focus went through: {}",
        seen.join(" > ")
    );

    // Operable: ArrowDown on the focused site select chooses the next site.
    js::<bool>(
        &page,
        "document.getElementById('filter-site').focus() ?? true",
    )
    .await;
    press_key(&page, ARROW_DOWN).await;
    let state: (String, String, Vec<String>, usize) = js(
        &page,
        "(() => { const s = document.getElementById('filter-site');
           const shown = [...document.querySelectorAll('#quote-list figure.quote')]
             .filter(f => f.checkVisibility());
           return [s.value, document.getElementById('filter-status')?.textContent.trim() ?? '',
             [...new Set(shown.map(f => f.dataset.site))], shown.length]; })()",
    )
    .await;
    let (value, status, sites, shown) = state;
    let second: String = js(
        &page,
        "document.getElementById('filter-site').options[1]?.value",
    )
    .await;
    assert_eq!(value, second, "{rel}: ArrowDown on the site select");
    assert!(
        sites == [value.clone()]
            && shown > 0
            && status.starts_with("Showing ")
            && !status.contains(" all "),
        "{rel}: after ArrowDown to {value:?} the visible quotes are from {sites:?} ({shown}), \
         status {status:?}"
    );

    // The reset button works from the keyboard too.
    js::<bool>(
        &page,
        "document.querySelector('#quote-filter [type=reset]').focus() ?? true",
    )
    .await;
    press_key(&page, ENTER).await;
    wait_js::<(String, String)>(
        &page,
        &format!("{rel}: Enter on the reset button clears the filter"),
        "[document.getElementById('filter-site').value, \
          document.getElementById('filter-status').textContent.trim()]",
        |(v, s)| v.is_empty() && s.starts_with("Showing all"),
    )
    .await;
    page.close().await.ok();
}

// ---------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------

/// The filter as a reader sees it.
#[derive(Debug, Deserialize, PartialEq)]
struct FilterView {
    /// Visible `figure.quote` in `#quote-list` (rendered), by `data-quote-id`.
    visible: BTreeSet<String>,
    /// Those without a `hidden` attribute on them or an ancestor.
    not_hidden: BTreeSet<String>,
    /// Sections with quotes but none visible that are still visible.
    empty_sections: Vec<String>,
    status: String,
    /// `URLSearchParams` of `location.search`.
    search: BTreeMap<String, String>,
    /// The selects' values, by `name`.
    values: BTreeMap<String, String>,
    form_visible: bool,
}

const FILTER_VIEW: &str = "(() => {
  const quotes = [...document.querySelectorAll('#quote-list figure.quote')];
  const sections = [...document.querySelectorAll('#quote-list section, #quote-list .quote-section')];
  const form = document.getElementById('quote-filter');
  return {
    visible: [...new Set(quotes.filter(f => f.checkVisibility()).map(f => f.dataset.quoteId))],
    not_hidden: [...new Set(quotes.filter(f => !f.closest('[hidden]')).map(f => f.dataset.quoteId))],
    empty_sections: sections
      .filter(s => s.querySelector('figure.quote') && s.checkVisibility()
        && ![...s.querySelectorAll('figure.quote')].some(f => f.checkVisibility()))
      .map(s => s.id || s.getAttribute('aria-labelledby') || s.className),
    status: document.getElementById('filter-status')?.textContent.trim() ?? '',
    search: Object.fromEntries(new URLSearchParams(location.search)),
    values: Object.fromEntries([...document.querySelectorAll('#quote-filter select')]
      .map(s => [s.name, s.value])),
    form_visible: !!form && form.checkVisibility(),
  };
})()";

/// What `#filter-status` says: `Showing N of M quotes` when a filter is set,
/// `Showing all M quotes` otherwise.
fn status_text(shown: usize, total: usize, filtered: bool) -> String {
    let s = if total == 1 { "" } else { "s" };
    if filtered {
        format!("Showing {shown} of {total} quote{s}")
    } else {
        format!("Showing all {total} quote{s}")
    }
}

fn ids(quotes: &[Quote]) -> BTreeSet<String> {
    quotes.iter().map(|q| q.id.clone()).collect()
}

async fn filter_view(page: &Page) -> FilterView {
    js(page, FILTER_VIEW).await
}

/// Checks the page shows exactly `expected` out of `total` quotes, with the right
/// status, no empty section left visible, and `hidden` as the way quotes are hidden.
#[track_caller]
fn assert_shows(view: &FilterView, expected: &BTreeSet<String>, total: usize, what: &str) {
    let missing: Vec<_> = expected.difference(&view.visible).collect();
    let extra: Vec<_> = view.visible.difference(expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: visible quotes differ from the study's: missing {missing:?}, extra {extra:?}"
    );
    assert_eq!(
        view.not_hidden, view.visible,
        "{what}: the quotes without a `hidden` attribute are not the visible ones"
    );
    assert!(
        view.empty_sections.is_empty(),
        "{what}: sections without a visible quote still show: {:?}",
        view.empty_sections
    );
    let filtered = view.values.values().any(|v| !v.is_empty());
    assert_eq!(
        view.status,
        status_text(expected.len(), total, filtered),
        "{what}: #filter-status (selects: {:?})",
        view.values
    );
}

/// Site and group filters on the quotes page (over HTTP, then reloaded from the
/// URL); a subtheme filter on theme pages with subthemes; and from `file://`.
async fn filters(browser: &Browser, example: &Site, riverside: &Site) {
    let page = new_tab(browser).await;
    let quotes = example.quotes();
    let total = ids(&quotes).len();
    let rel = example.page("quotes");
    let url = example.http(rel);
    goto(&page, &url).await;

    let start = filter_view(&page).await;
    assert!(start.form_visible, "{rel}: the filter form is not shown");
    assert_shows(
        &start,
        &ids(&quotes),
        total,
        &format!("{rel} before filtering"),
    );
    let firsts: Vec<String> = js(
        &page,
        "[...document.querySelectorAll('#quote-filter select')].map(s => s.options[0]?.value ?? 'none')",
    )
    .await;
    assert!(
        firsts.iter().all(|v| v.is_empty()),
        "{rel}: the first option of every select must be \"\" (all): {firsts:?}"
    );

    // The (site, group) with the most quotes: a strict, non-empty part of the list.
    let mut pairs: BTreeMap<(String, String), usize> = BTreeMap::new();
    for q in &quotes {
        *pairs.entry((q.site.clone(), q.group.clone())).or_default() += 1;
    }
    let ((site, group), _) = pairs
        .iter()
        .max_by_key(|(k, n)| (**n, std::cmp::Reverse((*k).clone())))
        .map(|(k, n)| (k.clone(), *n))
        .unwrap();
    let expected: BTreeSet<String> = quotes
        .iter()
        .filter(|q| q.site == site && q.group == group)
        .map(|q| q.id.clone())
        .collect();
    assert!(
        expected.len() < total,
        "the example has one site and group only"
    );

    choose(&page, "site", &site).await;
    choose(&page, "group", &group).await;
    let what = format!("{rel} filtered to site={site}, group={group}");
    let view = filter_view(&page).await;
    assert_shows(&view, &expected, total, &what);
    assert_eq!(
        (view.search.get("site"), view.search.get("group")),
        (Some(&site), Some(&group)),
        "{what}: location.search is {:?}",
        view.search
    );

    // The URL is the filtered view: open it again.
    let shared: String = js(&page, "location.href").await;
    assert!(shared.starts_with(&url), "{what}: the URL became {shared}");
    goto(&page, &shared).await;
    let again = filter_view(&page).await;
    assert_eq!(
        (again.values.get("site"), again.values.get("group")),
        (Some(&site), Some(&group)),
        "{shared}: the selects after loading the URL"
    );
    assert_shows(&again, &expected, total, &format!("{shared} loaded again"));

    // Unknown values in the URL are ignored.
    goto(&page, &format!("{url}?site=nowhere&group={group}")).await;
    let unknown = filter_view(&page).await;
    let group_only: BTreeSet<String> = quotes
        .iter()
        .filter(|q| q.group == group)
        .map(|q| q.id.clone())
        .collect();
    assert_eq!(
        unknown.values.get("site").map(String::as_str),
        Some(""),
        "?site=nowhere"
    );
    assert_shows(&unknown, &group_only, total, "?site=nowhere&group=..");

    // A subtheme on a theme page: the quotes tagged with it or its descendants.
    for site in [example, riverside] {
        let theme = theme_with_subthemes(&site.facts);
        let subs = children(&site.facts, &theme);
        // The subtheme with subthemes of its own, else the one with most quotes.
        let sub = subs
            .iter()
            .max_by_key(|s| {
                (
                    !children(&site.facts, s).is_empty(),
                    site.facts.quotes_of_theme(s, false).len(),
                )
            })
            .unwrap()
            .clone();
        let of_theme = ids(&site.facts.quotes_of_theme(&theme, false));
        let of_sub = ids(&site.facts.quotes_of_theme(&sub, false));
        let rel = format!("themes/{theme}/index.html");
        goto(&page, &site.http(&rel)).await;
        let what = format!("{} {rel} filtered to theme={sub}", site.name);
        assert_shows(&filter_view(&page).await, &of_theme, of_theme.len(), &rel);
        choose(&page, "theme", &sub).await;
        let view = filter_view(&page).await;
        assert_shows(&view, &of_sub, of_theme.len(), &what);
        assert_eq!(
            view.search.get("theme"),
            Some(&sub),
            "{what}: location.search"
        );
    }

    // From disk the filter works too. Chromium lets a file:// page replace its URL
    // with another query of the same file (if it ever refuses, thematic.js must catch
    // the error, and only the filtering itself would be asserted here).
    let rel = example.page("quotes");
    goto(&page, &example.file(rel)).await;
    choose(&page, "site", &site).await;
    let what = format!("file:// {rel} filtered to site={site}");
    let view = filter_view(&page).await;
    let of_site: BTreeSet<String> = quotes
        .iter()
        .filter(|q| q.site == site)
        .map(|q| q.id.clone())
        .collect();
    assert_shows(&view, &of_site, total, &what);
    assert_eq!(
        view.search.get("site"),
        Some(&site),
        "{what}: location.search"
    );
    page.close().await.ok();
}

// ---------------------------------------------------------------------------
// Copy link
// ---------------------------------------------------------------------------

/// Every quote has a "copy link" button with a name that says which quote; clicking
/// it puts the quote's URL in the clipboard and says so to screen readers.
async fn copy_link(browser: &Browser, example: &Site) {
    let page = new_tab(browser).await;
    for name in ["clipboard-read", "clipboard-write"] {
        browser
            .execute(
                SetPermissionParams::builder()
                    .permission(PermissionDescriptor::new(name))
                    .setting(PermissionSetting::Granted)
                    .origin(example.server.origin())
                    .build()
                    .unwrap(),
            )
            .await
            .unwrap_or_else(|e| panic!("grant {name}: {e}"));
    }

    for label in ["theme", "finding"] {
        let rel = example.page(label);
        let url = example.http(rel);
        goto(&page, &url).await;
        let figures: Vec<(String, String, String, bool)> = js(
            &page,
            "[...document.querySelectorAll('figure.quote')].map(f => [f.id, f.dataset.quoteId,
               f.querySelector('a.permalink')?.href ?? '',
               f.querySelectorAll(':scope > figcaption button.copy-link').length === 1])",
        )
        .await;
        assert!(!figures.is_empty(), "{rel}: no quotes");
        let without: Vec<&String> = figures.iter().filter(|f| !f.3).map(|f| &f.1).collect();
        assert!(
            without.is_empty(),
            "{rel}: quotes without exactly one figcaption button.copy-link: {without:?}"
        );
        let names = accessible_names(&page, "figure.quote figcaption button.copy-link").await;
        for ((_, id, _, _), (name, _)) in figures.iter().zip(&names) {
            assert_eq!(
                name,
                &format!("Copy link to quote {id}"),
                "{rel}: the accessible name of quote {id}'s copy button"
            );
        }

        // In a list, the page's own URL and the anchor; embedded in prose (a
        // finding), the quote's permalink. Click the first, middle and last.
        let in_list: Vec<bool> = js(
            &page,
            "[...document.querySelectorAll('figure.quote')].map(f => !!f.closest('#quote-list'))",
        )
        .await;
        let n = figures.len();
        let mut picks = vec![0, n / 2, n - 1];
        picks.dedup();
        for i in picks {
            let (anchor, id, permalink, _) = &figures[i];
            let expected = if in_list[i] {
                format!("{}#{anchor}", url.split('#').next().unwrap())
            } else {
                permalink.clone()
            };
            let buttons = page
                .find_elements("figure.quote figcaption button.copy-link")
                .await
                .unwrap();
            buttons[i]
                .click()
                .await
                .unwrap_or_else(|e| panic!("{rel}: click quote {id}'s copy button: {e}"));
            let what = format!("{rel}: after clicking quote {id}'s copy button");
            let (clip, said): (String, String) = wait_js(
                &page,
                &format!("{what}, the clipboard holds {expected}"),
                "Promise.all([navigator.clipboard.readText(), \
                  document.getElementById('thematic-announce')?.textContent.trim() ?? ''])",
                |(clip, said): &(String, String)| *clip == expected && said == "Link copied",
            )
            .await;
            assert_eq!(
                (clip.as_str(), said.as_str()),
                (expected.as_str(), "Link copied"),
                "{what}"
            );
        }
    }
    page.close().await.ok();
}

// ---------------------------------------------------------------------------
// Without JavaScript
// ---------------------------------------------------------------------------

/// With JavaScript off, the quotes page shows every quote and no filter form (it
/// could do nothing).
async fn no_javascript(browser: &Browser, example: &Site) {
    let page = new_tab(browser).await;
    page.execute(SetScriptExecutionDisabledParams::new(true))
        .await
        .expect("disable JavaScript");
    let rel = example.page("quotes");
    goto(&page, &example.http(rel)).await;
    let ran: bool = js(&page, "document.querySelectorAll('.copy-link').length > 0").await;
    assert!(
        !ran,
        "{rel}: the page script ran although JavaScript is off"
    );
    let view = filter_view(&page).await;
    assert!(
        !view.form_visible,
        "{rel}: the filter form shows without JavaScript"
    );
    let all = ids(&example.quotes());
    let hidden: Vec<_> = all.difference(&view.visible).collect();
    assert!(
        hidden.is_empty(),
        "{rel}: quotes not shown without JavaScript: {hidden:?}"
    );
    page.close().await.ok();
}

// ---------------------------------------------------------------------------
// Small screens
// ---------------------------------------------------------------------------

/// At 320 and 375 px wide, as on a phone, no page scrolls sideways; wide tables
/// scroll inside their own `.table-scroll` region.
async fn responsive(browser: &Browser, example: &Site) {
    let mut problems = Vec::new();
    for width in [320, 375] {
        let page = new_tab(browser).await;
        set_viewport(&page, width, 740, true).await;
        for label in ["home", "theme", "quotes"] {
            let rel = example.page(label);
            goto(&page, &example.http(rel)).await;
            let (scroll, inner, culprits): (i64, i64, Vec<String>) = js(
                &page,
                "(() => {
                  const w = document.documentElement.clientWidth;
                  const out = [];
                  for (const e of document.body.querySelectorAll('*')) {
                    if (e.closest('.table-scroll') && !e.matches('.table-scroll')) continue;
                    const r = e.getBoundingClientRect();
                    if (r.width > 0 && r.right > w + 0.5) {
                      out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                        + (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\\s+/).join('.') : '')
                        + ' right=' + Math.round(r.right));
                      if (out.length === 5) break;
                    }
                  }
                  return [document.documentElement.scrollWidth, innerWidth, out];
                })()",
            )
            .await;
            if scroll > width || inner != width {
                problems.push(format!(
                    "{rel} at {width} px: scrollWidth {scroll}, innerWidth {inner}; \
                     wider than the screen: {}",
                    culprits.join(", ")
                ));
            }
        }
        page.close().await.ok();
    }
    assert!(
        problems.is_empty(),
        "pages scroll sideways:\n{}",
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------
// Screenshots
// ---------------------------------------------------------------------------

/// Screenshots of the home, a theme and the search page at 1280 and 375 px wide, for
/// a reviewer (not compared pixel by pixel): the whole page in
/// `$CARGO_TARGET_TMPDIR/screenshots/`. `THEMATIC_UPDATE_SCREENSHOTS=1` also writes
/// the top of each page (what a reader sees first) to `docs/screenshots/`.
async fn screenshots(browser: &Browser, example: &Site) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    fs::create_dir_all(&dir).unwrap();
    let update = std::env::var("THEMATIC_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1");
    let docs = repo_root().join("docs/screenshots");
    for (name, rel) in [
        ("home", "index.html"),
        ("theme", "themes/barriers/index.html"),
        ("quotes", "quotes/index.html?site=kampala&group=low"),
        ("search", "search/index.html?q=phone"),
    ] {
        for (width, mobile) in [(1280, false), (375, true)] {
            let page = new_tab(browser).await;
            set_viewport(&page, width, if mobile { 740 } else { 800 }, mobile).await;
            goto(&page, &example.http(rel)).await;
            let height: f64 = js(
                &page,
                "document.fonts.ready.then(() => new Promise(r => setTimeout(r, 300)))
                   .then(() => document.documentElement.scrollHeight)",
            )
            .await;
            let shot = |height: f64| {
                ScreenshotParams::builder()
                    .format(CaptureScreenshotFormat::Png)
                    .clip(chromiumoxide::cdp::browser_protocol::page::Viewport {
                        x: 0.0,
                        y: 0.0,
                        width: width as f64,
                        height,
                        scale: 1.0,
                    })
                    .capture_beyond_viewport(true)
                    .build()
            };
            let png = page
                .screenshot(shot(height))
                .await
                .unwrap_or_else(|e| panic!("screenshot of {rel} at {width} px: {e}"));
            assert!(png.starts_with(b"\x89PNG"), "{rel}: not a PNG");
            let file = format!("{name}-{width}.png");
            let path = dir.join(&file);
            fs::write(&path, &png).unwrap();
            eprintln!("screenshot: {}", path.display());
            if update {
                let top = height.min(if mobile { 1400.0 } else { 1100.0 });
                let png = page
                    .screenshot(shot(top))
                    .await
                    .unwrap_or_else(|e| panic!("screenshot of {rel} at {width} px: {e}"));
                fs::create_dir_all(&docs).unwrap();
                fs::write(docs.join(&file), &png).unwrap();
                eprintln!("screenshot: {}", docs.join(&file).display());
            }
            page.close().await.ok();
        }
    }
}

// ---------------------------------------------------------------------------
// Charts
// ---------------------------------------------------------------------------

/// Finds `label` in `text` with `number` as the first number after it, or the last
/// one before it, close by: "Kampala: 3 participants", "3 in Kampala".
fn says(text: &str, label: &str, number: usize) -> bool {
    let digits = |s: &str, last: bool| -> Option<usize> {
        let runs: Vec<&str> = s
            .split(|c: char| !c.is_ascii_digit())
            .filter(|r| !r.is_empty())
            .collect();
        let run = if last { runs.last() } else { runs.first() }?;
        run.parse().ok()
    };
    text.match_indices(label).any(|(i, _)| {
        let after: String = text[i + label.len()..].chars().take(40).collect();
        let before: String = {
            let b: Vec<char> = text[..i].chars().collect();
            b[b.len().saturating_sub(20)..].iter().collect()
        };
        digits(&after, false) == Some(number) || digits(&before, true) == Some(number)
    })
}

/// Theme pages: two `figure.chart` with an inline `svg role=img` whose accessible
/// name or description gives each site's and group's count of participants, as the
/// study's data has them.
async fn charts(browser: &Browser, example: &Site) {
    let page = new_tab(browser).await;
    let facts = &example.facts;
    let mut problems = Vec::new();
    for theme in facts.published_themes(false) {
        let rel = format!("themes/{theme}/index.html");
        goto(&page, &example.file(&rel)).await;
        let (figures, declared): (usize, Vec<bool>) = js(
            &page,
            "[document.querySelectorAll('figure.chart').length,
              [...document.querySelectorAll('figure.chart svg[role=img]')].map(s =>
                (s.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean)
                  .some(id => document.getElementById(id)?.textContent.trim())
                || !!s.querySelector(':scope > title')?.textContent.trim())]",
        )
        .await;
        if figures < 2 || declared.len() < figures {
            problems.push(format!(
                "{rel}: {figures} figure.chart and {} svg[role=img] in them, expected 2 and 2",
                declared.len()
            ));
            continue;
        }
        if declared.iter().any(|d| !d) {
            problems.push(format!(
                "{rel}: a chart's svg has neither aria-labelledby to text nor a <title>"
            ));
        }
        let names = accessible_names(&page, "figure.chart svg[role=img]").await;
        if names.iter().any(|(n, _)| n.is_empty()) {
            problems.push(format!("{rel}: a chart has no accessible name: {names:?}"));
        }
        let alternative: String = names.iter().map(|(n, d)| format!("{n}\n{d}\n")).collect();

        // Participants per site and per group, from the study files.
        let quotes = facts.quotes_of_theme(&theme, false);
        let mut per_site: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut per_group: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for q in &quotes {
            per_site
                .entry(q.site.clone())
                .or_default()
                .insert(q.participant.clone());
            per_group
                .entry(q.group.clone())
                .or_default()
                .insert(q.participant.clone());
        }
        let expected = per_site
            .iter()
            .map(|(s, p)| (example.title_of(&facts.sites, s), p.len()))
            .chain(
                per_group
                    .iter()
                    .map(|(g, p)| (example.title_of(&facts.groups, g), p.len())),
            );
        let missing: Vec<String> = expected
            .filter(|(label, n)| !says(&alternative, label, *n))
            .map(|(label, n)| format!("{label}: {n}"))
            .collect();
        if !missing.is_empty() {
            let said: String = alternative.replace('\n', " ").chars().take(300).collect();
            problems.push(format!(
                "{rel}: the charts' accessible names and descriptions lack {missing:?}; they say: {said}"
            ));
        }
    }
    page.close().await.ok();
    assert!(
        problems.is_empty(),
        "{} problem(s) with charts:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn says_finds_numbers_next_to_labels() {
    assert!(says(
        "Ulm, Germany: 3 participants; Pune: 12",
        "Ulm, Germany",
        3
    ));
    assert!(says("Ulm, Germany: 3 participants; Pune: 12", "Pune", 12));
    assert!(says("4 in Kampala", "Kampala", 4));
    assert!(!says("Ulm: 13", "Ulm", 3));
    assert!(!says("Hamburg: no participants", "Hamburg", 2));
}

// ---------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn reader_experience_in_headless_chromium() {
    let start = Instant::now();
    let (example, riverside) = std::thread::scope(|s| {
        let r = s.spawn(|| Site::build("riverside", TestStudy::fixture("riverside")));
        let e = Site::build("example", TestStudy::example());
        (e, r.join().unwrap())
    });
    eprintln!("built both sites in {:.1?}", start.elapsed());
    let (browser, driver, _profile) = launch().await;

    let mut failures = Vec::new();
    let f = &mut failures;
    scenario("axe", axe(&browser, &example, &riverside), f).await;
    scenario(
        "console and network",
        console_and_network(&browser, &example),
        f,
    )
    .await;
    scenario("keyboard", keyboard(&browser, &example), f).await;
    scenario("filters", filters(&browser, &example, &riverside), f).await;
    scenario("copy link", copy_link(&browser, &example), f).await;
    scenario("no javascript", no_javascript(&browser, &example), f).await;
    scenario("responsive", responsive(&browser, &example), f).await;
    scenario("screenshots", screenshots(&browser, &example), f).await;
    scenario("charts", charts(&browser, &example), f).await;

    browser::close(browser, driver).await;
    eprintln!("reader scenarios done in {:.1?}", start.elapsed());
    assert!(
        failures.is_empty(),
        "{} reader scenario(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
