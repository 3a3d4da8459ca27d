//! The privacy guard: checks the published study against `content/privacy.yaml`.
//!
//! It runs on the validated [`Study`] (so withdrawn participants are already
//! gone, and only what will be published is checked) and before rendering.
//! Denylisted identifiers are errors; patterns that often identify someone
//! (e-mail addresses, phone numbers, URLs, full dates, long digit runs, and on
//! request names found in one quote only) are warnings; counts of fewer than k
//! participants are handled as `small_cells` says. Messages never print an
//! identifier in full: CI logs are shared.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, MatchKind};
use rayon::prelude::*;
use unicode_normalization::UnicodeNormalization;

use crate::diagnostics::{Diagnostic, Position};
use crate::load::{FileId, Loc};
use crate::model::{Count, Doc, Quote, SmallCells, Study};

/// What the guard did, for `thematic check`'s privacy report.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The policy file, if there is one.
    pub policy_file: Option<String>,
    /// One line per rule that ran.
    pub rules: Vec<String>,
    /// Number of diagnostics per file.
    pub findings: BTreeMap<String, usize>,
    /// Published participant counts below k.
    pub small_cells: usize,
    /// Quotes withheld because their participant withdrew.
    pub withheld_quotes: usize,
    /// Withdrawn participants.
    pub withdrawn_participants: usize,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "Privacy report ({})",
            self.policy_file
                .as_deref()
                .unwrap_or("no content/privacy.yaml: pattern checks only")
        )?;
        for r in &self.rules {
            writeln!(f, "  rule: {r}")?;
        }
        writeln!(
            f,
            "  withheld: {} of {} withdrawn",
            crate::pipeline::plural(self.withheld_quotes, "quote"),
            crate::pipeline::plural(self.withdrawn_participants, "participant")
        )?;
        writeln!(f, "  participant counts below k: {}", self.small_cells)?;
        if self.findings.is_empty() {
            write!(f, "  findings: none")
        } else {
            write!(f, "  findings:")?;
            for (file, n) in &self.findings {
                write!(f, "\n    {file}: {n}")?;
            }
            Ok(())
        }
    }
}

/// Text lowercased, NFKC-normalised, whitespace runs as one space; with the byte
/// offset in the original text of each byte of the result.
fn normalise(text: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(text.len());
    let mut offsets = Vec::with_capacity(text.len());
    let mut last_space = true;
    // ASCII text (most quotes in most studies) is already in normal form.
    if text.is_ascii() {
        for (i, b) in text.bytes().enumerate() {
            if b.is_ascii_whitespace() {
                if !last_space {
                    out.push(' ');
                    offsets.push(i);
                    last_space = true;
                }
            } else {
                out.push(b.to_ascii_lowercase() as char);
                offsets.push(i);
                last_space = false;
            }
        }
        return (out, offsets);
    }
    let mut cluster = String::new();
    let mut cluster_at = 0;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            flush(&mut out, &mut offsets, &mut cluster, cluster_at);
            if !last_space {
                out.push(' ');
                offsets.push(i);
                last_space = true;
            }
            continue;
        }
        last_space = false;
        // A combining mark joins the character before it, so that `e` + U+0301
        // composes to `é` like the precomposed form does.
        if unicode_normalization::char::is_combining_mark(c) && !cluster.is_empty() {
            cluster.push(c);
            continue;
        }
        flush(&mut out, &mut offsets, &mut cluster, cluster_at);
        cluster.push(c);
        cluster_at = i;
    }
    flush(&mut out, &mut offsets, &mut cluster, cluster_at);
    (out, offsets)
}

/// Appends the NFKC, lowercased form of `cluster`, all its bytes mapped to `at`.
fn flush(out: &mut String, offsets: &mut Vec<usize>, cluster: &mut String, at: usize) {
    if cluster.is_empty() {
        return;
    }
    let before = out.len();
    out.extend(cluster.nfkc().flat_map(char::to_lowercase));
    offsets.extend(std::iter::repeat_n(at, out.len() - before));
    cluster.clear();
}

/// `J***n`: enough to find it in privacy.yaml, too little to read it in a log.
pub fn mask(s: &str) -> String {
    mask_piece(s.trim())
}

/// [`mask`] for a piece of a line: as many characters as the piece, so that
/// what follows it in the line stays where it was.
fn mask_piece(s: &str) -> String {
    let n = s.chars().count();
    match (s.chars().next(), s.chars().next_back()) {
        (Some(first), Some(last)) if n > 2 => format!("{first}{}{last}", "*".repeat(n - 2)),
        _ => "*".repeat(n),
    }
}

/// Masks the snippet of one of the guard's diagnostics, because CI logs are
/// shared: every pattern found in the line, and every occurrence of `found`
/// (what the guard found in the quote the diagnostic is about), including one
/// the end of the line cuts off (a value that goes on in the next line). Each
/// is masked as messages mask it, keeping its length, so that the underline
/// still points at the column.
fn mask_snippet(d: &mut Diagnostic, found: &[&str]) {
    let Some(line) = d.source_line.as_deref() else {
        return;
    };
    let mut spans: Vec<Range<usize>> = pattern_spans(line).into_iter().map(|(_, r)| r).collect();
    for f in found {
        let f = f.trim();
        if f.is_empty() {
            continue;
        }
        spans.extend(line.match_indices(f).map(|(at, m)| at..at + m.len()));
        // The longest end of the line that starts a word and that `f` starts with.
        let cut = line.char_indices().map(|(i, _)| i).find(|&i| {
            let tail = &line[i..];
            tail.len() < f.len()
                && f.starts_with(tail)
                && line[..i]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric())
        });
        spans.extend(cut.map(|at| at..line.len()));
    }
    if spans.is_empty() {
        return;
    }
    spans.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(spans.len());
    for r in spans {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    let mut masked = String::with_capacity(line.len());
    let mut at = 0;
    for r in merged {
        masked.push_str(&line[at..r.start]);
        masked.push_str(&mask_piece(&line[r.clone()]));
        at = r.end;
    }
    masked.push_str(&line[at..]);
    d.source_line = Some(masked);
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// (rule index, byte offset) of every identifier found as a whole word in
/// normalised text. Overlapping, so that a shorter identifier matching inside a
/// word cannot hide a longer one starting at the same place.
fn whole_word_matches<'a>(
    ac: &'a AhoCorasick,
    norm: &'a str,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    ac.find_overlapping_iter(norm).filter_map(move |m| {
        let before_ok = norm[..m.start()]
            .chars()
            .next_back()
            .is_none_or(|c| !is_word_char(c));
        let after_ok = norm[m.end()..]
            .chars()
            .next()
            .is_none_or(|c| !is_word_char(c));
        (before_ok && after_ok).then(|| (m.pattern().as_usize(), m.start()))
    })
}

/// A place to report a finding in a published text.
#[derive(Clone, Copy)]
enum Where<'a> {
    /// A quote field: reported at the field's line.
    Quote { loc: Loc, quote: &'a str },
    /// A Markdown body: reported at the line of the match.
    Doc(&'a Doc),
    /// The text a Markdown body renders to, with the body offset of each of its bytes.
    DocText(&'a Doc, &'a [usize]),
    /// A front-matter or study.yaml field: reported at the first line holding the text.
    Field(Loc),
}

struct Guard<'a> {
    study: &'a Study,
    identifiers: Option<AhoCorasick>,
}

impl Guard<'_> {
    fn loc_in(&self, place: Where<'_>, text: &str, offset: usize) -> Loc {
        match place {
            Where::Quote { loc, .. } => loc,
            Where::Doc(doc) => {
                let before = &text[..offset.min(text.len())];
                Loc {
                    file: doc.file,
                    pos: Position::line(doc.body_line + before.matches('\n').count() as u32),
                }
            }
            Where::DocText(doc, offsets) => {
                let at = offsets
                    .get(offset)
                    .copied()
                    .unwrap_or(0)
                    .min(doc.body.len());
                let before = doc.body.get(..at).unwrap_or("");
                Loc {
                    file: doc.file,
                    pos: Position::line(doc.body_line + before.matches('\n').count() as u32),
                }
            }
            Where::Field(loc) => {
                // The field's text is on one of the file's lines: find the one that holds its start.
                let src = &self.study.sources.get(loc.file).text;
                let needle: String = text[offset..].chars().take(12).collect();
                let line = src
                    .lines()
                    .position(|l| l.contains(needle.trim()))
                    .map_or(loc.pos.line, |i| i as u32 + 1);
                Loc {
                    file: loc.file,
                    pos: Position::line(line),
                }
            }
        }
    }

    fn identifiers_in(&self, out: &mut Vec<Diagnostic>, place: Where<'_>, text: &str) {
        let Some(ac) = &self.identifiers else { return };
        let (norm, offsets) = normalise(text);
        let mut found = Vec::new();
        for (rule, start) in whole_word_matches(ac, &norm) {
            found.push((rule, offsets.get(start).copied().unwrap_or(0)));
        }
        for (rule, offset) in found {
            let loc = self.loc_in(place, text, offset);
            out.push(self.identifier_diagnostic(place, loc, rule));
        }
    }

    /// The error for denylisted identifier number `rule` found at `loc`.
    fn identifier_diagnostic(&self, place: Where<'_>, loc: Loc, rule: usize) -> Diagnostic {
        let (identifier, rule_loc) = &self.study.privacy.identifiers[rule];
        let rule_at = self.study.sources.get(rule_loc.file).rel.clone();
        let what = match place {
            Where::Quote { quote, .. } => format!("quote `{quote}` contains"),
            _ => "published text contains".to_string(),
        };
        let mut d = self
            .study
            .sources
            .error(
                loc,
                format!(
                    "{what} denylisted identifier #{} ({}) from {rule_at}:{}",
                    rule + 1,
                    mask(identifier),
                    rule_loc.pos.line
                ),
            )
            .with_hint("remove it or replace it with a neutral description, such as [my peer supporter] or [the clinic]");
        // The snippet would print the identifier back: keep only the location.
        d.source_line = None;
        d
    }

    /// The errors for the identifiers a scan found in `field` of quote `q`.
    fn quote_identifiers(
        &self,
        out: &mut Vec<Diagnostic>,
        q: &Quote,
        scan: &QuoteScan,
        field: Field,
    ) {
        let loc = if field == Field::Text {
            q.text_loc
        } else {
            q.loc
        };
        let place = Where::Quote { loc, quote: &q.id };
        for &(_, rule) in scan.identifiers.iter().filter(|(f, _)| *f == field) {
            out.push(self.identifier_diagnostic(place, loc, rule));
        }
    }

    /// The warnings for the patterns a scan found in `field` of quote `q` (and, in
    /// its text, for the words of `names`), less what privacy.yaml allows for it.
    fn quote_patterns(
        &self,
        out: &mut Vec<Diagnostic>,
        q: &Quote,
        scan: &QuoteScan,
        field: Field,
        names: &HashSet<String>,
    ) {
        let quote = q.id.as_str();
        let allowed: &[String] = self
            .study
            .privacy
            .allow
            .get(quote)
            .map(|(v, _)| v.as_slice())
            .unwrap_or(&[]);
        let mut hits: Vec<(&str, &str)> = Vec::new();
        for (_, check, found) in scan.patterns.iter().filter(|(f, ..)| *f == field) {
            if !allowed.iter().any(|a| a == check) {
                hits.push((check, found));
            }
        }
        if field == Field::Text && self.study.privacy.names && !allowed.iter().any(|a| a == "names")
        {
            for w in &scan.capitalised {
                if names.contains(w) {
                    hits.push(("names", w));
                }
            }
        }
        let (loc, field) = match field {
            Field::Text => (q.text_loc, "text"),
            Field::Original => (q.loc, "original"),
            _ => (q.loc, "context"),
        };
        for (check, found) in hits {
            let what = match check {
                "email" => "an e-mail address",
                "phone" => "a phone number",
                "url" => "a web address",
                "date" => "a full date",
                "digits" => "a long number (an ID?)",
                _ => "a name found in no other quote",
            };
            out.push(
                self.study
                    .sources
                    .warning(loc, format!("quote `{quote}` {field} contains {what}: {}", mask(found)))
                    .with_hint(format!(
                        "remove or anonymise it; if it is safe to publish, add `{quote}: [{check}]` under `allow:` in content/privacy.yaml"
                    )),
            );
        }
    }

    /// Every finding of a scan of quote `q` but those in its id, in the order the
    /// fields are shown.
    fn quote_diagnostics(
        &self,
        q: &Quote,
        scan: &QuoteScan,
        names: &HashSet<String>,
    ) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        if scan.is_empty() {
            return out;
        }
        let empty = HashSet::new();
        self.quote_identifiers(&mut out, q, scan, Field::Text);
        // The participant code is published with every quote.
        self.quote_identifiers(&mut out, q, scan, Field::Participant);
        self.quote_patterns(&mut out, q, scan, Field::Text, names);
        for field in [Field::Original, Field::Context] {
            self.quote_identifiers(&mut out, q, scan, field);
            self.quote_patterns(&mut out, q, scan, field, &empty);
        }
        // Whatever a snippet shows of the quote, allowed or not, is masked.
        let found: Vec<&str> = scan
            .patterns
            .iter()
            .map(|(_, _, found)| found.as_str())
            .chain(
                scan.capitalised
                    .iter()
                    .filter(|w| names.contains(*w))
                    .map(String::as_str),
            )
            .collect();
        for d in &mut out {
            mask_snippet(d, &found);
        }
        out
    }
}

/// The published fields of a quote that the guard reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Text,
    Participant,
    Original,
    Context,
    /// The id, published in addresses and anchors (hyphens read as spaces).
    Id,
}

/// What the guard finds in one quote's own fields. It depends on nothing else but
/// the denylist and whether names are checked, so a [`Cache`] keeps it for the
/// quotes of files that did not change. The diagnostics are made from it on
/// every run, with what privacy.yaml allows and the rules' places as they are now.
#[derive(Debug, Default)]
struct QuoteScan {
    /// Denylisted identifiers: (field, rule index), in the order found.
    identifiers: Vec<(Field, usize)>,
    /// Patterns in the text, original and context: (field, check, what matched).
    patterns: Vec<(Field, &'static str, String)>,
    /// The text's capitalised words that do not start a sentence, in order
    /// (only when names are checked).
    capitalised: Vec<String>,
}

impl QuoteScan {
    /// Scans quote `q` with the identifier matcher `ac` (none: no denylist).
    fn new(q: &Quote, ac: Option<&AhoCorasick>, names: bool) -> Self {
        let mut scan = QuoteScan::default();
        let original = q.original.as_ref().map(|o| o.text.as_str());
        let id = q.id.replace('-', " ");
        if let Some(ac) = ac {
            let fields = [
                (Field::Text, Some(q.text.as_str())),
                (Field::Participant, Some(q.participant.as_str())),
                (Field::Original, original),
                (Field::Context, q.context.as_deref()),
                (Field::Id, Some(id.as_str())),
            ];
            for (field, text) in fields {
                let Some(text) = text else { continue };
                let norm = normalise(text).0;
                scan.identifiers
                    .extend(whole_word_matches(ac, &norm).map(|(rule, _)| (field, rule)));
            }
        }
        let fields = [
            (Field::Text, Some(q.text.as_str())),
            (Field::Original, original),
            (Field::Context, q.context.as_deref()),
        ];
        for (field, text) in fields {
            let Some(text) = text else { continue };
            scan.patterns.extend(
                find_patterns(text)
                    .into_iter()
                    .map(|(check, found)| (field, check, found)),
            );
        }
        if names {
            scan.capitalised = capitalised_words(&q.text);
        }
        scan
    }

    fn is_empty(&self) -> bool {
        self.identifiers.is_empty() && self.patterns.is_empty() && self.capitalised.is_empty()
    }
}

/// The guard's findings in each quote, kept between the runs of a `serve`
/// session, so that an edit scans only the quotes of the files it changed.
#[derive(Default)]
pub struct Cache {
    /// What the scans were made with: the normalised identifiers and whether
    /// names are checked. A change of either scans every quote again.
    policy: Option<(Vec<String>, bool)>,
    /// By quote file (indexed by its `FileId`): the scans of its quotes.
    files: Vec<Option<FileScans>>,
}

/// The scans of the quotes of one file.
struct FileScans {
    /// The text they were made from.
    text: Arc<str>,
    /// By where the quote starts, sorted: its scan, `None` when it found nothing
    /// (most quotes), which keeps the cache small.
    quotes: Vec<(Position, Option<Box<QuoteScan>>)>,
}

/// A quote's scan: from the cache (`None`: it found nothing), or made in this run.
enum Scanned<'a> {
    Kept(Option<&'a QuoteScan>),
    New(Box<QuoteScan>),
}

impl Scanned<'_> {
    fn get(&self) -> &QuoteScan {
        static NOTHING: QuoteScan = QuoteScan {
            identifiers: Vec::new(),
            patterns: Vec::new(),
            capitalised: Vec::new(),
        };
        match self {
            Scanned::Kept(s) => s.unwrap_or(&NOTHING),
            Scanned::New(s) => s,
        }
    }
}

impl Cache {
    /// Forgets what no longer holds: everything when the policy changed, and the
    /// scans of every file whose text changed. A quote is made from its file's
    /// text alone (defaults included), so in a file of the same text the quote
    /// starting at the same place has the same fields.
    fn keep_valid(&mut self, study: &Study, policy: (Vec<String>, bool)) {
        if self.policy.as_ref() != Some(&policy) {
            self.files.clear();
            self.policy = Some(policy);
        }
        for (id, slot) in self.files.iter_mut().enumerate() {
            let Some(f) = slot else { continue };
            let now = &study.sources.get(FileId(id as u32)).text;
            if !(Arc::ptr_eq(&f.text, now) || *f.text == **now) {
                *slot = None;
            }
        }
    }

    /// The scan of `q` kept from an earlier run, if there is one.
    fn kept(&self, q: &Quote) -> Option<Option<&QuoteScan>> {
        let file = self.files.get(q.loc.file.0 as usize)?.as_ref()?;
        let at = file
            .quotes
            .binary_search_by_key(&q.loc.pos, |(pos, _)| *pos)
            .ok()?;
        Some(file.quotes[at].1.as_deref())
    }

    /// Keeps the scans made in this run (see [`made_now`]).
    fn store(&mut self, study: &Study, fresh: Vec<(Loc, Box<QuoteScan>)>) {
        for (loc, scan) in fresh {
            let i = loc.file.0 as usize;
            if self.files.len() <= i {
                self.files.resize_with(i + 1, || None);
            }
            let file = self.files[i].get_or_insert_with(|| FileScans {
                text: study.sources.get(loc.file).text.clone(),
                quotes: Vec::new(),
            });
            let scan = (!scan.is_empty()).then_some(scan);
            match file.quotes.binary_search_by_key(&loc.pos, |(pos, _)| *pos) {
                Ok(at) => file.quotes[at].1 = scan,
                Err(at) => file.quotes.insert(at, (loc.pos, scan)),
            }
        }
    }
}

/// The scans of `scanned` (one per quote of `study`) made in this run, by the
/// place of their quote.
fn made_now(study: &Study, scanned: Vec<Scanned<'_>>) -> Vec<(Loc, Box<QuoteScan>)> {
    scanned
        .into_iter()
        .zip(&study.quotes)
        .filter_map(|(s, q)| match s {
            Scanned::New(scan) => Some((q.loc, scan)),
            Scanned::Kept(_) => None,
        })
        .collect()
}

/// Finds the patterns that often identify someone: (check name, matched text).
pub fn find_patterns(text: &str) -> Vec<(&'static str, String)> {
    pattern_spans(text)
        .into_iter()
        .map(|(check, span)| (check, text[span].to_string()))
        .collect()
}

/// Like [`find_patterns`], with where each match is in `text` (a byte range).
fn pattern_spans(text: &str) -> Vec<(&'static str, Range<usize>)> {
    let mut out = Vec::new();
    if !may_hold_pattern(text) {
        return out;
    }
    // Each whitespace-separated token, by its byte range.
    let mut tokens: Vec<Range<usize>> = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                tokens.push(s..i);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        tokens.push(s..text.len());
    }
    // The part of a token left when `trim` is taken off both ends.
    let trimmed = |r: &Range<usize>, trim: &dyn Fn(char) -> bool| {
        let t = &text[r.clone()];
        let inner = t.trim_start_matches(trim);
        let from = r.start + (t.len() - inner.len());
        from..from + inner.trim_end_matches(trim).len()
    };
    for r in &tokens {
        let span = trimmed(r, &|c| {
            matches!(
                c,
                '.' | ',' | ';' | ':' | '!' | '?' | '(' | ')' | '"' | '\'' | '<' | '>'
            )
        });
        let t = &text[span.clone()];
        let lower = t.to_lowercase();
        if let Some((user, domain)) = t.split_once('@') {
            if !user.is_empty() && domain.contains('.') && !domain.ends_with('.') {
                out.push(("email", span));
                continue;
            }
        }
        if lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with("www.")
        {
            out.push(("url", span));
            continue;
        }
        if is_numeric_date(t) {
            out.push(("date", span));
        }
    }
    // Month-name dates: "12 March 1985", "March 12, 1985".
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let word_spans: Vec<Range<usize>> = tokens
        .iter()
        .map(|r| trimmed(r, &|c| !c.is_alphanumeric()))
        .collect();
    let words: Vec<String> = word_spans
        .iter()
        .map(|r| text[r.clone()].to_lowercase())
        .collect();
    for i in 0..words.len() {
        if !MONTHS.contains(&words[i].as_str()) {
            continue;
        }
        let is_day =
            |w: &str| w.len() <= 2 && w.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d));
        let is_year =
            |w: &str| w.len() == 4 && w.parse::<u32>().is_ok_and(|y| (1900..=2100).contains(&y));
        let before = i.checked_sub(1).map(|j| words[j].as_str()).unwrap_or("");
        let next = words.get(i + 1).map(String::as_str).unwrap_or("");
        let after = words.get(i + 2).map(String::as_str).unwrap_or("");
        // From the day's first character to the year's last: "12 March 1985".
        if is_day(before) && is_year(next) {
            out.push(("date", word_spans[i - 1].start..word_spans[i + 1].end));
        } else if is_day(next) && is_year(after) {
            out.push(("date", word_spans[i].start..word_spans[i + 2].end));
        }
    }
    // Digit runs: a phone number (8+ digits with separators) or an ID (6+ digits in a row).
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte_at = |i: usize| chars.get(i).map_or(text.len(), |&(b, _)| b);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        if c.is_ascii_digit()
            || (c == '+' && chars.get(i + 1).is_some_and(|(_, c)| c.is_ascii_digit()))
        {
            let start = i;
            let mut digits = 0;
            let mut longest_run = 0;
            let mut run = 0;
            let mut j = i;
            while j < chars.len()
                && (chars[j].1.is_ascii_digit()
                    || matches!(chars[j].1, ' ' | '-' | '(' | ')' | '+' | '.' | '/'))
            {
                if chars[j].1.is_ascii_digit() {
                    digits += 1;
                    run += 1;
                    longest_run = longest_run.max(run);
                } else {
                    run = 0;
                    // A separator followed by a non-digit ends the number.
                    if !chars
                        .get(j + 1)
                        .is_some_and(|(_, c)| c.is_ascii_digit() || matches!(c, '(' | '+'))
                    {
                        break;
                    }
                }
                j += 1;
            }
            let from = byte_at(start);
            let found = text[from..byte_at(j)].trim_end();
            let span = from..from + found.len();
            if !is_numeric_date(found) {
                if digits >= 8 && found.chars().any(|c| !c.is_ascii_digit()) {
                    out.push(("phone", span));
                } else if longest_run >= 6 {
                    out.push(("digits", span));
                }
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// False when `text` cannot hold any of [`find_patterns`]' patterns, each of
/// which needs a digit, an `@` or a web address (`http`, `www.`, in any case).
/// Most quotes have none of these, and every quote is checked on every build.
fn may_hold_pattern(text: &str) -> bool {
    let bytes = text.as_bytes();
    // Branch-free within a chunk, so that the compiler can use SIMD.
    let marked = |chunk: &[u8]| {
        chunk
            .iter()
            .fold(false, |any, &b| any | b.is_ascii_digit() | (b == b'@'))
    };
    let chunks = bytes.chunks_exact(32);
    if marked(chunks.remainder()) || chunks.into_iter().any(marked) {
        return true;
    }
    let ends_with = |end: usize, word: &[u8]| {
        end + 1 >= word.len() && bytes[end + 1 - word.len()..=end].eq_ignore_ascii_case(word)
    };
    memchr::memchr2_iter(b'p', b'P', bytes).any(|p| ends_with(p, b"http"))
        || memchr::memchr_iter(b'.', bytes).any(|d| ends_with(d, b"www."))
}

/// `1985-03-12`, `12/03/1985`, `12.03.1985`, `12-03-1985`.
fn is_numeric_date(t: &str) -> bool {
    let parts: Vec<&str> = t.split(['-', '/', '.']).collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    let n: Vec<u32> = parts.iter().map(|p| p.parse().unwrap_or(0)).collect();
    let year_first = parts[0].len() == 4 && (1..=12).contains(&n[1]) && (1..=31).contains(&n[2]);
    let year_last = parts[2].len() == 4 && (1..=31).contains(&n[0]) && (1..=31).contains(&n[1]);
    year_first || year_last
}

/// Capitalised words that do not start a sentence (the candidates for names).
fn capitalised_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut sentence_start = true;
    for raw in text.split_whitespace() {
        let w: String = raw.trim_matches(|c: char| !c.is_alphanumeric()).to_string();
        let starts_upper = w.chars().next().is_some_and(char::is_uppercase);
        if starts_upper
            && !sentence_start
            && w.chars().count() > 1
            && w.chars().skip(1).all(char::is_lowercase)
        {
            out.push(w);
        }
        sentence_start = raw.ends_with(['.', '!', '?', ':']) || raw.ends_with(".\"");
    }
    out
}

/// A matcher for the denylisted identifiers, for scrubbing messages.
pub struct Scrubber {
    matcher: Option<AhoCorasick>,
}

impl Scrubber {
    /// A scrubber for the study's identifiers.
    pub fn new(study: &Study) -> Self {
        Scrubber {
            matcher: identifier_matcher(study),
        }
    }

    /// True when `text` contains a denylisted identifier as a whole word.
    pub fn contains_identifier(&self, text: &str) -> bool {
        let Some(ac) = &self.matcher else {
            return false;
        };
        let (norm, _) = normalise(text);
        whole_word_matches(ac, &norm).next().is_some()
    }

    /// Removes identifiers from a diagnostic before it is printed anywhere: CI logs
    /// are shared. The source snippet goes; a message or hint quoting one is withheld.
    pub fn scrub(&self, d: &mut Diagnostic) {
        scrub_policy_file(d);
        if self.matcher.is_none() {
            return;
        }
        if d.source_line
            .as_deref()
            .is_some_and(|l| self.contains_identifier(l))
        {
            d.source_line = None;
        }
        if self.contains_identifier(&d.message) {
            d.message =
                "(message withheld: it quotes a denylisted identifier; see the file at this line)"
                    .into();
        }
        if d.hint
            .as_deref()
            .is_some_and(|h| self.contains_identifier(h))
        {
            d.hint = None;
        }
    }
}

/// A message about the privacy file never shows its lines: they are the secrets.
pub fn scrub_policy_file(d: &mut Diagnostic) {
    if d.file.ends_with("content/privacy.yaml") || d.file.ends_with("content/privacy.yml") {
        d.source_line = None;
    }
}

/// The denylisted identifiers as the matcher looks for them, by rule number.
fn identifier_patterns(study: &Study) -> Vec<String> {
    study
        .privacy
        .identifiers
        .iter()
        .map(|(s, _)| {
            let n = normalise(s).0.trim().to_string();
            // Keep rule numbers aligned; an empty identifier (an error of its own) matches nothing.
            if n.is_empty() {
                "\u{0}\u{0}".to_string()
            } else {
                n
            }
        })
        .collect()
}

/// A matcher for `patterns` (see [`identifier_patterns`]); none when there are none.
fn matcher_for(patterns: &[String]) -> Option<AhoCorasick> {
    if patterns.is_empty() {
        return None;
    }
    AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .build(patterns)
        .ok()
}

fn identifier_matcher(study: &Study) -> Option<AhoCorasick> {
    matcher_for(&identifier_patterns(study))
}

/// Runs every check on the published study.
pub fn check(study: &Study) -> (Vec<Diagnostic>, Report) {
    check_cached(study, &mut Cache::default())
}

/// Like [`check`], scanning again only the quotes that `cache` holds no scan for.
pub fn check_cached(study: &Study, cache: &mut Cache) -> (Vec<Diagnostic>, Report) {
    let p = &study.privacy;
    let patterns = identifier_patterns(study);
    let identifiers = matcher_for(&patterns);
    cache.keep_valid(study, (patterns, p.names));
    let g = Guard { study, identifiers };
    let mut diags: Vec<Diagnostic> = Vec::new();

    // Quotes are most of the text: scan those the cache lacks, in parallel.
    let t = std::time::Instant::now();
    let scanned: Vec<Scanned<'_>> = study
        .quotes
        .par_iter()
        .map(|q| match cache.kept(q) {
            Some(scan) => Scanned::Kept(scan),
            None => Scanned::New(Box::new(QuoteScan::new(q, g.identifiers.as_ref(), p.names))),
        })
        .collect();

    // Names: capitalised words in exactly one quote, and not in the study's own vocabulary.
    let mut name_quotes: HashMap<&str, usize> = HashMap::new();
    if p.names {
        for s in &scanned {
            let words: HashSet<&str> = s.get().capitalised.iter().map(String::as_str).collect();
            for w in words {
                *name_quotes.entry(w).or_default() += 1;
            }
        }
        let vocabulary: HashSet<String> = study
            .themes
            .iter()
            .map(|t| &t.common.title)
            .chain(study.sites.iter().map(|s| &s.common.title))
            .chain(study.sites.iter().filter_map(|s| s.country.as_ref()))
            .chain(study.groups.iter().map(|g| &g.common.title))
            .flat_map(|t| t.split(|c: char| !c.is_alphanumeric()).map(str::to_string))
            .collect();
        name_quotes.retain(|w, n| *n == 1 && !vocabulary.contains(*w));
    }
    let single_names: HashSet<String> = name_quotes.into_keys().map(str::to_string).collect();

    crate::pipeline::timing("privacy: scan", t);
    let t = std::time::Instant::now();
    // Keeping study order.
    let per_quote: Vec<Vec<Diagnostic>> = study
        .quotes
        .par_iter()
        .zip(&scanned)
        .map(|(q, s)| g.quote_diagnostics(q, s.get(), &single_names))
        .collect();
    diags.extend(per_quote.into_iter().flatten());
    crate::pipeline::timing("privacy: quote diagnostics", t);
    if g.identifiers.is_some() {
        // Markdown bodies and every front-matter field that is shown.
        let mut docs: Vec<(&Doc, Vec<&str>)> = Vec::new();
        if let Some(h) = &study.home {
            docs.push((&h.doc, h.title.iter().map(String::as_str).collect()));
        }
        for t in &study.themes {
            docs.push((&t.common.doc, fields(&t.common)));
        }
        for s in &study.sites {
            let mut f = fields(&s.common);
            f.extend(s.country.as_deref());
            docs.push((&s.common.doc, f));
        }
        for x in &study.groups {
            docs.push((&x.common.doc, fields(&x.common)));
        }
        for x in &study.findings {
            docs.push((&x.common.doc, fields(&x.common)));
        }
        for (doc, front) in docs {
            // The source (links, raw HTML) and the text readers see (formatting removed).
            g.identifiers_in(&mut diags, Where::Doc(doc), &doc.body);
            let (shown, offsets) = crate::render::markdown::plain_text(&doc.body);
            g.identifiers_in(&mut diags, Where::DocText(doc, &offsets), &shown);
            let loc = Loc {
                file: doc.file,
                pos: Position::line(1),
            };
            for text in front {
                g.identifiers_in(&mut diags, Where::Field(loc), text);
            }
        }
        // Ids are published too: in addresses, anchors and data attributes.
        let ids = study
            .themes
            .iter()
            .map(|t| &t.common)
            .chain(study.sites.iter().map(|s| &s.common))
            .chain(study.groups.iter().map(|g| &g.common))
            .chain(study.findings.iter().map(|f| &f.common));
        for c in ids {
            let loc = Loc {
                file: c.doc.file,
                pos: Position::line(1),
            };
            g.identifiers_in(&mut diags, Where::Field(loc), &c.id.replace('-', " "));
        }
        for (q, s) in study.quotes.iter().zip(&scanned) {
            g.quote_identifiers(&mut diags, q, s.get(), Field::Id);
        }
        if let Some(file) = study.study_file {
            let m = &study.meta;
            let texts = [
                &Some(m.title.clone()),
                &m.subtitle,
                &m.description,
                &m.notice,
            ];
            let authors = m
                .authors
                .iter()
                .flat_map(|a| std::iter::once(&a.name).chain(a.affiliation.iter()));
            for t in texts.into_iter().flatten().chain(authors) {
                g.identifiers_in(
                    &mut diags,
                    Where::Field(Loc {
                        file,
                        pos: Position::line(1),
                    }),
                    t,
                );
            }
        }
    }

    let fresh = made_now(study, scanned);
    cache.store(study, fresh);

    let t = std::time::Instant::now();
    let small = small_cells(study);
    crate::pipeline::timing("privacy: small cells", t);
    if let (Some(k), Some(loc)) = (p.min_cell_participants, p.small_cells_loc) {
        if small > 0 {
            let message = format!(
                "{} of fewer than {k} participants would be published (theme-by-site matrix, site-by-group tables, site and group totals)",
                crate::pipeline::plural(small, "participant count")
            );
            match p.small_cells {
                SmallCells::Warn => diags.push(
                    study
                        .sources
                        .warning(loc, message)
                        .with_hint("set `small_cells: suppress` to publish them as \"<k\", or `error` to stop the build"),
                ),
                SmallCells::Error => diags.push(
                    study
                        .sources
                        .error(loc, message)
                        .with_hint("set `small_cells: suppress` to publish them as \"<k\""),
                ),
                SmallCells::Suppress => {}
            }
        }
    }

    let t = std::time::Instant::now();
    profile_pages(study, &mut diags);
    crate::pipeline::timing("privacy: profile pages", t);

    let mut report = Report {
        policy_file: p.file.map(|f| study.sources.get(f).rel.clone()),
        small_cells: if p.min_cell_participants.is_some() {
            small
        } else {
            0
        },
        withheld_quotes: study.withdrawn_quotes,
        withdrawn_participants: p.withdrawn.len(),
        ..Report::default()
    };
    report
        .rules
        .push(format!("denylisted identifiers: {}", p.identifiers.len()));
    report.rules.push(format!(
        "patterns in quotes: email, phone, url, date, digits{}",
        if p.names { ", names" } else { " (names: off)" }
    ));
    report.rules.push(match p.min_cell_participants {
        Some(k) => format!(
            "participant counts below {k}: {}",
            match p.small_cells {
                SmallCells::Warn => "warn",
                SmallCells::Error => "error",
                SmallCells::Suppress => "suppress (published as \"<k\")",
            }
        ),
        None => "participant counts: no threshold (set min_cell_participants)".into(),
    });
    report
        .rules
        .push(format!("withdrawn participants: {}", p.withdrawn.len()));
    // The source and the rendered text of a Markdown body can report the same finding.
    diags.sort_by(|a, b| (&a.file, a.position, &a.message).cmp(&(&b.file, b.position, &b.message)));
    diags.dedup();
    for d in &diags {
        *report.findings.entry(d.file.clone()).or_default() += 1;
    }
    (diags, report)
}

fn fields(c: &crate::model::Common) -> Vec<&str> {
    let mut v = vec![c.title.as_str()];
    v.extend(c.summary.as_deref());
    v
}

/// No page may list every quote of one participant and nobody else's: such a page
/// is a profile of that person, keyed by their code.
fn profile_pages(study: &Study, diags: &mut Vec<Diagnostic>) {
    let mut totals: HashMap<u32, usize> = HashMap::new();
    for q in &study.quotes {
        *totals.entry(q.participant_key).or_default() += 1;
    }
    let ix = &study.index;
    let mut lists: Vec<(String, &[usize])> = Vec::new();
    for (t, theme) in study.themes.iter().enumerate() {
        lists.push((format!("themes/{}/", theme.common.id), &ix.theme_quotes[t]));
        for (s, site) in study.sites.iter().enumerate() {
            lists.push((
                format!("themes/{}/{}/", theme.common.id, site.common.id),
                &ix.theme_site_quotes[t][s],
            ));
        }
    }
    for (s, site) in study.sites.iter().enumerate() {
        lists.push((format!("sites/{}/", site.common.id), &ix.site_quotes[s]));
    }
    for (g, group) in study.groups.iter().enumerate() {
        lists.push((format!("groups/{}/", group.common.id), &ix.group_quotes[g]));
    }
    let mut by_participant: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (page, list) in lists {
        let Some(&first) = list.first() else { continue };
        let key = study.quotes[first].participant_key;
        if list.len() >= 2
            && list.iter().all(|&q| study.quotes[q].participant_key == key)
            && totals.get(&key) == Some(&list.len())
        {
            by_participant.entry(first).or_default().push(page);
        }
    }
    for (first, pages) in by_participant {
        let q = &study.quotes[first];
        let mut d = study
                .sources
                .error(
                    q.loc,
                    format!(
                        "{} would list every quote of participant `{}` and nobody else's: {}",
                        crate::pipeline::plural(pages.len(), "page"),
                        q.participant,
                        pages.join(", ")
                    ),
                )
                .with_hint("tag one of these quotes with another theme as well, or leave one out as a draft, so that no page becomes a profile of one person");
        mask_snippet(&mut d, &[]);
        diags.push(d);
    }
}

/// Published participant counts from 1 to k-1.
fn small_cells(study: &Study) -> usize {
    let Some(k) = study.privacy.min_cell_participants else {
        return 0;
    };
    let small = |c: Count| c.participants > 0 && (c.participants as u32) < k;
    let mut n = 0;
    for t in 0..study.themes.len() {
        n += (0..study.sites.len())
            .filter(|&s| small(study.count(&study.index.theme_site_quotes[t][s])))
            .count();
        // Site-by-group cells of the theme's page.
        let mut cells: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
        for &q in &study.index.theme_quotes[t] {
            let quote = &study.quotes[q];
            cells.entry((quote.site, quote.group)).or_default().push(q);
        }
        n += cells.values().filter(|qs| small(study.count(qs))).count();
    }
    n += study
        .index
        .site_quotes
        .iter()
        .filter(|qs| small(study.count(qs)))
        .count();
    n += study
        .index
        .group_quotes
        .iter()
        .filter(|qs| small(study.count(qs)))
        .count();
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checks(text: &str) -> Vec<&'static str> {
        find_patterns(text).into_iter().map(|(c, _)| c).collect()
    }

    #[test]
    fn quick_check_lets_through_every_text_a_pattern_could_be_in() {
        // What the quick check stands for, written plainly.
        let plain = |text: &str| {
            let has = |needle: &str| {
                text.as_bytes()
                    .windows(needle.len())
                    .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
            };
            text.bytes().any(|b| b.is_ascii_digit() || b == b'@') || has("http") || has("www.")
        };
        let long = "a quiet sentence with no marks at all, ".repeat(3);
        let mut texts: Vec<String> = [
            "",
            "h",
            "http",
            "HTTP",
            "hTtP",
            "htt",
            "ttp",
            "www",
            "www.",
            "WwW.",
            "ww.",
            "w.w.",
            "p",
            "P",
            ".",
            "@",
            "0",
            "9",
            "ünïcödé wörds",
            "שלום",
            "a\u{1}b",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Each mark at every place in a text longer than one SIMD chunk.
        for mark in ["http", "HTTP", "www.", "WWW.", "@", "7"] {
            for at in 0..=long.len() {
                if long.is_char_boundary(at) {
                    texts.push(format!("{}{mark}{}", &long[..at], &long[at..]));
                }
            }
        }
        texts.push(long.clone());
        texts.push(format!("{long}htt p ww w. ttp"));
        for text in &texts {
            assert_eq!(may_hold_pattern(text), plain(text), "{text:?}");
        }
    }

    #[test]
    fn finds_identifying_patterns() {
        assert_eq!(checks("write to mary.n@example.org please"), vec!["email"]);
        assert_eq!(checks("see https://example.org/x"), vec!["url"]);
        assert_eq!(checks("call +256 772 123 456 now"), vec!["phone"]);
        assert_eq!(checks("born 1985-03-12 in"), vec!["date"]);
        assert_eq!(checks("born on 12 March 1985, she"), vec!["date"]);
        assert_eq!(checks("my number was 4471023 at the ward"), vec!["digits"]);
        assert!(checks("I was 24 and had 3 children in 2019").is_empty());
    }

    #[test]
    fn pattern_spans_cover_the_match_and_nothing_else() {
        let found = |text: &str| {
            find_patterns(text)
                .into_iter()
                .map(|(_, f)| f)
                .collect::<Vec<_>>()
        };
        assert_eq!(found("born 12 March 1985, in Gulu"), vec!["12 March 1985"]);
        assert_eq!(found("born on March 12, 1985."), vec!["March 12, 1985"]);
        assert_eq!(found("(call 0772 123 456)."), vec!["0772 123 456"]);
        assert_eq!(found("é jo@example.org, ü"), vec!["jo@example.org"]);
    }

    #[test]
    fn snippets_are_masked_keeping_their_length() {
        let snippet = |line: &str, found: &[&str]| {
            let mut d = Diagnostic::warning("q.yaml", Position::at(1, 5), "m");
            d.source_line = Some(line.to_string());
            mask_snippet(&mut d, found);
            d.source_line.unwrap()
        };
        assert_eq!(
            snippet(
                "    text: I called 0772 123 456 and wrote to jo@example.org.",
                &[]
            ),
            "    text: I called 0**********6 and wrote to j************g."
        );
        // A match the end of the line cuts off, and a name, from what the quote holds.
        assert_eq!(
            snippet(
                "  text: Okello is on +256 772",
                &["+256 772 998 877", "Okello"]
            ),
            "  text: O****o is on +******2"
        );
        assert_eq!(
            snippet("    text: >-", &["+256 772 998 877"]),
            "    text: >-"
        );
        assert_eq!(mask_piece("ünï"), "ü*ï");
    }

    #[test]
    fn normalises_case_width_and_line_breaks() {
        let (n, offsets) = normalise("Mary\n  NAKATO said");
        assert_eq!(n, "mary nakato said");
        assert_eq!(offsets[5], 7);
        assert_eq!(normalise("ＭＡＲＹ").0, "mary");
    }

    #[test]
    fn masks() {
        assert_eq!(mask("Mary Nakato"), "M*********o");
        assert_eq!(mask("Al"), "**");
    }

    #[test]
    fn names_skip_sentence_starts() {
        assert_eq!(
            capitalised_words("Then I met Okello. Later we talked."),
            vec!["Okello"]
        );
    }
}
