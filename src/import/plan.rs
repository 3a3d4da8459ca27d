//! From [`Incoming`] and the study on disk to the files an import writes.
//!
//! An import owns a few things and leaves the rest to the author:
//! - a theme's `title`, `parent`, `color` and `guid`, where the project gives
//!   them: a matched theme's page is edited in place, so everything else in it (the
//!   body, summary, order, draft flag, comments, and a `parent` where the project
//!   has the code at the top level or has no tree, as a spreadsheet) is kept byte
//!   for byte;
//! - one quotes file, `content/quotes/NAME.yaml`, which it rewrites whole; a quote's
//!   `context`, `original` and `draft`, which the author may have added there, are
//!   kept when the quote comes again;
//! - new sites and groups, created once with a title for the author to complete.
//!
//! Themes and quotes are matched by their REFI-QDA GUID when they have one, else
//! themes by title and quotes by id, so a re-import updates instead of duplicating.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use super::{Errors, Incoming, Skipped, normalise_guid};
use crate::diagnostics::{Diagnostic, Position};
use crate::load::{self, PageKind, PageRecord, QuoteRecord, Sources};
use crate::model::slugify;

/// One file to write, relative to the study folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Path relative to the study folder, with `/`.
    pub path: String,
    /// The whole new contents.
    pub contents: String,
    /// True when the file does not exist yet.
    pub new: bool,
}

/// Added, changed and removed counts of one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// New.
    pub added: usize,
    /// Updated.
    pub changed: usize,
    /// Gone from the project (quotes are removed; themes are kept for their text).
    pub removed: usize,
}

/// What an import does.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Files to write.
    pub files: Vec<FileChange>,
    /// Themes.
    pub themes: Counts,
    /// Sites.
    pub sites: Counts,
    /// Groups.
    pub groups: Counts,
    /// Quotes.
    pub quotes: Counts,
    /// What the reader and the plan left out.
    pub skipped: Vec<Skipped>,
    /// Theme pages of earlier imports that the project no longer has: kept, since
    /// their text is the author's.
    pub themes_gone: Vec<String>,
    /// The quotes file the import owns.
    pub quotes_file: String,
    /// What the author should know about a theme's `parent`: one the page kept
    /// though the project has the code at the top level, or one removed because
    /// it made a cycle with the project's tree.
    pub notes: Vec<String>,
}

impl Plan {
    /// The one summary line of a run.
    pub fn summary(&self) -> String {
        let part = |name: &str, c: Counts| {
            let mut s = format!("{name} {} added, {} changed", c.added, c.changed);
            if c.removed > 0 {
                s.push_str(&format!(", {} removed", c.removed));
            }
            s
        };
        format!(
            "{}; {}; {}; {}; {} skipped",
            part("themes", self.themes),
            part("sites", self.sites),
            part("groups", self.groups),
            part("quotes", self.quotes),
            self.skipped.len()
        )
    }
}

/// Where the import's quotes go: `content/quotes/NAME.yaml`.
pub fn quotes_file_for(name: &str) -> String {
    let slug = slugify(name);
    let slug = if slug.is_empty() {
        "imported".into()
    } else {
        slug
    };
    format!("content/quotes/{slug}.yaml")
}

/// Ids already taken, with a way to take a fresh one.
#[derive(Default)]
struct Ids(BTreeSet<String>);

impl Ids {
    /// `base` (slugged), or `base-2`, `base-3`... whichever is free; then taken.
    fn fresh(&mut self, base: &str, fallback: &str) -> String {
        let base = match slugify(base) {
            s if s.is_empty() => fallback.to_string(),
            s => s,
        };
        let mut id = base.clone();
        let mut n = 2;
        while self.0.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        self.0.insert(id.clone());
        id
    }

    /// `prefix-N` with the smallest N not taken; then taken.
    fn numbered(&mut self, prefix: &str) -> String {
        let prefix = match slugify(prefix) {
            s if s.is_empty() => "q".to_string(),
            s => s,
        };
        let mut n = 1;
        loop {
            let id = format!("{prefix}-{n:02}");
            if self.0.insert(id.clone()) {
                return id;
            }
            n += 1;
        }
    }
}

/// The existing study, as far as an import needs it.
struct Existing {
    sources: Sources,
    /// True when `content/study.yaml` exists.
    has_study: bool,
    /// The study folder.
    dir: std::path::PathBuf,
}

impl Existing {
    fn rel(&self, file: load::FileId) -> String {
        self.sources.map.get(file).rel.clone()
    }

    fn pages(&self, kind: PageKind) -> impl Iterator<Item = &PageRecord> {
        self.sources.pages.iter().filter(move |p| p.kind == kind)
    }
}

fn read_existing(study_dir: &Path) -> Result<Existing, Errors> {
    let has_study = study_dir.join("content/study.yaml").is_file();
    if !has_study {
        return Ok(Existing {
            sources: Sources::default(),
            has_study,
            dir: study_dir.to_path_buf(),
        });
    }
    let (sources, diags) = load::load_study(study_dir);
    let errors: Vec<Diagnostic> = diags
        .sorted()
        .into_iter()
        .filter(Diagnostic::is_error)
        .map(|d| {
            d.with_hint(
                "the study must load before anything is imported into it: fix this first (nothing was written)",
            )
        })
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Existing {
        sources,
        has_study,
        dir: study_dir.to_path_buf(),
    })
}

/// Works out every file an import of `incoming` into `study_dir` writes. `name`
/// names the import (the project, or the CSV file) for its quotes file and a new
/// study's title.
pub fn plan(study_dir: &Path, incoming: &Incoming, name: &str) -> Result<Plan, Errors> {
    let existing = read_existing(study_dir)?;
    let mut plan = Plan {
        skipped: incoming.skipped.clone(),
        quotes_file: quotes_file_for(name),
        ..Plan::default()
    };
    if !existing.has_study {
        let title = incoming.title.clone().unwrap_or_else(|| name.to_string());
        plan.files.push(FileChange {
            path: "content/study.yaml".into(),
            contents: format!(
                "# The study. Field reference: docs/content-format.md\ntitle: {}\n",
                yaml_string(&title)
            ),
            new: true,
        });
        // A new study gets the privacy guard's file, kept out of git, as `init` does.
        plan.files.push(FileChange {
            path: "content/privacy.yaml".into(),
            contents: crate::init::PRIVACY_STARTER.into(),
            new: true,
        });
        let gitignore = std::fs::read_to_string(study_dir.join(".gitignore")).ok();
        if let Some(text) = crate::init::gitignore_with_rules(gitignore.as_deref().unwrap_or("")) {
            plan.files.push(FileChange {
                path: ".gitignore".into(),
                contents: text,
                new: gitignore.is_none(),
            });
        }
    }

    let theme_ids = plan_themes(&existing, incoming, &mut plan);
    let site_ids = plan_entries(&existing, incoming, PageKind::Site, &mut plan);
    let group_ids = plan_entries(&existing, incoming, PageKind::Group, &mut plan);
    plan_quotes(
        &existing, incoming, &theme_ids, &site_ids, &group_ids, &mut plan,
    )?;
    plan.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(plan)
}

/// One incoming theme, matched or new, on its way to a file.
struct ThemePlan<'a> {
    id: String,
    /// The existing page it updates.
    page: Option<&'a PageRecord>,
    /// The parent it will have: the project's, or else the page's own.
    parent: Option<String>,
    /// True when `parent` is the page's own, kept because the project gives none.
    kept_parent: bool,
}

/// Theme ids for each incoming theme; theme files to write.
///
/// A matched theme's page is edited in place: only the fields the import owns and
/// the project gives a value for (`title`, `parent`, `color`, `guid`) are set, and
/// only when they differ. Every other line of the front matter (`order`, `summary`,
/// `draft`, an explicit `id`, comments) and the body stay byte for byte. A code at
/// the top of the project gives no parent, so the page keeps its own: a tree built
/// in the theme pages survives a spreadsheet, a flat codebook and a re-import.
fn plan_themes(existing: &Existing, incoming: &Incoming, plan: &mut Plan) -> Vec<String> {
    let pages: Vec<&PageRecord> = existing.pages(PageKind::Theme).collect();
    let mut ids = Ids(pages.iter().map(|p| p.id.value.clone()).collect());
    let by_guid: HashMap<String, &PageRecord> = pages
        .iter()
        .filter_map(|p| p.guid.as_deref().map(|g| (normalise_guid(g), *p)))
        .collect();
    let by_title: HashMap<String, &PageRecord> = pages
        .iter()
        .filter_map(|p| p.title.as_deref().map(|t| (t.trim().to_lowercase(), *p)))
        .collect();
    let mut planned: Vec<ThemePlan<'_>> = Vec::with_capacity(incoming.themes.len());
    for theme in &incoming.themes {
        let found = match &theme.guid {
            Some(g) => by_guid.get(&normalise_guid(g)).copied(),
            None => by_title.get(&theme.title.trim().to_lowercase()).copied(),
        };
        let project_parent = theme
            .parent
            .and_then(|p| planned.get(p).map(|t| t.id.clone()));
        let own_parent = found.and_then(|p| p.parent.as_ref().map(|s| s.value.clone()));
        let kept_parent = project_parent.is_none() && own_parent.is_some();
        let id = match found {
            Some(page) => page.id.value.clone(),
            None => ids.fresh(&theme.title, "theme"),
        };
        planned.push(ThemePlan {
            id,
            page: found,
            parent: project_parent.or(own_parent),
            kept_parent,
        });
    }
    let dropped = break_parent_cycles(&pages, &mut planned);

    let hierarchy = incoming.themes.iter().any(|t| t.parent.is_some());
    for (theme, t) in incoming.themes.iter().zip(&planned) {
        let Some(page) = t.page else {
            let front = ThemeFront {
                title: theme.title.clone(),
                parent: t.parent.clone(),
                color: theme.color.clone(),
                guid: theme.guid.as_deref().map(normalise_guid),
            };
            let body = theme
                .description
                .as_deref()
                .map(|d| format!("{}\n", d.trim()))
                .unwrap_or_default();
            plan.themes.added += 1;
            plan.files.push(FileChange {
                path: format!("content/themes/{}.md", t.id),
                contents: format!("---\n{}---\n{body}", front.yaml()),
                new: true,
            });
            continue;
        };
        let rel = existing.rel(page.file);
        let own_parent = page.parent.as_ref().map(|p| p.value.as_str());
        let shown_parent = own_parent.unwrap_or_default();
        if let Some((_, cycle)) = dropped.iter().find(|(id, _)| *id == t.id) {
            plan.notes.push(format!(
                "{rel}: `parent: {shown_parent}` removed: with the project's tree it made a cycle ({cycle})"
            ));
        } else if t.kept_parent && hierarchy {
            plan.notes.push(format!(
                "{rel} keeps its `parent: {shown_parent}`, though the project has this code at the top level: delete the line to follow the project"
            ));
        }
        let mut edits: Vec<(&str, Option<String>)> = Vec::new();
        if page.title.as_deref() != Some(theme.title.as_str()) {
            edits.push(("title", Some(yaml_string(&theme.title))));
        }
        if own_parent != t.parent.as_deref() {
            edits.push(("parent", t.parent.clone()));
        }
        if let Some(c) = &theme.color {
            if page.color.as_deref() != Some(c.as_str()) {
                edits.push(("color", Some(yaml_string(c))));
            }
        }
        if let Some(g) = theme.guid.as_deref().map(normalise_guid) {
            if page.guid.as_deref().map(normalise_guid).as_deref() != Some(g.as_str()) {
                edits.push(("guid", Some(yaml_string(&g))));
            }
        }
        if edits.is_empty() {
            continue;
        }
        let text = &existing.sources.map.get(page.file).text;
        let contents = edit_front(text, &edits);
        if contents != **text {
            plan.themes.changed += 1;
            plan.files.push(FileChange {
                path: rel,
                contents,
                new: false,
            });
        }
    }

    // Themes an earlier import of a project with GUIDs wrote, and this one lacks.
    if incoming.themes.iter().any(|t| t.guid.is_some()) {
        let seen: BTreeSet<&str> = planned.iter().map(|t| t.id.as_str()).collect();
        plan.themes_gone = pages
            .iter()
            .filter(|p| p.guid.is_some() && !seen.contains(p.id.value.as_str()))
            .map(|p| existing.rel(p.file))
            .collect();
    }
    planned.into_iter().map(|t| t.id).collect()
}

/// Removes each kept parent that closes a cycle with the project's tree (a code
/// moved above its former parent in the project): the project's tree wins. Returns
/// the ids whose parent was removed, each with the cycle it made.
fn break_parent_cycles(
    pages: &[&PageRecord],
    planned: &mut [ThemePlan<'_>],
) -> Vec<(String, String)> {
    let mut parents: HashMap<String, Option<String>> = pages
        .iter()
        .map(|p| {
            (
                p.id.value.clone(),
                p.parent.as_ref().map(|s| s.value.clone()),
            )
        })
        .collect();
    for t in planned.iter() {
        parents.insert(t.id.clone(), t.parent.clone());
    }
    let mut dropped = Vec::new();
    for t in planned.iter_mut().filter(|t| t.kept_parent) {
        let mut chain = vec![t.id.clone()];
        let mut at = t.parent.clone();
        while let Some(id) = at {
            if id == t.id {
                chain.push(id);
                dropped.push((t.id.clone(), chain.join(" -> ")));
                t.parent = None;
                t.kept_parent = false;
                parents.insert(t.id.clone(), None);
                break;
            }
            if chain.contains(&id) || chain.len() > parents.len() {
                break;
            }
            chain.push(id.clone());
            at = parents.get(&id).cloned().flatten();
        }
    }
    dropped
}

/// `text` (a page file) with the top-level front-matter fields in `edits` set
/// (`Some`, a YAML value) or removed (`None`); every other byte stays as it was.
/// A field that is not there yet is added at the end of the front matter.
fn edit_front(text: &str, edits: &[(&str, Option<String>)]) -> String {
    let (bom, rest) = match text.strip_prefix('\u{feff}') {
        Some(r) => ("\u{feff}", r),
        None => ("", text),
    };
    let mut lines: Vec<&str> = rest.split_inclusive('\n').collect();
    let fenced = lines.first().is_some_and(|l| l.trim_end() == "---");
    let close = lines
        .iter()
        .skip(1)
        .position(|l| matches!(l.trim_end(), "---" | "..."))
        .map(|i| i + 1);
    let (Some(close), true) = (close, fenced) else {
        // No front matter (a theme page always has one): give it one.
        let yaml: String = edits
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}: {v}\n")))
            .collect();
        return format!("{bom}---\n{yaml}---\n{rest}");
    };
    let nl = if lines[0].ends_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut front: Vec<String> = lines[1..close].iter().map(|l| l.to_string()).collect();
    for (key, value) in edits {
        let new_line = value.as_ref().map(|v| format!("{key}: {v}{nl}"));
        match front.iter().position(|l| top_level_key(l) == Some(key)) {
            Some(start) => {
                // The field's value runs on over indented lines (a block scalar or
                // a folded one), and blank lines between them.
                let mut end = start + 1;
                let mut last = start + 1;
                while end < front.len() {
                    let l = &front[end];
                    if l.trim().is_empty() {
                        end += 1;
                    } else if l.starts_with([' ', '\t']) {
                        end += 1;
                        last = end;
                    } else {
                        break;
                    }
                }
                front.splice(start..last, new_line);
            }
            None => front.extend(new_line),
        }
    }
    // Every front-matter line ends in a line break: the closing fence follows it.
    lines.splice(1..close, front.iter().map(String::as_str));
    let mut out = String::with_capacity(text.len() + 64);
    out.push_str(bom);
    out.extend(lines);
    out
}

/// The key a front-matter line starts at column 0 (`key: value`, `key:` or
/// `"key": value`), if it does.
fn top_level_key(line: &str) -> Option<&str> {
    let line = line.trim_end();
    if let Some(q @ ('"' | '\'')) = line.chars().next() {
        let close = line[1..].find(q)? + 1;
        return line[close + 1..]
            .trim_start()
            .starts_with(':')
            .then(|| &line[1..close]);
    }
    if line.starts_with([' ', '\t', '#', '-']) {
        return None;
    }
    let colon = line
        .find(": ")
        .or_else(|| line.strip_suffix(':').map(str::len))?;
    Some(line[..colon].trim_end()).filter(|k| !k.is_empty())
}

/// The front matter of a new theme page.
struct ThemeFront {
    title: String,
    parent: Option<String>,
    color: Option<String>,
    guid: Option<String>,
}

impl ThemeFront {
    fn yaml(&self) -> String {
        let mut s = format!("title: {}\n", yaml_string(&self.title));
        if let Some(p) = &self.parent {
            s.push_str(&format!("parent: {p}\n"));
        }
        if let Some(c) = &self.color {
            s.push_str(&format!("color: {}\n", yaml_string(c)));
        }
        if let Some(g) = &self.guid {
            s.push_str(&format!("guid: {}\n", yaml_string(g)));
        }
        s
    }
}

/// Site (or group) ids by the value the project gives; new pages to write.
fn plan_entries(
    existing: &Existing,
    incoming: &Incoming,
    kind: PageKind,
    plan: &mut Plan,
) -> BTreeMap<String, String> {
    let pages: Vec<&PageRecord> = existing.pages(kind).collect();
    let mut ids = Ids(pages.iter().map(|p| p.id.value.clone()).collect());
    let mut out = BTreeMap::new();
    let values: Vec<&str> = incoming
        .quotes
        .iter()
        .map(|q| {
            if kind == PageKind::Site {
                q.site.as_str()
            } else {
                q.group.as_str()
            }
        })
        .collect();
    for value in values {
        if out.contains_key(value) {
            continue;
        }
        let wanted = value.trim().to_lowercase();
        let slug = slugify(value);
        let found = pages.iter().find(|p| {
            p.title
                .as_deref()
                .is_some_and(|t| t.trim().to_lowercase() == wanted)
                || p.id.value == slug
        });
        let id = match found {
            Some(p) => p.id.value.clone(),
            None => {
                let (dir, what) = if kind == PageKind::Site {
                    ("sites", "site")
                } else {
                    ("groups", "group")
                };
                let id = ids.fresh(value, what);
                let counts = if kind == PageKind::Site {
                    &mut plan.sites
                } else {
                    &mut plan.groups
                };
                counts.added += 1;
                plan.files.push(FileChange {
                    path: format!("content/{dir}/{id}.md"),
                    contents: format!(
                        "---\ntitle: {}\n---\n<!-- Created by thematic import. Describe this {what} for readers: who took part, where, and how. -->\n",
                        yaml_string(value.trim())
                    ),
                    new: true,
                });
                id
            }
        };
        out.insert(value.to_string(), id);
    }
    out
}

/// A quote as the import writes it, with what the author added kept.
struct QuoteOut {
    id: String,
    guid: Option<String>,
    participant: String,
    site: String,
    group: String,
    themes: Vec<String>,
    text: String,
    original: Option<(String, String)>,
    context: Option<String>,
    draft: bool,
}

impl QuoteOut {
    fn yaml(&self) -> String {
        let mut s = format!("  - id: {}\n", self.id);
        if let Some(g) = &self.guid {
            s.push_str(&format!("    guid: {}\n", yaml_string(g)));
        }
        s.push_str(&format!(
            "    participant: {}\n    site: {}\n    group: {}\n    themes: [{}]\n    text: {}\n",
            yaml_string(&self.participant),
            self.site,
            self.group,
            self.themes.join(", "),
            yaml_string(&self.text)
        ));
        if let Some((lang, text)) = &self.original {
            s.push_str(&format!(
                "    original:\n      lang: {lang}\n      text: {}\n",
                yaml_string(text)
            ));
        }
        if let Some(c) = &self.context {
            s.push_str(&format!("    context: {}\n", yaml_string(c)));
        }
        if self.draft {
            s.push_str("    draft: true\n");
        }
        s
    }
}

fn plan_quotes(
    existing: &Existing,
    incoming: &Incoming,
    theme_ids: &[String],
    site_ids: &BTreeMap<String, String>,
    group_ids: &BTreeMap<String, String>,
    plan: &mut Plan,
) -> Result<(), Errors> {
    let file = plan.quotes_file.clone();
    let ours: Vec<&QuoteRecord> = existing
        .sources
        .quotes
        .iter()
        .filter(|q| existing.rel(q.loc.file) == file)
        .collect();
    let elsewhere: HashMap<String, String> = existing
        .sources
        .quotes
        .iter()
        .filter(|q| existing.rel(q.loc.file) != file)
        .flat_map(|q| {
            let rel = existing.rel(q.loc.file);
            let mut keys = vec![(format!("id:{}", q.id.value), rel.clone())];
            keys.extend(
                q.guid
                    .as_deref()
                    .map(|g| (format!("guid:{}", normalise_guid(g)), rel.clone())),
            );
            keys
        })
        .collect();
    let mut ids = Ids(existing
        .sources
        .quotes
        .iter()
        .filter(|q| existing.rel(q.loc.file) != file)
        .map(|q| q.id.value.clone())
        .collect());
    let by_guid: HashMap<String, &QuoteRecord> = ours
        .iter()
        .filter_map(|q| q.guid.as_deref().map(|g| (normalise_guid(g), *q)))
        .collect();
    let by_id: HashMap<&str, &QuoteRecord> =
        ours.iter().map(|q| (q.id.value.as_str(), *q)).collect();
    // Ids of quotes that come again are kept: take them first.
    let mut matched: Vec<Option<&QuoteRecord>> = Vec::with_capacity(incoming.quotes.len());
    for q in &incoming.quotes {
        let m = match &q.guid {
            Some(g) => by_guid.get(&normalise_guid(g)).copied(),
            None => by_id.get(csv_id(&q.key).as_str()).copied(),
        };
        if let Some(m) = m {
            ids.0.insert(m.id.value.clone());
        }
        matched.push(m);
    }

    let mut written: Vec<QuoteOut> = Vec::new();
    let mut kept: BTreeSet<&str> = BTreeSet::new();
    for (q, m) in incoming.quotes.iter().zip(matched) {
        let guid = q.guid.as_deref().map(normalise_guid);
        let key = match &guid {
            Some(g) => format!("guid:{g}"),
            None => format!("id:{}", csv_id(&q.key)),
        };
        if let Some(other) = elsewhere.get(&key) {
            plan.skipped.push(Skipped {
                what: format!("quote {}", shown_key(&q.key)),
                why: format!("it is already in {other}, which the import leaves alone"),
            });
            continue;
        }
        let id = match (m, &guid) {
            (Some(m), _) => m.id.value.clone(),
            (None, Some(_)) => ids.numbered(&q.participant),
            (None, None) => {
                let id = csv_id(&q.key);
                ids.0.insert(id.clone());
                id
            }
        };
        let themes: Vec<String> = q
            .themes
            .iter()
            .filter_map(|&t| theme_ids.get(t).cloned())
            .collect();
        let out = QuoteOut {
            id,
            guid,
            participant: q.participant.clone(),
            site: site_ids.get(&q.site).cloned().unwrap_or_default(),
            group: group_ids.get(&q.group).cloned().unwrap_or_default(),
            themes,
            text: q.text.clone(),
            original: m.and_then(|m| {
                m.original
                    .as_ref()
                    .map(|o| (o.value.lang.clone(), o.value.text.clone()))
            }),
            context: q
                .context
                .clone()
                .or_else(|| m.and_then(|m| m.context.clone())),
            draft: m.is_some_and(|m| m.draft),
        };
        match m {
            Some(m) => {
                kept.insert(m.id.value.as_str());
                let same = m.participant.value == out.participant
                    && m.site.value == out.site
                    && m.group.value == out.group
                    && m.themes.value == out.themes
                    && m.text == out.text
                    && m.context == out.context;
                if !same {
                    plan.quotes.changed += 1;
                }
            }
            None => plan.quotes.added += 1,
        }
        written.push(out);
    }
    plan.quotes.removed = ours
        .iter()
        .filter(|q| !kept.contains(q.id.value.as_str()))
        .count();

    // Read from disk: a quotes file with no quotes yet has no records to find it by.
    let old_text = std::fs::read_to_string(existing.dir.join(&file)).ok();
    let contents = quotes_yaml(&written);
    let exists = old_text.is_some();
    if written.is_empty() && !exists {
        return Ok(());
    }
    if old_text.as_deref() != Some(contents.as_str()) {
        plan.files.push(FileChange {
            path: file,
            contents,
            new: !exists,
        });
    }
    Ok(())
}

/// The quote id a spreadsheet key gives: the `id` column slugged, or, for a key made
/// of participant and text, the participant's code and a short hash of the text.
fn csv_id(key: &str) -> String {
    match key.split_once('\u{0}') {
        Some((participant, text)) => {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for b in text.bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
            let p = slugify(participant);
            let p = if p.is_empty() { "q".to_string() } else { p };
            format!("{p}-{:08x}", (h >> 32) as u32)
        }
        None => {
            let s = slugify(key);
            if s.is_empty() { "q".into() } else { s }
        }
    }
}

/// A quote's key as a person reads it: a spreadsheet key of participant and text
/// shows the participant and the text's first words.
fn shown_key(key: &str) -> String {
    match key.split_once('\u{0}') {
        Some((participant, text)) => {
            let start: String = text.chars().take(40).collect();
            let more = if text.chars().count() > 40 { "…" } else { "" };
            format!("of {participant} \"{start}{more}\"")
        }
        None => key.to_string(),
    }
}

fn quotes_yaml(quotes: &[QuoteOut]) -> String {
    let mut s = String::from(
        "# Written by `thematic import`, which rewrites this file on every import of the\n\
         # same project. Edit the quotes in your QDA tool and import again; `context`,\n\
         # `original` and `draft` added here are kept. Move a quote to another file to\n\
         # take it over.\nquotes:\n",
    );
    if quotes.is_empty() {
        s.truncate(s.len() - 1);
        s.push_str(" []\n");
    }
    for q in quotes {
        s.push_str(&q.yaml());
    }
    s
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn yaml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// A file's position for errors about the import as a whole.
pub(crate) fn at_file(file: &str, message: String) -> Diagnostic {
    Diagnostic::error(file.to_string(), Position::default(), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_edits_touch_only_their_fields() {
        let text = "---\nid: bus\ntitle: A\n# the author's note\nparent: access\norder: 2\nsummary: >\n  Two\n\n  lines.\ncolor: red\n---\nBody line\n\n---\nnot front matter\n";
        // Set one, replace a folded one, remove one, add one; the rest as it was.
        let out = edit_front(
            text,
            &[
                ("title", Some("\"B\"".into())),
                ("summary", Some("\"S\"".into())),
                ("color", None),
                ("guid", Some("\"G\"".into())),
            ],
        );
        assert_eq!(
            out,
            "---\nid: bus\ntitle: \"B\"\n# the author's note\nparent: access\norder: 2\nsummary: \"S\"\nguid: \"G\"\n---\nBody line\n\n---\nnot front matter\n"
        );
        assert_eq!(edit_front(text, &[]), text);
        // CRLF lines and a byte-order mark are kept.
        let crlf = "\u{feff}---\r\ntitle: A\r\n---\r\nBody\r\n";
        assert_eq!(
            edit_front(crlf, &[("parent", Some("p".into()))]),
            "\u{feff}---\r\ntitle: A\r\nparent: p\r\n---\r\nBody\r\n"
        );
        // A key inside a value, or a comment, is not the field.
        let nested = "---\ntitle: A\nsummary: |\n  parent: x\n#parent: y\n---\n";
        assert_eq!(edit_front(nested, &[("parent", None)]), nested);
    }

    #[test]
    fn top_level_keys_are_found() {
        assert_eq!(top_level_key("title: A\n"), Some("title"));
        assert_eq!(top_level_key("parent:\r\n"), Some("parent"));
        assert_eq!(top_level_key("\"guid\" : x\n"), Some("guid"));
        assert_eq!(top_level_key("  title: A\n"), None);
        assert_eq!(top_level_key("# title: A\n"), None);
        assert_eq!(top_level_key("- a\n"), None);
        assert_eq!(top_level_key("plain text\n"), None);
    }

    #[test]
    fn fresh_ids_are_slugs_made_unique() {
        let mut ids = Ids(["barriers".to_string()].into());
        assert_eq!(ids.fresh("Barriers", "theme"), "barriers-2");
        assert_eq!(ids.fresh("Barriers", "theme"), "barriers-3");
        assert_eq!(ids.fresh("Mut", "theme"), "mut");
        assert_eq!(ids.fresh("!!!", "theme"), "theme");
        assert_eq!(ids.numbered("UG-02"), "ug-02-01");
        assert_eq!(ids.numbered("UG-02"), "ug-02-02");
    }

    #[test]
    fn spreadsheet_keys_give_stable_ids() {
        assert_eq!(csv_id("Q 12"), "q-12");
        let a = csv_id("P-01\u{0}I took the bus.");
        assert_eq!(a, csv_id("P-01\u{0}I took the bus."));
        assert_ne!(a, csv_id("P-01\u{0}I took the train."));
        assert!(a.starts_with("p-01-"));
    }

    #[test]
    fn keys_are_shown_without_their_separator() {
        assert_eq!(
            shown_key("P-01\u{0}I took the bus."),
            "of P-01 \"I took the bus.\""
        );
        assert_eq!(shown_key("ABC"), "ABC");
    }

    #[test]
    fn guids_lose_braces_and_case() {
        assert_eq!(normalise_guid("{ab-cd}"), "AB-CD");
    }
}
