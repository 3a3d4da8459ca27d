//! The search index, built at build time from the published study and written as
//! small script files under `search/`, which the search page loads with `<script>`
//! elements. Scripts load from `file://` where `fetch` is refused, so the site
//! searches from disk as well as from any static host or sub-path.
//!
//! Files, each a call to a function of `window.thematicSearch` (static/search.js):
//! - `search/meta.js`: document count, shard keys, the sites, groups and themes to
//!   narrow by. Loaded first; small.
//! - `search/t/KEY.js`: the terms whose shard is KEY, with their posting lists.
//!   Terms are sharded by prefix: one character, and longer where a shard would be
//!   larger than [`SHARD_BUDGET`], so a one-word search loads one shard, however
//!   large the study.
//! - `search/d/N.js`: documents (quotes and pages) N*k..(N+1)*k, with the text the
//!   result snippets are cut from. Only the chunks of shown results are loaded.
//! - `search/f/NAME.js`: posting lists of `site-I`, `group-I` and `theme-I` (a
//!   theme with its subthemes), loaded when a search is narrowed.
//!
//! Built from the same [`Study`] as the pages: drafts are in it only when the
//! build shows drafts, withdrawn participants never.

mod encode;
pub mod text;

use std::borrow::Cow;
use std::fmt::Write;
use std::ops::Range;
use std::sync::atomic::{AtomicU32, Ordering};

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use serde_json::json;

use crate::json::{json_string, script_json_string};
use crate::model::Study;
use crate::render::OutputFile;
use crate::render::markdown::{plain_text, remove_comments};
use crate::render::urls;

/// A shard larger than this (bytes of encoded postings) is split by a longer prefix.
const SHARD_BUDGET: usize = 24 * 1024;
/// Initial shard prefix length, in characters: small studies get few files.
const PREFIX: usize = 1;
/// Target size of a document chunk, in bytes of text.
const CHUNK_BUDGET: usize = 12 * 1024;
/// Longest page text kept for snippets; the whole text is indexed.
const PAGE_TEXT: usize = 1500;

/// The index of the last build, kept so that a rebuild whose searchable text did
/// not change (most edits in `serve`) reuses it.
#[derive(Default)]
pub struct IndexCache {
    last: Option<(u64, Vec<OutputFile>)>,
}

impl IndexCache {
    /// The index files for `study`, and whether they differ from the last call's.
    /// `homes` are the quotes' links (`render::Rendered::homes`).
    pub fn files(&mut self, study: &Study, homes: &[String]) -> (Vec<OutputFile>, bool) {
        let hash = inputs_hash(study);
        if let Some((h, files)) = &self.last {
            if *h == hash {
                return (files.clone(), false);
            }
        }
        let files = index_files(study, homes);
        self.last = Some((hash, files.clone()));
        (files, true)
    }
}

/// A hash of everything the index is built from. FxHasher: it reads the study's
/// text (tens of MB in a large study) about ten times as fast as SipHash, and the
/// hash only tells one build's inputs from the last one's.
fn inputs_hash(study: &Study) -> u64 {
    use rustc_hash::FxHasher;
    use std::hash::{Hash, Hasher};
    let mut h = FxHasher::default();
    // Quote links name the page of their list that shows them.
    study.meta.page_size.hash(&mut h);
    let common = |c: &crate::model::Common, h: &mut FxHasher| {
        (&c.id, &c.title, &c.summary, &c.doc.body).hash(h);
    };
    for t in &study.themes {
        common(&t.common, &mut h);
        (t.depth, t.parent).hash(&mut h);
    }
    for c in study.findings.iter().map(|f| &f.common) {
        common(c, &mut h);
    }
    for s in &study.sites {
        common(&s.common, &mut h);
        // Sites are found by their country too.
        s.country.hash(&mut h);
    }
    for c in study.groups.iter().map(|g| &g.common) {
        common(c, &mut h);
    }
    for q in &study.quotes {
        (
            &q.id,
            &q.participant,
            q.site,
            q.group,
            &q.themes,
            &q.text,
            &q.context,
        )
            .hash(&mut h);
        if let Some(o) = &q.original {
            (&o.text, &o.lang, o.rtl).hash(&mut h);
        }
    }
    h.finish()
}

/// The search index's files.
pub fn index_files(study: &Study, homes: &[String]) -> Vec<OutputFile> {
    let t = std::time::Instant::now();
    let docs = documents(study, homes);
    crate::pipeline::timing("search: documents", t);
    let t = std::time::Instant::now();
    let postings = postings(&docs.docs);
    crate::pipeline::timing("search: postings", t);
    let t = std::time::Instant::now();
    let files = files(study, &docs, &postings);
    crate::pipeline::timing("search: shards and files", t);
    files
}

/// The index's files from its documents and terms.
#[inline(never)] // Keeps the three stages apart in profiles.
fn files(study: &Study, documents: &Documents<'_>, postings: &Postings) -> Vec<OutputFile> {
    let docs = &documents.docs;
    let lists = |range: &Range<usize>| &postings.docs[range.clone()];
    let forms: Vec<encode::Form> = postings
        .terms
        .par_iter()
        .map(|(_, docs)| encode::form(lists(docs)))
        .collect();
    let sizes: Vec<(&str, usize)> = (0..postings.terms.len())
        .map(|i| (postings.term(i), forms[i].len))
        .collect();
    let (shards, split) = shard(&sizes);
    let chunks = chunk(docs);

    let term_files = || -> Vec<OutputFile> {
        shards
            .par_iter()
            .map(|(key, range)| {
                let size: usize = sizes[range.clone()]
                    .iter()
                    .map(|(t, p)| t.len() + p + 6)
                    .sum();
                let mut out = Vec::with_capacity(size + 2 * key.len() + 32);
                out.extend_from_slice(b"thematicSearch.terms(");
                json_string(&mut out, key);
                out.extend_from_slice(b",{");
                for i in range.clone() {
                    if i > range.start {
                        out.push(b',');
                    }
                    script_json_string(&mut out, postings.term(i));
                    // An encoded list is JSON as it is: its characters need no escaping.
                    out.extend_from_slice(b":\"");
                    encode::write(lists(&postings.terms[i].1), forms[i], &mut out);
                    out.push(b'"');
                }
                out.extend_from_slice(b"});\n");
                OutputFile::new(format!("search/t/{}.js", file_key(key)), out)
            })
            .collect()
    };

    let doc_files = || -> Vec<OutputFile> {
        chunks
            .par_iter()
            .enumerate()
            .map(|(i, range)| {
                let docs = &docs[range.clone()];
                let size: usize = docs.iter().map(|d| d.stored.1.len() + 1).sum();
                let mut out = Vec::with_capacity(size + 32);
                out.extend_from_slice(format!("thematicSearch.docs({i},[").as_bytes());
                for (j, d) in docs.iter().enumerate() {
                    if j > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(documents.stored(d));
                }
                out.extend_from_slice(b"]);\n");
                OutputFile::new(format!("search/d/{i}.js"), out)
            })
            .collect()
    };

    let facet_files = || -> Vec<OutputFile> {
        facets(study, docs)
            .into_par_iter()
            .map(|(name, docs)| {
                let form = encode::form(&docs);
                let mut out = Vec::with_capacity(form.len + name.len() + 32);
                out.extend_from_slice(b"thematicSearch.facet(");
                json_string(&mut out, &name);
                out.extend_from_slice(b",\"");
                encode::write(&docs, form, &mut out);
                out.extend_from_slice(b"\");\n");
                OutputFile::new(format!("search/f/{name}.js"), out)
            })
            .collect()
    };

    let (mut files, (doc_files, facet_files)) =
        rayon::join(term_files, || rayon::join(doc_files, facet_files));
    files.extend(doc_files);
    files.extend(facet_files);

    let meta = Meta {
        version: 1,
        docs: docs.len(),
        chunks: chunks.iter().map(|r| r.end as u32).collect(),
        keys: shards.into_iter().map(|(key, _)| key).collect(),
        split,
        prefix: PREFIX,
        sites: study
            .sites
            .iter()
            .map(|s| (s.common.id.clone(), s.common.title.clone()))
            .collect(),
        groups: study
            .groups
            .iter()
            .map(|g| (g.common.id.clone(), g.common.title.clone()))
            .collect(),
        themes: study
            .themes
            .iter()
            .map(|t| (t.common.id.clone(), t.common.title.clone(), t.depth))
            .collect(),
    };
    files.push(script(
        "search/meta.js".into(),
        "meta",
        &serde_json::Value::Null,
        &serde_json::to_value(&meta).unwrap_or_default(),
    ));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// The terms of a slice of documents: each term's number in the slice, and the
/// terms of each document by number.
///
/// Most terms are short: up to 16 bytes, they are keyed by their bytes as one
/// number ([`pack`]), which hashes and compares in a few instructions and needs no
/// allocation. Longer terms are kept as text, borrowed from the document where the
/// word is its own folded form.
#[derive(Default)]
struct SliceTerms<'a> {
    /// Short terms by key, as two halves (a smaller entry than a `u128`'s), with
    /// their number and the last document they were seen in (plus one): one place
    /// in memory to look at for a word.
    short: FxHashMap<(u64, u64), (u32, u32)>,
    /// The same for terms of up to 8 bytes: a still smaller entry.
    shorter: FxHashMap<u64, (u32, u32)>,
    long: FxHashMap<Cow<'a, str>, (u32, u32)>,
    /// Number of terms.
    len: u32,
    /// Term numbers, each document's after the last's, each term once a document.
    terms: Vec<u32>,
    /// Where each document's terms end in `terms`.
    ends: Vec<u32>,
}

/// Adds a term, numbered `number` or else `len` (then counted in `len`), to
/// document `n`'s terms unless it was seen in it already.
#[inline]
fn add_term(
    entry: std::collections::hash_map::Entry<'_, impl Sized, (u32, u32)>,
    len: &mut u32,
    terms: &mut Vec<u32>,
    n: u32,
) {
    let (number, last) = entry.or_insert_with(|| {
        *len += 1;
        (*len - 1, 0)
    });
    if *last != n + 1 {
        *last = n + 1;
        terms.push(*number);
    }
}

impl<'a> SliceTerms<'a> {
    /// Adds the short term packed as `key` ([`pack`]), of document `n`.
    #[inline]
    fn add_short(&mut self, key: u128, n: u32) {
        let (lo, hi) = (key as u64, (key >> 64) as u64);
        if hi == 0 {
            add_term(self.shorter.entry(lo), &mut self.len, &mut self.terms, n);
        } else {
            add_term(
                self.short.entry((lo, hi)),
                &mut self.len,
                &mut self.terms,
                n,
            );
        }
    }

    /// Adds `term`, borrowed from document `n`.
    #[inline]
    fn add_borrowed(&mut self, term: &'a str, n: u32) {
        match pack(term.as_bytes()) {
            Some(key) => self.add_short(key, n),
            None => {
                let entry = self.long.entry(Cow::Borrowed(term));
                add_term(entry, &mut self.len, &mut self.terms, n);
            }
        }
    }

    /// Adds `term` of document `n`, allocated only if it is new and long.
    fn add(&mut self, term: &str, n: u32) {
        // Folding makes no NUL, which a packed key could not tell from its padding;
        // a term with one would be kept as text.
        let key = pack(term.as_bytes()).filter(|_| !term.contains('\0'));
        match key {
            Some(key) => self.add_short(key, n),
            None => match self.long.get_mut(term) {
                Some((number, last)) => {
                    if *last != n + 1 {
                        *last = n + 1;
                        self.terms.push(*number);
                    }
                }
                None => {
                    self.long
                        .insert(Cow::Owned(term.to_string()), (self.len, n + 1));
                    self.terms.push(self.len);
                    self.len += 1;
                }
            },
        }
    }
}

/// A slice's documents with their terms, numbered as the slice numbers them, and
/// what the study numbers each of them.
struct Slice {
    /// Its first document.
    first: u32,
    /// Term numbers, each document's after the last's, each term once a document.
    terms: Vec<u32>,
    /// Where each document's terms end in `terms`.
    ends: Vec<u32>,
    /// By term: in how many of the slice's documents it is.
    counts: Vec<u32>,
    /// By term: its number in the study.
    number: Vec<u32>,
}

/// Every term and the documents it is in, in term order: for each, the range of
/// its text in `text` and of its documents in `docs`.
struct Postings {
    text: String,
    terms: Vec<(Range<usize>, Range<usize>)>,
    docs: Vec<u32>,
}

impl Postings {
    /// Term `i`'s text.
    fn term(&self, i: usize) -> &str {
        &self.text[self.terms[i].0.clone()]
    }
}

/// A term of up to 16 bytes as a number: its bytes in order from the lowest, the
/// rest zero. Terms hold no NUL (it is not a word character, and folding makes
/// none), so the number gives the term back.
#[inline]
fn pack(t: &[u8]) -> Option<u128> {
    let n = t.len();
    let u64_at = |i: usize| u64::from_le_bytes(t[i..i + 8].try_into().unwrap_or_default());
    let u32_at = |i: usize| u32::from_le_bytes(t[i..i + 4].try_into().unwrap_or_default());
    // Overlapping loads, the overlap shifted away.
    let (lo, hi) = match n {
        0 => (0, 0),
        1..=3 => {
            let v = t[0] as u64
                | (t[n / 2] as u64) << (8 * (n / 2))
                | (t[n - 1] as u64) << (8 * (n - 1));
            (v, 0)
        }
        4..=7 => {
            let v = u32_at(0) as u64 | ((u32_at(n - 4) as u64) >> (8 * (8 - n))) << 32;
            (v, 0)
        }
        8 => (u64_at(0), 0),
        9..=16 => (u64_at(0), u64_at(n - 8) >> (8 * (16 - n))),
        _ => return None,
    };
    Some((hi as u128) << 64 | lo as u128)
}

/// The term [`pack`] made a key of, from the key's bytes (`key.to_le_bytes()`).
fn unpack(bytes: &[u8; 16]) -> &str {
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(16);
    // The bytes of a term, which was UTF-8.
    std::str::from_utf8(&bytes[..len]).unwrap_or_default()
}

/// Every term with the documents it is in, in term order. Documents are read in
/// parallel slices, which number their terms; the slices' terms are then numbered
/// for the whole study, sorted, and each one's documents written in place (the
/// slices in order, so every list comes out in document order).
#[inline(never)]
fn postings(docs: &[Document<'_>]) -> Postings {
    // A few slices per thread: enough to balance the load, few enough that joining
    // the slices' terms costs little.
    let slice = docs
        .len()
        .div_ceil(4 * rayon::current_num_threads())
        .max(256);
    let read: Vec<(SliceTerms<'_>, Vec<u32>)> = docs
        .par_chunks(slice)
        .enumerate()
        .map(|(c, docs)| {
            let mut terms = SliceTerms::default();
            let mut lower = String::new();
            for (i, doc) in docs.iter().enumerate() {
                let n = (c * slice + i) as u32;
                for text in &doc.indexed {
                    index_text(text, n, &mut terms, &mut lower);
                }
                terms.ends.push(terms.terms.len() as u32);
            }
            // In how many of the slice's documents each term is.
            let mut counts = vec![0u32; terms.len as usize];
            for &t in &terms.terms {
                counts[t as usize] += 1;
            }
            (terms, counts)
        })
        .collect();

    // Number the terms for the whole study; count their documents.
    let mut short: FxHashMap<u128, u32> = FxHashMap::default();
    let mut long: FxHashMap<Cow<'_, str>, u32> = FxHashMap::default();
    let mut counts: Vec<usize> = Vec::new();
    let mut slices: Vec<Slice> = Vec::with_capacity(read.len());
    let mut first = 0;
    for (s, slice_counts) in read {
        let mut number = vec![0; s.len as usize];
        let shorter = s.shorter.into_iter().map(|(lo, t)| ((lo, 0), t));
        for ((lo, hi), (t, _)) in s.short.into_iter().chain(shorter) {
            let key = (hi as u128) << 64 | lo as u128;
            let g = *short.entry(key).or_insert_with(|| {
                counts.push(0);
                counts.len() as u32 - 1
            });
            number[t as usize] = g;
        }
        for (term, (t, _)) in s.long {
            let g = *long.entry(term).or_insert_with(|| {
                counts.push(0);
                counts.len() as u32 - 1
            });
            number[t as usize] = g;
        }
        for (t, &n) in slice_counts.iter().enumerate() {
            counts[number[t] as usize] += n as usize;
        }
        let docs = s.ends.len() as u32;
        slices.push(Slice {
            first,
            terms: s.terms,
            ends: s.ends,
            counts: slice_counts,
            number,
        });
        first += docs;
    }

    // Term order: short terms sort as numbers (bytes from the highest, zeros
    // before any character), long ones as text; then the two are merged.
    let mut short: Vec<(u128, u32)> = short
        .into_iter()
        .map(|(k, g)| (k.swap_bytes(), g))
        .collect();
    short.par_sort_unstable();
    let mut long: Vec<(Cow<'_, str>, u32)> = long.into_iter().collect();
    long.par_sort_unstable();
    let mut text = String::new();
    let mut order: Vec<(Range<usize>, u32)> = Vec::with_capacity(short.len() + long.len());
    let mut long = long.into_iter().peekable();
    for (key, g) in short {
        // The key was swapped: its big-endian bytes are the term's, first to last.
        let bytes = key.to_be_bytes();
        let term = unpack(&bytes);
        while let Some((l, g)) = long.next_if(|l| *l.0 < *term) {
            order.push((text.len()..text.len() + l.len(), g));
            text.push_str(&l);
        }
        order.push((text.len()..text.len() + term.len(), g));
        text.push_str(term);
    }
    for (l, g) in long {
        order.push((text.len()..text.len() + l.len(), g));
        text.push_str(&l);
    }

    // Where each term's documents start.
    let mut start = vec![0; counts.len()];
    let mut at = 0;
    let terms: Vec<(Range<usize>, Range<usize>)> = order
        .into_iter()
        .map(|(term, g)| {
            start[g as usize] = at;
            at += counts[g as usize];
            (term, start[g as usize]..at)
        })
        .collect();
    // Where each slice writes each of its terms' documents: after the slices
    // before it. Then the slices write in parallel, each in its own places.
    let places: Vec<Vec<usize>> = slices
        .iter()
        .map(|s| {
            s.number
                .iter()
                .zip(&s.counts)
                .map(|(&g, &count)| {
                    let at = start[g as usize];
                    start[g as usize] += count as usize;
                    at
                })
                .collect()
        })
        .collect();
    let docs_of: Vec<AtomicU32> = (0..at).map(|_| AtomicU32::new(0)).collect();
    slices.par_iter().zip(places).for_each(|(s, mut places)| {
        let mut from = 0;
        for (n, &end) in (s.first..).zip(&s.ends) {
            for &t in &s.terms[from..end as usize] {
                let at = &mut places[t as usize];
                // Each place is written once, by one slice: no ordering needed.
                docs_of[*at].store(n, Ordering::Relaxed);
                *at += 1;
            }
            from = end as usize;
        }
    });
    let docs_of: Vec<u32> = docs_of.into_iter().map(AtomicU32::into_inner).collect();
    Postings {
        text,
        terms,
        docs: docs_of,
    }
}

/// Adds document `n` to the lists of the terms of `text`.
fn index_text<'a>(text: &'a str, n: u32, terms: &mut SliceTerms<'a>, lower: &mut String) {
    for (word, kind) in text::words_with_kind(text) {
        match kind {
            // Already folded: the term is the word itself.
            text::WordKind::Folded => terms.add_borrowed(word, n),
            text::WordKind::AsciiUpper => {
                lower.clear();
                lower.push_str(word);
                lower.make_ascii_lowercase();
                terms.add(lower, n);
            }
            text::WordKind::Unicode => {
                let (folded, spelled) = text::index_forms(word);
                terms.add(&folded, n);
                if let Some(s) = spelled {
                    terms.add(&s, n);
                }
            }
        }
    }
}

#[derive(Serialize)]
struct Meta {
    version: u32,
    /// Number of documents.
    docs: usize,
    /// End (exclusive) of each document chunk.
    chunks: Vec<u32>,
    /// Every shard key; a key ending in `$` holds only the term equal to the rest.
    keys: Vec<String>,
    /// Prefixes whose terms are spread over longer keys.
    split: Vec<String>,
    /// Length of the first prefix.
    prefix: usize,
    sites: Vec<(String, String)>,
    groups: Vec<(String, String)>,
    themes: Vec<(String, String, usize)>,
}

/// One searchable thing: the texts it is found by, and what a result shows (JSON).
/// The texts are the study's own where they can be (a quote's), owned where they
/// are made here (a page's plain text); unused ones are empty.
struct Document<'a> {
    indexed: [Cow<'a, str>; 4],
    /// Where its JSON is in [`Documents::blocks`]: block, and bytes in it. The
    /// JSON has `</` escaped as in a script (see [`script_json_string`]).
    stored: (usize, Range<usize>),
    /// The length of the JSON before `</` was escaped, which chunks are cut by.
    len: usize,
}

/// Every document, and the blocks their JSON is written in (one for the pages,
/// one per [`QUOTE_BLOCK`] quotes).
struct Documents<'a> {
    docs: Vec<Document<'a>>,
    blocks: Vec<Vec<u8>>,
}

impl Documents<'_> {
    /// The JSON of `doc`, `</` escaped.
    fn stored(&self, doc: &Document<'_>) -> &[u8] {
        let (block, bytes) = &doc.stored;
        &self.blocks[*block][bytes.clone()]
    }
}

/// Quotes whose documents are written in one block.
const QUOTE_BLOCK: usize = 1024;

/// Every document: pages first (themes in codebook order, findings, sites, groups,
/// each theme at each site), then quotes in study order. Results keep this order among equals.
#[inline(never)]
fn documents<'a>(study: &'a Study, homes: &[String]) -> Documents<'a> {
    let mut docs = Vec::with_capacity(study.quotes.len() + study.themes.len() + 16);
    let mut pages = Vec::new();
    /// `[kind, title, url, summary, text]`, indexed by the title, the text, the
    /// summary and `also` (words the page is found by that it does not show
    /// in its result, such as a site's country).
    fn stored_page<'a>(
        pages: &mut Vec<u8>,
        kind: &str,
        title: Cow<'a, str>,
        url: String,
        summary: Option<&'a str>,
        body: String,
        also: &'a str,
    ) -> Document<'a> {
        let json = json!([kind, title, url, summary, truncate(&body, PAGE_TEXT)]).to_string();
        let start = pages.len();
        push_escaped(pages, &json);
        Document {
            indexed: [
                title,
                Cow::Owned(body),
                Cow::Borrowed(summary.unwrap_or_default()),
                Cow::Borrowed(also),
            ],
            stored: (0, start..pages.len()),
            len: json.len(),
        }
    }
    fn page<'a>(
        pages: &mut Vec<u8>,
        kind: &str,
        c: &'a crate::model::Common,
        url: String,
        also: &'a str,
    ) -> Document<'a> {
        // Comments are the author's notes, never published (as on the pages).
        let (source, _) = remove_comments(&c.doc.body);
        let (body, _) = plain_text(&source);
        let body = body.split_whitespace().collect::<Vec<_>>().join(" ");
        let title = Cow::Borrowed(c.title.as_str());
        stored_page(pages, kind, title, url, c.summary.as_deref(), body, also)
    }
    for t in &study.themes {
        docs.push(page(
            &mut pages,
            "t",
            &t.common,
            urls::theme(&t.common.id),
            "",
        ));
    }
    for f in &study.findings {
        let url = urls::finding(&f.common.id);
        docs.push(page(&mut pages, "f", &f.common, url, ""));
    }
    for s in &study.sites {
        let country = s.country.as_deref().unwrap_or_default();
        docs.push(page(
            &mut pages,
            "s",
            &s.common,
            urls::site(&s.common.id),
            country,
        ));
    }
    for g in &study.groups {
        docs.push(page(
            &mut pages,
            "g",
            &g.common,
            urls::group(&g.common.id),
            "",
        ));
    }
    // Each theme at each site where it has quotes, as its page is titled: a
    // reader asking what participants in Uganda said about barriers finds the
    // page that answers it.
    for (t, theme) in study.themes.iter().enumerate() {
        for (s, site) in study.sites.iter().enumerate() {
            if study.index.theme_site_quotes[t][s].is_empty() {
                continue;
            }
            let title = format!("{} in {}", theme.common.title, site.common.title);
            let url = urls::theme_site(&theme.common.id, &site.common.id);
            let summary = theme.common.summary.as_deref();
            let country = site.country.as_deref().unwrap_or_default();
            docs.push(stored_page(
                &mut pages,
                "ts",
                Cow::Owned(title),
                url,
                summary,
                String::new(),
                country,
            ));
        }
    }
    // Each quote's home: the page of its list that shows it (see render::paginate).
    let quote_blocks: Vec<(Vec<u8>, Vec<Document<'_>>)> = study
        .quotes
        .par_chunks(QUOTE_BLOCK)
        .zip(homes.par_chunks(QUOTE_BLOCK))
        .enumerate()
        .map(|(b, (quotes, homes))| {
            let size: usize = quotes
                .iter()
                .map(|q| {
                    let original = q.original.as_ref();
                    96 + q.id.len()
                        + q.participant.len()
                        + q.text.len()
                        + original.map_or(0, |o| o.text.len() + o.lang.len())
                        + q.context.as_ref().map_or(0, String::len)
                        + 4 * q.themes.len()
                })
                .sum::<usize>()
                + homes.iter().map(String::len).sum::<usize>();
            let mut block = Vec::with_capacity(size + size / 16);
            let docs = quotes
                .iter()
                .zip(homes)
                .map(|(q, url)| {
                    let original = q.original.as_ref();
                    // The same JSON as `json!([...])` gives, written without building
                    // a `Value` (which would copy every string first).
                    let fields = QuoteFields {
                        id: &q.id,
                        participant: &q.participant,
                        site: q.site,
                        group: q.group,
                        url,
                        text: &q.text,
                        original: original.map(|o| (o.text.as_str(), o.lang.as_str(), o.rtl)),
                        context: q.context.as_deref(),
                        themes: &q.themes,
                    };
                    let start = block.len();
                    let added = quote_json(&mut block, &fields);
                    let indexed = [
                        Cow::Borrowed(q.text.as_str()),
                        Cow::Borrowed(original.map_or("", |o| o.text.as_str())),
                        Cow::Borrowed(q.context.as_deref().unwrap_or_default()),
                        Cow::Borrowed(q.participant.as_str()),
                    ];
                    Document {
                        indexed,
                        stored: (b + 1, start..block.len()),
                        len: block.len() - start - added,
                    }
                })
                .collect();
            (block, docs)
        })
        .collect();
    let mut blocks = Vec::with_capacity(quote_blocks.len() + 1);
    blocks.push(pages);
    for (block, quotes) in quote_blocks {
        blocks.push(block);
        docs.extend(quotes);
    }
    Documents { docs, blocks }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// The shard key of `term`, given the prefixes that were split: its shortest prefix
/// (of at least [`PREFIX`] characters) that was not split, and whether the key is
/// the whole term, split itself (an exact-term key, written with `$`).
fn shard_key<'t>(term: &'t str, split: &FxHashSet<&str>) -> (&'t str, bool) {
    let mut ends = term.char_indices().map(|(i, c)| i + c.len_utf8());
    let mut end = 0;
    for e in ends.by_ref().take(PREFIX) {
        end = e;
    }
    loop {
        let key = &term[..end];
        if !split.contains(key) {
            return (key, false);
        }
        match ends.next() {
            Some(e) => end = e,
            None => return (key, true),
        }
    }
}

/// Groups terms (sorted, with the length of their encoded postings) into shards by
/// prefix, lengthening the prefix of any shard over budget. Returns the shards (key,
/// and the range of their terms) in key order, and the split prefixes in order.
///
/// A shard's terms are consecutive: every term starting with a key that was not
/// split has that key (its shorter prefixes are the key's, all split), and the terms
/// starting with a prefix are consecutive in sorted order.
fn shard(terms: &[(&str, usize)]) -> (Vec<(String, Range<usize>)>, Vec<String>) {
    let mut split: FxHashSet<&str> = FxHashSet::default();
    loop {
        // (key, exact, terms, bytes)
        let mut shards: Vec<(&str, bool, Range<usize>, usize)> = Vec::new();
        for (i, &(term, postings)) in terms.iter().enumerate() {
            let (key, exact) = shard_key(term, &split);
            let size = term.len() + postings + 6;
            match shards.last_mut() {
                Some(s) if s.0 == key && s.1 == exact => {
                    s.2.end = i + 1;
                    s.3 += size;
                }
                _ => shards.push((key, exact, i..i + 1, size)),
            }
        }
        let before = split.len();
        for (key, exact, range, size) in &shards {
            // The terms start with the key: longer in bytes is longer in characters.
            if *size > SHARD_BUDGET
                && !exact
                && terms[range.clone()].iter().any(|t| t.0.len() > key.len())
            {
                split.insert(key);
            }
        }
        if split.len() == before {
            let mut shards: Vec<(String, Range<usize>)> = shards
                .into_iter()
                .map(|(key, exact, range, _)| {
                    let key = if exact {
                        format!("{key}$")
                    } else {
                        key.to_string()
                    };
                    (key, range)
                })
                .collect();
            shards.sort_by(|a, b| a.0.cmp(&b.0));
            debug_assert!(shards.windows(2).all(|w| w[0].0 < w[1].0), "a key twice");
            let mut split: Vec<String> = split.into_iter().map(str::to_string).collect();
            split.sort();
            return (shards, split);
        }
    }
}

/// A shard key as a file name: lowercase ASCII letters and digits as they are,
/// anything else as `_HEX_`, and the `$` of an exact-term key as `-`.
fn file_key(key: &str) -> String {
    let mut out = String::new();
    for c in key.chars() {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            '$' => out.push('-'),
            _ => {
                let _ = write!(out, "_{:x}_", c as u32);
            }
        }
    }
    out
}

/// Consecutive documents in chunks of about [`CHUNK_BUDGET`] bytes.
fn chunk(docs: &[Document<'_>]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut size) = (0, 0);
    for (i, d) in docs.iter().enumerate() {
        size += d.len;
        if size >= CHUNK_BUDGET {
            out.push(start..i + 1);
            start = i + 1;
            size = 0;
        }
    }
    if start < docs.len() {
        out.push(start..docs.len());
    }
    out
}

/// Posting lists of each site, group and theme (with its subthemes), over quotes.
fn facets(study: &Study, docs: &[Document<'_>]) -> Vec<(String, Vec<u32>)> {
    let first_quote = (docs.len() - study.quotes.len()) as u32;
    let mut sites = vec![Vec::new(); study.sites.len()];
    let mut groups = vec![Vec::new(); study.groups.len()];
    let mut themes: Vec<Vec<u32>> = vec![Vec::new(); study.themes.len()];
    for (i, q) in study.quotes.iter().enumerate() {
        let n = first_quote + i as u32;
        sites[q.site].push(n);
        groups[q.group].push(n);
        // The quote's themes and their ancestors, each once (what
        // `Study::themes_with_ancestors` gives, without a Vec per quote).
        for &t in &q.themes {
            let mut cur = Some(t);
            while let Some(x) = cur {
                if themes[x].last() != Some(&n) {
                    themes[x].push(n);
                }
                cur = study.themes[x].parent;
            }
        }
    }
    let named = |kind: &str, lists: Vec<Vec<u32>>| {
        lists
            .into_iter()
            .enumerate()
            .map(move |(i, l)| (format!("{kind}-{i}"), l))
            .collect::<Vec<_>>()
    };
    let mut out = named("site", sites);
    out.extend(named("group", groups));
    out.extend(named("theme", themes));
    out
}

/// Appends `s` with every `</` written `<\/` (as [`script_json_string`] does).
fn push_escaped(out: &mut Vec<u8>, mut s: &str) -> usize {
    let mut added = 0;
    while let Some(i) = s.find('<') {
        out.extend_from_slice(&s.as_bytes()[..=i]);
        if s.as_bytes().get(i + 1) == Some(&b'/') {
            out.push(b'\\');
            added += 1;
        }
        s = &s[i + 1..];
    }
    out.extend_from_slice(s.as_bytes());
    added
}

/// A quote's document as JSON (`["q", id, participant, site, group, url, text,
/// original text, original language, right to left, context, themes]`), the bytes
/// serde_json gives, written into `out` as in a script ([`script_json_string`]).
/// Returns the number of `\` added for `</`.
fn quote_json(out: &mut Vec<u8>, q: &QuoteFields<'_>) -> usize {
    use std::io::Write as _;
    let mut added = 0;
    let mut string = |out: &mut Vec<u8>, s: Option<&str>| match s {
        Some(s) => added += script_json_string(out, s),
        None => out.extend_from_slice(b"null"),
    };
    out.extend_from_slice(b"[\"q\",");
    string(out, Some(q.id));
    out.push(b',');
    string(out, Some(q.participant));
    // Writing to a Vec cannot fail.
    let _ = write!(out, ",{},{},", q.site, q.group);
    string(out, Some(q.url));
    out.push(b',');
    string(out, Some(q.text));
    out.push(b',');
    string(out, q.original.map(|o| o.0));
    out.push(b',');
    string(out, q.original.map(|o| o.1));
    out.extend_from_slice(match q.original.map(|o| o.2) {
        Some(true) => b",true,",
        Some(false) => b",false,",
        None => b",null,",
    });
    string(out, q.context);
    out.extend_from_slice(b",[");
    for (i, t) in q.themes.iter().enumerate() {
        let _ = write!(out, "{}{t}", if i > 0 { "," } else { "" });
    }
    out.extend_from_slice(b"]]");
    added
}

/// What a quote's document shows.
struct QuoteFields<'a> {
    id: &'a str,
    participant: &'a str,
    site: usize,
    group: usize,
    url: &'a str,
    text: &'a str,
    /// Text, language and whether it is written right to left.
    original: Option<(&'a str, &'a str, bool)>,
    context: Option<&'a str>,
    themes: &'a [usize],
}

/// A script file that hands `data` to `thematicSearch.FUNCTION(key, data)`.
fn script(
    path: String,
    function: &str,
    key: &serde_json::Value,
    data: &serde_json::Value,
) -> OutputFile {
    // `</` never appears in JSON text that is run as a script file, but a quote
    // could contain `</script>`: escape it anyway so the chunk is safe to inline.
    let body = serde_json::to_string(data)
        .unwrap_or_default()
        .replace("</", "<\\/");
    let text = if key.is_null() {
        format!("thematicSearch.{function}({body});\n")
    } else {
        format!("thematicSearch.{function}({key},{body});\n")
    };
    OutputFile::new(path, text.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_keys_lengthen_only_where_split() {
        let mut split = FxHashSet::default();
        assert_eq!(shard_key("bus", &split), ("b", false));
        assert_eq!(shard_key("a", &split), ("a", false));
        split.insert("b");
        split.insert("bu");
        assert_eq!(shard_key("bus", &split), ("bus", false));
        assert_eq!(shard_key("bu", &split), ("bu", true));
        assert_eq!(shard_key("ba", &split), ("ba", false));
        assert_eq!(shard_key("b", &split), ("b", true));
        assert_eq!(shard_key("", &split), ("", false));
        split.insert("ש");
        assert_eq!(shard_key("שָׁלוֹם", &split), ("שָ", false));
    }

    #[test]
    fn a_large_shard_is_split_by_a_longer_prefix() {
        let big = 1 + SHARD_BUDGET;
        let terms = [("the", big), ("they", big), ("thin", 1), ("to", 1)];
        let (shards, split) = shard(&terms);
        assert_eq!(split, ["t", "th", "the"]);
        assert_eq!(
            shards,
            [
                ("the$".to_string(), 0..1),
                ("they".to_string(), 1..2),
                ("thi".to_string(), 2..3),
                ("to".to_string(), 3..4)
            ]
        );
    }

    #[test]
    fn short_terms_pack_and_unpack() {
        let words = [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "abcde",
            "abcdefg",
            "abcdefgh",
            "abcdefghi",
            "שָׁלוֹם",
            "abcdefghijklmnop",
        ];
        let mut keys = Vec::new();
        for w in words {
            let key = pack(w.as_bytes()).unwrap();
            assert_eq!(unpack(&key.to_le_bytes()), w);
            keys.push(key);
        }
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), words.len());
        assert_eq!(pack(b"abcdefghijklmnopq"), None);
    }

    #[test]
    fn quote_json_is_what_serde_json_writes() {
        let themes = [3, 14];
        let quotes = [
            QuoteFields {
                id: "q-1",
                participant: "P1",
                site: 0,
                group: 12,
                url: "themes/t3/#q-1",
                text: "a \"quote\"\n with </script> in it",
                original: Some(("ôn\\ibus", "pt-BR", true)),
                context: Some("ctx\t"),
                themes: &themes,
            },
            QuoteFields {
                id: "q-2",
                participant: "P2",
                site: 7,
                group: 0,
                url: "quotes/#q-2",
                text: "",
                original: Some(("x", "he", false)),
                context: None,
                themes: &[],
            },
            QuoteFields {
                original: None,
                themes: &themes[..1],
                ..QuoteFields {
                    id: "q-3",
                    participant: "",
                    site: 1,
                    group: 2,
                    url: "u",
                    text: "t",
                    original: None,
                    context: Some(""),
                    themes: &[],
                }
            },
        ];
        for q in &quotes {
            let expected = serde_json::to_string(&(
                "q",
                q.id,
                q.participant,
                q.site,
                q.group,
                q.url,
                q.text,
                q.original.map(|o| o.0),
                q.original.map(|o| o.1),
                q.original.map(|o| o.2),
                q.context,
                q.themes,
            ))
            .unwrap();
            let mut out = Vec::new();
            let added = quote_json(&mut out, q);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                expected.replace("</", "<\\/")
            );
            assert_eq!(added, expected.matches("</").count());
        }
    }

    #[test]
    fn script_ends_are_escaped() {
        let mut out = b"x</".to_vec();
        assert_eq!(push_escaped(&mut out, "a</b><</c/</"), 3);
        assert_eq!(out, b"x</a<\\/b><<\\/c/<\\/");
    }

    #[test]
    fn file_keys_are_safe_names() {
        assert_eq!(file_key("bu"), "bu");
        assert_eq!(file_key("the$"), "the-");
        assert_eq!(file_key("שָ"), "_5e9__5b8_");
    }
}
