//! The command line: `init`, defaults of `build`, `check`, and usage errors.

mod common;

use std::fs;

use common::*;

#[test]
fn init_creates_a_study_that_builds_without_warnings() {
    let tmp = TestStudy::empty();
    let dir = tmp.root().join("my-study");
    let run = thematic(&["init", "my-study"], tmp.root());
    run.assert_ok();
    assert!(dir.join("content/study.yaml").is_file());
    run.assert_stdout_contains("my-study");

    let check = thematic(&["check", "my-study"], tmp.root());
    check.assert_ok_quiet();
    assert!(!dir.join("output").exists(), "check writes nothing");

    let build = thematic(&["build", "my-study"], tmp.root());
    build.assert_ok_quiet();
    build.assert_stdout_contains("Built ");
    let out = dir.join("output");
    assert!(out.join("index.html").is_file());
    assert_links_ok(&out);
}

#[test]
fn init_again_fails_without_overwriting() {
    let tmp = TestStudy::empty();
    let dir = tmp.root().join("s");
    thematic(&["init", "s"], tmp.root()).assert_ok();
    // The author edits the study.
    let study_yaml = dir.join("content/study.yaml");
    fs::write(&study_yaml, "title: My own words\n").unwrap();
    let quotes = list_files(&dir.join("content"));
    let before = snapshot(&dir);

    let run = thematic(&["init", "s"], tmp.root());
    run.assert_failed();
    assert!(run.stderr.contains("already"), "{run}");
    assert_same_snapshot(&before, &snapshot(&dir), "study after a second init");
    assert_eq!(
        fs::read_to_string(&study_yaml).unwrap(),
        "title: My own words\n"
    );
    assert_eq!(list_files(&dir.join("content")), quotes);
}

#[test]
fn build_in_a_folder_without_a_study_names_study_yaml() {
    let tmp = TestStudy::empty();
    let run = thematic(&["build"], tmp.dir());
    run.assert_failed();
    run.assert_stderr_contains("content/study.yaml");
    assert!(
        fs::read_dir(tmp.dir()).unwrap().next().is_none(),
        "nothing written"
    );

    let run = thematic(&["check"], tmp.dir());
    run.assert_failed();
    run.assert_stderr_contains("content/study.yaml");
    assert!(
        fs::read_dir(tmp.dir()).unwrap().next().is_none(),
        "nothing written"
    );

    // And when the folder does not exist at all.
    let run = thematic(&["build", "no-such-folder"], tmp.root());
    run.assert_failed();
    run.assert_stderr_contains("content/study.yaml");
    assert!(!tmp.root().join("no-such-folder").exists());
}

#[test]
fn build_defaults_to_the_current_folder_and_its_output_folder() {
    let s = TestStudy::fixture("minimal");
    let run = thematic(&["build"], s.dir());
    run.assert_ok();
    assert!(s.out().join("index.html").is_file());
    let summary = run
        .stdout
        .lines()
        .find(|l| l.starts_with("Built "))
        .unwrap();
    assert!(summary.trim_end().ends_with("output/"), "{summary}");
}

#[test]
fn relative_output_is_relative_to_the_current_folder() {
    let s = TestStudy::fixture("minimal");
    let run = thematic(&["build", "study", "--output", "public"], s.root());
    run.assert_ok();
    assert!(s.root().join("public/index.html").is_file());
    assert!(!s.out().exists());
    run.assert_stdout_contains("public/");
}

#[test]
fn check_validates_without_writing() {
    let s = TestStudy::fixture("riverside");
    let run = s.check();
    run.assert_ok_quiet();
    run.assert_stdout_contains("No errors");
    assert!(!s.out().exists());
    assert_eq!(
        list_files(s.root())
            .iter()
            .filter(|f| !f.starts_with("study/content/"))
            .count(),
        0,
        "check wrote files"
    );
    // `check --drafts` also checks the drafts.
    s.write(
        "content/findings/draft-notes.md",
        "---\ntitle: Draft notes\ndraft: true\n---\nSee [x](theme:nope).\n",
    );
    s.check().assert_ok();
    let run = s.check_with(&["--drafts"]);
    run.assert_failed();
    let file = "content/findings/draft-notes.md";
    run.error_at(
        file,
        s.line_of(file, "(theme:nope)"),
        "unknown theme `nope`",
    );
}

#[test]
fn usage_errors_exit_with_2() {
    let tmp = TestStudy::empty();
    thematic(&["frobnicate"], tmp.root()).assert_code(2);
    thematic(&["build", "--no-such-flag"], tmp.root()).assert_code(2);
    thematic(&["init"], tmp.root()).assert_code(2);
    thematic::<&str>(&[], tmp.root()).assert_code(2);
    assert!(fs::read_dir(tmp.dir()).unwrap().next().is_none());
}

#[test]
fn help_and_version() {
    let tmp = TestStudy::empty();
    let help = thematic(&["--help"], tmp.root());
    help.assert_ok();
    for cmd in ["build", "check", "init"] {
        help.assert_stdout_contains(cmd);
    }
    let build_help = thematic(&["build", "--help"], tmp.root());
    build_help.assert_ok();
    build_help.assert_stdout_contains("--drafts");
    build_help.assert_stdout_contains("--output");
    thematic(&["--version"], tmp.root())
        .assert_ok()
        .assert_stdout_contains(env!("CARGO_PKG_VERSION"));
}

#[test]
fn init_adds_its_rules_to_an_existing_gitignore() {
    let tmp = TestStudy::empty();
    let dir = tmp.root().join("repo");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(".gitignore"), "target/\n").unwrap();
    thematic(&["init", "repo"], tmp.root()).assert_ok();
    let ignore = fs::read_to_string(dir.join(".gitignore")).unwrap();
    assert!(ignore.starts_with("target/\n"), "{ignore}");
    assert!(
        ignore.lines().any(|l| l == "/content/privacy.yaml"),
        "{ignore}"
    );
    assert!(ignore.lines().any(|l| l == "/output/"), "{ignore}");
}

#[test]
fn a_build_on_a_pipe_shows_no_progress_line() {
    // Progress is for terminals: on a pipe (as here, and in CI) nothing but the
    // summary, however long the build.
    let s = TestStudy::fixture("riverside");
    let run = thematic(&["build"], s.dir());
    run.assert_ok();
    assert!(
        !run.stderr.contains('\r') && !run.stderr.contains('\u{1b}'),
        "{run}"
    );
    assert!(
        !run.stdout.contains('\r') && !run.stdout.contains('\u{1b}'),
        "{run}"
    );
}

#[test]
fn the_getting_started_lines_in_the_docs_are_what_init_build_and_check_print() {
    // docs/content-format.md shows what a new author sees; the time and the
    // size in bytes (which any change of the default site theme moves) are left
    // out, the counts are not.
    let doc = fs::read_to_string(repo_root().join("docs/content-format.md")).unwrap();
    let plain = |s: &str| -> String {
        let words: Vec<&str> = s.split_whitespace().collect();
        let is_figure = |i: usize| {
            let unit = words.get(i + 1).map(|u| u.trim_end_matches(')'));
            matches!(unit, Some("ms" | "B" | "kB" | "MB" | "GB"))
                && words[i].bytes().all(|b| b.is_ascii_digit() || b == b'.')
        };
        let words: Vec<&str> = (0..words.len())
            .map(|i| if is_figure(i) { "N" } else { words[i] })
            .collect();
        words.join(" ")
    };
    let doc = plain(&doc);
    let tmp = TestStudy::empty();
    let init = thematic(&["init", "my-study"], tmp.root());
    init.assert_ok();
    let build = thematic(&["build", "my-study"], tmp.root());
    build.assert_ok();
    let check = thematic(&["check", "my-study"], tmp.root());
    check.assert_ok();
    let summary = check
        .stdout
        .lines()
        .chain(check.stderr.lines())
        .find(|l| l.starts_with("No errors: "))
        .unwrap_or_else(|| panic!("no summary line\n{check}"));
    let pages = summary.split(" from ").next().unwrap();
    // Every place the docs show one of these lines shows it as printed.
    let first_line = |r: &Run| r.stdout.lines().next().unwrap_or_default().to_string();
    for printed in [first_line(&init), first_line(&build), pages.to_string()] {
        let printed = plain(&printed);
        // The words before the first figure: `Built`, `Created a starter study in my-study`.
        let opening: String = printed
            .split(' ')
            .take_while(|w| !w.bytes().any(|b| b.is_ascii_digit()))
            .collect::<Vec<_>>()
            .join(" ");
        let shown: Vec<&str> = doc
            .match_indices(&opening)
            .map(|(i, _)| &doc[i..])
            .collect();
        assert!(
            !shown.is_empty(),
            "docs/content-format.md never shows {printed:?}"
        );
        for s in shown {
            assert!(
                s.starts_with(&printed),
                "docs/content-format.md shows {:?}, but thematic prints {printed:?}",
                &s[..printed.len().min(s.len())]
            );
        }
    }
}
