//! `thematic build` on valid studies: the example study at the repository root and the
//! independent `riverside` fixture. Checks the page set, links and anchors, quotes on
//! every page, escaping, drafts, cross-references, embeds and determinism.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::Path;

use common::facts::Facts;
use common::*;

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Reads every page of an output folder once.
struct Site {
    pages: BTreeMap<String, String>,
}

impl Site {
    fn load(out: &Path) -> Site {
        Site {
            pages: html_files(out)
                .into_iter()
                .map(|p| {
                    let html = read_page(out, &p);
                    (p, html)
                })
                .collect(),
        }
    }

    #[track_caller]
    fn page(&self, rel: &str) -> &str {
        self.pages
            .get(rel)
            .unwrap_or_else(|| panic!("no page {rel}"))
    }

    /// The quote ids shown on a page as quotes (embeds in Markdown bodies excluded).
    fn listed_quotes(&self, rel: &str) -> BTreeSet<String> {
        tags(self.page(rel))
            .into_iter()
            .filter(|t| !t.has_class("quote-embed"))
            .filter_map(|t| t.attr("data-quote-id").map(str::to_string))
            .collect()
    }
}

/// The `href` of the first `<a>` on `page` with `rel="REL"`.
fn rel_link(html: &str, rel: &str) -> Option<String> {
    tags(html)
        .into_iter()
        .find(|t| t.name == "a" && t.attr("rel") == Some(rel))
        .and_then(|t| t.attr("href").map(str::to_string))
}

/// Resolves a relative href found on `page` to a site path (fragment dropped).
fn resolve(page: &str, href: &str) -> String {
    let path = href.split('#').next().unwrap();
    let mut parts: Vec<&str> = page.split('/').collect();
    parts.pop();
    for seg in path.split('/') {
        match seg {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// Everything a complete build of a valid study must satisfy, checked against an
/// independent reading of its content ([`Facts`]).
#[track_caller]
fn assert_complete_site(study: &TestStudy, out: &Path, run: &Run, drafts: bool) {
    run.assert_ok();
    let facts = study.facts();

    // The page set, exactly.
    let pages = html_files(out);
    let expected = facts.expected_pages(drafts);
    let missing: Vec<_> = expected.difference(&pages).collect();
    let extra: Vec<_> = pages.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "page set differs: missing {missing:?}, unexpected {extra:?}"
    );
    for f in list_files(out) {
        assert!(
            f.ends_with(".html")
                || f == ".thematic-output"
                || f == "sitemap.xml"
                || f == "CITATION.cff"
                || f.starts_with("static/")
                || f.starts_with("search/")
                || f.starts_with("data/"),
            "unexpected output file {f}"
        );
    }
    assert!(
        out.join(".thematic-output").is_file(),
        "marker file missing"
    );
    assert!(out.join("static/style.css").is_file());

    // The summary line.
    let summary = run
        .stdout
        .lines()
        .find(|l| l.starts_with("Built "))
        .unwrap_or_else(|| panic!("no summary line\n{run}"));
    let quotes = facts.published_quotes(drafts);
    let (top, sub) = facts.theme_counts(drafts);
    for part in [
        format!("Built {} (", plural(pages.len(), "page")),
        format!("{}, ", plural(list_files(out).len() - 1, "file")),
        ") from ".to_string(),
        format!("{} ({})", plural(top, "theme"), plural(sub, "subtheme")),
        plural(facts.published_sites(drafts).len(), "site"),
        plural(facts.published_groups(drafts).len(), "group"),
        plural(quotes.len(), "quote"),
        " ms -> ".to_string(),
    ] {
        assert!(summary.contains(&part), "summary lacks {part:?}: {summary}");
    }

    // Links and anchors.
    assert_links_ok(out);

    let site = Site::load(out);
    assert_reachable(&site);
    assert_quotes(&site, &facts, drafts);
    assert_findings_pager(&site, &facts, drafts);

    // The home matrix links every theme-by-site page; the lists link their pages.
    let home_targets: BTreeSet<String> = links(site.page("index.html"))
        .iter()
        .map(|h| resolve("index.html", h))
        .collect();
    for (t, s) in facts.theme_site_pairs(drafts) {
        let p = format!("themes/{t}/{s}/index.html");
        assert!(home_targets.contains(&p), "home matrix lacks a link to {p}");
    }
    for (list, ids, prefix) in [
        (
            "themes/index.html",
            facts.published_themes(drafts),
            "themes",
        ),
        ("sites/index.html", facts.published_sites(drafts), "sites"),
        (
            "groups/index.html",
            facts.published_groups(drafts),
            "groups",
        ),
        (
            "findings/index.html",
            facts
                .findings_in_order(drafts)
                .into_iter()
                .map(|f| f.id)
                .collect(),
            "findings",
        ),
    ] {
        let targets: BTreeSet<String> = links(site.page(list))
            .iter()
            .map(|h| resolve(list, h))
            .collect();
        for id in ids {
            let p = format!("{prefix}/{id}/index.html");
            assert!(targets.contains(&p), "{list} lacks a link to {p}");
        }
    }
}

/// Every page but 404.html can be reached from the home page by following links
/// (and the search form, which leads to the search page).
#[track_caller]
fn assert_reachable(site: &Site) {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue = VecDeque::from(["index.html".to_string()]);
    while let Some(p) = queue.pop_front() {
        if !seen.insert(p.clone()) {
            continue;
        }
        let Some(html) = site.pages.get(&p) else {
            continue;
        };
        let forms = tags(html)
            .into_iter()
            .filter(|t| t.name == "form")
            .filter_map(|t| t.attr("action").map(str::to_string));
        for h in links(html).into_iter().chain(forms) {
            if h.starts_with("http") || h.starts_with('#') || h.starts_with("mailto:") {
                continue;
            }
            let target = resolve(&p, &h);
            if site.pages.contains_key(&target) && !seen.contains(&target) {
                queue.push_back(target);
            }
        }
    }
    let unreachable: Vec<_> = site
        .pages
        .keys()
        .filter(|p| *p != "404.html" && !seen.contains(*p))
        .collect();
    assert!(
        unreachable.is_empty(),
        "pages not reachable from index.html: {unreachable:?}"
    );
}

/// Quotes: on the right pages, exactly, with their data attributes, anchor and
/// attribution; left-out quotes nowhere.
#[track_caller]
fn assert_quotes(site: &Site, facts: &Facts, drafts: bool) {
    let published = facts.quote_map(drafts);
    for (page, html) in &site.pages {
        for t in tags(html) {
            let Some(id) = t.attr("data-quote-id") else {
                continue;
            };
            let q = published
                .get(id)
                .unwrap_or_else(|| panic!("{page}: unpublished quote {id} shown"));
            assert_eq!(t.attr("data-site"), Some(q.site.as_str()), "{page}: {id}");
            assert_eq!(t.attr("data-group"), Some(q.group.as_str()), "{page}: {id}");
            // Its themes and their ancestors: a filter by a theme finds its subthemes' quotes.
            let want: BTreeSet<String> = q.themes.iter().flat_map(|t| facts.lineage(t)).collect();
            let got: BTreeSet<String> = t
                .attr("data-themes")
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_string)
                .collect();
            assert_eq!(got, want, "{page}: data-themes of {id}");
            let anchor = t
                .attr("id")
                .unwrap_or_else(|| panic!("{page}: quote {id} has no anchor id"));
            assert!(
                anchor == format!("q-{id}") || anchor.starts_with(&format!("q-{id}-")),
                "{page}: quote {id} has anchor {anchor}"
            );
            let el = element_at(html, t.offset);
            assert!(
                el.contains(&html_escape(&q.participant)),
                "{page}: quote {id} does not show participant {}",
                q.participant
            );
            let targets: BTreeSet<String> = links(el).iter().map(|h| resolve(page, h)).collect();
            for p in [
                format!("sites/{}/index.html", q.site),
                format!("groups/{}/index.html", q.group),
            ] {
                assert!(targets.contains(&p), "{page}: quote {id} does not link {p}");
            }
        }
    }

    let all: BTreeSet<String> = published.keys().cloned().collect();
    assert_eq!(
        site.listed_quotes("quotes/index.html"),
        all,
        "quotes/index.html must list every published quote"
    );
    let on_quotes_page = tags(site.page("quotes/index.html"))
        .into_iter()
        .filter(|t| t.attr("data-quote-id").is_some())
        .count();
    assert_eq!(
        on_quotes_page,
        all.len(),
        "each quote once on quotes/index.html"
    );

    for t in facts.published_themes(drafts) {
        let want: BTreeSet<String> = facts
            .quotes_of_theme(&t, drafts)
            .into_iter()
            .map(|q| q.id)
            .collect();
        let page = format!("themes/{t}/index.html");
        assert_eq!(site.listed_quotes(&page), want, "quotes on {page}");
        for s in facts.published_sites(drafts) {
            let here: BTreeSet<String> = facts
                .quotes_of_theme(&t, drafts)
                .into_iter()
                .filter(|q| q.site == s)
                .map(|q| q.id)
                .collect();
            let page = format!("themes/{t}/{s}/index.html");
            if here.is_empty() {
                assert!(!site.pages.contains_key(&page), "{page} has no quotes");
            } else {
                assert_eq!(site.listed_quotes(&page), here, "quotes on {page}");
            }
        }
    }
    for s in facts.published_sites(drafts) {
        let want: BTreeSet<String> = published
            .values()
            .filter(|q| q.site == s)
            .map(|q| q.id.clone())
            .collect();
        let page = format!("sites/{s}/index.html");
        assert_eq!(site.listed_quotes(&page), want, "quotes on {page}");
    }
    for g in facts.published_groups(drafts) {
        let want: BTreeSet<String> = published
            .values()
            .filter(|q| q.group == g)
            .map(|q| q.id.clone())
            .collect();
        let page = format!("groups/{g}/index.html");
        assert_eq!(site.listed_quotes(&page), want, "quotes on {page}");
    }
    // A quote's permalink target: its first theme's page, with its anchor.
    for q in published.values() {
        let page = format!("themes/{}/index.html", q.themes[0]);
        assert!(
            ids(site.page(&page)).contains(&format!("q-{}", q.id)),
            "{page} lacks the anchor of quote {}",
            q.id
        );
    }

    for q in facts.left_out_quotes(drafts) {
        let words: Vec<&str> = q.text.split_whitespace().take(6).collect();
        let text = html_escape(&words.join(" "));
        for (page, html) in &site.pages {
            assert!(
                !html.contains(&format!("data-quote-id=\"{}\"", q.id))
                    && !html.contains(&format!("id=\"q-{}\"", q.id)),
                "{page}: left-out quote {} is shown",
                q.id
            );
            assert!(
                !html.contains(&text),
                "{page}: text of left-out quote {} is shown",
                q.id
            );
        }
    }
}

/// Findings pages link to their previous and next pages, in order.
#[track_caller]
fn assert_findings_pager(site: &Site, facts: &Facts, drafts: bool) {
    let order = facts.findings_in_order(drafts);
    for (i, f) in order.iter().enumerate() {
        let page = format!("findings/{}/index.html", f.id);
        let html = site.page(&page);
        let prev = rel_link(html, "prev").map(|h| resolve(&page, &h));
        let next = rel_link(html, "next").map(|h| resolve(&page, &h));
        let want_prev = i
            .checked_sub(1)
            .map(|p| format!("findings/{}/index.html", order[p].id));
        let want_next = order
            .get(i + 1)
            .map(|n| format!("findings/{}/index.html", n.id));
        assert_eq!(prev, want_prev, "previous link of {page}");
        assert_eq!(next, want_next, "next link of {page}");
    }
}

// ---------------------------------------------------------------------------
// The example study
// ---------------------------------------------------------------------------

#[test]
fn example_study_builds_a_complete_site() {
    let study = TestStudy::example();
    let run = study.build();
    assert_complete_site(&study, &study.out(), &run, false);
    // The example has drafts and cross-references of several kinds: both are exercised.
    assert!(!study.facts().left_out_quotes(false).is_empty());
}

#[test]
fn example_home_page_says_quotes_are_illustrative() {
    let study = TestStudy::example();
    study.build().assert_ok();
    let home = read_page(&study.out(), "index.html").to_lowercase();
    assert!(
        home.contains("illustrative"),
        "the home page must say the quotes are illustrative"
    );
    assert!(home.contains("participant data"));
}

#[test]
fn example_draft_quote_is_left_out() {
    let study = TestStudy::example();
    let run = study.build();
    run.assert_ok();
    let drafts: Vec<_> = study
        .facts()
        .quotes
        .into_iter()
        .filter(|q| q.draft)
        .collect();
    assert!(!drafts.is_empty(), "the example study has a draft quote");
    for q in drafts {
        let found = files_containing(&study.out(), &q.id);
        assert!(
            found.is_empty(),
            "draft quote {} appears in {found:?}",
            q.id
        );
    }
    assert!(run.stdout.contains("left out as drafts"), "{run}");
}

// ---------------------------------------------------------------------------
// Riverside: an independent study
// ---------------------------------------------------------------------------

#[test]
fn riverside_builds_a_complete_site() {
    let study = TestStudy::fixture("riverside");
    let run = study.build();
    run.assert_ok_quiet();
    assert_complete_site(&study, &study.out(), &run, false);
}

#[test]
fn riverside_with_drafts_builds_a_complete_site() {
    let study = TestStudy::fixture("riverside");
    let run = study.build_with(&["--drafts"]);
    run.assert_ok_quiet();
    assert_complete_site(&study, &study.out(), &run, true);
}

#[test]
fn riverside_has_pages_for_three_levels_of_themes() {
    let study = TestStudy::fixture("riverside");
    study.build().assert_ok();
    let out = study.out();
    let leaf = read_page(&out, "themes/chosen-family/index.html");
    // Breadcrumbs lead up through both ancestors.
    let crumbs: Vec<String> = links(&leaf)
        .iter()
        .map(|h| resolve("themes/chosen-family/index.html", h))
        .collect();
    for p in ["themes/belonging/index.html", "themes/kinship/index.html"] {
        assert!(
            crumbs.iter().any(|c| c == p),
            "chosen-family lacks a link to {p}"
        );
    }
    // Each level lists its children.
    let top = read_page(&out, "themes/belonging/index.html");
    assert!(
        links(&top)
            .iter()
            .any(|h| h.ends_with("themes/kinship/index.html"))
    );
    let mid = read_page(&out, "themes/kinship/index.html");
    for child in ["chosen-family", "neighbours"] {
        assert!(
            links(&mid)
                .iter()
                .any(|h| h.ends_with(&format!("themes/{child}/index.html"))),
            "kinship does not link {child}"
        );
    }
    // Quotes roll up: a sub-subtheme quote is shown on the top-level theme page.
    assert!(!quote_elements(&top, "ll-01").is_empty());
    // Sub-subtheme by site pages exist where it has quotes, and only there.
    assert!(
        out.join("themes/chosen-family/lilongwe/index.html")
            .is_file()
    );
    assert!(
        out.join("themes/chosen-family/sao-paulo/index.html")
            .is_file()
    );
    assert!(!out.join("themes/chosen-family/haifa").exists());
    assert!(!out.join("themes/neighbours/lilongwe").exists());
    // The codebook shows all three depths.
    let codebook = read_page(&out, "themes/index.html");
    for d in ["depth-0", "depth-1", "depth-2"] {
        assert!(codebook.contains(d), "codebook lacks {d}");
    }
}

#[test]
fn riverside_quote_tagged_with_a_theme_and_its_subtheme_is_shown_once() {
    let study = TestStudy::fixture("riverside");
    study.build().assert_ok();
    let out = study.out();
    for page in [
        "themes/waiting/index.html",
        "themes/queues/index.html",
        "themes/queues/sao-paulo/index.html",
        "sites/sao-paulo/index.html",
        "quotes/index.html",
    ] {
        let html = read_page(&out, page);
        assert_eq!(quote_elements(&html, "sp-02").len(), 1, "sp-02 on {page}");
    }
}

#[test]
fn riverside_originals_have_dir_and_lang_and_a_label_naming_the_language() {
    let study = TestStudy::fixture("riverside");
    study.build().assert_ok();
    let out = study.out();
    let facts = study.facts();
    let mut checked = 0;
    for page in html_files(&out) {
        let html = read_page(&out, &page);
        for (id, q) in facts.quote_map(false) {
            let Some(lang) = &q.original_lang else {
                continue;
            };
            for el in quote_elements(&html, &id) {
                let originals: Vec<Tag> = tags(el)
                    .into_iter()
                    .filter(|t| t.attr("lang") == Some(lang.as_str()))
                    .collect();
                assert_eq!(
                    originals.len(),
                    1,
                    "{page}: original of {id} with lang={lang}"
                );
                // Its language is named for readers, outside the element that
                // carries `lang` (the label is in the page's language).
                let name = match lang.as_str() {
                    "he" => "Hebrew",
                    "ar" => "Arabic",
                    "pt-BR" => "Portuguese (BR)",
                    other => panic!("{id}: a language this test does not name: {other}"),
                };
                let label = format!(
                    "<p class=\"original-label\">Original ({name})</p>\n<blockquote class=\"original\" lang=\"{lang}\""
                );
                assert!(el.contains(&label), "{page}: {id} has no label {label:?}");
                let dir = originals[0].attr("dir");
                let rtl = lang == "he" || lang == "ar";
                if rtl {
                    assert_eq!(dir, Some("rtl"), "{page}: {id} ({lang}) must be dir=rtl");
                } else {
                    assert_ne!(dir, Some("rtl"), "{page}: {id} ({lang}) must not be rtl");
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} originals checked");
    // The Hebrew and Arabic text itself is there, unescaped.
    let quotes = read_page(&out, "quotes/index.html");
    assert!(quotes.contains("השכנה שלי הביאה מרק"));
    assert!(quotes.contains("لم يستطع أحد"));
}

#[test]
fn riverside_quote_text_is_escaped() {
    let study = TestStudy::fixture("riverside");
    study.build().assert_ok();
    let out = study.out();
    let quotes = read_page(&out, "quotes/index.html");
    let el = quote_elements(&quotes, "ll-02")[0];
    assert!(el.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{el}");
    assert!(el.contains("on my form &amp; laughed"), "{el}");
    assert!(
        el.contains("Asked about &lt;b&gt;forms&lt;/b&gt; &amp; stamps."),
        "{el}"
    );
    // Markdown in quote text is not interpreted.
    let ll04 = quote_elements(&quotes, "ll-04")[0];
    assert!(ll04.contains("*not emphasis*"), "{ll04}");
    assert!(!ll04.contains("<em>"), "{ll04}");
    // Blank lines make paragraphs.
    let blockquote = element_at(ll04, ll04.find("<blockquote").unwrap());
    assert_eq!(blockquote.matches("<p>").count(), 2, "{blockquote}");
    // No script element but the theme's own, and the raw payload nowhere, on any
    // page (the data files and the search index hold the text as data, verbatim).
    for f in html_files(&out) {
        let text = String::from_utf8_lossy(&std::fs::read(out.join(&f)).unwrap()).to_lowercase();
        let scripts = text.matches("<script").count();
        let theme_scripts = text.matches("static/thematic.js\" defer></script>").count()
            + text.matches("static/search.js\" defer></script>").count()
            + text
                .matches("<script type=\"application/ld+json\">")
                .count();
        assert_eq!(scripts, theme_scripts, "{f} contains a script element");
        assert!(!text.contains("<b>forms"), "{f} contains unescaped context");
    }
}

#[test]
fn riverside_html_comments_never_reach_output() {
    let study = TestStudy::fixture("riverside");
    for drafts in [false, true] {
        let run = if drafts {
            study.build_with(&["--drafts"])
        } else {
            study.build()
        };
        run.assert_ok();
        let found = files_containing(&study.out(), "SECRET-NOTE");
        assert!(found.is_empty(), "SECRET-NOTE leaked into {found:?}");
        // The text around the inline comment is kept.
        let page = read_page(&study.out(), "findings/across-sites/index.html");
        assert!(page.contains("explains the sampling"));
    }
}

#[test]
fn riverside_drafts_are_left_out_without_the_flag() {
    let study = TestStudy::fixture("riverside");
    let run = study.build();
    run.assert_ok();
    let out = study.out();
    for marker in [
        "DRAFT-QUOTE-HF05",
        "DRAFT-ONLY-THEME",
        "DRAFT-THEME-SUMMARY",
        "DRAFT-FINDING",
        "Draft notes",
        "Rumours",
        "hf-05",
        "sp-05",
    ] {
        let found = files_containing(&out, marker);
        assert!(found.is_empty(), "{marker} appears in {found:?}");
    }
    assert!(!out.join("themes/rumours").exists());
    assert!(!out.join("findings/draft-notes").exists());
    // A quote tagged with a draft theme and a published one stays, without the draft tag.
    let quotes = read_page(&out, "quotes/index.html");
    let hf06 = tags_with(&quotes, "data-quote-id", "hf-06");
    assert_eq!(hf06[0].attr("data-themes"), Some("waiting uncertainty"));
    assert!(!quotes.contains("draft-badge"));
    // The pager skips the draft finding.
    let first = read_page(&out, "findings/across-sites/index.html");
    assert_eq!(
        rel_link(&first, "next").as_deref(),
        Some("../../findings/methods/index.html")
    );
    run.assert_stdout_contains("13 quotes");
}

#[test]
fn riverside_drafts_are_shown_and_marked_with_the_flag() {
    let study = TestStudy::fixture("riverside");
    let run = study.build_with(&["--drafts"]);
    run.assert_ok();
    let out = study.out();
    run.assert_stdout_contains("15 quotes");
    let quotes = read_page(&out, "quotes/index.html");
    let el = quote_elements(&quotes, "hf-05");
    assert_eq!(el.len(), 1, "draft quote hf-05 on quotes/index.html");
    let t = &tags_with(&quotes, "data-quote-id", "hf-05")[0];
    assert!(t.has_class("is-draft"), "hf-05 is not marked as a draft");
    assert!(el[0].contains("Draft"), "hf-05 has no visible draft label");
    // sp-05 is published itself but tagged only with a draft theme: shown with it.
    assert_eq!(quote_elements(&quotes, "sp-05").len(), 1);
    let published = quote_elements(&quotes, "hf-01")[0];
    assert!(
        !published.contains("draft-badge"),
        "published quote marked as draft"
    );
    let hf06 = tags_with(&quotes, "data-quote-id", "hf-06");
    assert_eq!(
        hf06[0].attr("data-themes"),
        Some("waiting rumours uncertainty")
    );

    let theme = read_page(&out, "themes/rumours/index.html");
    assert!(theme.contains("draft-badge"), "draft theme is not marked");
    let finding = read_page(&out, "findings/draft-notes/index.html");
    assert!(
        finding.contains("draft-badge"),
        "draft finding is not marked"
    );
    assert!(out.join("themes/rumours/haifa/index.html").is_file());
    assert!(out.join("themes/rumours/sao-paulo/index.html").is_file());
    // The pager now goes through the draft finding.
    let first = read_page(&out, "findings/across-sites/index.html");
    assert_eq!(
        rel_link(&first, "next").as_deref(),
        Some("../../findings/draft-notes/index.html")
    );
}

#[test]
fn riverside_cross_references_point_to_the_right_pages() {
    let study = TestStudy::fixture("riverside");
    study.build().assert_ok();
    let out = study.out();
    let page = "findings/across-sites/index.html";
    let html = read_page(&out, page);
    let prose_at = html.find("<div class=\"prose\">").expect("prose block");
    let prose = element_at(&html, prose_at);
    let hrefs: BTreeSet<String> = links(prose).into_iter().collect();
    for want in [
        "../../themes/chosen-family/index.html",
        "../../sites/haifa/index.html",
        "../../themes/neighbours/index.html",
        "../../groups/never/index.html",
        "../../themes/repair/index.html",
        "../../findings/methods/index.html",
        "../../themes/paperwork/lilongwe/index.html",
        "../../themes/neighbours/index.html#q-hf-01",
        "../../themes/waiting/index.html#table-title",
    ] {
        assert!(
            hrefs.contains(want),
            "{page} lacks a link to {want}: {hrefs:?}"
        );
    }
    // No scheme link is left unresolved anywhere.
    for f in html_files(&out) {
        let h = read_page(&out, &f);
        for l in links(&h) {
            for scheme in ["theme:", "site:", "group:", "finding:", "quote:"] {
                assert!(!l.starts_with(scheme), "{f}: unresolved link {l}");
            }
        }
    }
    // The home narrative's links are relative to the root.
    let home = read_page(&out, "index.html");
    assert!(links(&home).contains(&"themes/waiting/index.html".to_string()));
    // Links from the methods page (same depth) too.
    let methods = read_page(&out, "findings/methods/index.html");
    assert!(links(&methods).contains(&"../../sites/sao-paulo/index.html".to_string()));
    // hf-06 is tagged [rumours, uncertainty]; `rumours` is a draft, so without drafts
    // the quote's home is its first published theme.
    assert!(
        links(&methods).contains(&"../../themes/uncertainty/index.html#q-hf-06".to_string()),
        "{:?}",
        links(&methods)
    );
    study.build_with(&["--drafts"]).assert_ok();
    let methods = read_page(&out, "findings/methods/index.html");
    assert!(links(&methods).contains(&"../../themes/rumours/index.html#q-hf-06".to_string()));
}

#[test]
fn markdown_heading_ids_do_not_collide_with_template_ids() {
    let study = TestStudy::fixture("minimal");
    study.edit(
        "content/findings/summary.md",
        "People valued",
        "## Main\n\nPeople valued",
    );
    study.build().assert_ok();
    let report = check_links(&study.out());
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[test]
fn riverside_embed_renders_the_quote_block_with_attribution() {
    let study = TestStudy::fixture("riverside");
    study.build().assert_ok();
    let out = study.out();
    let page = "findings/across-sites/index.html";
    let html = read_page(&out, page);
    let embeds = quote_elements(&html, "sp-01");
    assert_eq!(embeds.len(), 1, "one embed of sp-01");
    let el = embeds[0];
    let t = &tags_with(&html, "data-quote-id", "sp-01")[0];
    assert_eq!(t.name, "figure", "an embed is a block, not inline");
    assert_eq!(t.attr("data-site"), Some("sao-paulo"));
    assert_eq!(t.attr("data-group"), Some("late"));
    assert_eq!(
        t.attr("data-themes"),
        Some("belonging kinship chosen-family")
    );
    assert!(el.contains("My friends from the samba school are my family now."));
    assert!(el.contains("SP-01"));
    let hrefs = links(el);
    for want in [
        "../../sites/sao-paulo/index.html",
        "../../groups/late/index.html",
        "../../themes/chosen-family/index.html#q-sp-01",
    ] {
        assert!(
            hrefs.iter().any(|h| h == want),
            "embed lacks link {want}: {hrefs:?}"
        );
    }
    // A block cannot sit inside a paragraph.
    let before = &html[..t.offset];
    assert!(
        before.rfind("<p>").unwrap_or(0) < before.rfind("</p>").unwrap_or(0),
        "the embed is inside a <p>"
    );
}

#[test]
fn riverside_code_block_is_highlighted_with_classes_only() {
    let study = TestStudy::fixture("riverside");
    study.build().assert_ok();
    let out = study.out();
    let html = read_page(&out, "findings/across-sites/index.html");
    let pre_at = html.find("<pre").expect("a code block");
    let pre = element_at(&html, pre_at);
    assert!(pre.contains("belonging"), "{pre}");
    assert!(pre.contains("class=\""), "code is not highlighted: {pre}");
    for f in html_files(&out) {
        let page = read_page(&out, &f);
        assert!(
            !tags(&page).iter().any(|t| t.attr("style").is_some()),
            "{f} has an inline style"
        );
    }
    // The syntax stylesheet is linked from the page with code, and exists.
    assert!(
        tags(&html)
            .iter()
            .any(|t| t.name == "link" && t.attr("href") == Some("../../static/syntax.css"))
    );
    assert!(out.join("static/syntax.css").is_file());
}

#[test]
fn riverside_pages_use_the_study_language_and_metadata() {
    let study = TestStudy::fixture("riverside");
    study.build().assert_ok();
    let out = study.out();
    let home = read_page(&out, "index.html");
    assert!(home.contains("<html lang=\"en\""));
    // The title's `&` is escaped.
    assert!(home.contains("waiting, belonging &amp; repair"));
    assert!(home.contains("Ada Testwriter"));
    assert!(home.contains("Bea Checker"));
    let site = read_page(&out, "sites/sao-paulo/index.html");
    assert!(site.contains("Upper-middle income"), "income level shown");
    assert!(site.contains("Brazil"));
}

// ---------------------------------------------------------------------------
// Determinism
// ---------------------------------------------------------------------------

#[track_caller]
fn assert_deterministic(study: &TestStudy, extra: &[&str]) {
    let a = study.root().join("out-a");
    let b = study.root().join("out-b");
    study.build_into(&a, extra).assert_ok();
    study.build_into(&b, extra).assert_ok();
    let sa = snapshot(&a);
    assert!(sa.len() > 10);
    assert_same_snapshot(&sa, &snapshot(&b), "two builds of the same study");
}

#[test]
fn builds_are_byte_identical() {
    let riverside = TestStudy::fixture("riverside");
    assert_deterministic(&riverside, &[]);
    assert_deterministic(&riverside, &["--drafts"]);
    assert_deterministic(&TestStudy::example(), &[]);
}

#[test]
fn rebuilding_into_the_default_output_gives_the_same_bytes() {
    let study = TestStudy::fixture("riverside");
    study.build().assert_ok();
    let first = snapshot(&study.out());
    study.build().assert_ok();
    assert_same_snapshot(&first, &snapshot(&study.out()), "rebuild");
}

// ---------------------------------------------------------------------------
// Smaller properties
// ---------------------------------------------------------------------------

#[test]
fn minimal_study_builds_without_warnings() {
    let study = TestStudy::fixture("minimal");
    let run = study.build();
    run.assert_ok_quiet();
    assert_complete_site(&study, &study.out(), &run, false);
}

#[test]
fn embedding_a_quote_on_a_page_that_also_lists_it_keeps_ids_unique() {
    // A site narrative that embeds one of the site's own quotes: the page then shows
    // the quote twice, and both copies need distinct anchors.
    let study = TestStudy::fixture("riverside");
    study.edit(
        "content/sites/lilongwe.md",
        "Interviews took place at a community centre.",
        "Interviews took place at a community centre.\n\n![](quote:ll-01)\n",
    );
    study.build().assert_ok();
    let html = read_page(&study.out(), "sites/lilongwe/index.html");
    assert_eq!(quote_elements(&html, "ll-01").len(), 2);
    let mut seen = BTreeSet::new();
    let dups: Vec<String> = ids(&html)
        .into_iter()
        .filter(|i| !seen.insert(i.clone()))
        .collect();
    assert!(dups.is_empty(), "duplicate ids on sites/lilongwe: {dups:?}");
    assert_links_ok(&study.out());
}

#[test]
fn base_url_gives_canonical_links_and_a_sitemap_but_links_stay_relative() {
    let study = TestStudy::fixture("riverside");
    let text = study.read("content/study.yaml");
    study.write(
        "content/study.yaml",
        format!("{text}base_url: https://example.org/riverside/\n"),
    );
    study.build().assert_ok();
    let out = study.out();
    let theme = read_page(&out, "themes/kinship/index.html");
    let canonical: Vec<Tag> = tags(&theme)
        .into_iter()
        .filter(|t| t.name == "link" && t.attr("rel") == Some("canonical"))
        .collect();
    assert_eq!(
        canonical[0].attr("href"),
        Some("https://example.org/riverside/themes/kinship/")
    );
    let sitemap = read_page(&out, "sitemap.xml");
    assert!(sitemap.contains("<loc>https://example.org/riverside/themes/kinship/</loc>"));
    assert!(sitemap.contains("<loc>https://example.org/riverside/</loc>"));
    // Every page, the 404 page included, keeps relative links.
    for f in html_files(&out) {
        for l in links(&read_page(&out, &f)) {
            assert!(
                !l.starts_with("https://example.org"),
                "{f}: absolute link {l}"
            );
        }
    }
}

#[test]
fn base_url_is_not_used_for_resources_of_the_404_page() {
    let study = TestStudy::fixture("riverside");
    let text = study.read("content/study.yaml");
    study.write(
        "content/study.yaml",
        format!("{text}base_url: https://example.org/riverside/\n"),
    );
    study.build().assert_ok();
    assert_links_ok(&study.out());
}

#[test]
fn quote_ids_are_stable_anchors_across_builds_with_and_without_drafts() {
    // The anchor of a published quote does not depend on whether drafts are built.
    let study = TestStudy::fixture("riverside");
    study.build().assert_ok();
    let a = read_page(&study.out(), "quotes/index.html");
    study.build_with(&["--drafts"]).assert_ok();
    let b = read_page(&study.out(), "quotes/index.html");
    let anchors = |html: &str| -> HashMap<String, String> {
        tags(html)
            .into_iter()
            .filter_map(|t| {
                Some((
                    t.attr("data-quote-id")?.to_string(),
                    t.attr("id")?.to_string(),
                ))
            })
            .collect()
    };
    let (a, b) = (anchors(&a), anchors(&b));
    for (q, anchor) in &a {
        assert_eq!(b.get(q), Some(anchor), "anchor of {q}");
    }
}

#[test]
fn a_quote_template_that_tests_root_is_rendered_at_each_depth() {
    // Quotes are rendered once for every depth when quote.html only prints `root`;
    // a template that tests it must still see each page's own value.
    let study = TestStudy::fixture("minimal");
    let builtin =
        std::fs::read_to_string(repo_root().join("themes/default/templates/quote.html")).unwrap();
    study.write(
        "themes/default/templates/quote.html",
        builtin.replace(
            "<blockquote>",
            "{% if root == \"../../\" %}<span class=\"depth-two\"></span>{% endif %}<blockquote>",
        ),
    );
    study.build().assert_ok();
    let theme = read_page(&study.out(), "themes/care/index.html");
    let quotes = read_page(&study.out(), "quotes/index.html");
    assert!(theme.contains("class=\"depth-two\""), "{theme}");
    assert!(!quotes.contains("class=\"depth-two\""));
}

#[test]
fn site_pages_name_their_languages() {
    let study = TestStudy::fixture("riverside");
    study.build().assert_ok();
    let out = study.out();
    for (site, names) in [
        ("haifa", "Hebrew, Arabic"),
        ("lilongwe", "Chichewa, English"),
        ("sao-paulo", "Portuguese (BR)"),
    ] {
        let html = read_page(&out, &format!("sites/{site}/index.html"));
        assert!(
            html.contains(&format!("<dt>Languages</dt><dd>{names}</dd>")),
            "sites/{site}: languages are not named {names:?}"
        );
    }
}
