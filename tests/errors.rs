//! Content errors: for each broken study, `build` and `check` exit 1, name the file
//! and line (`--> FILE:LINE`), say what is wrong, and write nothing.
//!
//! Broken studies are `tests/fixtures/minimal` with `tests/fixtures/broken/NAME/`
//! copied over it; expected lines are computed from the fixture text, not hard-coded.

mod common;

use std::collections::BTreeSet;
use std::fs;

use common::*;

/// Files and folders directly in the study folder.
fn top_level(study: &TestStudy) -> BTreeSet<String> {
    fs::read_dir(study.dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Runs `build` and `check` on a broken study and checks what every failure shares:
/// exit 1, a failure line, the same diagnostics from both commands, nothing written.
/// Returns the build's run for case-specific assertions.
#[track_caller]
fn assert_fails(study: &TestStudy) -> Run {
    let before = top_level(study);
    let build = study.build();
    build.assert_failed();
    assert!(
        build.stdout.trim().is_empty(),
        "a failed build prints no summary\n{build}"
    );
    build.assert_stderr_contains("Build failed: ");
    assert!(!build.errors().is_empty(), "no error printed\n{build}");
    for d in build.errors() {
        assert!(
            !d.location.is_empty(),
            "error without a location:\n{}",
            d.text
        );
    }
    assert!(!study.out().exists(), "a failed build created output/");
    assert_eq!(top_level(study), before, "a failed build left files behind");

    let check = study.check();
    check.assert_failed();
    check.assert_stderr_contains("Check failed: ");
    let texts = |r: &Run| -> Vec<String> { r.diagnostics().into_iter().map(|d| d.text).collect() };
    assert_eq!(
        texts(&build),
        texts(&check),
        "build and check must report the same diagnostics"
    );
    assert!(!study.out().exists(), "check created output/");
    assert_eq!(top_level(study), before, "check wrote files");
    build
}

/// The line of the first line containing `needle` after the first line containing `after`.
#[track_caller]
fn line_after(text: &str, after: &str, needle: &str) -> usize {
    let start = line_of(text, after);
    text.lines()
        .enumerate()
        .skip(start)
        .find(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .unwrap_or_else(|| panic!("{needle:?} not found after {after:?}"))
}

#[test]
fn unknown_field_in_a_quote_is_reported_with_a_suggestion() {
    let s = TestStudy::broken("unknown-field");
    let file = "content/quotes/typo.yaml";
    let run = assert_fails(&s);
    let d = run.error_at(file, s.line_of(file, "sit: alpha"), "unknown field `sit`");
    assert!(d.text.contains("did you mean `site`?"), "{}", d.text);
    // The location has a column: the field name starts at column 3.
    assert!(d.location.ends_with(":3"), "{}", d.location);
}

#[test]
fn unknown_field_in_front_matter_is_reported_with_a_suggestion() {
    let s = TestStudy::broken("unknown-front-matter-field");
    let file = "content/themes/care.md";
    let run = assert_fails(&s);
    let d = run.error_at(file, s.line_of(file, "summery:"), "unknown field `summery`");
    assert!(d.text.contains("`summary`"), "{}", d.text);
}

#[test]
fn yaml_syntax_error_in_a_quotes_file() {
    let s = TestStudy::broken("yaml-syntax");
    let file = "content/quotes/typo.yaml";
    let run = assert_fails(&s);
    run.error_at(file, s.line_of(file, "She said: come"), "invalid YAML");
}

#[test]
fn yaml_syntax_error_in_front_matter_is_at_its_line_in_the_file() {
    // The front matter starts on line 2: the reported line is the file's, not the YAML's.
    let s = TestStudy::broken("front-matter-yaml-syntax");
    let file = "content/themes/care.md";
    let run = assert_fails(&s);
    run.error_at(
        file,
        s.line_of(file, "summary: Being: looked"),
        "invalid YAML",
    );
}

#[test]
fn unterminated_front_matter() {
    let s = TestStudy::broken("unterminated-front-matter");
    let file = "content/themes/care.md";
    let run = assert_fails(&s);
    let d = run.error_at(file, s.line_of(file, "---"), "front matter is not closed");
    assert!(d.text.contains("---"), "{}", d.text);
}

#[test]
fn missing_front_matter() {
    let s = TestStudy::broken("missing-front-matter");
    let file = "content/sites/beta.md";
    let run = assert_fails(&s);
    run.error_at(file, 1, "missing front matter");
}

#[test]
fn file_that_is_not_utf8_has_its_line_in_the_location() {
    let s = TestStudy::fixture("minimal");
    let file = "content/findings/summary.md";
    let mut bytes = s.read(file).into_bytes();
    let line = s.read(file).lines().count() + 1;
    bytes.extend_from_slice(b"caf\xe9 au lait, in Latin-1\n");
    s.write(file, &bytes);
    let run = assert_fails(&s);
    run.error_at(file, line, "not UTF-8");
}

#[test]
fn missing_study_yaml() {
    let s = TestStudy::fixture("minimal");
    s.remove("content/study.yaml");
    let run = assert_fails(&s);
    let d = run.error_with("content/study.yaml");
    assert!(d.location.starts_with("content/study.yaml"), "{}", d.text);
    assert!(
        d.text.contains("thematic init"),
        "says how to start: {}",
        d.text
    );
}

#[test]
fn missing_title_in_front_matter() {
    let s = TestStudy::broken("missing-title");
    let file = "content/themes/care.md";
    let run = assert_fails(&s);
    let d = run.error_at(file, 1, "missing the required field `title`");
    assert!(d.text.contains("title: ..."), "{}", d.text);
}

#[test]
fn missing_title_in_study_yaml() {
    let s = TestStudy::broken("missing-study-title");
    let run = assert_fails(&s);
    run.error_at(
        "content/study.yaml",
        1,
        "missing the required field `title`",
    );
}

#[test]
fn invalid_ids_of_a_theme_and_a_quote() {
    let s = TestStudy::broken("invalid-id");
    let run = assert_fails(&s);
    let theme = "content/themes/extra.md";
    let d = run.error_at(
        theme,
        s.line_of(theme, "id: Extra_Theme"),
        "invalid theme id `Extra_Theme`",
    );
    assert!(
        d.text.contains("extra-theme"),
        "suggests a valid id: {}",
        d.text
    );
    let quotes = "content/quotes/bad-id.yaml";
    run.error_at(
        quotes,
        s.line_of(quotes, "id: A 01"),
        "invalid quote id `A 01`",
    );
}

#[test]
fn duplicate_theme_id_names_both_places() {
    let s = TestStudy::broken("duplicate-theme-id");
    let run = assert_fails(&s);
    let d = run.error_with("duplicate theme id `care`");
    // One of the two files is the location, the other is named in the text.
    let again = "content/themes/care-again.md";
    let original = "content/themes/care.md";
    let again_at = format!("{again}:{}", s.line_of(again, "id: care"));
    assert!(
        d.location.starts_with(original) || d.location.starts_with(&again_at),
        "{}",
        d.text
    );
    assert!(d.text.contains(original), "names {original}: {}", d.text);
    assert!(d.text.contains(&again_at), "names {again_at}: {}", d.text);
}

#[test]
fn duplicate_quote_id_names_both_places() {
    let s = TestStudy::broken("duplicate-quote-id");
    let run = assert_fails(&s);
    let more = "content/quotes/more.yaml";
    let d = run.error_at(
        more,
        s.line_of(more, "id: a-01"),
        "duplicate quote id `a-01`",
    );
    let main = "content/quotes/main.yaml";
    let first = format!("{main}:{}", s.line_of(main, "id: a-01"));
    assert!(d.text.contains(&first), "names {first}: {}", d.text);
}

#[test]
fn unknown_site_points_at_the_quote() {
    let s = TestStudy::broken("unknown-site");
    let file = "content/quotes/refs.yaml";
    let run = assert_fails(&s);
    let d = run.error_at(file, s.line_of(file, "site: gamma"), "unknown site `gamma`");
    assert!(d.message.contains("c-01"), "names the quote: {}", d.text);
}

#[test]
fn unknown_site_from_defaults_points_at_the_defaults() {
    let s = TestStudy::broken("unknown-site-in-defaults");
    let file = "content/quotes/refs.yaml";
    let run = assert_fails(&s);
    let d = run.error_at(file, s.line_of(file, "site: gama"), "unknown site `gama`");
    assert!(
        d.text.contains("`gamma`") || d.text.contains("alpha"),
        "{}",
        d.text
    );
}

#[test]
fn unknown_group_points_at_the_quote() {
    let s = TestStudy::broken("unknown-group");
    let file = "content/quotes/refs.yaml";
    let run = assert_fails(&s);
    run.error_at(
        file,
        s.line_of(file, "group: middle"),
        "unknown group `middle`",
    );
}

#[test]
fn unknown_theme_points_at_the_quote_and_suggests() {
    let s = TestStudy::broken("unknown-theme");
    let file = "content/quotes/refs.yaml";
    let text = s.read(file);
    let run = assert_fails(&s);
    let d = run.error_at(
        file,
        line_after(&text, "id: c-02", "themes:"),
        "unknown theme `wating`",
    );
    assert!(d.message.contains("c-02"), "names the quote: {}", d.text);
    assert!(d.text.contains("did you mean `waiting`?"), "{}", d.text);
}

#[test]
fn unknown_parent_theme() {
    let s = TestStudy::broken("unknown-parent");
    let file = "content/themes/waiting.md";
    let run = assert_fails(&s);
    let d = run.error_at(
        file,
        s.line_of(file, "parent: acess"),
        "unknown parent theme `acess`",
    );
    assert!(d.text.contains("`access`"), "{}", d.text);
}

#[test]
fn parent_cycle() {
    let s = TestStudy::broken("parent-cycle");
    let run = assert_fails(&s);
    let d = run.error_with("cycle");
    assert!(
        d.message.contains("care") && d.message.contains("waiting"),
        "names the themes of the cycle: {}",
        d.text
    );
    let care = "content/themes/care.md";
    let waiting = "content/themes/waiting.md";
    assert!(
        d.is_at(care, s.line_of(care, "parent: waiting"))
            || d.is_at(waiting, s.line_of(waiting, "parent: care")),
        "points at a `parent:` line of the cycle: {}",
        d.text
    );
}

#[test]
fn broken_links_are_reported_at_their_lines() {
    let s = TestStudy::broken("broken-link");
    let file = "content/findings/summary.md";
    let run = assert_fails(&s);
    let d = run.error_at(
        file,
        s.line_of(file, "(theme:wating)"),
        "unknown theme `wating`",
    );
    assert!(d.text.contains("did you mean `waiting`?"), "{}", d.text);
    run.error_at(
        file,
        s.line_of(file, "(site:gamma)"),
        "unknown site `gamma`",
    );
    run.error_at(
        file,
        s.line_of(file, "(group:middle)"),
        "unknown group `middle`",
    );
    run.error_at(
        file,
        s.line_of(file, "(finding:nope)"),
        "unknown finding `nope`",
    );
    run.error_at(
        file,
        s.line_of(file, "(quote:zz-99)"),
        "unknown quote `zz-99`",
    );
    // The valid link on line 4 is not reported.
    let ok_line = s.line_of(file, "(theme:care)");
    assert!(
        !run.errors().iter().any(|d| d.is_at(file, ok_line)),
        "{run}"
    );
    // Columns point at the link: two links on one line are told apart.
    let line = s.line_of(file, "(site:gamma)");
    let at_line: BTreeSet<String> = run
        .errors()
        .into_iter()
        .filter(|d| d.is_at(file, line))
        .map(|d| d.location)
        .collect();
    assert_eq!(at_line.len(), 2, "two distinct columns: {at_line:?}");
}

#[test]
fn link_to_a_theme_by_site_page_that_does_not_exist() {
    // In riverside, `neighbours` has quotes only in Haifa.
    let s = TestStudy::fixture("riverside");
    let file = "content/findings/methods.md";
    let text = s.read(file);
    s.write(
        file,
        format!("{text}\nNeighbours in [Lilongwe](theme:neighbours/site:lilongwe).\n"),
    );
    let run = assert_fails(&s);
    run.error_at(
        file,
        s.line_of(file, "(theme:neighbours/site:lilongwe)"),
        "neighbours",
    );
}

#[test]
fn cross_reference_to_a_missing_anchor_is_an_error() {
    let s = TestStudy::fixture("minimal");
    let file = "content/findings/summary.md";
    let text = s.read(file);
    s.write(
        file,
        format!("{text}\nSee [the table](theme:waiting#no-such-anchor).\n"),
    );
    let run = assert_fails(&s);
    run.error_at(file, s.line_of(file, "#no-such-anchor"), "no-such-anchor");
}

#[test]
fn broken_embeds_are_reported_at_their_lines() {
    let s = TestStudy::broken("broken-embed");
    let file = "content/findings/summary.md";
    let run = assert_fails(&s);
    run.error_at(file, s.line_of(file, "![](quote:a-99)"), "a-99");
    run.error_at(file, s.line_of(file, "![](theme:care)"), "theme:care");
}

#[test]
fn wrong_type_of_a_field() {
    let s = TestStudy::broken("wrong-type");
    let file = "content/sites/beta.md";
    let run = assert_fails(&s);
    let d = run.error_at(file, s.line_of(file, "participants: six"), "`participants`");
    assert!(d.message.contains("whole number"), "{}", d.text);
    assert!(d.message.contains("six"), "{}", d.text);
}

#[test]
fn bad_income_level_lists_the_valid_ones() {
    let s = TestStudy::broken("bad-income-level");
    let file = "content/sites/beta.md";
    let run = assert_fails(&s);
    let d = run.error_at(file, s.line_of(file, "income_level: middle"), "`middle`");
    for level in ["high", "upper-middle", "lower-middle", "low"] {
        assert!(d.text.contains(level), "lists {level}: {}", d.text);
    }
}

#[test]
fn template_syntax_error_in_a_site_theme() {
    let s = TestStudy::broken("template-error");
    let file = "themes/plain/templates/theme.html";
    let run = assert_fails(&s);
    let d = run.error_at(file, s.line_of(file, "{{ theme.summary }</p>"), "template");
    assert!(d.text.contains("}}"), "{}", d.text);
}

#[test]
fn unknown_site_theme_points_at_study_yaml() {
    let s = TestStudy::fixture("minimal");
    let file = "content/study.yaml";
    let text = s.read(file);
    s.write(file, format!("{text}site_theme: missing\n"));
    let run = assert_fails(&s);
    run.error_at(file, s.line_of(file, "site_theme: missing"), "`missing`");
}

#[test]
fn every_error_in_every_file_is_reported_in_one_run() {
    let s = TestStudy::broken("multiple-errors");
    let run = assert_fails(&s);
    let quotes = "content/quotes/bad.yaml";
    let sites = "content/sites/beta.md";
    let theme = "content/themes/waiting.md";
    let finding = "content/findings/summary.md";
    let study = "content/study.yaml";
    let expected = [
        (
            quotes,
            s.line_of(quotes, "grup: early"),
            "unknown field `grup`",
        ),
        (
            quotes,
            s.line_of(quotes, "group: mid"),
            "unknown group `mid`",
        ),
        (sites, s.line_of(sites, "income_level: rich"), "`rich`"),
        (
            sites,
            s.line_of(sites, "participants: six"),
            "`participants`",
        ),
        (
            theme,
            s.line_of(theme, "parent: nope"),
            "unknown parent theme `nope`",
        ),
        (
            finding,
            s.line_of(finding, "(theme:nope)"),
            "unknown theme `nope`",
        ),
        (
            study,
            s.line_of(study, "participants: many"),
            "`participants`",
        ),
        ("content/groups/middle.md", 1, "missing front matter"),
    ];
    for (file, line, message) in expected {
        run.error_at(file, line, message);
    }
    let files: BTreeSet<String> = run.errors().iter().map(|d| d.file().to_string()).collect();
    assert!(files.len() >= 6, "errors in six files: {files:?}");
    assert!(
        run.stderr
            .contains(&format!("Build failed: {} errors", run.errors().len())),
        "the failure line counts every error\n{run}"
    );
}

#[test]
fn diagnostics_are_sorted_by_file_and_line() {
    let s = TestStudy::broken("multiple-errors");
    let run = s.check();
    let places: Vec<(String, u32)> = run
        .diagnostics()
        .iter()
        .map(|d| {
            let mut parts = d.location.split(':');
            let file = parts.next().unwrap_or("").to_string();
            let line = parts.next().and_then(|l| l.parse().ok()).unwrap_or(0);
            (file, line)
        })
        .collect();
    let mut sorted = places.clone();
    sorted.sort();
    assert_eq!(places, sorted, "{run}");
}

#[test]
fn warnings_do_not_fail_the_build() {
    // A theme without quotes is a warning: the build succeeds and says so.
    let s = TestStudy::fixture("minimal");
    s.write(
        "content/themes/unused.md",
        "---\ntitle: Unused\n---\nNo quote uses this theme.\n",
    );
    let run = s.build();
    run.assert_ok();
    let w: Vec<Diag> = run
        .diagnostics()
        .into_iter()
        .filter(|d| !d.is_error())
        .collect();
    assert!(
        w.iter()
            .any(|d| d.message.contains("unused") && d.file() == "content/themes/unused.md"),
        "{run}"
    );
    assert!(s.out().join("themes/unused/index.html").is_file());
}

#[test]
fn unknown_filter_in_a_site_theme_is_at_its_line() {
    let s = TestStudy::fixture("minimal");
    let file = "themes/default/templates/finding.html";
    s.write(
        file,
        "{% extends \"base.html\" %}\n{% block content %}\n{{ page.title | nofilter }}\n{% endblock content %}\n",
    );
    let run = s.build();
    run.assert_failed();
    run.error_at(file, 3, "Unknown filter `nofilter`");
}

#[test]
fn every_template_that_names_a_missing_filter_or_template_is_reported() {
    let s = TestStudy::fixture("minimal");
    let finding = "themes/default/templates/finding.html";
    let group = "themes/default/templates/group.html";
    s.write(
        finding,
        "{% extends \"base.html\" %}\n{% block content %}\n{{ page.title | nofilter }}\n{% endblock content %}\n",
    );
    s.write(
        group,
        "{% extends \"base.html\" %}\n{% block content %}\n\n{% include \"nowhere.html\" %}\n{% endblock content %}\n",
    );
    let run = s.build();
    run.assert_failed();
    run.error_at(finding, 3, "Unknown filter `nofilter`");
    run.error_at(group, 4, "Unknown template `nowhere.html`");
}

#[test]
fn a_licence_that_is_neither_an_spdx_id_nor_a_url_is_at_its_line() {
    let s = TestStudy::fixture("minimal");
    let file = "content/study.yaml";
    let text = s.read(file);
    s.write(file, format!("{text}license: Creative Commons BY\n"));
    let run = assert_fails(&s);
    let d = run.error_at(
        file,
        s.line_of(file, "license: Creative Commons BY"),
        "`license` must be an SPDX licence id or a URL",
    );
    assert!(
        d.text.contains("CC-BY-4.0"),
        "the hint shows an id: {}",
        d.text
    );
}

#[test]
fn a_quotes_file_that_is_not_yaml_hides_no_error_behind_unknown_quotes() {
    // The syntax error is the one to fix: embeds and links to the quotes of that
    // file are not reported as unknown (with a "did you mean" pointing elsewhere).
    let s = TestStudy::fixture("minimal");
    let quotes = "content/quotes/main.yaml";
    let text = s.read(quotes);
    s.write(quotes, text.replace("  site: beta", "   site: beta"));
    let finding = "content/findings/summary.md";
    let body = s.read(finding);
    s.write(
        finding,
        format!("{body}\n![](quote:b-01)\n\nSee [this quote](quote:a-02).\n"),
    );
    let run = assert_fails(&s);
    assert_eq!(run.errors().len(), 1, "{run}");
    run.error_at(quotes, s.line_of(quotes, "   site: beta"), "");
}

#[test]
fn a_link_to_a_quote_not_in_the_linked_list_says_how_to_link_the_quote() {
    // a-02 is tagged `waiting` only: the care page does not list it.
    let s = TestStudy::fixture("minimal");
    let file = "content/findings/summary.md";
    let text = s.read(file);
    s.write(
        file,
        format!("{text}\nAs [one person put it](theme:care#q-a-02).\n"),
    );
    let run = assert_fails(&s);
    let d = run.error_at(
        file,
        s.line_of(file, "theme:care#q-a-02"),
        "quote `a-02` is not listed on `theme:care`",
    );
    assert!(d.text.contains("`quote:a-02`"), "{}", d.text);
}

#[test]
fn a_link_into_a_list_to_a_withdrawn_quote_is_plain_text_with_a_warning() {
    let s = TestStudy::fixture("minimal");
    s.write("content/privacy.yaml", "withdrawn: [A-02]\n");
    let file = "content/findings/summary.md";
    let text = s.read(file);
    s.write(
        file,
        format!("{text}\nAs [one person put it](theme:waiting#q-a-02).\n"),
    );
    let run = s.build();
    run.assert_ok();
    let line = s.line_of(file, "theme:waiting#q-a-02");
    assert!(
        run.diagnostics().iter().any(|d| !d.is_error()
            && d.is_at(file, line)
            && d.message.contains("withdrawn participant")),
        "{run}"
    );
    let html = read_page(&s.out(), "findings/summary/index.html");
    assert!(html.contains("As one person put it."), "{html}");
    assert!(!html.contains("q-a-02"), "{html}");
}

#[test]
fn a_key_given_twice_is_reported_where_it_is_repeated() {
    let s = TestStudy::fixture("minimal");
    let theme = "content/themes/access.md";
    s.write(
        theme,
        "---\ntitle: Access\norder: 2\nsummary: Getting in.\norder: 3\n---\nGetting there.\n",
    );
    let quotes = "content/quotes/main.yaml";
    let text = s.read(quotes);
    s.write(
        quotes,
        text.replace("  site: beta\n", "  site: beta\n  site: gamma\n"),
    );
    let run = assert_fails(&s);
    // waiting.md's `parent: access` is not reported: access.md has its own error.
    assert_eq!(run.errors().len(), 2, "{run}");
    let d = run.error_at(theme, 5, "`order` is given twice");
    assert!(
        d.text.contains("keep one of the two `order:` lines"),
        "{}",
        d.text
    );
    run.error_at(
        quotes,
        s.line_of(quotes, "site: gamma"),
        "`site` is given twice",
    );
}

#[test]
fn a_sort_order_that_is_not_a_number_says_what_to_write() {
    let s = TestStudy::fixture("minimal");
    let theme = "content/themes/access.md";
    s.edit(theme, "order: 2", "order: first");
    let run = assert_fails(&s);
    run.error_at(
        theme,
        3,
        "must be a whole number, such as 1 (lower numbers come first)",
    );
}

#[test]
fn several_themes_without_brackets_are_told_to_be_a_list() {
    let s = TestStudy::fixture("minimal");
    let quotes = "content/quotes/main.yaml";
    s.edit(quotes, "themes: [care, waiting]", "themes: care, waiting");
    let run = assert_fails(&s);
    let d = run.error_at(
        quotes,
        s.line_of(quotes, "themes: care, waiting"),
        "care, waiting",
    );
    assert!(d.text.contains("`themes: [care, waiting]`"), "{}", d.text);
}

#[test]
fn a_relative_link_or_image_to_a_file_the_site_lacks_is_a_warning() {
    let s = TestStudy::fixture("minimal");
    let file = "content/findings/summary.md";
    let text = s.read(file);
    s.write(
        file,
        format!(
            "{text}\n![Figure 2](../../static/figure-2.png)\n\n\
             [The data](../../data/quotes.csv), [the care theme](../../themes/care/),\n\
             [the stylesheet](../../static/style.css) and [a typo](../../themes/caer/).\n"
        ),
    );
    let run = s.build();
    run.assert_ok();
    let warned: Vec<Diag> = run
        .diagnostics()
        .into_iter()
        .filter(|d| !d.is_error() && d.message.contains("which the site does not have"))
        .collect();
    assert_eq!(warned.len(), 2, "{run}");
    assert!(
        warned[0].is_at(file, s.line_of(file, "figure-2.png")),
        "{run}"
    );
    assert!(warned[0].message.contains("`static/figure-2.png`"), "{run}");
    assert!(warned[0].text.contains("`../../static/NAME`"), "{run}");
    assert!(
        warned[1].is_at(file, s.line_of(file, "themes/caer/")),
        "{run}"
    );
    assert!(
        warned[1].message.contains("`themes/caer/index.html`"),
        "{run}"
    );
}
