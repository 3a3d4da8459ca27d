//! The reader's ways through a built site, read from the HTML: the menu and
//! breadcrumbs of every page, the sideways links between theme-by-site pages, the
//! quote filter's controls, and the charts. What each page must offer is computed from
//! the study's files (tests/common/facts.rs), never from thematic's own code.
//!
//! The filter's behaviour in a browser is tested in tests/reader.rs.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::facts::Facts;
use common::*;

/// The start tags inside the first element with `id`, and that element's text.
fn element_by_id<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let t = tags_with(html, "id", id).into_iter().next()?;
    Some(element_at(html, t.offset))
}

/// The option values of `<select id="ID">`, the empty "all" option left out; `None`
/// when the page has no such select.
fn select_options(html: &str, id: &str) -> Option<BTreeSet<String>> {
    let select = element_by_id(html, id)?;
    Some(
        tags(select)
            .into_iter()
            .filter(|t| t.name == "option")
            .filter_map(|t| t.attr("value").map(str::to_string))
            .filter(|v| !v.is_empty())
            .collect(),
    )
}

/// The body's `page-KIND` class.
fn page_kind(html: &str) -> String {
    tags(html)
        .into_iter()
        .find(|t| t.name == "body")
        .and_then(|t| t.attr("class").map(str::to_string))
        .and_then(|c| c.strip_prefix("page-").map(str::to_string))
        .expect("a body with a page-KIND class")
}

/// Resolves a relative link of the page at `page` to a path from the site root.
fn resolve(page: &str, href: &str) -> String {
    let mut parts: Vec<&str> = page.split('/').collect();
    parts.pop();
    for seg in href.split('#').next().unwrap().split('/') {
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

/// The links (resolved) inside the element with `id`, in order.
fn links_in(page: &str, html: &str, id: &str) -> Vec<String> {
    let el = element_by_id(html, id).unwrap_or_else(|| panic!("{page}: no #{id}"));
    links(el).iter().map(|h| resolve(page, h)).collect()
}

/// The first `<nav>` with `aria-label` `label`, as text.
fn nav<'a>(html: &'a str, label: &str) -> Option<&'a str> {
    tags(html)
        .into_iter()
        .find(|t| t.name == "nav" && t.attr("aria-label") == Some(label))
        .map(|t| element_at(html, t.offset))
}

fn built(fixture: Option<&str>) -> (TestStudy, std::path::PathBuf, Facts) {
    let study = match fixture {
        Some(name) => TestStudy::fixture(name),
        None => TestStudy::example(),
    };
    study.build().assert_ok();
    let out = study.out();
    let facts = study.facts();
    (study, out, facts)
}

#[test]
fn every_page_has_the_menu_and_every_page_below_home_has_breadcrumbs() {
    let (_study, out, _) = built(None);
    let menu = [
        "findings/index.html",
        "themes/index.html",
        "sites/index.html",
        "groups/index.html",
        "quotes/index.html",
    ];
    for page in html_files(&out) {
        let html = read_page(&out, &page);
        let main = nav(&html, "Main").unwrap_or_else(|| panic!("{page}: no main menu"));
        let targets: Vec<String> = links(main).iter().map(|h| resolve(&page, h)).collect();
        assert_eq!(targets, menu, "{page}: the menu");
        // The menu says where the reader is.
        if let Some(i) = menu.iter().position(|m| *m == page) {
            let current: Vec<Tag> = tags(main)
                .into_iter()
                .filter(|t| t.attr("aria-current") == Some("page"))
                .collect();
            assert_eq!(current.len(), 1, "{page}: one current menu item");
            assert_eq!(resolve(&page, current[0].attr("href").unwrap()), menu[i]);
        }
        let crumbs = nav(&html, "Breadcrumb");
        if page == "index.html" || page == "404.html" {
            assert!(crumbs.is_none(), "{page}: breadcrumbs on a top page");
            continue;
        }
        let crumbs = crumbs.unwrap_or_else(|| panic!("{page}: no breadcrumbs"));
        let trail: Vec<String> = links(crumbs).iter().map(|h| resolve(&page, h)).collect();
        assert_eq!(
            trail.first().map(String::as_str),
            Some("index.html"),
            "{page}"
        );
        assert!(
            crumbs.contains("aria-current=\"page\""),
            "{page}: the last crumb is not marked as the current page"
        );
        assert!(
            !trail.contains(&page),
            "{page}: the breadcrumbs link the page itself"
        );
    }
}

#[test]
fn theme_by_site_breadcrumbs_lead_up_through_the_theme_tree() {
    let (_study, out, facts) = built(Some("riverside"));
    for (theme, site) in facts.theme_site_pairs(false) {
        let page = format!("themes/{theme}/{site}/index.html");
        let html = read_page(&out, &page);
        let crumbs = nav(&html, "Breadcrumb").unwrap();
        let trail: Vec<String> = links(crumbs).iter().map(|h| resolve(&page, h)).collect();
        let mut want = vec!["index.html".to_string(), "themes/index.html".to_string()];
        let mut lineage = facts.lineage(&theme);
        lineage.reverse();
        want.extend(lineage.iter().map(|t| format!("themes/{t}/index.html")));
        assert_eq!(trail, want, "{page}");
        let site_title = &facts.sites.iter().find(|s| s.id == site).unwrap().title;
        assert!(
            crumbs.contains(&format!(
                "<span aria-current=\"page\">{}</span>",
                html_escape(site_title)
            )),
            "{page}: {crumbs}"
        );
    }
}

#[test]
fn theme_by_site_pages_link_sideways_to_other_sites_and_other_themes() {
    let (_study, out, facts) = built(Some("riverside"));
    let pairs = facts.theme_site_pairs(false);
    let top: Vec<String> = facts
        .published_themes(false)
        .into_iter()
        .filter(|t| facts.depth(t) == 0)
        .collect();
    for (theme, site) in &pairs {
        let page = format!("themes/{theme}/{site}/index.html");
        let html = read_page(&out, &page);

        let other_sites: BTreeSet<String> = links_in(&page, &html, "other-sites-list")
            .into_iter()
            .collect();
        let want: BTreeSet<String> = pairs
            .iter()
            .filter(|(t, s)| t == theme && s != site)
            .map(|(t, s)| format!("themes/{t}/{s}/index.html"))
            .collect();
        assert_eq!(other_sites, want, "{page}: this theme at other sites");

        let root = facts.lineage(theme).pop().unwrap();
        let want: BTreeSet<String> = top
            .iter()
            .filter(|t| **t != root && pairs.contains(&((*t).clone(), site.clone())))
            .map(|t| format!("themes/{t}/{site}/index.html"))
            .collect();
        let other_themes: BTreeSet<String> = element_by_id(&html, "other-themes-list")
            .map(|el| links(el).iter().map(|h| resolve(&page, h)).collect())
            .unwrap_or_default();
        assert_eq!(other_themes, want, "{page}: other themes at this site");
    }
}

/// Sites, groups and themes (with their ancestors) of a set of quotes.
fn values_of(facts: &Facts, quotes: &[facts::Quote]) -> [BTreeSet<String>; 3] {
    [
        quotes.iter().map(|q| q.site.clone()).collect(),
        quotes.iter().map(|q| q.group.clone()).collect(),
        quotes
            .iter()
            .flat_map(|q| q.themes.iter().flat_map(|t| facts.lineage(t)))
            .collect(),
    ]
}

/// A control with fewer than two choices is left out.
fn offered(values: BTreeSet<String>) -> Option<BTreeSet<String>> {
    (values.len() >= 2).then_some(values)
}

#[test]
fn quote_filters_offer_what_the_page_lists_and_leave_out_what_it_is_about() {
    let (_study, out, facts) = built(Some("riverside"));
    let published = facts.published_quotes(false);
    let (mut with_filter, mut without_filter) = (0, 0);
    for page in html_files(&out) {
        let html = read_page(&out, &page);
        let kind = page_kind(&html);
        let parts: Vec<&str> = page.split('/').collect();
        let (listed, about_site, about_group, theme): (Vec<_>, bool, bool, Option<&str>) =
            match kind.as_str() {
                "quotes" => (published.clone(), false, false, None),
                "site" => (
                    published
                        .iter()
                        .filter(|q| q.site == parts[1])
                        .cloned()
                        .collect(),
                    true,
                    false,
                    None,
                ),
                "group" => (
                    published
                        .iter()
                        .filter(|q| q.group == parts[1])
                        .cloned()
                        .collect(),
                    false,
                    true,
                    None,
                ),
                "theme" | "theme_site" => {
                    let theme = parts[parts.len() - 2 - usize::from(kind == "theme_site")];
                    let quotes = published
                        .iter()
                        .filter(|q| {
                            q.themes
                                .iter()
                                .any(|t| facts.lineage(t).iter().any(|l| l == theme))
                        })
                        .filter(|q| kind == "theme" || q.site == parts[parts.len() - 2])
                        .cloned()
                        .collect();
                    (quotes, kind == "theme_site", false, Some(theme))
                }
                _ => {
                    assert!(
                        !html.contains("id=\"quote-filter\""),
                        "{page}: a filter on a page without a quote list"
                    );
                    continue;
                }
            };
        let [sites, groups, themes] = values_of(&facts, &listed);
        let want_sites = if about_site { None } else { offered(sites) };
        let want_groups = if about_group { None } else { offered(groups) };
        let want_themes = match theme {
            // On a theme's page the choice is among its subthemes.
            Some(t) => Some(
                themes
                    .into_iter()
                    .filter(|x| x != t && facts.lineage(x).iter().any(|l| l == t))
                    .collect::<BTreeSet<_>>(),
            )
            .filter(|s| !s.is_empty()),
            None => offered(themes),
        };
        // A list with nothing to choose (one site, one group, no subthemes) has
        // no filter at all, rather than a form without controls.
        if want_sites.is_none() && want_groups.is_none() && want_themes.is_none() {
            assert!(
                !html.contains("id=\"quote-filter\""),
                "{page}: a filter with nothing to choose"
            );
            without_filter += 1;
            continue;
        }
        with_filter += 1;
        assert!(
            html.contains("<form id=\"quote-filter\" class=\"quote-filter\" hidden"),
            "{page}: the filter must be hidden until the script shows it"
        );
        assert_eq!(
            select_options(&html, "filter-site"),
            want_sites,
            "{page}: sites"
        );
        assert_eq!(
            select_options(&html, "filter-group"),
            want_groups,
            "{page}: groups"
        );
        assert_eq!(
            select_options(&html, "filter-theme"),
            want_themes,
            "{page}: themes"
        );
        let status = element_by_id(&html, "filter-status").unwrap();
        let n = listed.len();
        assert!(
            status.contains(&format!(
                "Showing all {n} quote{}",
                if n == 1 { "" } else { "s" }
            )),
            "{page}: {status}"
        );
        // Every listed quote is inside the list the filter works on.
        let list = element_by_id(&html, "quote-list").unwrap();
        let ids: BTreeSet<&str> = tags(list)
            .into_iter()
            .filter(|t| t.name == "figure")
            .filter_map(|t| {
                let id = t.attr("data-quote-id")?;
                listed.iter().find(|q| q.id == id).map(|q| q.id.as_str())
            })
            .collect();
        assert_eq!(ids.len(), n, "{page}: quotes inside #quote-list");
    }
    // The fixture has lists of both kinds.
    assert!(
        with_filter > 0 && without_filter > 0,
        "{with_filter} {without_filter}"
    );
}

/// Distinct participants per site and per group among the quotes of a theme and its
/// subthemes.
fn participants_by(facts: &Facts, theme: &str) -> [BTreeMap<String, BTreeSet<String>>; 2] {
    let mut by_site: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut by_group: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for q in facts.quotes_of_theme(theme, false) {
        let key = format!("{}/{}", q.site, q.participant);
        by_site
            .entry(q.site.clone())
            .or_default()
            .insert(key.clone());
        by_group.entry(q.group.clone()).or_default().insert(key);
    }
    [by_site, by_group]
}

fn participants(n: usize) -> String {
    match n {
        0 => "no participants".into(),
        1 => "1 participant".into(),
        n => format!("{n} participants"),
    }
}

#[test]
fn theme_pages_chart_participants_per_site_and_group_with_every_number_in_words() {
    let (_study, out, facts) = built(None);
    for theme in facts.published_themes(false) {
        let page = format!("themes/{theme}/index.html");
        let html = read_page(&out, &page);
        let [by_site, by_group] = participants_by(&facts, &theme);
        for (chart, pages, counts) in [
            ("chart-sites", &facts.sites, by_site),
            ("chart-groups", &facts.groups, by_group),
        ] {
            let svg = tags(&html)
                .into_iter()
                .find(|t| {
                    t.name == "svg"
                        && t.attr("aria-labelledby")
                            .is_some_and(|l| l.starts_with(chart))
                })
                .unwrap_or_else(|| panic!("{page}: no {chart}"));
            assert_eq!(svg.attr("role"), Some("img"), "{page}: {chart}");
            let desc = element_by_id(&html, &format!("{chart}-desc")).unwrap();
            for p in pages.iter().filter(|p| !p.draft) {
                let n = counts.get(&p.id).map_or(0, BTreeSet::len);
                let said = format!("{}: {}", html_escape(&p.title), participants(n));
                assert!(
                    desc.contains(&said),
                    "{page}: {chart} lacks {said:?}: {desc}"
                );
            }
            let rects = element_at(&html, svg.offset).matches("<rect").count();
            assert_eq!(
                rects,
                counts.values().filter(|s| !s.is_empty()).count(),
                "{page}: {chart}: one bar per site or group with participants"
            );
        }
    }
}

#[test]
fn pages_load_the_theme_script_and_icon_and_the_static_files_exist() {
    let (_study, out, _) = built(None);
    for f in [
        "static/thematic.js",
        "static/favicon.svg",
        "static/style.css",
    ] {
        assert!(out.join(f).is_file(), "{f} is missing");
    }
    for page in html_files(&out) {
        let html = read_page(&out, &page);
        // Besides the home page's JSON-LD (data, not code), scripts are files.
        let scripts: Vec<String> = tags(&html)
            .into_iter()
            .filter(|t| t.name == "script" && t.attr("type") != Some("application/ld+json"))
            .map(|t| resolve(&page, t.attr("src").expect("scripts are files")))
            .collect();
        let want: &[&str] = if page == "search/index.html" {
            &["static/thematic.js", "static/search.js"]
        } else {
            &["static/thematic.js"]
        };
        assert_eq!(scripts, want, "{page}");
        assert!(
            tags(&html).iter().any(|t| t.name == "link"
                && t.attr("rel") == Some("icon")
                && t.attr("href").map(|h| resolve(&page, h)).as_deref()
                    == Some("static/favicon.svg")),
            "{page}: no icon (browsers would ask for /favicon.ico)"
        );
    }
}
