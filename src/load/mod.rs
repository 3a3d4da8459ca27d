//! Stage 1: read a study folder into typed records, with the place of every field.
//!
//! `load` knows files, YAML and front matter. It checks what can be checked
//! within one file (syntax, field names, field types, required fields) and
//! leaves everything that needs the whole study (ids, references) to `model`.

mod fast;
mod frontmatter;
pub mod source;
pub mod yaml;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Deserialize;
use serde_yaml::Value;
use walkdir::WalkDir;

use crate::diagnostics::{Diagnostic, Diagnostics, Position, display_path};
pub use source::{FileId, Loc, SourceFile, SourceMap, Spanned};
use yaml::{LineIndex, Record};

/// The kinds of Markdown pages in `content/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PageKind {
    /// `content/index.md`, the home-page narrative.
    Home,
    /// `content/themes/*.md`.
    Theme,
    /// `content/sites/*.md`.
    Site,
    /// `content/groups/*.md`.
    Group,
    /// `content/findings/*.md`.
    Finding,
}

impl PageKind {
    /// The word used in messages and in link schemes (`theme:ID`).
    pub fn name(self) -> &'static str {
        match self {
            PageKind::Home => "home page",
            PageKind::Theme => "theme",
            PageKind::Site => "site",
            PageKind::Group => "group",
            PageKind::Finding => "finding",
        }
    }

    fn fields(self) -> &'static [&'static str] {
        match self {
            PageKind::Home => &["title"],
            PageKind::Theme => &[
                "id", "title", "order", "summary", "draft", "parent", "color", "guid",
            ],
            PageKind::Site => &[
                "id",
                "title",
                "order",
                "summary",
                "draft",
                "country",
                "income_level",
                "languages",
                "participants",
            ],
            PageKind::Group | PageKind::Finding => &["id", "title", "order", "summary", "draft"],
        }
    }
}

/// `content/study.yaml`.
#[derive(Debug, Clone, Default)]
pub struct StudyRecord {
    /// The file it came from.
    pub file: Option<FileId>,
    /// Study title (required).
    pub title: String,
    /// Optional subtitle.
    pub subtitle: Option<String>,
    /// Plain-text description.
    pub description: Option<String>,
    /// Authors.
    pub authors: Vec<Author>,
    /// BCP 47 language of the site.
    pub language: Option<Spanned<String>>,
    /// Number of participants in the study.
    pub participants: Option<u32>,
    /// Publication date, `YYYY-MM-DD`.
    pub published: Option<Spanned<String>>,
    /// DOI of the study.
    pub doi: Option<String>,
    /// Absolute URL of the published site, for canonical links and the sitemap.
    pub base_url: Option<Spanned<String>>,
    /// Name of the site theme in `themes/`.
    pub site_theme: Option<Spanned<String>>,
    /// A plain-text notice shown on every page (for example, that quotes are illustrative).
    pub notice: Option<String>,
    /// Licence of the published findings and data: an SPDX id or a URL.
    pub license: Option<Spanned<String>>,
    /// Keywords, for search engines and citations.
    pub keywords: Vec<String>,
    /// How to cite the study, as plain text; derived when absent.
    pub citation: Option<String>,
    /// Quotes per page of a paginated list.
    pub page_size: Option<Spanned<u64>>,
}

/// `content/privacy.yaml`: what must never be published.
#[derive(Debug, Clone, Default)]
pub struct PrivacyRecord {
    /// The file.
    pub file: Option<FileId>,
    /// Real names, places, employers: any of them in published text is an error.
    pub identifiers: Vec<Spanned<String>>,
    /// Participant codes whose quotes are withheld everywhere.
    pub withdrawn: Vec<Spanned<String>>,
    /// Smallest count of distinct participants that may be published.
    pub min_cell_participants: Option<Spanned<u32>>,
    /// `warn`, `error` or `suppress`, for counts below the threshold.
    pub small_cells: Option<Spanned<String>>,
    /// Checks silenced per quote id, after review.
    pub allow: Vec<(Spanned<String>, Vec<String>)>,
    /// `warn` to flag capitalised names found in one quote only.
    pub names: Option<Spanned<String>>,
}

/// An author in `study.yaml`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Author {
    /// Full name.
    pub name: String,
    /// Institution.
    #[serde(default)]
    pub affiliation: Option<String>,
    /// ORCID iD, such as `0000-0002-1825-0097`.
    #[serde(default)]
    pub orcid: Option<String>,
    /// Family name(s), for citations; with `given_names`, the author is a person.
    /// Without either, citations use `name` as written (a team or consortium).
    #[serde(default)]
    pub family_names: Option<String>,
    /// Given name(s), for citations.
    #[serde(default)]
    pub given_names: Option<String>,
}

/// A Markdown page: front matter fields and body. Fields that a kind does not
/// allow are rejected while loading, so kind-specific ones are simply `None` elsewhere.
#[derive(Debug, Clone)]
pub struct PageRecord {
    /// What kind of page.
    pub kind: PageKind,
    /// The file.
    pub file: FileId,
    /// Id (front matter or file stem), where it was given.
    pub id: Spanned<String>,
    /// Title.
    pub title: Option<String>,
    /// Sort key.
    pub order: Option<i64>,
    /// Plain-text summary.
    pub summary: Option<String>,
    /// Left out unless drafts are built.
    pub draft: bool,
    /// Themes: the parent theme's id.
    pub parent: Option<Spanned<String>>,
    /// Themes: a display colour, as the QDA tool had it.
    pub color: Option<String>,
    /// Themes: the REFI-QDA code GUID `thematic import` recorded, so that a
    /// re-import updates this theme.
    pub guid: Option<String>,
    /// Sites: country.
    pub country: Option<String>,
    /// Sites: World Bank income level.
    pub income_level: Option<Spanned<String>>,
    /// Sites: languages spoken (BCP 47).
    pub languages: Vec<String>,
    /// Sites: number of participants.
    pub participants: Option<u32>,
    /// The Markdown body.
    pub body: String,
    /// 1-based line of the body's first line.
    pub body_line: u32,
}

/// An original-language version of a quote.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Original {
    /// BCP 47 language code.
    pub lang: String,
    /// The verbatim original text.
    pub text: String,
}

/// One quote from a quotes file.
#[derive(Debug, Clone)]
pub struct QuoteRecord {
    /// Where the quote starts.
    pub loc: Loc,
    /// Unique id.
    pub id: Spanned<String>,
    /// Pseudonymous participant code.
    pub participant: Spanned<String>,
    /// Site id.
    pub site: Spanned<String>,
    /// Group id.
    pub group: Spanned<String>,
    /// Theme ids.
    pub themes: Spanned<Vec<String>>,
    /// Verbatim text.
    pub text: String,
    /// Where `text` is written.
    pub text_loc: Loc,
    /// Original-language text.
    pub original: Option<Spanned<Original>>,
    /// Context shown with the quote.
    pub context: Option<String>,
    /// Left out unless drafts are built.
    pub draft: bool,
    /// The REFI-QDA selection GUID `thematic import` recorded: a re-import updates
    /// this quote instead of adding another.
    pub guid: Option<String>,
}

const QUOTE_FIELDS: &[&str] = &[
    "id",
    "participant",
    "site",
    "group",
    "themes",
    "text",
    "original",
    "context",
    "draft",
    "guid",
];

const STUDY_FIELDS: &[&str] = &[
    "title",
    "subtitle",
    "description",
    "authors",
    "language",
    "participants",
    "published",
    "doi",
    "base_url",
    "site_theme",
    "notice",
    "license",
    "keywords",
    "citation",
    "page_size",
];

/// Everything read from a study's `content/` folder.
#[derive(Debug, Default)]
pub struct Sources {
    /// Every file read, for diagnostics.
    pub map: SourceMap,
    /// `study.yaml`, if it could be read.
    pub study: Option<StudyRecord>,
    /// `index.md`.
    pub home: Option<PageRecord>,
    /// `privacy.yaml`, read but never published.
    pub privacy: Option<PrivacyRecord>,
    /// Theme, site, group and finding pages, in path order.
    pub pages: Vec<PageRecord>,
    /// Quotes, in path order then file order.
    pub quotes: Vec<QuoteRecord>,
    /// (kind name, id) of records that failed to load: references to them are not
    /// reported again, since the error that matters is already reported.
    pub broken: Vec<(&'static str, String)>,
}

/// What a file under `content/` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileRole {
    Study,
    Privacy,
    Page(PageKind),
    Quotes,
}

fn role_of(rel_in_content: &Path) -> Option<FileRole> {
    let mut parts = rel_in_content.components();
    let first = parts.next()?.as_os_str().to_str()?;
    let nested = parts.next().is_some();
    let ext = rel_in_content
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    match (first, nested, ext) {
        ("study.yaml", false, _) => Some(FileRole::Study),
        ("privacy.yaml" | "privacy.yml", false, _) => Some(FileRole::Privacy),
        ("index.md", false, _) => Some(FileRole::Page(PageKind::Home)),
        ("themes", true, "md") => Some(FileRole::Page(PageKind::Theme)),
        ("sites", true, "md") => Some(FileRole::Page(PageKind::Site)),
        ("groups", true, "md") => Some(FileRole::Page(PageKind::Group)),
        ("findings", true, "md") => Some(FileRole::Page(PageKind::Finding)),
        ("quotes", true, "yaml" | "yml") => Some(FileRole::Quotes),
        _ => None,
    }
}

/// Editor droppings and hidden files are never content.
fn is_ignored_name(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with('#')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
        || name.ends_with(".bak")
}

/// What a previous load parsed, so that the next load re-parses only files whose
/// text changed. `build` loads once; `serve` keeps one between edits.
#[derive(Default)]
pub struct LoadCache {
    /// A stable id for every path seen.
    ids: FxHashMap<String, FileId>,
    /// For each file: what it parsed to and its diagnostics.
    parsed: FxHashMap<FileId, ParsedFile>,
    /// For each file: size and modification time when last read, and its text.
    texts: FxHashMap<String, (FileStamp, Arc<str>)>,
    /// Files to read again whatever their metadata says (a watcher reported them).
    dirty: std::collections::HashSet<PathBuf>,
    /// How many files the last load parsed; it took the others from the cache.
    parsed_last: usize,
}

/// What one file parsed to, and from what: the same role and the same text
/// parse to the same records. The text is shared with the source map.
struct ParsedFile {
    role: FileRole,
    text: Arc<str>,
    kept: Kept,
    diags: Diagnostics,
}

/// Records kept for a file.
enum Kept {
    /// What the file parsed to.
    Parsed(Box<Parsed>),
    /// The quotes of a file the shortcut read, as pieces of its text.
    Quotes(fast::Snapshot),
}

impl ParsedFile {
    /// True when a file with this role and text parses to what this holds.
    /// Comparing the text itself (usually the very same `Arc`) costs less than
    /// hashing every file, and cannot be fooled by a collision.
    fn is_for(&self, role: FileRole, text: &Arc<str>) -> bool {
        self.role == role && (Arc::ptr_eq(&self.text, text) || *self.text == **text)
    }
}

/// Size and modification time: when both are unchanged, the file is not read again.
type FileStamp = (u64, std::time::SystemTime);

impl LoadCache {
    /// Makes the next load read these files from disk even if their size and
    /// modification time look unchanged (a coarse clock can hide an edit).
    pub fn mark_dirty(&mut self, paths: impl IntoIterator<Item = PathBuf>) {
        self.dirty.extend(paths);
    }
}

/// Reads and parses every content file of the study in `study_dir`.
pub fn load_study(study_dir: &Path) -> (Sources, Diagnostics) {
    load_study_cached(study_dir, &mut LoadCache::default())
}

/// Like [`load_study`], reusing what `cache` parsed for files that did not change.
pub fn load_study_cached(study_dir: &Path, cache: &mut LoadCache) -> (Sources, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut sources = Sources::default();
    let content = study_dir.join("content");
    if !content.join("study.yaml").is_file() {
        let shown = if content.is_dir() {
            "content/study.yaml".to_string()
        } else {
            "content/".to_string()
        };
        diags.push(
            Diagnostic::error(
                shown,
                Position::default(),
                format!(
                    "no study found in `{}`: content/study.yaml is missing",
                    study_dir.display()
                ),
            )
            .with_hint(
                "pass the study folder (the one that holds content/), or run `thematic init DIR` to start one",
            ),
        );
        return (sources, diags);
    }

    let mut found: Vec<(PathBuf, FileRole)> = Vec::new();
    let walker = WalkDir::new(&content)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_ignored_name(&e.file_name().to_string_lossy()));
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .map(|p| display_path(p, study_dir))
                    .unwrap_or_default();
                diags.push(Diagnostic::error(
                    path,
                    Position::default(),
                    format!("cannot read: {e}"),
                ));
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry.path().strip_prefix(&content).unwrap_or(entry.path());
        match role_of(rel) {
            Some(role) => found.push((entry.path().to_path_buf(), role)),
            None => diags.push(
                Diagnostic::warning(
                    display_path(entry.path(), study_dir),
                    Position::default(),
                    "this file is ignored: thematic reads only study.yaml, index.md, themes/*.md, sites/*.md, groups/*.md, findings/*.md and quotes/**/*.yaml in content/",
                )
                .with_hint("move it outside content/, or rename it to one of the forms above"),
            ),
        }
    }

    // Read in parallel, then register in path order so file ids are deterministic.
    // Files whose size and modification time are unchanged are not read again.
    let texts = &cache.texts;
    let dirty = std::mem::take(&mut cache.dirty);
    let read: Vec<(String, FileRole, Option<FileStamp>, ReadResult)> = found
        .par_iter()
        .map(|(path, role)| {
            let rel = display_path(path, study_dir);
            let stamp = std::fs::metadata(path)
                .ok()
                .and_then(|m| Some((m.len(), m.modified().ok()?)));
            if let (Some(s), Some((old, text))) = (stamp, texts.get(&rel)) {
                if s == *old && !dirty.contains(path) {
                    return (rel, *role, stamp, Ok(text.clone()));
                }
            }
            (rel, *role, stamp, read_text(path))
        })
        .collect();
    let mut files = Vec::with_capacity(read.len());
    let mut texts_now = FxHashMap::with_capacity_and_hasher(read.len(), Default::default());
    for (rel, role, stamp, text) in read {
        match text {
            Ok(text) => {
                if let Some(s) = stamp {
                    texts_now.insert(rel.clone(), (s, text.clone()));
                }
                let next = FileId(cache.ids.len() as u32);
                let id = match cache.ids.get(&rel) {
                    Some(id) => *id,
                    None => *cache.ids.entry(rel.clone()).or_insert(next),
                };
                sources.map.insert(id, rel, text.clone());
                files.push((id, role, text));
            }
            Err((pos, e)) => {
                diags.push(Diagnostic::error(rel, pos, e).with_hint("save the file as UTF-8 text"))
            }
        }
    }
    cache.texts = texts_now;
    // Forget files that are gone.
    let present: FxHashSet<FileId> = files.iter().map(|f| f.0).collect();
    cache.parsed.retain(|id, _| present.contains(id));

    // Parse in parallel the files the cache does not hold as they are now.
    let map = &sources.map;
    let cached = &cache.parsed;
    let fresh: Vec<(FileId, Option<ParsedFile>)> = files
        .into_par_iter()
        .map(|(id, role, text)| {
            if cached.get(&id).is_some_and(|c| c.is_for(role, &text)) {
                return (id, None);
            }
            let mut d = Diagnostics::new();
            let kept = match role {
                FileRole::Study => {
                    Kept::Parsed(Box::new(Parsed::Study(parse_study(map, id, &mut d))))
                }
                FileRole::Privacy => {
                    Kept::Parsed(Box::new(Parsed::Privacy(parse_privacy(map, id, &mut d))))
                }
                FileRole::Page(kind) => {
                    Kept::Parsed(Box::new(match parse_page(map, id, kind, &mut d) {
                        Some(p) => Parsed::Page(p),
                        None => Parsed::Broken(kind.name(), file_stem(&map.get(id).rel)),
                    }))
                }
                // The shortcut reads the usual files; the general path the
                // others, and every file with something to report.
                FileRole::Quotes => match fast::quotes(&text, id) {
                    Some(snapshot) => Kept::Quotes(snapshot),
                    None => {
                        let mut broken = Vec::new();
                        let qs = parse_quotes(map, id, &mut d, &mut broken);
                        Kept::Parsed(Box::new(Parsed::Quotes(qs, broken)))
                    }
                },
            };
            let fresh = ParsedFile {
                role,
                text,
                kept,
                diags: d,
            };
            (id, Some(fresh))
        })
        .collect();
    cache.parsed_last = 0;
    let mut order = Vec::with_capacity(fresh.len());
    for (id, fresh) in fresh {
        if let Some(fresh) = fresh {
            cache.parsed.insert(id, fresh);
            cache.parsed_last += 1;
        }
        order.push(id);
    }

    // Then the records, in path order, from what the cache now holds. The
    // quotes are made in parallel, each straight into its place.
    let mut quotes = Vec::new();
    for id in &order {
        let f = &cache.parsed[id];
        diags.extend(f.diags.iter().cloned());
        let p = match &f.kept {
            Kept::Quotes(snapshot) => {
                quotes.extend(
                    (0..snapshot.len()).map(|i| QuoteSource::Snapshot(snapshot, &f.text, i)),
                );
                continue;
            }
            Kept::Parsed(p) => match &**p {
                Parsed::Quotes(qs, broken) => {
                    quotes.extend(qs.iter().map(QuoteSource::Record));
                    sources
                        .broken
                        .extend(broken.iter().map(|id| ("quote", id.clone())));
                    continue;
                }
                p => p.clone(),
            },
        };
        match p {
            Parsed::Study(s) => sources.study = s,
            Parsed::Privacy(p) => {
                if let (Some(old), Some(new)) = (&sources.privacy, &p) {
                    let (a, b) = (old.file, new.file);
                    if let (Some(a), Some(b)) = (a, b) {
                        let first = sources.map.get(a).rel.clone();
                        diags.push(
                            sources
                                .map
                                .error(Loc { file: b, pos: Position::default() }, format!("a second privacy file: {first} is one already"))
                                .with_hint("keep one privacy file, content/privacy.yaml, holding every rule"),
                        );
                    }
                }
                sources.privacy = p.or(sources.privacy.take());
            }
            Parsed::Page(page) if page.kind == PageKind::Home => sources.home = Some(page),
            Parsed::Page(page) => sources.pages.push(page),
            Parsed::Broken(kind, id) => sources.broken.push((kind, id)),
            Parsed::Quotes(..) => {}
        }
    }
    sources.quotes = quotes.par_iter().map(QuoteSource::record).collect();
    (sources, diags)
}

/// Where a quote record of this load comes from.
enum QuoteSource<'a> {
    /// Quote `.2` of a file the shortcut read, whose text is `.1`.
    Snapshot(&'a fast::Snapshot, &'a str, usize),
    /// A record the general path made.
    Record(&'a QuoteRecord),
}

impl QuoteSource<'_> {
    fn record(&self) -> QuoteRecord {
        match self {
            QuoteSource::Snapshot(snapshot, text, i) => snapshot.record(*i, text),
            QuoteSource::Record(q) => (*q).clone(),
        }
    }
}

#[derive(Clone)]
enum Parsed {
    Study(Option<StudyRecord>),
    Privacy(Option<PrivacyRecord>),
    Page(PageRecord),
    Broken(&'static str, String),
    Quotes(Vec<QuoteRecord>, Vec<String>),
}

/// A file's text, or where and why it could not be read.
type ReadResult = Result<Arc<str>, (Position, String)>;

/// Reads a file as UTF-8, naming the line of the first invalid byte otherwise.
fn read_text(path: &Path) -> ReadResult {
    use std::io::Read;
    thread_local! {
        /// The bytes of the file being read. The text is copied into its `Arc`
        /// anyway, so each thread reads every file into the same buffer rather
        /// than into fresh memory.
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with_borrow_mut(|bytes| {
        bytes.clear();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(bytes))
            .map_err(|e| (Position::default(), format!("cannot read the file: {e}")))?;
        let text = text_of(bytes);
        if bytes.capacity() > 1 << 24 {
            *bytes = Vec::new();
        }
        text
    })
}

fn text_of(bytes: &[u8]) -> ReadResult {
    match std::str::from_utf8(bytes) {
        Ok(s) => {
            let s = s.strip_prefix('\u{feff}').unwrap_or(s);
            // NUL is never text, and thematic uses it internally to mark quotes in pages.
            // (Looked for without a branch per byte first: that vectorises.)
            let has_nul = |b: &[u8]| b.iter().fold(false, |nul, &c| nul | (c == 0));
            if s.as_bytes().chunks(4096).any(has_nul) {
                let at = s.find('\0').unwrap_or_default();
                let line = s[..at].matches('\n').count() + 1;
                let column = s[..at].rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                return Err((
                    Position::at(line as u32, column as u32),
                    "the file contains a NUL character, which is not text".into(),
                ));
            }
            Ok(Arc::from(s))
        }
        Err(e) => {
            let at = e.valid_up_to();
            let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
            let line_start = bytes[..at]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(&bytes[line_start..at])
                .chars()
                .count()
                + 1;
            Err((
                Position::at(line as u32, column as u32),
                format!(
                    "the file is not UTF-8 text: invalid byte 0x{:02X}",
                    bytes[at]
                ),
            ))
        }
    }
}

/// A whole YAML file read as one record (study.yaml, privacy.yaml), with its line index.
fn yaml_file_record<'a>(
    map: &'a SourceMap,
    file: FileId,
    fields: &'static [&'static str],
    what: &'static str,
    diags: &'a mut Diagnostics,
) -> Option<(LineIndex, Record<'a>)> {
    let text = &map.get(file).text;
    let value = yaml::parse(map, file, text, 1, diags)?;
    let idx = LineIndex::new(text, 1);
    let keys = idx.keys(idx.root());
    let r = Record::new(
        map,
        file,
        Position::line(1),
        value,
        keys,
        fields,
        what,
        diags,
    )?;
    Some((idx, r))
}

fn parse_study(map: &SourceMap, file: FileId, diags: &mut Diagnostics) -> Option<StudyRecord> {
    let (_, mut r) = yaml_file_record(map, file, STUDY_FIELDS, "study file", diags)?;
    let title = r
        .required_text("title")
        .map(|s| s.value)
        .unwrap_or_default();
    let study = StudyRecord {
        file: Some(file),
        title,
        subtitle: r.text("subtitle").map(|s| s.value),
        description: r.text("description").map(|s| s.value),
        authors: r
            .get::<Vec<Author>>(
                "authors",
                "a list of authors, each `{name: ..., affiliation: ..., orcid: ..., family_names: ..., given_names: ...}`",
            )
            .unwrap_or_default(),
        language: r.text("language"),
        participants: r.get("participants", "a whole number, such as 33"),
        published: r.text("published"),
        doi: r.text("doi").map(|s| s.value),
        base_url: r.text("base_url"),
        site_theme: r.text("site_theme"),
        notice: r.text("notice").map(|s| s.value),
        license: r.text("license"),
        keywords: r.text_list("keywords").map(|k| k.value).unwrap_or_default(),
        citation: r.text("citation").map(|s| s.value),
        page_size: r.get_spanned("page_size", "a whole number of quotes per page, such as 100"),
    };
    r.finish();
    Some(study)
}

const PRIVACY_FIELDS: &[&str] = &[
    "identifiers",
    "withdrawn",
    "min_cell_participants",
    "small_cells",
    "allow",
    "names",
];

/// One entry of a YAML list, with the line it is written on when the list is in block style.
fn list_items(
    idx: &LineIndex,
    key: &str,
    values: Vec<String>,
    fallback: Loc,
) -> Vec<Spanned<String>> {
    let lines = idx
        .child(idx.root(), key)
        .map(|b| idx.item_positions(b))
        .unwrap_or_default();
    let lines = if lines.len() == values.len() {
        lines
    } else {
        Vec::new()
    };
    values
        .into_iter()
        .enumerate()
        .map(|(i, value)| Spanned {
            value,
            loc: lines.get(i).map_or(fallback, |pos| Loc {
                file: fallback.file,
                pos: *pos,
            }),
        })
        .collect()
}

fn parse_privacy(map: &SourceMap, file: FileId, diags: &mut Diagnostics) -> Option<PrivacyRecord> {
    let (idx, mut r) = yaml_file_record(map, file, PRIVACY_FIELDS, "privacy file", diags)?;
    let ids_loc = r.loc_of("identifiers");
    let identifiers = r
        .text_list("identifiers")
        .map(|l| l.value)
        .unwrap_or_default();
    let wd_loc = r.loc_of("withdrawn");
    let withdrawn = r
        .text_list("withdrawn")
        .map(|l| l.value)
        .unwrap_or_default();
    let min = r.get_spanned::<u32>("min_cell_participants", "a whole number, such as 5");
    let small_cells = r.text("small_cells");
    let allow_loc = r.loc_of("allow");
    let allow_keys = idx
        .child(idx.root(), "allow")
        .map(|b| idx.keys(b))
        .unwrap_or_default();
    let allow = r
        .get::<std::collections::BTreeMap<String, Vec<String>>>(
            "allow",
            "a mapping of quote ids to lists of checks, such as `{ug-07: [email]}`",
        )
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| {
            // Block style has one line per quote; flow style shares the `allow:` line.
            let loc = allow_keys
                .get(&k)
                .map_or(allow_loc, |pos| Loc { file, pos: *pos });
            (Spanned { value: k, loc }, v)
        })
        .collect();
    let names = r.text("names");
    r.finish();
    Some(PrivacyRecord {
        file: Some(file),
        identifiers: list_items(&idx, "identifiers", identifiers, ids_loc),
        withdrawn: list_items(&idx, "withdrawn", withdrawn, wd_loc),
        min_cell_participants: min,
        small_cells,
        allow,
        names,
    })
}

fn file_stem(rel: &str) -> String {
    Path::new(rel)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn parse_page(
    map: &SourceMap,
    file: FileId,
    kind: PageKind,
    diags: &mut Diagnostics,
) -> Option<PageRecord> {
    let src = map.get(file);
    let start = Loc {
        file,
        pos: Position::line(1),
    };
    let (yaml_text, yaml_line, body, body_line) = match frontmatter::split(&src.text) {
        Ok(s) => (s.yaml, s.yaml_line, s.body, s.body_line),
        // The home narrative may be plain Markdown.
        Err(frontmatter::SplitError::Missing) if kind == PageKind::Home => ("", 1, &*src.text, 1),
        Err(frontmatter::SplitError::Missing) => {
            diags.push(
                map.error(
                    start,
                    "missing front matter: the file must start with a line `---`",
                )
                .with_hint(format!(
                    "begin the file with a line `---`, then `title: ...`, then a closing `---`, then the Markdown of the {}",
                    kind.name()
                )),
            );
            return None;
        }
        Err(frontmatter::SplitError::Unterminated) => {
            diags.push(
                map.error(start, "front matter is not closed: no second `---` line")
                    .with_hint("add a line `---` after the last front-matter field"),
            );
            return None;
        }
    };
    let value = yaml::parse(map, file, yaml_text, yaml_line, diags)?;
    let idx = LineIndex::new(yaml_text, yaml_line);
    let keys = idx.keys(idx.root());
    let mut r = Record::new(
        map,
        file,
        Position::line(1),
        value,
        keys,
        kind.fields(),
        "front matter",
        diags,
    )?;
    let id = r.text("id").unwrap_or_else(|| Spanned {
        value: file_stem(&src.rel),
        loc: start,
    });
    let title = if kind == PageKind::Home {
        r.text("title")
    } else {
        r.required_text("title")
    };
    let page = PageRecord {
        kind,
        file,
        id,
        title: title.map(|t| t.value),
        order: r.get(
            "order",
            "a whole number, such as 1 (lower numbers come first)",
        ),
        summary: r.text("summary").map(|s| s.value),
        draft: r.flag("draft"),
        parent: r.text("parent"),
        color: r.text("color").map(|s| s.value),
        guid: r.text("guid").map(|s| s.value),
        country: r.text("country").map(|s| s.value),
        income_level: r.text("income_level"),
        languages: r
            .text_list("languages")
            .map(|l| l.value)
            .unwrap_or_default(),
        participants: r.get("participants", "a whole number, such as 12"),
        body: body.to_string(),
        body_line,
    };
    r.finish();
    Some(page)
}

/// The ids a quotes file that is not valid YAML seems to give, read line by
/// line: `id: X` as a quote's first key (`- id: X`) or a key of its own.
fn ids_in_unparsed_quotes(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines().filter_map(|line| {
        let key = line.trim_start().trim_start_matches("- ").trim_start();
        let value = key.strip_prefix("id:")?;
        let value = value.split(" #").next().unwrap_or(value).trim();
        let value = value.trim_matches(|c| c == '"' || c == '\'');
        (!value.is_empty()).then(|| value.to_string())
    })
}

/// Quotes of any quotes file, with serde_yaml, reporting every problem.
fn parse_quotes(
    map: &SourceMap,
    file: FileId,
    diags: &mut Diagnostics,
    broken: &mut Vec<String>,
) -> Vec<QuoteRecord> {
    let text = &map.get(file).text;
    let Some(value) = yaml::parse(map, file, text, 1, diags) else {
        // The syntax error is reported; the quotes' ids are still known to be
        // taken, so that embeds and links to them are not reported as unknown too.
        broken.extend(ids_in_unparsed_quotes(text));
        return Vec::new();
    };
    let idx = LineIndex::new(text, 1);
    let root = idx.root();
    let file_loc = Loc {
        file,
        pos: Position::line(1),
    };
    // Either a plain list, or `{defaults: {...}, quotes: [...]}`.
    let (defaults, defaults_keys, list, list_block) = match value {
        Value::Sequence(seq) => (
            serde_yaml::Mapping::new(),
            Default::default(),
            seq,
            Some(root),
        ),
        Value::Null => return Vec::new(),
        Value::Mapping(mut m) => {
            let root_keys = idx.keys(root);
            let mut defaults = serde_yaml::Mapping::new();
            let mut defaults_keys = std::collections::HashMap::new();
            let mut list = Vec::new();
            for (k, _) in m.iter() {
                let name = yaml::scalar_text(k).unwrap_or_default();
                if name != "defaults" && name != "quotes" {
                    let pos = root_keys.get(&name).copied().unwrap_or(file_loc.pos);
                    diags.push(
                        map.error(Loc { file, pos }, format!("unknown field `{name}` in quotes file"))
                            .with_hint(crate::diagnostics::did_you_mean(&name, ["defaults", "quotes"]).unwrap_or_else(|| {
                                "a quotes file is a list of quotes, or a mapping with `defaults:` and `quotes:`".into()
                            })),
                    );
                }
            }
            match m.remove("defaults") {
                Some(Value::Mapping(d)) => {
                    let block = idx.child(root, "defaults");
                    defaults_keys = block.map(|b| idx.keys(b)).unwrap_or_default();
                    for (k, v) in d {
                        let name = yaml::scalar_text(&k).unwrap_or_default();
                        let pos = defaults_keys.get(&name).copied().unwrap_or(file_loc.pos);
                        if name == "id" {
                            diags.push(map.error(
                                Loc { file, pos },
                                "`id` cannot have a default: every quote needs its own id",
                            ));
                        } else if !QUOTE_FIELDS.contains(&name.as_str()) {
                            diags.push(
                                map.error(
                                    Loc { file, pos },
                                    format!("unknown field `{name}` in quote defaults"),
                                )
                                .with_hint(yaml::unknown_field_hint(&name, QUOTE_FIELDS)),
                            );
                        } else {
                            defaults.insert(k, v);
                        }
                    }
                }
                None | Some(Value::Null) => {}
                Some(other) => {
                    let pos = root_keys.get("defaults").copied().unwrap_or(file_loc.pos);
                    diags.push(map.error(
                        Loc { file, pos },
                        format!(
                            "`defaults` must be a mapping of quote fields, found {}",
                            yaml::describe(&other)
                        ),
                    ));
                }
            }
            match m.remove("quotes") {
                Some(Value::Sequence(seq)) => list = seq,
                None | Some(Value::Null) => {}
                Some(other) => {
                    let pos = root_keys.get("quotes").copied().unwrap_or(file_loc.pos);
                    diags.push(map.error(
                        Loc { file, pos },
                        format!(
                            "`quotes` must be a list of quotes, found {}",
                            yaml::describe(&other)
                        ),
                    ));
                }
            }
            (defaults, defaults_keys, list, idx.child(root, "quotes"))
        }
        other => {
            diags.push(
                map.error(
                    file_loc,
                    format!(
                        "a quotes file must be a list of quotes, found {}",
                        yaml::describe(&other)
                    ),
                )
                .with_hint("start each quote with `- id: ...`"),
            );
            return Vec::new();
        }
    };

    let blocks = list_block.map(|b| idx.items(b)).unwrap_or_default();
    // The scan is trusted only when it agrees with the parser on the number of items.
    let blocks = if blocks.len() == list.len() {
        blocks
    } else {
        Vec::new()
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.into_iter().enumerate() {
        let (pos, mut keys) = match blocks.get(i) {
            Some(b) => (idx.block_pos(*b), idx.keys(*b)),
            None => (file_loc.pos, Default::default()),
        };
        let item = match item {
            Value::Mapping(mut m) => {
                for (k, v) in &defaults {
                    if !m.contains_key(k) {
                        m.insert(k.clone(), v.clone());
                        let name = yaml::scalar_text(k).unwrap_or_default();
                        if let Some(p) = defaults_keys.get(&name) {
                            keys.insert(name, *p);
                        }
                    }
                }
                Value::Mapping(m)
            }
            other => other,
        };
        match parse_quote(map, file, pos, item, keys, diags) {
            Ok(q) => out.push(q),
            Err(Some(id)) => broken.push(id),
            Err(None) => {}
        }
    }
    out
}

fn parse_quote(
    map: &SourceMap,
    file: FileId,
    pos: Position,
    value: Value,
    keys: std::collections::HashMap<String, Position>,
    diags: &mut Diagnostics,
) -> Result<QuoteRecord, Option<String>> {
    let mut r =
        Record::new(map, file, pos, value, keys, QUOTE_FIELDS, "quote", diags).ok_or(None)?;
    let id = r.required_text("id");
    let participant = r.required_text("participant");
    let site = r.required_text("site");
    let group = r.required_text("group");
    let themes = if r.has("themes") {
        r.text_list("themes")
    } else {
        r.missing("themes");
        None
    };
    let text_loc = r.loc_of("text");
    let text = r.required_text("text");
    let original = r.get_spanned::<Original>("original", "a mapping `{lang: ..., text: ...}`");
    let context = r.text("context").map(|s| s.value);
    let draft = r.flag("draft");
    let guid = r.text("guid").map(|s| s.value);
    let loc = r.loc();
    r.finish();
    let id_text = id.as_ref().map(|i| i.value.clone());
    let build = || -> Option<QuoteRecord> {
        Some(QuoteRecord {
            loc,
            id: id?,
            participant: participant?,
            site: site?,
            group: group?,
            themes: themes?,
            text: text?.value,
            text_loc,
            original,
            context,
            draft,
            guid,
        })
    };
    build().ok_or(id_text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy_dir(from: &Path, to: &Path) {
        for entry in WalkDir::new(from) {
            let entry = entry.unwrap();
            let target = to.join(entry.path().strip_prefix(from).unwrap());
            if entry.file_type().is_dir() {
                std::fs::create_dir_all(&target).unwrap();
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
    }

    #[test]
    fn ids_are_read_from_a_quotes_file_that_is_not_yaml() {
        let text = "- id: n-01\n  text: fine\n   site: north\n-   id: \"n-02\"  # second\n  id:\n- text: no id\n  other_id: x\n";
        let ids: Vec<String> = ids_in_unparsed_quotes(text).collect();
        assert_eq!(ids, ["n-01", "n-02"]);
    }

    /// Everything a load gives, as text, to compare two loads.
    fn shown(loaded: &(Sources, Diagnostics)) -> String {
        format!("{:#?}\n{:#?}", loaded.0, loaded.1.sorted())
    }

    #[test]
    fn the_cache_parses_again_only_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/riverside");
        copy_dir(&fixture, dir.path());
        let study = dir.path();
        let mut cache = LoadCache::default();
        let first = load_study_cached(study, &mut cache);
        let files = first.0.map.len();
        assert!(files > 5 && cache.parsed_last == files);
        assert_eq!(shown(&first), shown(&load_study(study)));

        let again = load_study_cached(study, &mut cache);
        assert_eq!(cache.parsed_last, 0);
        assert_eq!(shown(&again), shown(&first));

        // An edit, then a broken file, then the original text again: each
        // time only that file is parsed, and the load is what a fresh one gives.
        let quotes = study.join("content/quotes/lilongwe.yaml");
        let original = std::fs::read_to_string(&quotes).unwrap();
        for text in [
            original.replace("text:", "text: Edited.\n    context:"),
            format!("{original}  - id: [broken\n"),
            original.clone(),
        ] {
            std::fs::write(&quotes, &text).unwrap();
            cache.mark_dirty([quotes.clone()]);
            let loaded = load_study_cached(study, &mut cache);
            assert_eq!(cache.parsed_last, 1);
            assert_eq!(shown(&loaded), shown(&load_study(study)));
        }
        assert_eq!(shown(&load_study_cached(study, &mut cache)), shown(&first));
        assert_eq!(cache.parsed_last, 0);
    }
}
