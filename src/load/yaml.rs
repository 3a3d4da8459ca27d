//! YAML with positions.
//!
//! The YAML parser reports positions only for syntax errors, yet every error
//! about a field (unknown, missing, wrong type, unknown reference) must name
//! its line. So we parse with `serde_yaml` into a `Value` and, beside it, scan
//! the text for where block-style keys and list items start. Authors write
//! block style; for flow style (`{a: 1}`) we fall back to the record's line.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde_yaml::{Mapping, Value};

use super::source::{FileId, Loc, SourceMap, Spanned};
use crate::diagnostics::{Diagnostics, Position, did_you_mean};

/// Parses YAML text whose first line is line `first_line` of file `file`.
/// A syntax error becomes a diagnostic at its line and column.
pub fn parse(
    sources: &SourceMap,
    file: FileId,
    text: &str,
    first_line: u32,
    diags: &mut Diagnostics,
) -> Option<Value> {
    match serde_yaml::from_str::<Value>(text) {
        Ok(v) => Some(v),
        Err(e) => {
            let pos = e
                .location()
                .map(|l| Position::at(l.line() as u32 + first_line - 1, l.column() as u32))
                .unwrap_or(Position::line(first_line));
            let mut msg = e.to_string();
            // The location is shown separately, in the diagnostic's own format.
            if let Some(i) = msg.find(" at line ") {
                msg.truncate(i);
            }
            // The parser places a repeated key at the start of its mapping: point
            // at the repeat instead, which is the line to remove.
            const REPEATED: &str = "duplicate entry with key \"";
            if let Some(key) = msg
                .find(REPEATED)
                .and_then(|at| msg[at + REPEATED.len()..].strip_suffix('"'))
            {
                let at = pos.line.saturating_sub(first_line) as usize;
                let (line, column) = repeated_key(text, at, key).unwrap_or((at, 0));
                let pos = Position::at(line as u32 + first_line, column as u32 + 1);
                diags.push(
                    sources
                        .error(Loc { file, pos }, format!("`{key}` is given twice"))
                        .with_hint(format!("keep one of the two `{key}:` lines")),
                );
                return None;
            }
            diags.push(
                sources
                    .error(Loc { file, pos }, format!("invalid YAML: {msg}"))
                    .with_hint("check the indentation, and put a value that contains `: ` or ` #` in double quotes: `text: \"She said: come back\"`"),
            );
            None
        }
    }
}

/// The second line (0-based) and column of `key:` in the block mapping whose
/// first key is on line `start`: keys at that key's column, up to the first
/// line indented less.
fn repeated_key(text: &str, start: usize, key: &str) -> Option<(usize, usize)> {
    // (column of the key, indentation, text from the key on), after any `- `.
    fn key_column(line: &str) -> (usize, usize, &str) {
        let rest = line.trim_start();
        let key_rest = rest.strip_prefix("- ").map_or(rest, str::trim_start);
        (
            line.len() - key_rest.len(),
            line.len() - rest.len(),
            key_rest,
        )
    }
    let mut lines = text.lines().enumerate().skip(start);
    let (_, first) = lines.next()?;
    let (column, _, _) = key_column(first);
    let names = |rest: &str| {
        rest.strip_prefix(key)
            .is_some_and(|r| r.trim_start().starts_with(':'))
    };
    let mut seen = names(key_column(first).2);
    for (n, line) in lines {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let (at, indent, rest) = key_column(line);
        if indent < column {
            break;
        }
        if at == column && names(rest) {
            if seen {
                return Some((n, column));
            }
            seen = true;
        }
    }
    None
}

/// One scanned line: its indentation, whether it starts a list item, and the key it names.
#[derive(Debug, Clone)]
struct ScannedLine {
    /// Column (0-based) of the first non-space character; `None` for blank or comment lines.
    indent: Option<usize>,
    /// True when the line starts with `- ` (a block sequence item).
    item: bool,
    /// Column (0-based) where the item's content starts, when `item`.
    item_content: usize,
    /// The mapping key on this line (after `- ` for items) and its 0-based column.
    key: Option<(String, usize)>,
}

/// Where block-style keys and items start in a YAML text.
#[derive(Debug, Clone)]
pub struct LineIndex {
    lines: Vec<ScannedLine>,
    /// 1-based file line of the text's first line.
    first_line: u32,
}

/// The lines (0-based, into the index) of one block record and the indentation of its keys.
#[derive(Debug, Clone, Copy)]
pub struct Block {
    start: usize,
    end: usize,
    key_indent: Option<usize>,
}

impl LineIndex {
    /// Scans `text`, whose first line is line `first_line` of its file.
    pub fn new(text: &str, first_line: u32) -> Self {
        let lines = text.lines().map(scan_line).collect();
        LineIndex { lines, first_line }
    }

    fn pos(&self, line: usize, col: usize) -> Position {
        Position::at(self.first_line + line as u32, col as u32 + 1)
    }

    /// The whole text as one mapping at indentation 0.
    pub fn root(&self) -> Block {
        Block {
            start: 0,
            end: self.lines.len(),
            key_indent: Some(0),
        }
    }

    /// The file position of the start of a block.
    pub fn block_pos(&self, b: Block) -> Position {
        let col = self.lines.get(b.start).and_then(|l| l.indent).unwrap_or(0);
        self.pos(b.start, col)
    }

    /// Keys of the mapping in `b`, with their positions.
    pub fn keys(&self, b: Block) -> HashMap<String, Position> {
        let mut out = HashMap::new();
        let Some(indent) = b.key_indent else {
            return out;
        };
        for i in b.start..b.end.min(self.lines.len()) {
            let l = &self.lines[i];
            if let Some((k, col)) = &l.key {
                if *col == indent {
                    out.entry(k.clone()).or_insert(self.pos(i, *col));
                }
            }
        }
        out
    }

    /// The value block of key `name` in mapping `b`: the lines after the key line that are indented deeper.
    pub fn child(&self, b: Block, name: &str) -> Option<Block> {
        let indent = b.key_indent?;
        let key_line = (b.start..b.end.min(self.lines.len()))
            .find(|&i| matches!(&self.lines[i].key, Some((k, c)) if k == name && *c == indent))?;
        let mut end = key_line + 1;
        while end < b.end.min(self.lines.len()) {
            let l = &self.lines[end];
            match l.indent {
                // A sequence may sit at the key's own indentation (`quotes:\n- a`).
                Some(i) if i < indent || (i == indent && !l.item) => break,
                _ => end += 1,
            }
        }
        let key_indent = self.lines[key_line + 1..end]
            .iter()
            .find_map(|l| l.indent.map(|i| if l.item { None } else { Some(i) }))
            .flatten();
        Some(Block {
            start: key_line,
            end,
            key_indent,
        })
    }

    /// The position of each item of the first block sequence inside `b`.
    pub fn item_positions(&self, b: Block) -> Vec<Position> {
        self.items(b)
            .into_iter()
            .map(|i| self.pos(i.start, self.lines[i.start].item_content))
            .collect()
    }

    /// The items of the first block sequence inside `b`, each as a block whose keys are the item's.
    pub fn items(&self, b: Block) -> Vec<Block> {
        let end = b.end.min(self.lines.len());
        let Some(first) = (b.start..end).find(|&i| self.lines[i].item) else {
            return Vec::new();
        };
        let indent = self.lines[first].indent.unwrap_or(0);
        let mut starts = vec![first];
        let mut stop = end;
        for i in first + 1..end {
            let l = &self.lines[i];
            match l.indent {
                Some(x) if x < indent => {
                    stop = i;
                    break;
                }
                Some(x) if x == indent && l.item => starts.push(i),
                Some(x) if x == indent => {
                    stop = i;
                    break;
                }
                _ => {}
            }
        }
        let mut blocks = Vec::with_capacity(starts.len());
        for (n, &s) in starts.iter().enumerate() {
            let e = starts.get(n + 1).copied().unwrap_or(stop);
            blocks.push(Block {
                start: s,
                end: e,
                key_indent: Some(self.lines[s].item_content),
            });
        }
        blocks
    }
}

fn scan_line(raw: &str) -> ScannedLine {
    let trimmed = raw.trim_start_matches(' ');
    let indent = raw.len() - trimmed.len();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return ScannedLine {
            indent: None,
            item: false,
            item_content: 0,
            key: None,
        };
    }
    let (item, content_col) = if trimmed == "-" || trimmed.starts_with("- ") {
        let after = &trimmed[1..];
        let spaces = after.len() - after.trim_start_matches(' ').len();
        (true, indent + 1 + spaces)
    } else {
        (false, indent)
    };
    let key = scan_key(&raw[content_col.min(raw.len())..]).map(|k| (k, content_col));
    ScannedLine {
        indent: Some(indent),
        item,
        item_content: content_col,
        key,
    }
}

/// The key at the start of `s` (`name: ...` or `"name": ...`), if any.
fn scan_key(s: &str) -> Option<String> {
    let (key, rest) = if let Some(q @ ('"' | '\'')) = s.chars().next() {
        let close = s[1..].find(q)? + 1;
        (s[1..close].to_string(), &s[close + 1..])
    } else {
        let colon = s
            .find(": ")
            .or_else(|| s.strip_suffix(':').map(|k| k.len()))?;
        let k = &s[..colon];
        if k.is_empty() || k.contains(['#', '{', '[', '"', '\'']) || k.starts_with("- ") {
            return None;
        }
        (k.trim_end().to_string(), &s[colon..])
    };
    let rest = rest.trim_start_matches(' ');
    (rest.starts_with(':')).then_some(key)
}

/// A YAML mapping being read field by field, so every problem in it is reported with its line.
pub struct Record<'a> {
    sources: &'a SourceMap,
    file: FileId,
    at: Position,
    map: Mapping,
    keys: HashMap<String, Position>,
    known: &'static [&'static str],
    what: &'static str,
    diags: &'a mut Diagnostics,
}

impl<'a> Record<'a> {
    /// Starts reading `value`, which must be a mapping (reported otherwise).
    /// `what` names the record in messages ("quote", "front matter").
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        sources: &'a SourceMap,
        file: FileId,
        at: Position,
        value: Value,
        keys: HashMap<String, Position>,
        known: &'static [&'static str],
        what: &'static str,
        diags: &'a mut Diagnostics,
    ) -> Option<Self> {
        let map = match value {
            Value::Mapping(m) => m,
            Value::Null => Mapping::new(),
            other => {
                diags.push(sources.error(
                    Loc { file, pos: at },
                    format!(
                        "the {what} must be a mapping of `field: value` lines, found {}",
                        describe(&other)
                    ),
                ));
                return None;
            }
        };
        Some(Record {
            sources,
            file,
            at,
            map,
            keys,
            known,
            what,
            diags,
        })
    }

    /// Where the record starts.
    pub fn loc(&self) -> Loc {
        Loc {
            file: self.file,
            pos: self.at,
        }
    }

    /// Where field `key` is written (or the record's start when it cannot be told).
    pub fn loc_of(&self, key: &str) -> Loc {
        Loc {
            file: self.file,
            pos: self.keys.get(key).copied().unwrap_or(self.at),
        }
    }

    /// True when the field is present.
    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    fn take(&mut self, key: &str) -> Option<Value> {
        match self.map.remove(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    fn type_error(&mut self, key: &str, expected: &str, found: &Value) {
        let loc = self.loc_of(key);
        self.diags.push(self.sources.error(
            loc,
            format!(
                "field `{key}` must be {expected}, found {}",
                describe(found)
            ),
        ));
    }

    /// An optional field deserialized as `T`; a wrong type is reported as `expected`.
    pub fn get<T: DeserializeOwned>(&mut self, key: &str, expected: &str) -> Option<T> {
        let v = self.take(key)?;
        match serde_yaml::from_value::<T>(v.clone()) {
            Ok(t) => Some(t),
            Err(e) => {
                let loc = self.loc_of(key);
                let detail = e.to_string();
                let found = describe(&v);
                let message = if detail.starts_with("invalid type") {
                    format!("field `{key}` must be {expected}, found {found}")
                } else {
                    format!("field `{key}` must be {expected}: {detail}")
                };
                self.diags.push(self.sources.error(loc, message));
                None
            }
        }
    }

    /// Like [`Record::get`], with where the field is written.
    pub fn get_spanned<T: DeserializeOwned>(
        &mut self,
        key: &str,
        expected: &str,
    ) -> Option<Spanned<T>> {
        let loc = self.loc_of(key);
        self.get(key, expected).map(|value| Spanned { value, loc })
    }

    /// An optional text field. Numbers and booleans are taken as their text, since
    /// `participant: 7` or `id: 2021` are meant as codes.
    pub fn text(&mut self, key: &str) -> Option<Spanned<String>> {
        let loc = self.loc_of(key);
        let v = self.take(key)?;
        match scalar_text(&v) {
            Some(s) => Some(Spanned { value: s, loc }),
            None => {
                self.type_error(key, "text", &v);
                None
            }
        }
    }

    /// A required text field; its absence is reported.
    pub fn required_text(&mut self, key: &str) -> Option<Spanned<String>> {
        if !self.has(key) || matches!(self.map.get(key), Some(Value::Null)) {
            self.missing(key);
            return None;
        }
        self.text(key)
    }

    /// Reports a missing required field.
    pub fn missing(&mut self, key: &str) {
        let loc = self.loc();
        let what = self.what;
        self.diags.push(
            self.sources
                .error(
                    loc,
                    format!("the {what} is missing the required field `{key}`"),
                )
                .with_hint(format!("add a line `{key}: ...`")),
        );
    }

    /// An optional list of text values; a single text is taken as a one-item list.
    pub fn text_list(&mut self, key: &str) -> Option<Spanned<Vec<String>>> {
        let loc = self.loc_of(key);
        let v = self.take(key)?;
        let items = match &v {
            Value::Sequence(seq) => seq.iter().map(scalar_text).collect::<Option<Vec<_>>>(),
            other => scalar_text(other).map(|s| vec![s]),
        };
        match items {
            Some(list) => Some(Spanned { value: list, loc }),
            None => {
                self.type_error(key, "a list of text values such as `[a, b]`", &v);
                None
            }
        }
    }

    /// An optional boolean; `yes`/`no` strings are not guessed.
    pub fn flag(&mut self, key: &str) -> bool {
        self.get::<bool>(key, "`true` or `false`").unwrap_or(false)
    }

    /// Reports every field that was not read as unknown, suggesting the closest known field.
    pub fn finish(self) {
        let Record {
            sources,
            file,
            at,
            map,
            keys,
            known,
            what,
            diags,
        } = self;
        for (k, _) in map {
            let Some(name) = scalar_text(&k) else {
                diags.push(sources.error(
                    Loc { file, pos: at },
                    format!(
                        "the {what} has a field name that is not text: {}",
                        describe(&k)
                    ),
                ));
                continue;
            };
            let pos = keys.get(&name).copied().unwrap_or(at);
            let hint = unknown_field_hint(&name, known);
            diags.push(
                sources
                    .error(
                        Loc { file, pos },
                        format!("unknown field `{name}` in {what}"),
                    )
                    .with_hint(hint),
            );
        }
    }
}

/// "did you mean `site`?", or the list of known fields when nothing is close.
pub fn unknown_field_hint(name: &str, known: &[&str]) -> String {
    did_you_mean(name, known.iter().copied())
        .unwrap_or_else(|| format!("known fields are: {}", known.join(", ")))
}

/// The text of a scalar YAML value.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A short description of a value for messages: its kind and, for scalars, the value.
pub fn describe(v: &Value) -> String {
    match v {
        Value::Null => "nothing".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => {
            let short: String = s.chars().take(40).collect();
            format!("the text \"{short}\"")
        }
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a mapping".into(),
        Value::Tagged(t) => format!("a value tagged {}", t.tag),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_key_is_found_in_its_own_mapping() {
        let text = "- id: a\n  site: x\n  # site: y\n  other:\n    site: z\n  site: w\n- id: b\n  site: v\n";
        assert_eq!(repeated_key(text, 0, "site"), Some((5, 2)));
        assert_eq!(repeated_key(text, 6, "site"), None);
        assert_eq!(
            repeated_key("order: 1\nord: 2\norder: 3\n", 0, "order"),
            Some((2, 0))
        );
    }

    const QUOTES: &str = "defaults:\n  site: kampala\n  group: low\nquotes:\n  - id: a\n    text: >-\n      words: here\n    themes: [x]\n  - id: b\n\n    site: other\n";

    #[test]
    fn finds_keys_of_root_and_child_mapping() {
        let idx = LineIndex::new(QUOTES, 1);
        let root = idx.keys(idx.root());
        assert_eq!(root["defaults"], Position::at(1, 1));
        assert_eq!(root["quotes"], Position::at(4, 1));
        let d = idx.child(idx.root(), "defaults").unwrap();
        let keys = idx.keys(d);
        assert_eq!(keys["site"], Position::at(2, 3));
        assert_eq!(keys["group"], Position::at(3, 3));
    }

    #[test]
    fn finds_items_and_their_keys() {
        let idx = LineIndex::new(QUOTES, 1);
        let q = idx.child(idx.root(), "quotes").unwrap();
        let items = idx.items(q);
        assert_eq!(items.len(), 2);
        assert_eq!(idx.block_pos(items[0]), Position::at(5, 3));
        let first = idx.keys(items[0]);
        assert_eq!(first["id"], Position::at(5, 5));
        assert_eq!(first["themes"], Position::at(8, 5));
        assert!(
            !first.contains_key("words"),
            "block scalar text is not a key"
        );
        let second = idx.keys(items[1]);
        assert_eq!(second["site"], Position::at(11, 5));
    }

    #[test]
    fn items_at_key_indentation_and_offset_lines() {
        let text = "quotes:\n- id: a\n  site: s\n- id: b\n";
        let idx = LineIndex::new(text, 10);
        let q = idx.child(idx.root(), "quotes").unwrap();
        let items = idx.items(q);
        assert_eq!(items.len(), 2);
        assert_eq!(idx.keys(items[0])["site"], Position::at(12, 3));
        assert_eq!(idx.keys(items[1])["id"], Position::at(13, 3));
    }

    #[test]
    fn top_level_list() {
        let idx = LineIndex::new("- id: a\n  text: x\n-   id: b\n    text: y\n", 1);
        let items = idx.items(idx.root());
        assert_eq!(items.len(), 2);
        assert_eq!(idx.keys(items[1])["text"], Position::at(4, 5));
    }
}
