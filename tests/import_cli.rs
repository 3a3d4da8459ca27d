//! `thematic import` end to end: the real binary on the real exports of ATLAS.ti,
//! NVivo, MAXQDA and qc (tests/fixtures/refi/samples/), on spreadsheets, and on the
//! codebook a build writes. Every imported study must build; a failed import must
//! leave the study untouched.

mod common;

use std::path::PathBuf;

use common::*;

fn sample(name: &str) -> PathBuf {
    fixtures_dir().join("refi/samples").join(name)
}

#[test]
fn every_real_export_imports_into_a_study_that_builds() {
    for (file, themes) in [
        ("nvivo-mac-15-project.qdpx", 262),
        ("qc-1.3.2-demo.qdpx", 262),
        ("maxqda-24-project.qde", 307),
        ("atlasti-23-target-project.qdpx", 0),
        ("atlasti-23-blank-project.qdpx", 0),
    ] {
        let study = TestStudy::empty();
        let path = sample(file);
        let run = import(
            study.dir(),
            &["refi-qda", path.to_str().unwrap(), "--study", "."],
        );
        run.assert_ok();
        let line = import_summary(&run);
        if themes > 0 {
            assert!(
                line.contains(&format!("themes {themes} added")),
                "{file}: {line}"
            );
        }
        assert!(study.path("content/study.yaml").is_file(), "{file}");
        let build = study.build();
        build.assert_ok();
        // Nothing private: no user names, source paths or memos reach the study.
        for f in list_files(&study.path("content")) {
            let text = std::fs::read_to_string(study.path("content").join(&f)).unwrap();
            assert!(
                !text.contains("internal://"),
                "{file}: content/{f} names a source path"
            );
        }
    }
}

#[test]
fn selections_without_site_or_group_are_listed_and_counted() {
    let study = TestStudy::empty();
    let path = sample("qc-1.3.2-demo.qdpx");
    let run = import(study.dir(), &["refi-qda", path.to_str().unwrap()]);
    run.assert_ok();
    // One line per reason: `skipped: WHAT: WHY`, or `skipped N passages: WHY (...)`.
    let skipped: usize = run
        .stdout
        .lines()
        .filter_map(|l| {
            if l.starts_with("skipped: ") {
                Some(1)
            } else {
                l.strip_prefix("skipped ")?.split(' ').next()?.parse().ok()
            }
        })
        .sum();
    assert!(run.stdout.contains("no site"), "the reason is given: {run}");
    assert!(skipped > 0, "{run}");
    assert!(
        import_summary(&run).ends_with(&format!("{skipped} skipped")),
        "{run}"
    );
}

#[test]
fn a_dry_run_writes_nothing() {
    let study = TestStudy::fixture("minimal");
    let before = snapshot(study.dir());
    let path = sample("nvivo-mac-15-project.qdpx");
    let run = import(
        study.dir(),
        &["refi-qda", path.to_str().unwrap(), "--dry-run"],
    );
    run.assert_ok();
    assert!(
        import_summary(&run).starts_with("Dry run, nothing written"),
        "{run}"
    );
    assert!(run.stdout.contains("would write content/themes/"), "{run}");
    assert_same_snapshot(&before, &snapshot(study.dir()), "the study");
}

#[test]
fn the_codebook_a_build_writes_imports_back_to_the_same_theme_tree() {
    let example = TestStudy::example();
    example.build().assert_ok();
    let qdc = example.out().join("data/codebook.qdc");
    let facts = example.facts();

    let study = TestStudy::empty();
    let run = import(study.dir(), &["refi-qda", qdc.to_str().unwrap()]);
    run.assert_ok();
    let back = study.facts();
    let tree = |f: &common::facts::Facts| -> Vec<(String, Option<String>)> {
        let title = |id: &str| f.themes.iter().find(|t| t.id == id).unwrap().title.clone();
        let mut v: Vec<(String, Option<String>)> = f
            .themes
            .iter()
            .filter(|t| !t.draft)
            .map(|t| (t.title.clone(), t.parent.as_deref().map(title)))
            .collect();
        v.sort();
        v
    };
    assert_eq!(tree(&back), tree(&facts));
    study.build().assert_ok();
    // And again: nothing changes.
    let again = import(study.dir(), &["refi-qda", qdc.to_str().unwrap()]);
    again.assert_ok();
    assert!(
        import_summary(&again).contains("themes 0 added, 0 changed"),
        "{again}"
    );
}

#[test]
fn a_file_that_is_not_refi_qda_is_an_error_and_changes_nothing() {
    let study = TestStudy::fixture("minimal");
    study.write("notes.qdpx", "just some text, not a zip");
    let before = snapshot(study.dir());
    let run = import(study.dir(), &["refi-qda", "notes.qdpx"]);
    run.assert_code(1);
    assert!(run.stderr.contains("notes.qdpx"), "{run}");
    assert!(run.stderr.contains("Nothing was written"), "{run}");
    assert_same_snapshot(&before, &snapshot(study.dir()), "the study");
}

#[test]
fn bad_columns_are_a_usage_error() {
    let study = TestStudy::empty();
    study.write("x.csv", "a,b\n1,2\n");
    let run = import(study.dir(), &["csv", "x.csv", "--columns", "text=a"]);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("--columns must name a column for participant, site, group, themes"),
        "{run}"
    );
}

#[test]
fn a_taguette_export_imports_with_merged_highlights_and_builds() {
    let study = TestStudy::empty();
    let csv = fixtures_dir().join("csv/taguette-highlights.csv");
    let args = [
        "csv",
        csv.to_str().unwrap(),
        "--columns",
        "id=id,text=content,themes=tag,participant=participant,site=site,group=group",
    ];
    let run = import(study.dir(), &args);
    run.assert_ok();
    let quotes = study.read("content/quotes/taguette-highlights.yaml");
    // Highlight 1 has three rows: one quote with both its tags.
    assert!(
        quotes.contains("  - id: \"1\"\n") || quotes.contains("  - id: 1\n"),
        "{quotes}"
    );
    assert!(
        quotes.contains("themes: [peer-support, belonging]"),
        "{quotes}"
    );
    study.build().assert_ok();
    // Importing again changes nothing.
    let again = import(study.dir(), &args);
    again.assert_ok();
    assert!(
        import_summary(&again).contains("quotes 0 added, 0 changed"),
        "{again}"
    );
}

#[test]
fn a_qualcoder_export_with_a_cases_file_imports_and_builds() {
    let study = TestStudy::empty();
    let codings = fixtures_dir().join("csv/qualcoder-codings.csv");
    let cases = fixtures_dir().join("csv/qualcoder-cases.csv");
    let run = import(
        study.dir(),
        &[
            "csv",
            codings.to_str().unwrap(),
            "--columns",
            "text=Coded text,participant=Case,site=Site,group=Responder group,themes=Codes,context=Context",
            "--theme-separator",
            ";",
            "--participants",
            cases.to_str().unwrap(),
        ],
    );
    run.assert_ok();
    assert!(run.stdout.contains("skipped: "), "{run}");
    assert!(study.path("content/sites/hamburg.md").is_file());
    assert!(study.path("content/groups/service-users.md").is_file());
    let quotes = study.read("content/quotes/qualcoder-codings.yaml");
    assert!(
        quotes.contains("context: \"Asked about the first meeting\""),
        "{quotes}"
    );
    study.build().assert_ok();
}

#[test]
fn a_project_with_cases_variables_and_non_ascii_text_imports_and_reimports_unchanged() {
    let study = TestStudy::empty();
    let qde = fixtures_dir().join("refi/cases/project.qde");
    let run = import(study.dir(), &["refi-qda", qde.to_str().unwrap()]);
    run.assert_ok();
    let quotes = std::fs::read_to_string(
        list_files(&study.path("content/quotes"))
            .first()
            .map(|f| study.path("content/quotes").join(f))
            .expect("a quotes file"),
    )
    .unwrap();
    // Cut by code points: umlauts, an emoji, and the site's accent folded in its id.
    assert!(
        quotes.contains("Ich fühlte mich verstanden 😀, nicht allein."),
        "{quotes}"
    );
    assert!(quotes.contains("    site: sao-paulo\n"), "{quotes}");
    assert!(
        study
            .read("content/sites/sao-paulo.md")
            .contains("title: \"São Paulo\"")
    );
    // This tiny project profiles single participants: imported, and the build's
    // refusal is reported at once.
    assert!(run.stderr.contains("will refuse to publish"), "{run}");
    // A newer export of the same project: nothing changes, nothing is duplicated.
    let again = import(study.dir(), &["refi-qda", qde.to_str().unwrap()]);
    again.assert_ok();
    assert!(
        import_summary(&again).contains("themes 0 added, 0 changed; sites 0 added, 0 changed; groups 0 added, 0 changed; quotes 0 added, 0 changed"),
        "{again}"
    );
}

#[test]
fn an_unknown_variable_is_an_error_listing_the_ones_that_exist() {
    let study = TestStudy::empty();
    let qde = fixtures_dir().join("refi/cases/project.qde");
    let run = import(
        study.dir(),
        &["refi-qda", qde.to_str().unwrap(), "--site", "Country"],
    );
    run.assert_code(1);
    assert!(run.stderr.contains("Country"), "{run}");
    assert!(run.stderr.contains("Region"), "lists the variables: {run}");
    assert!(!study.path("content").exists(), "nothing written");
}

#[test]
fn a_spreadsheet_with_errors_changes_nothing_and_names_file_and_line() {
    let study = TestStudy::fixture("minimal");
    study.write(
        "excerpts.csv",
        "Text,Case,Site,Group,Codes\nKind people.,P1,alpha,early,care\n,P2,beta,late,care\n",
    );
    let before = snapshot(study.dir());
    let run = import(
        study.dir(),
        &[
            "csv",
            "excerpts.csv",
            "--columns",
            "text=Text,participant=Case,site=Site,group=Group,themes=Code",
        ],
    );
    run.assert_code(1);
    // The column named in --columns does not exist: the ones that do are listed.
    assert!(run.stderr.contains("excerpts.csv"), "{run}");
    assert!(run.stderr.contains("`Codes`"), "{run}");
    assert_same_snapshot(&before, &snapshot(study.dir()), "the study");

    let run = import(
        study.dir(),
        &[
            "csv",
            "excerpts.csv",
            "--columns",
            "text=Text,participant=Case,site=Site,group=Group,themes=Codes",
        ],
    );
    run.assert_code(1);
    // Row 3 has no text: its line is named.
    assert!(run.stderr.contains("excerpts.csv:3"), "{run}");
    assert_same_snapshot(&before, &snapshot(study.dir()), "the study");
}
