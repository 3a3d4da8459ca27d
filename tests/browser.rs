//! `thematic serve` in a real browser: headless Chromium (Debian's
//! `/usr/bin/chromium`, which `scripts/test` installs) driven over the DevTools
//! protocol by chromiumoxide.
//!
//! One browser serves every scenario, one after the other, each with its own study,
//! server and tab: a page reloads by itself after an edit, the error overlay comes
//! and goes, and a stylesheet is swapped without a reload. All scenarios run even
//! when one fails; the test then fails naming them.

#[path = "common/browser.rs"]
mod browser;
mod common;

use chromiumoxide::{Browser, Page};

use browser::{eval, launch, scenario, wait_js};
use common::server::ServeProcess;
use common::*;

/// The quotes file of `tests/fixtures/minimal`, and quote `a-01` in it.
const QUOTES: &str = "content/quotes/main.yaml";
const OLD: &str = "They listened to me.";
const NEW: &str = "They listened, and the browser saw it.";

/// The text of quote `a-01` on the page, or null.
const QUOTE_TEXT: &str =
    r#"document.querySelector('[data-quote-id="a-01"] blockquote')?.textContent.trim() ?? null"#;

/// The overlay's text, or null when there is none.
const OVERLAY_TEXT: &str = "document.getElementById('thematic-errors')?.textContent ?? null";

/// Runs before any script of every document in a tab: keeps each EventSource the page
/// opens in `window.__thematicSources`, so the test can wait until live.js is
/// connected before it edits a file. It wraps the constructor without changing it.
const TRACK_EVENT_SOURCES: &str = r#"(() => {
  const Native = window.EventSource;
  const sources = [];
  window.__thematicSources = sources;
  function Tracked(url, options) {
    const source = new Native(url, options);
    sources.push(source);
    return source;
  }
  Tracked.prototype = Native.prototype;
  Object.assign(Tracked, { CONNECTING: 0, OPEN: 1, CLOSED: 2 });
  window.EventSource = Tracked;
})();"#;

/// Waits until the page's live-reload script is connected to the event stream.
async fn wait_live(page: &Page) {
    wait_js::<bool>(
        page,
        "live.js has connected to /__thematic/events",
        "window.__thematicSources?.length > 0 && \
         window.__thematicSources.every(s => s.readyState === 1)",
        |open| *open,
    )
    .await;
}

/// A new tab on `url`, with the live-reload script connected.
async fn open(browser: &Browser, url: &str) -> Page {
    let page = browser.new_page("about:blank").await.expect("open a tab");
    page.evaluate_on_new_document(TRACK_EVENT_SOURCES)
        .await
        .expect("add the EventSource tracker");
    page.goto(url)
        .await
        .unwrap_or_else(|e| panic!("open {url}: {e}"));
    wait_live(&page).await;
    page
}

/// Edit a quote: the open page shows the new text without the test navigating.
async fn live_reload(browser: &Browser) {
    let study = TestStudy::fixture("minimal");
    let serve = ServeProcess::start(study.dir(), &[]);
    let url = format!("{}themes/care/", serve.url);
    let page = open(browser, &url).await;

    let shown: Option<String> = eval(&page, QUOTE_TEXT).await.unwrap();
    assert_eq!(shown.as_deref(), Some(OLD), "the quote as first served");
    // Survives only as long as this document does.
    eval::<i32>(&page, "window.__marker = 1").await.unwrap();

    study.edit(QUOTES, OLD, NEW);
    let reloaded: (Option<String>, bool) = wait_js(
        &page,
        "the page shows the new quote text",
        &format!("[{QUOTE_TEXT}, window.__marker === 1]"),
        |(text, _): &(Option<String>, bool)| text.as_deref() == Some(NEW),
    )
    .await;
    assert!(
        !reloaded.1,
        "the text changed but the document did not reload"
    );
    assert_eq!(page.url().await.unwrap().as_deref(), Some(url.as_str()));
    // It keeps listening after the reload: a second edit comes through too.
    wait_live(&page).await;
    study.edit(QUOTES, NEW, "A second edit.");
    wait_js::<Option<String>>(&page, "the second edit shows", QUOTE_TEXT, |t| {
        t.as_deref() == Some("A second edit.")
    })
    .await;
    page.close().await.ok();
}

/// Break the quotes file: the overlay shows the error; fix it: the overlay goes.
async fn error_overlay(browser: &Browser) {
    let study = TestStudy::fixture("minimal");
    let serve = ServeProcess::start(study.dir(), &[]);
    let page = open(browser, &format!("{}themes/care/", serve.url)).await;
    let none: Option<String> = eval(&page, OVERLAY_TEXT).await.unwrap();
    assert_eq!(none, None, "an overlay on a good site");

    let original = study.read(QUOTES);
    let broken = original.replacen("site: alpha", "site: nowhere", 1);
    let arrow = format!("{QUOTES}:{}", line_of(&broken, "site: nowhere"));
    study.write(QUOTES, &broken);
    let overlay: Option<String> = wait_js(
        &page,
        "the overlay shows the error",
        OVERLAY_TEXT,
        |t: &Option<String>| t.as_deref().is_some_and(|t| t.contains(&arrow)),
    )
    .await;
    assert!(
        overlay.as_deref().unwrap().contains("nowhere"),
        "{overlay:?}"
    );
    let shown: Option<String> = eval(&page, QUOTE_TEXT).await.unwrap();
    assert_eq!(shown.as_deref(), Some(OLD), "the last good page stays");

    // A page opened while the study is broken shows the overlay too.
    let other = open(browser, &serve.url).await;
    wait_js(
        &other,
        "a newly opened page shows the overlay",
        OVERLAY_TEXT,
        |t: &Option<String>| t.as_deref().is_some_and(|t| t.contains(&arrow)),
    )
    .await;

    // Fixed as it was: the overlay goes on both pages.
    study.write(QUOTES, &original);
    for p in [&page, &other] {
        wait_js(
            p,
            "the overlay is gone",
            OVERLAY_TEXT,
            |t: &Option<String>| t.is_none(),
        )
        .await;
    }

    // Broken again, then fixed with new text: the page reloads, without an overlay.
    study.write(QUOTES, &broken);
    wait_js(
        &page,
        "the overlay is back",
        OVERLAY_TEXT,
        |t: &Option<String>| t.is_some(),
    )
    .await;
    study.write(QUOTES, original.replace(OLD, NEW));
    wait_js(
        &page,
        "the new text shows without an overlay",
        &format!("[{QUOTE_TEXT}, {OVERLAY_TEXT}]"),
        |(text, overlay): &(Option<String>, Option<String>)| {
            text.as_deref() == Some(NEW) && overlay.is_none()
        },
    )
    .await;
    other.close().await.ok();
    page.close().await.ok();
}

/// Edit the site theme's stylesheet: the new style applies without a reload.
async fn css_swap(browser: &Browser) {
    let study = TestStudy::fixture("minimal");
    let css_path = "themes/default/static/style.css";
    let css = std::fs::read_to_string(repo_root().join(css_path)).unwrap();
    study.write(css_path, &css);
    let serve = ServeProcess::start(study.dir(), &[]);
    let page = open(browser, &serve.url).await;

    let outline = "[getComputedStyle(document.body).outlineColor, \
                   getComputedStyle(document.body).outlineWidth, \
                   getComputedStyle(document.body).outlineStyle, \
                   window.__marker === 1]";
    let before: (String, String, String, bool) = eval(&page, outline).await.unwrap();
    assert_ne!(
        before.0, "rgb(1, 2, 3)",
        "the marker style is already there"
    );
    eval::<i32>(&page, "window.__marker = 1").await.unwrap();

    study.write(
        css_path,
        format!("{css}\nbody{{outline:7px solid rgb(1, 2, 3)}}\n"),
    );
    let after: (String, String, String, bool) = wait_js(
        &page,
        "the new style applies",
        outline,
        |(color, width, style, _): &(String, String, String, bool)| {
            color == "rgb(1, 2, 3)" && width == "7px" && style == "solid"
        },
    )
    .await;
    assert!(
        after.3,
        "the page reloaded: a CSS change must only swap the stylesheet"
    );
    page.close().await.ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn live_preview_in_headless_chromium() {
    let (browser, driver, _profile) = launch().await;

    let mut failures = Vec::new();
    scenario("live reload", live_reload(&browser), &mut failures).await;
    scenario("error overlay", error_overlay(&browser), &mut failures).await;
    scenario("css swap", css_swap(&browser), &mut failures).await;

    browser::close(browser, driver).await;
    assert!(
        failures.is_empty(),
        "{} browser scenario(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
