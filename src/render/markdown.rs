//! Markdown bodies to HTML: cross-references, quote embeds, highlighted code,
//! heading anchors, and no HTML comments.

use std::collections::HashMap;
use std::ops::Range;

use pulldown_cmark::{
    CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html,
};

use super::highlight;
use super::urls;
use crate::diagnostics::{Diagnostic, Position, did_you_mean};
use crate::load::Loc;
use crate::model::{Doc, RefKind, Study};

/// Markdown rendered for one page.
#[derive(Debug, Clone, Default)]
pub struct RenderedMarkdown {
    /// The HTML.
    pub html: String,
    /// True when the body has highlighted code (the page then links the syntax stylesheet).
    pub has_code: bool,
    /// Cross-references with a `#fragment`: (target page path, fragment, where written).
    /// The fragment can only be checked once the target page exists.
    pub fragments: Vec<(String, String, Loc)>,
    /// Relative links and images (`../../static/figure-1.png`), as written, and
    /// where: checked against the finished site, whose files are known only then.
    pub relative: Vec<(String, Loc)>,
}

/// Ids the built-in templates use: a heading must not take one of them.
const TEMPLATE_IDS: &[&str] = &[
    "main",
    "matrix-title",
    "findings-title",
    "sites-title",
    "groups-title",
    "subthemes-title",
    "at-sites-title",
    "table-title",
    "quotes-title",
    "sub-title",
    "other-title",
    "themes-title",
];

/// True for ids that templates or quote anchors may use on the same page.
fn is_reserved_id(id: &str) -> bool {
    TEMPLATE_IDS.contains(&id) || id.starts_with("q-") || id.starts_with("sec-")
}

/// Renders embedded quotes: the caller decides the markup (a template) and the anchor.
pub trait EmbedQuote {
    /// HTML of quote `id` embedded in a page whose root prefix is `root`.
    fn embed(&self, quote: usize, anchor: String, root: &str) -> Result<String, Diagnostic>;
    /// The quote's home: the page of its list that shows it, with its anchor.
    fn home(&self, quote: usize) -> String;
    /// The page of `list` that shows `quote` (a long list has several), or
    /// `None` when the list does not hold it.
    fn page_showing(&self, list: QuoteList, quote: usize) -> Option<String>;
}

/// A page's list of quotes, which a `#q-ID` fragment can point into.
#[derive(Clone, Copy)]
pub enum QuoteList {
    /// A theme's quotes, its subthemes' included.
    Theme(usize),
    /// A theme at a site: (theme, site).
    ThemeSite(usize, usize),
    /// A site's quotes.
    Site(usize),
    /// A responder group's quotes.
    Group(usize),
}

/// Where a reference leads, or why it cannot.
enum Target {
    Url(String),
    Withheld,
    /// The target has errors of its own, already reported.
    Silent,
    /// A quote of a participant who withdrew: never published, never linked.
    Withdrawn,
    Broken(String, Option<String>),
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_SMART_PUNCTUATION
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// Renders `doc` for a page whose root prefix is `root`. Broken references are
/// returned as errors at their line; links to drafts left out become plain text with a warning.
/// Embedded quotes get the anchor `q-ID` followed by `embed_suffix`: pages that also
/// list their quotes (themes, sites, groups) pass a suffix so anchors stay unique.
pub fn render(
    study: &Study,
    doc: &Doc,
    root: &str,
    embed_suffix: &str,
    embedder: &dyn EmbedQuote,
    diags: &mut Vec<Diagnostic>,
) -> RenderedMarkdown {
    // Comments go before parsing: Markdown does not always see a comment as HTML
    // (one spanning a blank line, say), and then would print it as text.
    let (body, unclosed) = remove_comments(&doc.body);
    let body = body.as_str();
    let loc_at = |offset: usize| -> Loc {
        let before = &body[..offset.min(body.len())];
        let line = before.matches('\n').count() as u32;
        // Columns count characters, as editors do.
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
        Loc {
            file: doc.file,
            pos: Position::at(doc.body_line + line, col),
        }
    };
    if let Some(at) = unclosed {
        diags.push(
            study
                .sources
                .error(
                    loc_at(at),
                    "this HTML comment is never closed: everything after it is left out",
                )
                .with_hint("end the comment with `-->`"),
        );
    }
    let events: Vec<(Event<'_>, Range<usize>)> = Parser::new_ext(body, options())
        .into_offset_iter()
        .collect();
    let mut out: Vec<Event<'_>> = Vec::with_capacity(events.len());
    let mut has_code = false;
    let mut fragments = Vec::new();
    let mut relative = Vec::new();
    let mut embedded: HashMap<usize, usize> = HashMap::new();
    let mut slugs: HashMap<String, usize> = HashMap::new();
    // Links to withheld drafts lose their <a> but keep their text.
    let mut dropped_links: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < events.len() {
        let (ev, range) = &events[i];
        match ev {
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => match resolve(study, dest_url, embedder) {
                None if is_script_url(dest_url) => {
                    dropped_links.push(true);
                    diags.push(
                        study
                            .sources
                            .error(loc_at(range.start), "a link to a script (`javascript:`, `vbscript:` or `data:`) is not allowed")
                            .with_hint("link to a web address or to a page of the study (theme:ID, finding:ID, ...)"),
                    );
                }
                None => {
                    dropped_links.push(false);
                    if is_relative(dest_url) {
                        relative.push((dest_url.to_string(), loc_at(range.start)));
                    }
                    out.push(Event::Start(Tag::Link {
                        link_type: *link_type,
                        dest_url: dest_url.clone(),
                        title: title.clone(),
                        id: id.clone(),
                    }));
                }
                Some(Target::Url(u)) => {
                    dropped_links.push(false);
                    if let Some((page, fragment)) = u.split_once('#') {
                        fragments.push((
                            page.to_string(),
                            fragment.to_string(),
                            loc_at(range.start),
                        ));
                    }
                    out.push(Event::Start(Tag::Link {
                        link_type: *link_type,
                        dest_url: CowStr::from(format!("{root}{u}")),
                        title: title.clone(),
                        id: id.clone(),
                    }));
                }
                Some(Target::Withheld) => {
                    dropped_links.push(true);
                    diags.push(
                            study
                                .sources
                                .warning(loc_at(range.start), format!("`{dest_url}` is a draft left out of this build: the link is shown as plain text"))
                                .with_hint("build with --drafts to preview it"),
                        );
                }
                Some(Target::Silent) => dropped_links.push(true),
                Some(Target::Withdrawn) => {
                    dropped_links.push(true);
                    diags.push(
                        study
                            .sources
                            .warning(loc_at(range.start), format!("`{dest_url}` is a quote of a withdrawn participant: the link is shown as plain text"))
                            .with_hint("remove the link; the quote is withheld everywhere"),
                    );
                }
                Some(Target::Broken(msg, hint)) => {
                    dropped_links.push(true);
                    diags.push(
                        study
                            .sources
                            .error(loc_at(range.start), msg)
                            .with_optional_hint(hint),
                    );
                }
            },
            Event::End(TagEnd::Link) => {
                if !dropped_links.pop().unwrap_or(false) {
                    out.push(Event::End(TagEnd::Link));
                }
            }
            Event::Start(Tag::Image { dest_url, .. }) if has_scheme(dest_url) => {
                // Skip the alt text: the embed replaces the whole image.
                let mut depth = 1;
                let start = i;
                while depth > 0 && i + 1 < events.len() {
                    i += 1;
                    match &events[i].0 {
                        Event::Start(Tag::Image { .. }) => depth += 1,
                        Event::End(TagEnd::Image) => depth -= 1,
                        _ => {}
                    }
                }
                let loc = loc_at(events[start].1.start);
                match dest_url.strip_prefix("quote:") {
                    Some(qid) => match study.index.quote_by_id.get(qid) {
                        Some(&q) => {
                            let n = embedded.entry(q).or_insert(0);
                            *n += 1;
                            let mut anchor = format!("{}{embed_suffix}", urls::quote_anchor(qid));
                            if *n > 1 {
                                anchor = format!("{anchor}-{n}");
                            }
                            match embedder.embed(q, anchor, root) {
                                Ok(h) => {
                                    out.push(Event::Html(CowStr::from(format!("\u{0}EMBED{h}"))))
                                }
                                Err(e) => diags.push(e),
                            }
                        }
                        None if study.index.withdrawn.contains(qid) => diags.push(
                            study
                                .sources
                                .warning(loc, format!("quote `{qid}` belongs to a withdrawn participant: it is not embedded"))
                                .with_hint("remove the embed; the quote is withheld everywhere"),
                        ),
                        None if study
                            .index
                            .invalid
                            .contains(&(RefKind::Quote, qid.to_string())) => {}
                        None if study
                            .index
                            .withheld
                            .contains(&(RefKind::Quote, qid.to_string())) =>
                        {
                            diags.push(
                                study
                                    .sources
                                    .warning(loc, format!("quote `{qid}` is a draft left out of this build: it is not embedded"))
                                    .with_hint("build with --drafts to preview it"),
                            );
                        }
                        None => diags.push(
                            study
                                .sources
                                .error(loc, format!("cannot embed unknown quote `{qid}`"))
                                .with_optional_hint(did_you_mean(
                                    qid,
                                    study.index.quote_by_id.keys().map(String::as_str),
                                )),
                        ),
                    },
                    None => diags.push(
                        study
                            .sources
                            .error(
                                loc,
                                format!("only quotes can be embedded: `![](…)` with `{dest_url}`"),
                            )
                            .with_hint(
                                "embed a quote with ![](quote:ID), or link with [text](theme:ID)",
                            ),
                    ),
                }
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(l) => {
                        l.split_whitespace().next().unwrap_or("").to_string()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                let mut code = String::new();
                while i + 1 < events.len() {
                    i += 1;
                    match &events[i].0 {
                        Event::Text(t) => code.push_str(t),
                        Event::End(TagEnd::CodeBlock) => break,
                        _ => {}
                    }
                }
                let (html, highlighted) = highlight::code_block(&code, &lang);
                has_code |= highlighted;
                out.push(Event::Html(CowStr::from(html)));
            }
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => {
                // Give every heading an anchor so sections can be linked.
                let mut text = String::new();
                let mut j = i + 1;
                while j < events.len() && !matches!(events[j].0, Event::End(TagEnd::Heading(_))) {
                    if let Event::Text(t) | Event::Code(t) = &events[j].0 {
                        text.push_str(t);
                    }
                    j += 1;
                }
                let base = id.as_ref().map(|s| s.to_string()).unwrap_or_else(|| {
                    let slug = heading_slug(&text);
                    if is_reserved_id(&slug) {
                        format!("{slug}-section")
                    } else {
                        slug
                    }
                });
                let n = slugs.entry(base.clone()).or_insert(0);
                *n += 1;
                let anchor = if *n == 1 { base } else { format!("{base}-{n}") };
                out.push(Event::Start(Tag::Heading {
                    level: demote(*level),
                    id: Some(CowStr::from(anchor)),
                    classes: classes.clone(),
                    attrs: attrs.clone(),
                }));
            }
            Event::End(TagEnd::Heading(level)) => {
                out.push(Event::End(TagEnd::Heading(demote(*level))))
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                if is_relative(dest_url) {
                    relative.push((dest_url.to_string(), loc_at(range.start)));
                }
                out.push(ev.clone());
            }
            other => out.push(other.clone()),
        }
        i += 1;
    }
    let out = unwrap_embed_paragraphs(out);
    let mut html_out = String::with_capacity(body.len() * 3 / 2);
    html::push_html(&mut html_out, out.into_iter());
    RenderedMarkdown {
        html: html_out,
        has_code,
        fragments,
        relative,
    }
}

/// A link to a file of this site by a relative path: no scheme (`https:`,
/// `mailto:`), not absolute, not only a `#fragment` or a `?query`.
fn is_relative(dest: &str) -> bool {
    let path_end = dest.find(['/', '?', '#']).unwrap_or(dest.len());
    !dest.is_empty() && !dest.starts_with(['/', '#', '?', '\\']) && !dest[..path_end].contains(':')
}

/// Links that run code when followed. Browsers ignore case, whitespace and
/// control characters in the scheme, so the check does too.
fn is_script_url(dest: &str) -> bool {
    let scheme: String = dest
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .take_while(|c| *c != ':')
        .flat_map(char::to_lowercase)
        .collect();
    dest.contains(':') && matches!(scheme.as_str(), "javascript" | "vbscript" | "data")
}

/// The page title is the only `<h1>`: body headings start at `<h2>`.
fn demote(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H2,
        other => other,
    }
}

fn has_scheme(dest: &str) -> bool {
    ["theme:", "site:", "group:", "finding:", "quote:"]
        .iter()
        .any(|s| dest.starts_with(s))
}

/// An embed alone in a paragraph replaces the paragraph (a `<figure>` cannot sit in a `<p>`).
/// An embed mixed with text splits the paragraph around it.
fn unwrap_embed_paragraphs(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let is_embed = |e: &Event<'_>| matches!(e, Event::Html(h) if h.starts_with('\u{0}'));
    let is_blank = |e: &Event<'_>| {
        matches!(e, Event::SoftBreak | Event::HardBreak)
            || matches!(e, Event::Text(t) if t.trim().is_empty())
    };
    let mut out = Vec::with_capacity(events.len());
    let mut k = 0;
    while k < events.len() {
        if matches!(events[k], Event::Start(Tag::Paragraph)) {
            let end =
                (k + 1..events.len()).find(|&j| matches!(events[j], Event::End(TagEnd::Paragraph)));
            if let Some(end) = end.filter(|&end| events[k + 1..end].iter().any(is_embed)) {
                for run in events[k + 1..end].split(is_embed).zip(
                    events[k + 1..end]
                        .iter()
                        .filter(|e| is_embed(e))
                        .map(Some)
                        .chain(std::iter::once(None)),
                ) {
                    let (text, embed) = run;
                    if !text.iter().all(is_blank) {
                        out.push(Event::Start(Tag::Paragraph));
                        out.extend(text.iter().cloned());
                        out.push(Event::End(TagEnd::Paragraph));
                    }
                    if let Some(e) = embed {
                        out.push(strip_marker(e));
                    }
                }
                k = end + 1;
                continue;
            }
        }
        out.push(if is_embed(&events[k]) {
            strip_marker(&events[k])
        } else {
            events[k].clone()
        });
        k += 1;
    }
    out
}

fn strip_marker<'a>(e: &Event<'a>) -> Event<'a> {
    match e {
        Event::Html(h) => Event::Html(CowStr::from(h.trim_start_matches("\u{0}EMBED").to_string())),
        other => other.clone(),
    }
}

/// Resolves a scheme link; `None` for ordinary links.
fn resolve(study: &Study, dest: &str, quotes: &dyn EmbedQuote) -> Option<Target> {
    let (dest, fragment) = match dest.split_once('#') {
        Some((d, f)) => (d, Some(f)),
        None => (dest, None),
    };
    let (scheme, rest) = dest.split_once(':')?;
    let kind = match scheme {
        "theme" => RefKind::Theme,
        "site" => RefKind::Site,
        "group" => RefKind::Group,
        "finding" => RefKind::Finding,
        "quote" => RefKind::Quote,
        "themes" | "sites" | "groups" | "findings" | "quotes" => {
            let singular = &scheme[..scheme.len() - 1];
            return Some(Target::Broken(
                format!("unknown link scheme `{scheme}:`"),
                Some(format!("write `{singular}:{rest}`")),
            ));
        }
        _ => return None,
    };
    let with_fragment = |u: String| match fragment {
        Some(f) => format!("{u}#{f}"),
        None => u,
    };
    let ix = &study.index;
    let lookup = |kind: RefKind, id: &str| -> Result<usize, Target> {
        let map = match kind {
            RefKind::Theme => &ix.theme_by_id,
            RefKind::Site => &ix.site_by_id,
            RefKind::Group => &ix.group_by_id,
            RefKind::Finding => &ix.finding_by_id,
            RefKind::Quote => &ix.quote_by_id,
        };
        if let Some(&i) = map.get(id) {
            return Ok(i);
        }
        if ix.withheld.contains(&(kind, id.to_string())) {
            return Err(Target::Withheld);
        }
        if kind == RefKind::Quote && ix.withdrawn.contains(id) {
            return Err(Target::Withdrawn);
        }
        if ix.invalid.contains(&(kind, id.to_string())) {
            return Err(Target::Silent);
        }
        Err(Target::Broken(
            format!("broken link: unknown {} `{id}`", kind.name()),
            did_you_mean(id, map.keys().map(String::as_str)),
        ))
    };
    let (url, list) = match kind {
        RefKind::Theme => {
            // `theme:ID/site:SITE` is the theme-by-site page.
            let (tid, site) = match rest.split_once("/site:") {
                Some((t, s)) => (t, Some(s)),
                None => (rest, None),
            };
            let t = match lookup(RefKind::Theme, tid) {
                Ok(t) => t,
                Err(e) => return Some(e),
            };
            match site {
                None => (urls::theme(tid), Some(QuoteList::Theme(t))),
                Some(sid) => {
                    let s = match lookup(RefKind::Site, sid) {
                        Ok(s) => s,
                        Err(e) => return Some(e),
                    };
                    if ix.theme_site_quotes[t][s].is_empty() {
                        // Quotes left out for their own errors may be what this page needed.
                        if ix.invalid.iter().any(|(k, _)| *k == RefKind::Quote) {
                            return Some(Target::Silent);
                        }
                        return Some(Target::Broken(
                            format!(
                                "broken link: theme `{tid}` has no quotes at site `{sid}`, so it has no page there"
                            ),
                            Some(format!("link to the theme instead: (theme:{tid})")),
                        ));
                    }
                    (urls::theme_site(tid, sid), Some(QuoteList::ThemeSite(t, s)))
                }
            }
        }
        RefKind::Site => match lookup(kind, rest) {
            Ok(s) => (urls::site(rest), Some(QuoteList::Site(s))),
            Err(e) => return Some(e),
        },
        RefKind::Group => match lookup(kind, rest) {
            Ok(g) => (urls::group(rest), Some(QuoteList::Group(g))),
            Err(e) => return Some(e),
        },
        RefKind::Finding => match lookup(kind, rest) {
            Ok(_) => (urls::finding(rest), None),
            Err(e) => return Some(e),
        },
        RefKind::Quote => match lookup(kind, rest) {
            Ok(q) => return Some(Target::Url(quotes.home(q))),
            Err(e) => return Some(e),
        },
    };
    // `#q-ID` on a page that lists quotes points at a quote: it leads to the
    // page of the list that shows it, and follows the quote when it is withheld.
    // A fragment that names no quote (a heading such as "Q-sort method") is
    // checked against the finished page like any other.
    let quote_fragment = fragment
        .and_then(|f| f.strip_prefix("q-"))
        .zip(list)
        .map(|(qid, list)| (qid, list, lookup(RefKind::Quote, qid)));
    match quote_fragment {
        Some((_, list, Ok(q))) => match quotes.page_showing(list, q) {
            Some(page) => Some(Target::Url(with_fragment(page))),
            None => Some(Target::Broken(
                format!(
                    "broken link: quote `{}` is not listed on `{dest}`",
                    study.quotes[q].id
                ),
                Some(format!(
                    "link to the quote itself with `quote:{}`, which leads to the page that shows it",
                    study.quotes[q].id
                )),
            )),
        },
        Some((_, _, Err(Target::Broken(..)))) | None => Some(Target::Url(with_fragment(url))),
        Some((_, _, Err(withheld))) => Some(withheld),
    }
}

/// The text a Markdown body shows once rendered: formatting, entities and line
/// breaks are gone, so `**Mary** Nakato` reads as `Mary Nakato`. Returns the text
/// and, for each of its bytes, the offset in the body it came from.
pub fn plain_text(body: &str) -> (String, Vec<usize>) {
    use pulldown_cmark::{Event, Options, Parser, TagEnd};
    let mut text = String::new();
    let mut offsets = Vec::new();
    let mut push = |s: &str, at: usize, text: &mut String| {
        text.push_str(s);
        offsets.extend(std::iter::repeat_n(at, s.len()));
    };
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH;
    for (event, range) in Parser::new_ext(body, options).into_offset_iter() {
        match event {
            Event::Text(t) | Event::Code(t) => push(&t, range.start, &mut text),
            Event::SoftBreak | Event::HardBreak => push(" ", range.start, &mut text),
            Event::End(
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::TableCell,
            ) => push("\n", range.start, &mut text),
            _ => {}
        }
    }
    (text, offsets)
}

/// A heading's anchor: lowercase words joined by hyphens.
pub fn heading_slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let s = out.trim_end_matches('-').to_string();
    if s.is_empty() { "section".into() } else { s }
}

/// Removes HTML comments from Markdown source, outside code. Each comment is
/// replaced by the line breaks it held, so line numbers stay true. Returns the
/// text and, for a comment that is never closed, the offset where it starts
/// (the rest of the text is then dropped: it may be private).
pub fn remove_comments(src: &str) -> (String, Option<usize>) {
    if !src.contains("<!--") {
        return (src.to_string(), None);
    }
    // Outside fenced blocks, copy code spans whole and drop comments.
    let fenced = fenced_ranges(src);
    let mut result = String::with_capacity(src.len());
    let bytes = src.as_bytes();
    let mut i = 0;
    while i < src.len() {
        if let Some(&(_, end)) = fenced.iter().find(|(s, e)| *s <= i && i < *e) {
            result.push_str(&src[i..end]);
            i = end;
            continue;
        }
        if bytes[i] == b'`' {
            // A code span: copy it whole, up to the matching run of backticks.
            let run = src[i..].bytes().take_while(|b| *b == b'`').count();
            let ticks = &src[i..i + run];
            match src[i + run..].find(ticks) {
                Some(close) => {
                    let end = i + run + close + run;
                    result.push_str(&src[i..end]);
                    i = end;
                }
                None => {
                    result.push_str(ticks);
                    i += run;
                }
            }
            continue;
        }
        if src[i..].starts_with("<!--") {
            match src[i + 4..].find("-->") {
                Some(close) => {
                    let end = i + 4 + close + 3;
                    result.extend(src[i..end].chars().filter(|c| *c == '\n'));
                    i = end;
                }
                None => return (result, Some(i)),
            }
            continue;
        }
        let ch = src[i..].chars().next().unwrap_or(' ');
        result.push(ch);
        i += ch.len_utf8();
    }
    (result, None)
}

/// Byte ranges of fenced code blocks (``` or ~~~), fences included.
fn fenced_ranges(src: &str) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let mut open: Option<(usize, String)> = None;
    let mut offset = 0;
    for line in src.split_inclusive('\n') {
        let fence: String = line
            .trim_start()
            .chars()
            .take_while(|c| *c == '`' || *c == '~')
            .collect();
        let uniform = fence.len() >= 3 && fence.chars().all(|c| fence.starts_with(c));
        match &open {
            Some((start, f)) if uniform && fence.len() >= f.len() && fence.starts_with(&f[..1]) => {
                ranges.push((*start, offset + line.len()));
                open = None;
            }
            None if uniform => open = Some((offset, fence)),
            _ => {}
        }
        offset += line.len();
    }
    if let Some((start, _)) = open {
        ranges.push((start, src.len()));
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_links_are_told_from_others() {
        for dest in [
            "../../static/a.png",
            "figure.png",
            "./x",
            "a/b:c",
            "x?y=1#z",
        ] {
            assert!(is_relative(dest), "{dest}");
        }
        for dest in [
            "https://example.org",
            "mailto:a@b.org",
            "/abs",
            "#top",
            "?q",
            "",
            "//cdn/x",
        ] {
            assert!(!is_relative(dest), "{dest}");
        }
    }

    #[test]
    fn script_links_are_recognised() {
        assert!(is_script_url("javascript:alert(1)"));
        assert!(is_script_url(" JavaScript :alert(1)"));
        assert!(is_script_url("java\tscript:alert(1)"));
        assert!(is_script_url("data:text/html,x"));
        assert!(!is_script_url("https://example.org/javascript:"));
        assert!(!is_script_url("theme:barriers"));
    }

    #[test]
    fn comments_are_removed_from_source_but_not_from_code() {
        let (t, open) =
            remove_comments("a <!-- x\n\ny --> b\n`<!-- kept -->`\n```\n<!-- kept too -->\n```\n");
        assert_eq!(
            t,
            "a \n\n b\n`<!-- kept -->`\n```\n<!-- kept too -->\n```\n"
        );
        assert_eq!(open, None);
        let (t, open) = remove_comments("ok\n<!-- never closed\nsecret");
        assert_eq!(t, "ok\n");
        assert_eq!(open, Some(3));
    }

    #[test]
    fn slugs() {
        assert_eq!(
            heading_slug("Why peer support works"),
            "why-peer-support-works"
        );
        assert_eq!(heading_slug("Über uns!"), "über-uns");
        assert_eq!(heading_slug("!!!"), "section");
    }
}
