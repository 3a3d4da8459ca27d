//! Stage 3: the study as pages.
//!
//! Work is done once and shared. Each quote's HTML is rendered once (once per
//! page depth when its template uses `root` other than by printing it; never per
//! page) and cached by the quote's content, each Markdown body once, and pages
//! are rendered in parallel.
//!
//! Pages are rendered in two steps. The template renders a *skeleton* in which
//! every listed quote is a short marker (`<\0N>`, which no escaped text can
//! contain); the markers are then replaced by the cached quote HTML. Templates
//! thus handle kilobytes rather than megabytes, and a page whose skeleton and
//! quotes are unchanged since the last render (in `serve`) is not rebuilt at all.
//! Nothing here touches the disk except reading the site theme.

mod charts;
pub mod cite;
mod data;
mod filters;
pub mod highlight;
mod languages;
mod list_html;
pub mod markdown;
mod pages;
mod paginate;
mod quote_html;
pub mod site_theme;
pub mod urls;
pub mod views;

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;
use tera::Context;

use crate::diagnostics::Diagnostic;
use crate::model::Study;
pub use site_theme::SiteTheme;
use views::{EntryView, QuoteView, SiteView, StudyView, TagUrls, ThemeView};

/// One file of the finished site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// Path relative to the output root, with `/` separators.
    pub path: String,
    /// Contents, shared with the renderer's cache.
    pub bytes: Arc<Vec<u8>>,
}

impl OutputFile {
    /// A file with the given path and contents.
    pub fn new(path: impl Into<String>, bytes: Vec<u8>) -> Self {
        OutputFile {
            path: path.into(),
            bytes: Arc::new(bytes),
        }
    }
}

/// A file made in pieces, to be written one after another. The quote data files
/// are made in parallel chunks, which `build` writes as they are rather than
/// joining them first (a copy of the largest files into freshly faulted memory).
#[derive(Debug)]
pub struct PiecedFile {
    /// Path relative to the output root, with `/` separators.
    pub path: String,
    /// Contents, in order.
    pub pieces: Vec<Vec<u8>>,
}

impl PiecedFile {
    /// A file in one piece.
    pub fn whole(path: impl Into<String>, bytes: Vec<u8>) -> Self {
        PiecedFile {
            path: path.into(),
            pieces: vec![bytes],
        }
    }

    /// The file with its pieces joined.
    pub fn joined(mut self) -> OutputFile {
        let bytes = if self.pieces.len() == 1 {
            self.pieces.pop().unwrap_or_default()
        } else {
            self.pieces.concat()
        };
        OutputFile::new(self.path, bytes)
    }
}

/// Where [`Renderer::render_into`] sends each page as soon as it is made.
pub trait PageSink: Sync {
    /// `pages` pages are about to come (for a progress bar).
    fn expect(&self, pages: usize) {
        let _ = pages;
    }
    /// Takes one page: its path and bytes; an error message when it cannot.
    fn page(&self, path: &str, bytes: &[u8]) -> Result<(), String>;
    /// Work of the sink's own that needs only the study and each quote's link
    /// ([`Rendered::homes`]), done beside the rest of rendering so that it fills
    /// the moments when rendering leaves a core idle (`build` makes the data
    /// files and the search index here). Called once, while the pages are made.
    fn beside_pages(&self, study: &Study, homes: &[String]) {
        let _ = (study, homes);
    }
}

/// The rendered site, plus the diagnostics found while rendering.
#[derive(Debug, Default)]
pub struct Rendered {
    /// Files in path order.
    pub files: Vec<OutputFile>,
    /// Number of HTML pages among them.
    pub pages: usize,
    /// Paths of the files whose contents changed since the renderer's previous run
    /// (all of them on a first run).
    pub changed: Vec<String>,
    /// Errors (broken references, template errors) and warnings.
    pub diagnostics: Vec<Diagnostic>,
    /// Each quote's link, as every page gives it: the page of its first theme's
    /// list that shows it, with its anchor. The data files and the search index
    /// link quotes the same way ([`data_files`], `search`).
    pub homes: Arc<Vec<String>>,
}

/// What [`Renderer::render_pages`] renders, and where the pages go.
struct PageRun<'a> {
    study: &'a Study,
    theme: &'a SiteTheme,
    /// [`shape_hash`] of the study.
    shape: u64,
    /// Mixed into each quote's cache key (see [`Renderer::render_into`]).
    quote_key_salt: u64,
    sink: Option<&'a dyn PageSink>,
}

/// The views of every theme and site, made once per run.
struct Views {
    themes: Vec<ThemeView>,
    sites: Vec<SiteView>,
    /// See [`Parts::participants_quoted`].
    participants_quoted: usize,
}

/// Shared, pre-rendered pieces every page draws from.
pub(crate) struct Parts<'a> {
    pub study: &'a Study,
    pub theme: &'a SiteTheme,
    /// Rendered Markdown by (kind, index); the home page is ("home", 0).
    pub markdown: HashMap<(&'static str, usize), markdown::RenderedMarkdown>,
    /// Every quote list, laid out for its pages.
    pub lists: Arc<paginate::Lists>,
    /// The view of every theme and site, made once for all pages.
    pub theme_views: Vec<ThemeView>,
    /// Each theme's row at each site, for the tables of theme and site pages:
    /// made on first use, once per shape.
    pub site_rows: &'a std::sync::OnceLock<pages::SiteRows>,
    pub site_views: Vec<SiteView>,
    /// The theme and site views as template values, converted once for all pages.
    pub theme_values: Vec<tera::Value>,
    pub site_values: Vec<tera::Value>,
    /// Participants quoted in the whole study (the template global
    /// `study.participants_quoted`).
    pub participants_quoted: usize,
}

struct Embedder<'a> {
    study: &'a Study,
    theme: &'a SiteTheme,
    homes: &'a [String],
    tags: &'a TagUrls,
    lists: &'a paginate::Lists,
}

impl markdown::EmbedQuote for Embedder<'_> {
    fn embed(&self, quote: usize, anchor: String, root: &str) -> Result<String, Diagnostic> {
        let view = QuoteView::new(
            self.study,
            self.tags,
            &self.study.quotes[quote],
            anchor,
            &self.homes[quote],
        );
        render_view(self.theme, &view, root, true)
    }

    fn home(&self, quote: usize) -> String {
        self.homes[quote].clone()
    }

    fn page_showing(&self, list: markdown::QuoteList, quote: usize) -> Option<String> {
        use markdown::QuoteList;
        let study = self.study;
        let (first, layout) = match list {
            QuoteList::Theme(t) => (
                urls::theme(&study.themes[t].common.id),
                &self.lists.themes[t],
            ),
            QuoteList::ThemeSite(t, s) => (
                urls::theme_site(&study.themes[t].common.id, &study.sites[s].common.id),
                self.lists.theme_sites[t][s].as_ref()?,
            ),
            QuoteList::Site(s) => (urls::site(&study.sites[s].common.id), &self.lists.sites[s]),
            QuoteList::Group(g) => (
                urls::group(&study.groups[g].common.id),
                &self.lists.groups[g],
            ),
        };
        let k = layout.page_showing(quote, self.lists.size)?;
        Some(paginate::page_path(&first, k))
    }
}

/// Renders studies to files, remembering what it rendered so that the next
/// render of an edited study redoes only what changed. `build` uses a fresh one;
/// `serve` keeps one alive between edits (and starts a new one when the site
/// theme changes, since cached HTML came from its templates).
#[derive(Default)]
pub struct Renderer {
    /// Quote HTML by (hash of the quote's view, page depth); depth 0 holds HTML
    /// rendered once with [`ROOT`] for `root`, for every depth.
    quote_html: HashMap<(u64, usize), Arc<QuoteHtml>>,
    /// Whether `quote.html` only prints `root`, so that one render serves every
    /// depth (decided once per renderer: a renderer lives as long as its templates).
    root_prints_only: Option<bool>,
    /// For each page path: the fingerprint of its inputs, and its bytes.
    pages: HashMap<String, (u64, Arc<Vec<u8>>)>,
    /// What the last run derived from the study's shape, reused while the shape
    /// is unchanged (in `serve`, an edit of a quote's words leaves it so).
    prepared: Option<Prepared>,
    /// Each quote's input hash from the last run, with its file's text then.
    quote_hashes: Option<QuoteHashes>,
}

impl Renderer {
    /// Frees the renderer's caches on every core. A large study's caches are
    /// hundreds of thousands of allocations (its quotes' HTML, each page's
    /// skeleton), which one thread takes tens of milliseconds to free.
    pub fn release(self) {
        let Renderer {
            quote_html,
            pages,
            mut prepared,
            quote_hashes,
            ..
        } = self;
        let skeletons = prepared.as_mut().and_then(|p| p.skeletons.take());
        rayon::join(
            || crate::drop_in_parallel(quote_html.into_iter().collect()),
            || {
                rayon::join(
                    || crate::drop_in_parallel(skeletons.unwrap_or_default()),
                    || (drop(prepared), drop(pages), drop(quote_hashes)),
                )
            },
        );
    }
}

/// The quotes' input hashes ([`quote_input_hash`]) of a run, for the next. A
/// quote's hash depends only on its file's text and on the study's shape (its
/// home, the titles of its site, group and themes, the theme tree, its draft
/// flag): while the shape is unchanged the quotes are the same, in the same
/// order, and the load cache hands over an unchanged file's text as the same
/// `Arc`, so in `serve` only the quotes of edited files are hashed again.
struct QuoteHashes {
    shape: u64,
    texts: Vec<Arc<str>>,
    hashes: Vec<u64>,
}

/// Everything that depends on the study's shape, not on the words of its quotes:
/// the lists, where each quote lives, and every page's skeleton.
struct Prepared {
    /// [`shape_hash`] of the study it was made from.
    shape: u64,
    lists: Arc<paginate::Lists>,
    homes: Arc<Vec<String>>,
    any_paged: bool,
    /// The list scripts, each with a hash of its bytes.
    list_scripts: Arc<Vec<(u64, OutputFile)>>,
    /// See [`Parts::site_rows`].
    site_rows: std::sync::OnceLock<pages::SiteRows>,
    /// The skeleton of every page of `pages::all_pages`, in its order, when all
    /// rendered without errors.
    skeletons: Option<Vec<Arc<Skeleton>>>,
    /// A hash of each rendered Markdown body the skeletons were made with: a
    /// page that shows one is rendered again when it changes.
    markdown: HashMap<(&'static str, usize), u64>,
}

/// A quote's rendered HTML. Rendered once for every depth, it holds [`ROOT`]
/// where each page puts its own prefix; `roots` are the byte offsets of those,
/// found once here rather than searched for on each of the quote's pages.
struct QuoteHtml {
    html: Box<str>,
    roots: Box<[u32]>,
}

impl QuoteHtml {
    fn new(html: String) -> Self {
        let roots = html
            .match_indices(ROOT_CHAR)
            .filter_map(|(i, _)| u32::try_from(i).ok())
            .collect();
        QuoteHtml {
            html: html.into_boxed_str(),
            roots,
        }
    }

    /// Its length on a page whose root prefix is `prefix`.
    fn len_with(&self, prefix: &str) -> usize {
        self.html.len() + self.roots.len() * prefix.len().saturating_sub(ROOT.len())
    }

    /// Appends it to `out`, each [`ROOT`] replaced by `prefix`.
    fn push_with(&self, out: &mut Vec<u8>, prefix: &str) {
        let html = self.html.as_bytes();
        let mut from = 0;
        for &at in &self.roots {
            let at = at as usize;
            out.extend_from_slice(&html[from..at]);
            out.extend_from_slice(prefix.as_bytes());
            from = at + ROOT.len();
        }
        out.extend_from_slice(&html[from..]);
    }
}

/// A page's skeleton: its HTML with quote markers, a hash of it, the quotes it
/// lists in order, and the page as pieces: stretches of `html` and runs of `quotes`.
struct Skeleton {
    path: String,
    html: String,
    hash: u64,
    quotes: Vec<u32>,
    pieces: Vec<Piece>,
}

/// A stretch of a skeleton's text, or a run of its quotes (ranges into
/// [`Skeleton::html`] and [`Skeleton::quotes`]).
enum Piece {
    Text(u32, u32),
    Quotes(u32, u32),
}

impl Skeleton {
    fn new(path: String, html: String) -> Self {
        let mut quotes = Vec::new();
        let pieces = std::cell::RefCell::new(Vec::new());
        let base = html.as_ptr() as usize;
        for_each_piece(
            &html,
            |t| {
                let start = (t.as_ptr() as usize - base) as u32;
                let end = start + t.len() as u32;
                let mut pieces = pieces.borrow_mut();
                match pieces.last_mut() {
                    // A malformed marker, kept as text, continues the text before it.
                    Some(Piece::Text(_, e)) if *e == start => *e = end,
                    _ if t.is_empty() => {}
                    _ => pieces.push(Piece::Text(start, end)),
                }
            },
            |q| {
                quotes.push(q as u32);
                let n = quotes.len() as u32;
                let mut pieces = pieces.borrow_mut();
                match pieces.last_mut() {
                    Some(Piece::Quotes(_, e)) => *e = n,
                    _ => pieces.push(Piece::Quotes(n - 1, n)),
                }
            },
        );
        // A skeleton's hash only tells `serve` whether a page changed since the
        // last run; FxHash reads its tens of kilobytes several times faster than
        // SipHash, and a collision could at worst leave one preview page stale
        // (`build` never compares).
        let hash = {
            use std::hash::BuildHasher;
            rustc_hash::FxBuildHasher.hash_one(html.as_bytes())
        };
        Skeleton {
            hash,
            path,
            html,
            quotes,
            pieces: pieces.into_inner(),
        }
    }

    /// What the page's bytes depend on: its skeleton, its depth (the quotes'
    /// links) and the content of every quote it shows. Like the skeleton's
    /// hash, it only tells `serve` whether to splice the page again, so FxHash
    /// serves (a million quote hashes per run at 100,000 quotes).
    fn fingerprint(&self, depth: usize, quote_hashes: &[u64]) -> u64 {
        let mut h = rustc_hash::FxHasher::default();
        (self.hash, depth).hash(&mut h);
        for &q in &self.quotes {
            quote_hashes.get(q as usize).hash(&mut h);
        }
        h.finish()
    }
}

/// Everything a page's skeleton is made from except the rendered Markdown and
/// the quotes' words: the template globals (metadata, every theme, site, group
/// and finding with its counts), and every quote's id, participant, site, group,
/// themes and draft flag (which lists hold it, in what order, and its counts).
fn shape_hash(study: &Study, globals: u64) -> u64 {
    let mut h = DefaultHasher::new();
    globals.hash(&mut h);
    study.home.as_ref().map(|home| &home.title).hash(&mut h);
    for q in &study.quotes {
        (&q.id, &q.participant, q.site, q.group, &q.themes, q.draft).hash(&mut h);
    }
    h.finish()
}

/// The marker for a run of quotes in a page skeleton: `<`, NUL, the quote
/// indexes separated by commas, `>`. `<` followed by NUL cannot come from
/// content: escaped text has no `<`, and Markdown replaces NUL.
pub(crate) fn quotes_marker(quotes: &[usize]) -> String {
    if quotes.is_empty() {
        return String::new();
    }
    let mut s = String::with_capacity(quotes.len() * 7 + 3);
    s.push_str("<\u{0}");
    for (i, &q) in quotes.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        push_decimal(&mut s, q);
    }
    s.push('>');
    s
}

/// Appends `n` in decimal: `to_string` goes through the formatting machinery
/// and a fresh string for each of the million quote numbers of a large study.
fn push_decimal(s: &mut String, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // ASCII digits.
    s.push_str(std::str::from_utf8(&digits[i..]).unwrap_or_default());
}

/// Everything a quote's HTML is made from (its `QuoteView` is a function of these
/// and of its `home`): equal hashes render equal HTML with the same templates.
fn quote_input_hash(study: &Study, q: usize, home: &str) -> u64 {
    let quote = &study.quotes[q];
    let mut h = DefaultHasher::new();
    (
        home,
        &quote.id,
        &quote.participant,
        &quote.text,
        &quote.context,
        quote.draft,
    )
        .hash(&mut h);
    if let Some(o) = &quote.original {
        (&o.lang, &o.text, o.rtl).hash(&mut h);
    }
    let site = &study.sites[quote.site].common;
    let group = &study.groups[quote.group].common;
    (&site.id, &site.title, &group.id, &group.title).hash(&mut h);
    for &t in &quote.themes {
        let c = &study.themes[t].common;
        (&c.id, &c.title).hash(&mut h);
    }
    // `data-themes` lists ancestors too: moving a theme changes the quote's HTML.
    views::lineage_ids(study, &quote.themes).hash(&mut h);
    h.finish()
}

fn hash_of(v: &impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

impl Renderer {
    /// A renderer with nothing cached.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets which pages were rendered, so the next render reports every page as
    /// changed. Cached quote HTML is kept.
    pub fn forget_pages(&mut self) {
        self.pages.clear();
    }

    /// Renders every page of the study with the given site theme.
    pub fn render(&mut self, study: &Study, theme: &mut SiteTheme) -> Rendered {
        self.render_into(study, theme, None)
    }

    /// Like [`Renderer::render`], but each page goes to `sink` as soon as it is
    /// made and is not kept: `build` writes pages as they come, so a large site
    /// never sits in memory whole. The pages are then left out of
    /// [`Rendered::files`] (their count is still in `pages`).
    pub fn render_into(
        &mut self,
        study: &Study,
        theme: &mut SiteTheme,
        sink: Option<&dyn PageSink>,
    ) -> Rendered {
        let t = std::time::Instant::now();
        let theme_views: Vec<ThemeView> = (0..study.themes.len())
            .into_par_iter()
            .map(|t| ThemeView::new(study, t))
            .collect();
        let site_views: Vec<SiteView> = (0..study.sites.len())
            .into_par_iter()
            .map(|s| SiteView::new(study, s))
            .collect();
        let (globals, participants_quoted) = set_globals(study, theme, &theme_views, &site_views);
        // Cached quote HTML stays valid across edits only if `quote.html` ignores the
        // globals (the default does); a site theme's quote.html that reads them ties
        // the cache to their value.
        let quote_uses_globals = theme
            .tera
            .get_template_variables("quote.html")
            .is_ok_and(|vars| vars.iter().any(|v| GLOBALS.contains(v)));
        let quote_key_salt = if quote_uses_globals { globals } else { 0 };
        let theme = &*theme;

        // Every quote list, laid out once; a quote's link goes to its page in its
        // first theme's list.
        crate::pipeline::timing("render: views and globals", t);
        let t = std::time::Instant::now();
        let shape = shape_hash(study, globals);
        crate::pipeline::timing("render: shape", t);
        let t = std::time::Instant::now();
        let subtree_end = paginate::subtree_ends(study);
        let prepared = match self.prepared.take().filter(|p| p.shape == shape) {
            Some(p) => p,
            None => {
                let l = paginate::Lists::new(study, &subtree_end);
                crate::pipeline::timing("render: lists: layouts", t);
                let homes = Arc::new(paginate::quote_homes(study, &l));
                crate::pipeline::timing("render: lists: homes", t);
                let list_scripts = Arc::new(
                    paginate::list_scripts(study, &l)
                        .into_iter()
                        .map(|(path, js)| (hash_of(&js), OutputFile::new(path, js.into_bytes())))
                        .collect(),
                );
                crate::pipeline::timing("render: lists: scripts", t);
                Prepared {
                    shape,
                    homes,
                    any_paged: l.any_paged(),
                    list_scripts,
                    skeletons: None,
                    markdown: HashMap::new(),
                    site_rows: std::sync::OnceLock::new(),
                    lists: Arc::new(l),
                }
            }
        };
        let homes = prepared.homes.clone();
        crate::pipeline::timing("render: lists", t);
        let views = Views {
            themes: theme_views,
            sites: site_views,
            participants_quoted,
        };
        let page_run = PageRun {
            study,
            theme,
            shape,
            quote_key_salt,
            sink,
        };
        match sink {
            Some(sink) => {
                rayon::join(
                    || sink.beside_pages(study, &homes),
                    || self.render_pages(page_run, prepared, views),
                )
                .1
            }
            None => self.render_pages(page_run, prepared, views),
        }
    }

    /// The rest of [`Renderer::render_into`], once the lists are laid out: the
    /// quotes, the Markdown, every page's skeleton, the pages, the other files.
    fn render_pages(&mut self, run: PageRun<'_>, prepared: Prepared, views: Views) -> Rendered {
        let PageRun {
            study,
            theme,
            shape,
            quote_key_salt,
            sink,
        } = run;
        let Views {
            themes: theme_views,
            sites: site_views,
            participants_quoted,
        } = views;
        let homes = prepared.homes.clone();
        let mut diagnostics = Vec::new();
        let t = std::time::Instant::now();

        // Quotes: rendered once per depth, and only when what they show changed.
        let file_text = |q: usize| &study.sources.get(study.quotes[q].loc.file).text;
        let before = self
            .quote_hashes
            .take()
            .filter(|b| b.shape == shape && b.hashes.len() == study.quotes.len());
        let quote_hashes: Vec<u64> = (0..study.quotes.len())
            .into_par_iter()
            .map(|q| match &before {
                Some(b) if Arc::ptr_eq(&b.texts[q], file_text(q)) => b.hashes[q],
                _ => quote_input_hash(study, q, &homes[q]) ^ quote_key_salt,
            })
            .collect();
        self.quote_hashes = Some(QuoteHashes {
            shape,
            texts: (0..study.quotes.len())
                .into_par_iter()
                .map(|q| file_text(q).clone())
                .collect(),
            hashes: quote_hashes.clone(),
        });
        crate::pipeline::timing("render: quotes: hashes", t);
        if self.root_prints_only.is_none() && !study.quotes.is_empty() {
            self.root_prints_only = Some(root_prints_only(theme, study, &homes[0]));
        }
        // One render per quote serves every depth when the template only prints
        // `root`; otherwise one per depth: 1 to 3, and 5 with the pages of lists
        // (`themes/T/S/page/N/`).
        let depths: &[usize] = if self.root_prints_only == Some(true) {
            &[0]
        } else if prepared.any_paged {
            &[1, 2, 3, 4, 5]
        } else {
            &[1, 2, 3]
        };
        let cached = &self.quote_html;
        let missing: Vec<(u64, usize, usize)> = quote_hashes
            .par_iter()
            .enumerate()
            .flat_map_iter(|(q, h)| depths.iter().map(move |&d| (*h, d, q)))
            .filter(|(h, d, _)| !cached.contains_key(&(*h, *d)))
            .collect();
        crate::pipeline::timing("render: quotes: missing", t);
        let tags = TagUrls::new(study);
        let fresh: Vec<(_, Result<Arc<QuoteHtml>, Diagnostic>)> = missing
            .par_iter()
            .with_max_len(256)
            .map(|&(h, depth, q)| {
                let view = QuoteView::new(
                    study,
                    &tags,
                    &study.quotes[q],
                    urls::quote_anchor(&study.quotes[q].id),
                    &homes[q],
                );
                let root = if depth == 0 {
                    ROOT.to_string()
                } else {
                    "../".repeat(depth)
                };
                let html = render_view(theme, &view, &root, false)
                    .map(|html| Arc::new(QuoteHtml::new(html)));
                ((h, depth), html)
            })
            .collect();
        crate::pipeline::timing("render: quotes: rendered", t);
        self.quote_html.reserve(fresh.len());
        for (key, html) in fresh {
            match html {
                Ok(h) => {
                    self.quote_html.insert(key, h);
                }
                Err(d) => diagnostics.push(d),
            }
        }
        crate::pipeline::timing("render: quotes", t);
        let t = std::time::Instant::now();

        // Markdown bodies: once each, in parallel.
        let embedder = Embedder {
            study,
            theme,
            homes: &homes,
            tags: &tags,
            lists: &prepared.lists,
        };
        let mut docs: Vec<((&'static str, usize), &crate::model::Doc, String)> = Vec::new();
        if let Some(h) = &study.home {
            docs.push((("home", 0), &h.doc, String::new()));
        }
        let two = "../../".to_string();
        docs.extend(
            study
                .themes
                .iter()
                .enumerate()
                .map(|(i, t)| (("theme", i), &t.common.doc, two.clone())),
        );
        docs.extend(
            study
                .sites
                .iter()
                .enumerate()
                .map(|(i, t)| (("site", i), &t.common.doc, two.clone())),
        );
        docs.extend(
            study
                .groups
                .iter()
                .enumerate()
                .map(|(i, t)| (("group", i), &t.common.doc, two.clone())),
        );
        docs.extend(
            study
                .findings
                .iter()
                .enumerate()
                .map(|(i, t)| (("finding", i), &t.common.doc, two.clone())),
        );
        let rendered_docs: Vec<(_, markdown::RenderedMarkdown, Vec<Diagnostic>)> = docs
            .par_iter()
            .map(|(key, doc, root)| {
                let mut d = Vec::new();
                // Theme, site and group pages list their quotes too: keep embed anchors distinct.
                let suffix = if matches!(key.0, "home" | "finding") {
                    ""
                } else {
                    "-embed"
                };
                let md = markdown::render(study, doc, root, suffix, &embedder, &mut d);
                (*key, md, d)
            })
            .collect();
        let mut markdown = HashMap::new();
        for (key, md, d) in rendered_docs {
            diagnostics.extend(d);
            markdown.insert(key, md);
        }
        let markdown_has_code = markdown.values().any(|m| m.has_code);
        let mut fragments: Vec<(String, String, crate::load::Loc)> = markdown
            .values_mut()
            .flat_map(|m| std::mem::take(&mut m.fragments))
            .collect();
        fragments.sort();
        let mut relative: Vec<(String, String, crate::load::Loc)> = markdown
            .iter_mut()
            .flat_map(|(&(kind, i), m)| {
                let page = match kind {
                    "theme" => urls::theme(&study.themes[i].common.id),
                    "site" => urls::site(&study.sites[i].common.id),
                    "group" => urls::group(&study.groups[i].common.id),
                    "finding" => urls::finding(&study.findings[i].common.id),
                    _ => urls::HOME.to_string(),
                };
                std::mem::take(&mut m.relative)
                    .into_iter()
                    .map(move |(dest, loc)| (page.clone(), dest, loc))
            })
            .collect();
        relative.sort();

        let markdown_hashes: HashMap<(&'static str, usize), u64> = markdown
            .iter()
            .map(|(k, m)| (*k, hash_of(&(&m.html, m.has_code))))
            .collect();
        crate::pipeline::timing("render: markdown", t);
        let t = std::time::Instant::now();
        let mut prepared = prepared;
        // The same shape gives the same pages in the same order: a page is
        // rendered again only when the Markdown it shows changed.
        let jobs = pages::all_pages(study, &prepared.lists);
        let previous = prepared.skeletons.take().filter(|s| s.len() == jobs.len());
        let stale = |i: usize, page: &pages::Page| -> Option<&Arc<Skeleton>> {
            let before = previous.as_ref()?.get(i)?;
            match page.markdown_key() {
                Some(k) if prepared.markdown.get(&k) != markdown_hashes.get(&k) => None,
                _ => Some(before),
            }
        };
        let parts = Parts {
            study,
            theme,
            site_rows: &prepared.site_rows,
            markdown,
            lists: prepared.lists.clone(),
            theme_values: theme_views
                .iter()
                .map(tera::Value::from_serializable)
                .collect(),
            site_values: site_views
                .iter()
                .map(tera::Value::from_serializable)
                .collect(),
            theme_views,
            site_views,
            participants_quoted,
        };
        let rendered: Vec<Result<Arc<Skeleton>, Diagnostic>> = jobs
            .par_iter()
            // Small tasks, so that no core is left alone with a long run of pages
            // at the end (pages take from microseconds to milliseconds).
            .with_max_len(PAGES_PER_TASK)
            .enumerate()
            .map(|(i, p)| match stale(i, p) {
                Some(kept) => Ok(kept.clone()),
                None => pages::render_page(&parts, p)
                    .map(|(path, html)| Arc::new(Skeleton::new(path, html))),
            })
            .collect();
        drop(parts);
        let before = diagnostics.len();
        let mut skeletons = Vec::with_capacity(rendered.len());
        for r in rendered {
            match r {
                Ok(s) => skeletons.push(s),
                Err(d) => diagnostics.push(d),
            }
        }
        // Skeletons with errors are made again next time, to report them again.
        if diagnostics.len() == before {
            prepared.skeletons = Some(skeletons.clone());
            prepared.markdown = markdown_hashes;
        }
        if let Some(sink) = sink {
            sink.expect(skeletons.len());
        }
        crate::pipeline::timing("render: skeletons", t);
        let t = std::time::Instant::now();
        let previous = &self.pages;
        let max_depth = skeletons
            .iter()
            .map(|s| s.path.matches('/').count())
            .max()
            .unwrap_or(0);
        let by_depth = QuoteTable::new(&self.quote_html, &quote_hashes, depths, max_depth);
        // Pages a `#fragment` points to are kept even when streamed: the anchor is
        // checked below.
        let targets: std::collections::HashSet<&str> =
            fragments.iter().map(|(page, _, _)| page.as_str()).collect();
        let sink_errors = std::sync::Mutex::new(Vec::new());
        let assembled: Vec<(String, u64, Arc<Vec<u8>>, bool)> = skeletons
            .par_iter()
            .with_max_len(PAGES_PER_TASK)
            .map(|skeleton| {
                let path = skeleton.path.clone();
                let depth = path.matches('/').count();
                let fingerprint = skeleton.fingerprint(depth, &quote_hashes);
                let unchanged = previous
                    .get(&path)
                    .filter(|(fp, _)| *fp == fingerprint)
                    .map(|(_, bytes)| bytes.clone());
                let is_new = unchanged.is_none();
                let Some(sink) = sink else {
                    let bytes = unchanged.unwrap_or_else(|| {
                        let mut html = Vec::new();
                        splice(&mut html, skeleton, depth, by_depth.at(depth));
                        Arc::new(html)
                    });
                    return (path, fingerprint, bytes, is_new);
                };
                // Streamed pages go out from one buffer per thread: a fresh buffer
                // for each page of a few hundred kilobytes is mapped, faulted in
                // and zeroed by the kernel every time.
                let kept = PAGE_BUFFER.with_borrow_mut(|buffer| {
                    let bytes: &[u8] = match &unchanged {
                        Some(bytes) => bytes,
                        None => {
                            splice(buffer, skeleton, depth, by_depth.at(depth));
                            buffer
                        }
                    };
                    if let Err(e) = sink.page(&path, bytes) {
                        if let Ok(mut errors) = sink_errors.lock() {
                            errors.push(Diagnostic::error(path.clone(), Default::default(), e));
                        }
                    }
                    // Pages a `#fragment` points to are kept, to check the anchor.
                    if targets.contains(path.as_str()) {
                        Arc::new(bytes.to_vec())
                    } else {
                        Arc::new(Vec::new())
                    }
                });
                (path, fingerprint, kept, is_new)
            })
            .collect();
        diagnostics.extend(sink_errors.into_inner().unwrap_or_default());
        crate::pipeline::timing("render: splice", t);
        let list_scripts = prepared.list_scripts.clone();
        drop(skeletons);
        self.prepared = Some(prepared);

        let mut files = Vec::with_capacity(assembled.len() + 4);
        let mut changed = Vec::new();
        let mut pages_now = HashMap::with_capacity(assembled.len());
        let mut page_paths = Vec::with_capacity(assembled.len());
        for (path, fp, bytes, is_new) in assembled {
            if is_new {
                changed.push(path.clone());
            }
            page_paths.push(path.clone());
            pages_now.insert(path.clone(), (fp, bytes.clone()));
            if sink.is_none() {
                files.push(OutputFile { path, bytes });
            }
        }
        let pages = page_paths.len();
        let mut extra: Vec<OutputFile> = theme
            .statics
            .iter()
            .map(|(name, bytes)| OutputFile::new(format!("static/{name}"), bytes.clone()))
            .collect();
        // A site theme may bring its own syntax colours.
        if markdown_has_code && !theme.statics.contains_key("syntax.css") {
            extra.push(OutputFile::new(
                "static/syntax.css",
                highlight::stylesheet().into_bytes(),
            ));
        }
        extra.push(OutputFile::new(
            "CITATION.cff",
            cite::citation_cff(&study.meta).into_bytes(),
        ));
        if let Some(base) = &study.meta.base_url {
            extra.push(OutputFile::new(
                "robots.txt",
                cite::robots_txt(base).into_bytes(),
            ));
            extra.push(OutputFile::new(
                "sitemap.xml",
                sitemap(base, &page_paths).into_bytes(),
            ));
        }
        let extra = extra.into_iter().map(|f| (hash_of(&*f.bytes), f));
        // The list scripts were hashed when made, and are shared with the next run.
        let scripts = list_scripts.iter().cloned();
        for (fp, f) in extra.chain(scripts) {
            if self.pages.get(&f.path).map(|(p, _)| *p) != Some(fp) {
                changed.push(f.path.clone());
            }
            pages_now.insert(f.path.clone(), (fp, f.bytes.clone()));
            files.push(f);
        }
        // A `#fragment` in a cross-reference must name an id on the target page.
        for (page, fragment, loc) in fragments {
            let found = pages_now.get(&page).is_some_and(|(_, bytes)| {
                let needle = format!("id=\"{fragment}\"");
                std::str::from_utf8(bytes).is_ok_and(|s| s.contains(&needle))
            });
            if !found {
                diagnostics.push(
                study
                    .sources
                    .error(loc, format!("broken link: {page} has no anchor `#{fragment}`"))
                    .with_hint("link to a heading's anchor (its words in lowercase, joined by hyphens), or leave out the #fragment"),
            );
            }
        }
        // A relative link or image must lead to a file of the site. The data
        // files and the search index are made beside the render: their names
        // are known.
        for (page, dest, loc) in relative {
            let Some(path) = site_path(&page, &dest) else {
                continue;
            };
            let found = pages_now.contains_key(&path)
                || data::FILES.contains(&path.as_str())
                || path.starts_with("search/");
            if !found {
                let root = urls::root_prefix(&page);
                diagnostics.push(
                    study
                        .sources
                        .warning(loc, format!("`{dest}` leads to `{path}`, which the site does not have"))
                        .with_hint(format!("put a figure in the site theme's static/ folder and link it from here as `{root}static/NAME`; link pages of the study with theme:ID, finding:ID and the like")),
                );
            }
        }
        // Files that existed before and are gone now changed too.
        changed.extend(
            self.pages
                .keys()
                .filter(|p| !pages_now.contains_key(*p))
                .cloned(),
        );
        changed.sort();
        self.pages = pages_now;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Rendered {
            files,
            pages,
            changed,
            diagnostics,
            homes,
        }
    }
}

/// Renders one quote view through `quote.html`.
fn render_view(
    theme: &SiteTheme,
    view: &QuoteView<'_>,
    root: &str,
    embed: bool,
) -> Result<String, Diagnostic> {
    if theme.quote_is_builtin() {
        return Ok(quote_html::render(view, root, embed));
    }
    let mut ctx = Context::new();
    ctx.insert("quote", view);
    ctx.insert("root", root);
    ctx.insert("embed", &embed);
    theme
        .tera
        .render("quote.html", &ctx)
        .map_err(|e| theme.diagnostic(&e, &format!("while rendering quote `{}`", view.id)))
}

/// Calls `f` for each stretch of plain skeleton text and each quote marker, in order.
fn for_each_piece<'a>(
    skeleton: &'a str,
    mut text: impl FnMut(&'a str),
    mut quote: impl FnMut(usize),
) {
    let mut rest = skeleton;
    // A NUL is found with SIMD and only ever comes from a marker; a search for
    // the two-byte `<\0` would crawl through the whole page.
    let marker = |s: &str| {
        memchr::memchr_iter(0, s.as_bytes())
            .find(|&z| z > 0 && s.as_bytes()[z - 1] == b'<')
            .map(|z| z - 1)
    };
    while let Some(i) = marker(rest) {
        text(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after.find('>').unwrap_or(after.len());
        let list = &after[..end];
        if !list.is_empty() && list.bytes().all(|b| b.is_ascii_digit() || b == b',') {
            for q in list.split(',').filter_map(|n| n.parse::<usize>().ok()) {
                quote(q);
            }
        } else {
            text(&rest[i..(i + 2 + end + 1).min(rest.len())]);
        }
        rest = &after[(end + 1).min(after.len())..];
    }
    text(rest);
}

/// At most this many pages to a parallel task: without a bound, rayon leaves
/// runs of hundreds of pages that one core may finish alone (50 ms at 100,000
/// quotes).
const PAGES_PER_TASK: usize = 8;

thread_local! {
    /// The buffer each thread splices streamed pages into.
    static PAGE_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What quote HTML rendered once for every depth has for `root`. U+0001 cannot
/// come from content: YAML refuses control characters.
const ROOT: &str = "\u{1}";
/// [`ROOT`] as a `char`, for splitting.
const ROOT_CHAR: char = '\u{1}';

/// True when `quote.html` prints `root` and uses it no other way: rendering a quote
/// once with [`ROOT`] and putting each depth's prefix in its place gives what
/// rendering it at that depth gives. Checked on one quote at every depth.
fn root_prints_only(theme: &SiteTheme, study: &Study, home: &str) -> bool {
    let q = &study.quotes[0];
    let tags = TagUrls::new(study);
    let view = QuoteView::new(study, &tags, q, urls::quote_anchor(&q.id), home);
    let Ok(once) = render_view(theme, &view, ROOT, false) else {
        return false;
    };
    (1..=3).all(|d| {
        let prefix = "../".repeat(d);
        render_view(theme, &view, &prefix, false)
            .is_ok_and(|html| html == once.replace(ROOT, &prefix))
    })
}

/// Each quote's HTML by quote number, for each page depth: looked up in the
/// cache once per render rather than once for each of a quote's pages (a hash
/// map probe is two cache misses, and a 100,000-quote study splices 900,000).
struct QuoteTable<'a> {
    /// One table for every depth (quotes rendered once, with [`ROOT`]), or one
    /// per depth from 0.
    tables: Vec<Vec<Option<&'a QuoteHtml>>>,
}

impl<'a> QuoteTable<'a> {
    fn new(
        cache: &'a HashMap<(u64, usize), Arc<QuoteHtml>>,
        quote_hashes: &[u64],
        depths: &[usize],
        max_depth: usize,
    ) -> Self {
        let table = |depth: usize| -> Vec<Option<&'a QuoteHtml>> {
            quote_hashes
                .par_iter()
                .map(|h| {
                    cache
                        .get(&(*h, depth))
                        .or_else(|| cache.get(&(*h, 0)))
                        .map(|html| &**html)
                })
                .collect()
        };
        let tables = if depths == [0] {
            vec![table(0)]
        } else {
            (0..=max_depth).map(table).collect()
        };
        QuoteTable { tables }
    }

    /// The quotes' HTML for a page `depth` folders down.
    fn at(&self, depth: usize) -> &[Option<&'a QuoteHtml>] {
        match self.tables.as_slice() {
            [one] => one,
            all => all.get(depth).map_or(&[], Vec::as_slice),
        }
    }
}

/// Writes into `out` (emptied first) the skeleton with each marker replaced by
/// the quote's HTML for this depth, from `table` (by quote number).
fn splice(out: &mut Vec<u8>, skeleton: &Skeleton, depth: usize, table: &[Option<&QuoteHtml>]) {
    let prefix = "../".repeat(depth);
    let quote = |q: &u32| table.get(*q as usize).copied().flatten();
    // Room for the whole page at once: pages run to hundreds of kilobytes, and
    // growing a buffer by doubling copies it several times over.
    let quotes_len: usize = skeleton
        .quotes
        .iter()
        .filter_map(quote)
        .map(|h| h.len_with(&prefix))
        .sum();
    out.clear();
    out.reserve(skeleton.html.len() + quotes_len);
    let html = skeleton.html.as_bytes();
    for piece in &skeleton.pieces {
        match *piece {
            Piece::Text(from, to) => out.extend_from_slice(&html[from as usize..to as usize]),
            Piece::Quotes(from, to) => {
                for quote in skeleton.quotes[from as usize..to as usize]
                    .iter()
                    .filter_map(quote)
                {
                    quote.push_with(out, &prefix);
                }
            }
        }
    }
}

/// Values every template sees, set once rather than per page.
/// Names of the values in the template globals.
const GLOBALS: &[&str] = &[
    "study",
    "themes",
    "top_themes",
    "sites",
    "groups",
    "findings",
    "generator",
];

/// Sets the template globals and returns a hash of them, for caches whose
/// content may depend on them, and the number of participants quoted.
fn set_globals(
    study: &Study,
    theme: &mut SiteTheme,
    themes: &[ThemeView],
    sites: &[SiteView],
) -> (u64, usize) {
    let groups: Vec<EntryView> = study
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| EntryView {
            id: g.common.id.clone(),
            title: g.common.title.clone(),
            summary: g.common.summary.clone(),
            url: urls::group(&g.common.id),
            count: study.count(&study.index.group_quotes[i]),
            draft: g.common.draft,
        })
        .collect();
    let findings: Vec<EntryView> = study
        .findings
        .iter()
        .map(|f| EntryView {
            id: f.common.id.clone(),
            title: f.common.title.clone(),
            summary: f.common.summary.clone(),
            url: urls::finding(&f.common.id),
            count: Default::default(),
            draft: f.common.draft,
        })
        .collect();
    let all: Vec<usize> = (0..study.quotes.len()).collect();
    let study_view = StudyView {
        meta: &study.meta,
        quote_count: study.quotes.len(),
        participants_quoted: study.count(&all).participants,
        hide_below: study.count(&[]).hide_below,
    };
    let g = theme.tera.global_context();
    g.insert("study", &study_view);
    g.insert("citation", &cite::citation(&study.meta));
    g.insert("themes", &themes);
    g.insert(
        "top_themes",
        &themes.iter().filter(|t| t.depth == 0).collect::<Vec<_>>(),
    );
    g.insert("sites", &sites);
    g.insert("groups", &groups);
    g.insert("findings", &findings);
    g.insert(
        "generator",
        &Generator {
            name: "thematic",
            version: env!("CARGO_PKG_VERSION"),
        },
    );
    let serialized = serde_json::to_string(&(&study_view, &themes, &sites, &groups, &findings))
        .unwrap_or_default();
    (hash_of(&serialized), study_view.participants_quoted)
}

#[derive(Serialize)]
struct Generator {
    name: &'static str,
    version: &'static str,
}

fn sitemap(base: &str, pages: &[String]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let mut paths: Vec<&str> = pages
        .iter()
        .map(String::as_str)
        .filter(|p| p.ends_with("index.html"))
        .collect();
    paths.sort_unstable();
    for p in paths {
        let loc = format!("{base}{}", p.trim_end_matches("index.html"));
        s.push_str(&format!(
            "  <url><loc>{}</loc></url>\n",
            highlight::escape(&loc)
        ));
    }
    s.push_str("</urlset>\n");
    s
}

/// The path in the site that a relative link `dest` on the page at `page` leads
/// to, with `index.html` for a folder; `None` when it climbs out of the site
/// (a site served under a sub-path may link to its neighbours).
fn site_path(page: &str, dest: &str) -> Option<String> {
    let path = dest.split(['#', '?']).next().unwrap_or("");
    let mut parts: Vec<String> = page.split('/').map(str::to_string).collect();
    parts.pop();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(percent_decoded(s)),
        }
    }
    if path.is_empty() || path.ends_with('/') || path.ends_with("/.") || path.ends_with("..") {
        parts.push("index.html".into());
    }
    Some(parts.join("/"))
}

/// `%20` and the like as the characters they stand for (invalid escapes kept).
fn percent_decoded(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The open data files of `data/` (see `data.rs`). Kept out of [`Renderer::render`]:
/// no page loads them, so `serve` can show an edited page before they follow.
/// `homes` are the quotes' links ([`Rendered::homes`]).
pub fn data_files(study: &Study, homes: &[String]) -> Vec<OutputFile> {
    data::files(study, homes)
        .into_iter()
        .map(PiecedFile::joined)
        .collect()
}

/// Like [`data_files`], each file in the pieces it was made in.
pub fn data_files_in_pieces(study: &Study, homes: &[String]) -> Vec<PiecedFile> {
    data::files(study, homes)
}

/// Each quote's home, as every page links to it: the page of its first theme's
/// list that shows it, with its anchor. A render gives the same in
/// [`Rendered::homes`] without laying out the lists again.
pub fn quote_urls(study: &Study) -> Vec<String> {
    let ends = paginate::subtree_ends(study);
    paginate::quote_homes(study, &paginate::Lists::new(study, &ends))
}

/// Loads the site theme for `study` (see [`site_theme::load`]).
pub fn load_site_theme(study_dir: &Path, study: &Study) -> Result<SiteTheme, Vec<Diagnostic>> {
    site_theme::load(study_dir, study)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_links_lead_to_paths_in_the_site() {
        let finding = "findings/summary/index.html";
        let cases = [
            ("../../static/figure%201.png", Some("static/figure 1.png")),
            ("../../themes/care/", Some("themes/care/index.html")),
            (
                "../methods/index.html#setting",
                Some("findings/methods/index.html"),
            ),
            ("chart.svg?v=2", Some("findings/summary/chart.svg")),
            ("./", Some("findings/summary/index.html")),
            ("../..", Some("index.html")),
            ("../../../elsewhere/", None),
        ];
        for (dest, want) in cases {
            assert_eq!(site_path(finding, dest).as_deref(), want, "{dest}");
        }
        assert_eq!(
            site_path(urls::HOME, "data/quotes.csv").as_deref(),
            Some("data/quotes.csv")
        );
        assert_eq!(percent_decoded("a%2Fb%zz%4"), "a/b%zz%4");
    }

    #[test]
    fn markers_list_quote_numbers() {
        assert_eq!(quotes_marker(&[]), "");
        assert_eq!(
            quotes_marker(&[0, 7, 10, 123_456_789]),
            "<\u{0}0,7,10,123456789>"
        );
        let mut s = String::new();
        push_decimal(&mut s, usize::MAX);
        assert_eq!(s, usize::MAX.to_string());
    }

    #[test]
    fn splice_puts_each_quote_in_its_marker_and_keeps_other_text() {
        let html = |q: &str| QuoteHtml::new(format!("<q>{q} \u{1}x</q>"));
        let hashes = [10, 11, 12];
        let cache: HashMap<(u64, usize), Arc<QuoteHtml>> = [
            ((10, 0), Arc::new(html("a"))),
            ((11, 0), Arc::new(html("b"))),
            ((12, 0), Arc::new(html("c"))),
        ]
        .into();
        // A marker that is not one (`<\0x>`) stays as text, as do a NUL after
        // anything but `<` and a lone `<\0`.
        let skeleton = format!(
            "<p>{}</p><\u{0}x>\u{0}{}|{}<\u{0}",
            quotes_marker(&[0, 1]),
            quotes_marker(&[2]),
            quotes_marker(&[1])
        );
        let skeleton = Skeleton::new("a/b/index.html".into(), skeleton);
        assert_eq!(skeleton.quotes, [0, 1, 2, 1]);
        let table = QuoteTable::new(&cache, &hashes, &[0], 2);
        let mut out = Vec::new();
        splice(&mut out, &skeleton, 2, table.at(2));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<p><q>a ../../x</q><q>b ../../x</q></p><\u{0}x>\u{0}<q>c ../../x</q>|<q>b ../../x</q><\u{0}"
        );
    }

    #[test]
    fn quote_table_takes_each_depths_own_html_before_the_shared_one() {
        let cache: HashMap<(u64, usize), Arc<QuoteHtml>> = [
            ((10, 0), Arc::new(QuoteHtml::new("shared".into()))),
            ((10, 2), Arc::new(QuoteHtml::new("two".into()))),
            ((11, 1), Arc::new(QuoteHtml::new("one".into()))),
        ]
        .into();
        let table = QuoteTable::new(&cache, &[10, 11], &[1, 2], 3);
        let at = |depth: usize| -> Vec<Option<&str>> {
            table
                .at(depth)
                .iter()
                .map(|h| h.map(|h| &*h.html))
                .collect()
        };
        assert_eq!(at(1), [Some("shared"), Some("one")]);
        assert_eq!(at(2), [Some("two"), None]);
        assert_eq!(at(3), [Some("shared"), None]);
        assert!(table.at(4).is_empty(), "no page is that deep");
    }
}
