//! Reads the search index files back as `static/search.js` does, independently of
//! thematic's code: the arguments of each `thematicSearch.NAME(...)` call, posting
//! lists, and the rule that says which shard holds a term. Used by tests/search.rs
//! and benches/search.rs.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The arguments of the `thematicSearch.NAME(...)` call an index file makes.
pub fn call_args(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let open = text.find('(').expect("a call");
    let body = text[open + 1..].trim_end().trim_end_matches(';');
    let body = body.strip_suffix(')').expect("a closed call");
    let v: Value = serde_json::from_str(&format!("[{body}]"))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    v.as_array().expect("a list of arguments").clone()
}

const ALPHABET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";

/// Decodes a posting list (gaps, or `!` and a bitmap) into document numbers.
pub fn decode(s: &str) -> BTreeSet<u32> {
    let value = |c: char| ALPHABET.find(c).unwrap_or_else(|| panic!("bad char {c}")) as u32;
    let mut out = BTreeSet::new();
    if let Some(rest) = s.strip_prefix('!') {
        for (i, c) in rest.chars().enumerate() {
            for bit in 0..6 {
                if value(c) & (1 << bit) != 0 {
                    out.insert(i as u32 * 6 + bit);
                }
            }
        }
        return out;
    }
    let (mut cur, mut shift, mut prev) = (0u32, 0u32, None::<u32>);
    for c in s.chars() {
        let v = value(c);
        cur |= (v & 31) << shift;
        shift += 5;
        if v & 32 == 0 {
            let d = prev.map_or(cur, |p| p + cur + 1);
            out.insert(d);
            prev = Some(d);
            cur = 0;
            shift = 0;
        }
    }
    out
}

/// The shard key of `term`: its first `prefix` characters, lengthened while that
/// prefix was split; `KEY$` when the term itself was split.
pub fn shard_key(term: &str, prefix: usize, split: &BTreeSet<String>) -> String {
    let chars: Vec<char> = term.chars().collect();
    let mut len = prefix.min(chars.len());
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

/// The file name of a shard key.
pub fn file_key(key: &str) -> String {
    let mut out = String::new();
    for c in key.chars() {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            '$' => out.push('-'),
            _ => out.push_str(&format!("_{:x}_", c as u32)),
        }
    }
    out
}

/// `meta.js`'s prefix length and split prefixes.
pub fn split_of(meta: &Value) -> (usize, BTreeSet<String>) {
    let prefix = meta["prefix"].as_u64().expect("meta.prefix") as usize;
    let split = meta["split"]
        .as_array()
        .expect("meta.split")
        .iter()
        .map(|v| v.as_str().expect("a prefix").to_string())
        .collect();
    (prefix, split)
}

/// A word folded by the tests' own rules: lowercase, decomposed, marks dropped.
pub fn fold(word: &str) -> String {
    word.to_lowercase()
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .collect()
}

/// The folded words of a text: runs of letters, numbers and marks.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || is_combining_mark(c)))
        .filter(|w| !w.is_empty())
        .map(fold)
        .collect()
}
