//! The search index in `search/`, read back file by file as the browser reads it:
//! `meta.js`, the term shards, the document chunks and the facet lists. What must be
//! found is computed from the study's files (tests/common/facts.rs), and words are
//! folded here by their own rules, not by thematic's code.
//!
//! Searching in a real browser, from `file://` and under a sub-path, is in
//! tests/reader.rs.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use common::search_index::{call_args, decode, fold, shard_key, split_of, words};
use common::*;

/// The index of one build.
struct Index {
    meta: Value,
    /// Documents, by number.
    docs: Vec<Value>,
    /// Every term, with its documents.
    terms: BTreeMap<String, BTreeSet<u32>>,
    /// Which shard each term was found in.
    shard_of: BTreeMap<String, String>,
    /// Facet lists by name.
    facets: BTreeMap<String, BTreeSet<u32>>,
}

fn read_index(out: &Path) -> Index {
    let meta = call_args(&out.join("search/meta.js")).remove(0);
    let mut docs = Vec::new();
    let chunks = meta["chunks"].as_array().unwrap().len();
    for i in 0..chunks {
        let args = call_args(&out.join(format!("search/d/{i}.js")));
        assert_eq!(args[0], i, "chunk {i} names itself");
        docs.extend(args[1].as_array().unwrap().iter().cloned());
    }
    assert_eq!(docs.len() as u64, meta["docs"].as_u64().unwrap());
    let mut terms = BTreeMap::new();
    let mut shard_of = BTreeMap::new();
    for f in std::fs::read_dir(out.join("search/t")).unwrap() {
        let args = call_args(&f.unwrap().path());
        let key = args[0].as_str().unwrap().to_string();
        for (term, postings) in args[1].as_object().unwrap() {
            assert!(
                terms
                    .insert(term.clone(), decode(postings.as_str().unwrap()))
                    .is_none(),
                "{term} in two shards"
            );
            shard_of.insert(term.clone(), key.clone());
        }
    }
    let mut facets = BTreeMap::new();
    for f in std::fs::read_dir(out.join("search/f")).unwrap() {
        let args = call_args(&f.unwrap().path());
        facets.insert(
            args[0].as_str().unwrap().to_string(),
            decode(args[1].as_str().unwrap()),
        );
    }
    Index {
        meta,
        docs,
        terms,
        shard_of,
        facets,
    }
}

impl Index {
    /// The document number of a quote.
    fn quote_doc(&self, id: &str) -> Option<u32> {
        self.docs
            .iter()
            .position(|d| d[0] == "q" && d[1] == id)
            .map(|n| n as u32)
    }

    /// Quote ids whose documents a folded term lists.
    fn quotes_for(&self, term: &str) -> BTreeSet<String> {
        self.terms
            .get(term)
            .map(|docs| {
                docs.iter()
                    .map(|&d| &self.docs[d as usize])
                    .filter(|d| d[0] == "q")
                    .map(|d| d[1].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The shard a term must be in, by the rule search.js follows with meta.js.
    fn expected_shard(&self, term: &str) -> String {
        let (prefix, split) = split_of(&self.meta);
        shard_key(term, prefix, &split)
    }
}

fn built(fixture: &str, extra: &[&str]) -> (TestStudy, Index) {
    let study = TestStudy::fixture(fixture);
    study.build_with(extra).assert_ok();
    let index = read_index(&study.out());
    (study, index)
}

#[test]
fn every_word_of_every_published_quote_finds_it_in_its_shard() {
    for fixture in ["riverside", "minimal"] {
        let (study, index) = built(fixture, &[]);
        let facts = study.facts();
        let published = facts.published_quotes(false);
        for q in &published {
            let doc = index
                .quote_doc(&q.id)
                .unwrap_or_else(|| panic!("{fixture}: {} is not in the index", q.id));
            for text in q.searched_texts() {
                for w in words(text) {
                    let found = index.terms.get(&w).is_some_and(|d| d.contains(&doc));
                    assert!(found, "{fixture}: `{w}` does not find {}", q.id);
                    assert_eq!(
                        index.shard_of[&w],
                        index.expected_shard(&w),
                        "{fixture}: `{w}` is in the wrong shard"
                    );
                }
            }
        }
        // The documents are exactly the published quotes, plus the pages.
        let ids: BTreeSet<String> = index
            .docs
            .iter()
            .filter(|d| d[0] == "q")
            .map(|d| d[1].as_str().unwrap().to_string())
            .collect();
        let want: BTreeSet<String> = published.iter().map(|q| q.id.clone()).collect();
        assert_eq!(ids, want, "{fixture}");
    }
}

#[test]
fn case_and_diacritics_are_folded_and_umlauts_have_both_spellings() {
    let (_study, index) = built("riverside", &[]);
    let sp02: BTreeSet<String> = ["sp-02".to_string()].into();
    // "ônibus" is indexed as "onibus": "ONIBUS", "onibus" and "ônibus" all fold to it.
    for query in ["ônibus", "ONIBUS", "Onibus", "ÔNIBUS"] {
        assert_eq!(index.quotes_for(&fold(query)), sp02, "{query}");
    }
    // "müde": as "mude", and as "muede" for keyboards without umlauts.
    assert_eq!(index.quotes_for("mude"), sp02);
    assert_eq!(index.quotes_for("muede"), sp02);
    // Hebrew and Arabic originals.
    assert_eq!(index.quotes_for("מרק"), ["hf-01".to_string()].into());
    assert_eq!(index.quotes_for("الوقت"), ["hf-02".to_string()].into());
    // Portuguese with its accent folded away.
    assert_eq!(index.quotes_for("familia"), ["sp-01".to_string()].into());
}

#[test]
fn drafts_are_indexed_only_when_drafts_are_built() {
    let (_study, index) = built("riverside", &[]);
    assert!(index.quote_doc("hf-05").is_none());
    assert!(index.quotes_for("hf05").is_empty());
    assert!(!index.terms.contains_key("hf05"), "a draft quote's word");
    let all = std::fs::read_dir(_study.out().join("search/d"))
        .unwrap()
        .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
        .collect::<String>();
    assert!(!all.contains("DRAFT-QUOTE-HF05"));
    assert!(!all.contains("Draft notes"), "a draft finding's title");

    let (_study, index) = built("riverside", &["--drafts"]);
    assert_eq!(index.quotes_for("hf05"), ["hf-05".to_string()].into());
}

#[test]
fn withdrawn_participants_are_never_indexed() {
    let (study, index) = built("privacy", &[]);
    assert!(index.docs.iter().all(|d| d[2] != "W-07"));
    assert!(index.quotes_for("withdrawn").is_empty());
    for f in list_files(&study.out().join("search")) {
        let text = std::fs::read_to_string(study.out().join("search").join(&f)).unwrap();
        assert!(!text.contains("WITHDRAWN-TOKEN"), "search/{f}");
        assert!(!text.contains("content/"), "search/{f} names a source path");
    }
}

#[test]
fn facets_list_the_quotes_of_each_site_group_and_theme_with_subthemes() {
    let (study, index) = built("riverside", &[]);
    let facts = study.facts();
    let published = facts.published_quotes(false);
    let ids_of = |docs: &BTreeSet<u32>| -> BTreeSet<String> {
        docs.iter()
            .map(|&d| index.docs[d as usize][1].as_str().unwrap().to_string())
            .collect()
    };
    for (i, site) in index.meta["sites"].as_array().unwrap().iter().enumerate() {
        let id = site[0].as_str().unwrap();
        let want: BTreeSet<String> = published
            .iter()
            .filter(|q| q.site == id)
            .map(|q| q.id.clone())
            .collect();
        assert_eq!(
            ids_of(&index.facets[&format!("site-{i}")]),
            want,
            "site {id}"
        );
    }
    for (i, group) in index.meta["groups"].as_array().unwrap().iter().enumerate() {
        let id = group[0].as_str().unwrap();
        let want: BTreeSet<String> = published
            .iter()
            .filter(|q| q.group == id)
            .map(|q| q.id.clone())
            .collect();
        assert_eq!(
            ids_of(&index.facets[&format!("group-{i}")]),
            want,
            "group {id}"
        );
    }
    for (i, theme) in index.meta["themes"].as_array().unwrap().iter().enumerate() {
        let id = theme[0].as_str().unwrap();
        let want: BTreeSet<String> = facts
            .quotes_of_theme(id, false)
            .iter()
            .map(|q| q.id.clone())
            .collect();
        assert_eq!(
            ids_of(&index.facets[&format!("theme-{i}")]),
            want,
            "theme {id}"
        );
    }
}

#[test]
fn pages_are_found_by_their_titles_and_lead_to_them() {
    let (study, index) = built("riverside", &[]);
    let facts = study.facts();
    for t in facts.themes.iter().filter(|t| !t.draft) {
        let doc = index
            .docs
            .iter()
            .position(|d| d[0] == "t" && d[1] == t.title.as_str())
            .unwrap_or_else(|| panic!("theme {} is not in the index", t.id))
            as u32;
        assert_eq!(
            index.docs[doc as usize][2],
            format!("themes/{}/index.html", t.id)
        );
        for w in words(&t.title) {
            assert!(
                index.terms[&w].contains(&doc),
                "`{w}` does not find theme {}",
                t.id
            );
        }
    }
    // Every quote's link leads to an anchor on a page that exists.
    let out = study.out();
    for d in index.docs.iter().filter(|d| d[0] == "q") {
        let url = d[5].as_str().unwrap();
        let (page, anchor) = url.split_once('#').unwrap();
        let html = read_page(&out, page);
        assert!(html.contains(&format!("id=\"{anchor}\"")), "{url}");
    }
}

#[test]
fn the_index_is_the_same_bytes_in_every_build() {
    let study = TestStudy::fixture("riverside");
    study.build().assert_ok();
    let first = snapshot(&study.out().join("search"));
    study.build().assert_ok();
    assert_same_snapshot(&first, &snapshot(&study.out().join("search")), "search/");
}

#[test]
fn each_theme_at_a_site_is_found_by_its_title_and_the_site_country() {
    // "What did participants in Malawi say about paperwork?": the page of a
    // theme at a site answers it, so both words must find that page.
    let (study, index) = built("riverside", &[]);
    let out = study.out();
    let mut pages = 0;
    for page in html_files(&out) {
        let parts: Vec<&str> = page.split('/').collect();
        let [first, _theme, site, "index.html"] = parts[..] else {
            continue;
        };
        if first != "themes" || site == "page" {
            continue;
        }
        pages += 1;
        let doc = index
            .docs
            .iter()
            .position(|d| d[0] == "ts" && d[2] == page.as_str())
            .unwrap_or_else(|| panic!("{page} is not in the index")) as u32;
        let title = index.docs[doc as usize][1].as_str().unwrap().to_string();
        let html = read_page(&out, &page);
        assert!(
            html.contains(&format!("<title>{}", title.replace('&', "&amp;"))),
            "{page}: the result's title {title:?} is not the page's"
        );
        let site_file = study.read(&format!("content/sites/{site}.md"));
        let country = site_file
            .lines()
            .find_map(|l| l.strip_prefix("country: "))
            .unwrap_or_else(|| panic!("{site} has no country"));
        for w in words(&title).into_iter().chain(words(country)) {
            assert!(index.terms[&w].contains(&doc), "`{w}` does not find {page}");
        }
    }
    assert!(pages > 10, "only {pages} theme-by-site pages");
}
