//! `thematic import`, after the readers: from a format-free [`Incoming`] to study
//! files. A new study, an import into an existing one, a re-import that updates
//! instead of duplicating and keeps what the author wrote, `--dry-run`, and a failed
//! import that leaves every byte of the study as it was. The readers of REFI-QDA
//! and CSV files have their own tests (import_refi.rs, import_csv.rs); the
//! commands end to end are in import_cli.rs.

mod common;

use std::path::Path;

use thematic::import::{self, Incoming, IncomingQuote, IncomingTheme};

use common::*;

fn theme(guid: &str, title: &str, parent: Option<usize>) -> IncomingTheme {
    IncomingTheme {
        key: guid.into(),
        guid: Some(guid.into()),
        title: title.into(),
        parent,
        description: Some(format!("What {title} means.")),
        color: Some("#aa3300".into()),
    }
}

fn quote(
    guid: &str,
    participant: &str,
    site: &str,
    group: &str,
    themes: &[usize],
    text: &str,
) -> IncomingQuote {
    IncomingQuote {
        key: guid.into(),
        guid: Some(guid.into()),
        participant: participant.into(),
        site: site.into(),
        group: group.into(),
        themes: themes.to_vec(),
        text: text.into(),
        context: None,
    }
}

/// A small project: two themes (one nested), three quotes at two sites.
fn project() -> Incoming {
    Incoming {
        title: Some("Bus study".into()),
        themes: vec![
            theme("G-TRAVEL", "Travel", None),
            theme("G-COST", "Cost of travel", Some(0)),
        ],
        quotes: vec![
            quote(
                "S-1",
                "KA-01",
                "Kampala",
                "Low responders",
                &[0],
                "The bus was late again.",
            ),
            quote(
                "S-2",
                "KA-02",
                "Kampala",
                "High responders",
                &[1],
                "Fares went up twice.",
            ),
            quote(
                "S-3",
                "UL-01",
                "Ulm",
                "High responders",
                &[0, 1],
                "Ich fahre mit dem Bus, müde.",
            ),
        ],
        skipped: Vec::new(),
    }
}

fn run(dir: &Path, incoming: &Incoming, dry_run: bool) -> import::Report {
    import::import(dir, incoming, "Bus study", dry_run).unwrap_or_else(|e| {
        panic!(
            "import failed:\n{}",
            e.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

#[test]
fn an_import_into_an_empty_folder_makes_a_study_that_builds() {
    let study = TestStudy::empty();
    let report = run(study.dir(), &project(), false);
    let p = &report.plan;
    assert_eq!(
        (
            p.themes.added,
            p.sites.added,
            p.groups.added,
            p.quotes.added
        ),
        (2, 2, 2, 3)
    );
    assert_eq!(
        p.summary(),
        "themes 2 added, 0 changed; sites 2 added, 0 changed; groups 2 added, 0 changed; quotes 3 added, 0 changed; 0 skipped"
    );
    assert!(
        study
            .read("content/study.yaml")
            .contains("title: \"Bus study\"")
    );
    // A new study gets the privacy guard's file, kept out of git, as `init` gives it.
    assert!(
        study
            .read("content/privacy.yaml")
            .contains("identifiers: []")
    );
    assert!(study.read(".gitignore").contains("/content/privacy.yaml"));
    let cost = study.read("content/themes/cost-of-travel.md");
    assert!(cost.contains("parent: travel\n"), "{cost}");
    assert!(cost.contains("guid: \"G-COST\"\n"), "{cost}");
    assert!(cost.contains("color: \"#aa3300\"\n"), "{cost}");
    assert!(
        cost.ends_with("---\nWhat Cost of travel means.\n"),
        "{cost}"
    );
    assert!(
        study
            .read("content/sites/kampala.md")
            .contains("title: \"Kampala\"")
    );
    assert!(
        study
            .read("content/groups/low-responders.md")
            .contains("title: \"Low responders\"")
    );
    let quotes = study.read("content/quotes/bus-study.yaml");
    assert!(
        quotes.contains("  - id: ka-01-01\n    guid: \"S-1\"\n"),
        "{quotes}"
    );
    assert!(
        quotes.contains("themes: [travel, cost-of-travel]"),
        "{quotes}"
    );
    assert!(
        quotes.contains("\"Ich fahre mit dem Bus, müde.\""),
        "{quotes}"
    );
    study.build().assert_ok();
    let page = read_page(&study.out(), "themes/travel/index.html");
    assert!(page.contains("The bus was late again."));
}

#[test]
fn importing_the_same_project_again_changes_nothing() {
    let study = TestStudy::empty();
    run(study.dir(), &project(), false);
    let before = snapshot(&study.path("content"));
    let report = run(study.dir(), &project(), false);
    assert!(report.plan.files.is_empty(), "{:?}", report.plan.files);
    assert_eq!(
        report.plan.summary(),
        "themes 0 added, 0 changed; sites 0 added, 0 changed; groups 0 added, 0 changed; quotes 0 added, 0 changed; 0 skipped"
    );
    assert_same_snapshot(&before, &snapshot(&study.path("content")), "content/");
}

#[test]
fn a_newer_export_updates_the_same_themes_and_quotes_and_keeps_the_authors_text() {
    let study = TestStudy::empty();
    run(study.dir(), &project(), false);
    // The author writes the narrative, a summary and an order, and adds context.
    study.write(
        "content/themes/travel.md",
        "---\ntitle: \"Travel\"\norder: 3\nsummary: How people reached the group.\ncolor: \"#aa3300\"\nguid: \"G-TRAVEL\"\n---\nThe author's own analysis.\n\nKept word for word.\n",
    );
    study.edit(
        "content/quotes/bus-study.yaml",
        "    text: \"The bus was late again.\"\n",
        "    text: \"The bus was late again.\"\n    context: Asked about the last month.\n",
    );
    // The newer export: a renamed code, an edited quote, one gone, one new.
    let mut newer = project();
    newer.themes[0].title = "Travel and distance".into();
    newer.quotes[1].text = "Fares went up three times.".into();
    newer.quotes.remove(2);
    newer.quotes.push(quote(
        "S-4",
        "KA-03",
        "Kampala",
        "Low responders",
        &[1],
        "I walked instead.",
    ));
    let report = run(study.dir(), &newer, false);
    let p = &report.plan;
    assert_eq!((p.themes.added, p.themes.changed), (0, 1));
    assert_eq!(
        (p.quotes.added, p.quotes.changed, p.quotes.removed),
        (1, 1, 1)
    );

    let travel = study.read("content/themes/travel.md");
    assert!(
        travel.contains("title: \"Travel and distance\"\n"),
        "{travel}"
    );
    // Only the renamed title changed: every other line is the author's, as written.
    assert!(
        travel.contains("order: 3\nsummary: How people reached the group.\n"),
        "{travel}"
    );
    assert!(
        travel.ends_with("---\nThe author's own analysis.\n\nKept word for word.\n"),
        "{travel}"
    );
    let quotes = study.read("content/quotes/bus-study.yaml");
    assert!(
        quotes.contains("context: \"Asked about the last month.\""),
        "context kept: {quotes}"
    );
    assert!(
        quotes.contains("  - id: ka-02-01\n"),
        "same id for the edited quote: {quotes}"
    );
    assert!(quotes.contains("Fares went up three times."));
    assert!(!quotes.contains("müde"), "the removed quote is gone");
    assert!(
        quotes.contains("  - id: ka-03-01\n    guid: \"S-4\""),
        "{quotes}"
    );
    assert_eq!(quotes.matches("  - id: ").count(), 3);
    study.build().assert_ok();
}

#[test]
fn a_dry_run_writes_nothing_and_says_what_it_would_write() {
    let study = TestStudy::fixture("riverside");
    let before = snapshot(study.dir());
    let report = run(study.dir(), &project(), true);
    assert!(report.dry_run);
    assert!(
        report
            .plan
            .files
            .iter()
            .any(|f| f.path == "content/quotes/bus-study.yaml" && f.new)
    );
    assert_same_snapshot(&before, &snapshot(study.dir()), "the study");
}

#[test]
fn an_import_into_an_existing_study_reuses_its_sites_and_never_reuses_an_id() {
    let study = TestStudy::fixture("riverside");
    let facts = study.facts();
    let lilongwe = facts
        .sites
        .iter()
        .find(|s| s.id == "lilongwe")
        .unwrap()
        .title
        .clone();
    let mut incoming = project();
    // The same site by its title, a theme whose name an existing theme has.
    incoming.quotes[0].site = lilongwe.to_uppercase();
    incoming.themes[0].title = facts
        .themes
        .iter()
        .find(|t| t.id == "waiting")
        .unwrap()
        .title
        .clone();
    let report = run(study.dir(), &incoming, false);
    assert_eq!(
        report.plan.sites.added, 2,
        "Kampala and Ulm are new; Lilongwe is not"
    );
    let quotes = study.read("content/quotes/bus-study.yaml");
    assert!(quotes.contains("    site: lilongwe\n"), "{quotes}");
    // A code is matched by its GUID, never by its name: a new theme, a new id.
    assert!(study.path("content/themes/waiting-2.md").is_file());
    study.build().assert_ok();
}

#[test]
fn what_the_privacy_guard_refuses_is_imported_and_reported_for_the_author() {
    // The privacy fixture denylists "José Müller". The coded data belongs in
    // content/, but the build must refuse to publish it: the import says so.
    let study = TestStudy::fixture("privacy");
    let mut incoming = project();
    incoming.quotes[0].text = "José Müller drove the bus.".into();
    let report = run(study.dir(), &incoming, false);
    let errors = report
        .build_errors
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(errors.contains("content/quotes/bus-study.yaml"), "{errors}");
    assert!(
        !errors.contains("Müller"),
        "the identifier is masked: {errors}"
    );
    study.build().assert_failed();
}

#[test]
fn an_import_into_a_study_with_errors_writes_nothing() {
    // Another quotes file names a theme that does not exist: the study does not
    // validate, so nothing is imported into it.
    let study = TestStudy::fixture("minimal");
    study.edit(
        "content/quotes/main.yaml",
        "themes: [care]",
        "themes: [cure]",
    );
    let before = snapshot(study.dir());
    let errors = import::import(study.dir(), &project(), "Bus study", false).unwrap_err();
    let text = errors
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains("content/quotes/main.yaml"), "{text}");
    assert!(text.contains("`cure`"), "{text}");
    assert_same_snapshot(&before, &snapshot(study.dir()), "the study");
}

#[test]
fn a_study_that_does_not_load_is_not_imported_into() {
    let study = TestStudy::fixture("minimal");
    study.write("content/themes/broken.md", "---\ntitle: [unclosed\n---\n");
    let before = snapshot(study.dir());
    let errors = import::import(study.dir(), &project(), "Bus study", false).unwrap_err();
    let text = errors
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains("content/themes/broken.md"), "{text}");
    assert!(text.contains("fix this first"), "{text}");
    assert_same_snapshot(&before, &snapshot(study.dir()), "the study");
}
