//! A fast reader for quote files written in plain block style.
//!
//! Nearly every quote file uses a small part of YAML: block mappings and
//! sequences, one-line plain or quoted scalars, one-line flow lists of them,
//! and folded or literal block scalars (`text: >-`). [`quotes`] reads exactly
//! that part, noting where each key and list item is written as it goes: no
//! `serde_yaml::Value`, no second scan of the text for positions. It gives a
//! [`Snapshot`], each quote's strings as pieces of the file's text, from
//! which the records are made (in parallel across all files, straight into
//! place) and which the load cache keeps instead of a copy of the records.
//!
//! It is only a shortcut. It declines (returns `None`) on anything outside
//! that part of YAML, and on anything the general path (`serde_yaml`,
//! `LineIndex` and `Record` in `load/mod.rs`) would report: an unknown or
//! missing field, a value of the wrong type, a repeated key, a plain scalar
//! that YAML reads as a number or as null. The general path then reads the
//! file from the start, so its records and diagnostics are the reference and
//! stay unchanged. A file this module accepts gives the records the general
//! path gives, at the same positions, and no diagnostics; the tests below
//! check that on every variation they can think of.

use std::borrow::Cow;

use super::source::{FileId, Loc, Spanned};
use super::{Original, QUOTE_FIELDS, QuoteRecord};
use crate::diagnostics::Position;

/// The quotes of a quotes file, as a [`Snapshot`] that makes their records,
/// or `None` when the general path must read the file.
pub(super) fn quotes(text: &str, file: FileId) -> Option<Snapshot> {
    // Pieces are noted as 31-bit offsets.
    if text.len() >= EXTRA as usize / 2 {
        return None;
    }
    let mut parser = Parser::new(text)?;
    let (defaults, list) = match parser.document()? {
        Node::Seq(items) => (Vec::new(), items),
        Node::Map(entries) => {
            let mut defaults = Vec::new();
            let mut list = Vec::new();
            for e in entries {
                match (e.key, e.value) {
                    ("defaults", Node::Map(d)) => defaults = d,
                    ("quotes", Node::Seq(items)) => list = items,
                    _ => return None,
                }
            }
            (defaults, list)
        }
        _ => return None,
    };
    if defaults
        .iter()
        .any(|d| d.key == "id" || field_index(d.key).is_none())
    {
        return None;
    }
    let mut snapshot = Snapshot::new(list.len());
    for (pos, item) in list {
        let parts = Parts::of(file, pos, item, &defaults)?;
        let shape = parts.shape(&parser.lines, text, &mut snapshot);
        snapshot.quotes.push(shape);
    }
    Some(snapshot)
}

/// A quote as read, before its strings are noted in the snapshot.
struct Parts<'t> {
    loc: Loc,
    id: (Loc, Text<'t>),
    participant: (Loc, Text<'t>),
    site: (Loc, Text<'t>),
    group: (Loc, Text<'t>),
    themes: (Loc, Vec<Text<'t>>),
    text: (Loc, Text<'t>),
    original: Option<(Loc, Text<'t>, Text<'t>)>,
    context: Option<Text<'t>>,
    draft: bool,
    guid: Option<Text<'t>>,
}

impl<'t> Parts<'t> {
    /// One quote, when every field is present, known and of the right type.
    fn of(file: FileId, at: Position, item: Node<'t>, defaults: &[Entry<'t>]) -> Option<Self> {
        let Node::Map(entries) = item else {
            return None;
        };
        let mut slots: [Option<(Position, Node<'t>)>; QUOTE_FIELDS.len()] = Default::default();
        for e in entries {
            slots[field_index(e.key)?] = Some((e.pos, e.value));
        }
        for d in defaults {
            let slot = &mut slots[field_index(d.key)?];
            if slot.is_none() {
                *slot = Some((d.pos, d.value.clone()));
            }
        }
        let [
            id,
            participant,
            site,
            group,
            themes,
            text,
            original,
            context,
            draft,
            guid,
        ] = slots;
        let loc = |pos| Loc { file, pos };
        let required = |slot: Option<(Position, Node<'t>)>| -> Option<(Loc, Text<'t>)> {
            let (pos, node) = slot?;
            Some((loc(pos), node.into_text()?))
        };
        // An optional text field: absent is fine, anything but text is not.
        let optional = |slot: Option<(Position, Node<'t>)>| -> Option<Option<Text<'t>>> {
            match slot {
                None => Some(None),
                Some((_, node)) => node.into_text().map(Some),
            }
        };
        let (themes_pos, themes) = themes?;
        let themes = match themes {
            Node::Seq(items) => items
                .into_iter()
                .map(|(_, n)| n.into_text())
                .collect::<Option<Vec<_>>>()?,
            other => vec![other.into_text()?],
        };
        let original = match original {
            None => None,
            Some((pos, Node::Map(entries))) => {
                let mut lang = None;
                let mut text = None;
                for e in entries {
                    let slot = match e.key {
                        "lang" => &mut lang,
                        "text" => &mut text,
                        _ => return None,
                    };
                    *slot = Some(e.value.into_text()?);
                }
                Some((loc(pos), lang?, text?))
            }
            Some(_) => return None,
        };
        let draft = match draft {
            None => false,
            Some((_, Node::Bool(b))) => b,
            Some(_) => return None,
        };
        Some(Parts {
            loc: loc(at),
            id: required(id)?,
            participant: required(participant)?,
            site: required(site)?,
            group: required(group)?,
            themes: (loc(themes_pos), themes),
            text: required(text)?,
            original,
            context: optional(context)?,
            draft,
            guid: optional(guid)?,
        })
    }

    fn shape(&self, lines: &[&str], base: &str, snap: &mut Snapshot) -> Shape {
        let mut s = |t: &Text<'_>| snap.add(t, lines, base);
        let id = s(&self.id.1);
        let participant = s(&self.participant.1);
        let site = s(&self.site.1);
        let group = s(&self.group.1);
        let text = s(&self.text.1);
        let original = self
            .original
            .as_ref()
            .map(|(loc, lang, text)| (*loc, s(lang), s(text)));
        let context = self.context.as_ref().map(&mut s);
        let guid = self.guid.as_ref().map(&mut s);
        let first = snap.themes.len() as u32;
        for t in &self.themes.1 {
            let piece = snap.add(t, lines, base);
            snap.themes.push(piece);
        }
        Shape {
            loc: self.loc,
            id: (self.id.0, id),
            participant: (self.participant.0, participant),
            site: (self.site.0, site),
            group: (self.group.0, group),
            themes: (self.themes.0, first, self.themes.1.len() as u32),
            text: (self.text.0, text),
            original,
            context,
            draft: self.draft,
            guid,
        }
    }
}

/// A string of a quote: a piece of the file (a plain or quoted scalar, with
/// its escapes resolved if it has any), or a block scalar made of lines.
#[derive(Debug, Clone)]
enum Text<'t> {
    Str(Cow<'t, str>),
    Block(Block),
}

/// A block scalar: lines `start..end` of the file (the last one not empty),
/// without their first `indent` columns.
#[derive(Debug, Clone, Copy)]
struct Block {
    start: usize,
    end: usize,
    indent: usize,
    literal: bool,
    /// Keeps one final line break (`>` and `|`, not `>-` and `|-`).
    clip: bool,
}

/// A run of a text: a piece of the file or of an escaped scalar, or a
/// separator (`' '` or `'\n'`) repeated.
enum Run<'a> {
    Str(&'a str),
    Repeat(char, usize),
}

impl Text<'_> {
    /// The runs the text is made of, in order.
    fn runs<'a>(&'a self, lines: &[&'a str], mut f: impl FnMut(Run<'a>)) {
        let b = match self {
            Text::Str(s) => return f(Run::Str(s)),
            Text::Block(b) => *b,
        };
        let mut empty = 0;
        for (k, line) in lines[b.start..b.end].iter().enumerate() {
            if line.len() <= b.indent {
                empty += 1;
                continue;
            }
            if k > 0 {
                if b.literal {
                    f(Run::Repeat('\n', empty + 1));
                } else if empty == 0 {
                    f(Run::Repeat(' ', 1));
                } else {
                    f(Run::Repeat('\n', empty));
                }
            }
            f(Run::Str(&line[b.indent..]));
            empty = 0;
        }
        if b.clip {
            f(Run::Repeat('\n', 1));
        }
    }
}

/// What the load cache keeps of a quotes file the shortcut read, to give the
/// same records again while the file is unchanged: each string as pieces of
/// the file's text (which the cache keeps anyway), not as a copy. It costs a
/// fraction of a copy of the records to make and to keep.
#[derive(Debug, Clone)]
pub(super) struct Snapshot {
    /// Text that is not in the file: resolved escapes, separators.
    extra: String,
    /// Pieces of the file's text, or of `extra`.
    pieces: Vec<Piece>,
    /// The strings of the themes of every quote.
    themes: Vec<Str>,
    quotes: Vec<Shape>,
}

/// Bytes `start..end` of the file's text, or of the snapshot's `extra` when
/// the top bit of `start` is set.
#[derive(Debug, Clone, Copy)]
struct Piece {
    start: u32,
    end: u32,
}

const EXTRA: u32 = 1 << 31;

/// A string: `len` pieces from the `first`.
#[derive(Debug, Clone, Copy)]
struct Str {
    first: u32,
    len: u32,
}

/// A quote, with its strings as [`Str`]s.
#[derive(Debug, Clone)]
struct Shape {
    loc: Loc,
    id: (Loc, Str),
    participant: (Loc, Str),
    site: (Loc, Str),
    group: (Loc, Str),
    /// Where, and `count` strings of `Snapshot::themes` from `first`.
    themes: (Loc, u32, u32),
    text: (Loc, Str),
    original: Option<(Loc, Str, Str)>,
    context: Option<Str>,
    draft: bool,
    guid: Option<Str>,
}

/// The separators a snapshot's `extra` starts with, so that most are shared.
const SEPARATORS: &str = " \n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n";

impl Snapshot {
    fn new(quotes: usize) -> Self {
        Snapshot {
            extra: SEPARATORS.to_string(),
            pieces: Vec::with_capacity(quotes * 8),
            themes: Vec::with_capacity(quotes * 2),
            quotes: Vec::with_capacity(quotes),
        }
    }

    /// Adds a text made of pieces of `base` (the file) and of `lines` (its lines).
    fn add(&mut self, text: &Text<'_>, lines: &[&str], base: &str) -> Str {
        let first = self.pieces.len() as u32;
        let file = base.as_ptr() as usize;
        text.runs(lines, |run| {
            let piece = match run {
                // A piece of the file: where it is.
                Run::Str(s)
                    if (s.as_ptr() as usize) >= file
                        && (s.as_ptr() as usize) + s.len() <= file + base.len() =>
                {
                    let start = (s.as_ptr() as usize - file) as u32;
                    Piece {
                        start,
                        end: start + s.len() as u32,
                    }
                }
                Run::Repeat(' ', 1) => Piece {
                    start: EXTRA,
                    end: EXTRA + 1,
                },
                Run::Repeat('\n', n) if n < SEPARATORS.len() => Piece {
                    start: EXTRA + 1,
                    end: EXTRA + 1 + n as u32,
                },
                other => {
                    let start = self.extra.len() as u32;
                    match other {
                        Run::Str(s) => self.extra.push_str(s),
                        Run::Repeat(c, n) => self.extra.extend(std::iter::repeat_n(c, n)),
                    }
                    Piece {
                        start: EXTRA | start,
                        end: EXTRA | self.extra.len() as u32,
                    }
                }
            };
            self.pieces.push(piece);
        });
        Str {
            first,
            len: self.pieces.len() as u32 - first,
        }
    }

    fn string(&self, s: Str, base: &str) -> String {
        let pieces = &self.pieces[s.first as usize..(s.first + s.len) as usize];
        let slice = |p: &Piece| {
            let (text, start, end) = if p.start & EXTRA == 0 {
                (base, p.start, p.end)
            } else {
                (self.extra.as_str(), p.start & !EXTRA, p.end & !EXTRA)
            };
            text.get(start as usize..end as usize).unwrap_or_default()
        };
        if let [p] = pieces {
            return slice(p).to_string();
        }
        let mut out =
            String::with_capacity(pieces.iter().map(|p| (p.end - p.start) as usize).sum());
        for p in pieces {
            out.push_str(slice(p));
        }
        out
    }

    /// Number of quotes.
    pub(super) fn len(&self) -> usize {
        self.quotes.len()
    }

    /// The record of quote `i`, from the file's text `base`, which must be
    /// the text the snapshot was made from.
    pub(super) fn record(&self, i: usize, base: &str) -> QuoteRecord {
        let string = |s: Str| self.string(s, base);
        let spanned = |(loc, s): (Loc, Str)| Spanned {
            value: string(s),
            loc,
        };
        let q = &self.quotes[i];
        let (themes_loc, first, count) = q.themes;
        QuoteRecord {
            loc: q.loc,
            id: spanned(q.id),
            participant: spanned(q.participant),
            site: spanned(q.site),
            group: spanned(q.group),
            themes: Spanned {
                value: self.themes[first as usize..(first + count) as usize]
                    .iter()
                    .map(|s| string(*s))
                    .collect(),
                loc: themes_loc,
            },
            text: string(q.text.1),
            text_loc: q.text.0,
            original: q.original.map(|(loc, lang, text)| Spanned {
                value: Original {
                    lang: string(lang),
                    text: string(text),
                },
                loc,
            }),
            context: q.context.map(string),
            draft: q.draft,
            guid: q.guid.map(string),
        }
    }
}

fn field_index(key: &str) -> Option<usize> {
    QUOTE_FIELDS.iter().position(|f| *f == key)
}

/// A YAML value of the part this module reads.
#[derive(Debug, Clone)]
enum Node<'t> {
    /// A scalar that YAML reads as text.
    Str(Cow<'t, str>),
    /// A block scalar (`|`, `>`), which is text too.
    Block(Block),
    /// `true` or `false`.
    Bool(bool),
    /// A list, with where each item starts (the `-` of a block list).
    Seq(Vec<(Position, Node<'t>)>),
    /// A mapping, in file order.
    Map(Vec<Entry<'t>>),
}

impl<'t> Node<'t> {
    fn into_text(self) -> Option<Text<'t>> {
        match self {
            Node::Str(s) => Some(Text::Str(s)),
            Node::Block(b) => Some(Text::Block(b)),
            _ => None,
        }
    }
}

/// A key of a block mapping, where it is written, and its value.
#[derive(Debug, Clone)]
struct Entry<'t> {
    key: &'t str,
    pos: Position,
    value: Node<'t>,
}

/// Deeper nesting than any quotes file has is left to the general path.
const MAX_DEPTH: usize = 16;

struct Parser<'t> {
    /// The lines, without their line breaks.
    lines: Vec<&'t str>,
    /// Whether the last line ends with a line break.
    last_line_ends: bool,
    /// The line being read.
    i: usize,
    depth: usize,
}

impl<'t> Parser<'t> {
    fn new(text: &'t str) -> Option<Self> {
        let last_line_ends = text.ends_with('\n');
        let lines = split_lines(text)?;
        // Document markers and directives.
        if lines
            .iter()
            .any(|l| l.starts_with("---") || l.starts_with("...") || l.starts_with('%'))
        {
            return None;
        }
        Some(Parser {
            lines,
            last_line_ends,
            i: 0,
            depth: 0,
        })
    }

    fn pos(&self, line: usize, col: usize) -> Position {
        Position::at(line as u32 + 1, col as u32 + 1)
    }

    /// Skips blank and comment lines.
    fn skip_insignificant(&mut self) {
        while let Some(l) = self.lines.get(self.i) {
            let rest = l.trim_start_matches(' ');
            if rest.is_empty() || rest.starts_with('#') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    /// The whole text: a block mapping or a block sequence at column 0.
    fn document(&mut self) -> Option<Node<'t>> {
        self.skip_insignificant();
        let line = *self.lines.get(self.i)?;
        if indent(line) != 0 {
            return None;
        }
        let node = if is_item(line) {
            Node::Seq(self.seq(0)?)
        } else {
            Node::Map(self.map(0, false)?)
        };
        self.skip_insignificant();
        (self.i == self.lines.len()).then_some(node)
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// A block mapping whose keys are at column `n`. With `inline_first`, the
    /// first key is on the current line at column `n` after a list item's `- `.
    fn map(&mut self, n: usize, mut inline_first: bool) -> Option<Vec<Entry<'t>>> {
        self.enter()?;
        let mut entries: Vec<Entry<'t>> = Vec::with_capacity(QUOTE_FIELDS.len());
        loop {
            if !inline_first {
                self.skip_insignificant();
                let Some(line) = self.lines.get(self.i) else {
                    break;
                };
                let ind = indent(line);
                if ind < n {
                    break;
                }
                if ind > n || is_item(&line[ind..]) {
                    return None;
                }
            }
            inline_first = false;
            let line = self.lines[self.i];
            let (key, after) = split_key(&line[n..])?;
            if entries.iter().any(|e| e.key == key) {
                return None;
            }
            let pos = self.pos(self.i, n);
            let value = self.value(n, after)?;
            entries.push(Entry { key, pos, value });
        }
        self.depth -= 1;
        Some(entries)
    }

    /// The value of a key at column `n`; `after` is what follows its `:`.
    fn value(&mut self, n: usize, after: &'t str) -> Option<Node<'t>> {
        let v = after.trim_start_matches(' ');
        if !v.is_empty() {
            return self.inline_value(n, v);
        }
        // A nested block on the following lines (nothing there would be null).
        self.i += 1;
        self.skip_insignificant();
        let line = *self.lines.get(self.i)?;
        let ind = indent(line);
        if ind >= n && is_item(&line[ind..]) {
            Some(Node::Seq(self.seq(ind)?))
        } else if ind > n {
            Some(Node::Map(self.map(ind, false)?))
        } else {
            None
        }
    }

    /// A value that starts on the current line, inside a block at column `n`.
    fn inline_value(&mut self, n: usize, v: &'t str) -> Option<Node<'t>> {
        let node = match v.as_bytes()[0] {
            b'|' | b'>' => return self.block_scalar(n, v),
            b'"' => {
                let (s, rest) = double_quoted(v)?;
                only_spaces(rest)?;
                Node::Str(s)
            }
            b'\'' => {
                let (s, rest) = single_quoted(v)?;
                only_spaces(rest)?;
                Node::Str(s)
            }
            b'[' => Node::Seq(flow_seq(v, self.pos(self.i, 0))?),
            _ => plain(v.trim_end_matches(' '))?,
        };
        self.end_of_line_value(n)?;
        Some(node)
    }

    /// Moves past a value written on one line, making sure the next lines do
    /// not continue it (a plain scalar may go on over more-indented lines).
    fn end_of_line_value(&mut self, n: usize) -> Option<()> {
        self.i += 1;
        let mut j = self.i;
        while let Some(l) = self.lines.get(j) {
            let ind = indent(l);
            if ind == l.len() {
                j += 1;
                continue;
            }
            return (ind <= n || l[ind..].starts_with('#')).then_some(());
        }
        Some(())
    }

    /// A block sequence whose `-` are at column `m`.
    fn seq(&mut self, m: usize) -> Option<Vec<(Position, Node<'t>)>> {
        self.enter()?;
        let mut items = Vec::new();
        loop {
            self.skip_insignificant();
            let Some(line) = self.lines.get(self.i) else {
                break;
            };
            let ind = indent(line);
            if ind < m || (ind == m && !is_item(&line[ind..])) {
                break;
            }
            if ind > m {
                return None;
            }
            // `- ` then the item's content, maybe after more spaces.
            let after = line.get(m + 2..)?;
            let c = m + 2 + indent(after);
            let content = &line[c..];
            if content.is_empty() {
                return None;
            }
            let pos = self.pos(self.i, m);
            let node = if split_key(content).is_some() {
                Node::Map(self.map(c, true)?)
            } else {
                match content.as_bytes()[0] {
                    b'"' => {
                        let (s, rest) = double_quoted(content)?;
                        only_spaces(rest)?;
                        self.end_of_line_value(m)?;
                        Node::Str(s)
                    }
                    b'\'' => {
                        let (s, rest) = single_quoted(content)?;
                        only_spaces(rest)?;
                        self.end_of_line_value(m)?;
                        Node::Str(s)
                    }
                    _ => {
                        let node = plain(content.trim_end_matches(' '))?;
                        self.end_of_line_value(m)?;
                        node
                    }
                }
            };
            items.push((pos, node));
        }
        self.depth -= 1;
        Some(items)
    }

    /// A literal (`|`, `|-`) or folded (`>`, `>-`) block scalar, the value of a key at column `n`.
    fn block_scalar(&mut self, n: usize, header: &str) -> Option<Node<'t>> {
        let (literal, strip) = match header.trim_end_matches(' ') {
            "|" => (true, false),
            "|-" => (true, true),
            ">" => (false, false),
            ">-" => (false, true),
            _ => return None,
        };
        self.i += 1;
        // The first line gives the indentation; leading empty lines are left to the general path.
        let first = *self.lines.get(self.i)?;
        let m = indent(first);
        if m == first.len() || m <= n {
            return None;
        }
        // Its lines: those indented at least as much as the first, and empty ones.
        let start = self.i;
        let mut end = start;
        let mut j = start;
        while let Some(l) = self.lines.get(j) {
            let ind = indent(l);
            if ind == l.len() {
                // Spaces beyond the indentation would be content.
                if ind > m {
                    return None;
                }
            } else if ind < m {
                break;
            } else {
                // A more-indented line of a folded scalar keeps its line
                // breaks: left to the general path.
                if !literal && ind > m {
                    return None;
                }
                end = j + 1;
            }
            j += 1;
        }
        self.i = j;
        // Clip keeps the line break after the last line: there must be one.
        if !strip && end == self.lines.len() && !self.last_line_ends {
            return None;
        }
        Some(Node::Block(Block {
            start,
            end,
            indent: m,
            literal,
            clip: !strip,
        }))
    }
}

/// Number of leading spaces.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// A block sequence item: `-` followed by a space or the end of the line.
fn is_item(rest: &str) -> bool {
    rest == "-" || rest.starts_with("- ")
}

/// `key: ...` or `key:` at the start of `s`, for a key made of letters,
/// digits and `_` (every quote field is one; anything else is declined).
fn split_key(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    if !b.first()?.is_ascii_alphabetic() && b[0] != b'_' {
        return None;
    }
    let k = b
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
        .unwrap_or(b.len());
    if b.get(k) != Some(&b':') || !matches!(b.get(k + 1), None | Some(b' ')) {
        return None;
    }
    Some((&s[..k], &s[k + 1..]))
}

fn only_spaces(s: &str) -> Option<()> {
    s.bytes().all(|b| b == b' ').then_some(())
}

/// A one-line plain scalar in block context (trailing spaces already removed).
fn plain(s: &str) -> Option<Node<'_>> {
    let b = s.as_bytes();
    // Indicators cannot start a plain scalar (or are left to the general path).
    if b"-?:,[]{}#&*!|>'\"%@`".contains(b.first()?) {
        return None;
    }
    // `: ` would start a mapping, ` #` a comment, a final `:` an empty value.
    let mut prev = 0u8;
    for &c in b {
        if (prev == b':' && c == b' ') || (prev == b' ' && c == b'#') {
            return None;
        }
        prev = c;
    }
    if prev == b':' {
        return None;
    }
    resolve(s)
}

/// What YAML (as serde_yaml reads it) makes of a plain scalar: text, a
/// boolean, or something this module declines (null, a number).
fn resolve(s: &str) -> Option<Node<'_>> {
    match s {
        "true" => return Some(Node::Bool(true)),
        "false" => return Some(Node::Bool(false)),
        "" | "~" | "null" | "Null" | "NULL" | "True" | "TRUE" | "False" | "FALSE" => {
            return None;
        }
        _ => {}
    }
    let first = s.as_bytes()[0];
    if (first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) && is_number(s) {
        return None;
    }
    Some(Node::Str(Cow::Borrowed(s)))
}

/// True when serde_yaml reads this plain scalar as a number: the same rules as
/// `visit_untagged_scalar` in yaml_serde (integers in any base, then floats).
fn is_number(s: &str) -> bool {
    parse_unsigned_int(s).is_some() || parse_negative_int(s).is_some() || {
        !digits_but_not_number(s) && parse_f64(s).is_some()
    }
}

fn digits_but_not_number(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    s.len() > 1 && s.starts_with('0') && s[1..].bytes().all(|b| b.is_ascii_digit())
}

fn parse_unsigned_int(s: &str) -> Option<u128> {
    let unpositive = s.strip_prefix('+').unwrap_or(s);
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = unpositive.strip_prefix(prefix) {
            if rest.starts_with(['+', '-']) {
                return None;
            }
            if let Ok(int) = u128::from_str_radix(rest, radix) {
                return Some(int);
            }
        }
    }
    if unpositive.starts_with(['+', '-']) || digits_but_not_number(s) {
        return None;
    }
    unpositive.parse::<u128>().ok()
}

fn parse_negative_int(s: &str) -> Option<i128> {
    for (prefix, radix) in [("-0x", 16), ("-0o", 8), ("-0b", 2)] {
        if let Some(rest) = s.strip_prefix(prefix) {
            if let Ok(int) = i128::from_str_radix(&format!("-{rest}"), radix) {
                return Some(int);
            }
        }
    }
    if digits_but_not_number(s) {
        return None;
    }
    s.parse::<i128>().ok()
}

fn parse_f64(s: &str) -> Option<f64> {
    let unpositive = match s.strip_prefix('+') {
        Some(u) if u.starts_with(['+', '-']) => return None,
        Some(u) => u,
        None => s,
    };
    if matches!(unpositive, ".inf" | ".Inf" | ".INF")
        || matches!(s, "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN" | ".NAN")
    {
        return Some(0.0);
    }
    unpositive.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// A double-quoted scalar closed on the same line, and what follows it.
/// Escapes are those JSON has (which `thematic import` writes); others are declined.
fn double_quoted(v: &str) -> Option<(Cow<'_, str>, &str)> {
    let body = &v[1..];
    let mut out: Option<String> = None;
    let mut seg = 0;
    let b = body.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let value = match out {
                    None => Cow::Borrowed(&body[..i]),
                    Some(mut s) => {
                        s.push_str(&body[seg..i]);
                        Cow::Owned(s)
                    }
                };
                return Some((value, &body[i + 1..]));
            }
            b'\\' => {
                let s = out.get_or_insert_with(|| String::with_capacity(body.len()));
                s.push_str(&body[seg..i]);
                let (c, len) = match *b.get(i + 1)? {
                    b'"' => ('"', 2),
                    b'\\' => ('\\', 2),
                    b'/' => ('/', 2),
                    b'n' => ('\n', 2),
                    b't' => ('\t', 2),
                    b'r' => ('\r', 2),
                    b'b' => ('\u{8}', 2),
                    b'f' => ('\u{c}', 2),
                    b'u' => {
                        let hex = body.get(i + 2..i + 6)?;
                        if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                            return None;
                        }
                        let code = u32::from_str_radix(hex, 16).ok()?;
                        if code == 0 {
                            return None;
                        }
                        (char::from_u32(code)?, 6)
                    }
                    _ => return None,
                };
                s.push(c);
                i += len;
                seg = i;
            }
            _ => i += 1,
        }
    }
    None
}

/// A single-quoted scalar closed on the same line (`''` is a quote), and what follows it.
fn single_quoted(v: &str) -> Option<(Cow<'_, str>, &str)> {
    let body = &v[1..];
    let mut out: Option<String> = None;
    let mut seg = 0;
    let b = body.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\'' {
            if b.get(i + 1) == Some(&b'\'') {
                let s = out.get_or_insert_with(|| String::with_capacity(body.len()));
                s.push_str(&body[seg..=i]);
                i += 2;
                seg = i;
                continue;
            }
            let value = match out {
                None => Cow::Borrowed(&body[..i]),
                Some(mut s) => {
                    s.push_str(&body[seg..i]);
                    Cow::Owned(s)
                }
            };
            return Some((value, &body[i + 1..]));
        }
        i += 1;
    }
    None
}

/// A flow sequence of scalars closed on the same line, such as `[a, b]`.
fn flow_seq(v: &str, pos: Position) -> Option<Vec<(Position, Node<'_>)>> {
    let mut items = Vec::with_capacity(4);
    let mut rest = v[1..].trim_start_matches(' ');
    if let Some(after) = rest.strip_prefix(']') {
        only_spaces(after)?;
        return Some(items);
    }
    loop {
        let (node, after) = match rest.as_bytes().first()? {
            b'"' => double_quoted(rest)?,
            b'\'' => single_quoted(rest)?,
            _ => {
                let end = rest.find([',', ']'])?;
                let item = rest[..end].trim_end_matches(' ');
                if item.is_empty() || item.contains(['#', ':', '[', '{', '}', '"', '\'']) {
                    return None;
                }
                match plain(item)? {
                    Node::Str(s) => (s, &rest[end..]),
                    _ => return None,
                }
            }
        };
        items.push((pos, Node::Str(node)));
        let after = after.trim_start_matches(' ');
        if let Some(next) = after.strip_prefix(',') {
            rest = next.trim_start_matches(' ');
        } else if let Some(end) = after.strip_prefix(']') {
            only_spaces(end)?;
            return Some(items);
        } else {
            return None;
        }
    }
}

/// For a block of bytes: 0x80 if one is part of a non-ASCII character, 1 if
/// one is a control character other than `\n`, or DEL. One pass without a
/// branch per byte, which the compiler vectorises (not when inlined into a
/// large function, nor with a tuple of three flags: then it costs twenty
/// times as much).
#[inline(never)]
fn flags(block: &[u8]) -> u8 {
    block.iter().fold(0u8, |flags, &c| {
        flags | (c & 0x80) | u8::from((c < 0x20) & (c != b'\n')) | u8::from(c == 0x7f)
    })
}

/// The lines of `text`, without their line break (`\n` or `\r\n`, which
/// YAML reads alike), when it has only characters this module reads the way
/// YAML does: printable ones and line breaks. Tabs, lone carriage returns,
/// control characters, byte-order marks and the Unicode line and paragraph
/// separators are left to the general path.
fn split_lines(text: &str) -> Option<Vec<&str>> {
    let bytes = text.as_bytes();
    let mut non_ascii = false;
    let mut returns = false;
    for block in bytes.chunks(4096) {
        let flags = flags(block);
        if flags & 1 != 0 {
            // Only `\r` may be one, for `\r\n`, checked below.
            if block
                .iter()
                .any(|&c| (c < 0x20 || c == 0x7f) && c != b'\n' && c != b'\r')
            {
                return None;
            }
            returns = true;
        }
        non_ascii |= flags & 0x80 != 0;
    }
    let odd_char = |c| {
        matches!(
            c,
            '\u{80}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
    };
    if non_ascii && text.chars().any(odd_char) {
        return None;
    }
    // `split` finds each `\n` with memchr.
    let mut lines: Vec<&str> = match text.strip_suffix('\n') {
        _ if text.is_empty() => Vec::new(),
        Some(body) => body.split('\n').collect(),
        None => text.split('\n').collect(),
    };
    if returns {
        for line in &mut lines {
            *line = line.strip_suffix('\r').unwrap_or(line);
            if line.contains('\r') {
                return None;
            }
        }
        // A `\r` at the very end, with no `\n` after it.
        if text.ends_with('\r') {
            return None;
        }
    }
    Some(lines)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::diagnostics::Diagnostics;
    use crate::load::SourceMap;

    /// What the general path makes of `text`: quotes, diagnostics, broken ids.
    fn general(text: &str) -> (Vec<QuoteRecord>, Diagnostics, Vec<String>) {
        let mut map = SourceMap::default();
        map.insert(FileId(0), "content/quotes/q.yaml".into(), Arc::from(text));
        let mut diags = Diagnostics::new();
        let mut broken = Vec::new();
        let quotes = super::super::parse_quotes(&map, FileId(0), &mut diags, &mut broken);
        (quotes, diags, broken)
    }

    /// Runs both paths; when the shortcut reads the file, it must agree with
    /// the general path exactly, and the general path must report nothing.
    /// Returns whether the shortcut read it.
    fn agree(text: &str) -> bool {
        let Some(snapshot) = quotes(text, FileId(0)) else {
            return false;
        };
        let fast: Vec<QuoteRecord> = (0..snapshot.len())
            .map(|i| snapshot.record(i, text))
            .collect();
        let (slow, diags, broken) = general(text);
        assert!(
            diags.is_empty() && broken.is_empty(),
            "the shortcut read a file the general path reports:\n{text}\n{:?}",
            diags.iter().map(|d| d.to_string()).collect::<Vec<_>>()
        );
        assert_eq!(
            format!("{fast:#?}"),
            format!("{slow:#?}"),
            "the paths disagree on:\n{text}"
        );
        true
    }

    const MAPPING: &str = "# A comment.\ndefaults:\n  site: kampala\n  group: low\n  participant: UG-01\nquotes:\n  - id: ug-01\n    themes: [hope, 'peer-work', \"care\"]\n    text: >-\n      When she told me, I felt that\n      this person knows me.\n\n      A new paragraph: here.\n    original:\n      lang: lg\n      text: \"Bwe yaŋŋamba \\\"nze\\\" \\u00e9\"\n    context: A daladala is a shared minibus.\n  -   id: ug-02\n      group: high\n      themes:\n      - hope\n      - care\n      text: |\n        Line one\n          indented two\n\n        line four\n      draft: true\n      guid: '7A1F-it''s'\n";

    const LIST: &str = "- id: a-01\n  participant: A-01\n  site: alpha\n  group: early\n  themes: [care]\n  text: They listened to me.\n- id: b-01\n  participant: \"007\"\n  site: beta\n  group: early\n  themes: care\n  text: >\n    Kind people,\n    long queues.\n\n\n";

    #[test]
    fn reads_the_usual_files_as_the_general_path_does() {
        assert!(agree(MAPPING));
        assert!(agree(LIST));
        // Windows line breaks are read as YAML reads them.
        assert!(agree(&MAPPING.replace('\n', "\r\n")));
        assert!(agree(&LIST.replace('\n', "\r\n")));
        assert!(agree(&INDENTLESS.replace('\n', "\r\n")));
        assert!(agree(
            "quotes:\n- id: a\n  participant: p\n  site: s\n  group: g\n  themes: []\n  text: t\n"
        ));
        assert!(agree("defaults:\n  site: s\nquotes: []\n"));
        assert!(agree("defaults:\n  themes: [x]\n"));
        assert_eq!(
            quotes(LIST, FileId(0)).unwrap().record(1, LIST).text,
            "Kind people, long queues.\n"
        );
    }

    #[test]
    fn declines_what_the_general_path_must_read_or_report() {
        for text in [
            "",
            "# only a comment\n",
            "---\n- id: a\n",
            "- id: a\n  participant: p\n  site: s\n  group: g\n  themes: [x]\n",
            "- id: a\n  participant: 7\n  site: s\n  group: g\n  themes: [x]\n  text: t\n",
            "- id: a\n  participant: p\n  site: s\n  group: g\n  themes: [x]\n  text: t\n  grup: g\n",
            "- id: a\n  id: b\n  participant: p\n  site: s\n  group: g\n  themes: [x]\n  text: t\n",
            "- id: a\n  participant: p\n  site: s\n  group: g\n  themes: [x]\n  text: t\n    more\n",
            "- id: a\n  participant: p\n  site: s\n  group: g\n  themes: [x]\n  text: t # note\n",
            "- id: a\n  participant: p\n  site: s\n  group: g\n  themes: [x]\n  text: null\n",
            "- id: a\n  participant: p\n  site: s\n  group: g\n  themes: [x]\n  text: 1.5\n",
            "- id: a\n  participant: p\n  site: s\n  group: g\n  themes: [x]\n  text: >-\n    a\n     b\n",
            "- id: a\n  participant: p\n  site: s\n  group: g\n  themes: [x]\n  text: |",
            "- id: a\n  participant: p\n  site: s\n  group: g\n  themes: [x]\n  text: \"a\tb\"\n",
            "- id: a\r  participant: p\n  site: s\n  group: g\n  themes: [x]\n  text: t\n",
            "defaults:\n  id: x\nquotes: []\n",
            "other: 1\n",
        ] {
            assert!(quotes(text, FileId(0)).is_none(), "{text:?}");
            // And whatever the general path says about it stands.
            agree(text);
        }
    }

    #[test]
    fn numbers_are_told_from_text_as_serde_yaml_does() {
        for (s, number) in [
            ("12", true),
            ("-12", true),
            ("+12", true),
            ("0x1F", true),
            ("0o17", true),
            ("0b101", true),
            ("-0x1F", true),
            ("1e3", true),
            ("1.5", true),
            (".5", true),
            ("-.inf", true),
            (".nan", true),
            ("1_000", false),
            ("007", false),
            ("-007", false),
            ("2021-03-01", false),
            ("1.2.3", false),
            ("0x", false),
            ("+-1", false),
            ("inf", false),
            ("1e999", false),
            ("99999999999999999999999999999999999999999", true),
        ] {
            let text = format!(
                "- id: a\n  participant: {s}\n  site: s\n  group: g\n  themes: [x]\n  text: t\n"
            );
            let value: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
            let is_number = value[0]["participant"].is_number();
            assert_eq!(is_number, number, "{s}");
            assert_eq!(agree(&text), !is_number && !s.starts_with('-'), "{s}");
        }
    }

    const INDENTLESS: &str = "quotes:\n- id: c-1\n  participant: P\n  site: s\n  group: g\n  themes:\n  - a\n  # a comment\n  - 'b'\n  text: >\n    one: two\n    # not a comment\n\n# a comment at column 0\n- id: c-2\n  participant: \"Q \\\"quoted\\\"\"\n  site: s\n  group: g\n  themes: [a, b c]\n  text: |-\n    x\n\n    y\n  context: 'it''s: fine'\n\ndefaults:\n  participant: D\n  draft: false\n";

    /// A small deterministic generator, so that the fuzzing below is reproducible.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    const PIECES: &[&str] = &[
        " ",
        "  ",
        "\n",
        "\n  ",
        "\n    ",
        ":",
        ": ",
        "#",
        " #",
        "-",
        "- ",
        "\"",
        "'",
        "''",
        ">",
        ">-",
        "|",
        "|-",
        "[",
        "]",
        ",",
        "{",
        "}",
        "x",
        "0",
        "1",
        "true",
        "null",
        "~",
        "\\",
        "\\n",
        "\\u00e9",
        "é",
        "\t",
        "\r",
        "\u{85}",
        "\u{2028}",
        "---",
        "&a",
        "*a",
        "!t",
        "?",
        "%",
        "text: ",
        "id: ",
        "themes: ",
        "site: ",
        "draft: ",
        "original: ",
        "\n  - id: z\n    ",
        "\n    lang: ",
        "defaults:",
        "quotes:",
        "\n\n",
    ];

    /// Each mutation of a valid file is either declined by the shortcut or read
    /// exactly as the general path reads it.
    #[test]
    fn mutations_are_declined_or_read_alike() {
        assert!(agree(INDENTLESS));
        let crlf = MAPPING.replace('\n', "\r\n");
        let bases = [MAPPING, LIST, INDENTLESS, &crlf];
        // THEMATIC_FUZZ=N tries N mutations of each file, and another seed.
        let (runs, seed) = match std::env::var("THEMATIC_FUZZ") {
            Ok(n) => (n.parse().unwrap(), n.parse::<u64>().unwrap() | 1),
            Err(_) => (20_000, 0x9e37_79b9_7f4a_7c15),
        };
        let mut rng = Rng(seed);
        let mut read = 0;
        let mut tried = 0;
        for base in bases {
            let chars: Vec<(usize, char)> = base.char_indices().collect();
            for _ in 0..runs {
                let mut text = base.to_string();
                for _ in 0..1 + rng.next(3) {
                    let at = {
                        let i = rng.next(text.len() + 1);
                        (0..=i)
                            .rev()
                            .find(|&i| text.is_char_boundary(i))
                            .unwrap_or(0)
                    };
                    let end = {
                        let mut e = (at + rng.next(4)).min(text.len());
                        while !text.is_char_boundary(e) {
                            e += 1;
                        }
                        e
                    };
                    let piece = PIECES[rng.next(PIECES.len())];
                    match rng.next(4) {
                        0 => text.replace_range(at..end, ""),
                        1 => text.insert_str(at, piece),
                        2 => text.replace_range(at..end, piece),
                        _ => {
                            // Indent a line more or less.
                            let starts: Vec<usize> = std::iter::once(0)
                                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                                .collect();
                            let start = starts[rng.next(starts.len())];
                            if rng.next(2) == 0 {
                                text.insert(start, ' ');
                            } else if text[start..].starts_with(' ') {
                                text.remove(start);
                            }
                        }
                    }
                }
                tried += 1;
                if agree(&text) {
                    read += 1;
                }
            }
            assert!(!chars.is_empty());
        }
        // The shortcut still reads a good share of them: the test tests something.
        eprintln!("the shortcut read {read} of {tried} mutated files");
        assert!(read > tried / 20, "read {read} of {tried}");
    }

    /// Every quotes file of the fixtures and of the example study: the same either way.
    #[test]
    fn fixtures_are_read_alike() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut read = 0;
        for dir in ["tests/fixtures", "content"] {
            for entry in walkdir::WalkDir::new(root.join(dir)) {
                let entry = entry.unwrap();
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "yaml")
                    && path.components().any(|c| c.as_os_str() == "quotes")
                {
                    let text = std::fs::read_to_string(path).unwrap();
                    if agree(&text) {
                        read += 1;
                    }
                }
            }
        }
        assert!(read >= 10, "{read}");
    }
}
