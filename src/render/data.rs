//! The open data files in `data/`: what the pages publish, in files that
//! spreadsheets, scripts and QDA tools open.
//!
//! Everything here is built from the published [`Study`] only: its quotes are
//! exactly the quotes of this build (drafts left out unless `--drafts`,
//! withdrawn participants already removed), and nothing reads sources, file
//! paths or `privacy.yaml`. Markdown bodies are published as the pages show
//! them: HTML comments removed, and links or embeds whose target is not
//! published reduced to their text. docs/open-data.md documents every file;
//! keep the two in step (the shapes are a stable interface).
//!
//! Output is deterministic: study order, codebook order, structs (not maps)
//! for JSON objects, and no timestamps.

use std::ops::Range;

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};
use rayon::prelude::*;
use serde::Serialize;

use super::{PiecedFile, markdown, urls};
use crate::json::json_string;
use crate::model::{Count, License, Study, ThemeIx};

/// The version of the JSON shapes and CSV columns (docs/open-data.md).
const VERSION: u32 = 1;

/// `data/quotes.csv`.
pub(crate) const QUOTES_CSV: &str = "data/quotes.csv";
/// `data/quotes.json`.
pub(crate) const QUOTES_JSON: &str = "data/quotes.json";
/// `data/codebook.json`.
pub(crate) const CODEBOOK_JSON: &str = "data/codebook.json";
/// `data/codebook.qdc`, written when the study has at least one theme (the
/// REFI-QDA schema requires one code).
pub(crate) const CODEBOOK_QDC: &str = "data/codebook.qdc";
/// `data/sites.json`.
pub(crate) const SITES_JSON: &str = "data/sites.json";
/// `data/groups.json`.
pub(crate) const GROUPS_JSON: &str = "data/groups.json";
/// Every file `data/` can hold.
pub(crate) const FILES: [&str; 6] = [
    QUOTES_CSV,
    QUOTES_JSON,
    CODEBOOK_JSON,
    CODEBOOK_QDC,
    SITES_JSON,
    GROUPS_JSON,
];

/// Every file of `data/`, built from the published study only; the quote files
/// in the chunks they were made in.
pub(crate) fn files(study: &Study, homes: &[String]) -> Vec<PiecedFile> {
    let started = std::time::Instant::now();
    let records = quote_records(study, homes);
    let ((quotes_csv, quotes_json), (codebook, (sites, groups))) = rayon::join(
        || rayon::join(|| quotes_csv(&records), || quotes_json(study, &records)),
        || {
            rayon::join(
                || (codebook_json(study), codebook_qdc(study)),
                || rayon::join(|| sites_json(study), || groups_json(study)),
            )
        },
    );
    crate::drop_in_parallel(records);
    let (codebook_json, codebook_qdc) = codebook;
    let mut out = vec![
        PiecedFile {
            path: QUOTES_CSV.into(),
            pieces: quotes_csv,
        },
        PiecedFile {
            path: QUOTES_JSON.into(),
            pieces: quotes_json,
        },
        PiecedFile::whole(CODEBOOK_JSON, codebook_json.into_bytes()),
        PiecedFile::whole(SITES_JSON, sites.into_bytes()),
        PiecedFile::whole(GROUPS_JSON, groups.into_bytes()),
    ];
    if let Some(qdc) = codebook_qdc {
        out.push(PiecedFile::whole(CODEBOOK_QDC, qdc.into_bytes()));
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    crate::pipeline::timing("data files", started);
    out
}

// ---------------------------------------------------------------------------
// JSON shapes
// ---------------------------------------------------------------------------

/// The study, at the top of every JSON file, so a file on its own says where it is from.
#[derive(Serialize)]
struct StudyHeader<'a> {
    title: &'a str,
    doi: Option<&'a str>,
    published: Option<&'a str>,
    base_url: Option<&'a str>,
    license: Option<&'a License>,
    /// The study's notice (such as "the quotes are illustrative"): it holds
    /// for the files as for the pages, and travels with them.
    notice: Option<&'a str>,
}

impl<'a> StudyHeader<'a> {
    fn new(study: &'a Study) -> Self {
        let m = &study.meta;
        StudyHeader {
            title: &m.title,
            doi: m.doi.as_deref(),
            published: m.published.as_deref(),
            base_url: m.base_url.as_deref(),
            license: m.license.as_ref(),
            notice: m.notice.as_deref(),
        }
    }
}

/// A JSON file: the version, the study, and one list under `key`.
fn json_file<T: Serialize>(study: &Study, key: &'static str, items: &[T]) -> String {
    #[derive(Serialize)]
    struct File<'a, T: Serialize> {
        version: u32,
        study: StudyHeader<'a>,
        #[serde(flatten)]
        items: Items<'a, T>,
    }
    struct Items<'a, T: Serialize> {
        key: &'static str,
        items: &'a [T],
    }
    impl<T: Serialize> Serialize for Items<'_, T> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut m = s.serialize_map(Some(1))?;
            m.serialize_entry(self.key, self.items)?;
            m.end()
        }
    }
    let file = File {
        version: VERSION,
        study: StudyHeader::new(study),
        items: Items { key, items },
    };
    // Serializing plain structs of strings and numbers cannot fail; an empty
    // object is still valid JSON should it ever do so.
    let mut text = serde_json::to_string_pretty(&file).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

/// A site, group or theme a quote refers to.
#[derive(Serialize)]
struct Ref<'a> {
    id: &'a str,
    title: &'a str,
}

/// Original-language text.
#[derive(Serialize)]
struct Original<'a> {
    lang: &'a str,
    text: &'a str,
}

/// One quote in `quotes.json`.
#[derive(Serialize)]
struct QuoteRecord<'a> {
    id: &'a str,
    participant: &'a str,
    site: Ref<'a>,
    group: Ref<'a>,
    themes: Vec<&'a str>,
    text: &'a str,
    original: Option<Original<'a>>,
    context: Option<&'a str>,
    url: &'a str,
    draft: bool,
}

/// Quotes and distinct participants, with small counts suppressed as on the pages.
#[derive(Serialize)]
struct Counts {
    quotes: usize,
    /// `None` when the pages show `<k`.
    participants: Option<usize>,
    /// k when the participant count is suppressed (it is then 1 to k-1).
    participants_below: Option<u32>,
}

impl From<Count> for Counts {
    fn from(c: Count) -> Self {
        let hidden = c.is_hidden();
        Counts {
            quotes: c.quotes,
            participants: (!hidden).then_some(c.participants),
            participants_below: hidden.then_some(c.hide_below),
        }
    }
}

/// One theme in `codebook.json`.
#[derive(Serialize)]
struct ThemeRecord<'a> {
    id: &'a str,
    parent: Option<&'a str>,
    children: Vec<&'a str>,
    depth: usize,
    order: Option<i64>,
    title: &'a str,
    summary: Option<&'a str>,
    description: String,
    color: Option<&'a str>,
    url: String,
    counts: Counts,
    draft: bool,
}

/// One site in `sites.json`.
#[derive(Serialize)]
struct SiteRecord<'a> {
    id: &'a str,
    order: Option<i64>,
    title: &'a str,
    summary: Option<&'a str>,
    description: String,
    country: Option<&'a str>,
    income_level: Option<crate::model::IncomeLevel>,
    languages: &'a [String],
    participants_interviewed: Option<u32>,
    url: String,
    counts: Counts,
    draft: bool,
}

/// One group in `groups.json`.
#[derive(Serialize)]
struct GroupRecord<'a> {
    id: &'a str,
    order: Option<i64>,
    title: &'a str,
    summary: Option<&'a str>,
    description: String,
    url: String,
    counts: Counts,
    draft: bool,
}

fn quote_records<'a>(study: &'a Study, homes: &'a [String]) -> Vec<QuoteRecord<'a>> {
    study
        .quotes
        .par_iter()
        .zip(homes)
        .map(|(q, home)| {
            let site = &study.sites[q.site].common;
            let group = &study.groups[q.group].common;
            QuoteRecord {
                id: &q.id,
                participant: &q.participant,
                site: Ref {
                    id: &site.id,
                    title: &site.title,
                },
                group: Ref {
                    id: &group.id,
                    title: &group.title,
                },
                themes: q
                    .themes
                    .iter()
                    .map(|&t| study.themes[t].common.id.as_str())
                    .collect(),
                text: &q.text,
                original: q.original.as_ref().map(|o| Original {
                    lang: &o.lang,
                    text: &o.text,
                }),
                context: q.context.as_deref(),
                url: home,
                draft: q.draft,
            }
        })
        .collect()
}

/// The quotes written by `write` (told whether the quote is the first of all), a
/// chunk of them per parallel task, into buffers made by `buffer` with room for
/// each quote's text and `extra` bytes; the chunks in order. At 100,000 quotes
/// the quote files are the largest of the data files by far.
fn in_parallel_chunks<B: Send>(
    records: &[QuoteRecord<'_>],
    extra: usize,
    buffer: impl Fn(usize) -> B + Sync,
    write: impl Fn(&mut B, &QuoteRecord<'_>, bool) + Sync,
) -> Vec<B> {
    records
        .par_chunks(1024)
        .enumerate()
        .map(|(c, chunk)| {
            let mut out = buffer(chunk.iter().map(|r| r.text.len() + extra).sum());
            for (i, r) in chunk.iter().enumerate() {
                write(&mut out, r, c == 0 && i == 0);
            }
            out
        })
        .collect()
}

/// `quotes.json`, in pieces: what [`json_file`] writes, with the quotes written
/// by hand and in parallel chunks (through serde they took longer than every
/// other data file together). The tests check it against [`json_file`] byte
/// for byte.
fn quotes_json(study: &Study, records: &[QuoteRecord<'_>]) -> Vec<Vec<u8>> {
    // The file with no quotes ends `"quotes": []` and its closing brace: the
    // quotes go between the brackets.
    let empty = json_file::<QuoteRecord<'_>>(study, "quotes", &[]);
    let Some(head) = empty.strip_suffix("[]\n}\n") else {
        return vec![json_file(study, "quotes", records).into_bytes()];
    };
    if records.is_empty() {
        return vec![empty.into_bytes()];
    }
    let mut pieces = vec![format!("{head}[").into_bytes()];
    pieces.extend(in_parallel_chunks(
        records,
        400,
        Vec::with_capacity,
        |out, r, first| {
            // Quotes are separated by commas.
            if !first {
                out.push(b',');
            }
            push_quote_json(out, r);
        },
    ));
    pieces.push(b"\n  ]\n}\n".to_vec());
    pieces
}

/// Appends a line break and one quote as serde_json's pretty printer writes it
/// inside the `quotes` list (indented by four spaces).
fn push_quote_json(out: &mut Vec<u8>, r: &QuoteRecord<'_>) {
    /// The indent of a quote's fields, and of what is inside them.
    const FIELD: &[u8] = b"      ";
    const INNER: &[u8] = b"        ";
    fn key(out: &mut Vec<u8>, indent: &[u8], name: &str) {
        out.extend_from_slice(indent);
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\": ");
    }
    /// A field whose value is an object of two strings.
    fn pair(out: &mut Vec<u8>, (k1, v1): (&str, &str), (k2, v2): (&str, &str)) {
        out.extend_from_slice(b"{\n");
        key(out, INNER, k1);
        json_string(out, v1);
        out.extend_from_slice(b",\n");
        key(out, INNER, k2);
        json_string(out, v2);
        out.extend_from_slice(b"\n      }");
    }
    out.extend_from_slice(b"\n    {\n");
    key(out, FIELD, "id");
    json_string(out, r.id);
    out.extend_from_slice(b",\n");
    key(out, FIELD, "participant");
    json_string(out, r.participant);
    for (name, tag) in [("site", &r.site), ("group", &r.group)] {
        out.extend_from_slice(b",\n");
        key(out, FIELD, name);
        pair(out, ("id", tag.id), ("title", tag.title));
    }
    out.extend_from_slice(b",\n");
    key(out, FIELD, "themes");
    if r.themes.is_empty() {
        out.extend_from_slice(b"[]");
    } else {
        out.push(b'[');
        for (i, t) in r.themes.iter().enumerate() {
            out.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
            out.extend_from_slice(INNER);
            json_string(out, t);
        }
        out.extend_from_slice(b"\n      ]");
    }
    out.extend_from_slice(b",\n");
    key(out, FIELD, "text");
    json_string(out, r.text);
    out.extend_from_slice(b",\n");
    key(out, FIELD, "original");
    match &r.original {
        None => out.extend_from_slice(b"null"),
        Some(o) => pair(out, ("lang", o.lang), ("text", o.text)),
    }
    out.extend_from_slice(b",\n");
    key(out, FIELD, "context");
    match r.context {
        None => out.extend_from_slice(b"null"),
        Some(c) => json_string(out, c),
    }
    out.extend_from_slice(b",\n");
    key(out, FIELD, "url");
    json_string(out, r.url);
    out.extend_from_slice(b",\n");
    key(out, FIELD, "draft");
    out.extend_from_slice(if r.draft { b"true" } else { b"false" });
    out.extend_from_slice(b"\n    }");
}

fn codebook_json(study: &Study) -> String {
    let themes: Vec<ThemeRecord<'_>> = (0..study.themes.len())
        .map(|t| {
            let th = &study.themes[t];
            ThemeRecord {
                id: &th.common.id,
                parent: th.parent.map(|p| study.themes[p].common.id.as_str()),
                children: th
                    .children
                    .iter()
                    .map(|&c| study.themes[c].common.id.as_str())
                    .collect(),
                depth: th.depth,
                order: th.common.order,
                title: &th.common.title,
                summary: th.common.summary.as_deref(),
                description: published_markdown(study, &th.common.doc.body),
                color: th.color.as_deref(),
                url: urls::theme(&th.common.id),
                counts: study.count(&study.index.theme_quotes[t]).into(),
                draft: th.common.draft,
            }
        })
        .collect();
    json_file(study, "themes", &themes)
}

fn sites_json(study: &Study) -> String {
    let sites: Vec<SiteRecord<'_>> = study
        .sites
        .iter()
        .enumerate()
        .map(|(s, site)| SiteRecord {
            id: &site.common.id,
            order: site.common.order,
            title: &site.common.title,
            summary: site.common.summary.as_deref(),
            description: published_markdown(study, &site.common.doc.body),
            country: site.country.as_deref(),
            income_level: site.income_level,
            languages: &site.languages,
            participants_interviewed: site.participants,
            url: urls::site(&site.common.id),
            counts: study.count(&study.index.site_quotes[s]).into(),
            draft: site.common.draft,
        })
        .collect();
    json_file(study, "sites", &sites)
}

fn groups_json(study: &Study) -> String {
    let groups: Vec<GroupRecord<'_>> = study
        .groups
        .iter()
        .enumerate()
        .map(|(g, group)| GroupRecord {
            id: &group.common.id,
            order: group.common.order,
            title: &group.common.title,
            summary: group.common.summary.as_deref(),
            description: published_markdown(study, &group.common.doc.body),
            url: urls::group(&group.common.id),
            counts: study.count(&study.index.group_quotes[g]).into(),
            draft: group.common.draft,
        })
        .collect();
    json_file(study, "groups", &groups)
}

// ---------------------------------------------------------------------------
// CSV (RFC 4180)
// ---------------------------------------------------------------------------

/// The columns of `quotes.csv`, in order.
pub(crate) const QUOTE_COLUMNS: [&str; 13] = [
    "id",
    "participant",
    "site_id",
    "site_title",
    "group_id",
    "group_title",
    "theme_ids",
    "text",
    "original_lang",
    "original_text",
    "context",
    "url",
    "draft",
];

/// Characters that make a spreadsheet read a cell as a formula when they start it.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// True when `value` gets a `'` in front in the CSV: it starts with a formula
/// character, possibly after apostrophes. Guarding `'=` too keeps the rule
/// reversible: removing the first `'` of a field that starts with apostrophes and
/// then a formula character always gives back the text exactly.
fn needs_formula_guard(value: &str) -> bool {
    value.trim_start_matches('\'').starts_with(FORMULA_STARTS)
}

/// Appends one CSV field: guarded against formulas, quoted when it holds `"`, `,`,
/// CR or LF (quotes doubled).
fn push_csv_field(out: &mut String, value: &str) {
    let guard = needs_formula_guard(value);
    let bytes = value.as_bytes();
    // Byte searches (SIMD): these are ASCII, and the fields are whole quotes.
    let quoted = memchr::memchr3(b'"', b',', b'\n', bytes).is_some()
        || memchr::memchr(b'\r', bytes).is_some();
    if quoted {
        out.push('"');
    }
    if guard {
        out.push('\'');
    }
    if quoted {
        let mut from = 0;
        for at in memchr::memchr_iter(b'"', bytes) {
            out.push_str(&value[from..=at]);
            out.push('"');
            from = at + 1;
        }
        out.push_str(&value[from..]);
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// Appends one record and its CRLF.
fn push_csv_record<'a>(out: &mut String, fields: impl IntoIterator<Item = &'a str>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_csv_field(out, f);
    }
    out.push_str("\r\n");
}

/// `quotes.csv` in pieces: its header, then its records in parallel chunks.
fn quotes_csv(records: &[QuoteRecord<'_>]) -> Vec<Vec<u8>> {
    let mut header = String::new();
    push_csv_record(&mut header, QUOTE_COLUMNS);
    let chunks = in_parallel_chunks(records, 200, String::with_capacity, |out, r, _| {
        push_quote_csv(out, r)
    });
    std::iter::once(header)
        .chain(chunks)
        .map(String::into_bytes)
        .collect()
}

fn push_quote_csv(out: &mut String, r: &QuoteRecord<'_>) {
    let themes = r.themes.join(";");
    let (lang, original) = r.original.as_ref().map_or(("", ""), |o| (o.lang, o.text));
    push_csv_record(
        out,
        [
            r.id,
            r.participant,
            r.site.id,
            r.site.title,
            r.group.id,
            r.group.title,
            &themes,
            r.text,
            lang,
            original,
            r.context.unwrap_or(""),
            r.url,
            if r.draft { "true" } else { "false" },
        ],
    );
}

// ---------------------------------------------------------------------------
// Markdown as published
// ---------------------------------------------------------------------------

/// A Markdown body as the pages publish it, still Markdown: HTML comments
/// removed (an unclosed one drops the rest, as on the page), and links, embeds
/// and reference definitions whose `theme:`/`site:`/`group:`/`finding:`/`quote:`
/// target is not in this build (a draft left out, a withdrawn participant's
/// quote) reduced to their text or removed. Trailing whitespace is trimmed.
fn published_markdown(study: &Study, body: &str) -> String {
    let ix = &study.index;
    let published = |dest: &str| -> bool {
        let dest = dest.split_once('#').map_or(dest, |(d, _)| d);
        let Some((scheme, rest)) = dest.split_once(':') else {
            return true;
        };
        match scheme {
            "theme" => match rest.split_once("/site:") {
                Some((t, s)) => ix.theme_by_id.contains_key(t) && ix.site_by_id.contains_key(s),
                None => ix.theme_by_id.contains_key(rest),
            },
            "site" => ix.site_by_id.contains_key(rest),
            "group" => ix.group_by_id.contains_key(rest),
            "finding" => ix.finding_by_id.contains_key(rest),
            "quote" => ix.quote_by_id.contains_key(rest),
            _ => true,
        }
    };
    strip_unpublished(body, &published)
}

/// [`published_markdown`] with the test for a link destination given.
fn strip_unpublished(body: &str, published: &dyn Fn(&str) -> bool) -> String {
    let (body, _unclosed) = markdown::remove_comments(body);
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_HEADING_ATTRIBUTES;
    let parser = Parser::new_ext(&body, options).into_offset_iter();
    // Replacements, by byte range of `body`.
    let mut edits: Vec<(Range<usize>, String)> = parser
        .reference_definitions()
        .iter()
        .filter(|(_, def)| !published(&def.dest))
        .map(|(_, def)| (def.span.clone(), String::new()))
        .collect();
    let events: Vec<(Event<'_>, Range<usize>)> = parser.collect();
    let mut i = 0;
    while i < events.len() {
        let (event, range) = &events[i];
        let (dest, is_image, link_type) = match event {
            Event::Start(Tag::Link {
                dest_url,
                link_type,
                ..
            }) => (dest_url, false, *link_type),
            Event::Start(Tag::Image {
                dest_url,
                link_type,
                ..
            }) => (dest_url, true, *link_type),
            _ => {
                i += 1;
                continue;
            }
        };
        // Find the matching end, and the span of what lies between.
        let mut depth = 0usize;
        let mut inner: Option<Range<usize>> = None;
        let mut j = i + 1;
        while j < events.len() {
            match &events[j].0 {
                Event::Start(Tag::Link { .. } | Tag::Image { .. }) => depth += 1,
                Event::End(TagEnd::Link | TagEnd::Image) if depth == 0 => break,
                Event::End(TagEnd::Link | TagEnd::Image) => depth -= 1,
                _ => {}
            }
            let r = &events[j].1;
            inner = Some(match inner {
                Some(x) => x.start.min(r.start)..x.end.max(r.end),
                None => r.clone(),
            });
            j += 1;
        }
        if published(dest) {
            i += 1;
            continue;
        }
        let text = match (is_image, link_type) {
            // An embed disappears, as on the page; an autolink's text is its target.
            (true, _) | (false, LinkType::Autolink | LinkType::Email) => String::new(),
            _ => inner
                .and_then(|r| body.get(r))
                .unwrap_or_default()
                .to_string(),
        };
        edits.push((range.clone(), text));
        i = j + 1;
    }
    edits.sort_by_key(|(r, _)| (r.start, r.end));
    let mut out = String::with_capacity(body.len());
    let mut at = 0;
    for (r, text) in edits {
        if r.start < at || r.end > body.len() {
            continue;
        }
        out.push_str(body.get(at..r.start).unwrap_or_default());
        out.push_str(&text);
        at = r.end;
    }
    out.push_str(body.get(at..).unwrap_or_default());
    out.trim_end().to_string()
}

/// Plain text of a published Markdown body: paragraphs and list items one per line,
/// formatting gone.
fn markdown_plain_text(published: &str) -> String {
    let (text, _) = markdown::plain_text(published);
    let mut out = String::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
    }
    out
}

// ---------------------------------------------------------------------------
// REFI-QDA codebook (.qdc)
// ---------------------------------------------------------------------------

/// The namespace of theme GUIDs (a random UUID, fixed forever: changing it would
/// change every GUID thematic has ever written).
const THEME_NAMESPACE: [u8; 16] = [
    0x1e, 0x9d, 0x26, 0xcb, 0xba, 0x77, 0x49, 0x07, 0xb7, 0xaf, 0xe3, 0x80, 0xf6, 0x43, 0x3f, 0x45,
];

/// The codebook as REFI-QDA `urn:QDA-XML:codebook:1.0`; `None` without themes
/// (the schema requires at least one code).
fn codebook_qdc(study: &Study) -> Option<String> {
    if study.themes.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(256 + study.themes.len() * 256);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<CodeBook xmlns=\"urn:QDA-XML:codebook:1.0\" origin=\"{}\">\n",
        xml_attr(concat!("thematic ", env!("CARGO_PKG_VERSION")))
    ));
    out.push_str("  <Codes>\n");
    for t in study.top_themes() {
        push_code(study, t, 2, &mut out);
    }
    out.push_str("  </Codes>\n</CodeBook>\n");
    Some(out)
}

/// One `Code` and its children, indented by `level` steps.
fn push_code(study: &Study, t: ThemeIx, level: usize, out: &mut String) {
    let th = &study.themes[t];
    let indent = "  ".repeat(level);
    out.push_str(&format!(
        "{indent}<Code guid=\"{}\" name=\"{}\" isCodable=\"true\"",
        theme_guid(&th.common.id),
        xml_attr(&th.common.title)
    ));
    if let Some(color) = th.color.as_deref().and_then(qdc_color) {
        out.push_str(&format!(" color=\"{color}\""));
    }
    let description = qdc_description(study, t);
    if description.is_empty() && th.children.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    if !description.is_empty() {
        out.push_str(&format!(
            "{indent}  <Description>{}</Description>\n",
            xml_text(&description)
        ));
    }
    for &c in &th.children {
        push_code(study, c, level + 1, out);
    }
    out.push_str(&format!("{indent}</Code>\n"));
}

/// A code's description: the summary, then the body as plain text.
fn qdc_description(study: &Study, t: ThemeIx) -> String {
    let c = &study.themes[t].common;
    let body = markdown_plain_text(&published_markdown(study, &c.doc.body));
    let summary = c.summary.as_deref().map(str::trim).unwrap_or("");
    match (summary.is_empty(), body.is_empty()) {
        (true, _) => body,
        (false, true) => summary.to_string(),
        (false, false) => format!("{summary}\n\n{body}"),
    }
}

/// A theme's GUID: a UUID version 5 (RFC 9562) of its id in thematic's namespace,
/// upper case as ATLAS.ti and MAXQDA write them.
pub(crate) fn theme_guid(id: &str) -> String {
    let u = uuid_v5(&THEME_NAMESPACE, id.as_bytes());
    let hex: String = u.iter().map(|b| format!("{b:02X}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// UUID version 5: SHA-1 of namespace and name, with the version and variant bits set.
fn uuid_v5(namespace: &[u8; 16], name: &[u8]) -> [u8; 16] {
    let mut input = Vec::with_capacity(16 + name.len());
    input.extend_from_slice(namespace);
    input.extend_from_slice(name);
    let hash = sha1(&input);
    let mut u = [0u8; 16];
    u.copy_from_slice(&hash[..16]);
    u[6] = (u[6] & 0x0f) | 0x50;
    u[8] = (u[8] & 0x3f) | 0x80;
    u
}

/// SHA-1 (FIPS 180-4). Used only to derive stable identifiers, never for security.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for chunk in msg.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in chunk.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let temp = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = temp;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, x) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

/// A colour as the schema's `#RRGGBB`, lower case, from `#rgb`, `#rrggbb`, `#rgba`
/// or `#rrggbbaa` (alpha dropped); `None` for anything else, which is left out.
fn qdc_color(color: &str) -> Option<String> {
    let hex = color.trim().strip_prefix('#')?;
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let hex = hex.to_ascii_lowercase();
    match hex.len() {
        3 | 4 => Some(hex.chars().take(3).fold(String::from("#"), |mut s, c| {
            s.push(c);
            s.push(c);
            s
        })),
        6 | 8 => Some(format!("#{}", &hex[..6])),
        _ => None,
    }
}

/// True for characters XML 1.0 allows in a document.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Text content, escaped; characters XML cannot hold are left out.
fn xml_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().filter(|&c| is_xml_char(c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A raw CR would be read as a line break: keep it as written.
            '\r' => out.push_str("&#13;"),
            _ => out.push(c),
        }
    }
    out
}

/// An attribute value in double quotes, escaped so that parsers give back the
/// same text (attribute-value normalisation would turn raw tabs and line breaks
/// into spaces).
fn xml_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().filter(|&c| is_xml_char(c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_json_is_what_serde_json_writes() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for dir in [".", "tests/fixtures/riverside", "tests/fixtures/minimal"] {
            for drafts in [false, true] {
                let (sources, _) = crate::load::load_study(&root.join(dir));
                let mut diags = crate::diagnostics::Diagnostics::new();
                let opts = crate::model::ModelOptions { drafts };
                let study = crate::model::build_study(sources, opts, &mut diags);
                let homes = super::super::quote_urls(&study);
                assert!(study.quotes.iter().any(|q| q.original.is_some()) || dir != ".");
                let records = quote_records(&study, &homes);
                let by_serde = json_file(&study, "quotes", &records);
                assert_eq!(
                    String::from_utf8(quotes_json(&study, &records).concat()).unwrap(),
                    by_serde,
                    "{dir}, drafts {drafts}"
                );
            }
        }
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha1_matches_the_standard_vectors() {
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        // Exactly one block of padding boundary cases.
        assert_eq!(
            hex(&sha1(&[b'a'; 1_000_000])),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        );
    }

    #[test]
    fn uuid_v5_matches_rfc_implementations() {
        // Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org")
        let dns = [
            0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4,
            0x30, 0xc8,
        ];
        assert_eq!(
            hex(&uuid_v5(&dns, b"python.org")),
            "886313e13b8a53729b900c9aee199e5d"
        );
    }

    #[test]
    fn theme_guids_are_stable_upper_case_and_distinct() {
        let g = theme_guid("belonging");
        // Python: str(uuid.uuid5(uuid.UUID("1e9d26cb-ba77-4907-b7af-e380f6433f45"), "belonging")).upper()
        assert_eq!(g, "D218046A-C918-5A3B-B125-E05BCDF89E90");
        assert_eq!(g, theme_guid("belonging"));
        assert_ne!(g, theme_guid("kinship"));
        assert_eq!(g.len(), 36);
    }

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        let mut s = String::new();
        push_csv_record(&mut s, ["a", "b c", "x,y", "say \"hi\"", "l1\nl2", ""]);
        assert_eq!(s, "a,b c,\"x,y\",\"say \"\"hi\"\"\",\"l1\nl2\",\r\n");
        let mut s = String::new();
        push_csv_record(&mut s, ["cr\ronly", "\"", "\"\"", "ü\"ß"]);
        assert_eq!(s, "\"cr\ronly\",\"\"\"\",\"\"\"\"\"\",\"ü\"\"ß\"\r\n");
    }

    #[test]
    fn csv_formula_starts_get_an_apostrophe() {
        let field = |v: &str| {
            let mut s = String::new();
            push_csv_field(&mut s, v);
            s
        };
        assert_eq!(field("=1+1"), "'=1+1");
        assert_eq!(field("+a"), "'+a");
        assert_eq!(field("-a"), "'-a");
        assert_eq!(field("@a"), "'@a");
        assert_eq!(field("=a,b"), "\"'=a,b\"");
        assert_eq!(field("'=a"), "''=a");
        assert_eq!(field("''=a"), "'''=a");
        assert_eq!(field("''a"), "''a");
        assert_eq!(field("'tis"), "'tis");
        assert_eq!(field("a=b"), "a=b");
        assert_eq!(field("\tx"), "'\tx");
    }

    #[test]
    fn colours_are_normalised_or_left_out() {
        assert_eq!(qdc_color("#2A6F97").as_deref(), Some("#2a6f97"));
        assert_eq!(qdc_color("#abc").as_deref(), Some("#aabbcc"));
        assert_eq!(qdc_color("#abcd").as_deref(), Some("#aabbcc"));
        assert_eq!(qdc_color("#11223344").as_deref(), Some("#112233"));
        assert_eq!(qdc_color("red"), None);
        assert_eq!(qdc_color("#12345"), None);
        assert_eq!(qdc_color("#ggg"), None);
        assert_eq!(qdc_color("#é12"), None);
    }

    #[test]
    fn xml_escapes_markup_and_drops_what_xml_cannot_hold() {
        assert_eq!(xml_text("a < b & c > d\u{1}"), "a &lt; b &amp; c &gt; d");
        assert_eq!(xml_attr("\"x\"\n\ty"), "&quot;x&quot;&#10;&#9;y");
    }

    #[test]
    fn unpublished_references_become_text() {
        let published = |d: &str| !d.contains("gone");
        let body = "See [the missing quote](quote:gone) and [kept](theme:kept).\n\n\
                    ![](quote:gone)\n\n\
                    A [ref link][r] here. <quote:gone>\n\n\
                    [r]: theme:gone-theme\n\
                    <!-- secret -->Visible [**bold** words](finding:gone#x).\n";
        let out = strip_unpublished(body, &published);
        assert!(!out.contains("gone"), "{out}");
        assert!(!out.contains("secret"), "{out}");
        assert!(out.contains("See the missing quote and [kept](theme:kept)."));
        assert!(out.contains("A ref link here."));
        assert!(out.contains("Visible **bold** words."));
    }

    #[test]
    fn unclosed_comments_drop_the_rest() {
        let out = strip_unpublished("Keep.\n<!-- never closed\nsecret", &|_| true);
        assert_eq!(out, "Keep.");
    }

    #[test]
    fn plain_text_of_markdown() {
        assert_eq!(
            markdown_plain_text("# Head\n\nA *b* [c](theme:x).\n\n- one\n- two\n"),
            "Head\nA b c.\none\ntwo"
        );
    }
}
