//! The page set, and the context each page's template receives.

use serde::Serialize;
use tera::{Context, Value};

use super::charts::{self, Bar};
use super::paginate::{Layout, Lists, page_path, site_tag, theme_tag};
use super::views::{LinkView, TagView};
use super::{Parts, urls};
use crate::diagnostics::Diagnostic;
use crate::model::{Count, QuoteIx, SiteIx, Study, ThemeIx};

/// One page to render.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Page {
    Home,
    Themes,
    /// A theme's page; the number (from 0) is the page of its quote list.
    Theme(ThemeIx, usize),
    ThemeSite(ThemeIx, SiteIx, usize),
    Sites,
    Site(SiteIx, usize),
    Groups,
    Group(usize, usize),
    Findings,
    Finding(usize),
    Quotes(usize),
    Data,
    Search,
    NotFound,
}

impl Page {
    /// The Markdown body the page shows, if any (`Parts::markdown`'s key): only
    /// the first page of a list shows its owner's text.
    pub fn markdown_key(&self) -> Option<(&'static str, usize)> {
        match *self {
            Page::Home => Some(("home", 0)),
            Page::Theme(t, 0) => Some(("theme", t)),
            Page::Site(s, 0) => Some(("site", s)),
            Page::Group(g, 0) => Some(("group", g)),
            Page::Finding(f) => Some(("finding", f)),
            _ => None,
        }
    }
}

/// Every page of the study: one per theme at every depth, and one per theme and
/// site with quotes; as many of each as its quote list has pages.
pub(crate) fn all_pages(study: &Study, lists: &Lists) -> Vec<Page> {
    let size = lists.size;
    let mut pages = vec![
        Page::Home,
        Page::Themes,
        Page::Sites,
        Page::Groups,
        Page::Findings,
        Page::Data,
        Page::Search,
        Page::NotFound,
    ];
    pages.extend((0..lists.all.pages(size)).map(Page::Quotes));
    for t in 0..study.themes.len() {
        pages.extend((0..lists.themes[t].pages(size)).map(|k| Page::Theme(t, k)));
        for (s, layout) in lists.theme_sites[t].iter().enumerate() {
            if let Some(layout) = layout {
                pages.extend((0..layout.pages(size)).map(|k| Page::ThemeSite(t, s, k)));
            }
        }
    }
    for (s, layout) in lists.sites.iter().enumerate() {
        pages.extend((0..layout.pages(size)).map(|k| Page::Site(s, k)));
    }
    for (g, layout) in lists.groups.iter().enumerate() {
        pages.extend((0..layout.pages(size)).map(|k| Page::Group(g, k)));
    }
    pages.extend((0..study.findings.len()).map(Page::Finding));
    pages
}

/// A row of a counts table: a label, its link, and one cell per column.
#[derive(Serialize)]
pub(crate) struct Row {
    pub heading: TagView,
    depth: usize,
    pub cells: Vec<Cell>,
    pub total: Count,
}

#[derive(Serialize)]
pub(crate) struct Cell {
    pub count: Count,
    /// Link to the page for this cell, when it exists.
    url: Option<String>,
    /// 0 (none) to 4 (most): a second channel for the number, never the only one.
    heat: u8,
}

fn heat(value: usize, max: usize) -> u8 {
    if value == 0 || max == 0 {
        0
    } else {
        (1 + (value * 3) / max).min(4) as u8
    }
}

impl Parts<'_> {
    pub(crate) fn site_rows(&self) -> &SiteRows {
        self.site_rows
            .get_or_init(|| SiteRows::new(self.study, &self.lists))
    }

    pub(crate) fn markdown(&self, kind: &'static str, i: usize) -> (&str, bool) {
        self.markdown
            .get(&(kind, i))
            .map(|m| (m.html.as_str(), m.has_code))
            .unwrap_or(("", false))
    }
}

fn crumbs(items: Vec<(String, Option<String>)>) -> Vec<LinkView> {
    let mut out = vec![LinkView {
        title: "Home".into(),
        url: Some(urls::HOME.into()),
    }];
    out.extend(
        items
            .into_iter()
            .map(|(title, url)| LinkView { title, url }),
    );
    out
}

fn theme_ancestry(study: &Study, t: ThemeIx) -> Vec<(String, Option<String>)> {
    let mut chain = Vec::new();
    let mut cur = study.themes[t].parent;
    while let Some(p) = cur {
        chain.push((
            study.themes[p].common.title.clone(),
            Some(urls::theme(&study.themes[p].common.id)),
        ));
        cur = study.themes[p].parent;
    }
    chain.reverse();
    let mut items = vec![("Themes".to_string(), Some(urls::THEMES.to_string()))];
    items.extend(chain);
    items
}

/// Puts a list's page `k` into the context: its sections, the list's filter and
/// the page links.
fn insert_list(ctx: &mut Context, layout: &Layout, first: &str, k: usize, size: usize) {
    ctx.insert_value("sections", layout.page_sections_value(k, size));
    // `false` when there is nothing to choose, so that `{% if filter %}` leaves
    // the filter out.
    if layout.filter.has_choices() {
        ctx.insert_value("filter", layout.filter_value());
    } else {
        ctx.insert("filter", &false);
    }
    ctx.insert("pagination", &layout.pagination(first, k, size));
}

/// A page's title, with its number when its list has several pages.
fn paged_title(title: &str, k: usize, pages: usize) -> String {
    if pages > 1 {
        format!("{title}, page {} of {pages}", k + 1)
    } else {
        title.to_string()
    }
}

/// The last breadcrumbs of a list's page: the list's title, linking to its first
/// page from the pages after it, and the page number.
fn paged_crumbs(title: &str, first: &str, k: usize) -> Vec<(String, Option<String>)> {
    if k == 0 {
        vec![(title.to_string(), None)]
    } else {
        vec![
            (title.to_string(), Some(first.to_string())),
            (format!("Page {}", k + 1), None),
        ]
    }
}

#[derive(Serialize)]
struct PageInfo<'a> {
    kind: &'static str,
    title: &'a str,
    url: &'a str,
    description: Option<&'a str>,
}

/// What `base.html` shows of a page besides its content.
pub(crate) struct Head {
    pub kind: &'static str,
    /// The page's path, which is also its `url`.
    pub path: String,
    pub title: String,
    pub description: Option<String>,
    pub breadcrumbs: Vec<LinkView>,
}

impl Head {
    /// A page outside the quote lists: its crumbs are Home and its title.
    fn single(kind: &'static str, path: &str, title: &str, description: Option<&str>) -> Self {
        Head {
            kind,
            path: path.into(),
            title: title.into(),
            description: description.map(Into::into),
            breadcrumbs: crumbs(vec![(title.into(), None)]),
        }
    }
}

/// The head of a page of a quote list (a theme's, a theme's at one site, a
/// site's, a group's or all quotes), or `None` for any other page.
pub(crate) fn list_head(study: &Study, lists: &Lists, page: &Page) -> Option<Head> {
    let size = lists.size;
    Some(match *page {
        Page::Theme(t, k) => {
            let th = &study.themes[t];
            let first = urls::theme(&th.common.id);
            let mut items = theme_ancestry(study, t);
            items.extend(paged_crumbs(&th.common.title, &first, k));
            Head {
                kind: "theme",
                path: page_path(&first, k),
                title: paged_title(&th.common.title, k, lists.themes[t].pages(size)),
                description: Some(th.common.summary.clone().unwrap_or_else(|| {
                    format!(
                        "What participants in {} said about {}.",
                        study.meta.title,
                        th.common.title.to_lowercase()
                    )
                })),
                breadcrumbs: crumbs(items),
            }
        }
        Page::ThemeSite(t, s, k) => {
            let th = &study.themes[t];
            let site = &study.sites[s];
            let first = urls::theme_site(&th.common.id, &site.common.id);
            let pages = lists.theme_sites[t][s]
                .as_ref()
                .map_or(1, |l| l.pages(size));
            let name = format!("{} in {}", th.common.title, site.common.title);
            let mut items = theme_ancestry(study, t);
            items.push((th.common.title.clone(), Some(urls::theme(&th.common.id))));
            items.extend(paged_crumbs(&site.common.title, &first, k));
            Head {
                kind: "theme_site",
                path: page_path(&first, k),
                title: paged_title(&name, k, pages),
                description: Some(format!(
                    "What participants at {} said about {}.",
                    site.common.title,
                    th.common.title.to_lowercase()
                )),
                breadcrumbs: crumbs(items),
            }
        }
        Page::Site(s, k) => {
            let site = &study.sites[s];
            let first = urls::site(&site.common.id);
            let mut items = vec![("Sites".into(), Some(urls::SITES.into()))];
            items.extend(paged_crumbs(&site.common.title, &first, k));
            Head {
                kind: "site",
                path: page_path(&first, k),
                title: paged_title(&site.common.title, k, lists.sites[s].pages(size)),
                description: Some(site.common.summary.clone().unwrap_or_else(|| {
                    format!(
                        "What participants at {} said, theme by theme.",
                        site.common.title
                    )
                })),
                breadcrumbs: crumbs(items),
            }
        }
        Page::Group(g, k) => {
            let group = &study.groups[g];
            let first = urls::group(&group.common.id);
            let mut items = vec![("Groups".into(), Some(urls::GROUPS.into()))];
            items.extend(paged_crumbs(&group.common.title, &first, k));
            Head {
                kind: "group",
                path: page_path(&first, k),
                title: paged_title(&group.common.title, k, lists.groups[g].pages(size)),
                description: Some(group.common.summary.clone().unwrap_or_else(|| {
                    format!(
                        "What participants in the group {} said, theme by theme.",
                        group.common.title
                    )
                })),
                breadcrumbs: crumbs(items),
            }
        }
        Page::Quotes(k) => Head {
            kind: "quotes",
            path: page_path(urls::QUOTES, k),
            title: paged_title("All quotes", k, lists.all.pages(size)),
            description: Some("Every published quote, by site.".into()),
            breadcrumbs: crumbs(paged_crumbs("All quotes", urls::QUOTES, k)),
        },
        _ => return None,
    })
}

/// Renders one page's skeleton: (path, HTML with quote markers).
pub(crate) fn render_page(parts: &Parts<'_>, page: &Page) -> Result<(String, String), Diagnostic> {
    if parts.theme.lists_are_builtin()
        && let Some(rendered) = super::list_html::render(parts, page)
    {
        return Ok(rendered);
    }
    let study = parts.study;
    let lists = &parts.lists;
    let size = lists.size;
    let mut ctx = Context::new();
    let list_head = || list_head(study, lists, page).expect("a list page has a list head");
    let (template, head, has_code): (&str, Head, bool) = match *page {
        Page::Home => {
            let (html, code) = parts.markdown("home", 0);
            ctx.insert("content", html);
            ctx.insert(
                "home_title",
                &study.home.as_ref().and_then(|h| h.title.clone()),
            );
            ctx.insert("matrix", &matrix(study));
            let description = study
                .meta
                .description
                .as_deref()
                .or(study.meta.subtitle.as_deref());
            let mut head = Head::single("home", urls::HOME, &study.meta.title, description);
            head.breadcrumbs = Vec::new();
            ("index.html", head, code)
        }
        Page::Themes => (
            "themes.html",
            Head::single(
                "themes",
                urls::THEMES,
                "Themes",
                Some(
                    "The codebook: every theme and subtheme, with the participants and quotes behind it.",
                ),
            ),
            false,
        ),
        Page::Theme(t, k) => {
            let th = &study.themes[t];
            ctx.insert_value("theme", parts.theme_values[t].clone());
            let mut code = false;
            if k == 0 {
                let (html, c) = parts.markdown("theme", t);
                code = c;
                ctx.insert("content", html);
                ctx.insert(
                    "subthemes",
                    &th.children
                        .iter()
                        .map(|&c| &parts.theme_views[c])
                        .collect::<Vec<_>>(),
                );
                ctx.insert("site_group_table", &site_group_table(study, t));
                ctx.insert_value("at_sites", theme_at_sites(parts, t, None));
                ctx.insert("charts", &theme_charts(study, t));
            }
            insert_list(
                &mut ctx,
                &lists.themes[t],
                &urls::theme(&th.common.id),
                k,
                size,
            );
            ("theme.html", list_head(), code)
        }
        Page::ThemeSite(t, s, k) => {
            let th = &study.themes[t];
            let site = &study.sites[s];
            let Some(layout) = lists.theme_sites[t][s].as_ref() else {
                unreachable!("pages are made only for theme and site pairs with quotes")
            };
            ctx.insert_value("theme", parts.theme_values[t].clone());
            ctx.insert_value("site", parts.site_values[s].clone());
            ctx.insert("count", &layout.count);
            if k == 0 {
                ctx.insert_value("other_sites", theme_at_sites(parts, t, Some(s)));
                ctx.insert_value("other_themes", other_themes_at_site(parts, t, s));
                ctx.insert("subthemes", &subthemes_at_site(study, t, s));
            }
            let first = urls::theme_site(&th.common.id, &site.common.id);
            insert_list(&mut ctx, layout, &first, k, size);
            ("theme_site.html", list_head(), false)
        }
        Page::Sites => (
            "sites.html",
            Head::single(
                "sites",
                urls::SITES,
                "Sites",
                Some("The study sites, with the participants and quotes from each."),
            ),
            false,
        ),
        Page::Site(s, k) => {
            let site = &study.sites[s];
            ctx.insert_value("site", parts.site_values[s].clone());
            let mut code = false;
            if k == 0 {
                let (html, c) = parts.markdown("site", s);
                code = c;
                ctx.insert("content", html);
                ctx.insert_value("theme_rows", themes_at_site(parts, s));
            }
            insert_list(
                &mut ctx,
                &lists.sites[s],
                &urls::site(&site.common.id),
                k,
                size,
            );
            ("site.html", list_head(), code)
        }
        Page::Groups => (
            "groups.html",
            Head::single(
                "groups",
                urls::GROUPS,
                "Groups",
                Some("The responder groups, with the participants and quotes from each."),
            ),
            false,
        ),
        Page::Group(g, k) => {
            let group = &study.groups[g];
            let layout = &lists.groups[g];
            ctx.insert("group", &group_view(study, g, layout.count));
            let mut code = false;
            if k == 0 {
                let (html, c) = parts.markdown("group", g);
                code = c;
                ctx.insert("content", html);
                ctx.insert("theme_rows", &themes_in_group(study, g));
            }
            insert_list(&mut ctx, layout, &urls::group(&group.common.id), k, size);
            ("group.html", list_head(), code)
        }
        Page::Findings => (
            "findings.html",
            Head::single(
                "findings",
                urls::FINDINGS,
                "Findings",
                Some("The study's findings."),
            ),
            false,
        ),
        Page::Finding(f) => {
            let finding = &study.findings[f];
            let (html, code) = parts.markdown("finding", f);
            let link = |i: usize| LinkView {
                title: study.findings[i].common.title.clone(),
                url: Some(urls::finding(&study.findings[i].common.id)),
            };
            ctx.insert(
                "finding",
                &group_like(
                    finding.common.id.clone(),
                    &finding.common,
                    urls::finding(&finding.common.id),
                ),
            );
            ctx.insert("content", html);
            ctx.insert("previous", &f.checked_sub(1).map(link));
            ctx.insert("next", &(f + 1 < study.findings.len()).then(|| link(f + 1)));
            let title = finding.common.title.clone();
            let head =
                Head {
                    kind: "finding",
                    path: urls::finding(&finding.common.id),
                    description: Some(finding.common.summary.clone().unwrap_or_else(|| {
                        format!("{}: {}.", study.meta.title, finding.common.title)
                    })),
                    breadcrumbs: crumbs(vec![
                        ("Findings".into(), Some(urls::FINDINGS.into())),
                        (title.clone(), None),
                    ]),
                    title,
                };
            ("finding.html", head, code)
        }
        Page::Quotes(k) => {
            insert_list(&mut ctx, &lists.all, urls::QUOTES, k, size);
            ("quotes.html", list_head(), false)
        }
        Page::Data => (
            "data.html",
            Head::single(
                "data",
                urls::DATA,
                "Data",
                Some(
                    "Download the study's published quotes and codebook as CSV, JSON and REFI-QDA files.",
                ),
            ),
            false,
        ),
        Page::Search => (
            "search.html",
            Head::single(
                "search",
                urls::SEARCH,
                "Search",
                Some("Search the study's quotes, themes, sites, groups and findings."),
            ),
            false,
        ),
        Page::NotFound => {
            let mut head = Head::single("404", urls::NOT_FOUND, "Page not found", None);
            head.breadcrumbs = Vec::new();
            ("404.html", head, false)
        }
    };
    // Links stay relative everywhere, 404.html included: base_url is only for canonical links.
    let root = urls::root_prefix(&head.path);
    ctx.insert("root", &root);
    ctx.insert(
        "page",
        &PageInfo {
            kind: head.kind,
            title: &head.title,
            url: &head.path,
            description: head.description.as_deref(),
        },
    );
    ctx.insert("breadcrumbs", &head.breadcrumbs);
    ctx.insert("has_code", &has_code);
    let html = parts.theme.tera.render(template, &ctx).map_err(|e| {
        parts
            .theme
            .diagnostic(&e, &format!("while rendering {}", head.path))
    })?;
    Ok((head.path, html))
}

#[derive(Serialize)]
struct EntryInfo {
    id: String,
    title: String,
    summary: Option<String>,
    url: String,
    draft: bool,
    count: Count,
}

fn group_like(id: String, c: &crate::model::Common, url: String) -> EntryInfo {
    EntryInfo {
        id,
        title: c.title.clone(),
        summary: c.summary.clone(),
        url,
        draft: c.draft,
        count: Count::default(),
    }
}

fn group_view(study: &Study, g: usize, count: Count) -> EntryInfo {
    let c = &study.groups[g].common;
    EntryInfo {
        count,
        ..group_like(c.id.clone(), c, urls::group(&c.id))
    }
}

#[derive(Serialize)]
struct Matrix {
    columns: Vec<TagView>,
    rows: Vec<Row>,
}

/// The theme-by-site matrix: every theme (tree order) against every site.
fn matrix(study: &Study) -> Matrix {
    let mut rows: Vec<Row> = Vec::with_capacity(study.themes.len());
    let mut max = 0;
    for t in 0..study.themes.len() {
        let cells: Vec<Cell> = (0..study.sites.len())
            .map(|s| {
                let qs = &study.index.theme_site_quotes[t][s];
                let count = study.count(qs);
                max = max.max(count.participants);
                Cell {
                    url: (!qs.is_empty()).then(|| {
                        urls::theme_site(&study.themes[t].common.id, &study.sites[s].common.id)
                    }),
                    count,
                    heat: 0,
                }
            })
            .collect();
        rows.push(Row {
            heading: theme_tag(study, t),
            depth: study.themes[t].depth,
            cells,
            total: study.count(&study.index.theme_quotes[t]),
        });
    }
    for r in &mut rows {
        for c in &mut r.cells {
            // A suppressed small count must not show its size through its shade either.
            c.heat = if c.count.is_hidden() {
                1
            } else {
                heat(c.count.participants, max)
            };
        }
    }
    Matrix {
        columns: (0..study.sites.len()).map(|s| site_tag(study, s)).collect(),
        rows,
    }
}

#[derive(Serialize)]
pub(crate) struct SiteGroupTable {
    pub groups: Vec<TagView>,
    pub rows: Vec<Row>,
    pub totals: Vec<Count>,
    pub total: Count,
}

/// Participants and quotes of a theme by site (rows) and group (columns).
pub(crate) fn site_group_table(study: &Study, t: ThemeIx) -> SiteGroupTable {
    let ng = study.groups.len();
    let mut cells: Vec<Vec<Vec<QuoteIx>>> = vec![vec![Vec::new(); ng]; study.sites.len()];
    let mut by_group: Vec<Vec<QuoteIx>> = vec![Vec::new(); ng];
    for &q in &study.index.theme_quotes[t] {
        let quote = &study.quotes[q];
        cells[quote.site][quote.group].push(q);
        by_group[quote.group].push(q);
    }
    let rows = (0..study.sites.len())
        .map(|s| Row {
            heading: site_tag(study, s),
            depth: 0,
            total: study.count(&study.index.theme_site_quotes[t][s]),
            cells: cells[s]
                .iter()
                .map(|qs| Cell {
                    count: study.count(qs),
                    url: None,
                    heat: 0,
                })
                .collect(),
        })
        .collect();
    SiteGroupTable {
        groups: (0..ng)
            .map(|g| TagView {
                id: study.groups[g].common.id.clone(),
                title: study.groups[g].common.title.clone(),
                url: urls::group(&study.groups[g].common.id),
            })
            .collect(),
        rows,
        totals: by_group.iter().map(|qs| study.count(qs)).collect(),
        total: study.count(&study.index.theme_quotes[t]),
    }
}

#[derive(Serialize)]
pub(crate) struct ThemeCharts {
    pub sites: String,
    pub groups: String,
}

/// Participants on a theme per site and per group, as inline SVG.
pub(crate) fn theme_charts(study: &Study, t: ThemeIx) -> ThemeCharts {
    let mut by_group: Vec<Vec<QuoteIx>> = vec![Vec::new(); study.groups.len()];
    for &q in &study.index.theme_quotes[t] {
        by_group[study.quotes[q].group].push(q);
    }
    let sites: Vec<Bar> = (0..study.sites.len())
        .map(|s| Bar {
            label: study.sites[s].common.title.clone(),
            count: study.count(&study.index.theme_site_quotes[t][s]),
        })
        .collect();
    let groups: Vec<Bar> = by_group
        .iter()
        .enumerate()
        .map(|(g, qs)| Bar {
            label: study.groups[g].common.title.clone(),
            count: study.count(qs),
        })
        .collect();
    ThemeCharts {
        sites: charts::participants_chart("chart-sites", "Participants per site", &sites),
        groups: charts::participants_chart("chart-groups", "Participants per group", &groups),
    }
}

/// A theme at one site, in the lists of a theme's sites.
#[derive(Serialize)]
pub(crate) struct AtSite {
    pub site: TagView,
    pub count: Count,
    /// The theme-by-site page, when the theme has quotes there.
    pub url: Option<String>,
}

/// Each theme at each site, as template values made once for all pages: every
/// theme-by-site page lists its theme at the other sites and the other themes
/// at its site, so the same rows recur on thousands of pages.
pub(crate) struct SiteRows {
    /// `[theme][site]`: the theme at the site.
    pub theme_at_site: Vec<Vec<AtSite>>,
    /// `[site][theme]`: the theme's row at the site.
    pub site_theme_rows: Vec<Vec<ThemeRow>>,
    /// The same rows as template values.
    theme_at_site_values: Vec<Vec<Value>>,
    site_theme_row_values: Vec<Vec<Value>>,
}

impl SiteRows {
    /// Made on one thread on purpose: the first page that needs the rows makes
    /// them inside `OnceLock::get_or_init`, in the middle of the parallel page
    /// loop. Parallel work in there would let rayon hand the waiting thread
    /// another page, which could ask the same cell again and wait on itself
    /// (rayon-rs/rayon#592). The rows are themes times sites: the 2,000 of 40
    /// themes at 50 sites take 7-10 ms, about half a percent of that build.
    pub(crate) fn new(study: &Study, lists: &Lists) -> Self {
        let theme_site = |t: ThemeIx, s: SiteIx| {
            let count = lists.theme_site_count(study, t, s);
            let url = (count.quotes > 0)
                .then(|| urls::theme_site(&study.themes[t].common.id, &study.sites[s].common.id));
            (count, url)
        };
        let theme_at_site: Vec<Vec<AtSite>> = (0..study.themes.len())
            .map(|t| {
                (0..study.sites.len())
                    .map(|s| {
                        let (count, url) = theme_site(t, s);
                        let site = site_tag(study, s);
                        AtSite { site, count, url }
                    })
                    .collect()
            })
            .collect();
        let site_theme_rows: Vec<Vec<ThemeRow>> = (0..study.sites.len())
            .map(|s| {
                (0..study.themes.len())
                    .map(|t| {
                        let (count, url) = theme_site(t, s);
                        ThemeRow {
                            theme: theme_tag(study, t),
                            depth: study.themes[t].depth,
                            count,
                            url,
                        }
                    })
                    .collect()
            })
            .collect();
        SiteRows {
            theme_at_site_values: theme_at_site
                .iter()
                .map(|r| r.iter().map(Value::from_serializable).collect())
                .collect(),
            site_theme_row_values: site_theme_rows
                .iter()
                .map(|r| r.iter().map(Value::from_serializable).collect())
                .collect(),
            theme_at_site,
            site_theme_rows,
        }
    }
}

/// A theme at each site (optionally leaving one out), with links to the theme-by-site pages.
fn theme_at_sites(parts: &Parts<'_>, t: ThemeIx, except: Option<SiteIx>) -> Value {
    let rows = &parts.site_rows().theme_at_site_values[t];
    let kept = rows.iter().enumerate().filter(|&(s, _)| Some(s) != except);
    Value::from(kept.map(|(_, row)| row.clone()).collect::<Vec<Value>>())
}

/// A theme's row in a list of themes: its count, and its page when it has quotes.
#[derive(Serialize)]
pub(crate) struct ThemeRow {
    pub theme: TagView,
    pub depth: usize,
    pub count: Count,
    pub url: Option<String>,
}

/// Every theme with its count at one site, linking to the theme-by-site pages.
fn themes_at_site(parts: &Parts<'_>, s: SiteIx) -> Value {
    Value::from(parts.site_rows().site_theme_row_values[s].clone())
}

/// Whether theme `i` is among the other top-level themes at a site, beside the
/// theme-by-site page of `t` (all but `t`'s own top-level theme), for moving
/// sideways from one such page to the next.
pub(crate) fn is_other_top_theme(study: &Study, t: ThemeIx, i: ThemeIx) -> bool {
    study.themes[i].depth == 0 && i != study.root_of(t)
}

fn other_themes_at_site(parts: &Parts<'_>, t: ThemeIx, s: SiteIx) -> Value {
    let rows = &parts.site_rows().site_theme_row_values[s];
    let kept = rows
        .iter()
        .enumerate()
        .filter(|&(i, _)| is_other_top_theme(parts.study, t, i));
    Value::from(kept.map(|(_, row)| row.clone()).collect::<Vec<Value>>())
}

/// The subthemes of theme `t` with quotes at site `s`, linking to their pages there.
pub(crate) fn subthemes_at_site(study: &Study, t: ThemeIx, s: SiteIx) -> Vec<LinkView> {
    let site = &study.sites[s];
    study.themes[t]
        .children
        .iter()
        .filter(|&&c| !study.index.theme_site_quotes[c][s].is_empty())
        .map(|&c| LinkView {
            title: study.themes[c].common.title.clone(),
            url: Some(urls::theme_site(
                &study.themes[c].common.id,
                &site.common.id,
            )),
        })
        .collect()
}

/// Every theme with its count in one group.
pub(crate) fn themes_in_group(study: &Study, g: usize) -> Vec<ThemeRow> {
    (0..study.themes.len())
        .map(|t| {
            let qs: Vec<QuoteIx> = study.index.theme_quotes[t]
                .iter()
                .copied()
                .filter(|&q| study.quotes[q].group == g)
                .collect();
            ThemeRow {
                theme: theme_tag(study, t),
                depth: study.themes[t].depth,
                count: study.count(&qs),
                url: (!qs.is_empty()).then(|| urls::theme(&study.themes[t].common.id)),
            }
        })
        .collect()
}
