//! Quote lists in reading order, split into pages of `page_size` quotes.
//!
//! A list (a theme's quotes, a site's, ...) is laid out once, whole: its quotes
//! in reading order under their section headings (and site headings), with the
//! counts of every heading and the list's filter options. Each of its pages is
//! then a slice of that layout, so that no page costs more than its own quotes
//! and counts always describe the whole list, not the page.

use serde::Serialize;
use tera::Value;

use super::filters::{ListOf, QuoteFilter, quote_filter};
use super::urls;
use super::views::TagView;
use crate::model::{Count, QuoteIx, SiteIx, Study, ThemeIx};

/// A list laid out for reading.
pub(crate) struct Layout {
    sections: Vec<SectionHead>,
    /// Every quote of the list, in reading order.
    entries: Vec<Entry>,
    /// The list's filter: options and total over the whole list.
    pub filter: QuoteFilter,
    /// Quotes and participants in the whole list.
    pub count: Count,
    /// `filter` as templates see it, made on first use and shared by every page
    /// of the list (each page's context would otherwise convert it anew).
    filter_value: std::sync::OnceLock<tera::Value>,
}

/// A section's heading: made once with the list, then shared by every page
/// that shows the section (as template values too, which Tera would otherwise
/// convert anew for each page).
pub(crate) struct SectionHead {
    pub tag: TagView,
    pub depth: usize,
    pub count: Count,
    heading_value: Value,
    depth_value: Value,
    count_value: Value,
    pub blocks: Vec<BlockHead>,
}

/// A site block's heading within a section.
pub(crate) struct BlockHead {
    pub site: TagView,
    pub count: Count,
    site_value: Value,
    count_value: Value,
}

impl SectionHead {
    fn new(tag: TagView, depth: usize, count: Count) -> Self {
        SectionHead {
            heading_value: Value::from_serializable(&tag),
            depth_value: Value::from(depth),
            count_value: Value::from_serializable(&count),
            tag,
            depth,
            count,
            blocks: Vec::new(),
        }
    }
}

impl BlockHead {
    fn new(site: TagView, count: Count) -> Self {
        BlockHead {
            site_value: Value::from_serializable(&site),
            count_value: Value::from_serializable(&count),
            site,
            count,
        }
    }
}

#[derive(Clone, Copy)]
struct Entry {
    section: u32,
    /// The site block within the section, or [`NO_BLOCK`].
    block: u32,
    quote: u32,
}

const NO_BLOCK: u32 = u32::MAX;

/// A heading and the quotes under it on one page, possibly split further by site.
pub(crate) struct Section<'a> {
    /// Its head: the theme (or site) the section is about (`heading`), its depth
    /// (`depth`), and the quotes and participants in the whole section (`count`).
    pub head: &'a SectionHead,
    /// True when the section began on an earlier page.
    pub continued: bool,
    /// Quotes directly in this section: a marker until spliced.
    pub quotes: String,
    /// Or: the section's quotes split by site.
    pub by_site: Vec<Block<'a>>,
}

/// A site's quotes within a section on one page.
pub(crate) struct Block<'a> {
    /// The site (`site`) and its quotes in the whole section (`count`).
    pub head: &'a BlockHead,
    /// True when the block began on an earlier page.
    pub continued: bool,
    /// The quotes: a marker until spliced.
    pub quotes: String,
}

/// A template map of these fields.
fn map<const N: usize>(fields: [(&'static str, Value); N]) -> Value {
    let mut m = tera::Map::default();
    for (k, v) in fields {
        m.insert(k.into(), v);
    }
    m.into()
}

/// Where a page stands in its list, for the page links and the filter.
#[derive(Serialize)]
pub(crate) struct Pagination {
    /// This page's number, from 1.
    pub current: usize,
    /// Number of pages.
    pub total: usize,
    /// Quotes in the whole list.
    pub quotes: usize,
    /// Position of the page's first and last quote in the list, from 1.
    pub first: usize,
    pub last: usize,
    /// Quotes per page.
    pub size: usize,
    /// The list's first page, relative to the root, without `index.html`: page
    /// `n` is `{base}page/{n}/index.html`.
    pub base: String,
    pub previous: Option<String>,
    pub next: Option<String>,
    /// Numbered links: the first and last page and those around this one; a
    /// `None` number stands for the pages left out.
    pub links: Vec<PageLink>,
    /// The script with the whole list's facets, for filtering across pages
    /// (only when there is more than one page).
    pub index: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct PageLink {
    pub number: Option<usize>,
    pub url: String,
    pub current: bool,
}

/// The path of page `k` (from 0) of the list whose first page is at `first`.
pub(crate) fn page_path(first: &str, k: usize) -> String {
    if k == 0 {
        first.to_string()
    } else {
        let base = first.strip_suffix("index.html").unwrap_or(first);
        format!("{base}page/{}/index.html", k + 1)
    }
}

/// The script beside a list's first page that holds its facets.
pub(crate) fn index_path(first: &str) -> String {
    let base = first.strip_suffix("index.html").unwrap_or(first);
    format!("{base}list.js")
}

/// Number of pages of a list of `len` quotes (an empty list still has its page).
pub(crate) fn page_count(len: usize, size: usize) -> usize {
    len.div_ceil(size.max(1)).max(1)
}

pub(crate) fn theme_tag(study: &Study, t: ThemeIx) -> TagView {
    let c = &study.themes[t].common;
    TagView {
        id: c.id.clone(),
        title: c.title.clone(),
        url: urls::theme(&c.id),
    }
}

pub(crate) fn site_tag(study: &Study, s: SiteIx) -> TagView {
    let c = &study.sites[s].common;
    TagView {
        id: c.id.clone(),
        title: c.title.clone(),
        url: urls::site(&c.id),
    }
}

/// Index of each theme's subtree end: themes `t..subtree_end[t]` are `t` and its descendants.
pub(crate) fn subtree_ends(study: &Study) -> Vec<usize> {
    let mut end = vec![0; study.themes.len()];
    for t in (0..study.themes.len()).rev() {
        end[t] = study.themes[t]
            .children
            .iter()
            .map(|&c| end[c])
            .max()
            .unwrap_or(t + 1);
    }
    end
}

/// The theme a quote is shown under on a page about `within`: the first of its
/// themes, in tree order, inside `within`'s subtree.
fn section_theme(study: &Study, subtree_end: &[usize], q: QuoteIx, within: ThemeIx) -> ThemeIx {
    let end = subtree_end[within];
    study.quotes[q]
        .themes
        .iter()
        .copied()
        .filter(|&t| t >= within && t < end)
        .min()
        .unwrap_or(within)
}

/// The top-level theme a quote is shown under on site and group pages.
fn top_section(study: &Study, q: QuoteIx) -> ThemeIx {
    let first = study.quotes[q].themes.iter().copied().min().unwrap_or(0);
    study.root_of(first)
}

/// The quotes of theme `t`'s list (`quotes`: all of them, or those at one site)
/// in reading order: by the subtheme each is shown under, then by site unless
/// `one_site`, then in study order. Each comes with its section theme and site.
fn theme_order(
    study: &Study,
    subtree_end: &[usize],
    t: ThemeIx,
    quotes: &[QuoteIx],
    one_site: bool,
) -> Vec<(ThemeIx, SiteIx, QuoteIx)> {
    let mut order: Vec<(ThemeIx, SiteIx, QuoteIx)> = quotes
        .iter()
        .map(|&q| {
            let site = if one_site { 0 } else { study.quotes[q].site };
            (section_theme(study, subtree_end, q, t), site, q)
        })
        .collect();
    order.sort_unstable();
    order
}

/// Calls `f` with each run of equal keys in `items`, and the run's range.
fn runs<T, K: PartialEq>(
    items: &[T],
    key: impl Fn(&T) -> K,
    mut f: impl FnMut(std::ops::Range<usize>),
) {
    let mut start = 0;
    for i in 1..=items.len() {
        if i == items.len() || key(&items[i]) != key(&items[start]) {
            if start < i {
                f(start..i);
            }
            start = i;
        }
    }
}

/// Builds a layout from quotes in reading order, each with its section theme (or
/// site, `by_site_heading`) and, when split by site, its site block.
fn layout(
    study: &Study,
    order: &[(usize, SiteIx, QuoteIx)],
    heading: impl Fn(usize) -> (TagView, usize),
    split_by_site: bool,
    filter: QuoteFilter,
) -> Layout {
    let quotes: Vec<QuoteIx> = order.iter().map(|e| e.2).collect();
    let mut sections = Vec::new();
    let mut entries = Vec::with_capacity(order.len());
    runs(
        order,
        |e| e.0,
        |range| {
            let section = sections.len() as u32;
            let (tag, depth) = heading(order[range.start].0);
            let mut head = SectionHead::new(tag, depth, study.count(&quotes[range.clone()]));
            if split_by_site {
                let part = &order[range.clone()];
                runs(
                    part,
                    |e| e.1,
                    |r| {
                        let block = head.blocks.len() as u32;
                        let r = (range.start + r.start)..(range.start + r.end);
                        head.blocks.push(BlockHead::new(
                            site_tag(study, order[r.start].1),
                            study.count(&quotes[r.clone()]),
                        ));
                        entries.extend(quotes[r].iter().map(|&q| Entry {
                            section,
                            block,
                            quote: q as u32,
                        }));
                    },
                );
            } else {
                entries.extend(quotes[range].iter().map(|&q| Entry {
                    section,
                    block: NO_BLOCK,
                    quote: q as u32,
                }));
            }
            sections.push(head);
        },
    );
    Layout {
        sections,
        entries,
        filter,
        count: study.count(&quotes),
        filter_value: std::sync::OnceLock::new(),
    }
}

/// The quotes of theme `t` (`quotes`: all of them, or those at one site), by the
/// subtheme each is shown under; split by site unless the list is about one site.
pub(crate) fn theme_list(
    study: &Study,
    subtree_end: &[usize],
    t: ThemeIx,
    quotes: &[QuoteIx],
    one_site: bool,
) -> Layout {
    let order = theme_order(study, subtree_end, t, quotes, one_site);
    let about = if one_site {
        ListOf::ThemeAtSite(t)
    } else {
        ListOf::Theme(t)
    };
    let filter = quote_filter(study, subtree_end, quotes, about);
    layout(
        study,
        &order,
        |th| (theme_tag(study, th), study.themes[th].depth),
        !one_site,
        filter,
    )
}

/// A site's or a group's quotes, by top-level theme.
pub(crate) fn top_list(
    study: &Study,
    subtree_end: &[usize],
    quotes: &[QuoteIx],
    about: ListOf,
) -> Layout {
    let mut order: Vec<(ThemeIx, SiteIx, QuoteIx)> = quotes
        .iter()
        .map(|&q| (top_section(study, q), 0, q))
        .collect();
    order.sort_unstable();
    let filter = quote_filter(study, subtree_end, quotes, about);
    layout(study, &order, |t| (theme_tag(study, t), 0), false, filter)
}

/// Every quote, by site.
pub(crate) fn all_list(study: &Study, subtree_end: &[usize]) -> Layout {
    let order: Vec<(SiteIx, SiteIx, QuoteIx)> = study
        .index
        .site_quotes
        .iter()
        .enumerate()
        .flat_map(|(s, qs)| qs.iter().map(move |&q| (s, 0, q)))
        .collect();
    let all: Vec<QuoteIx> = order.iter().map(|e| e.2).collect();
    let filter = quote_filter(study, subtree_end, &all, ListOf::Everything);
    layout(study, &order, |s| (site_tag(study, s), 0), false, filter)
}

impl Layout {
    /// The list's filter as a template value (cheap to clone: shared).
    pub fn filter_value(&self) -> tera::Value {
        self.filter_value
            .get_or_init(|| tera::Value::from_serializable(&self.filter))
            .clone()
    }

    /// Number of pages at `size` quotes per page.
    pub fn pages(&self, size: usize) -> usize {
        page_count(self.entries.len(), size)
    }

    /// The page (from 0) that shows quote `q`, if the list holds it.
    pub fn page_showing(&self, q: QuoteIx, size: usize) -> Option<usize> {
        let at = self.entries.iter().position(|e| e.quote as usize == q)?;
        Some(at / size.max(1))
    }

    /// The quotes of page `k` (from 0), in order.
    fn slice(&self, k: usize, size: usize) -> &[Entry] {
        let start = (k * size).min(self.entries.len());
        let end = (start + size).min(self.entries.len());
        &self.entries[start..end]
    }

    /// The sections of page `k` (from 0), with quote markers in place of the quotes.
    pub fn page_sections<'a>(&'a self, k: usize, size: usize) -> Vec<Section<'a>> {
        let start = (k * size).min(self.entries.len());
        let before = start.checked_sub(1).map(|i| self.entries[i]);
        let mut out: Vec<Section<'a>> = Vec::new();
        let mut run: Vec<QuoteIx> = Vec::new();
        let mut current: Option<(u32, u32)> = None;
        let flush = |out: &mut Vec<Section<'a>>, run: &mut Vec<QuoteIx>, at: Option<(u32, u32)>| {
            let Some((section, block)) = at else { return };
            let marker = super::quotes_marker(run);
            run.clear();
            let last = out.last_mut().expect("a section is open");
            if block == NO_BLOCK {
                last.quotes = marker;
            } else {
                let continued = last.by_site.is_empty()
                    && last.continued
                    && before.is_some_and(|e| e.section == section && e.block == block);
                last.by_site.push(Block {
                    head: &self.sections[section as usize].blocks[block as usize],
                    continued,
                    quotes: marker,
                });
            }
        };
        for e in self.slice(k, size) {
            if current != Some((e.section, e.block)) {
                flush(&mut out, &mut run, current);
                if current.map(|c| c.0) != Some(e.section) {
                    out.push(Section {
                        head: &self.sections[e.section as usize],
                        continued: out.is_empty() && before.is_some_and(|b| b.section == e.section),
                        quotes: String::new(),
                        by_site: Vec::new(),
                    });
                }
                current = Some((e.section, e.block));
            }
            run.push(e.quote as usize);
        }
        flush(&mut out, &mut run, current);
        out
    }

    /// [`Layout::page_sections`] as the template value `sections`.
    pub fn page_sections_value(&self, k: usize, size: usize) -> Value {
        let sections: Vec<Value> = self
            .page_sections(k, size)
            .into_iter()
            .map(|s| {
                let by_site: Vec<Value> = s
                    .by_site
                    .into_iter()
                    .map(|b| {
                        map([
                            ("site", b.head.site_value.clone()),
                            ("continued", b.continued.into()),
                            ("quotes", b.quotes.into()),
                            ("count", b.head.count_value.clone()),
                        ])
                    })
                    .collect();
                map([
                    ("heading", s.head.heading_value.clone()),
                    ("depth", s.head.depth_value.clone()),
                    ("continued", s.continued.into()),
                    ("quotes", s.quotes.into()),
                    ("by_site", by_site.into()),
                    ("count", s.head.count_value.clone()),
                ])
            })
            .collect();
        sections.into()
    }

    /// The page links of page `k` of this list, whose first page is at `first`.
    pub fn pagination(&self, first: &str, k: usize, size: usize) -> Pagination {
        let total = self.pages(size);
        let len = self.entries.len();
        let base = first
            .strip_suffix("index.html")
            .unwrap_or(first)
            .to_string();
        let mut links = Vec::new();
        let mut last_shown = 0;
        for n in 1..=total {
            let near = n.abs_diff(k + 1) <= 2;
            if n == 1 || n == total || near {
                if n > last_shown + 1 {
                    links.push(PageLink {
                        number: None,
                        url: String::new(),
                        current: false,
                    });
                }
                links.push(PageLink {
                    number: Some(n),
                    url: page_path(first, n - 1),
                    current: n == k + 1,
                });
                last_shown = n;
            }
        }
        Pagination {
            current: k + 1,
            total,
            quotes: len,
            first: (k * size + 1).min(len),
            last: ((k + 1) * size).min(len),
            size,
            base,
            previous: k.checked_sub(1).map(|p| page_path(first, p)),
            next: (k + 1 < total).then(|| page_path(first, k + 1)),
            links,
            index: (total > 1).then(|| index_path(first)),
        }
    }
}

/// The scripts of every list with more than one page, for filtering across its
/// pages: (path, contents). Each calls `thematicList(...)` with the list's quotes
/// in order, each as the index of its site, of its group and of its themes (with
/// their ancestors) in the study's lists of ids.
pub(crate) fn list_scripts<'a>(study: &Study, lists: &'a Lists) -> Vec<(String, String)> {
    use rayon::prelude::*;
    let size = lists.size;
    let mut paged: Vec<(String, &Layout)> = Vec::new();
    let mut add = |first: String, layout: &'a Layout| {
        if layout.pages(size) > 1 {
            paged.push((index_path(&first), layout));
        }
    };
    add(urls::QUOTES.to_string(), &lists.all);
    for (t, layout) in lists.themes.iter().enumerate() {
        let theme = &study.themes[t].common.id;
        add(urls::theme(theme), layout);
        for (s, layout) in lists.theme_sites[t].iter().enumerate() {
            if let Some(layout) = layout {
                add(urls::theme_site(theme, &study.sites[s].common.id), layout);
            }
        }
    }
    for (s, layout) in lists.sites.iter().enumerate() {
        add(urls::site(&study.sites[s].common.id), layout);
    }
    for (g, layout) in lists.groups.iter().enumerate() {
        add(urls::group(&study.groups[g].common.id), layout);
    }
    if paged.is_empty() {
        return Vec::new();
    }
    // Each quote's facets are written once and copied into every list that holds it.
    let facets: Vec<String> = study
        .quotes
        .par_iter()
        .map(|q| {
            use std::fmt::Write;
            let mut f = String::with_capacity(24);
            let _ = write!(f, "[{},{}", q.site, q.group);
            for t in study.themes_with_ancestors(&q.themes) {
                let _ = write!(f, ",{t}");
            }
            f.push(']');
            f
        })
        .collect();
    let ids = |v: Vec<&str>| serde_json::to_string(&v).unwrap_or_default();
    let head = format!(
        "thematicList({{\"size\":{size},\"sites\":{},\"groups\":{},\"themes\":{},\"quotes\":[",
        ids(study.sites.iter().map(|s| s.common.id.as_str()).collect()),
        ids(study.groups.iter().map(|g| g.common.id.as_str()).collect()),
        ids(study.themes.iter().map(|t| t.common.id.as_str()).collect()),
    );
    paged
        .into_par_iter()
        .map(|(path, layout)| {
            let mut js = String::with_capacity(head.len() + layout.entries.len() * 12 + 8);
            js.push_str(&head);
            for (i, e) in layout.entries.iter().enumerate() {
                if i > 0 {
                    js.push(',');
                }
                js.push_str(&facets[e.quote as usize]);
            }
            js.push_str("]});\n");
            (path, js)
        })
        .collect()
}

/// Every quote list of the study, laid out once.
pub(crate) struct Lists {
    /// Quotes per page.
    pub size: usize,
    pub themes: Vec<Layout>,
    /// `[theme][site]`, for the pairs with quotes.
    pub theme_sites: Vec<Vec<Option<Layout>>>,
    pub sites: Vec<Layout>,
    pub groups: Vec<Layout>,
    pub all: Layout,
}

impl Lists {
    /// Quotes and participants of theme `t` at site `s`.
    pub fn theme_site_count(&self, study: &Study, t: ThemeIx, s: SiteIx) -> Count {
        self.theme_sites[t][s]
            .as_ref()
            .map_or_else(|| study.count(&[]), |l| l.count)
    }

    /// True when some list has more than one page.
    pub fn any_paged(&self) -> bool {
        let paged = |l: &Layout| l.pages(self.size) > 1;
        self.all.entries.len() > self.size
            || self.themes.iter().any(paged)
            || self.sites.iter().any(paged)
            || self.groups.iter().any(paged)
            || self.theme_sites.iter().flatten().flatten().any(paged)
    }

    /// Lays out every list, in parallel.
    pub fn new(study: &Study, subtree_end: &[usize]) -> Self {
        use rayon::prelude::*;
        let ix = &study.index;
        let ((themes, theme_sites), ((sites, groups), all)) = rayon::join(
            || {
                rayon::join(
                    || theme_lists(study, subtree_end),
                    || {
                        (0..study.themes.len())
                            .into_par_iter()
                            .map(|t| {
                                ix.theme_site_quotes[t]
                                    .iter()
                                    .map(|qs| {
                                        (!qs.is_empty())
                                            .then(|| theme_list(study, subtree_end, t, qs, true))
                                    })
                                    .collect()
                            })
                            .collect()
                    },
                )
            },
            || {
                rayon::join(
                    || {
                        rayon::join(
                            || {
                                (0..study.sites.len())
                                    .into_par_iter()
                                    .map(|s| {
                                        top_list(
                                            study,
                                            subtree_end,
                                            &ix.site_quotes[s],
                                            ListOf::Site,
                                        )
                                    })
                                    .collect()
                            },
                            || {
                                (0..study.groups.len())
                                    .into_par_iter()
                                    .map(|g| {
                                        top_list(
                                            study,
                                            subtree_end,
                                            &ix.group_quotes[g],
                                            ListOf::Group,
                                        )
                                    })
                                    .collect()
                            },
                        )
                    },
                    || all_list(study, subtree_end),
                )
            },
        );
        Lists {
            size: study.meta.page_size.max(1),
            themes,
            theme_sites,
            sites,
            groups,
            all,
        }
    }
}

/// Each quote's home: the page of its first theme's list that shows it, at its
/// anchor (the page of all quotes for a quote without a theme). Read off the
/// lists, which hold every quote in reading order.
pub(crate) fn quote_homes(study: &Study, lists: &Lists) -> Vec<String> {
    use rayon::prelude::*;
    let size = lists.size;
    // `page#q-ID`, the page's path written once for all its quotes.
    let homes_in = |first: &str, layout: &Layout, keep: &(dyn Fn(QuoteIx) -> bool + Sync)| {
        let pages: Vec<String> = (0..layout.pages(size))
            .map(|k| page_path(first, k))
            .collect();
        layout
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| keep(e.quote as usize))
            .map(|(i, e)| {
                let (page, id) = (&pages[i / size], &study.quotes[e.quote as usize].id);
                let mut home = String::with_capacity(page.len() + id.len() + 3);
                home.push_str(page);
                home.push('#');
                urls::push_quote_anchor(&mut home, id);
                (e.quote as usize, home)
            })
            .collect::<Vec<_>>()
    };
    let per_theme: Vec<Vec<(QuoteIx, String)>> = lists
        .themes
        .par_iter()
        .enumerate()
        .map(|(t, layout)| {
            let first = urls::theme(&study.themes[t].common.id);
            homes_in(&first, layout, &|q| {
                study.quotes[q].themes.first() == Some(&t)
            })
        })
        .collect();
    let mut homes = vec![String::new(); study.quotes.len()];
    let untagged = homes_in(urls::QUOTES, &lists.all, &|q| {
        study.quotes[q].themes.is_empty()
    });
    for (q, home) in per_theme.into_iter().flatten().chain(untagged) {
        homes[q] = home;
    }
    homes
}

/// The layouts of every theme's list, in parallel.
pub(crate) fn theme_lists(study: &Study, subtree_end: &[usize]) -> Vec<Layout> {
    use rayon::prelude::*;
    (0..study.themes.len())
        .into_par_iter()
        .map(|t| theme_list(study, subtree_end, t, &study.index.theme_quotes[t], false))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_paths() {
        assert_eq!(page_path("themes/a/index.html", 0), "themes/a/index.html");
        assert_eq!(
            page_path("themes/a/index.html", 1),
            "themes/a/page/2/index.html"
        );
        assert_eq!(
            page_path("quotes/index.html", 9),
            "quotes/page/10/index.html"
        );
        assert_eq!(index_path("themes/a/b/index.html"), "themes/a/b/list.js");
    }

    #[test]
    fn page_counts() {
        assert_eq!(page_count(0, 100), 1);
        assert_eq!(page_count(100, 100), 1);
        assert_eq!(page_count(101, 100), 2);
        assert_eq!(page_count(5, 0), 5);
    }
}
