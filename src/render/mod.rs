//! Stage 3: the study as pages.
//!
//! Work is done once and shared: each quote's HTML is rendered once per page
//! depth (at most three times, never per page), each Markdown body once, and
//! pages are rendered in parallel from those pieces. Nothing here touches the disk
//! except reading the site theme.

pub mod highlight;
pub mod markdown;
mod pages;
pub mod site_theme;
pub mod urls;
pub mod views;

use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;
use tera::Context;

use crate::diagnostics::Diagnostic;
use crate::model::Study;
pub use site_theme::SiteTheme;
use views::{EntryView, QuoteView, SiteView, StudyView, ThemeView};

/// One file of the finished site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// Path relative to the output root, with `/` separators.
    pub path: String,
    /// Contents.
    pub bytes: Vec<u8>,
}

/// The rendered site, plus the diagnostics found while rendering.
#[derive(Debug, Default)]
pub struct Rendered {
    /// Files in path order.
    pub files: Vec<OutputFile>,
    /// Number of HTML pages among them.
    pub pages: usize,
    /// Errors (broken references, template errors) and warnings.
    pub diagnostics: Vec<Diagnostic>,
}

/// Shared, pre-rendered pieces every page draws from.
pub(crate) struct Parts<'a> {
    pub study: &'a Study,
    pub theme: &'a SiteTheme,
    /// `quote_html[depth - 1][quote]` for pages 1, 2 and 3 folders deep.
    pub quote_html: [Vec<String>; 3],
    /// Rendered Markdown by (kind, index); the home page is ("home", 0).
    pub markdown: HashMap<(&'static str, usize), markdown::RenderedMarkdown>,
    /// Index of each theme's subtree end: themes `t..subtree_end[t]` are `t` and its descendants.
    pub subtree_end: Vec<usize>,
}

struct Embedder<'a> {
    study: &'a Study,
    theme: &'a SiteTheme,
}

impl markdown::EmbedQuote for Embedder<'_> {
    fn embed(&self, quote: usize, anchor: String, root: &str) -> Result<String, Diagnostic> {
        render_quote(self.study, self.theme, quote, anchor, root, true)
    }
}

/// Renders one quote through the `quote.html` template.
fn render_quote(
    study: &Study,
    theme: &SiteTheme,
    q: usize,
    anchor: String,
    root: &str,
    embed: bool,
) -> Result<String, Diagnostic> {
    let quote = &study.quotes[q];
    let mut ctx = Context::new();
    ctx.insert("quote", &QuoteView::new(study, quote, anchor));
    ctx.insert("root", root);
    ctx.insert("embed", &embed);
    theme
        .tera
        .render("quote.html", &ctx)
        .map_err(|e| theme.diagnostic(&e, &format!("while rendering quote `{}`", quote.id)))
}

/// Renders every page of the study with the given site theme.
pub fn render_site(study: &Study, theme: &mut SiteTheme) -> Rendered {
    let mut diagnostics = Vec::new();
    set_globals(study, theme);
    let theme = &*theme;

    // Quotes: once per depth, in parallel.
    let quote_html: [Vec<String>; 3] = [1usize, 2, 3].map(|depth| {
        let root = "../".repeat(depth);
        let results: Vec<Result<String, Diagnostic>> = (0..study.quotes.len())
            .into_par_iter()
            .map(|q| {
                render_quote(
                    study,
                    theme,
                    q,
                    urls::quote_anchor(&study.quotes[q].id),
                    &root,
                    false,
                )
            })
            .collect();
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|d| {
                    diagnostics.push(d);
                    String::new()
                })
            })
            .collect()
    });

    // Markdown bodies: once each, in parallel.
    let embedder = Embedder { study, theme };
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

    let mut subtree_end = vec![0; study.themes.len()];
    for t in (0..study.themes.len()).rev() {
        subtree_end[t] = study.themes[t]
            .children
            .iter()
            .map(|&c| subtree_end[c])
            .max()
            .unwrap_or(t + 1);
    }

    let parts = Parts {
        study,
        theme,
        quote_html,
        markdown,
        subtree_end,
    };
    let jobs = pages::all_pages(study);
    let results: Vec<Result<OutputFile, Diagnostic>> = jobs
        .par_iter()
        .map(|p| pages::render_page(&parts, p))
        .collect();
    let mut files = Vec::with_capacity(results.len() + 4);
    for r in results {
        match r {
            Ok(f) => files.push(f),
            Err(d) => diagnostics.push(d),
        }
    }
    let pages = files.len();
    for (name, bytes) in &theme.statics {
        files.push(OutputFile {
            path: format!("static/{name}"),
            bytes: bytes.clone(),
        });
    }
    // A site theme may bring its own syntax colours.
    if parts.markdown.values().any(|m| m.has_code) && !theme.statics.contains_key("syntax.css") {
        files.push(OutputFile {
            path: "static/syntax.css".into(),
            bytes: highlight::stylesheet().into_bytes(),
        });
    }
    if let Some(base) = &study.meta.base_url {
        files.push(OutputFile {
            path: "sitemap.xml".into(),
            bytes: sitemap(base, &files).into_bytes(),
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Rendered {
        files,
        pages,
        diagnostics,
    }
}

/// Values every template sees, set once rather than per page.
fn set_globals(study: &Study, theme: &mut SiteTheme) {
    let themes: Vec<ThemeView> = (0..study.themes.len())
        .map(|t| ThemeView::new(study, t))
        .collect();
    let sites: Vec<SiteView> = (0..study.sites.len())
        .map(|s| SiteView::new(study, s))
        .collect();
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
    };
    let g = theme.tera.global_context();
    g.insert("study", &study_view);
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
}

#[derive(Serialize)]
struct Generator {
    name: &'static str,
    version: &'static str,
}

fn sitemap(base: &str, files: &[OutputFile]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let mut paths: Vec<&str> = files
        .iter()
        .map(|f| f.path.as_str())
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

/// Loads the site theme for `study` (see [`site_theme::load`]).
pub fn load_site_theme(study_dir: &Path, study: &Study) -> Result<SiteTheme, Vec<Diagnostic>> {
    site_theme::load(study_dir, study)
}
