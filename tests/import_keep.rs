//! `thematic import` keeps what the author owns in a theme page: the real binary
//! imports a spreadsheet into the starter study `thematic init` makes, and REFI-QDA
//! codebooks (flat and nested) into a study, then again after the author has
//! edited the theme pages. A theme's `parent` where the source has none, `order`,
//! `summary`, `draft`, `color` (where the source has none), comments and the body
//! survive byte for byte, and the summary line counts only real changes.

mod common;

use common::*;

/// The files an import run says it wrote.
fn written(run: &Run) -> Vec<String> {
    run.stdout
        .lines()
        .filter_map(|l| l.strip_prefix("wrote "))
        .map(|l| l.trim_end_matches(" (new)").to_string())
        .collect()
}

/// The parent of each theme, by id, as the study's files have them.
fn parent_of(study: &TestStudy, id: &str) -> Option<String> {
    study
        .facts()
        .themes
        .iter()
        .find(|t| t.id == id)
        .unwrap_or_else(|| panic!("no theme {id}"))
        .parent
        .clone()
}

/// The starter study, as a user gets it.
fn starter() -> TestStudy {
    let study = TestStudy::empty();
    thematic(&["init", "."], study.dir()).assert_ok();
    assert!(
        study
            .read("content/themes/travel.md")
            .contains("parent: access\n"),
        "the starter has a subtheme"
    );
    study
}

const CSV_COLUMNS: &str =
    "id=id,text=content,themes=tag,participant=participant,site=site,group=group";

/// A travel page with every field a spreadsheet does not own, and a draft subtheme.
const TRAVEL: &str = "---\n\
title: Travel and distance\n\
# Moved under access after the second workshop.\n\
parent: access\n\
order: 1\n\
summary: >-\n  The journey to appointments,\n  and what it cost.\n\
color: \"#336699\"\n\
---\n\
The author's analysis.\n\n---\n\nKept word for word.\n";

const WAITING: &str = "---\n\
title: Waiting times\n\
parent: access\n\
order: 2\n\
draft: true\n\
summary: Not ready yet.\n\
---\n\
Draft notes.\n";

#[test]
fn a_spreadsheet_import_keeps_the_theme_tree_and_every_field_the_author_owns() {
    let study = starter();
    study.write("content/themes/travel.md", TRAVEL);
    study.write("content/themes/waiting.md", WAITING);
    study.write(
        "hl.csv",
        "id,content,tag,participant,site,group\n\
         1,The bus took an hour.,Travel and distance,N-09,north,high\n\
         2,I waited all morning.,Waiting times,N-10,north,low\n\
         3,They listened to me.,Peer support,S-09,south,high\n",
    );
    study.build().assert_ok();
    assert_eq!(parent_of(&study, "travel").as_deref(), Some("access"));

    // The first import: two titles match existing themes, one is new.
    let run = import(
        study.dir(),
        &["csv", "hl.csv", "--study", ".", "--columns", CSV_COLUMNS],
    );
    run.assert_ok();
    assert_eq!(
        import_summary(&run),
        "Imported hl.csv into .: themes 1 added, 0 changed; sites 0 added, 0 changed; groups 0 added, 0 changed; quotes 3 added, 0 changed; 0 skipped",
        "{run}"
    );
    assert_eq!(
        written(&run),
        ["content/quotes/hl.yaml", "content/themes/peer-support.md"],
        "{run}"
    );
    assert_eq!(study.read("content/themes/travel.md"), TRAVEL);
    assert_eq!(study.read("content/themes/waiting.md"), WAITING);
    study.build().assert_ok();
    assert_eq!(parent_of(&study, "travel").as_deref(), Some("access"));
    assert_eq!(parent_of(&study, "waiting").as_deref(), Some("access"));

    // The author builds the tree afterwards, as docs/import.md says, and re-imports.
    study.edit(
        "content/themes/peer-support.md",
        "title: \"Peer support\"\n",
        "title: \"Peer support\"\nparent: support\norder: 4\n",
    );
    let before = snapshot(&study.path("content"));
    let again = import(
        study.dir(),
        &["csv", "hl.csv", "--study", ".", "--columns", CSV_COLUMNS],
    );
    again.assert_ok();
    assert!(
        import_summary(&again).ends_with(": themes 0 added, 0 changed; sites 0 added, 0 changed; groups 0 added, 0 changed; quotes 0 added, 0 changed; 0 skipped"),
        "{again}"
    );
    assert!(written(&again).is_empty(), "{again}");
    assert_same_snapshot(&before, &snapshot(&study.path("content")), "content/");
    study.build().assert_ok();
    assert_eq!(
        parent_of(&study, "peer-support").as_deref(),
        Some("support")
    );
    assert_eq!(parent_of(&study, "travel").as_deref(), Some("access"));
}

#[test]
fn a_title_the_spreadsheet_changes_is_the_one_change_it_makes_and_counts() {
    let study = starter();
    study.write("content/themes/travel.md", TRAVEL);
    study.write(
        "hl.csv",
        "id,content,tag,participant,site,group\n1,The bus took an hour.,TRAVEL AND DISTANCE,N-09,north,high\n",
    );
    let run = import(study.dir(), &["csv", "hl.csv", "--columns", CSV_COLUMNS]);
    run.assert_ok();
    assert!(
        import_summary(&run).contains(": themes 0 added, 1 changed;"),
        "{run}"
    );
    assert!(
        written(&run).contains(&"content/themes/travel.md".to_string()),
        "{run}"
    );
    // The title follows the spreadsheet; every other byte is the author's.
    assert_eq!(
        study.read("content/themes/travel.md"),
        TRAVEL.replace(
            "title: Travel and distance\n",
            "title: \"TRAVEL AND DISTANCE\"\n"
        )
    );
    study.build().assert_ok();
    assert_eq!(parent_of(&study, "travel").as_deref(), Some("access"));
}

/// A REFI-QDA codebook: `(guid, name, parent index)`, parents before children.
fn codebook(codes: &[(&str, &str, Option<usize>)]) -> String {
    fn open(codes: &[(&str, &str, Option<usize>)], parent: Option<usize>, out: &mut String) {
        for (i, (guid, name, p)) in codes.iter().enumerate() {
            if *p != parent {
                continue;
            }
            out.push_str(&format!(
                "<Code guid=\"{guid}\" name=\"{name}\" isCodable=\"true\" color=\"#2A6F97\">"
            ));
            open(codes, Some(i), out);
            out.push_str("</Code>\n");
        }
    }
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<CodeBook xmlns=\"urn:QDA-XML:codebook:1.0\"><Codes>\n",
    );
    open(codes, None, &mut s);
    s.push_str("</Codes></CodeBook>\n");
    s
}

const G_ACCESS: &str = "AAAAAAAA-0000-4000-8000-000000000001";
const G_TRAVEL: &str = "AAAAAAAA-0000-4000-8000-000000000002";
const G_SUPPORT: &str = "AAAAAAAA-0000-4000-8000-000000000003";

#[test]
fn a_flat_codebook_keeps_the_tree_built_in_the_theme_pages() {
    let study = TestStudy::empty();
    let flat = codebook(&[
        (G_ACCESS, "Access", None),
        (G_TRAVEL, "Travel", None),
        (G_SUPPORT, "Support", None),
    ]);
    study.write("codebook.qdc", &flat);
    import(study.dir(), &["refi-qda", "codebook.qdc"]).assert_ok();
    study.build().assert_ok();
    assert_eq!(parent_of(&study, "travel"), None);

    // The author nests travel under access, orders it, writes a summary, a
    // comment, a draft flag and the narrative.
    let travel = study.read("content/themes/travel.md");
    let edited = travel.replacen(
        "title: \"Travel\"\n",
        "title: \"Travel\"\n# nested by hand\nparent: access\norder: 2\nsummary: Getting there.\ndraft: true\n",
        1,
    ) + "\nThe author's text.\n";
    assert_ne!(edited, travel);
    study.write("content/themes/travel.md", &edited);
    study.build().assert_ok();
    let before = snapshot(&study.path("content"));

    let again = import(study.dir(), &["refi-qda", "codebook.qdc"]);
    again.assert_ok();
    assert!(
        import_summary(&again).contains(": themes 0 added, 0 changed;"),
        "{again}"
    );
    assert!(written(&again).is_empty(), "{again}");
    // A flat project says nothing about the tree: no note either.
    assert!(!again.stdout.contains("note:"), "{again}");
    assert_same_snapshot(&before, &snapshot(&study.path("content")), "content/");
    assert_eq!(parent_of(&study, "travel").as_deref(), Some("access"));
}

#[test]
fn a_nested_project_decides_the_parents_it_gives_and_keeps_the_others() {
    let study = TestStudy::empty();
    let v1 = codebook(&[
        (G_ACCESS, "Access", None),
        (G_TRAVEL, "Travel", Some(0)),
        (G_SUPPORT, "Support", None),
    ]);
    study.write("codebook.qdc", &v1);
    import(study.dir(), &["refi-qda", "codebook.qdc"]).assert_ok();
    assert_eq!(parent_of(&study, "travel").as_deref(), Some("access"));

    // The author moves travel (nested in the project) and nests support (at the
    // top of the project), with an order each.
    study.edit(
        "content/themes/travel.md",
        "parent: access\n",
        "parent: support\norder: 5\n",
    );
    study.edit(
        "content/themes/support.md",
        "title: \"Support\"\n",
        "title: \"Support\"\nparent: access\norder: 6\n",
    );
    let support = study.read("content/themes/support.md");
    study.build().assert_ok();

    let run = import(study.dir(), &["refi-qda", "codebook.qdc"]);
    run.assert_ok();
    // The project's parent wins where it gives one: one change, and it is that.
    assert!(
        import_summary(&run).contains(": themes 0 added, 1 changed;"),
        "{run}"
    );
    assert_eq!(written(&run), ["content/themes/travel.md"], "{run}");
    let travel = study.read("content/themes/travel.md");
    assert!(travel.contains("parent: access\norder: 5\n"), "{travel}");
    // Where the project has none, the page's own is kept, and the author is told.
    assert_eq!(study.read("content/themes/support.md"), support);
    assert!(
        run.stdout.contains(
            "note: content/themes/support.md keeps its `parent: access`, though the project has this code at the top level"
        ),
        "{run}"
    );
    study.build().assert_ok();

    // The project then moves access under support: the kept `parent: access` of
    // support would close a cycle, so the project's tree wins and says so.
    let v2 = codebook(&[
        (G_SUPPORT, "Support", None),
        (G_ACCESS, "Access", Some(0)),
        (G_TRAVEL, "Travel", Some(1)),
    ]);
    study.write("codebook.qdc", &v2);
    let run = import(study.dir(), &["refi-qda", "codebook.qdc"]);
    run.assert_ok();
    assert!(
        import_summary(&run).contains(": themes 0 added, 2 changed;"),
        "{run}"
    );
    assert!(
        run.stdout.contains(
            "note: content/themes/support.md: `parent: access` removed: with the project's tree it made a cycle (support -> access -> support)"
        ),
        "{run}"
    );
    assert_eq!(parent_of(&study, "support"), None);
    assert_eq!(parent_of(&study, "access").as_deref(), Some("support"));
    assert!(
        study
            .read("content/themes/support.md")
            .contains("order: 6\n")
    );
    study.build().assert_ok();
}
