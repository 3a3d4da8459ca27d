//! Never lose data: a failed or killed build leaves the previous output as it was, and
//! thematic refuses output folders that would destroy the study or files it did not write.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Names directly inside `dir`.
fn entries(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn failed_build_leaves_the_previous_output_untouched() {
    let s = TestStudy::fixture("minimal");
    s.build().assert_ok();
    let before = snapshot(&s.out());
    let top = entries(s.dir());

    // Break the study, and also change something that would show in the output.
    s.edit("content/study.yaml", "Minimal test study", "Renamed study");
    s.edit("content/quotes/main.yaml", "site: beta", "site: nowhere");
    let run = s.build();
    run.assert_failed();
    run.assert_stderr_contains("unknown site `nowhere`");

    assert_same_snapshot(&before, &snapshot(&s.out()), "output after a failed build");
    assert_eq!(
        entries(s.dir()),
        top,
        "a failed build left files beside the output"
    );

    // Fixing the study then replaces the output.
    s.edit("content/quotes/main.yaml", "site: nowhere", "site: beta");
    s.build().assert_ok();
    assert!(read_page(&s.out(), "index.html").contains("Renamed study"));
}

#[test]
fn failed_build_into_a_custom_output_leaves_it_untouched() {
    let s = TestStudy::fixture("riverside");
    let out = s.root().join("public");
    s.build_into(&out, &[]).assert_ok();
    let before = snapshot(&out);
    s.write(
        "content/findings/broken.md",
        "---\ntitle: X\n---\n[x](theme:nope)\n",
    );
    s.build_into(&out, &[]).assert_failed();
    assert_same_snapshot(
        &before,
        &snapshot(&out),
        "custom output after a failed build",
    );
}

#[track_caller]
fn assert_refused(run: &Run) {
    run.assert_failed();
    assert!(
        run.stderr.to_lowercase().contains("refus")
            || run.stderr.contains("not a folder")
            || run.stderr.contains("not written by thematic")
            || run.stderr.contains("did not write"),
        "the refusal says why\n{run}"
    );
    assert!(run.stdout.trim().is_empty(), "{run}");
}

#[test]
fn refuses_to_write_into_the_study_folder() {
    let s = TestStudy::fixture("minimal");
    let before = snapshot(s.dir());
    let run = s.build_into(s.dir(), &[]);
    assert_refused(&run);
    assert_same_snapshot(&before, &snapshot(s.dir()), "study after a refused build");
    assert_eq!(entries(s.root()), BTreeSet::from(["study".to_string()]));

    // The same through a relative path, run from inside the study folder.
    let run = thematic(&["build", ".", "--output", "."], s.dir());
    assert_refused(&run);
    assert_same_snapshot(&before, &snapshot(s.dir()), "study after a refused build");
}

#[test]
fn refuses_to_write_into_a_folder_that_contains_the_study() {
    let s = TestStudy::fixture("minimal");
    let before = snapshot(s.root());
    let run = s.build_into(s.root(), &[]);
    assert_refused(&run);
    assert_same_snapshot(&before, &snapshot(s.root()), "parent after a refused build");
}

#[test]
fn refuses_to_write_into_a_folder_with_a_content_folder() {
    let s = TestStudy::fixture("minimal");
    // Another study next to this one.
    let other = s.root().join("other-study");
    copy_dir(&fixtures_dir().join("riverside"), &other);
    let before = snapshot(&other);
    let run = s.build_into(&other, &[]);
    assert_refused(&run);
    run.assert_stderr_contains("content");
    assert_same_snapshot(
        &before,
        &snapshot(&other),
        "other study after a refused build",
    );
    assert_eq!(
        entries(s.root()),
        BTreeSet::from(["other-study".to_string(), "study".to_string()]),
        "no staging folder left behind"
    );
}

#[test]
fn refuses_a_non_empty_folder_not_written_by_thematic() {
    let s = TestStudy::fixture("minimal");
    let docs = s.root().join("docs");
    fs::create_dir_all(docs.join("img")).unwrap();
    fs::write(docs.join("notes.txt"), "my notes").unwrap();
    fs::write(docs.join("img/photo.jpg"), [0xff, 0xd8, 0xff]).unwrap();
    let before = snapshot(&docs);
    let run = s.build_into(&docs, &[]);
    assert_refused(&run);
    assert_same_snapshot(
        &before,
        &snapshot(&docs),
        "foreign folder after a refused build",
    );

    // Also when it looks like a site but lacks thematic's marker.
    let site = s.root().join("site");
    fs::create_dir_all(&site).unwrap();
    fs::write(site.join("index.html"), "<p>hand-written</p>").unwrap();
    assert_refused(&s.build_into(&site, &[]));
    assert_eq!(
        fs::read_to_string(site.join("index.html")).unwrap(),
        "<p>hand-written</p>"
    );
}

#[test]
fn refuses_an_output_path_that_is_a_file() {
    let s = TestStudy::fixture("minimal");
    let file = s.root().join("output.txt");
    fs::write(&file, "keep me").unwrap();
    s.build_into(&file, &[]).assert_failed();
    assert_eq!(fs::read_to_string(&file).unwrap(), "keep me");
}

#[test]
fn accepts_an_empty_folder_and_replaces_its_own_output_completely() {
    let s = TestStudy::fixture("riverside");
    let out = s.root().join("public");
    fs::create_dir_all(&out).unwrap();
    s.build_into(&out, &[]).assert_ok();
    assert!(out.join("themes/apology/index.html").is_file());
    assert!(out.join(".thematic-output").is_file());

    // Pages of a removed theme disappear on the next build: no stale files remain.
    s.remove("content/themes/apology.md");
    s.edit(
        "content/quotes/lilongwe.yaml",
        "[apology, faith]",
        "[faith]",
    );
    s.edit(
        "content/quotes/haifa/batch1.yaml",
        "themes: [apology]",
        "themes: [repair]",
    );
    s.build_into(&out, &[]).assert_ok();
    assert!(!out.join("themes/apology").exists(), "stale pages remain");
    assert_links_ok(&out);
    assert_eq!(
        entries(s.root()),
        BTreeSet::from(["public".to_string(), "study".to_string()]),
        "nothing left beside the output"
    );
}

/// A study large enough that a debug build takes a noticeable time: 12 more sites,
/// 10 more themes (two levels) and `n` generated quotes.
fn big_study(n: usize) -> TestStudy {
    let s = TestStudy::fixture("minimal");
    for i in 0..12 {
        s.write(
            &format!("content/sites/s{i:02}.md"),
            format!("---\ntitle: Site {i}\n---\nGenerated site.\n"),
        );
    }
    for i in 0..10 {
        let parent = if i >= 5 {
            format!("parent: t{:02}\n", i - 5)
        } else {
            String::new()
        };
        s.write(
            &format!("content/themes/t{i:02}.md"),
            format!("---\ntitle: Theme {i}\n{parent}---\nGenerated theme.\n"),
        );
    }
    let mut yaml = String::with_capacity(n * 200);
    for q in 0..n {
        yaml.push_str(&format!(
            "- id: g-{q}\n  participant: P-{}\n  site: s{:02}\n  group: {}\n  themes: [t{:02}]\n  text: Generated quote {q}, long enough to look like an interview excerpt & to need escaping <here>.\n",
            q % 97,
            q % 12,
            if q % 2 == 0 { "early" } else { "late" },
            q % 10
        ));
    }
    s.write("content/quotes/generated.yaml", yaml);
    s
}

/// Spawns `thematic build STUDY` without waiting.
fn spawn_build(s: &TestStudy) -> std::process::Child {
    Command::new(BIN)
        .arg("build")
        .arg(s.dir())
        .current_dir(s.root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn thematic")
}

/// Kills a child process (SIGKILL on Unix) and reaps it. Returns true when it was
/// still running, i.e. the kill interrupted the build.
fn kill(child: &mut std::process::Child) -> bool {
    let running = child.try_wait().expect("try_wait").is_none();
    let _ = child.kill();
    let _ = child.wait();
    running
}

#[test]
fn killed_build_leaves_the_previous_output_intact_and_complete() {
    let s = big_study(3000);
    let started = Instant::now();
    s.build().assert_ok();
    let build_time = started.elapsed();
    let old = snapshot(&s.out());
    assert!(old.len() > 100, "the big study has many files");

    // Change the study, so a build that completed would be visible, and keep a
    // reference copy of what a complete build of the changed study writes.
    s.edit("content/study.yaml", "Minimal test study", "Changed study");
    let reference = s.root().join("reference");
    s.build_into(&reference, &[]).assert_ok();
    let new = snapshot(&reference);
    fs::remove_dir_all(&reference).unwrap();
    assert_ne!(old, new);

    let mut interrupted = 0;
    let mut outcomes = Vec::new();
    // Kill at fractions of the measured build time, so every stage is hit on a fast or
    // slow machine: loading, rendering, writing the staging folder, swapping.
    for tenth in [0u32, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12] {
        let mut child = spawn_build(&s);
        std::thread::sleep(build_time * tenth / 10);
        if kill(&mut child) {
            interrupted += 1;
        }
        let now = snapshot(&s.out());
        let state = if now == old {
            "old"
        } else if now == new {
            "new"
        } else {
            let missing = old.keys().filter(|k| !now.contains_key(*k)).count();
            panic!(
                "after a kill at {}/10 of the build time the output is neither the old nor the new site ({} files, {missing} of the old missing)",
                tenth,
                now.len()
            );
        };
        outcomes.push((tenth, state));
    }

    // And once exactly while the staging folder is being written.
    let top = entries(s.dir());
    let mut child = spawn_build(&s);
    let deadline = Instant::now() + build_time * 20 + Duration::from_secs(5);
    let mut caught = false;
    while Instant::now() < deadline {
        if entries(s.dir()).len() > top.len() {
            caught = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let was_running = kill(&mut child);
    if caught && was_running {
        interrupted += 1;
        let now = snapshot(&s.out());
        assert!(
            now == old || now == new,
            "a build killed while writing damaged the output"
        );
    }

    eprintln!("kills: {outcomes:?}; interrupted {interrupted}; caught writing: {caught}");
    assert!(
        interrupted >= 3,
        "too few kills interrupted a running build ({interrupted}): {outcomes:?}"
    );
    // The next build succeeds and writes the new site.
    s.build().assert_ok();
    assert_same_snapshot(&new, &snapshot(&s.out()), "build after kills");
    assert_eq!(entries(s.dir()), top, "folders left beside the output");
}

#[test]
fn folders_left_by_a_killed_build_are_removed_by_the_next_build() {
    let s = big_study(3000);
    s.build().assert_ok();
    let top = entries(s.dir());
    let mut child = spawn_build(&s);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut caught = false;
    while Instant::now() < deadline {
        if entries(s.dir()).len() > top.len() {
            caught = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    assert!(
        kill(&mut child) && caught,
        "the build was not caught writing"
    );
    assert_ne!(
        entries(s.dir()),
        top,
        "the killed build left its staging folder"
    );
    s.build().assert_ok();
    let left = entries(s.dir());
    assert_eq!(
        left, top,
        "leftovers remain after a successful build: {left:?}"
    );
}
