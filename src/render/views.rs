//! What templates see: plain, serializable views of the model.
//!
//! Every `url` here is relative to the site root; templates prefix it with
//! `root` (`{{ root }}{{ theme.url }}`). docs/site-themes.md documents these
//! fields for site-theme authors: keep the two in step.

use serde::Serialize;

use super::urls;
use crate::model::{Count, Meta, Quote, Study, ThemeIx};

/// A theme in lists, menus and the codebook.
#[derive(Debug, Clone, Serialize)]
pub struct ThemeView {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: Option<String>,
    /// Page URL.
    pub url: String,
    /// 0 for top-level themes.
    pub depth: usize,
    /// Parent id.
    pub parent: Option<String>,
    /// Ids of child themes.
    pub children: Vec<String>,
    /// Quotes and participants, subthemes included.
    pub count: Count,
    /// Marked as draft.
    pub draft: bool,
    /// Display colour.
    pub color: Option<String>,
}

/// A site in lists and menus.
#[derive(Debug, Clone, Serialize)]
pub struct SiteView {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: Option<String>,
    /// Page URL.
    pub url: String,
    /// Country.
    pub country: Option<String>,
    /// Income level as written (`lower-middle`).
    pub income_level: Option<String>,
    /// Income level in words.
    pub income_label: Option<String>,
    /// Languages.
    pub languages: Vec<String>,
    /// Participants at the site, as stated in its front matter.
    pub participants: Option<u32>,
    /// Quotes and participants quoted.
    pub count: Count,
    /// Marked as draft.
    pub draft: bool,
}

/// A group or finding in lists and menus.
#[derive(Debug, Clone, Serialize)]
pub struct EntryView {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: Option<String>,
    /// Page URL.
    pub url: String,
    /// Quotes and participants (zero for findings).
    pub count: Count,
    /// Marked as draft.
    pub draft: bool,
}

/// A link with a label.
#[derive(Debug, Clone, Serialize)]
pub struct LinkView {
    /// Label.
    pub title: String,
    /// URL relative to the root, or `None` for the current page.
    pub url: Option<String>,
}

/// The study as templates see it.
#[derive(Debug, Clone, Serialize)]
pub struct StudyView<'a> {
    /// Metadata from study.yaml.
    #[serde(flatten)]
    pub meta: &'a Meta,
    /// Number of published quotes.
    pub quote_count: usize,
    /// Number of distinct participants quoted.
    pub participants_quoted: usize,
    /// Participant counts below this are shown as `<k` (0: all are shown).
    pub hide_below: u32,
}

/// A reference from a quote to a site, group or theme.
#[derive(Debug, Clone, Serialize, Hash)]
pub struct TagView {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Page URL.
    pub url: String,
}

/// Original-language text of a quote.
#[derive(Debug, Clone, Serialize, Hash)]
pub struct OriginalView {
    /// Language tag.
    pub lang: String,
    /// `rtl` or `ltr`.
    pub dir: &'static str,
    /// Paragraphs.
    pub paragraphs: Vec<String>,
}

/// A quote as `quote.html` sees it.
#[derive(Debug, Clone, Serialize, Hash)]
pub struct QuoteView {
    /// Id.
    pub id: String,
    /// Anchor id on the page.
    pub anchor: String,
    /// The quote's home: its first theme's page, with the anchor.
    pub url: String,
    /// Participant code.
    pub participant: String,
    /// Site.
    pub site: TagView,
    /// Group.
    pub group: TagView,
    /// Themes, as tagged.
    pub themes: Vec<TagView>,
    /// Space-separated ids of its themes and of their ancestors, for `data-themes`:
    /// filtering by a theme must also find the quotes of its subthemes.
    pub theme_ids: String,
    /// Paragraphs of the verbatim text (split at blank lines).
    pub paragraphs: Vec<String>,
    /// Original-language text.
    pub original: Option<OriginalView>,
    /// Context.
    pub context: Option<String>,
    /// Marked as draft.
    pub draft: bool,
}

/// The ids of `themes` and of all their ancestors, each once, in tree order.
pub fn lineage_ids(study: &Study, themes: &[ThemeIx]) -> String {
    study
        .themes_with_ancestors(themes)
        .iter()
        .map(|&t| study.themes[t].common.id.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Splits plain text into paragraphs at blank lines; lines within a paragraph are joined by a space.
pub fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(line);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

impl ThemeView {
    /// The view of theme `t`.
    pub fn new(study: &Study, t: ThemeIx) -> Self {
        let th = &study.themes[t];
        ThemeView {
            id: th.common.id.clone(),
            title: th.common.title.clone(),
            summary: th.common.summary.clone(),
            url: urls::theme(&th.common.id),
            depth: th.depth,
            parent: th.parent.map(|p| study.themes[p].common.id.clone()),
            children: th
                .children
                .iter()
                .map(|&c| study.themes[c].common.id.clone())
                .collect(),
            count: study.count(&study.index.theme_quotes[t]),
            draft: th.common.draft,
            color: th.color.clone(),
        }
    }
}

impl SiteView {
    /// The view of site `s`.
    pub fn new(study: &Study, s: usize) -> Self {
        let site = &study.sites[s];
        SiteView {
            id: site.common.id.clone(),
            title: site.common.title.clone(),
            summary: site.common.summary.clone(),
            url: urls::site(&site.common.id),
            country: site.country.clone(),
            income_level: site.income_level.map(|l| {
                serde_json::to_value(l)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            }),
            income_label: site.income_level.map(|l| l.label().to_string()),
            languages: site.languages.clone(),
            participants: site.participants,
            count: study.count(&study.index.site_quotes[s]),
            draft: site.common.draft,
        }
    }
}

impl QuoteView {
    /// The view of a quote, with the given anchor id and home (the page that
    /// links to it, with its anchor).
    pub fn new(study: &Study, q: &Quote, anchor: String, home: String) -> Self {
        let site = &study.sites[q.site].common;
        let group = &study.groups[q.group].common;
        let themes: Vec<TagView> = q
            .themes
            .iter()
            .map(|&t| {
                let c = &study.themes[t].common;
                TagView {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    url: urls::theme(&c.id),
                }
            })
            .collect();
        QuoteView {
            id: q.id.clone(),
            url: home,
            anchor,
            participant: q.participant.clone(),
            site: TagView {
                id: site.id.clone(),
                title: site.title.clone(),
                url: urls::site(&site.id),
            },
            group: TagView {
                id: group.id.clone(),
                title: group.title.clone(),
                url: urls::group(&group.id),
            },
            theme_ids: lineage_ids(study, &q.themes),
            themes,
            paragraphs: paragraphs(&q.text),
            original: q.original.as_ref().map(|o| OriginalView {
                lang: o.lang.clone(),
                dir: if o.rtl { "rtl" } else { "ltr" },
                paragraphs: paragraphs(&o.text),
            }),
            context: q.context.clone(),
            draft: q.draft,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_split_at_blank_lines() {
        assert_eq!(paragraphs("a\nb\n\n  c \n"), vec!["a b", "c"]);
        assert!(paragraphs("\n\n").is_empty());
    }
}
