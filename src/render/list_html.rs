//! The default site theme's quote-list pages, compiled to Rust.
//!
//! The pages of the quote lists (a theme's, a theme's at one site, a site's, a
//! group's and all quotes) are nearly all of a large study's pages: 10,000
//! quotes make about 1,300 of them, 100,000 quotes about 10,000. Through Tera
//! each took some 70 µs to convert its context and interpret `base.html`,
//! the list's template, `quote_list.html`, `quote_filter.html` and
//! `pagination.html`: a fifth of a build's CPU. [`render`] writes the same
//! bytes directly. It is used only while every one of those [`TEMPLATES`] is
//! the built-in one, character for character
//! ([`super::SiteTheme::lists_are_builtin`]); a site theme that brings its own
//! version of any of them goes through Tera as before. The tests below render
//! studies of every shape both ways and compare every page, so the two cannot
//! drift apart: change those templates and this module together.

use super::Parts;
use super::pages::{self, Head, Page};
use super::paginate::{Layout, Pagination, Section};
use super::quote_html::push_escaped;
use super::urls;
use super::views::LinkView;
use crate::model::Count;

/// The templates this module stands in for.
pub(crate) const TEMPLATES: &[&str] = &[
    "base.html",
    "theme.html",
    "theme_site.html",
    "site.html",
    "group.html",
    "quotes.html",
    "quote_list.html",
    "quote_filter.html",
    "pagination.html",
];

/// The page's (path, skeleton), byte for byte what the default templates
/// render, or `None` when `page` is not a page of a quote list.
pub(crate) fn render(parts: &Parts<'_>, page: &Page) -> Option<(String, String)> {
    let study = parts.study;
    let lists = &*parts.lists;
    let head = pages::list_head(study, lists, page)?;
    let root = urls::root_prefix(&head.path);
    let mut out = String::with_capacity(16 * 1024);
    // Only the first page of a theme's, site's or group's list shows its Markdown.
    let (markdown, has_code) = page
        .markdown_key()
        .map_or(("", false), |(kind, i)| parts.markdown(kind, i));
    let page_html = |out: &mut String, content: &dyn Fn(&mut String)| {
        let page = Chrome {
            study,
            head: &head,
            root: &root,
            has_code,
        };
        page.write(out, content);
    };
    let size = lists.size;
    match *page {
        Page::Theme(t, k) => {
            let th = &parts.theme_views[t];
            let layout = &lists.themes[t];
            let list = List::new(layout, &urls::theme(&th.id), k, size, &head, &root);
            page_html(&mut out, &|out| {
                let kicker = if th.depth == 0 { "Theme" } else { "Subtheme" };
                let entry = Entry {
                    kicker,
                    draft: th.draft,
                    title: &th.title,
                    summary: &th.summary,
                };
                push_header_start(out, &entry, "\n");
                out.push_str("\n<p class=\"count\">");
                push_count(out, &th.count);
                out.push_str("</p></header>\n");
                if k == 0 {
                    push_prose(out, markdown);
                    out.push('\n');
                    theme_overview(out, parts, t, &root);
                }
                push_quotes_section(out, &list);
            });
        }
        Page::ThemeSite(t, s, k) => {
            let th = &parts.theme_views[t];
            let site = &parts.site_views[s];
            let layout = lists.theme_sites[t][s].as_ref()?;
            let first = urls::theme_site(&th.id, &site.id);
            let list = List::new(layout, &first, k, size, &head, &root);
            page_html(&mut out, &|out| {
                out.push_str("\n<header class=\"page-header\"><p class=\"kicker\">");
                out.push_str(if th.depth == 0 { "Theme" } else { "Subtheme" });
                out.push_str(" at one site</p>\n<h1>");
                push_escaped(out, &th.title);
                out.push_str(" <span class=\"at\">in ");
                push_escaped(out, &site.title);
                out.push_str("</span></h1>\n<p class=\"count\">");
                push_count(out, &layout.count);
                out.push_str(" at this site. <a href=\"");
                push_escaped(out, &root);
                push_escaped(out, &th.url);
                out.push_str("\">All sites</a> · <a href=\"");
                push_escaped(out, &root);
                push_escaped(out, &site.url);
                out.push_str("\">About ");
                push_escaped(out, &site.title);
                out.push_str("</a></p></header>\n");
                let subthemes = if k == 0 {
                    pages::subthemes_at_site(study, t, s)
                } else {
                    Vec::new()
                };
                if !subthemes.is_empty() {
                    out.push_str(
                        "<nav aria-labelledby=\"sub-title\"><h2 id=\"sub-title\">Subthemes at ",
                    );
                    push_escaped(out, &site.title);
                    out.push_str("</h2><ul class=\"link-list\">");
                    for sub in &subthemes {
                        out.push_str("<li>");
                        push_link(out, &root, sub);
                        out.push_str("</li>");
                    }
                    out.push_str("</ul></nav>");
                }
                push_quotes_section(out, &list);
                if k == 0 {
                    theme_site_neighbours(out, parts, t, s, &root);
                }
                out.push('\n');
            });
        }
        Page::Site(s, k) => {
            let site = &parts.site_views[s];
            let layout = &lists.sites[s];
            let list = List::new(layout, &urls::site(&site.id), k, size, &head, &root);
            page_html(&mut out, &|out| {
                let entry = Entry {
                    kicker: "Site",
                    draft: site.draft,
                    title: &site.title,
                    summary: &site.summary,
                };
                push_header_start(out, &entry, "");
                out.push_str("</header>\n");
                if k == 0 {
                    out.push_str("<dl class=\"facts\">\n");
                    if let Some(country) = truthy(&site.country) {
                        out.push_str("<dt>Country</dt><dd>");
                        push_escaped(out, country);
                        out.push_str("</dd>");
                    }
                    out.push('\n');
                    if let Some(income) = truthy(&site.income_label) {
                        out.push_str("<dt>Income level</dt><dd>");
                        push_escaped(out, income);
                        out.push_str("</dd>");
                    }
                    out.push('\n');
                    if !site.languages.is_empty() {
                        out.push_str("<dt>Languages</dt><dd>");
                        push_escaped(out, &site.language_names.join(", "));
                        out.push_str("</dd>");
                    }
                    out.push('\n');
                    if let Some(n) = site.participants.filter(|&n| n != 0) {
                        out.push_str("<dt>Participants interviewed</dt><dd>");
                        push_number(out, n as usize);
                        out.push_str("</dd>");
                    }
                    out.push_str("\n<dt>Quoted here</dt><dd>");
                    push_count(out, &site.count);
                    out.push_str("</dd>\n</dl>\n");
                    push_prose(out, markdown);
                    out.push_str("\n<section aria-labelledby=\"themes-title\"><h2 id=\"themes-title\">Themes at ");
                    push_escaped(out, &site.title);
                    out.push_str("</h2>\n");
                    codebook(out, &parts.site_rows().site_theme_rows[s], &root);
                    out.push_str("</section>");
                }
                push_quotes_section(out, &list);
            });
        }
        Page::Group(g, k) => {
            let group = &study.groups[g].common;
            let layout = &lists.groups[g];
            let list = List::new(layout, &urls::group(&group.id), k, size, &head, &root);
            page_html(&mut out, &|out| {
                let entry = Entry {
                    kicker: "Group",
                    draft: group.draft,
                    title: &group.title,
                    summary: &group.summary,
                };
                push_header_start(out, &entry, "");
                out.push_str("\n<p class=\"count\">");
                push_participants_label(out, &layout.count);
                out.push_str(" quoted, ");
                push_quotes(out, layout.count.quotes);
                out.push_str("</p></header>\n");
                if k == 0 {
                    push_prose(out, markdown);
                    out.push_str("\n<section aria-labelledby=\"themes-title\"><h2 id=\"themes-title\">Themes in this group</h2>\n");
                    codebook(out, &pages::themes_in_group(study, g), &root);
                    out.push_str("</section>");
                }
                push_quotes_section(out, &list);
            });
        }
        Page::Quotes(k) => {
            let list = List::new(&lists.all, urls::QUOTES, k, size, &head, &root);
            page_html(&mut out, &|out| {
                out.push_str(
                    "\n<header class=\"page-header\"><h1>All quotes</h1>\n<p class=\"lead\">",
                );
                push_quotes(out, study.quotes.len());
                out.push_str(" from ");
                push_number(out, parts.participants_quoted);
                out.push_str(" participant");
                push_plural(out, parts.participants_quoted);
                out.push_str(", by site.</p></header>\n<section class=\"quotes\" aria-labelledby=\"quotes-title\">\n<h2 id=\"quotes-title\">Quotes by site</h2>\n");
                list.write(out);
                out.push_str("\n</section>\n");
            });
        }
        _ => return None,
    }
    Some((head.path, out))
}

/// `Some` when Tera would print the value: it takes an empty string as false.
fn truthy(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|s| !s.is_empty())
}

fn push_number(out: &mut String, n: usize) {
    super::push_decimal(out, n);
}

/// Tera's `pluralize`: nothing for one, `s` for any other number.
fn push_plural(out: &mut String, n: usize) {
    if n != 1 {
        out.push('s');
    }
}

/// `N quote(s)`.
fn push_quotes(out: &mut String, n: usize) {
    push_number(out, n);
    out.push_str(" quote");
    push_plural(out, n);
}

/// A count's `participants_label` (see `Count`'s `Serialize`).
fn push_participants_label(out: &mut String, c: &Count) {
    if c.is_hidden() {
        out.push_str("fewer than ");
        push_number(out, c.hide_below as usize);
        out.push_str(" participants");
    } else {
        push_number(out, c.participants);
        out.push_str(if c.participants == 1 {
            " participant"
        } else {
            " participants"
        });
    }
}

/// A count's `participants` as printed: the number, or `<k` escaped.
fn push_participants(out: &mut String, c: &Count) {
    if c.is_hidden() {
        out.push_str("&lt;");
        push_number(out, c.hide_below as usize);
    } else {
        push_number(out, c.participants);
    }
}

/// `{{ c.participants_label }}, {{ c.quotes }} quote{{ c.quotes | pluralize }}`.
fn push_count(out: &mut String, c: &Count) {
    push_participants_label(out, c);
    out.push_str(", ");
    push_quotes(out, c.quotes);
}

/// `{{ c.participants }}{% if not c.hidden %} <span class="q">({{ c.quotes }})</span>{% endif %}`.
fn push_cell(out: &mut String, c: &Count) {
    push_participants(out, c);
    if !c.is_hidden() {
        out.push_str(" <span class=\"q\">(");
        push_number(out, c.quotes);
        out.push_str(")</span>");
    }
}

/// `Quote 7` or `Quotes 1&ndash;100`, after the label for one quote or for several.
fn push_quote_range(out: &mut String, (one, several): (&str, &str), first: usize, last: usize) {
    if first == last {
        out.push_str(one);
        push_number(out, first);
    } else {
        out.push_str(several);
        push_number(out, first);
        out.push_str("&ndash;");
        push_number(out, last);
    }
}

/// The end of a section's or site block's heading, after its link: "(continued)"
/// when it began on an earlier page, its count, and `close`.
fn push_heading_end(out: &mut String, continued: bool, count: &Count, close: &str) {
    if continued {
        out.push_str(" <span class=\"continued\">(continued)</span>");
    }
    out.push_str(" <span class=\"count\">");
    push_count(out, count);
    out.push_str("</span>");
    out.push_str(close);
}

/// The section of a page's quotes: its heading, then the list.
fn push_quotes_section(out: &mut String, list: &List<'_>) {
    out.push_str("\n<section class=\"quotes\" aria-labelledby=\"quotes-title\"><h2 id=\"quotes-title\">Quotes</h2>\n");
    list.write(out);
    out.push_str("\n</section>\n");
}

/// What the header of a theme, site or group page shows about it.
struct Entry<'a> {
    /// "Theme", "Subtheme", "Site" or "Group".
    kicker: &'a str,
    draft: bool,
    title: &'a str,
    summary: &'a Option<String>,
}

/// The start of a theme, site or group page's header, as its template writes
/// it: the kicker with the draft badge, `between` (the templates differ by a
/// line break), the title and the summary; the header is left open.
fn push_header_start(out: &mut String, entry: &Entry<'_>, between: &str) {
    out.push_str("\n<header class=\"page-header\"><p class=\"kicker\">");
    out.push_str(entry.kicker);
    if entry.draft {
        out.push_str(" <span class=\"draft-badge\">Draft</span>");
    }
    out.push_str("</p>");
    out.push_str(between);
    out.push_str("<h1>");
    push_escaped(out, entry.title);
    out.push_str("</h1>\n");
    if let Some(summary) = truthy(entry.summary) {
        out.push_str("<p class=\"lead\">");
        push_escaped(out, summary);
        out.push_str("</p>");
    }
}

fn push_link(out: &mut String, root: &str, link: &LinkView) {
    super::quote_html::push_link(out, root, link.url.as_deref().unwrap_or(""), &link.title);
}

/// `{% if content %}<div class="prose">{{ content | safe }}</div>{% endif %}`.
fn push_prose(out: &mut String, html: &str) {
    if !html.is_empty() {
        out.push_str("<div class=\"prose\">");
        out.push_str(html);
        out.push_str("</div>");
    }
}

/// The `codebook` list of site.html and group.html: every theme with its count.
fn codebook(out: &mut String, rows: &[pages::ThemeRow], root: &str) {
    out.push_str("<ul class=\"codebook\">");
    for r in rows {
        out.push_str("<li class=\"depth-");
        push_number(out, r.depth);
        out.push_str("\">");
        match truthy(&r.url) {
            Some(url) => {
                super::quote_html::push_link(out, root, url, &r.theme.title);
                out.push_str(" <span class=\"count\">");
                push_count(out, &r.count);
                out.push_str("</span>");
            }
            None => {
                push_escaped(out, &r.theme.title);
                out.push_str(" <span class=\"count\">no quotes</span>");
            }
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>");
}

/// The `site-links` list items: each row's link and participants, or "no quotes".
fn site_links<'a>(
    out: &mut String,
    rows: impl Iterator<Item = (&'a Option<String>, &'a str, &'a Count)>,
    root: &str,
) {
    for (url, title, count) in rows {
        out.push_str("<li>");
        match truthy(url) {
            Some(url) => {
                super::quote_html::push_link(out, root, url, title);
                out.push_str(" <span class=\"count\">");
                push_participants_label(out, count);
                out.push_str("</span>");
            }
            None => {
                push_escaped(out, title);
                out.push_str(" <span class=\"count\">no quotes</span>");
            }
        }
        out.push_str("</li>");
    }
}

/// The first page of a theme's list, before its quotes: subthemes, charts, the
/// theme at each site and the table by site and group.
fn theme_overview(out: &mut String, parts: &Parts<'_>, t: usize, root: &str) {
    let study = parts.study;
    let children = &study.themes[t].children;
    if !children.is_empty() {
        out.push_str("<section aria-labelledby=\"subthemes-title\"><h2 id=\"subthemes-title\">Subthemes</h2>\n<ul class=\"link-list\">");
        for &c in children {
            let s = &parts.theme_views[c];
            out.push_str("<li>");
            super::quote_html::push_link(out, root, &s.url, &s.title);
            out.push_str(" <span class=\"count\">");
            push_count(out, &s.count);
            out.push_str("</span>");
            if let Some(summary) = truthy(&s.summary) {
                out.push_str("<br><span class=\"summary\">");
                push_escaped(out, summary);
                out.push_str("</span>");
            }
            out.push_str("</li>");
        }
        out.push_str("</ul></section>");
    }
    let charts = pages::theme_charts(study, t);
    out.push_str("\n<section aria-labelledby=\"at-sites-title\"><h2 id=\"at-sites-title\">This theme at each site</h2>\n<div class=\"charts\">\n<figure class=\"chart\">");
    out.push_str(&charts.sites);
    out.push_str("</figure>\n<figure class=\"chart\">");
    out.push_str(&charts.groups);
    out.push_str("</figure>\n</div>\n<ul class=\"site-links\">");
    let at_sites = &parts.site_rows().theme_at_site[t];
    site_links(
        out,
        at_sites
            .iter()
            .map(|a| (&a.url, a.site.title.as_str(), &a.count)),
        root,
    );
    out.push_str("</ul>\n<div class=\"table-scroll\" role=\"region\" aria-labelledby=\"table-title\" tabindex=\"0\">\n<table class=\"counts\">\n<caption id=\"table-title\">Participants (and quotes) on this theme by site and group");
    let hide_below = study.count(&[]).hide_below as usize;
    if hide_below > 0 {
        out.push_str(". To protect anonymity, counts of fewer than ");
        push_number(out, hide_below);
        out.push_str(" participants are shown as &lt;");
        push_number(out, hide_below);
    }
    out.push_str("</caption>\n<thead><tr><th scope=\"col\">Site</th>");
    let table = pages::site_group_table(study, t);
    for g in &table.groups {
        out.push_str("<th scope=\"col\">");
        super::quote_html::push_link(out, root, &g.url, &g.title);
        out.push_str("</th>");
    }
    out.push_str("<th scope=\"col\">All groups</th></tr></thead>\n<tbody>");
    for row in &table.rows {
        out.push_str("<tr><th scope=\"row\">");
        super::quote_html::push_link(out, root, &row.heading.url, &row.heading.title);
        out.push_str("</th>");
        for cell in &row.cells {
            out.push_str("<td>");
            push_cell(out, &cell.count);
            out.push_str("</td>");
        }
        out.push_str("<td class=\"total\">");
        push_cell(out, &row.total);
        out.push_str("</td></tr>");
    }
    out.push_str("</tbody>\n<tfoot><tr><th scope=\"row\">All sites</th>");
    for c in table.totals.iter().chain([&table.total]) {
        out.push_str("<td class=\"total\">");
        push_cell(out, c);
        out.push_str("</td>");
    }
    out.push_str("</tr></tfoot>\n</table>\n</div>\n</section>");
}

/// The first page of a theme's list at one site, after its quotes: the theme at
/// the other sites, and the other themes at the site.
fn theme_site_neighbours(out: &mut String, parts: &Parts<'_>, t: usize, s: usize, root: &str) {
    let study = parts.study;
    let rows = parts.site_rows();
    out.push_str("<nav class=\"other-sites\" aria-labelledby=\"other-title\"><h2 id=\"other-title\">This theme at other sites</h2>\n<ul class=\"site-links\" id=\"other-sites-list\">");
    site_links(
        out,
        rows.theme_at_site[t]
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != s)
            .map(|(_, a)| (&a.url, a.site.title.as_str(), &a.count)),
        root,
    );
    out.push_str("</ul></nav>\n");
    let others: Vec<&pages::ThemeRow> = rows.site_theme_rows[s]
        .iter()
        .enumerate()
        .filter(|&(i, _)| pages::is_other_top_theme(study, t, i))
        .map(|(_, r)| r)
        .collect();
    if !others.is_empty() {
        out.push_str("<nav class=\"other-themes\" aria-labelledby=\"other-themes-title\"><h2 id=\"other-themes-title\">Other themes at ");
        push_escaped(out, &parts.site_views[s].title);
        out.push_str("</h2>\n<ul class=\"site-links\" id=\"other-themes-list\">");
        site_links(
            out,
            others
                .iter()
                .map(|r| (&r.url, r.theme.title.as_str(), &r.count)),
            root,
        );
        out.push_str("</ul></nav>");
    }
}

/// `base.html` around a page's content.
struct Chrome<'a> {
    study: &'a crate::model::Study,
    head: &'a Head,
    root: &'a str,
    has_code: bool,
}

impl Chrome<'_> {
    fn write(&self, out: &mut String, content: &dyn Fn(&mut String)) {
        let meta = &self.study.meta;
        let head = self.head;
        let root = self.root;
        let kind = head.kind;
        out.push_str("<!DOCTYPE html>\n<html lang=\"");
        push_escaped(out, &meta.language);
        out.push_str("\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
        push_escaped(out, &head.title);
        out.push_str(" · ");
        push_escaped(out, &meta.title);
        out.push_str("</title>\n");
        let description = truthy(&head.description);
        if let Some(d) = description {
            out.push_str("<meta name=\"description\" content=\"");
            push_escaped(out, d);
            out.push_str("\">\n");
        }
        out.push_str("<meta name=\"generator\" content=\"thematic ");
        push_escaped(out, env!("CARGO_PKG_VERSION"));
        out.push_str("\">\n");
        if let Some(base) = truthy(&meta.base_url) {
            let url = head.path.replace("index.html", "");
            out.push_str("<link rel=\"canonical\" href=\"");
            push_escaped(out, base);
            push_escaped(out, &url);
            out.push_str("\">\n<meta property=\"og:type\" content=\"article\">\n<meta property=\"og:site_name\" content=\"");
            push_escaped(out, &meta.title);
            out.push_str("\">\n<meta property=\"og:title\" content=\"");
            push_escaped(out, &head.title);
            out.push_str("\">\n<meta property=\"og:url\" content=\"");
            push_escaped(out, base);
            push_escaped(out, &url);
            out.push_str("\">\n");
            if let Some(d) = description {
                out.push_str("<meta property=\"og:description\" content=\"");
                push_escaped(out, d);
                out.push_str("\">\n");
            }
            out.push_str("<meta property=\"og:locale\" content=\"");
            push_escaped(out, &meta.language.replace('-', "_"));
            out.push_str("\">\n<meta name=\"twitter:card\" content=\"summary\">\n");
        }
        for (file, tail) in [
            (
                "<link rel=\"icon\" href=\"",
                "static/favicon.svg\" type=\"image/svg+xml\">\n",
            ),
            ("<link rel=\"stylesheet\" href=\"", "static/style.css\">\n"),
            ("<script src=\"", "static/thematic.js\" defer></script>\n"),
        ] {
            out.push_str(file);
            push_escaped(out, root);
            out.push_str(tail);
        }
        if self.has_code {
            out.push_str("<link rel=\"stylesheet\" href=\"");
            push_escaped(out, root);
            out.push_str("static/syntax.css\">\n");
        }
        out.push_str("\n</head>\n<body class=\"page-");
        push_escaped(out, kind);
        out.push_str("\">\n<a class=\"skip-link\" href=\"#main\">Skip to content</a>\n<header class=\"site-header\">\n<div class=\"wrap\">\n<a class=\"site-title\" href=\"");
        push_escaped(out, root);
        out.push_str("index.html\">");
        push_escaped(out, &meta.title);
        out.push_str("</a>\n<nav class=\"site-nav\" aria-label=\"Main\">\n<ul>\n");
        let current = |on: bool| if on { " class=\"current\"" } else { "" };
        for (path, mark, label) in [
            ("findings/index.html", "", "Findings"),
            (
                "themes/index.html",
                current(kind == "theme" || kind == "theme_site"),
                "Themes",
            ),
            ("sites/index.html", current(kind == "site"), "Sites"),
            ("groups/index.html", current(kind == "group"), "Groups"),
            (
                "quotes/index.html",
                if kind == "quotes" {
                    " aria-current=\"page\""
                } else {
                    ""
                },
                "All quotes",
            ),
        ] {
            out.push_str("<li><a href=\"");
            push_escaped(out, root);
            out.push_str(path);
            out.push('"');
            out.push_str(mark);
            out.push('>');
            out.push_str(label);
            out.push_str("</a></li>\n");
        }
        out.push_str("</ul>\n</nav>\n<form class=\"site-search\" role=\"search\" action=\"");
        push_escaped(out, root);
        out.push_str("search/index.html\" method=\"get\" aria-label=\"Site\">\n<label for=\"site-search-q\" class=\"visually-hidden\">Search quotes and themes</label>\n<input type=\"search\" id=\"site-search-q\" name=\"q\" placeholder=\"Search quotes and themes\" autocomplete=\"off\"><button type=\"submit\">Search</button>\n</form>\n</div>\n</header>\n");
        if !head.breadcrumbs.is_empty() {
            out.push_str("<nav class=\"breadcrumbs wrap\" aria-label=\"Breadcrumb\">\n<ol>");
            for c in &head.breadcrumbs {
                out.push_str("<li>");
                match truthy(&c.url) {
                    Some(url) => super::quote_html::push_link(out, root, url, &c.title),
                    None => {
                        out.push_str("<span aria-current=\"page\">");
                        push_escaped(out, &c.title);
                        out.push_str("</span>");
                    }
                }
                out.push_str("</li>");
            }
            out.push_str("</ol>\n</nav>\n");
        }
        out.push_str("<main id=\"main\" class=\"wrap\">\n");
        content(out);
        out.push_str("\n</main>\n<footer class=\"site-footer\">\n<div class=\"wrap\">\n");
        if let Some(notice) = truthy(&meta.notice) {
            out.push_str("<p class=\"notice\">");
            push_escaped(out, notice);
            out.push_str("</p>\n");
        }
        out.push_str("<p>");
        push_escaped(out, &meta.title);
        if let Some(published) = truthy(&meta.published) {
            out.push_str(" · published ");
            push_escaped(out, published);
        }
        if let Some(doi) = truthy(&meta.doi) {
            out.push_str(" · <a href=\"https://doi.org/");
            push_escaped(out, doi);
            out.push_str("\">doi:");
            push_escaped(out, doi);
            out.push_str("</a>");
        }
        out.push_str("</p>\n<p class=\"footer-links\"><a href=\"");
        push_escaped(out, root);
        out.push_str("data/index.html\">Data and licence</a>");
        if let Some(license) = &meta.license {
            out.push_str(" · ");
            if truthy(&license.spdx).is_some() {
                out.push_str("Licensed under <a href=\"");
                push_escaped(out, &license.url);
                out.push_str("\" rel=\"license\">");
                push_escaped(out, &license.name);
                out.push_str("</a>");
            } else {
                out.push_str("<a href=\"");
                push_escaped(out, &license.url);
                out.push_str("\" rel=\"license\">Licence</a>");
            }
        }
        out.push_str("</p>\n<p class=\"generator\">Made with thematic.</p>\n</div>\n</footer>\n<div id=\"thematic-announce\" class=\"visually-hidden\" role=\"status\"></div>\n</body>\n</html>\n");
    }
}

/// One page of a quote list: `quote_list.html` with `quote_filter.html` and
/// `pagination.html`.
struct List<'a> {
    layout: &'a Layout,
    sections: Vec<Section<'a>>,
    pagination: Pagination,
    kind: &'static str,
    root: &'a str,
}

impl<'a> List<'a> {
    fn new(
        layout: &'a Layout,
        first: &str,
        k: usize,
        size: usize,
        head: &Head,
        root: &'a str,
    ) -> Self {
        List {
            layout,
            sections: layout.page_sections(k, size),
            pagination: layout.pagination(first, k, size),
            kind: head.kind,
            root,
        }
    }

    fn write(&self, out: &mut String) {
        let p = &self.pagination;
        let root = self.root;
        if self.layout.filter.has_choices() {
            self.filter(out);
            out.push('\n');
        }
        let paged = p.total > 1;
        if paged {
            self.pager(out, "Pages of quotes, top");
            out.push_str("\n<div id=\"quote-list\" class=\"quote-list\" data-page=\"");
            push_number(out, p.current);
            out.push_str("\" data-page-size=\"");
            push_number(out, p.size);
            out.push_str("\" data-list-base=\"");
            push_escaped(out, root);
            push_escaped(out, &p.base);
            out.push_str("\" data-list-index=\"");
            push_escaped(out, root);
            push_escaped(out, p.index.as_deref().unwrap_or(""));
            out.push_str("\">");
        } else {
            out.push_str("<div id=\"quote-list\" class=\"quote-list\">");
        }
        out.push('\n');
        for section in &self.sections {
            let h = section.head;
            out.push_str("<section class=\"quote-section depth-");
            push_number(out, h.depth);
            out.push_str("\" aria-labelledby=\"sec-");
            push_escaped(out, &h.tag.id);
            out.push_str("\">\n<h3 id=\"sec-");
            push_escaped(out, &h.tag.id);
            out.push_str("\">");
            super::quote_html::push_link(out, root, &h.tag.url, &h.tag.title);
            push_heading_end(out, section.continued, &h.count, "</h3>\n");
            out.push_str(&section.quotes);
            for block in &section.by_site {
                let b = block.head;
                out.push_str("<div class=\"site-block\">\n<h4 id=\"sec-");
                push_escaped(out, &h.tag.id);
                out.push('-');
                push_escaped(out, &b.site.id);
                out.push_str("\">");
                super::quote_html::push_link(out, root, &b.site.url, &b.site.title);
                push_heading_end(out, block.continued, &b.count, "</h4>\n");
                out.push_str(&block.quotes);
                out.push_str("</div>\n");
            }
            out.push_str("</section>\n");
        }
        out.push_str("<p class=\"filter-empty\" hidden>No quotes ");
        if paged {
            out.push_str("on this page ");
        }
        out.push_str("match these filters. <button type=\"button\" class=\"filter-clear\">Clear filters</button></p>\n</div>");
        if paged {
            out.push('\n');
            self.pager(out, "Pages of quotes, bottom");
        }
        out.push('\n');
    }

    /// `quote_filter.html`.
    fn filter(&self, out: &mut String) {
        let f = &self.layout.filter;
        let p = &self.pagination;
        out.push_str("<form id=\"quote-filter\" class=\"quote-filter\" hidden aria-labelledby=\"quote-filter-title\">\n<p id=\"quote-filter-title\" class=\"filter-title\">Filter these quotes</p>\n<div class=\"filter-controls\">\n");
        if !f.sites.is_empty() {
            out.push_str("<div class=\"filter-field\"><label for=\"filter-site\">Site</label>\n<select id=\"filter-site\" name=\"site\"><option value=\"\">All sites</option>");
            out.push_str(&f.site_options);
            out.push_str("</select></div>\n");
        }
        if !f.groups.is_empty() {
            out.push_str("<div class=\"filter-field\"><label for=\"filter-group\">Group</label>\n<select id=\"filter-group\" name=\"group\"><option value=\"\">All groups</option>");
            out.push_str(&f.group_options);
            out.push_str("</select></div>\n");
        }
        if !f.themes.is_empty() {
            let sub = self.kind == "theme" || self.kind == "theme_site";
            out.push_str("<div class=\"filter-field\"><label for=\"filter-theme\">");
            out.push_str(if sub { "Subtheme" } else { "Theme" });
            out.push_str(
                "</label>\n<select id=\"filter-theme\" name=\"theme\"><option value=\"\">",
            );
            out.push_str(if sub { "All subthemes" } else { "All themes" });
            out.push_str("</option>");
            out.push_str(&f.theme_options);
            out.push_str("</select></div>\n");
        }
        out.push_str("<button type=\"reset\" class=\"filter-reset\">Clear filters</button>\n</div>\n<p id=\"filter-status\" class=\"filter-status\" role=\"status\">");
        if p.total > 1 {
            push_quote_range(out, ("Showing quote ", "Showing quotes "), p.first, p.last);
            out.push_str(" of ");
            push_number(out, f.total);
        } else {
            out.push_str("Showing all ");
            push_quotes(out, f.total);
        }
        out.push_str("</p>\n<p id=\"filter-pages\" class=\"filter-pages\" aria-live=\"polite\" hidden></p>\n</form>\n");
    }

    /// `pagination.html`, labelled `label`.
    fn pager(&self, out: &mut String, label: &str) {
        let p = &self.pagination;
        let root = self.root;
        out.push_str("<nav class=\"pagination\" aria-label=\"");
        push_escaped(out, label);
        out.push_str("\">\n<p class=\"page-range\">");
        push_quote_range(out, ("Quote ", "Quotes "), p.first, p.last);
        out.push_str(" of ");
        push_number(out, p.quotes);
        out.push_str(" (page ");
        push_number(out, p.current);
        out.push_str(" of ");
        push_number(out, p.total);
        out.push_str(")</p>\n<ul>");
        let page_link = |out: &mut String, url: &str, rel: &str, label: &str| {
            out.push_str("<li><a class=\"page-link\" href=\"");
            push_escaped(out, root);
            push_escaped(out, url);
            out.push_str("\" rel=\"");
            out.push_str(rel);
            out.push_str("\">");
            out.push_str(label);
            out.push_str("<span class=\"visually-hidden\"> page</span></a></li>");
        };
        if let Some(previous) = truthy(&p.previous) {
            page_link(out, previous, "prev", "Previous");
        }
        for l in &p.links {
            out.push_str("<li>");
            match l.number.filter(|&n| n != 0) {
                None => out.push_str("<span class=\"page-gap\">&hellip;</span>"),
                Some(n) => {
                    out.push_str("<a class=\"page-link\" href=\"");
                    push_escaped(out, root);
                    push_escaped(out, &l.url);
                    out.push('"');
                    if l.current {
                        out.push_str(" aria-current=\"page\"");
                    }
                    out.push_str("><span class=\"visually-hidden\">Page </span>");
                    push_number(out, n);
                    out.push_str("</a>");
                }
            }
            out.push_str("</li>");
        }
        if let Some(next) = truthy(&p.next) {
            page_link(out, next, "next", "Next");
        }
        out.push_str("</ul>\n</nav>\n");
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use crate::model::{License, Study};
    use crate::render::{Renderer, load_site_theme};

    fn study(dir: &Path, drafts: bool) -> Study {
        let (sources, _) = crate::load::load_study(dir);
        let mut diags = crate::diagnostics::Diagnostics::new();
        crate::model::build_study(sources, crate::model::ModelOptions { drafts }, &mut diags)
    }

    /// Every file of the site rendered with the compiled templates and through
    /// Tera, by path.
    fn both_ways(dir: &Path, study: &Study) -> [BTreeMap<String, Vec<u8>>; 2] {
        let theme = load_site_theme(dir, study).expect("the site theme loads");
        assert!(
            theme.lists_are_builtin(),
            "{}: the compiled templates are in use",
            dir.display()
        );
        let files = |mut theme| {
            let rendered = Renderer::new().render(study, &mut theme);
            rendered
                .files
                .into_iter()
                .map(|f| (f.path, f.bytes.to_vec()))
                .collect::<BTreeMap<_, _>>()
        };
        let compiled = files(load_site_theme(dir, study).unwrap());
        let tera = files(theme.without_compiled_templates());
        [compiled, tera]
    }

    /// The first line where `a` and `b` differ, with both versions.
    fn first_difference(a: &[u8], b: &[u8]) -> String {
        let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
        for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
            if x != y {
                return format!("line {}:\ncompiled: {x}\ntera:     {y}", i + 1);
            }
        }
        format!("lengths {} and {}", a.len(), b.len())
    }

    fn assert_same_pages(dir: &Path, study: &Study, what: &str) {
        let [compiled, tera] = both_ways(dir, study);
        assert_eq!(
            compiled.keys().collect::<Vec<_>>(),
            tera.keys().collect::<Vec<_>>(),
            "{what}: the same files"
        );
        let mut list_pages = 0;
        for (path, bytes) in &compiled {
            let other = &tera[path];
            assert!(
                bytes == other,
                "{what}: {path} differs at {}",
                first_difference(bytes, other)
            );
            list_pages += usize::from(
                ["themes/", "sites/", "groups/", "quotes/"]
                    .iter()
                    .any(|p| path.starts_with(p) && path.ends_with("index.html")),
            );
        }
        assert!(list_pages > 3, "{what}: list pages were compared");
    }

    #[test]
    fn list_pages_are_what_the_default_templates_render() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for dir in [
            ".",
            "tests/fixtures/riverside",
            "tests/fixtures/privacy",
            "tests/fixtures/minimal",
        ] {
            let dir = root.join(dir);
            for drafts in [false, true] {
                for page_size in [100, 1, 2, 7] {
                    let mut s = study(&dir, drafts);
                    s.meta.page_size = page_size;
                    let what = format!("{}, drafts {drafts}, page_size {page_size}", dir.display());
                    assert_same_pages(&dir, &s, &what);
                }
            }
        }
    }

    #[test]
    fn list_pages_follow_the_study_metadata_as_the_templates_do() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/riverside");
        let licences = [
            None,
            Some(License {
                spdx: None,
                url: "https://example.org/terms?a=1&b=\"2\"".into(),
                name: "https://example.org/terms".into(),
            }),
            Some(License {
                spdx: Some("CC-BY-4.0".into()),
                url: "https://creativecommons.org/licenses/by/4.0/".into(),
                name: "CC-BY-4.0".into(),
            }),
        ];
        for (n, licence) in licences.into_iter().enumerate() {
            let mut s = study(&dir, n == 1);
            s.meta.license = licence;
            s.meta.page_size = 3;
            let odd = |i: usize| i % 2 == n % 2;
            s.meta.base_url = odd(0).then(|| "https://example.org/<study> & co/".into());
            s.meta.notice = odd(1).then(|| "Invented <quotes> & \"notes\"".into());
            s.meta.published = odd(0).then(String::new);
            s.meta.doi = odd(1).then(|| "10.5555/a<b>".into());
            s.meta.title = format!("A <title> & \"{n}\"");
            s.meta.language = "pt-BR".into();
            for site in &mut s.sites {
                site.common.summary = odd(0).then(|| "A <site> & more".into());
            }
            assert_same_pages(&dir, &s, &format!("riverside, metadata variant {n}"));
        }
    }
}
