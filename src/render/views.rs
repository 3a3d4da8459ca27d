//! What templates see: plain, serializable views of the model.
//!
//! Every `url` here is relative to the site root; templates prefix it with
//! `root` (`{{ root }}{{ theme.url }}`). docs/site-themes.md documents these
//! fields for site-theme authors: keep the two in step.

use std::borrow::Cow;

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
    /// Languages, as tags (`lg`).
    pub languages: Vec<String>,
    /// The same languages by name, for readers (`Luganda`).
    pub language_names: Vec<String>,
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

/// A link to a site, group or theme, in headings and tables.
#[derive(Debug, Clone, Serialize, Hash)]
pub struct TagView {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Page URL.
    pub url: String,
}

/// A quote's site, group or theme, borrowed from the study.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct QuoteTag<'a> {
    /// Id.
    pub id: &'a str,
    /// Title.
    pub title: &'a str,
    /// Page URL.
    pub url: &'a str,
}

/// The page URL of every site, group and theme, made once for all quote views
/// (a large study has hundreds of thousands of quote views to make).
pub struct TagUrls {
    sites: Vec<String>,
    groups: Vec<String>,
    themes: Vec<String>,
}

impl TagUrls {
    /// The URLs of `study`'s sites, groups and themes.
    pub fn new(study: &Study) -> Self {
        TagUrls {
            sites: study
                .sites
                .iter()
                .map(|x| urls::site(&x.common.id))
                .collect(),
            groups: study
                .groups
                .iter()
                .map(|x| urls::group(&x.common.id))
                .collect(),
            themes: study
                .themes
                .iter()
                .map(|x| urls::theme(&x.common.id))
                .collect(),
        }
    }
}

/// Original-language text of a quote.
#[derive(Debug, Clone, Serialize)]
pub struct OriginalView<'a> {
    /// Language tag.
    pub lang: &'a str,
    /// The language's name, for readers (`Arabic`).
    pub language: Cow<'a, str>,
    /// `rtl` or `ltr`.
    pub dir: &'static str,
    /// Paragraphs.
    pub paragraphs: Vec<Cow<'a, str>>,
}

/// A quote as `quote.html` sees it.
#[derive(Debug, Clone, Serialize)]
pub struct QuoteView<'a> {
    /// Id.
    pub id: &'a str,
    /// Anchor id on the page.
    pub anchor: String,
    /// The quote's home: its first theme's page, with the anchor.
    pub url: &'a str,
    /// Participant code.
    pub participant: &'a str,
    /// Site.
    pub site: QuoteTag<'a>,
    /// Group.
    pub group: QuoteTag<'a>,
    /// Themes, as tagged.
    pub themes: Vec<QuoteTag<'a>>,
    /// Space-separated ids of its themes and of their ancestors, for `data-themes`:
    /// filtering by a theme must also find the quotes of its subthemes.
    pub theme_ids: String,
    /// Paragraphs of the verbatim text (split at blank lines).
    pub paragraphs: Vec<Cow<'a, str>>,
    /// Original-language text.
    pub original: Option<OriginalView<'a>>,
    /// Context.
    pub context: Option<&'a str>,
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

/// Splits plain text into paragraphs at blank lines; lines within a paragraph
/// are joined by a space. A paragraph of one line is borrowed.
pub fn paragraphs(text: &str) -> Vec<Cow<'_, str>> {
    let mut out = Vec::new();
    let mut cur: Option<Cow<'_, str>> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            out.extend(cur.take());
        } else {
            match &mut cur {
                None => cur = Some(Cow::Borrowed(line)),
                Some(p) => {
                    let p = p.to_mut();
                    p.push(' ');
                    p.push_str(line);
                }
            }
        }
    }
    out.extend(cur);
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
            language_names: site
                .languages
                .iter()
                .map(|l| super::languages::language_name(l).into_owned())
                .collect(),
            participants: site.participants,
            count: study.count(&study.index.site_quotes[s]),
            draft: site.common.draft,
        }
    }
}

impl<'a> QuoteView<'a> {
    /// The view of a quote, with the given anchor id and home (the page that
    /// links to it, with its anchor).
    pub fn new(
        study: &'a Study,
        tags: &'a TagUrls,
        q: &'a Quote,
        anchor: String,
        home: &'a str,
    ) -> Self {
        let site = &study.sites[q.site].common;
        let group = &study.groups[q.group].common;
        QuoteView {
            id: &q.id,
            url: home,
            anchor,
            participant: &q.participant,
            site: QuoteTag {
                id: &site.id,
                title: &site.title,
                url: &tags.sites[q.site],
            },
            group: QuoteTag {
                id: &group.id,
                title: &group.title,
                url: &tags.groups[q.group],
            },
            theme_ids: lineage_ids(study, &q.themes),
            themes: q
                .themes
                .iter()
                .map(|&t| {
                    let c = &study.themes[t].common;
                    QuoteTag {
                        id: &c.id,
                        title: &c.title,
                        url: &tags.themes[t],
                    }
                })
                .collect(),
            paragraphs: paragraphs(&q.text),
            original: q.original.as_ref().map(|o| OriginalView {
                lang: &o.lang,
                language: super::languages::language_name(&o.lang),
                dir: if o.rtl { "rtl" } else { "ltr" },
                paragraphs: paragraphs(&o.text),
            }),
            context: q.context.as_deref(),
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
        assert!(matches!(
            paragraphs(" one line ")[0],
            Cow::Borrowed("one line")
        ));
        assert!(paragraphs("\n\n").is_empty());
    }
}
