//! The open data files in `data/` (issue 7): quotes.csv and quotes.json,
//! codebook.json, codebook.qdc, sites.json, groups.json, and the data page.
//!
//! Every expectation comes from an independent reading of the fixture's files
//! (`common::facts`, and the quote YAML read here for `original` and `context`),
//! never from thematic's own code. CSV is read back with the `csv` crate, JSON with
//! serde_json, and codebook.qdc is validated against the REFI-QDA codebook schema
//! (`tests/fixtures/schema/Codebook-v1.0.xsd`) by `tests/tools/XsdValidate.java` on
//! the machine's Java (scripts/test installs one).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use serde_yaml::{Mapping, Value as Yaml};

use common::facts::Quote;
use common::*;

/// The data files every build writes (codebook.qdc too when the study has themes).
const DATA_FILES: [&str; 6] = [
    "quotes.csv",
    "quotes.json",
    "codebook.json",
    "codebook.qdc",
    "sites.json",
    "groups.json",
];

/// The columns of quotes.csv, as docs/open-data.md documents them.
const COLUMNS: [&str; 13] = [
    "id",
    "participant",
    "site_id",
    "site_title",
    "group_id",
    "group_title",
    "theme_ids",
    "text",
    "original_lang",
    "original_text",
    "context",
    "url",
    "draft",
];

// ---------------------------------------------------------------------------
// Building and reading
// ---------------------------------------------------------------------------

/// Builds `s` into `ROOT/NAME` with `extra` arguments, asserts success, returns the folder.
#[track_caller]
fn build_into(s: &TestStudy, name: &str, extra: &[&str]) -> PathBuf {
    let out = s.root().join(name);
    s.build_into(&out, extra).assert_ok();
    out
}

#[track_caller]
fn build(s: &TestStudy) -> PathBuf {
    build_into(s, "site", &[])
}

fn read_text(out: &Path, file: &str) -> String {
    let path = out.join("data").join(file);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn read_json(out: &Path, file: &str) -> Value {
    let text = read_text(out, file);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("data/{file} is not JSON: {e}"))
}

/// A JSON string field, or `None` for null (anything else fails).
#[track_caller]
fn opt_str<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    match &v[key] {
        Value::Null => None,
        Value::String(s) => Some(s),
        other => panic!("`{key}` is neither a string nor null: {other}"),
    }
}

#[track_caller]
fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    opt_str(v, key).unwrap_or_else(|| panic!("`{key}` is null in {v}"))
}

fn list<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("`{key}` is not a list in {v}"))
}

/// The characters before which quotes.csv puts a `'` (docs/open-data.md).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// True when quotes.csv puts a `'` in front of `value`: it starts with a formula
/// character, possibly after apostrophes.
fn guarded(value: &str) -> bool {
    value.trim_start_matches('\'').starts_with(FORMULA_STARTS)
}

/// Undoes the CSV's formula guard: the first `'` of a field that starts with
/// apostrophes and then a formula character.
fn unguard(field: &str) -> String {
    match field.strip_prefix('\'') {
        Some(rest) if guarded(rest) => rest.to_string(),
        _ => field.to_string(),
    }
}

/// quotes.csv as records keyed by column name (formula guard undone), after checking
/// the bytes: UTF-8 without a BOM, CRLF after every record, the header row.
fn read_csv(out: &Path) -> Vec<BTreeMap<String, String>> {
    let bytes = fs::read(out.join("data/quotes.csv")).expect("data/quotes.csv");
    assert!(
        !bytes.starts_with(b"\xEF\xBB\xBF"),
        "quotes.csv starts with a BOM"
    );
    let text = String::from_utf8(bytes.clone()).expect("quotes.csv is UTF-8");
    assert!(text.ends_with("\r\n"), "quotes.csv does not end with CRLF");
    let header = text.split("\r\n").next().unwrap();
    assert_eq!(header, COLUMNS.join(","), "the header row");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes.as_slice());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.expect("an RFC 4180 record");
            assert_eq!(
                r.len(),
                headers.len(),
                "a record with the wrong field count"
            );
            headers.iter().cloned().zip(r.iter().map(unguard)).collect()
        })
        .collect()
}

/// `original` and `context` of every quote, read from the quote files.
#[derive(Debug, Clone, Default, PartialEq)]
struct Extra {
    original: Option<(String, String)>,
    context: Option<String>,
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

fn quote_extras(study: &Path) -> BTreeMap<String, Extra> {
    let mut files = Vec::new();
    yaml_files(&study.join("content/quotes"), &mut files);
    let mut out = BTreeMap::new();
    for f in files {
        let value: Yaml = serde_yaml::from_str(&fs::read_to_string(&f).unwrap()).unwrap();
        let (defaults, items) = match value {
            Yaml::Sequence(s) => (Mapping::new(), s),
            Yaml::Mapping(m) => (
                m.get("defaults")
                    .and_then(Yaml::as_mapping)
                    .cloned()
                    .unwrap_or_default(),
                m.get("quotes")
                    .and_then(Yaml::as_sequence)
                    .cloned()
                    .unwrap_or_default(),
            ),
            _ => continue,
        };
        for item in items {
            let mut q = defaults.clone();
            for (k, v) in item.as_mapping().unwrap() {
                q.insert(k.clone(), v.clone());
            }
            let s = |m: &Mapping, k: &str| m.get(k).and_then(Yaml::as_str).map(str::to_string);
            let original = q
                .get("original")
                .and_then(Yaml::as_mapping)
                .map(|o| (s(o, "lang").unwrap(), s(o, "text").unwrap()));
            out.insert(
                s(&q, "id").unwrap(),
                Extra {
                    original,
                    context: s(&q, "context"),
                },
            );
        }
    }
    out
}

/// The withdrawn participant codes of `content/privacy.yaml`, folded to lower case.
fn withdrawn_codes(study: &Path) -> BTreeSet<String> {
    let Ok(text) = fs::read_to_string(study.join("content/privacy.yaml")) else {
        return BTreeSet::new();
    };
    let policy: Yaml = serde_yaml::from_str(&text).unwrap();
    policy["withdrawn"]
        .as_sequence()
        .map(|s| {
            s.iter()
                .filter_map(Yaml::as_str)
                .map(|c| c.trim().to_lowercase())
                .collect()
        })
        .unwrap_or_default()
}

/// The quotes a build publishes, in study order: drafts left out (unless `drafts`),
/// withdrawn participants' quotes left out, themes reduced to the published ones.
fn published_quotes(s: &TestStudy, drafts: bool) -> Vec<Quote> {
    let withdrawn = withdrawn_codes(s.dir());
    s.facts()
        .published_quotes(drafts)
        .into_iter()
        .filter(|q| !withdrawn.contains(&q.participant.trim().to_lowercase()))
        .collect()
}

fn title_of(pages: &[common::facts::Page], id: &str) -> String {
    pages
        .iter()
        .find(|p| p.id == id)
        .unwrap_or_else(|| panic!("no page {id}"))
        .title
        .clone()
}

/// Checks quotes.csv and quotes.json of `out` against the study's published quotes.
#[track_caller]
fn assert_quotes_match(s: &TestStudy, out: &Path, drafts: bool) {
    let facts = s.facts();
    let expected = published_quotes(s, drafts);
    let extras = quote_extras(s.dir());
    let json = read_json(out, "quotes.json");
    assert_eq!(json["version"], 1);
    let quotes = list(&json, "quotes");
    let rows = read_csv(out);
    let owned = |v: Vec<&str>| v.into_iter().map(str::to_string).collect::<Vec<_>>();
    let want: Vec<String> = expected.iter().map(|q| q.id.clone()).collect();
    assert_eq!(
        owned(quotes.iter().map(|q| str_of(q, "id")).collect()),
        want,
        "quotes.json: the published quotes in study order"
    );
    assert_eq!(
        owned(rows.iter().map(|r| r["id"].as_str()).collect()),
        want,
        "quotes.csv: the published quotes in study order"
    );
    for ((q, j), r) in expected.iter().zip(quotes).zip(&rows) {
        let extra = extras.get(&q.id).cloned().unwrap_or_default();
        let ctx = format!("quote {}", q.id);
        // JSON: every text byte for byte.
        assert_eq!(str_of(j, "participant"), q.participant, "{ctx}");
        assert_eq!(str_of(&j["site"], "id"), q.site, "{ctx}");
        assert_eq!(
            str_of(&j["site"], "title"),
            title_of(&facts.sites, &q.site),
            "{ctx}"
        );
        assert_eq!(str_of(&j["group"], "id"), q.group, "{ctx}");
        assert_eq!(
            str_of(&j["group"], "title"),
            title_of(&facts.groups, &q.group),
            "{ctx}"
        );
        let themes: Vec<&str> = list(j, "themes")
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert_eq!(themes, q.themes, "{ctx}");
        assert_eq!(str_of(j, "text").as_bytes(), q.text.as_bytes(), "{ctx}");
        match &extra.original {
            Some((lang, text)) => {
                assert_eq!(str_of(&j["original"], "lang"), lang, "{ctx}");
                assert_eq!(str_of(&j["original"], "text").as_bytes(), text.as_bytes());
            }
            None => assert!(j["original"].is_null(), "{ctx}: original should be null"),
        }
        assert_eq!(opt_str(j, "context"), extra.context.as_deref(), "{ctx}");
        let url = format!("themes/{}/index.html#q-{}", q.themes[0], q.id);
        assert_eq!(str_of(j, "url"), url, "{ctx}");
        assert_eq!(j["draft"], Value::Bool(q.draft), "{ctx}");
        // CSV: the same, flattened.
        assert_eq!(r["participant"], q.participant, "{ctx}");
        assert_eq!(r["site_id"], q.site, "{ctx}");
        assert_eq!(r["site_title"], title_of(&facts.sites, &q.site), "{ctx}");
        assert_eq!(r["group_id"], q.group, "{ctx}");
        assert_eq!(r["group_title"], title_of(&facts.groups, &q.group), "{ctx}");
        assert_eq!(r["theme_ids"], q.themes.join(";"), "{ctx}");
        assert_eq!(r["text"].as_bytes(), q.text.as_bytes(), "{ctx}");
        let (lang, text) = extra.original.clone().unwrap_or_default();
        assert_eq!(r["original_lang"], lang, "{ctx}");
        assert_eq!(r["original_text"].as_bytes(), text.as_bytes(), "{ctx}");
        assert_eq!(
            r["context"],
            extra.context.clone().unwrap_or_default(),
            "{ctx}"
        );
        assert_eq!(r["url"], url, "{ctx}");
        assert_eq!(r["draft"], q.draft.to_string(), "{ctx}");
        // The URL leads to the quote.
        let page = read_page(out, &format!("themes/{}/index.html", q.themes[0]));
        assert!(
            ids(&page).contains(&format!("q-{}", q.id)),
            "{ctx}: {url} has no anchor"
        );
    }
}

// ---------------------------------------------------------------------------
// Quotes
// ---------------------------------------------------------------------------

#[test]
fn quotes_csv_and_json_hold_exactly_the_published_quotes() {
    for fixture in ["minimal", "riverside", "privacy"] {
        let s = TestStudy::fixture(fixture);
        let out = build(&s);
        assert_quotes_match(&s, &out, false);
    }
}

#[test]
fn a_drafts_build_marks_draft_quotes_and_still_leaves_out_withdrawn_ones() {
    let s = TestStudy::fixture("privacy");
    let out = build_into(&s, "drafts", &["--drafts"]);
    assert_quotes_match(&s, &out, true);
    let json = read_json(&out, "quotes.json");
    let drafts: Vec<&str> = list(&json, "quotes")
        .iter()
        .filter(|q| q["draft"] == Value::Bool(true))
        .map(|q| str_of(q, "id"))
        .collect();
    assert_eq!(drafts, ["d-01"], "the fixture's one draft quote, marked");
}

#[test]
fn the_example_study_publishes_its_quotes_as_data() {
    let s = TestStudy::example();
    let out = build(&s);
    assert_quotes_match(&s, &out, false);
}

/// A quote file whose texts are hard on CSV: commas, double quotes, line breaks,
/// paragraphs, formula characters, and non-Latin scripts.
const TRICKY: &str = r#"- id: t-01
  participant: "-T-01"
  site: alpha
  group: early
  themes: [care, waiting]
  text: "=SUM(A1:A9), she said, \"that is all\";\nthen she left.\n\nA second paragraph, with a comma."
  original:
    lang: de
    text: "+ Grüße, \"so\" ist es\nzwei Zeilen"
  context: "@front desk, asked: \"why?\""
- id: t-02
  participant: T-02
  site: beta
  group: late
  themes: [access]
  text: "'=already guarded looking"
  context: "-- a dash first"
- id: t-03
  participant: T-03
  site: beta
  group: late
  themes: [waiting]
  text: |-
    Plain lines, "quoted", and a trailing comma,

    東京 and عربي and עברית in one quote.
  original:
    lang: ar
    text: "نص عربي، مع فاصلة"
"#;

#[test]
fn tricky_texts_round_trip_through_csv_and_json() {
    let s = TestStudy::fixture("minimal");
    s.write("content/quotes/tricky.yaml", TRICKY);
    let out = build(&s);
    assert_quotes_match(&s, &out, false);
    let csv = read_text(&out, "quotes.csv");
    // The formula guard is visible in the raw CSV, and only there.
    assert!(
        csv.contains("t-01,'-T-01,"),
        "participant code not guarded:\n{csv}"
    );
    assert!(csv.contains("\"'=SUM(A1:A9), she said, \"\"that is all\"\";\nthen she left.\n\nA second paragraph, with a comma.\""));
    assert!(csv.contains("\"'+ Grüße, \"\"so\"\" ist es\nzwei Zeilen\""));
    assert!(csv.contains("\"'@front desk, asked: \"\"why?\"\"\""));
    assert!(
        csv.contains(",''=already guarded looking,"),
        "a text starting with ' and a formula character gets a second ':\n{csv}"
    );
    assert!(csv.contains(",'-- a dash first,"));
    // Records end in CRLF; line breaks inside fields stay LF, as written.
    assert_eq!(
        csv.matches("\r\n").count(),
        1 + published_quotes(&s, false).len()
    );
    let json = read_text(&out, "quotes.json");
    assert!(!json.contains("'=SUM"), "the JSON has no guard");
    assert!(json.contains("\"text\": \"'=already guarded looking\""));
    assert!(!json.contains("'-T-01"));
}

// ---------------------------------------------------------------------------
// Nothing unpublished
// ---------------------------------------------------------------------------

/// Every data file's text.
fn data_texts(out: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for entry in fs::read_dir(out.join("data")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        files.push((name, fs::read_to_string(entry.path()).unwrap()));
    }
    files.sort();
    files
}

#[track_caller]
fn assert_in_no_data_file(out: &Path, needle: &str) {
    let lower = needle.to_lowercase();
    for (name, text) in data_texts(out) {
        assert!(
            !text.to_lowercase().contains(&lower),
            "data/{name} contains {needle:?}"
        );
    }
}

#[test]
fn withdrawn_draft_and_private_material_is_in_no_data_file() {
    let s = TestStudy::fixture("privacy");
    // A theme body that links to and embeds withdrawn quotes, has a comment, and
    // links a draft quote: the pages show the link texts only.
    s.edit(
        "content/themes/trust.md",
        "Quotes about trust in staff.",
        "Quotes about trust in staff. See [what one said](quote:w-01) and\n\
         [an unfinished one](quote:d-01).\n\n![](quote:w-02)\n\n\
         <!-- PRIVATE-THEME-NOTE: ask W-07 again -->\nTrust [grew][later].\n\n\
         [later]: quote:w-03\n",
    );
    let out = build(&s);
    let facts = s.facts();
    let withdrawn = withdrawn_codes(s.dir());
    for q in &facts.quotes {
        if withdrawn.contains(&q.participant.to_lowercase()) || q.draft {
            assert_in_no_data_file(&out, &format!("quote:{}", q.id));
            assert_in_no_data_file(&out, &format!("q-{}", q.id));
            assert_in_no_data_file(&out, &format!("\"{}\"", q.id));
            assert_in_no_data_file(&out, &q.text);
        }
    }
    for needle in [
        "WITHDRAWN-TOKEN",
        "W-07",
        "DRAFT-TOKEN",
        "PRIVATE-THEME-NOTE",
        "PRIVATE-NOTE",
        // Nothing of the policy file, and no source paths.
        "privacy.yaml",
        "José Müller",
        "Port Royal",
        "St. Elsewhere",
        "min_cell_participants",
        "small_cells",
        "content/",
        ".yaml",
        ".md\"",
        &s.dir().to_string_lossy(),
    ] {
        assert_in_no_data_file(&out, needle);
    }
    // The link texts stay, as on the page.
    let codebook = read_json(&out, "codebook.json");
    let trust = list(&codebook, "themes")
        .iter()
        .find(|t| t["id"] == "trust")
        .unwrap();
    let description = str_of(trust, "description");
    assert!(description.contains("See what one said and\nan unfinished one."));
    assert!(description.contains("Trust grew."), "{description}");
    let qdc = read_text(&out, "codebook.qdc");
    assert!(qdc.contains("See what one said and"), "{qdc}");
}

#[test]
fn draft_themes_sites_and_groups_are_left_out_unless_drafts_are_built() {
    let s = TestStudy::fixture("riverside");
    let out = build(&s);
    let drafts = build_into(&s, "drafts", &["--drafts"]);
    let facts = s.facts();
    let themes = |out: &Path| -> BTreeSet<String> {
        list(&read_json(out, "codebook.json"), "themes")
            .iter()
            .map(|t| str_of(t, "id").to_string())
            .collect()
    };
    assert_eq!(themes(&out), facts.published_themes(false));
    assert_eq!(themes(&drafts), facts.published_themes(true));
    assert!(!themes(&out).contains("rumours") && themes(&drafts).contains("rumours"));
    assert!(!read_text(&out, "codebook.qdc").contains("Rumours"));
    assert_quotes_match(&s, &drafts, true);
}

// ---------------------------------------------------------------------------
// Codebook, sites and groups
// ---------------------------------------------------------------------------

/// Distinct participants among quotes: a code at two sites counts twice.
fn participants(quotes: &[Quote]) -> usize {
    quotes
        .iter()
        .map(|q| (q.site.clone(), q.participant.clone()))
        .collect::<BTreeSet<_>>()
        .len()
}

/// `counts` as the pages show them, with k the suppression threshold (0: none).
#[track_caller]
fn assert_counts(v: &Value, quotes: &[Quote], k: usize, what: &str) {
    let c = &v["counts"];
    assert_eq!(c["quotes"], quotes.len(), "{what}: quotes");
    let p = participants(quotes);
    if p > 0 && p < k {
        assert!(c["participants"].is_null(), "{what}: {p} should be hidden");
        assert_eq!(c["participants_below"], k, "{what}");
    } else {
        assert_eq!(c["participants"], p, "{what}: participants");
        assert!(c["participants_below"].is_null(), "{what}");
    }
}

#[test]
fn codebook_json_is_the_theme_tree_in_codebook_order() {
    let s = TestStudy::fixture("riverside");
    let out = build(&s);
    let facts = s.facts();
    let json = read_json(&out, "codebook.json");
    assert_eq!(json["version"], 1);
    assert_eq!(
        str_of(&json["study"], "title"),
        "Riverside: waiting, belonging & repair in three cities"
    );
    let themes = list(&json, "themes");
    let published = facts.published_themes(false);
    assert_eq!(themes.len(), published.len());
    let quotes = published_quotes(&s, false);
    let mut seen: Vec<String> = Vec::new();
    for t in themes {
        let id = str_of(t, "id");
        let page = facts.themes.iter().find(|p| p.id == id).unwrap();
        assert!(published.contains(id));
        assert_eq!(opt_str(t, "parent"), page.parent.as_deref(), "{id}: parent");
        if let Some(p) = &page.parent {
            assert!(seen.contains(p), "{id} comes before its parent {p}");
        }
        assert_eq!(t["depth"], facts.depth(id), "{id}: depth");
        assert_eq!(t["order"], serde_json::json!(page.order), "{id}: order");
        assert_eq!(str_of(t, "title"), page.title, "{id}: title");
        let children: BTreeSet<&str> = list(t, "children")
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let want: BTreeSet<&str> = facts
            .themes
            .iter()
            .filter(|c| c.parent.as_deref() == Some(id) && published.contains(&c.id))
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(children, want, "{id}: children");
        assert_eq!(str_of(t, "url"), format!("themes/{id}/index.html"));
        let mine: Vec<Quote> = quotes
            .iter()
            .filter(|q| {
                q.themes
                    .iter()
                    .any(|qt| facts.lineage(qt).iter().any(|a| a == id))
            })
            .cloned()
            .collect();
        assert_counts(t, &mine, 0, id);
        seen.push(id.to_string());
    }
    // Siblings keep the fixture's order: belonging (order 1) before waiting.
    let pos = |id: &str| seen.iter().position(|s| s == id).unwrap();
    assert!(pos("belonging") < pos("waiting"));
    // Summary, Markdown description and colour as written.
    let belonging = &themes[pos("belonging")];
    assert_eq!(
        opt_str(belonging, "summary"),
        Some("Feeling part of something larger than oneself.")
    );
    assert_eq!(
        str_of(belonging, "description"),
        "Belonging came up at every site. See [kinship](theme:kinship) and\n[faith](theme:faith)."
    );
    assert_eq!(opt_str(belonging, "color"), Some("#2a6f97"));
}

#[test]
fn sites_and_groups_json_list_every_published_site_and_group() {
    let s = TestStudy::fixture("riverside");
    let out = build(&s);
    let facts = s.facts();
    let quotes = published_quotes(&s, false);
    let sites = read_json(&out, "sites.json");
    let ids: BTreeSet<String> = list(&sites, "sites")
        .iter()
        .map(|x| str_of(x, "id").to_string())
        .collect();
    assert_eq!(ids, facts.published_sites(false));
    for site in list(&sites, "sites") {
        let id = str_of(site, "id");
        assert_eq!(str_of(site, "title"), title_of(&facts.sites, id));
        assert_eq!(str_of(site, "url"), format!("sites/{id}/index.html"));
        let mine: Vec<Quote> = quotes.iter().filter(|q| q.site == id).cloned().collect();
        assert_counts(site, &mine, 0, id);
    }
    let haifa = list(&sites, "sites")
        .iter()
        .find(|x| x["id"] == "haifa")
        .unwrap();
    assert_eq!(opt_str(haifa, "country"), Some("Israel"));
    assert_eq!(opt_str(haifa, "income_level"), Some("high"));
    assert_eq!(haifa["languages"], serde_json::json!(["he", "ar"]));
    assert_eq!(haifa["participants_interviewed"], 4);
    assert_eq!(
        str_of(haifa, "description"),
        "Interviews in Hebrew and Arabic."
    );

    let groups = read_json(&out, "groups.json");
    let ids: BTreeSet<String> = list(&groups, "groups")
        .iter()
        .map(|x| str_of(x, "id").to_string())
        .collect();
    assert_eq!(ids, facts.published_groups(false));
    for group in list(&groups, "groups") {
        let id = str_of(group, "id");
        assert_eq!(str_of(group, "title"), title_of(&facts.groups, id));
        let mine: Vec<Quote> = quotes.iter().filter(|q| q.group == id).cloned().collect();
        assert_counts(group, &mine, 0, id);
    }
}

#[test]
fn small_counts_are_suppressed_as_on_the_pages() {
    // privacy.yaml: min_cell_participants 3, small_cells suppress. A theme with one
    // quote has one participant: the pages say "<3", the data gives no number.
    let s = TestStudy::fixture("privacy");
    s.write(
        "content/themes/rare.md",
        "---\ntitle: Rare\nsummary: Said once.\n---\nOnly one participant spoke of it.\n",
    );
    s.edit(
        "content/quotes/plains.yaml",
        "themes: [waiting]\n    text: I brought a book",
        "themes: [waiting, rare]\n    text: I brought a book",
    );
    let out = build(&s);
    let quotes = published_quotes(&s, false);
    let facts = s.facts();
    let codebook = read_json(&out, "codebook.json");
    for t in list(&codebook, "themes") {
        let id = str_of(t, "id");
        let mine: Vec<Quote> = quotes
            .iter()
            .filter(|q| {
                q.themes
                    .iter()
                    .any(|qt| facts.lineage(qt).iter().any(|a| a == id))
            })
            .cloned()
            .collect();
        assert_counts(t, &mine, 3, id);
    }
    let rare = list(&codebook, "themes")
        .iter()
        .find(|t| t["id"] == "rare")
        .unwrap();
    assert_eq!(
        rare["counts"],
        serde_json::json!({"quotes": 1, "participants": null, "participants_below": 3})
    );
    // The theme page agrees.
    let page = read_page(&out, "themes/rare/index.html");
    assert!(page.contains("fewer than 3 participants"));
    for (file, key) in [("sites.json", "sites"), ("groups.json", "groups")] {
        for x in list(&read_json(&out, file), key) {
            let id = str_of(x, "id");
            let mine: Vec<Quote> = quotes
                .iter()
                .filter(|q| {
                    if key == "sites" {
                        q.site == id
                    } else {
                        q.group == id
                    }
                })
                .cloned()
                .collect();
            assert_counts(x, &mine, 3, id);
        }
    }
}

// ---------------------------------------------------------------------------
// codebook.qdc
// ---------------------------------------------------------------------------

/// One `Code` of a .qdc file.
#[derive(Debug, Clone, PartialEq)]
struct Code {
    guid: String,
    name: String,
    is_codable: String,
    color: Option<String>,
    description: Option<String>,
    parent: Option<String>,
}

/// The value of attribute `name` in the start tag `tag` (`<Code a="..." ...`).
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = start + tag[start..].find('"')?;
    Some(decode_entities(&tag[start..end]))
}

/// Every `Code` of a .qdc file, in document order, with its parent's GUID.
fn qdc_codes(xml: &str) -> Vec<Code> {
    let mut codes: Vec<Code> = Vec::new();
    let mut open: Vec<String> = Vec::new();
    let mut i = 0;
    while let Some(off) = xml[i..].find('<') {
        let start = i + off;
        let end = start + xml[start..].find('>').expect("a closed tag");
        let tag = &xml[start..=end];
        i = end + 1;
        if tag.starts_with("<Code ") {
            let code = Code {
                guid: attr(tag, "guid").expect("guid"),
                name: attr(tag, "name").expect("name"),
                is_codable: attr(tag, "isCodable").expect("isCodable"),
                color: attr(tag, "color"),
                description: None,
                parent: open.last().cloned(),
            };
            if !tag.ends_with("/>") {
                open.push(code.guid.clone());
            }
            codes.push(code);
        } else if tag == "</Code>" {
            open.pop().expect("balanced Code elements");
        } else if tag == "<Description>" {
            let close = i + xml[i..].find("</Description>").expect("</Description>");
            let text = decode_entities(&xml[i..close]);
            let owner = open.last().expect("a Description inside a Code");
            let code = codes.iter_mut().rev().find(|c| &c.guid == owner).unwrap();
            code.description = Some(text);
            i = close;
        }
    }
    assert!(open.is_empty(), "unclosed Code elements");
    codes
}

/// Validates `files` against the REFI-QDA codebook schema in one run of the JVM,
/// failing with the validator's messages and the invalid files.
#[track_caller]
fn assert_valid_qdc(files: &[PathBuf]) {
    let root = repo_root();
    let run = Command::new("java")
        .arg(root.join("tests/tools/XsdValidate.java"))
        .arg(root.join("tests/fixtures/schema/Codebook-v1.0.xsd"))
        .args(files)
        .output()
        .expect("run java (scripts/test installs a Java runtime)");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    if !run.status.success() {
        let invalid: Vec<String> = files
            .iter()
            .filter(|f| !stdout.contains(&format!("{}: valid", f.display())))
            .map(|f| {
                format!(
                    "--- {} ---\n{}",
                    f.display(),
                    fs::read_to_string(f).unwrap_or_default()
                )
            })
            .collect();
        panic!(
            "not valid against the REFI-QDA codebook schema:\n{stdout}{stderr}\n{}",
            invalid.join("\n")
        );
    }
    for f in files {
        assert!(
            stdout.contains(&format!("{}: valid", f.display())),
            "the validator did not check {}:\n{stdout}",
            f.display()
        );
    }
}

/// GUIDs by theme title, for a study whose titles are unique.
fn guids_by_name(out: &Path) -> BTreeMap<String, String> {
    qdc_codes(&read_text(out, "codebook.qdc"))
        .into_iter()
        .map(|c| (c.name, c.guid))
        .collect()
}

#[test]
fn codebook_qdc_is_valid_refi_qda_for_every_fixture_and_the_example() {
    let mut studies = vec![
        TestStudy::fixture("minimal"),
        TestStudy::fixture("riverside"),
        TestStudy::fixture("privacy"),
        TestStudy::example(),
    ];
    // Titles, summaries and bodies that need escaping, and colours in other forms.
    let s = TestStudy::fixture("minimal");
    s.write(
        "content/themes/care.md",
        "---\ntitle: \"Care & <support> \\\"now\\\"\"\norder: 1\nsummary: \"A < B && C > D, 'quoted'\"\ncolor: \"#ABC\"\n---\n\
         Body with <b>markup</b> & an ampersand.\n\n<!-- never -->\n```\n]]> <![CDATA[ x\n```\n",
    );
    s.write(
        "content/themes/access.md",
        "---\ntitle: Access\norder: 2\ncolor: red\n---\n",
    );
    studies.push(s);
    let mut qdc_files = Vec::new();
    for s in &studies {
        let out = build(s);
        qdc_files.push(out.join("data/codebook.qdc"));
        let xml = read_text(&out, "codebook.qdc");
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CodeBook xmlns=\"urn:QDA-XML:codebook:1.0\""));
        let facts = s.facts();
        let published = facts.published_themes(false);
        let codes = qdc_codes(&xml);
        assert_eq!(codes.len(), published.len(), "one code per theme");
        // The tree: a code's parent is its theme's parent.
        let by_guid: BTreeMap<&str, &Code> = codes.iter().map(|c| (c.guid.as_str(), c)).collect();
        for c in &codes {
            let theme = facts
                .themes
                .iter()
                .find(|t| t.title == c.name && published.contains(&t.id))
                .unwrap_or_else(|| panic!("no theme named {:?}", c.name));
            let parent_title = c.parent.as_deref().map(|g| by_guid[g].name.clone());
            let want = theme.parent.as_deref().map(|p| title_of(&facts.themes, p));
            assert_eq!(parent_title, want, "the parent of {:?}", c.name);
            assert_eq!(c.is_codable, "true", "{:?}", c.name);
            assert!(!c.guid.starts_with('{'));
            assert_eq!(c.guid, c.guid.to_uppercase(), "GUIDs are upper case");
        }
        // Every GUID differs.
        let distinct: BTreeSet<&str> = codes.iter().map(|c| c.guid.as_str()).collect();
        assert_eq!(distinct.len(), codes.len(), "duplicate GUIDs");
    }
    assert_valid_qdc(&qdc_files);
    // The escaped study reads back as written.
    let s = studies.last().unwrap();
    let codes = qdc_codes(&read_text(&s.root().join("site"), "codebook.qdc"));
    let care = codes
        .iter()
        .find(|c| c.name == "Care & <support> \"now\"")
        .expect("the title, unescaped");
    assert_eq!(care.color.as_deref(), Some("#aabbcc"));
    let description = care.description.as_deref().unwrap();
    assert!(
        description.starts_with("A < B && C > D, 'quoted'\n\nBody with markup & an ampersand."),
        "{description}"
    );
    assert!(!description.contains("never"));
    let access = codes.iter().find(|c| c.name == "Access").unwrap();
    assert_eq!(
        access.color, None,
        "a colour the schema cannot hold is left out"
    );
}

#[test]
fn codebook_guids_are_stable_across_builds_and_edits() {
    let s = TestStudy::fixture("riverside");
    let first = guids_by_name(&build_into(&s, "one", &[]));
    // A second build, then one after edits elsewhere in the study and in a title.
    let second = guids_by_name(&build_into(&s, "two", &[]));
    assert_eq!(first, second);
    s.edit(
        "content/themes/belonging.md",
        "title: Belonging",
        "title: Belonging (renamed)",
    );
    s.edit(
        "content/quotes/lilongwe.yaml",
        "my friends from church",
        "my friends from the church",
    );
    let third = guids_by_name(&build_into(&s, "three", &[]));
    assert_eq!(
        third["Belonging (renamed)"], first["Belonging"],
        "the GUID follows the theme id, not its title"
    );
    for (name, guid) in &first {
        if name != "Belonging" {
            assert_eq!(&third[name], guid, "{name}");
        }
    }
    // A theme's GUID does not depend on the study either: the same id elsewhere
    // has the same GUID (minimal and privacy both have `waiting`).
    let a = guids_by_name(&build(&TestStudy::fixture("minimal")));
    let b = guids_by_name(&build(&TestStudy::fixture("privacy")));
    assert_eq!(a["Waiting"], b["Waiting"]);
    assert_eq!(a["Waiting"], first["Waiting"]);
}

// ---------------------------------------------------------------------------
// Determinism and the data page
// ---------------------------------------------------------------------------

#[test]
fn data_files_are_byte_identical_across_builds() {
    let s = TestStudy::fixture("riverside");
    let one = build_into(&s, "one", &[]);
    let two = build_into(&s, "two", &[]);
    for f in DATA_FILES {
        assert_eq!(
            fs::read(one.join("data").join(f)).unwrap(),
            fs::read(two.join("data").join(f)).unwrap(),
            "data/{f} differs between two builds"
        );
    }
}

/// The links of the data page's main content, resolved against the site root.
fn data_page_links(out: &Path) -> BTreeSet<String> {
    let html = read_page(out, "data/index.html");
    let main = &html[html.find("<main").unwrap()..html.find("</main>").unwrap()];
    links(main)
        .into_iter()
        .filter_map(|l| l.strip_prefix("../").map(str::to_string))
        .collect()
}

#[test]
fn the_data_page_links_every_file_and_names_the_licence() {
    let s = TestStudy::fixture("riverside");
    let out = build(&s);
    let linked = data_page_links(&out);
    for f in DATA_FILES {
        assert!(
            linked.contains(&format!("data/{f}")),
            "the data page does not link data/{f}: {linked:?}"
        );
        assert!(out.join("data").join(f).is_file(), "data/{f} is missing");
    }
    assert_links_ok(&out);
    let page = read_page(&out, "data/index.html");
    assert!(
        page.contains("states no licence"),
        "riverside has no licence"
    );
    // The data page is linked from every page's footer.
    for p in html_files(&out) {
        let html = read_page(&out, &p);
        let root = "../".repeat(p.matches('/').count());
        assert!(
            links(&html).contains(&format!("{root}data/index.html")),
            "{p} does not link the data page"
        );
    }

    // With a licence, the page names it and links its text.
    s.edit(
        "content/study.yaml",
        "language: en",
        "language: en\nlicense: CC-BY-4.0",
    );
    let out = build_into(&s, "licensed", &[]);
    let page = read_page(&out, "data/index.html");
    let main = &page[page.find("<main").unwrap()..];
    assert!(main.contains(">CC-BY-4.0</a>"), "the licence is not named");
    assert!(
        links(main)
            .iter()
            .any(|l| l.contains("creativecommons.org") || l.contains("spdx.org"))
    );
    let json = read_json(&out, "quotes.json");
    assert_eq!(json["study"]["license"]["spdx"], "CC-BY-4.0");
}

#[test]
fn a_study_without_themes_writes_no_codebook_qdc_and_does_not_link_one() {
    let s = TestStudy::fixture("minimal");
    for f in ["access", "care", "waiting"] {
        s.remove(&format!("content/themes/{f}.md"));
    }
    s.remove("content/quotes/main.yaml");
    s.edit(
        "content/findings/summary.md",
        "People valued [care](theme:care) and disliked [waiting](theme:waiting).",
        "People valued care and disliked waiting.",
    );
    let out = build(&s);
    assert!(!out.join("data/codebook.qdc").exists());
    let linked = data_page_links(&out);
    assert!(!linked.contains("data/codebook.qdc"));
    assert_eq!(
        read_text(&out, "quotes.csv"),
        format!("{}\r\n", COLUMNS.join(","))
    );
    assert!(list(&read_json(&out, "codebook.json"), "themes").is_empty());
    assert_links_ok(&out);
}

#[test]
fn the_study_notice_travels_with_every_json_file_and_is_on_the_data_page() {
    let s = TestStudy::fixture("minimal");
    let out = build_into(&s, "plain", &[]);
    let json_files = DATA_FILES.iter().filter(|f| f.ends_with(".json"));
    for file in json_files.clone() {
        assert_eq!(
            read_json(&out, file)["study"]["notice"],
            Value::Null,
            "{file}"
        );
    }
    let notice = "The quotes are illustrative, written for this example.";
    s.edit(
        "content/study.yaml",
        "language: en",
        &format!("language: en\nnotice: {notice}"),
    );
    let out = build_into(&s, "noticed", &[]);
    for file in json_files {
        assert_eq!(read_json(&out, file)["study"]["notice"], notice, "{file}");
    }
    let page = read_page(&out, "data/index.html");
    let main = &page[page.find("<main").unwrap()..page.find("</main>").unwrap()];
    assert!(
        main.contains(notice),
        "the data page does not say {notice:?}"
    );
}
