//! REFI-QDA: `.qdpx` projects (a zip of `project.qde` and `sources/`), bare
//! `.qde` project files and `.qdc` codebooks.
//!
//! What the file is comes from its content: a zip is a project archive, XML whose
//! root is `<Project>` a project, `<CodeBook>` a codebook (themes only).
//!
//! - Codes become themes, parent before child, keyed by GUID (braces dropped,
//!   upper case), never by name. A code whose GUID is also a case's is a case
//!   node (NVivo), not a theme: it is left out (reported) and its children move up.
//! - Each coded `PlainTextSelection` becomes a quote, cut from its source's plain
//!   text by its positions: Unicode code points from 0, end excluded, after a
//!   leading BOM. Two tools count otherwise (see `positions`): the default follows
//!   the project's `origin` (ATLAS.ti: CRLF as one; QualCoder: UTF-16 units), and a
//!   source whose selection names (which many tools fill with the selected text)
//!   match better under another counting is cut with that one. The cut text has
//!   its CRLF line ends turned into LF and surrounding whitespace trimmed.
//!   Selections of one source with equal positions are one quote with all their
//!   codes; the first selection's GUID is its key.
//! - Participant, site and group come from a case variable (a case reaches its
//!   sources through `SourceRef`, single selections through `SelectionRef`), then a
//!   document variable (`VariableValue` in a `TextSource`, or a nameless case with
//!   one source), then sets named `NAME: value`. The participant is the case's
//!   name unless a variable is named for it.
//! - Reported as [`Skipped`], never errors: uncoded selections ("not coded"),
//!   codings of codes the codebook lacks, selections whose text is empty, whose
//!   source text is not beside a bare `.qde`, whose participant, site or group is
//!   missing or ambiguous, and coded selections of pictures, PDF areas, audio and
//!   video.
//! - Nothing private is copied: no user names, source names or paths, memos or
//!   notes (skipped-item messages, shown in the terminal only, name sources).

mod container;
mod positions;
mod xml;

use std::collections::{HashMap, HashSet};

use super::{Errors, Incoming, IncomingQuote, IncomingTheme, RefiOptions, Skipped, normalise_guid};
use crate::diagnostics::{self, Diagnostic, Position};
use container::{Container, Document, Limits, SourceText};
use positions::{Counting, Indexed, name_matches};
use xml::Element;

/// Reads a REFI-QDA file into [`Incoming`].
///
/// Every error found is returned at once; each names the file (for an entry of a
/// `.qdpx`, `FILE.qdpx/ENTRY`), the line where there is one, and what to do.
pub fn read(opts: &RefiOptions) -> Result<Incoming, Errors> {
    read_with_limits(opts, Limits::DEFAULT)
}

fn read_with_limits(opts: &RefiOptions, limits: Limits) -> Result<Incoming, Errors> {
    let (mut container, doc) = container::open(&opts.file, limits)?;
    let root = parse_document(&doc, &opts.file)?;
    let mut ctx = Ctx {
        file: &doc.file,
        text: &doc.text,
        errors: Vec::new(),
        incoming: Incoming::default(),
    };
    if root.name == "CodeBook" {
        themes(&mut ctx, Some(&root), &HashSet::new());
    } else {
        project(&mut ctx, &root, &mut container, &doc, opts);
    }
    if ctx.errors.is_empty() {
        Ok(ctx.incoming)
    } else {
        Err(ctx.errors)
    }
}

/// Parses the XML and checks that its root is a REFI-QDA project or codebook.
fn parse_document(doc: &Document, path: &std::path::Path) -> Result<Element, Errors> {
    let whole = Position::default();
    if !doc.text.trim_start().starts_with('<') {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let message = if ext == "qdpx" {
            "not a zip archive, so not a REFI-QDA project (.qdpx)".to_string()
        } else {
            "not a REFI-QDA file: neither a zip archive (.qdpx) nor XML (.qde, .qdc)".to_string()
        };
        return Err(vec![Diagnostic::error(&doc.file, whole, message).with_hint(
            "export the project from the QDA tool as a REFI-QDA project (.qdpx) or codebook (.qdc)",
        )]);
    }
    let root = xml::parse(&doc.text).map_err(|e| {
        let (line, column) = xml::line_col(&doc.text, e.offset);
        let mut d = Diagnostic::error(
            &doc.file,
            Position::at(line, column),
            format!("the XML is not well-formed: {}", e.message),
        )
        .with_hint("the file may be damaged or cut short: export it again from the QDA tool");
        d.source_line = xml::short_line(&doc.text, line).map(str::to_string);
        vec![d]
    })?;
    let namespace_ok = root
        .own_namespace()
        .is_none_or(|ns| ns.to_ascii_lowercase().starts_with("urn:qda-xml:"));
    if !matches!(root.name.as_str(), "Project" | "CodeBook") || !namespace_ok {
        let (line, column) = xml::line_col(&doc.text, root.offset);
        let found = match root.own_namespace() {
            Some(ns) => format!("<{}> in the namespace `{ns}`", root.name),
            None => format!("<{}>", root.name),
        };
        return Err(vec![
            Diagnostic::error(
                &doc.file,
                Position::at(line, column),
                format!(
                    "not a REFI-QDA file: its root element is {found}, not a REFI-QDA <Project> (.qde, .qdpx) or <CodeBook> (.qdc)"
                ),
            )
            .with_hint(
                "export the project from the QDA tool as a REFI-QDA project (.qdpx) or codebook (.qdc)",
            ),
        ]);
    }
    Ok(root)
}

/// `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa` and `rgb(r, g, b)` as `#rrggbb`.
fn normalise_color(color: &str) -> Option<String> {
    let c = color.trim().to_ascii_lowercase();
    if let Some(hex) = c.strip_prefix('#') {
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        return match hex.len() {
            3 | 4 => Some(
                std::iter::once('#')
                    .chain(hex.chars().take(3).flat_map(|c| [c, c]))
                    .collect(),
            ),
            6 | 8 => Some(format!("#{}", &hex[..6])),
            _ => None,
        };
    }
    let inner = c
        .strip_prefix("rgba(")
        .or_else(|| c.strip_prefix("rgb("))?
        .strip_suffix(')')?;
    let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
    if !(3..=4).contains(&parts.len()) {
        return None;
    }
    let mut out = String::from("#");
    for p in &parts[..3] {
        let v: u8 = p.parse().ok()?;
        out.push_str(&format!("{v:02x}"));
    }
    Some(out)
}

/// What a run has found so far.
struct Ctx<'d> {
    /// The document's name, for diagnostics.
    file: &'d str,
    /// The document's text, for lines and columns.
    text: &'d str,
    errors: Errors,
    incoming: Incoming,
}

impl Ctx<'_> {
    fn position(&self, el: &Element) -> Position {
        let (line, column) = xml::line_col(self.text, el.offset);
        Position::at(line, column)
    }

    fn line(&self, el: &Element) -> u32 {
        self.position(el).line
    }

    fn error(&mut self, el: &Element, message: String, hint: &str) {
        let position = self.position(el);
        let mut d = Diagnostic::error(self.file, position, message).with_hint(hint);
        d.source_line = xml::short_line(self.text, position.line).map(str::to_string);
        self.errors.push(d);
    }

    /// A required attribute, or an error naming the element and its line.
    fn required<'e>(&mut self, el: &'e Element, attr: &str) -> Option<&'e str> {
        match el.attr(attr).filter(|v| !v.trim().is_empty()) {
            Some(v) => Some(v),
            None => {
                let message = format!(
                    "<{}> at line {} lacks the required attribute `{attr}`{}",
                    el.name,
                    self.line(el),
                    if el.attr(attr).is_some() {
                        " (it is empty)"
                    } else {
                        ""
                    }
                );
                self.error(
                    el,
                    message,
                    "the file does not follow the REFI-QDA schema (damaged or edited by hand?): export it again from the QDA tool",
                );
                None
            }
        }
    }

    fn required_guid(&mut self, el: &Element, attr: &str) -> Option<String> {
        self.required(el, attr).map(normalise_guid)
    }

    fn skip(&mut self, what: String, why: impl Into<String>) {
        self.incoming.skipped.push(Skipped {
            what,
            why: why.into(),
        });
    }
}

/// Codes to themes, parent before child; returns the theme index of each code GUID.
fn themes(
    ctx: &mut Ctx<'_>,
    codebook: Option<&Element>,
    case_guids: &HashSet<String>,
) -> HashMap<String, usize> {
    let mut by_guid: HashMap<String, (usize, u32)> = HashMap::new();
    if let Some(codes) = codebook.and_then(|c| c.child("Codes")) {
        walk_codes(ctx, codes, None, case_guids, &mut by_guid);
    }
    by_guid.into_iter().map(|(g, (i, _))| (g, i)).collect()
}

fn walk_codes(
    ctx: &mut Ctx<'_>,
    parent_el: &Element,
    parent: Option<usize>,
    case_guids: &HashSet<String>,
    by_guid: &mut HashMap<String, (usize, u32)>,
) {
    for code in parent_el.children_named("Code") {
        let guid = ctx.required_guid(code, "guid");
        let name = ctx.required(code, "name").map(|n| n.trim().to_string());
        let (Some(guid), Some(name)) = (guid, name) else {
            walk_codes(ctx, code, parent, case_guids, by_guid);
            continue;
        };
        if case_guids.contains(&guid) {
            ctx.skip(
                format!("code \"{name}\" ({guid})"),
                "its GUID is a case's: a case node, not a theme",
            );
            walk_codes(ctx, code, parent, case_guids, by_guid);
            continue;
        }
        if let Some(&(first, line)) = by_guid.get(&guid) {
            let message = format!(
                "the code \"{name}\" at line {} has the GUID {guid} of the code \"{}\" at line {line}",
                ctx.line(code),
                ctx.incoming.themes[first].title
            );
            ctx.error(
                code,
                message,
                "each code needs its own GUID: export the project again from the QDA tool",
            );
            walk_codes(ctx, code, parent, case_guids, by_guid);
            continue;
        }
        let index = ctx.incoming.themes.len();
        let description = code
            .child("Description")
            .map(|d| d.text.trim())
            .filter(|d| !d.is_empty())
            .map(str::to_string);
        ctx.incoming.themes.push(IncomingTheme {
            key: guid.clone(),
            guid: Some(guid.clone()),
            title: name,
            parent,
            description,
            color: code.attr("color").and_then(normalise_color),
        });
        by_guid.insert(guid, (index, ctx.line(code)));
        walk_codes(ctx, code, Some(index), case_guids, by_guid);
    }
}

/// Variable values, by lower-case variable name.
type Values = Vec<(String, String)>;

fn value_of<'v>(values: &'v Values, var: &str) -> Option<&'v str> {
    values
        .iter()
        .find(|(n, v)| n == var && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

/// The `VariableValue` children of an element.
fn variable_values(ctx: &mut Ctx<'_>, el: &Element, variables: &HashMap<String, String>) -> Values {
    let mut out = Values::new();
    for vv in el.children_named("VariableValue") {
        let Some(vref) = vv.child("VariableRef") else {
            let message = format!(
                "<VariableValue> at line {} has no <VariableRef>",
                ctx.line(vv)
            );
            ctx.error(
                vv,
                message,
                "the file does not follow the REFI-QDA schema: export it again from the QDA tool",
            );
            continue;
        };
        let Some(target) = ctx.required_guid(vref, "targetGUID") else {
            continue;
        };
        // A value of a variable the project does not declare cannot be named: unused.
        let Some(name) = variables.get(&target) else {
            continue;
        };
        let value = vv
            .children
            .iter()
            .find(|c| c.name.ends_with("Value"))
            .map(|c| c.text.trim().to_string())
            .unwrap_or_default();
        out.push((name.to_lowercase(), value));
    }
    out
}

struct Case {
    name: Option<String>,
    values: Values,
    sources: Vec<String>,
    selections: Vec<String>,
}

impl Case {
    /// A nameless case with one source and no single selections carries document
    /// variables (MAXQDA, Quirkos).
    fn is_document(&self) -> bool {
        self.name.is_none() && self.sources.len() == 1 && self.selections.is_empty()
    }
}

struct SetVar {
    var: String,
    value: String,
    members: HashSet<String>,
}

struct Selection<'e> {
    el: &'e Element,
    guid: String,
    start: u64,
    end: u64,
    /// Code GUIDs, in the order applied.
    codes: Vec<String>,
}

struct Source<'e> {
    el: &'e Element,
    /// The source's GUID, and its PDF's for a PDF's text representation.
    links: Vec<String>,
    /// For reports: `"name"` or the GUID.
    label: String,
    values: Values,
    selections: Vec<Selection<'e>>,
}

/// What a lookup found.
enum Found {
    One(String),
    Missing,
    Several(Vec<String>),
}

fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> Found {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let v = v.trim();
        if !v.is_empty() && !out.iter().any(|o| o == v) {
            out.push(v.to_string());
        }
    }
    match out.len() {
        0 => Found::Missing,
        1 => Found::One(out.remove(0)),
        _ => Found::Several(out),
    }
}

/// How selections reach participants, sites and groups.
struct Links<'a> {
    cases: &'a [Case],
    by_selection: HashMap<&'a str, Vec<usize>>,
    by_source: HashMap<&'a str, Vec<usize>>,
    documents_by_source: HashMap<&'a str, Vec<usize>>,
    sets: &'a [SetVar],
    case_guids: &'a HashSet<String>,
}

impl<'a> Links<'a> {
    fn new(cases: &'a [Case], sets: &'a [SetVar], case_guids: &'a HashSet<String>) -> Self {
        let mut links = Links {
            cases,
            by_selection: HashMap::new(),
            by_source: HashMap::new(),
            documents_by_source: HashMap::new(),
            sets,
            case_guids,
        };
        for (i, case) in cases.iter().enumerate() {
            if case.is_document() {
                links
                    .documents_by_source
                    .entry(case.sources[0].as_str())
                    .or_default()
                    .push(i);
                continue;
            }
            for s in &case.selections {
                links.by_selection.entry(s.as_str()).or_default().push(i);
            }
            for s in &case.sources {
                links.by_source.entry(s.as_str()).or_default().push(i);
            }
        }
        links
    }

    /// The cases of a selection: those naming it, else those of its source.
    fn cases_of(&self, source: &Source<'_>, selections: &[&Selection<'_>]) -> Vec<usize> {
        let collect = |map: &HashMap<&str, Vec<usize>>, keys: &mut dyn Iterator<Item = &str>| {
            let mut out: Vec<usize> = Vec::new();
            for k in keys {
                for &c in map.get(k).into_iter().flatten() {
                    if !out.contains(&c) {
                        out.push(c);
                    }
                }
            }
            out
        };
        let direct = collect(
            &self.by_selection,
            &mut selections.iter().map(|s| s.guid.as_str()),
        );
        if !direct.is_empty() {
            return direct;
        }
        collect(
            &self.by_source,
            &mut source.links.iter().map(String::as_str),
        )
    }

    /// A variable's value: case variable, then document variable, then set.
    fn value(&self, var: &str, source: &Source<'_>, cases: &[usize]) -> Found {
        let found = distinct(
            cases
                .iter()
                .filter_map(|&c| value_of(&self.cases[c].values, var)),
        );
        if !matches!(found, Found::Missing) {
            return found;
        }
        let documents = source
            .links
            .iter()
            .flat_map(|l| {
                self.documents_by_source
                    .get(l.as_str())
                    .into_iter()
                    .flatten()
            })
            .filter_map(|&c| value_of(&self.cases[c].values, var));
        let found = distinct(value_of(&source.values, var).into_iter().chain(documents));
        if !matches!(found, Found::Missing) {
            return found;
        }
        distinct(
            self.sets
                .iter()
                .filter(|s| s.var == var && source.links.iter().any(|l| s.members.contains(l)))
                .map(|s| s.value.as_str()),
        )
    }

    fn case_name(&self, cases: &[usize]) -> Found {
        distinct(cases.iter().filter_map(|&c| self.cases[c].name.as_deref()))
    }
}

fn quoted_list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A variable a run looks up: as the user wrote it, and lower case.
struct Var {
    shown: String,
    lower: String,
}

impl Var {
    fn new(name: &str) -> Self {
        let shown = name.trim().to_string();
        let lower = shown.to_lowercase();
        Var { shown, lower }
    }
}

/// The variables a run looks up, and which names exist.
struct Wanted {
    site: Var,
    group: Var,
    participant: Option<Var>,
    known: HashSet<String>,
}

impl Wanted {
    /// The value, or why it is missing or ambiguous.
    fn resolve(&self, what: &str, var: &Var, found: Found) -> Result<String, String> {
        match found {
            Found::One(v) => Ok(v),
            Found::Several(vs) => Err(format!("several {what}s ({})", quoted_list(&vs))),
            Found::Missing if self.known.contains(&var.lower) => Err(format!(
                "no {what} (\"{}\" has no value for its case or source)",
                var.shown
            )),
            Found::Missing => Err(format!(
                "no {what} (the project has no variable or set named \"{}\": name one with --{what})",
                var.shown
            )),
        }
    }
}

fn project(
    ctx: &mut Ctx<'_>,
    root: &Element,
    container: &mut Container,
    doc: &Document,
    opts: &RefiOptions,
) {
    ctx.incoming.title = root
        .attr("name")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);

    // Variables: GUID to name.
    let mut variables: HashMap<String, String> = HashMap::new();
    let mut variable_names: Vec<String> = Vec::new();
    for v in root
        .child("Variables")
        .into_iter()
        .flat_map(|vs| vs.children_named("Variable"))
    {
        let guid = ctx.required_guid(v, "guid");
        let name = ctx.required(v, "name").map(|n| n.trim().to_string());
        if let (Some(guid), Some(name)) = (guid, name) {
            if !variable_names.contains(&name) {
                variable_names.push(name.clone());
            }
            variables.insert(guid, name);
        }
    }

    // Cases.
    let mut cases = Vec::new();
    let mut case_guids = HashSet::new();
    for c in root
        .child("Cases")
        .into_iter()
        .flat_map(|cs| cs.children_named("Case"))
    {
        if let Some(g) = c.attr("guid") {
            case_guids.insert(normalise_guid(g));
        }
        let mut refs = |name: &str| -> Vec<String> {
            c.children_named(name)
                .filter_map(|r| ctx.required_guid(r, "targetGUID"))
                .collect()
        };
        let sources = refs("SourceRef");
        let selections = refs("SelectionRef");
        let values = variable_values(ctx, c, &variables);
        cases.push(Case {
            name: c
                .attr("name")
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string),
            values,
            sources,
            selections,
        });
    }

    let codes = themes(ctx, root.child("CodeBook"), &case_guids);

    // Sets named `NAME: value`.
    let mut sets = Vec::new();
    let mut set_names = Vec::new();
    for s in root
        .child("Sets")
        .into_iter()
        .flat_map(|ss| ss.children_named("Set"))
    {
        let Some(name) = ctx.required(s, "name").map(str::trim) else {
            continue;
        };
        set_names.push(name.to_string());
        let members: HashSet<String> = s
            .children_named("MemberSource")
            .filter_map(|m| ctx.required_guid(m, "targetGUID"))
            .collect();
        if let Some((var, value)) = name.split_once(':') {
            let (var, value) = (var.trim(), value.trim());
            if !var.is_empty() && !value.is_empty() {
                sets.push(SetVar {
                    var: var.to_lowercase(),
                    value: value.to_string(),
                    members,
                });
            }
        }
    }

    // Names given on the command line must exist.
    let mut known: HashSet<String> = variable_names.iter().map(|n| n.to_lowercase()).collect();
    known.extend(sets.iter().map(|s| s.var.clone()));
    for (flag, given) in [
        ("site", &opts.site),
        ("group", &opts.group),
        ("participant", &opts.participant),
    ] {
        let Some(given) = given else { continue };
        if known.contains(&given.trim().to_lowercase()) {
            continue;
        }
        let mut exist = Vec::new();
        if !variable_names.is_empty() {
            exist.push(format!("variables {}", quoted_list(&variable_names)));
        }
        if !set_names.is_empty() {
            exist.push(format!("sets {}", quoted_list(&set_names)));
        }
        let exist = if exist.is_empty() {
            "the project has no variables and no sets".to_string()
        } else {
            format!("the project has {}", exist.join(" and "))
        };
        let names = variable_names
            .iter()
            .map(String::as_str)
            .chain(sets.iter().map(|s| s.var.as_str()));
        let nothing = variable_names.is_empty() && set_names.is_empty();
        let hint = match diagnostics::did_you_mean(given, names) {
            _ if nothing => format!(
                "in the QDA tool, give the cases or documents a `{given}` variable (or put documents in sets named `{given}: VALUE`), then export again"
            ),
            Some(dym) => format!(
                "{dym} (variable names match in any case; a set counts when named `NAME: value`)"
            ),
            None => format!(
                "give --{flag} one of the variable names (in any case), or NAME for sets named `NAME: value`"
            ),
        };
        ctx.errors.push(
            Diagnostic::error(
                ctx.file,
                Position::default(),
                format!("--{flag} \"{given}\" names no variable or set of the project; {exist}"),
            )
            .with_hint(hint),
        );
    }
    let wanted = Wanted {
        site: Var::new(opts.site.as_deref().unwrap_or("site")),
        group: Var::new(opts.group.as_deref().unwrap_or("group")),
        participant: opts.participant.as_deref().map(Var::new),
        known,
    };

    let sources = sources(ctx, root, &variables);
    let links = Links::new(&cases, &sets, &case_guids);
    let origin = root.attr("origin").unwrap_or_default().to_ascii_lowercase();
    let default_counting = if origin.contains("atlas.ti") {
        Counting::CrlfAsOne
    } else if origin.contains("qualcoder") {
        Counting::Utf16
    } else {
        Counting::CodePoints
    };
    let mut keys: HashMap<String, u32> = HashMap::new();
    for source in &sources {
        quotes_of_source(
            ctx,
            source,
            &codes,
            &links,
            &wanted,
            container,
            doc,
            default_counting,
            &mut keys,
        );
    }
}

/// The text sources (and PDF text representations) in order; coded selections of
/// other media are reported.
fn sources<'e>(
    ctx: &mut Ctx<'_>,
    root: &'e Element,
    variables: &HashMap<String, String>,
) -> Vec<Source<'e>> {
    let mut out = Vec::new();
    let Some(all) = root.child("Sources") else {
        return out;
    };
    for el in &all.children {
        match el.name.as_str() {
            "TextSource" => {
                if let Some(s) = text_source(ctx, el, None, variables) {
                    out.push(s);
                }
            }
            "PDFSource" | "PictureSource" | "AudioSource" | "VideoSource" => {
                let label = label_of(el);
                for sel in el.children.iter().filter(|c| c.name.ends_with("Selection")) {
                    if sel.child("Coding").is_some() {
                        let guid = sel.attr("guid").map(normalise_guid).unwrap_or_default();
                        ctx.skip(
                            format!("selection {guid} in source {label}"),
                            format!(
                                "not text ({}): only text selections become quotes",
                                el.name.trim_end_matches("Source").to_lowercase()
                            ),
                        );
                    }
                }
                if el.name == "PDFSource" {
                    let pdf = el.attr("guid").map(normalise_guid);
                    for rep in el.children_named("Representation") {
                        if let Some(s) = text_source(ctx, rep, pdf.clone(), variables) {
                            out.push(s);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn label_of(el: &Element) -> String {
    match el.attr("name").map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => format!("\"{n}\""),
        None => el.attr("guid").map(normalise_guid).unwrap_or_default(),
    }
}

fn text_source<'e>(
    ctx: &mut Ctx<'_>,
    el: &'e Element,
    parent: Option<String>,
    variables: &HashMap<String, String>,
) -> Option<Source<'e>> {
    let guid = ctx.required_guid(el, "guid");
    let mut selections = Vec::new();
    for sel in el.children_named("PlainTextSelection") {
        let guid = ctx.required_guid(sel, "guid");
        let start = position_attr(ctx, sel, "startPosition");
        let end = position_attr(ctx, sel, "endPosition");
        let mut codes = Vec::new();
        for coding in sel.children_named("Coding") {
            let Some(code_ref) = coding.child("CodeRef") else {
                let message = format!("<Coding> at line {} has no <CodeRef>", ctx.line(coding));
                ctx.error(
                    coding,
                    message,
                    "the file does not follow the REFI-QDA schema: export it again from the QDA tool",
                );
                continue;
            };
            if let Some(target) = ctx.required_guid(code_ref, "targetGUID") {
                codes.push(target);
            }
        }
        if let (Some(guid), Some(start), Some(end)) = (guid, start, end) {
            selections.push(Selection {
                el: sel,
                guid,
                start,
                end,
                codes,
            });
        }
    }
    let values = variable_values(ctx, el, variables);
    let guid = guid?;
    let mut links = vec![guid];
    links.extend(parent);
    Some(Source {
        el,
        links,
        label: label_of(el),
        values,
        selections,
    })
}

fn position_attr(ctx: &mut Ctx<'_>, el: &Element, attr: &str) -> Option<u64> {
    let raw = ctx.required(el, attr)?;
    match raw.trim().parse::<u64>() {
        Ok(n) => Some(n),
        Err(_) => {
            let message = format!(
                "<{}> at line {} has {attr}=\"{raw}\", which is not a whole number of 0 or more",
                el.name,
                ctx.line(el)
            );
            ctx.error(
                el,
                message,
                "positions count code points from 0: export the project again from the QDA tool",
            );
            None
        }
    }
}

/// A source's text, once looked for.
enum Text {
    Found {
        text: String,
        /// For diagnostics.
        file: String,
    },
    /// Not available: why, for the report.
    Missing(String),
    /// An error has been reported.
    Failed,
}

fn load_text(
    ctx: &mut Ctx<'_>,
    source: &Source<'_>,
    container: &mut Container,
    doc: &Document,
) -> Text {
    if let Some(content) = source.el.child("PlainTextContent") {
        let text = content
            .text
            .strip_prefix('\u{feff}')
            .unwrap_or(&content.text);
        return Text::Found {
            text: text.to_string(),
            file: doc.file.clone(),
        };
    }
    let Some(path) = source
        .el
        .attr("plainTextPath")
        .filter(|p| !p.trim().is_empty())
    else {
        let message = format!(
            "the source {} at line {} has coded selections but no text: neither `plainTextPath` nor <PlainTextContent>",
            source.label,
            ctx.line(source.el)
        );
        ctx.error(
            source.el,
            message,
            "export the project again from the QDA tool, with its sources",
        );
        return Text::Failed;
    };
    match container.source(path) {
        Ok(SourceText::Found { file, text }) => Text::Found { text, file },
        Ok(SourceText::Missing { looked_for }) => {
            let lower = path.to_ascii_lowercase();
            let external = lower.starts_with("relative://") || lower.starts_with("absolute://");
            if doc.zipped && !external {
                let message = format!(
                    "the source {} at line {} is not in the zip: its plainTextPath \"{path}\" names no entry",
                    source.label,
                    ctx.line(source.el)
                );
                let hint = format!(
                    "export the project again with its sources (thematic looked for `{}`)",
                    looked_for.first().map(String::as_str).unwrap_or(path)
                );
                ctx.error(source.el, message, &hint);
                Text::Failed
            } else {
                Text::Missing(format!(
                    "its source text was not found (plainTextPath \"{path}\"; looked for {})",
                    looked_for
                        .iter()
                        .take(2)
                        .map(|l| format!("`{l}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ))
            }
        }
        Err(d) => {
            ctx.errors.push(d);
            Text::Failed
        }
    }
}

/// The counting that explains most selection names, the origin's by default.
fn choose_counting(text: &str, selections: &[&Selection<'_>], default: Counting) -> Counting {
    let mut options: Vec<Counting> = Vec::new();
    for c in [
        default,
        Counting::CodePoints,
        Counting::CrlfAsOne,
        Counting::Utf16,
    ] {
        if c.matters_for(text) && !options.contains(&c) {
            options.push(c);
        }
    }
    if options.len() == 1 {
        return options[0];
    }
    let named: Vec<(&Selection<'_>, &str)> = selections
        .iter()
        .filter_map(|s| s.el.attr("name").map(|n| (*s, n)))
        .collect();
    if named.is_empty() {
        return options[0];
    }
    let mut best = (options[0], 0usize);
    for c in options {
        let index = Indexed::new(text, c);
        let score = named
            .iter()
            .filter(|(s, n)| {
                index
                    .slice(s.start, s.end)
                    .is_some_and(|cut| name_matches(n, cut))
            })
            .count();
        if score > best.1 {
            best = (c, score);
        }
    }
    best.0
}

#[allow(clippy::too_many_arguments)]
fn quotes_of_source(
    ctx: &mut Ctx<'_>,
    source: &Source<'_>,
    codes: &HashMap<String, usize>,
    links: &Links<'_>,
    wanted: &Wanted,
    container: &mut Container,
    doc: &Document,
    default_counting: Counting,
    keys: &mut HashMap<String, u32>,
) {
    // Selections with equal positions are one passage.
    let mut groups: Vec<Vec<&Selection<'_>>> = Vec::new();
    let mut at: HashMap<(u64, u64), usize> = HashMap::new();
    for sel in &source.selections {
        match at.get(&(sel.start, sel.end)) {
            Some(&g) => groups[g].push(sel),
            None => {
                at.insert((sel.start, sel.end), groups.len());
                groups.push(vec![sel]);
            }
        }
    }

    let mut text: Option<Text> = None;
    let mut index: Option<(Indexed<'_>, Counting)> = None;
    // The text is needed (and must be found) only when a passage has a theme.
    let has_theme = source
        .selections
        .iter()
        .any(|s| s.codes.iter().any(|c| codes.contains_key(c)));
    if has_theme {
        text = Some(load_text(ctx, source, container, doc));
    }
    let text_ref: Option<(&str, &str)> = match &text {
        Some(Text::Found { text, file }) => Some((text.as_str(), file.as_str())),
        _ => None,
    };
    if let Some((t, _)) = text_ref {
        let all: Vec<&Selection<'_>> = source.selections.iter().collect();
        let counting = choose_counting(t, &all, default_counting);
        index = Some((Indexed::new(t, counting), counting));
    }

    for group in &groups {
        let first = group[0];
        let what = format!("selection {} in source {}", first.guid, source.label);
        // Themes, each once, in the order applied.
        let mut themes: Vec<usize> = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        for code in group.iter().flat_map(|s| s.codes.iter()) {
            match codes.get(code) {
                Some(&t) if !themes.contains(&t) => themes.push(t),
                Some(_) => {}
                // Codings of case nodes say which case, not which theme.
                None if links.case_guids.contains(code) => {}
                None => {
                    if !unknown.contains(code) {
                        unknown.push(code.clone());
                    }
                }
            }
        }
        if themes.is_empty() {
            if unknown.is_empty() {
                ctx.skip(what, "not coded");
            } else {
                ctx.skip(
                    what,
                    format!(
                        "not coded: its codes are not in the codebook ({})",
                        unknown.join(", ")
                    ),
                );
            }
            continue;
        }
        if !unknown.is_empty() {
            ctx.skip(
                format!("codings of {what}"),
                format!("the codes are not in the codebook ({})", unknown.join(", ")),
            );
        }
        let (index, counting) = match (&text, &index) {
            (Some(Text::Missing(why)), _) => {
                ctx.skip(what, why.clone());
                continue;
            }
            (_, Some((ix, c))) => (ix, *c),
            _ => continue, // an error was reported
        };
        let Some(cut) = index.slice(first.start, first.end) else {
            let message = if first.start > first.end {
                format!(
                    "the selection {} ends (endPosition {}) before it starts (startPosition {})",
                    first.guid, first.end, first.start
                )
            } else {
                format!(
                    "the selection {} (startPosition {}, endPosition {}) lies outside its source {}, which is {} {} long",
                    first.guid,
                    first.start,
                    first.end,
                    source.label,
                    index.len(),
                    counting.unit()
                )
            };
            let hint = format!(
                "positions count Unicode code points from 0, end excluded, in {}: export the project again so that positions and texts agree",
                text_ref.map(|(_, f)| f).unwrap_or(ctx.file)
            );
            ctx.error(first.el, message, &hint);
            continue;
        };
        let text = cut.replace("\r\n", "\n").trim().to_string();
        if text.is_empty() {
            ctx.skip(what, "empty text");
            continue;
        }

        let cases = links.cases_of(source, group);
        let participant = match &wanted.participant {
            Some(var) => wanted.resolve(
                "participant",
                var,
                links.value(&var.lower, source, &cases),
            ),
            None => match links.case_name(&cases) {
                Found::One(name) => Ok(name),
                Found::Several(names) => Err(format!(
                    "several participants (cases {})",
                    quoted_list(&names)
                )),
                Found::Missing => Err(
                    "no participant (no named case links this selection or its source: link one, or name a variable with --participant)"
                        .to_string(),
                ),
            },
        };
        let site = wanted.resolve(
            "site",
            &wanted.site,
            links.value(&wanted.site.lower, source, &cases),
        );
        let group_value = wanted.resolve(
            "group",
            &wanted.group,
            links.value(&wanted.group.lower, source, &cases),
        );
        let (participant, site, group_value) = match (participant, site, group_value) {
            (Ok(p), Ok(s), Ok(g)) => (p, s, g),
            (p, s, g) => {
                let why: Vec<String> = [p.err(), s.err(), g.err()].into_iter().flatten().collect();
                ctx.skip(what, why.join("; "));
                continue;
            }
        };

        let line = ctx.line(first.el);
        if let Some(previous) = keys.insert(first.guid.clone(), line) {
            let message = format!(
                "the selection {} at line {line} has the GUID of another selection, at line {previous}",
                first.guid
            );
            ctx.error(
                first.el,
                message,
                "each selection needs its own GUID: export the project again from the QDA tool",
            );
            continue;
        }
        ctx.incoming.quotes.push(IncomingQuote {
            key: first.guid.clone(),
            guid: Some(first.guid.clone()),
            participant,
            site,
            group: group_value,
            themes,
            text,
            context: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip(dir: &std::path::Path, entries: &[(&str, &[u8])]) -> std::path::PathBuf {
        let path = dir.join("p.qdpx");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            zip.start_file(*name, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
        path
    }

    fn project(padding: usize) -> String {
        format!(
            "<Project name=\"p\">{}<CodeBook><Codes><Code guid=\"C\" name=\"c\" isCodable=\"true\"/></Codes></CodeBook>\
             <Sources><TextSource guid=\"S\" plainTextPath=\"internal://s.txt\">\
             <PlainTextSelection guid=\"P\" startPosition=\"0\" endPosition=\"1\"><Coding guid=\"x\"><CodeRef targetGUID=\"C\"/></Coding></PlainTextSelection>\
             </TextSource></Sources></Project>",
            " ".repeat(padding)
        )
    }

    fn read_limited(path: &std::path::Path, total: u64, entry: u64) -> Result<Incoming, Errors> {
        let opts = RefiOptions {
            file: path.to_path_buf(),
            ..RefiOptions::default()
        };
        read_with_limits(&opts, Limits { total, entry })
    }

    #[test]
    fn an_entry_that_inflates_past_its_cap() {
        let dir = tempfile::tempdir().unwrap();
        let qde = project(5000);
        let path = zip(
            dir.path(),
            &[("project.qde", qde.as_bytes()), ("sources/s.txt", b"hi")],
        );
        assert!(std::fs::metadata(&path).unwrap().len() < 2000);
        let errors = read_limited(&path, 20_000, 1000).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].file, format!("{}/project.qde", path.display()));
        assert!(
            errors[0]
                .message
                .contains("the entry inflates to more than 1000 bytes"),
            "{}",
            errors[0]
        );
        assert!(
            read_limited(&path, 20_000, 10_000).is_ok(),
            "no site: skipped, not an error"
        );
    }

    #[test]
    fn the_zip_inflates_past_the_total_cap() {
        let dir = tempfile::tempdir().unwrap();
        let qde = project(600);
        let source = "a".repeat(900);
        let path = zip(
            dir.path(),
            &[
                ("project.qde", qde.as_bytes()),
                ("sources/s.txt", source.as_bytes()),
            ],
        );
        let errors = read_limited(&path, 1500, 1000).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].file, format!("{}/sources/s.txt", path.display()));
        assert!(
            errors[0]
                .message
                .contains("the zip inflates to more than 1500 bytes in all"),
            "{}",
            errors[0]
        );
        // Within the caps, the source is read (the selection lacks a site).
        let incoming = read_limited(&path, 4000, 2000).unwrap();
        assert_eq!(incoming.skipped.len(), 1);
        assert!(incoming.skipped[0].why.contains("no site"));
    }

    #[test]
    fn a_file_past_the_total_cap_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.qde");
        std::fs::write(&path, project(3000)).unwrap();
        let errors = read_limited(&path, 1000, 1000).unwrap_err();
        assert!(
            errors[0].message.contains("larger than 1000 bytes"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn guids() {
        assert_eq!(
            normalise_guid(" {a182cd3a-d83c-4d8c-bc80-26d9103ec6d6} "),
            "A182CD3A-D83C-4D8C-BC80-26D9103EC6D6"
        );
    }

    #[test]
    fn colors() {
        assert_eq!(normalise_color("#EF8256").as_deref(), Some("#ef8256"));
        assert_eq!(normalise_color("#abc").as_deref(), Some("#aabbcc"));
        assert_eq!(normalise_color("#abcd").as_deref(), Some("#aabbcc"));
        assert_eq!(normalise_color("#11223344").as_deref(), Some("#112233"));
        assert_eq!(
            normalise_color("rgb(255, 0, 16)").as_deref(),
            Some("#ff0010")
        );
        assert_eq!(
            normalise_color("rgba(1,2,3,0.5)").as_deref(),
            Some("#010203")
        );
        assert_eq!(normalise_color("red"), None);
        assert_eq!(normalise_color("#12345"), None);
        assert_eq!(normalise_color("#ggg"), None);
        assert_eq!(normalise_color("rgb(300,0,0)"), None);
        assert_eq!(normalise_color("#é1"), None);
    }
}
