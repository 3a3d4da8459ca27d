//! The privacy guard (issue 4): nothing identifying or withdrawn is ever published.
//!
//! Every test starts from `tests/fixtures/privacy`, a study built for the purpose:
//! three sites, two groups, four themes (one a subtheme), twenty published quotes,
//! three quotes of a withdrawn participant (`W-07`, tokens `WITHDRAWN-TOKEN-1..3`, one
//! embedded and one linked from `findings/summary.md`), a draft quote (`DRAFT-TOKEN`),
//! an HTML comment (`PRIVATE-NOTE`), quotes holding HTML, template and Markdown syntax,
//! and a `content/privacy.yaml` with identifiers, `withdrawn`, `min_cell_participants: 3`,
//! `small_cells: suppress` and an `allow` entry. Its published content is clean; tests
//! that need identifying text write it into a copy at runtime.
//!
//! The guarantees are checked by reading the WHOLE output folder: every file, whatever
//! its type, as bytes, searched case-insensitively. Expected counts come from an
//! independent reading of the fixture (`common::facts`), never from thematic.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use common::facts::{Facts, Quote};
use common::*;
use unicode_normalization::UnicodeNormalization;

/// The k threshold of the fixture's privacy.yaml.
const K: usize = 3;
/// The fixture's privacy file.
const POLICY: &str = "content/privacy.yaml";

fn study() -> TestStudy {
    TestStudy::fixture("privacy")
}

// ---------------------------------------------------------------------------
// Reading the output folder
// ---------------------------------------------------------------------------

/// Every file of an output folder: (relative path, its bytes decoded lossily).
fn output_texts(out: &Path) -> Vec<(String, String)> {
    snapshot(out)
        .into_iter()
        .map(|(f, bytes)| (f, String::from_utf8_lossy(&bytes).into_owned()))
        .collect()
}

/// Files under `out` whose bytes or whose path contain `needle`, ignoring case.
fn files_with(out: &Path, needle: &str) -> Vec<String> {
    let needle = needle.to_lowercase();
    output_texts(out)
        .into_iter()
        .filter(|(f, text)| {
            f.to_lowercase().contains(&needle) || text.to_lowercase().contains(&needle)
        })
        .map(|(f, _)| f)
        .collect()
}

/// Asserts that no file of `out` (bytes or path) contains `needle`, ignoring case.
#[track_caller]
fn assert_nowhere(out: &Path, needle: &str) {
    let found = files_with(out, needle);
    assert!(
        found.is_empty(),
        "{needle:?} was published in {} file(s): {found:?}",
        found.len()
    );
}

/// Builds the study into `ROOT/site`, asserts success and a real output, and returns it.
#[track_caller]
fn build_ok(s: &TestStudy) -> (PathBuf, Run) {
    let out = s.root().join("site");
    let run = s.build_into(&out, &[]);
    run.assert_ok();
    let files = list_files(&out);
    assert!(
        files.len() > 20 && files.iter().any(|f| f == "index.html"),
        "the output looks empty: {files:?}\n{run}"
    );
    (out, run)
}

/// Builds the study into `ROOT/site`, asserts exit 1 and that nothing was written.
#[track_caller]
fn build_fails(s: &TestStudy) -> Run {
    let out = s.root().join("site");
    let run = s.build_into(&out, &[]);
    run.assert_failed();
    run.assert_stderr_contains("Nothing was written");
    assert_nothing_written(s);
    run
}

/// No output folder, no staging folder, nothing beside the study.
#[track_caller]
fn assert_nothing_written(s: &TestStudy) {
    let beside: Vec<String> = fs::read_dir(s.root())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(beside, vec!["study".to_string()], "something was written");
    assert!(!s.out().exists(), "STUDY/output was written");
}

/// The warning at `file:line` whose headline contains `message`.
#[track_caller]
fn warning_at(run: &Run, file: &str, line: usize, message: &str) -> Diag {
    run.diagnostics()
        .into_iter()
        .find(|d| !d.is_error() && d.is_at(file, line) && d.message.contains(message))
        .unwrap_or_else(|| {
            panic!("no warning at {file}:{line} whose message contains {message:?}\n{run}")
        })
}

/// The diagnostics whose headline contains `message`.
fn diags_with(run: &Run, message: &str) -> Vec<Diag> {
    run.diagnostics()
        .into_iter()
        .filter(|d| d.message.contains(message))
        .collect()
}

/// Text without tags, whitespace runs as one space.
fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The part of `html` from the first `start` to the next `end` (inclusive).
#[track_caller]
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let i = html
        .find(start)
        .unwrap_or_else(|| panic!("no {start:?} in page"));
    let j = html[i..]
        .find(end)
        .unwrap_or_else(|| panic!("no {end:?} after {start:?}"));
    &html[i..i + j + end.len()]
}

/// Rows of a table fragment: (the `href` of the row's `<th>` link, or its text; the
/// text of each `<td>`).
fn table_rows(table: &str) -> Vec<(String, Vec<String>)> {
    let mut rows = Vec::new();
    for chunk in table.split("<tr").skip(1) {
        let chunk = chunk.split("</tr>").next().unwrap_or("");
        let Some(th) = chunk.find("<th") else {
            continue;
        };
        let th_end = chunk[th..].find("</th>").map_or(chunk.len(), |e| th + e);
        let th_html = &chunk[th..th_end];
        let key = links(th_html)
            .into_iter()
            .next()
            .unwrap_or_else(|| strip_tags(th_html));
        let cells: Vec<String> = chunk
            .split("<td")
            .skip(1)
            .map(|c| strip_tags(&format!("<td{}", c.split("</td>").next().unwrap_or(""))))
            .collect();
        if !cells.is_empty() {
            rows.push((key, cells));
        }
    }
    rows
}

/// `J*********r`: what the guard prints instead of an identifier.
fn mask(s: &str) -> String {
    let chars: Vec<char> = s.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        n @ (1 | 2) => "*".repeat(n),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// NFKC, lowercase, whitespace runs as one space: how the guard compares text.
fn fold(s: &str) -> String {
    s.nfkc()
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------
// An independent reading of what must be published
// ---------------------------------------------------------------------------

/// The fixture's policy, read with serde_yaml (not with thematic).
fn policy(s: &TestStudy) -> serde_yaml::Value {
    serde_yaml::from_str(&s.read(POLICY)).expect("privacy.yaml is YAML")
}

fn withdrawn_codes(s: &TestStudy) -> BTreeSet<String> {
    policy(s)["withdrawn"]
        .as_sequence()
        .map(|l| {
            l.iter()
                .filter_map(|v| v.as_str().map(|c| c.trim().to_lowercase()))
                .collect()
        })
        .unwrap_or_default()
}

fn identifiers(s: &TestStudy) -> Vec<String> {
    policy(s)["identifiers"]
        .as_sequence()
        .map(|l| {
            l.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// What a build of the study must publish.
struct Published {
    facts: Facts,
    /// Published quotes, withdrawn participants' removed.
    quotes: Vec<Quote>,
    /// Quotes of withdrawn participants (drafts included).
    withdrawn: Vec<Quote>,
    /// Site ids in column order.
    sites: Vec<String>,
    /// Group ids in column order.
    groups: Vec<String>,
}

fn sorted_ids(pages: &[common::facts::Page]) -> Vec<String> {
    let mut p: Vec<&common::facts::Page> = pages.iter().filter(|p| !p.draft).collect();
    p.sort_by_key(|p| {
        (
            p.order.is_none(),
            p.order.unwrap_or(0),
            p.title.to_lowercase(),
            p.id.clone(),
        )
    });
    p.into_iter().map(|p| p.id.clone()).collect()
}

impl Published {
    fn read(s: &TestStudy) -> Self {
        let facts = s.facts();
        let codes = withdrawn_codes(s);
        let is_withdrawn = |q: &Quote| codes.contains(&q.participant.trim().to_lowercase());
        let quotes = facts
            .published_quotes(false)
            .into_iter()
            .filter(|q| !is_withdrawn(q))
            .collect();
        let withdrawn = facts
            .quotes
            .iter()
            .filter(|q| is_withdrawn(q))
            .cloned()
            .collect();
        Published {
            sites: sorted_ids(&facts.sites),
            groups: sorted_ids(&facts.groups),
            facts,
            quotes,
            withdrawn,
        }
    }

    fn in_theme(&self, q: &Quote, theme: &str) -> bool {
        q.themes
            .iter()
            .any(|t| self.facts.lineage(t).iter().any(|a| a == theme))
    }

    /// (distinct participants, quotes) among the published quotes that match.
    fn count(&self, keep: impl Fn(&Quote) -> bool) -> (usize, usize) {
        let qs: Vec<&Quote> = self.quotes.iter().filter(|q| keep(q)).collect();
        let people: BTreeSet<(&str, &str)> = qs
            .iter()
            .map(|q| (q.site.as_str(), q.participant.as_str()))
            .collect();
        (people.len(), qs.len())
    }

    fn theme_site(&self, t: &str, s: &str) -> (usize, usize) {
        self.count(|q| self.in_theme(q, t) && q.site == s)
    }
}

/// A participant count as a suppressed table cell shows it.
fn shown(p: usize) -> String {
    if p > 0 && p < K {
        format!("&lt;{K}")
    } else {
        p.to_string()
    }
}

/// A table cell: participants, then quotes in brackets.
fn cell((p, q): (usize, usize)) -> String {
    // A suppressed cell hides its quote count too: one quote would mean one participant.
    if p > 0 && p < K {
        shown(p)
    } else {
        format!("{} ({q})", shown(p))
    }
}

/// A participant count as a suppressed label shows it.
fn label(p: usize) -> String {
    match p {
        0 => "0 participants".into(),
        p if p < K => format!("fewer than {K} participants"),
        p => format!("{p} participants"),
    }
}

fn quotes_label(q: usize) -> String {
    if q == 1 {
        "1 quote".into()
    } else {
        format!("{q} quotes")
    }
}

/// Participant numbers below k printed as numbers anywhere in `html`: in a table cell
/// (`<td>2 (3)</td>`) or before the word "participant".
fn small_numbers(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for chunk in html.split("<td").skip(1) {
        let text = strip_tags(&format!("<td{}", chunk.split("</td>").next().unwrap_or("")));
        if let Some(first) = text.split_whitespace().next() {
            if first.parse::<usize>().is_ok_and(|n| n > 0 && n < K) {
                found.push(format!("<td>{text}</td>"));
            }
        }
    }
    let text = strip_tags(html).to_lowercase();
    let words: Vec<&str> = text.split_whitespace().collect();
    for w in words.windows(2) {
        if w[1].starts_with("participant") && w[0].parse::<usize>().is_ok_and(|n| n > 0 && n < K) {
            found.push(format!("{} {}", w[0], w[1]));
        }
    }
    found
}

// ---------------------------------------------------------------------------
// The fixture builds; the summary counts withheld quotes
// ---------------------------------------------------------------------------

#[test]
fn fixture_builds_and_the_summary_says_how_many_quotes_were_withheld() {
    let s = study();
    let expect = Published::read(&s);
    assert_eq!(expect.withdrawn.len(), 3, "the fixture withdraws 3 quotes");
    assert_eq!(expect.quotes.len(), 20, "the fixture publishes 20 quotes");
    let (out, run) = build_ok(&s);
    run.assert_stdout_contains(&format!(
        "{} quotes ({} withheld: withdrawn participants) (1 left out as drafts)",
        expect.quotes.len(),
        expect.withdrawn.len()
    ));
    // The only diagnostics are the two about the withdrawn quote's embed and link.
    let diags = run.diagnostics();
    assert_eq!(diags.len(), 2, "{run}");
    assert!(diags.iter().all(|d| !d.is_error()), "{run}");
    assert_links_ok(&out);
    // The exact page set: withdrawn quotes make no theme-by-site page (cost at harbour).
    let pages = html_files(&out);
    let mut expected = expect.facts.expected_pages(false);
    expected.retain(|p| {
        let parts: Vec<&str> = p.split('/').collect();
        !(parts.len() == 4 && parts[0] == "themes" && expect.theme_site(parts[1], parts[2]).1 == 0)
    });
    assert!(!expected.contains("themes/cost/harbour/index.html"));
    assert_eq!(pages, expected);

    // `check` says the same.
    let check = s.check();
    check.assert_ok();
    check.assert_stdout_contains("No errors:");
    check.assert_stdout_contains("(3 withheld: withdrawn participants)");
}

// ---------------------------------------------------------------------------
// Withdrawn participants
// ---------------------------------------------------------------------------

/// Everything that would identify the withdrawn quotes, their texts' distinctive words.
fn withdrawn_traces(s: &TestStudy) -> Vec<String> {
    let expect = Published::read(s);
    let mut traces: Vec<String> = vec![
        "WITHDRAWN-TOKEN".into(),
        "W-07".into(),
        "told the nurse everything".into(),
        "fees took half".into(),
        "where everyone saw me".into(),
    ];
    for q in &expect.withdrawn {
        traces.push(format!("data-quote-id=\"{}\"", q.id));
        traces.push(format!("q-{}", q.id));
        traces.push(format!("quote:{}", q.id));
        // The text after the token, as written.
        traces.push(q.text.split_once(' ').unwrap().1.to_string());
    }
    traces
}

#[test]
fn no_text_of_a_withdrawn_participant_appears_anywhere() {
    let s = study();
    let (out, _) = build_ok(&s);
    for t in withdrawn_traces(&s) {
        assert_nowhere(&out, &t);
    }
    for n in 1..=3 {
        assert_nowhere(&out, &format!("WITHDRAWN-TOKEN-{n}"));
    }
    // The sitemap does not list a page that only withdrawn quotes would make.
    let sitemap = read_page(&out, "sitemap.xml");
    assert!(sitemap.contains("themes/trust/harbour/"), "{sitemap}");
    assert!(!sitemap.contains("themes/cost/harbour/"), "{sitemap}");
}

#[test]
fn withdrawn_quotes_stay_out_of_a_drafts_build_too() {
    let s = study();
    let out = s.root().join("preview");
    let run = s.build_into(&out, &["--drafts"]);
    run.assert_ok();
    // The draft is in (so this really is a drafts build), the withdrawn quotes are not.
    assert!(!files_with(&out, "DRAFT-TOKEN").is_empty(), "{run}");
    for t in withdrawn_traces(&s) {
        assert_nowhere(&out, &t);
    }
    run.assert_stdout_contains("(3 withheld: withdrawn participants)");
}

#[test]
fn a_findings_page_embedding_a_withdrawn_quote_builds_with_a_warning_and_no_trace() {
    let s = study();
    let file = "content/findings/summary.md";
    let (out, run) = build_ok(&s);
    let embed = s.line_of(file, "![](quote:w-01)");
    let link = s.line_of(file, "(quote:w-02)");
    let d = warning_at(&run, file, embed, "belongs to a withdrawn participant");
    assert!(d.message.contains("not embedded"), "{}", d.text);
    warning_at(&run, file, link, "quote of a withdrawn participant");

    let page = read_page(&out, "findings/summary/index.html");
    // The page itself is there, with its other embeds.
    assert_eq!(quote_elements(&page, "h-01").len(), 1);
    assert_eq!(quote_elements(&page, "l-01").len(), 1);
    // The link's text stays, as plain text; nothing points at the withdrawn quotes.
    assert!(page.contains("linked in this sentence."), "{page}");
    for l in links(&page) {
        assert!(!l.contains("w-0"), "a link to a withdrawn quote: {l}");
    }
    for id in ["w-01", "w-02", "w-03"] {
        assert!(quote_elements(&page, id).is_empty());
        assert!(!page.contains(id), "{id} appears on the findings page");
    }
    assert!(!page.to_lowercase().contains("withdrawn-token"));
}

#[test]
fn withdrawn_quotes_are_absent_from_every_count() {
    let s = study();
    let expect = Published::read(&s);
    let (out, _) = build_ok(&s);
    let themes: Vec<String> = expect.facts.published_themes(false).into_iter().collect();

    // The home page's theme-by-site matrix: every cell and every row total.
    let home = read_page(&out, "index.html");
    let matrix = table_rows(between(&home, "<table class=\"matrix\">", "</table>"));
    assert_eq!(matrix.len(), themes.len(), "{matrix:?}");
    for (href, cells) in &matrix {
        let t = href
            .strip_prefix("themes/")
            .and_then(|h| h.strip_suffix("/index.html"))
            .unwrap_or_else(|| panic!("row heading {href}"));
        let mut want: Vec<String> = expect
            .sites
            .iter()
            .map(|site| cell(expect.theme_site(t, site)))
            .collect();
        want.push(cell(expect.count(|q| expect.in_theme(q, t))));
        assert_eq!(cells, &want, "matrix row of theme {t}");
    }
    // The withdrawn participant spoke to trust at harbour: 3, not 4, and cost at
    // harbour (only theirs) is empty.
    assert_eq!(expect.theme_site("trust", "harbour"), (3, 3));
    assert_eq!(expect.theme_site("cost", "harbour"), (0, 0));

    // Every theme page: header count and the site-by-group table.
    for t in &themes {
        let page = read_page(&out, &format!("themes/{t}/index.html"));
        let (p, q) = expect.count(|x| expect.in_theme(x, t));
        let header = strip_tags(between(&page, "<p class=\"count\">", "</p>"));
        assert_eq!(header, format!("{}, {}", label(p), quotes_label(q)), "{t}");
        let table = table_rows(between(&page, "<table class=\"counts\">", "</table>"));
        assert_eq!(table.len(), expect.sites.len() + 1, "theme {t}: {table:?}");
        for (key, cells) in &table {
            let mut want: Vec<String>;
            if key == "All sites" {
                want = expect
                    .groups
                    .iter()
                    .map(|g| cell(expect.count(|x| expect.in_theme(x, t) && &x.group == g)))
                    .collect();
                want.push(cell((p, q)));
            } else {
                let site = key
                    .strip_prefix("../../sites/")
                    .and_then(|h| h.strip_suffix("/index.html"))
                    .unwrap_or_else(|| panic!("row heading {key}"));
                want =
                    expect
                        .groups
                        .iter()
                        .map(|g| {
                            cell(expect.count(|x| {
                                expect.in_theme(x, t) && x.site == site && &x.group == g
                            }))
                        })
                        .collect();
                want.push(cell(expect.theme_site(t, site)));
            }
            assert_eq!(cells, &want, "theme {t}, row {key}");
        }
    }

    // Every site page, and the home page's list of sites.
    for site in &expect.sites {
        let page = read_page(&out, &format!("sites/{site}/index.html"));
        let (p, q) = expect.count(|x| &x.site == site);
        let dd = strip_tags(
            between(&page, "<dt>Quoted here</dt><dd>", "</dd>")
                .trim_start_matches("<dt>Quoted here</dt>"),
        );
        assert_eq!(
            dd,
            format!("{}, {}", label(p), quotes_label(q)),
            "site {site}"
        );
        // The listed quotes are exactly the published ones.
        let listed: BTreeSet<String> = tags(&page)
            .into_iter()
            .filter_map(|t| t.attr("data-quote-id").map(str::to_string))
            .collect();
        let want: BTreeSet<String> = expect
            .quotes
            .iter()
            .filter(|x| &x.site == site)
            .map(|x| x.id.clone())
            .collect();
        assert_eq!(listed, want, "quotes on site {site}");
    }
    assert_eq!(expect.count(|x| x.site == "harbour"), (4, 7));
    let sites_list = strip_tags(between(&home, "<h2 id=\"sites-title\">", "</ul>"));
    for site in &expect.sites {
        let title = &expect
            .facts
            .sites
            .iter()
            .find(|x| &x.id == site)
            .unwrap()
            .title;
        let (p, _) = expect.count(|x| &x.site == site);
        assert!(
            sites_list.contains(&format!("{title} {} quoted", label(p))),
            "{sites_list}"
        );
    }
    // The page of all quotes lists exactly the published ones.
    let all = read_page(&out, "quotes/index.html");
    let listed: BTreeSet<String> = tags(&all)
        .into_iter()
        .filter_map(|t| t.attr("data-quote-id").map(str::to_string))
        .collect();
    let want: BTreeSet<String> = expect.quotes.iter().map(|q| q.id.clone()).collect();
    assert_eq!(listed, want);
}

#[test]
fn without_the_withdrawal_the_same_counts_include_the_participant() {
    // The control for the test above: it would see the withdrawn quotes if they counted.
    let s = study();
    s.edit(POLICY, "withdrawn:\n  - W-07", "withdrawn: []");
    let (out, run) = build_ok(&s);
    assert!(!run.stdout.contains("withheld"), "{run}");
    let home = read_page(&out, "index.html");
    let matrix = table_rows(between(&home, "<table class=\"matrix\">", "</table>"));
    let trust = &matrix
        .iter()
        .find(|(h, _)| h == "themes/trust/index.html")
        .unwrap()
        .1;
    assert_eq!(trust[0], "4 (4)", "{matrix:?}");
    assert!(!files_with(&out, "WITHDRAWN-TOKEN-1").is_empty());
    assert!(out.join("themes/cost/harbour/index.html").is_file());
}

#[test]
fn withdrawn_codes_match_ignoring_case() {
    let s = study();
    s.edit(POLICY, "  - W-07", "  - w-07");
    let (out, run) = build_ok(&s);
    run.assert_stdout_contains("(3 withheld: withdrawn participants)");
    assert!(diags_with(&run, "has no quotes").is_empty(), "{run}");
    for t in withdrawn_traces(&s) {
        assert_nowhere(&out, &t);
    }
}

#[test]
fn a_withdrawn_code_that_matches_no_participant_is_a_warning() {
    let s = study();
    s.edit(POLICY, "  - W-07", "  - W-07\n  - ZZ-99");
    let line = s.line_of(POLICY, "ZZ-99");
    let (_, run) = build_ok(&s);
    let d = warning_at(
        &run,
        POLICY,
        line,
        "withdrawn participant `ZZ-99` has no quotes",
    );
    assert!(d.message.contains("mistyped"), "{}", d.text);
    run.assert_stdout_contains("(3 withheld: withdrawn participants)");
    s.check().assert_ok();
}

// ---------------------------------------------------------------------------
// Denylisted identifiers
// ---------------------------------------------------------------------------

const JOSE: &str = "José Müller";
const PORT: &str = "Port Royal";
const CLINIC: &str = "St. Elsewhere clinic";

/// Rule number (1-based) and line in privacy.yaml of an identifier.
fn rule_of(s: &TestStudy, identifier: &str) -> (usize, usize) {
    let n = identifiers(s)
        .iter()
        .position(|i| i == identifier)
        .unwrap_or_else(|| panic!("{identifier} is not in privacy.yaml"))
        + 1;
    (n, s.line_of(POLICY, &format!("\"{identifier}\"")))
}

/// Runs `build` and `check` on a study with `identifier` written (as `written`) into
/// `file` at `line`: both fail with an error there that names the rule and shows the
/// masked identifier, never the identifier itself; nothing is written.
#[track_caller]
fn assert_identifier_blocked(
    s: &TestStudy,
    file: &str,
    line: usize,
    identifier: &str,
    written: &str,
) {
    let (rule, rule_line) = rule_of(s, identifier);
    let build = build_fails(s);
    let check = s.check();
    check.assert_failed();
    for run in [&build, &check] {
        let d = run.error_at(file, line, "denylisted identifier");
        assert!(
            d.message.contains(&format!(
                "#{rule} ({}) from {POLICY}:{rule_line}",
                mask(identifier)
            )),
            "the error names the rule and the masked identifier: {}",
            d.text
        );
        assert_not_printed(run, identifier, written);
    }
}

/// Neither stderr nor stdout holds the identifier in full: not as written in privacy.yaml,
/// not as written in the content, not in another case or Unicode form.
#[track_caller]
fn assert_not_printed(run: &Run, identifier: &str, written: &str) {
    for (name, text) in [("stderr", &run.stderr), ("stdout", &run.stdout)] {
        assert!(
            !text.contains(written),
            "{name} prints the identifier as written ({written:?})\n{run}"
        );
        assert!(
            !fold(text).contains(&fold(identifier)),
            "{name} prints the identifier {identifier:?} (in some case or form)\n{run}"
        );
    }
    assert!(run.stderr.contains(&mask(identifier)), "{run}");
}

#[test]
fn an_identifier_in_a_quote_text_is_an_error_naming_file_and_line() {
    let s = study();
    let file = "content/quotes/hills.yaml";
    s.edit(
        file,
        "text: Waiting is its own kind of work.",
        "text: Waiting for José Müller is its own kind of work.",
    );
    let line = s.line_of(file, "Waiting for");
    assert_identifier_blocked(&s, file, line, JOSE, JOSE);
}

#[test]
fn an_identifier_across_a_line_break_is_found() {
    let s = study();
    let file = "content/quotes/plains.yaml";
    s.edit(
        file,
        "text: I brought a book and finished it twice.",
        "text: |-\n      I brought a book from the Port\n      Royal market and finished it twice.",
    );
    let line = s.line_of(file, "text: |-");
    assert_identifier_blocked(&s, file, line, PORT, PORT);

    // Folded style, and an identifier of three words split over two lines.
    let s = study();
    s.edit(
        file,
        "text: I brought a book and finished it twice.",
        "text: >-\n      I was sent to St.\n      Elsewhere   clinic twice.",
    );
    let line = s.line_of(file, "text: >-");
    assert_identifier_blocked(&s, file, line, CLINIC, CLINIC);
}

#[test]
fn an_identifier_in_another_case_is_found() {
    let s = study();
    let file = "content/quotes/harbour.yaml";
    s.edit(
        file,
        "text: We queued outside from six in the morning.",
        "text: We queued outside JOSÉ MÜLLER's shop from six in the morning.",
    );
    let line = s.line_of(file, "JOSÉ MÜLLER");
    assert_identifier_blocked(&s, file, line, JOSE, "JOSÉ MÜLLER");

    let s = study();
    s.edit(
        file,
        "text: We queued outside from six in the morning.",
        "text: We queued outside the port royal gate from six.",
    );
    let line = s.line_of(file, "port royal");
    assert_identifier_blocked(&s, file, line, PORT, "port royal");
}

#[test]
fn an_identifier_in_another_unicode_form_is_found() {
    // Full-width letters (NFKC folds them to ASCII).
    let s = study();
    let file = "content/quotes/harbour.yaml";
    let wide = "Ｐｏｒｔ Ｒｏｙａｌ";
    s.edit(
        file,
        "text: We queued outside from six in the morning.",
        &format!("text: We queued outside {wide} from six in the morning."),
    );
    let line = s.line_of(file, wide);
    assert_identifier_blocked(&s, file, line, PORT, wide);

    // Ligatures and other compatibility forms: "ﬁ" is "fi".
    let s = study();
    s.edit(
        POLICY,
        "  - \"St. Elsewhere clinic\"",
        "  - \"St. Elsewhere clinic\"\n  - \"Fiona Okafor\"",
    );
    s.edit(
        file,
        "text: We queued outside from six in the morning.",
        "text: We queued with \u{FB01}ona Okafor from six in the morning.",
    );
    let line = s.line_of(file, "ona Okafor");
    assert_identifier_blocked(&s, file, line, "Fiona Okafor", "\u{FB01}ona Okafor");
}

#[test]
fn an_identifier_with_decomposed_accents_is_found() {
    let file = "content/quotes/harbour.yaml";
    // Decomposed accents: e + U+0301, u + U+0308.
    let s = study();
    let decomposed = "Jose\u{301} Mu\u{308}ller";
    assert_ne!(decomposed, JOSE);
    s.edit(
        file,
        "text: We queued outside from six in the morning.",
        &format!("text: We queued with {decomposed} from six in the morning."),
    );
    let line = s.line_of(file, decomposed);
    assert_identifier_blocked(&s, file, line, JOSE, decomposed);
}

#[test]
fn an_identifier_in_a_markdown_body_is_an_error_at_its_line() {
    let s = study();
    let file = "content/findings/methods.md";
    s.edit(
        file,
        "We interviewed people at three sites, in two responder groups.",
        "We interviewed people at three sites, in two responder groups.\n\nOne interview took place at the home of José\nMüller, near the market.",
    );
    let line = s.line_of(file, "home of José");
    assert_identifier_blocked(&s, file, line, JOSE, JOSE);
}

#[test]
fn an_identifier_in_a_front_matter_title_is_an_error_at_its_line() {
    let s = study();
    let file = "content/themes/cost.md";
    s.edit(file, "title: Cost", "title: Cost of the trip to Port Royal");
    let line = s.line_of(file, "title:");
    assert_identifier_blocked(&s, file, line, PORT, PORT);

    // A summary is rendered too.
    let s = study();
    let file = "content/sites/hills.md";
    s.edit(
        file,
        "order: 2",
        "order: 2\nsummary: The clinic run by José Müller.",
    );
    let line = s.line_of(file, "summary:");
    assert_identifier_blocked(&s, file, line, JOSE, JOSE);

    // And the study's own title.
    let s = study();
    let file = "content/study.yaml";
    s.edit(
        file,
        "title: Harbour clinics privacy fixture",
        "title: Clinics near the St. Elsewhere Clinic",
    );
    let line = s.line_of(file, "title:");
    assert_identifier_blocked(&s, file, line, CLINIC, "St. Elsewhere Clinic");
}

#[test]
fn an_identifier_in_a_quote_original_or_context_is_an_error_at_the_quote() {
    let s = study();
    let file = "content/quotes/plains.yaml";
    s.edit(
        file,
        "text: They never made me feel stupid for asking.",
        "text: They never made me feel stupid for asking.\n    original:\n      lang: fr\n      text: Ils ne m'ont jamais fait sentir bête, dit José Müller.",
    );
    let line = s.line_of(file, "id: p-01");
    assert_identifier_blocked(&s, file, line, JOSE, JOSE);

    let s = study();
    s.edit(
        file,
        "text: I went back because they kept their word.",
        "text: I went back because they kept their word.\n    context: Asked about the Port Royal clinic.",
    );
    let line = s.line_of(file, "id: p-02");
    assert_identifier_blocked(&s, file, line, PORT, PORT);
}

#[test]
fn no_other_diagnostic_prints_an_identifier_back() {
    // A one-line quote holding an identifier and an e-mail address: the e-mail warning
    // shows the source line.
    let s = study();
    let file = "content/quotes/hills.yaml";
    s.edit(
        file,
        "text: Waiting is its own kind of work.",
        "text: José Müller said to write to jo.smith@example.org about it.",
    );
    let run = build_fails(&s);
    run.error_at(file, s.line_of(file, "jo.smith"), "denylisted identifier");
    assert_not_printed(&run, JOSE, JOSE);

    // A Markdown line holding an identifier and a script link.
    let s = study();
    let file = "content/findings/methods.md";
    s.edit(
        file,
        "We interviewed people",
        "See [Port Royal](javascript:alert(1)).\n\nWe interviewed people",
    );
    let run = build_fails(&s);
    run.error_at(
        file,
        s.line_of(file, "javascript:"),
        "denylisted identifier",
    );
    assert_not_printed(&run, PORT, PORT);
}

#[test]
fn identifiers_match_whole_words_only() {
    let s = study();
    let file = "content/quotes/hills.yaml";
    s.edit(
        file,
        "text: Waiting is its own kind of work.",
        "text: The Port Royalty hotel and the SuperPort Royal shop, said the Müllers of José Müllerstrasse.",
    );
    let (_, run) = build_ok(&s);
    assert!(diags_with(&run, "denylisted").is_empty(), "{run}");
    // Punctuation is a word boundary: a possessive still matches.
    let s = study();
    s.edit(
        file,
        "text: Waiting is its own kind of work.",
        "text: \"Waiting at Port Royal's gate is work.\"",
    );
    let run = build_fails(&s);
    run.error_at(file, s.line_of(file, "Royal's"), "denylisted identifier");
}

#[test]
fn a_longer_identifier_is_found_when_a_shorter_one_is_a_prefix_of_it() {
    let s = study();
    s.edit(
        POLICY,
        "  - \"St. Elsewhere clinic\"",
        "  - \"St. Elsewhere clinic\"\n  - \"Ann\"\n  - \"Anna Lee\"",
    );
    let file = "content/quotes/hills.yaml";
    s.edit(
        file,
        "text: Waiting is its own kind of work.",
        "text: Waiting with Anna Lee is its own kind of work.",
    );
    let run = build_fails(&s);
    run.error_at(file, s.line_of(file, "Anna Lee"), "denylisted identifier");
}

// ---------------------------------------------------------------------------
// Nothing unpublishable in the output
// ---------------------------------------------------------------------------

#[test]
fn no_draft_comment_policy_or_machine_path_is_published() {
    let s = study();
    let (out, _) = build_ok(&s);
    // A draft quote and an HTML comment of a source.
    assert_nowhere(&out, "DRAFT-TOKEN");
    assert_nowhere(&out, "PRIVATE-NOTE");
    assert_nowhere(&out, "a note to co-authors");
    // Nothing from privacy.yaml: its field names, withdrawn codes and identifiers.
    for field in [
        "privacy.yaml",
        "min_cell_participants",
        "small_cells",
        "identifiers:",
        "withdrawn:",
    ] {
        assert_nowhere(&out, field);
    }
    // `Allow:` is robots.txt's own keyword; anywhere else it would be the policy's.
    let allow: Vec<String> = files_with(&out, "allow:")
        .into_iter()
        .filter(|f| f != "robots.txt")
        .collect();
    assert!(allow.is_empty(), "\"allow:\" was published in {allow:?}");
    for code in withdrawn_codes(&s) {
        assert_nowhere(&out, &code);
    }
    let ids = identifiers(&s);
    assert_eq!(ids.len(), 3);
    for id in &ids {
        assert_nowhere(&out, id);
        let folded = fold(id);
        for (f, text) in output_texts(&out) {
            assert!(!fold(&text).contains(&folded), "{id:?} in {f}");
        }
    }
    // No source file is copied.
    for f in list_files(&out) {
        assert!(
            !f.ends_with(".yaml") && !f.ends_with(".yml") && !f.ends_with(".md"),
            "{f}"
        );
    }
    // No absolute path of this machine.
    let mut paths: Vec<String> = vec![
        s.root().display().to_string(),
        s.dir().display().to_string(),
        out.display().to_string(),
        repo_root().display().to_string(),
        std::env::temp_dir().display().to_string(),
        "/tmp/".into(),
        "/home/".into(),
        "/root/".into(),
        "/Users/".into(),
        "file:/".into(),
        "C:\\".into(),
    ];
    if let Some(home) = std::env::var_os("HOME") {
        let home = home.to_string_lossy().into_owned();
        if home.len() > 1 {
            paths.push(home);
        }
    }
    for p in paths {
        assert_nowhere(&out, &p);
    }
}

// ---------------------------------------------------------------------------
// Small cells
// ---------------------------------------------------------------------------

#[test]
fn suppressed_small_cells_are_never_published_as_numbers() {
    let s = study();
    let expect = Published::read(&s);
    let (out, _) = build_ok(&s);
    for page in html_files(&out) {
        let html = read_page(&out, &page);
        let found = small_numbers(&html);
        assert!(
            found.is_empty(),
            "{page} publishes participant counts below {K}: {found:?}"
        );
    }
    // The fixture has counts of 1 and 2, and they show as "<3".
    let small: Vec<(usize, usize)> = ["trust", "waiting", "queues", "cost"]
        .iter()
        .flat_map(|t| expect.sites.iter().map(|s| expect.theme_site(t, s)))
        .filter(|(p, _)| *p > 0 && *p < K)
        .collect();
    assert!(small.iter().any(|(p, _)| *p == 1) && small.iter().any(|(p, _)| *p == 2));
    let home = read_page(&out, "index.html");
    assert!(
        home.contains(
            "<td class=\"heat-1\"><a href=\"themes/trust/hills/index.html\">&lt;3</a></td>"
        ),
        "{home}"
    );
    let trust = read_page(&out, "themes/trust/index.html");
    assert!(trust.contains("<td>&lt;3</td>"), "{trust}");
    // Charts draw a suppressed count as an outline to the threshold, and say it in words.
    let chart = between(&trust, "<desc id=\"chart-sites-desc\">", "</desc>");
    assert!(chart.contains("fewer than 3 participants"), "{chart}");
    assert!(trust.contains("class=\"bar bar-suppressed\""), "{trust}");
    // A suppressed cell does not show its size through its shade either.
    for chunk in home.split("<td class=\"heat-").skip(1) {
        let td = chunk.split("</td>").next().unwrap();
        if td.contains("&lt;3") {
            assert!(
                td.starts_with("1\""),
                "a suppressed cell with a graded shade: {td}"
            );
        }
    }
    // The matrix caption explains it.
    let caption = between(&home, "<caption>", "</caption>");
    assert!(
        caption.contains("counts of fewer than 3 participants are shown as &lt;3"),
        "{caption}"
    );
    // Labels say it in words.
    let hills = read_page(&out, "sites/hills/index.html");
    assert!(hills.contains("fewer than 3 participants"), "{hills}");
}

#[test]
fn the_theme_table_caption_explains_suppressed_cells() {
    let s = study();
    let (out, _) = build_ok(&s);
    let page = read_page(&out, "themes/trust/index.html");
    let table = between(&page, "<table class=\"counts\">", "</table>");
    assert!(table.contains("&lt;3"), "{table}");
    let caption = between(table, "<caption", "</caption>");
    assert!(
        caption.contains("fewer than 3 participants"),
        "the caption does not explain \"<3\": {caption}"
    );
}

#[test]
fn small_cells_error_fails_the_build_naming_privacy_yaml() {
    let s = study();
    s.edit(POLICY, "small_cells: suppress", "small_cells: error");
    let line = s.line_of(POLICY, "small_cells:");
    let run = build_fails(&s);
    let d = run.error_at(POLICY, line, "participants would be published");
    assert!(
        d.message.contains("fewer than 3 participants"),
        "{}",
        d.text
    );
    s.check().assert_failed();
}

#[test]
fn small_cells_warn_builds_with_a_warning_and_publishes_numbers() {
    let s = study();
    s.edit(POLICY, "small_cells: suppress", "small_cells: warn");
    let line = s.line_of(POLICY, "small_cells:");
    let (out, run) = build_ok(&s);
    warning_at(&run, POLICY, line, "participants would be published");
    // Numbers, as warned: the control for the suppress test.
    assert_nowhere(&out, "&lt;3");
    let home = read_page(&out, "index.html");
    assert!(!small_numbers(&home).is_empty());
    assert!(!home.contains("To protect anonymity"), "{home}");
}

#[test]
fn without_a_threshold_small_cells_has_no_effect_and_says_so() {
    let s = study();
    s.edit(POLICY, "min_cell_participants: 3\n", "");
    let line = s.line_of(POLICY, "small_cells:");
    let (out, run) = build_ok(&s);
    warning_at(
        &run,
        POLICY,
        line,
        "no effect without `min_cell_participants`",
    );
    assert_nowhere(&out, "&lt;3");
}

// ---------------------------------------------------------------------------
// Pattern checks and `allow`
// ---------------------------------------------------------------------------

/// (quote id's file, old text, new text, check's words, what is masked).
const PATTERNS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "content/quotes/harbour.yaml",
        "text: The nurses always explained things to me, even when the ward was full.",
        "text: Write to jo.smith@example.org if you need me.",
        "an e-mail address",
        "jo.smith@example.org",
    ),
    (
        "content/quotes/harbour.yaml",
        "text: I trusted the doctor because she remembered my story.",
        "text: My sister's number is +256 772 123 456, call her.",
        "a phone number",
        "+256 772 123 456",
    ),
    (
        "content/quotes/harbour.yaml",
        "text: We queued outside from six in the morning.",
        "text: It is all on https://example.org/my-story now.",
        "a web address",
        "https://example.org/my-story",
    ),
    (
        "content/quotes/plains.yaml",
        "text: I brought a book and finished it twice.",
        "text: I was born on 1985-03-12, so I was the oldest there.",
        "a full date",
        "1985-03-12",
    ),
    (
        "content/quotes/plains.yaml",
        "text: We borrowed from a neighbour to pay the fare.",
        "text: My patient number was 4471023 at the clinic.",
        "a long number",
        "4471023",
    ),
];

#[test]
fn pattern_checks_warn_with_file_and_line() {
    let s = study();
    for (file, from, to, _, _) in PATTERNS {
        s.edit(file, from, to);
    }
    let (out, run) = build_ok(&s);
    for (file, _, to, what, found) in PATTERNS {
        let line = s.line_of(file, to);
        let d = warning_at(&run, file, line, what);
        assert!(d.message.contains(&mask(found)), "masked: {}", d.text);
        assert!(d.text.contains("under `allow:`"), "{}", d.text);
    }
    // Warnings, not errors: the quotes are published.
    assert!(!files_with(&out, "4471023").is_empty());
    // Exactly one warning per planted pattern (and the two withdrawn-quote warnings).
    assert_eq!(run.diagnostics().len(), PATTERNS.len() + 2, "{run}");
}

/// Asserts that neither stream of `run` holds any of `secrets` (nor, ignoring case,
/// any of them with its whitespace collapsed).
#[track_caller]
fn assert_never_printed(run: &Run, secrets: &[&str]) {
    for (name, text) in [("stderr", &run.stderr), ("stdout", &run.stdout)] {
        let folded = fold(text);
        for secret in secrets {
            assert!(
                !folded.contains(&fold(secret)),
                "{name} prints {secret:?}\n{run}"
            );
        }
    }
}

#[test]
fn pattern_warnings_mask_what_they_found_in_the_snippet_too() {
    let s = study();
    let file = "content/quotes/harbour.yaml";
    // On the `text:` line itself, which the snippet shows.
    let inline = "I called 0772 123 456 and wrote to jo@example.org on 12 March 1985.";
    s.edit(
        file,
        "text: The nurses always explained things to me, even when the ward was full.",
        &format!("text: {inline}"),
    );
    // Cut by the end of the `text:` line: the snippet shows only their start.
    s.edit(
        file,
        "text: I trusted the doctor because she remembered my story.",
        "text: Ring my sister on +256 772\n      998 877 or write to ann.k@example.org.",
    );
    let h01 = s.line_of(file, "0772 123 456");
    let h02 = s.line_of(file, "Ring my sister");
    let secrets = [
        "0772 123 456",
        "0772",
        "123 456",
        "jo@example.org",
        "example.org",
        "12 March 1985",
        "March 1985",
        "+256 772",
        "998 877",
    ];
    let (_, build) = build_ok(&s);
    let check = s.check();
    check.assert_ok();
    for run in [&build, &check] {
        assert_never_printed(run, &secrets);
        // Each warning still names the file and line, and shows the line masked.
        for (what, found) in [
            ("a phone number", "0772 123 456"),
            ("an e-mail address", "jo@example.org"),
            ("a full date", "12 March 1985"),
        ] {
            let d = warning_at(run, file, h01, what);
            assert!(d.message.ends_with(&mask(found)), "{}", d.text);
            assert!(
                d.text.contains(&format!(
                    "{h01} |     text: I called {} and wrote to {} on {}.\n",
                    mask("0772 123 456"),
                    mask("jo@example.org"),
                    mask("12 March 1985")
                )),
                "the snippet shows the line, masked: {}",
                d.text
            );
            assert!(d.text.contains("|     ^^^^\n"), "{}", d.text);
        }
        for (what, found) in [
            ("a phone number", "+256 772 998 877"),
            ("an e-mail address", "ann.k@example.org"),
        ] {
            let d = warning_at(run, file, h02, what);
            assert!(d.message.ends_with(&mask(found)), "{}", d.text);
            assert!(
                d.text.contains(&format!(
                    "{h02} |     text: Ring my sister on {}\n",
                    mask("+256 772")
                )),
                "{}",
                d.text
            );
        }
    }
}

#[test]
fn allow_silences_exactly_one_check_for_exactly_one_quote() {
    let s = study();
    let file = "content/quotes/harbour.yaml";
    s.edit(
        file,
        "text: The nurses always explained things to me, even when the ward was full.",
        "text: Write to jo.smith@example.org or call +256 772 123 456.",
    );
    s.edit(
        file,
        "text: I trusted the doctor because she remembered my story.",
        "text: Her address was ann.k@example.org back then.",
    );
    s.edit(POLICY, "  l-05: [date]", "  l-05: [date]\n  h-01: [email]");
    let (_, run) = build_ok(&s);
    let h01 = s.line_of(file, "jo.smith");
    let h02 = s.line_of(file, "ann.k@");
    // h-01: e-mail allowed, phone still reported.
    assert!(
        !run.diagnostics()
            .iter()
            .any(|d| d.message.contains("`h-01`") && d.message.contains("e-mail")),
        "{run}"
    );
    warning_at(&run, file, h01, "a phone number");
    // h-02: the same check, another quote: still reported.
    warning_at(&run, file, h02, "an e-mail address");
    // The fixture's own allowed date (l-05) is silent.
    assert!(diags_with(&run, "`l-05`").is_empty(), "{run}");

    // Without its `allow`, l-05's date is reported.
    let s = study();
    s.edit(POLICY, "allow:\n  l-05: [date]\n", "");
    let (_, run) = build_ok(&s);
    let file = "content/quotes/hills.yaml";
    let d = warning_at(&run, file, s.line_of(file, "12 March 2021"), "a full date");
    assert!(d.message.contains("`l-05`"), "{}", d.text);
}

#[test]
fn names_warn_flags_a_capitalised_name_found_in_one_quote_only() {
    let plant = |s: &TestStudy| {
        let file = "content/quotes/plains.yaml";
        s.edit(
            file,
            "text: The queue was shorter on market days.",
            "text: Then I met Okello at the market, and Achieng too.",
        );
        s.edit(
            file,
            "text: People kept places in the queue for each other.",
            "text: People kept places for Achieng in the queue.",
        );
        s.edit(
            file,
            "text: They never made me feel stupid for asking.",
            "text: They said that Harbour was better, but I stayed.",
        );
    };
    // Off by default: no name warnings.
    let s = study();
    plant(&s);
    let (_, run) = build_ok(&s);
    assert!(
        diags_with(&run, "a name found in no other quote").is_empty(),
        "{run}"
    );

    let s = study();
    plant(&s);
    s.edit(
        POLICY,
        "small_cells: suppress",
        "small_cells: suppress\nnames: warn",
    );
    let (_, run) = build_ok(&s);
    let file = "content/quotes/plains.yaml";
    let d = warning_at(
        &run,
        file,
        s.line_of(file, "Okello"),
        "a name found in no other quote",
    );
    assert!(d.message.contains(&mask("Okello")), "{}", d.text);
    // Nor does the snippet print it: the line is shown with the name masked.
    assert!(
        d.text
            .contains(&format!("text: Then I met {} at the", mask("Okello"))),
        "{}",
        d.text
    );
    assert!(!run.stderr.contains("Okello"), "{run}");
    let names = diags_with(&run, "a name found in no other quote");
    // A name in two quotes, and a site's title, are not flagged.
    for d in &names {
        assert!(!d.message.contains(&mask("Achieng")), "{}", d.text);
        assert!(!d.message.contains(&mask("Harbour")), "{}", d.text);
    }
    run.assert_stdout_contains("Built");
}

// ---------------------------------------------------------------------------
// Errors in privacy.yaml
// ---------------------------------------------------------------------------

#[test]
fn an_unknown_field_in_privacy_yaml_is_an_error_at_its_line() {
    let s = study();
    s.edit(POLICY, "withdrawn:", "withdrawn_codes: [X-01]\nwithdrawn:");
    let line = s.line_of(POLICY, "withdrawn_codes");
    let run = build_fails(&s);
    run.error_at(POLICY, line, "unknown field `withdrawn_codes`");
    s.check().assert_failed();
}

#[test]
fn an_unknown_small_cells_value_is_an_error_at_its_line() {
    let s = study();
    s.edit(POLICY, "small_cells: suppress", "small_cells: hide");
    let line = s.line_of(POLICY, "small_cells:");
    let run = build_fails(&s);
    let d = run.error_at(POLICY, line, "unknown `small_cells` value `hide`");
    assert!(d.text.contains("warn, error, suppress"), "{}", d.text);
}

#[test]
fn an_unknown_names_value_is_an_error_at_its_line() {
    let s = study();
    s.edit(
        POLICY,
        "small_cells: suppress",
        "small_cells: suppress\nnames: always",
    );
    let line = s.line_of(POLICY, "names:");
    let run = build_fails(&s);
    run.error_at(POLICY, line, "unknown `names` value `always`");
}

#[test]
fn an_unknown_check_in_allow_is_an_error_at_its_line() {
    let s = study();
    s.edit(
        POLICY,
        "allow:\n  l-05: [date]",
        "allow: { l-05: [date, emails] }",
    );
    let line = s.line_of(POLICY, "allow:");
    let run = build_fails(&s);
    let d = run.error_at(
        POLICY,
        line,
        "unknown check `emails` in `allow` for quote `l-05`",
    );
    assert!(
        d.text.contains("email, phone, url, date, digits, names"),
        "{}",
        d.text
    );
}

#[test]
fn an_unknown_check_in_a_block_style_allow_entry_is_reported_at_the_entry() {
    let s = study();
    s.edit(
        POLICY,
        "  l-05: [date]",
        "  p-01: [url]\n  l-05: [date, emails]",
    );
    let line = s.line_of(POLICY, "emails");
    let run = build_fails(&s);
    run.error_at(POLICY, line, "unknown check `emails`");
}

// ---------------------------------------------------------------------------
// No page keyed by a participant
// ---------------------------------------------------------------------------

/// Pages (with 2+ quotes) whose quotes all come from one participant.
fn single_participant_pages(s: &TestStudy, out: &Path) -> Vec<String> {
    let facts = s.facts();
    let who: BTreeMap<&str, (&str, &str)> = facts
        .quotes
        .iter()
        .map(|q| (q.id.as_str(), (q.site.as_str(), q.participant.as_str())))
        .collect();
    let mut bad = Vec::new();
    for page in html_files(out) {
        let html = read_page(out, &page);
        let ids: BTreeSet<String> = tags(&html)
            .into_iter()
            .filter_map(|t| t.attr("data-quote-id").map(str::to_string))
            .collect();
        let people: BTreeSet<(&str, &str)> = ids
            .iter()
            .map(|id| {
                *who.get(id.as_str())
                    .unwrap_or_else(|| panic!("unknown quote {id}"))
            })
            .collect();
        if ids.len() >= 2 && people.len() < 2 {
            bad.push(format!("{page}: {ids:?} all from {people:?}"));
        }
    }
    bad
}

#[test]
fn participant_codes_are_never_the_only_key_of_a_page() {
    let s = study();
    let (out, _) = build_ok(&s);
    let codes: BTreeSet<String> = s
        .facts()
        .quotes
        .iter()
        .map(|q| q.participant.to_lowercase())
        .collect();
    for f in list_files(&out) {
        for code in &codes {
            assert!(
                !f.to_lowercase().contains(code.as_str()),
                "{f} holds {code}"
            );
        }
    }
    let bad = single_participant_pages(&s, &out);
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn no_theme_by_site_page_lists_only_one_participants_quotes() {
    let s = study();
    let file = "content/quotes/harbour.yaml";
    s.edit(
        file,
        "  - id: w-01",
        "  - id: h-08\n    participant: H-09\n    group: late\n    themes: [cost]\n    text: The fee was more than a week of work.\n  - id: h-09\n    participant: H-09\n    group: late\n    themes: [cost]\n    text: We sold the goat to pay for it.\n  - id: w-01",
    );
    let out = s.root().join("site");
    let run = s.build_into(&out, &[]);
    if run.code == Some(0) {
        let bad = single_participant_pages(&s, &out);
        assert!(bad.is_empty(), "{bad:#?}");
    }
}

// ---------------------------------------------------------------------------
// Quote text is shown literally and executes nothing
// ---------------------------------------------------------------------------

#[test]
fn quote_text_with_html_template_or_markdown_syntax_is_shown_literally() {
    let s = study();
    let (out, _) = build_ok(&s);
    let has = |needle: &str| !files_with(&out, needle).is_empty();
    // HTML is escaped, never a tag.
    assert!(has("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // Pages never hold it as markup. The data files and the search index hold the
    // text as data (CSV, JSON strings), where it runs nothing; in a script file the
    // `</` is escaped all the same, so the JSON could be inlined safely.
    for f in files_with(&out, "<script>alert") {
        assert!(
            f.starts_with("data/") || f.starts_with("search/"),
            "{f} holds <script>alert"
        );
    }
    for f in files_with(&out, "alert(1)</script>") {
        assert!(f.starts_with("data/"), "{f} holds alert(1)</script>");
    }
    // Template syntax is text: not replaced by the study title, not evaluated.
    assert!(has("The poster said {{ study.title }} and nobody knew"));
    assert!(!has("The poster said Harbour clinics privacy fixture"));
    assert!(has("The form said {% if true %}x{% endif %} at the top"));
    // Markdown in a quote is not interpreted: the link stays text.
    assert!(has(
        "a line like [click](javascript:alert(1)) printed on it"
    ));
    assert!(!has(">click</a>"));
    // An entity written in a quote is shown as written.
    assert!(has("fish &amp;amp; chips"));
    // No link anywhere runs a script.
    assert_nowhere(&out, "href=\"javascript:");
    assert_nowhere(&out, "href='javascript:");
    for page in html_files(&out) {
        for t in tags(&read_page(&out, &page)) {
            for (attr, value) in &t.attrs {
                let v: String = value
                    .chars()
                    .filter(|c| !c.is_whitespace() && !c.is_control())
                    .collect::<String>()
                    .to_lowercase();
                assert!(
                    !(v.starts_with("javascript:")
                        || v.starts_with("vbscript:")
                        || v.starts_with("data:")),
                    "{page}: <{} {attr}=\"{value}\">",
                    t.name
                );
                assert!(
                    !attr.starts_with("on"),
                    "{page}: event handler {attr} on <{}>",
                    t.name
                );
            }
        }
    }
}

#[test]
fn a_script_link_in_markdown_is_an_error_at_its_line() {
    let s = study();
    let file = "content/findings/methods.md";
    s.edit(
        file,
        "We interviewed people",
        "Read [x](javascript:alert(1)) first.\n\nOr [y](JavaScript:alert(2)).\n\nOr [z](data:text/html,hi) and [v](vbscript:msgbox).\n\nOr [a reference][r].\n\n[r]: javascript:alert(3)\n\nOr <javascript:alert(4)>.\n\nWe interviewed people",
    );
    let run = build_fails(&s);
    for needle in [
        "[x](javascript:",
        "[y](JavaScript:",
        "[z](data:",
        "[a reference][r]",
        "<javascript:alert(4)>",
    ] {
        let line = s.line_of(file, needle);
        run.error_at(file, line, "a link to a script");
    }
    let both = s.line_of(file, "[v](vbscript:");
    assert_eq!(
        run.errors()
            .iter()
            .filter(|d| d.is_at(file, both) && d.message.contains("a link to a script"))
            .count(),
        2,
        "{run}"
    );
    s.check().assert_failed();
}

// ---------------------------------------------------------------------------
// `thematic check`'s privacy report, and `thematic init`
// ---------------------------------------------------------------------------

/// The report lines printed by `check` (from "Privacy report" to the blank line).
fn report(run: &Run) -> String {
    let start = run
        .stdout
        .find("Privacy report")
        .unwrap_or_else(|| panic!("no privacy report\n{run}"));
    let rest = &run.stdout[start..];
    rest.split("\n\n").next().unwrap().to_string()
}

#[test]
fn check_prints_the_privacy_report() {
    let s = study();
    let expect = Published::read(&s);
    let run = s.check();
    run.assert_ok();
    let r = report(&run);
    for line in [
        "Privacy report (content/privacy.yaml)",
        "  rule: denylisted identifiers: 3",
        "  rule: patterns in quotes: email, phone, url, date, digits (names: off)",
        "  rule: participant counts below 3: suppress",
        "  rule: withdrawn participants: 1",
        "  withheld: 3 quotes of 1 participant withdrawn",
        "  findings: none",
    ] {
        assert!(r.contains(line), "report lacks {line:?}:\n{r}");
    }
    // Cells below k, counted independently: theme x site, theme x site x group,
    // site and group totals.
    let small = |(p, _): (usize, usize)| p > 0 && p < K;
    let themes = expect.facts.published_themes(false);
    let mut n = 0;
    for t in &themes {
        for site in &expect.sites {
            n += small(expect.theme_site(t, site)) as usize;
            for g in &expect.groups {
                n += small(
                    expect.count(|q| expect.in_theme(q, t) && &q.site == site && &q.group == g),
                ) as usize;
            }
        }
    }
    n += expect
        .sites
        .iter()
        .filter(|x| small(expect.count(|q| &q.site == *x)))
        .count();
    n += expect
        .groups
        .iter()
        .filter(|x| small(expect.count(|q| &q.group == *x)))
        .count();
    assert!(n > 0);
    assert!(
        r.contains(&format!("  participant counts below k: {n}\n")),
        "expected {n} cells below k:\n{r}"
    );
    // Nothing private in the report.
    for id in identifiers(&s) {
        assert!(!run.stdout.contains(&id), "{run}");
    }
}

#[test]
fn check_reports_findings_per_file_and_fails_on_errors() {
    let s = study();
    let quotes = "content/quotes/hills.yaml";
    s.edit(
        quotes,
        "text: Waiting is its own kind of work.",
        "text: Write to jo.smith@example.org, or see https://example.org/x.",
    );
    let page = "content/findings/methods.md";
    s.edit(
        page,
        "We interviewed people",
        "We met at Port Royal.\n\nWe interviewed people",
    );
    let run = s.check();
    run.assert_failed();
    run.assert_stderr_contains("Check failed: 1 error");
    let r = report(&run);
    assert!(r.contains("  findings:\n"), "{r}");
    assert!(r.contains(&format!("    {page}: 1")), "{r}");
    assert!(r.contains(&format!("    {quotes}: 2")), "{r}");
    run.error_at(page, s.line_of(page, "We met at"), "denylisted identifier");
    assert_not_printed(&run, PORT, PORT);
}

#[test]
fn check_where_there_is_no_study_prints_only_the_error() {
    let s = TestStudy::empty();
    let no_content = s.check();
    fs::create_dir_all(s.path("content")).unwrap();
    let no_study_yaml = s.check();
    for run in [&no_content, &no_study_yaml] {
        run.assert_failed();
        run.error_with("no study found");
        assert!(!run.stdout.contains("Privacy report"), "{run}");
        assert!(!run.stdout.contains("rule:"), "{run}");
        assert_eq!(run.diagnostics().len(), 1, "{run}");
    }
}

#[test]
fn check_without_privacy_yaml_runs_the_pattern_checks_only() {
    let s = study();
    s.remove(POLICY);
    let run = s.check();
    run.assert_ok();
    let r = report(&run);
    assert!(
        r.contains("Privacy report (no content/privacy.yaml: pattern checks only)"),
        "{r}"
    );
    assert!(
        r.contains("  withheld: 0 quotes of 0 participants withdrawn"),
        "{r}"
    );
    assert!(r.contains("  participant counts below k: 0"), "{r}");
    // Without a policy the allowed date is reported again.
    let file = "content/quotes/hills.yaml";
    warning_at(&run, file, s.line_of(file, "12 March 2021"), "a full date");
}

#[test]
fn init_creates_privacy_yaml_and_a_gitignore_that_lists_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("my-study");
    let run = |cmd: &str| thematic(&[OsStr::new(cmd), dir.as_os_str()], tmp.path());
    run("init").assert_ok();
    let policy = dir.join("content/privacy.yaml");
    assert!(policy.is_file());
    let gitignore = fs::read_to_string(dir.join(".gitignore")).unwrap();
    let lines: Vec<&str> = gitignore.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == "/content/privacy.yaml")
        .unwrap_or_else(|| panic!(".gitignore does not list content/privacy.yaml:\n{gitignore}"));
    // With a comment saying why, just above it.
    assert!(
        lines[..at]
            .iter()
            .rev()
            .take_while(|l| l.starts_with('#'))
            .any(|l| l.to_lowercase().contains("privacy")),
        "no comment explains the entry:\n{gitignore}"
    );
    // The starter policy is valid and the report names it.
    let check = run("check");
    check.assert_ok();
    assert!(
        report(&check).contains("Privacy report (content/privacy.yaml)"),
        "{check}"
    );
    assert!(!check.stderr.contains("privacy.yaml"), "{check}");
    let build = run("build");
    build.assert_ok();
    assert!(
        list_files(&dir.join("output"))
            .iter()
            .all(|f| !f.contains("privacy"))
    );
    // git agrees, when git is installed.
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(&dir)
            .output()
    };
    if git(&["init", "-q"]).is_ok_and(|o| o.status.success()) {
        let ignored = git(&["check-ignore", "-q", "content/privacy.yaml"]).unwrap();
        assert!(
            ignored.status.success(),
            "git does not ignore content/privacy.yaml"
        );
        let kept = git(&["check-ignore", "-q", "content/study.yaml"]).unwrap();
        assert!(!kept.status.success(), "git ignores content/study.yaml");
    }
}

// ---------------------------------------------------------------------------
// Closing the gaps a review found
// ---------------------------------------------------------------------------

#[test]
fn a_comment_markdown_does_not_parse_as_html_is_still_removed() {
    let s = study();
    let page = "content/findings/methods.md";
    s.edit(
        page,
        "We interviewed people",
        "Draft note <!-- HIDDEN-ONE reviewer said\n\nHIDDEN-TWO remove this --> done.\n\nWe interviewed people",
    );
    let (out, _) = build_ok(&s);
    assert_nowhere(&out, "HIDDEN-ONE");
    assert_nowhere(&out, "HIDDEN-TWO");
}

#[test]
fn an_unclosed_comment_is_an_error_and_hides_the_rest() {
    let s = study();
    let page = "content/findings/methods.md";
    s.edit(
        page,
        "We interviewed people",
        "<!-- never closed\n\nWe interviewed people",
    );
    let run = s.build();
    run.assert_failed();
    run.error_at(page, s.line_of(page, "<!-- never closed"), "never closed");
}

#[test]
fn markdown_formatting_does_not_hide_an_identifier() {
    for written in [
        "**Port** Royal",
        "Port\n> Royal",
        "Port&nbsp;Royal",
        "Port&#32;Royal",
    ] {
        let s = study();
        let page = "content/findings/methods.md";
        s.edit(
            page,
            "We interviewed people",
            &format!("> We met at {written} once.\n\nWe interviewed people"),
        );
        let run = s.build();
        run.assert_failed();
        run.error_at(
            page,
            s.line_of(page, "> We met at"),
            "denylisted identifier",
        );
    }
}

#[test]
fn an_identifier_in_an_id_is_found() {
    let s = study();
    s.write(
        "content/findings/port-royal.md",
        "---\ntitle: Another page\n---\nText.\n",
    );
    let run = s.build();
    run.assert_failed();
    run.error_at("content/findings/port-royal.md", 1, "denylisted identifier");
}

#[test]
fn a_privacy_yml_file_is_read_too() {
    let s = study();
    let text = s.read(POLICY);
    s.remove(POLICY);
    s.write("content/privacy.yml", text);
    let (out, run) = build_ok(&s);
    assert!(
        run.stdout.contains("withheld: withdrawn participants"),
        "{run}"
    );
    assert_nowhere(&out, "WITHDRAWN-TOKEN");
}

#[test]
fn messages_about_privacy_yaml_never_show_its_lines() {
    let s = study();
    s.edit(POLICY, "identifiers:", "identifers:");
    let run = s.check();
    run.assert_failed();
    assert!(!run.stderr.contains("Port Royal"), "{run}");
    assert!(!run.stderr.contains("Müller"), "{run}");
}

#[test]
fn a_nul_character_is_an_error_at_its_line() {
    let s = study();
    let page = "content/findings/methods.md";
    let text = s
        .read(page)
        .replacen("We interviewed people", "We\0interviewed people", 1);
    s.write(page, text);
    let run = s.build();
    run.assert_failed();
    run.error_at(page, s.line_of(page, "interviewed people"), "NUL");
}
