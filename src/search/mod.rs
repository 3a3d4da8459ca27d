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
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::json;

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
    pub fn files(&mut self, study: &Study) -> (Vec<OutputFile>, bool) {
        let hash = inputs_hash(study);
        if let Some((h, files)) = &self.last {
            if *h == hash {
                return (files.clone(), false);
            }
        }
        let files = index_files(study);
        self.last = Some((hash, files.clone()));
        (files, true)
    }
}

/// A hash of everything the index is built from.
fn inputs_hash(study: &Study) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    let common = |c: &crate::model::Common, h: &mut DefaultHasher| {
        (&c.id, &c.title, &c.summary, &c.doc.body).hash(h);
    };
    for t in &study.themes {
        common(&t.common, &mut h);
        (t.depth, t.parent).hash(&mut h);
    }
    for c in study.findings.iter().map(|f| &f.common) {
        common(c, &mut h);
    }
    for c in study.sites.iter().map(|s| &s.common) {
        common(c, &mut h);
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
pub fn index_files(study: &Study) -> Vec<OutputFile> {
    let t = std::time::Instant::now();
    let docs = documents(study);
    crate::pipeline::timing("search: documents", t);
    let t = std::time::Instant::now();
    let encoded = postings(&docs);
    crate::pipeline::timing("search: postings", t);
    let t = std::time::Instant::now();
    let files = files(study, &docs, &encoded);
    crate::pipeline::timing("search: shards and files", t);
    files
}

/// The index's files from its documents and terms.
#[inline(never)] // Keeps the three stages apart in profiles.
fn files(study: &Study, docs: &[Document], encoded: &BTreeMap<String, String>) -> Vec<OutputFile> {
    let (shards, split) = shard(encoded);

    let mut files = Vec::new();
    for (key, members) in &shards {
        let map: serde_json::Map<String, serde_json::Value> = members
            .iter()
            .map(|t| (t.clone(), json!(encoded[t])))
            .collect();
        files.push(script(
            format!("search/t/{}.js", file_key(key)),
            "terms",
            &json!(key),
            &serde_json::Value::Object(map),
        ));
    }

    let chunks = chunk(&docs);
    for (i, range) in chunks.iter().enumerate() {
        let list: Vec<&str> = docs[range.clone()]
            .iter()
            .map(|d| d.stored.as_str())
            .collect();
        let text = format!(
            "thematicSearch.docs({i},[{}]);\n",
            list.join(",").replace("</", "<\\/")
        );
        files.push(OutputFile::new(
            format!("search/d/{i}.js"),
            text.into_bytes(),
        ));
    }

    for (name, docs) in facets(study, &docs) {
        files.push(script(
            format!("search/f/{name}.js"),
            "facet",
            &json!(name),
            &json!(encode::postings(&docs)),
        ));
    }

    let meta = Meta {
        version: 1,
        docs: docs.len(),
        chunks: chunks.iter().map(|r| r.end as u32).collect(),
        keys: shards.keys().cloned().collect(),
        split: split.into_iter().collect(),
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

/// Terms found in some documents, each with the documents it is in (in order).
/// Terms are borrowed from the documents' text when it is their folded form
/// already (most words: lowercase ASCII), so most terms cost no allocation.
type Terms<'a> = FxHashMap<Cow<'a, str>, Vec<u32>>;

/// Every term with its encoded posting list, in term order. Documents are read in
/// parallel slices, each slice's lists are in document order, and slices are joined
/// in order, so the lists come out sorted without sorting.
#[inline(never)]
fn postings(docs: &[Document]) -> BTreeMap<String, String> {
    use rayon::prelude::*;
    // A few slices per thread: enough to balance the load, few enough that joining
    // the slices' terms costs little.
    let slice = docs
        .len()
        .div_ceil(4 * rayon::current_num_threads())
        .max(256);
    let mut per_slice: Vec<Terms<'_>> = docs
        .par_chunks(slice)
        .enumerate()
        .map(|(c, docs)| {
            let mut terms = Terms::default();
            let mut lower = String::new();
            for (i, doc) in docs.iter().enumerate() {
                let n = (c * slice + i) as u32;
                for text in &doc.indexed {
                    index_text(text, n, &mut terms, &mut lower);
                }
            }
            terms
        })
        .collect();
    let mut all = if per_slice.is_empty() {
        Terms::default()
    } else {
        per_slice.remove(0)
    };
    for terms in per_slice {
        for (term, list) in terms {
            match all.get_mut(&*term) {
                Some(l) => l.extend_from_slice(&list),
                None => {
                    all.insert(term, list);
                }
            }
        }
    }
    let mut all: Vec<(Cow<'_, str>, Vec<u32>)> = all.into_iter().collect();
    all.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let encoded: Vec<(String, String)> = all
        .into_par_iter()
        .map(|(t, list)| (t.into_owned(), encode::postings(&list)))
        .collect();
    encoded.into_iter().collect()
}

/// Adds document `n` to the lists of the terms of `text`.
fn index_text<'a>(text: &'a str, n: u32, terms: &mut Terms<'a>, lower: &mut String) {
    for word in text::words(text) {
        if !word.is_ascii() {
            let (folded, spelled) = text::index_forms(word);
            add_posting(terms, Cow::Owned(folded), n);
            if let Some(s) = spelled {
                add_posting(terms, Cow::Owned(s), n);
            }
        } else if word.bytes().any(|b| b.is_ascii_uppercase()) {
            // Folded without allocating, unless the term is new.
            lower.clear();
            lower.extend(word.chars().map(|c| c.to_ascii_lowercase()));
            match terms.get_mut(lower.as_str()) {
                Some(list) => push_doc(list, n),
                None => {
                    terms.insert(Cow::Owned(lower.clone()), vec![n]);
                }
            }
        } else {
            // Already folded: the term is the word itself.
            match terms.get_mut(word) {
                Some(list) => push_doc(list, n),
                None => {
                    terms.insert(Cow::Borrowed(word), vec![n]);
                }
            }
        }
    }
}

fn add_posting<'a>(terms: &mut Terms<'a>, term: Cow<'a, str>, doc: u32) {
    match terms.get_mut(&*term) {
        Some(list) => push_doc(list, doc),
        None => {
            terms.insert(term, vec![doc]);
        }
    }
}

/// Adds `doc` to a list, once: a document's words come one after another.
fn push_doc(list: &mut Vec<u32>, doc: u32) {
    if list.last() != Some(&doc) {
        list.push(doc);
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
struct Document {
    indexed: Vec<String>,
    stored: String,
}

/// Every document: pages first (themes in codebook order, findings, sites, groups),
/// then quotes in study order. Results keep this order among equals.
#[inline(never)]
fn documents(study: &Study) -> Vec<Document> {
    let mut docs = Vec::with_capacity(study.quotes.len() + study.themes.len() + 16);
    let page = |kind: &str, c: &crate::model::Common, url: String| {
        // Comments are the author's notes, never published (as on the pages).
        let (source, _) = remove_comments(&c.doc.body);
        let (body, _) = plain_text(&source);
        let body = body.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut indexed = vec![c.title.clone(), body.clone()];
        indexed.extend(c.summary.clone());
        Document {
            indexed,
            stored: json!([kind, c.title, url, c.summary, truncate(&body, PAGE_TEXT)]).to_string(),
        }
    };
    for t in &study.themes {
        docs.push(page("t", &t.common, urls::theme(&t.common.id)));
    }
    for f in &study.findings {
        docs.push(page("f", &f.common, urls::finding(&f.common.id)));
    }
    for s in &study.sites {
        docs.push(page("s", &s.common, urls::site(&s.common.id)));
    }
    for g in &study.groups {
        docs.push(page("g", &g.common, urls::group(&g.common.id)));
    }
    for q in &study.quotes {
        let url = urls::quote(
            q.themes
                .first()
                .map(|&t| study.themes[t].common.id.as_str()),
            &q.id,
        );
        let mut indexed = vec![q.text.clone()];
        indexed.extend(q.original.as_ref().map(|o| o.text.clone()));
        indexed.extend(q.context.clone());
        indexed.push(q.participant.clone());
        docs.push(Document {
            indexed,
            stored: json!([
                "q",
                q.id,
                q.participant,
                q.site,
                q.group,
                url,
                q.text,
                q.original.as_ref().map(|o| &o.text),
                q.original.as_ref().map(|o| &o.lang),
                q.original.as_ref().map(|o| o.rtl),
                q.context,
                q.themes,
            ])
            .to_string(),
        });
    }
    docs
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

/// The shard key of `term`, given the prefixes that were split.
fn shard_key(term: &str, split: &BTreeSet<String>) -> String {
    let chars: Vec<char> = term.chars().collect();
    let mut len = PREFIX.min(chars.len());
    loop {
        let key: String = chars[..len].iter().collect();
        if !split.contains(&key) {
            return key;
        }
        if len == chars.len() {
            return format!("{key}$");
        }
        len += 1;
    }
}

/// Groups terms into shards by prefix, lengthening the prefix of any shard over
/// budget. Returns the shards (key to terms) and the split prefixes.
fn shard(encoded: &BTreeMap<String, String>) -> (BTreeMap<String, Vec<String>>, BTreeSet<String>) {
    let mut split: BTreeSet<String> = BTreeSet::new();
    loop {
        let mut shards: BTreeMap<String, (Vec<String>, usize)> = BTreeMap::new();
        for (term, postings) in encoded {
            let e = shards.entry(shard_key(term, &split)).or_default();
            e.0.push(term.clone());
            e.1 += term.len() + postings.len() + 6;
        }
        let over: Vec<String> = shards
            .iter()
            .filter(|(key, (terms, size))| {
                *size > SHARD_BUDGET
                    && !key.ends_with('$')
                    && terms
                        .iter()
                        .any(|t| t.chars().count() > key.chars().count())
            })
            .map(|(key, _)| key.clone())
            .collect();
        if over.is_empty() {
            return (
                shards
                    .into_iter()
                    .map(|(k, (terms, _))| (k, terms))
                    .collect(),
                split,
            );
        }
        split.extend(over);
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
fn chunk(docs: &[Document]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut size) = (0, 0);
    for (i, d) in docs.iter().enumerate() {
        size += d.stored.len();
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
fn facets(study: &Study, docs: &[Document]) -> Vec<(String, Vec<u32>)> {
    let first_quote = (docs.len() - study.quotes.len()) as u32;
    let mut sites = vec![Vec::new(); study.sites.len()];
    let mut groups = vec![Vec::new(); study.groups.len()];
    let mut themes: Vec<Vec<u32>> = vec![Vec::new(); study.themes.len()];
    for (i, q) in study.quotes.iter().enumerate() {
        let n = first_quote + i as u32;
        sites[q.site].push(n);
        groups[q.group].push(n);
        for t in study.themes_with_ancestors(&q.themes) {
            themes[t].push(n);
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
        let mut split = BTreeSet::new();
        assert_eq!(shard_key("bus", &split), "b");
        assert_eq!(shard_key("a", &split), "a");
        split.insert("b".to_string());
        split.insert("bu".to_string());
        assert_eq!(shard_key("bus", &split), "bus");
        assert_eq!(shard_key("bu", &split), "bu$");
        assert_eq!(shard_key("ba", &split), "ba");
        assert_eq!(shard_key("b", &split), "b$");
    }

    #[test]
    fn a_large_shard_is_split_by_a_longer_prefix() {
        let big = "!".to_string() + &"_".repeat(SHARD_BUDGET);
        let mut encoded = BTreeMap::new();
        encoded.insert("the".to_string(), big.clone());
        encoded.insert("they".to_string(), big);
        encoded.insert("thin".to_string(), "1".to_string());
        encoded.insert("to".to_string(), "1".to_string());
        let (shards, split) = shard(&encoded);
        assert!(
            split.contains("t") && split.contains("th") && split.contains("the"),
            "{split:?}"
        );
        assert_eq!(shards["the$"], ["the"]);
        assert_eq!(shards["they"], ["they"]);
        assert_eq!(shards["thi"], ["thin"]);
        assert_eq!(shards["to"], ["to"]);
    }

    #[test]
    fn file_keys_are_safe_names() {
        assert_eq!(file_key("bu"), "bu");
        assert_eq!(file_key("the$"), "the-");
        assert_eq!(file_key("שָ"), "_5e9__5b8_");
    }
}
