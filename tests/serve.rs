//! `thematic serve`: the live preview, tested over HTTP against the real binary.
//!
//! Each test serves its own temporary copy of a fixture study on a free port
//! ([`ServeProcess`]), edits the study the way editors and git do, waits for the
//! rebuild (`/__thematic/status` counts them) and looks at what is served.

mod common;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::symlink;
use std::time::{Duration, Instant};

use common::server::{Response, ServeProcess, SseClient, Status, TIMEOUT, raw_request, request};
use common::*;

/// The quotes file of `tests/fixtures/minimal`.
const QUOTES: &str = "content/quotes/main.yaml";
/// The theme page that shows quote `a-01`.
const CARE: &str = "/themes/care/";
/// The text of quote `a-01`.
const OLD: &str = "They listened to me.";
/// What the tests change it to.
const NEW: &str = "They listened, and then they acted.";
/// The tag `serve` adds to every page.
const LIVE_TAG: &str = "<script src=\"/__thematic/live.js\"";

#[track_caller]
fn assert_html(r: &Response, what: &str) {
    assert_eq!(r.status, 200, "{what}: {r:?}");
    assert_eq!(
        r.header("content-type"),
        Some("text/html; charset=utf-8"),
        "{what}"
    );
}

/// `first build: rendered N of M pages in T ms` -> (what, N, M).
fn rebuild_counts(line: &str) -> Option<(String, usize, usize)> {
    let (what, rest) = line.split_once(": rendered ")?;
    let mut words = rest.split_whitespace();
    let rendered = words.next()?.parse().ok()?;
    if words.next()? != "of" {
        return None;
    }
    let total = words.next()?.parse().ok()?;
    Some((what.to_string(), rendered, total))
}

/// A quotes file with one quote on the `care` theme at site `alpha`.
fn one_quote(id: &str, text: &str) -> String {
    format!(
        "- id: {id}\n  participant: A-09\n  site: alpha\n  group: early\n  themes: [care]\n  text: {text}\n"
    )
}

/// Waits until the last rebuild had no errors; fails with the errors otherwise.
#[track_caller]
fn wait_no_errors(serve: &ServeProcess) {
    serve.wait_until("the errors are cleared", TIMEOUT, || {
        serve.status().errors == 0
    });
    assert_eq!(serve.errors(), Vec::<String>::new());
}

#[test]
fn first_build_is_served_from_memory_with_the_live_reload_script() {
    let study = TestStudy::fixture("minimal");
    let before = snapshot(study.dir());
    let serve = ServeProcess::start(study.dir(), &[]);

    let home = serve.get("/");
    assert_html(&home, "GET /");
    assert!(
        home.text().contains(LIVE_TAG),
        "home lacks the live-reload script"
    );
    let care = serve.get(CARE);
    assert_html(&care, "GET /themes/care/");
    let care = care.text();
    assert!(
        care.contains(LIVE_TAG),
        "theme page lacks the live-reload script"
    );
    assert!(care.contains(OLD), "theme page lacks quote a-01");
    assert_eq!(
        care.matches(LIVE_TAG).count(),
        1,
        "the script is injected once"
    );

    let css = serve.get("/static/style.css");
    assert_eq!(css.status, 200);
    assert!(
        css.header("content-type")
            .is_some_and(|c| c.starts_with("text/css")),
        "style.css served as {:?}",
        css.header("content-type")
    );
    let js = serve.get("/__thematic/live.js");
    assert_eq!(js.status, 200);
    assert!(
        js.header("content-type")
            .is_some_and(|c| c.starts_with("text/javascript")),
        "{js:?}"
    );
    assert!(js.text().contains("EventSource"));

    // A folder without its slash is redirected; an unknown page is a 404 page.
    let folder = serve.get("/themes/care");
    assert_eq!(folder.status, 301);
    assert_eq!(folder.header("location"), Some("/themes/care/"));
    let missing = serve.get("/themes/no-such-theme/");
    assert_eq!(missing.status, 404);

    assert_eq!(
        serve.status(),
        Status {
            generation: 1,
            errors: 0
        },
        "the first build is generation 1\n{}",
        serve.transcript()
    );
    let first = serve.stdout_lines()[0].clone();
    let (what, rendered, total) = rebuild_counts(&first)
        .unwrap_or_else(|| panic!("first stdout line {first:?}\n{}", serve.transcript()));
    assert_eq!(what, "first build");
    assert!(rendered == total && total > 10, "{first}");
    let serving = serve.wait_for_line("the Serving line", |l| l.starts_with("Serving "));
    assert!(serving.contains(&serve.url), "{serving}");
    assert!(serving.contains("drafts shown"), "{serving}");

    // Serving writes nothing into the study: no output/, no other file.
    assert!(!study.out().exists(), "serve created output/");
    assert_eq!(
        snapshot(study.dir()),
        before,
        "serve changed the study folder"
    );
}

#[test]
fn drafts_are_shown_by_default_and_hidden_with_no_drafts() {
    let study = TestStudy::fixture("riverside");
    let with = ServeProcess::start(study.dir(), &[]);
    let without = ServeProcess::start(study.dir(), &["--no-drafts"]);

    // The draft theme, the draft finding and the draft quote are shown, marked as drafts.
    let rumours = with.page("/themes/rumours/");
    assert!(rumours.contains("DRAFT-THEME-SUMMARY"), "{rumours}");
    assert!(rumours.contains("draft-badge"), "the draft is not marked");
    assert_eq!(with.get("/findings/draft-notes/").status, 200);
    let kinship = with.page("/themes/kinship/");
    assert!(kinship.contains("DRAFT-QUOTE-HF05"));
    with.wait_for_line("drafts shown", |l| {
        l.starts_with("Serving ") && l.contains("drafts shown")
    });

    // --no-drafts: as `build` does.
    assert_eq!(without.get("/themes/rumours/").status, 404);
    assert_eq!(without.get("/findings/draft-notes/").status, 404);
    let kinship = without.page("/themes/kinship/");
    assert!(!kinship.contains("DRAFT-QUOTE-HF05"));
    let site = without.page("/");
    assert!(!site.contains("DRAFT-"), "a draft leaks into the home page");
    without.wait_for_line("drafts hidden", |l| {
        l.starts_with("Serving ") && l.contains("drafts hidden")
    });
    assert!(!study.out().exists());
}

#[test]
fn editing_a_quote_in_place_serves_the_new_text() {
    let study = TestStudy::fixture("minimal");
    let serve = ServeProcess::start(study.dir(), &[]);
    let total = rebuild_counts(&serve.stdout_lines()[0]).unwrap().2;
    let g = serve.generation();

    study.edit(QUOTES, OLD, NEW);
    serve.wait_for_generation(g + 1, TIMEOUT);
    let page = serve.wait_for_text(CARE, NEW);
    assert!(!page.contains(OLD), "the old text is still served");
    assert!(page.contains(LIVE_TAG));
    // Every page that shows the quote has it.
    for path in ["/sites/alpha/", "/groups/early/", "/quotes/"] {
        let p = serve.page(path);
        assert!(p.contains(NEW) && !p.contains(OLD), "{path} is stale");
    }

    // One line per rebuild: what changed, how many pages were rendered (not all).
    let line = serve.wait_for_line("a rebuild line naming the quotes file", |l| {
        l.starts_with(&format!("{QUOTES}: rendered "))
    });
    let (_, rendered, of) = rebuild_counts(&line).unwrap();
    assert_eq!(of, total, "{line}");
    assert!(
        rendered >= 1 && rendered < total,
        "a one-quote edit should re-render some pages, not all: {line}"
    );
    assert!(line.ends_with(" ms"), "{line}");
    assert!(!study.out().exists(), "serve created output/");
}

#[test]
fn a_save_by_atomic_rename_is_picked_up() {
    let study = TestStudy::fixture("minimal");
    let serve = ServeProcess::start(study.dir(), &[]);
    let g = serve.generation();

    // Write the new version next to the file, then rename it over the file.
    let tmp = study.path("content/quotes/.main.yaml.tmp");
    fs::write(&tmp, study.read(QUOTES).replace(OLD, NEW)).unwrap();
    fs::rename(&tmp, study.path(QUOTES)).unwrap();

    serve.wait_for_generation(g + 1, TIMEOUT);
    let page = serve.wait_for_text(CARE, NEW);
    assert!(!page.contains(OLD));
    wait_no_errors(&serve);

    // And a second one: the watcher still follows the file after it was replaced.
    let g = serve.generation();
    fs::write(&tmp, study.read(QUOTES).replace(NEW, "Second rename.")).unwrap();
    fs::rename(&tmp, study.path(QUOTES)).unwrap();
    serve.wait_for_generation(g + 1, TIMEOUT);
    serve.wait_for_text(CARE, "Second rename.");
}

#[test]
fn a_write_then_truncate_save_ends_with_the_new_content() {
    let study = TestStudy::fixture("minimal");
    let serve = ServeProcess::start(study.dir(), &[]);
    let updated = study.read(QUOTES).replace(OLD, NEW);
    let g = serve.generation();

    let mut file = OpenOptions::new()
        .write(true)
        .open(study.path(QUOTES))
        .unwrap();
    file.set_len(0).unwrap();
    // Let serve rebuild with the empty file before the content arrives. (An empty
    // quotes file is valid: the site has no quotes for a moment.)
    serve.wait_for_generation(g + 1, TIMEOUT);
    assert!(
        !serve.page(CARE).contains(OLD),
        "the rebuild did not see the empty file\n{}",
        serve.transcript()
    );
    let home = serve.get("/");
    assert_eq!(
        home.status,
        200,
        "after the empty file\n{}",
        serve.transcript()
    );
    file.write_all(updated.as_bytes()).unwrap();
    drop(file);

    let page = serve.wait_for_text(CARE, NEW);
    assert!(!page.contains(OLD));
    wait_no_errors(&serve);
    // The quotes all came back.
    assert!(page.contains("Kind people, long queues."));
}

#[test]
fn a_vim_style_save_with_backup_and_probe_files() {
    let study = TestStudy::fixture("minimal");
    let serve = ServeProcess::start(study.dir(), &[]);
    let g = serve.generation();
    let dir = study.path("content/quotes");
    let updated = study.read(QUOTES).replace(OLD, NEW);

    // What vim does with `backupcopy=no`: probe the folder with `4913`, keep a swap
    // file, move the original to a `~` backup, write the new file, drop the backup.
    fs::write(dir.join("4913"), "").unwrap();
    fs::remove_file(dir.join("4913")).unwrap();
    fs::write(dir.join(".main.yaml.swp"), b"\0swap").unwrap();
    fs::rename(study.path(QUOTES), dir.join("main.yaml~")).unwrap();
    fs::write(study.path(QUOTES), &updated).unwrap();
    fs::remove_file(dir.join("main.yaml~")).unwrap();
    fs::remove_file(dir.join(".main.yaml.swp")).unwrap();

    serve.wait_for_generation(g + 1, TIMEOUT);
    let page = serve.wait_for_text(CARE, NEW);
    assert!(!page.contains(OLD));
    wait_no_errors(&serve);
}

#[test]
fn adding_and_deleting_a_quote_file() {
    let study = TestStudy::fixture("minimal");
    let serve = ServeProcess::start(study.dir(), &[]);
    let added = "A brand-new quote file about care.";

    let g = serve.generation();
    study.write("content/quotes/extra.yaml", one_quote("n-01", added));
    serve.wait_for_generation(g + 1, TIMEOUT);
    serve.wait_for_text(CARE, added);
    serve.wait_for_text("/quotes/", added);
    wait_no_errors(&serve);

    let g = serve.generation();
    study.remove("content/quotes/extra.yaml");
    serve.wait_for_generation(g + 1, TIMEOUT);
    serve.wait_until("the deleted quote is gone", TIMEOUT, || {
        !serve.page(CARE).contains(added)
    });
    assert!(!serve.page("/quotes/").contains(added));
    assert!(serve.page(CARE).contains(OLD), "the other quotes stay");
    wait_no_errors(&serve);
}

#[test]
fn a_new_folder_of_quotes_and_renaming_it() {
    let study = TestStudy::fixture("minimal");
    let serve = ServeProcess::start(study.dir(), &[]);
    let text = "From a brand-new folder.";

    let g = serve.generation();
    study.write("content/quotes/round2/batch.yaml", one_quote("r2-01", text));
    serve.wait_for_generation(g + 1, TIMEOUT);
    serve.wait_for_text(CARE, text);
    wait_no_errors(&serve);

    // Inside the new folder, edits are watched too.
    let g = serve.generation();
    study.edit(
        "content/quotes/round2/batch.yaml",
        text,
        "Edited in the new folder.",
    );
    serve.wait_for_generation(g + 1, TIMEOUT);
    serve.wait_for_text(CARE, "Edited in the new folder.");

    // Rename the folder: the quote stays, and the file is followed at its new path.
    let g = serve.generation();
    fs::rename(
        study.path("content/quotes/round2"),
        study.path("content/quotes/second-round"),
    )
    .unwrap();
    serve.wait_for_generation(g + 1, TIMEOUT);
    wait_no_errors(&serve);
    assert!(serve.page(CARE).contains("Edited in the new folder."));

    let g = serve.generation();
    study.edit(
        "content/quotes/second-round/batch.yaml",
        "Edited in the new folder.",
        "Edited after the rename.",
    );
    serve.wait_for_generation(g + 1, TIMEOUT);
    serve.wait_for_text(CARE, "Edited after the rename.");

    // An error in it is reported at its new path.
    let g = serve.generation();
    study.edit(
        "content/quotes/second-round/batch.yaml",
        "site: alpha",
        "site: nowhere",
    );
    serve.wait_for_generation(g + 1, TIMEOUT);
    serve.wait_until("an error is reported", TIMEOUT, || {
        serve.status().errors > 0
    });
    let errors = serve.errors();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("--> content/quotes/second-round/batch.yaml:")),
        "{errors:#?}"
    );
    assert!(
        !errors.iter().any(|e| e.contains("round2")),
        "an error names the old folder: {errors:#?}"
    );

    // Removing the whole folder removes its quote.
    let g = serve.generation();
    study.remove("content/quotes/second-round");
    serve.wait_for_generation(g + 1, TIMEOUT);
    wait_no_errors(&serve);
    assert!(!serve.page(CARE).contains("Edited after the rename."));
}

#[test]
fn a_burst_of_twenty_changes_ends_in_the_final_state() {
    let study = TestStudy::fixture("minimal");
    let file = |i: usize| format!("content/quotes/burst/b{i:02}.yaml");
    let quote = |i: usize, v: u32| {
        format!(
            "- id: burst-{i:02}\n  participant: B-{i:02}\n  site: beta\n  group: late\n  themes: [waiting]\n  text: Burst quote {i:02}, version {v}.\n"
        )
    };
    for i in 0..20 {
        study.write(&file(i), quote(i, 1));
    }
    let serve = ServeProcess::start(study.dir(), &[]);
    let page = serve.page("/themes/waiting/");
    assert!(page.contains("Burst quote 19, version 1."));
    let g = serve.generation();

    // As git checkout does: unlink each file and create it again, as fast as possible.
    for i in 0..20 {
        let p = study.path(&file(i));
        fs::remove_file(&p).unwrap();
        fs::write(&p, quote(i, 2)).unwrap();
    }

    serve.wait_for_generation(g + 1, TIMEOUT);
    serve.wait_until("every burst quote is at version 2", TIMEOUT, || {
        let page = serve.page("/themes/waiting/");
        (0..20).all(|i| page.contains(&format!("Burst quote {i:02}, version 2.")))
    });
    let page = serve.page("/themes/waiting/");
    assert!(!page.contains("version 1."), "a stale quote is served");
    wait_no_errors(&serve);

    // Still responsive right away.
    let started = Instant::now();
    assert_eq!(serve.get("/").status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "slow after the burst"
    );
    // And the state is final: a rebuild still pending from the burst would show here.
    std::thread::sleep(Duration::from_millis(300));
    let settled = serve.status();
    assert_eq!(settled.errors, 0);
    let page = serve.page("/themes/waiting/");
    assert!(
        (0..20).all(|i| page.contains(&format!("Burst quote {i:02}, version 2."))),
        "not final after {} rebuilds\n{}",
        settled.generation - g,
        serve.transcript()
    );
    assert!(
        serve
            .stdout_lines()
            .iter()
            .any(|l| l.contains("content/quotes/burst/b")),
        "no rebuild line names the burst files\n{}",
        serve.transcript()
    );
}

#[test]
fn an_error_keeps_the_last_good_site_until_it_is_fixed() {
    let study = TestStudy::fixture("minimal");
    let serve = ServeProcess::start(study.dir(), &[]);
    let original = study.read(QUOTES);
    // Break quote a-01 (an unknown site) and change its text in the same save.
    let broken = original
        .replacen("site: alpha", "site: nowhere", 1)
        .replace(OLD, NEW);
    let line = line_of(&broken, "site: nowhere");
    let g = serve.generation();

    study.write(QUOTES, &broken);
    serve.wait_for_generation(g + 1, TIMEOUT);
    serve.wait_until("the error is reported", TIMEOUT, || {
        serve.status().errors > 0
    });
    let errors = serve.errors();
    let arrow = format!("--> {QUOTES}:{line}");
    assert!(
        errors
            .iter()
            .any(|e| e.contains(&arrow) && e.contains("nowhere")),
        "no error at {arrow} naming the site: {errors:#?}"
    );
    assert!(
        errors.iter().all(|e| e.starts_with("error: ")),
        "{errors:#?}"
    );
    assert_eq!(serve.status().errors as usize, errors.len());

    // The last good site stays up: the old text, with 200.
    let page = serve.get(CARE);
    assert_html(&page, "the last good page");
    assert!(page.text().contains(OLD), "the last good page is gone");
    assert!(
        !page.text().contains(NEW),
        "a page of the broken build is served"
    );
    serve.wait_for_line("a rebuild line with the error count", |l| {
        l.starts_with(&format!("{QUOTES}: 1 error in ")) && l.contains("last good site stays up")
    });
    let stderr = serve.stderr_lines().join("\n");
    assert!(stderr.contains(&arrow), "the terminal shows the error too");

    // Fixing it clears the errors and serves the new text.
    let g = serve.generation();
    study.write(QUOTES, original.replace(OLD, NEW));
    serve.wait_for_generation(g + 1, TIMEOUT);
    wait_no_errors(&serve);
    let page = serve.wait_for_text(CARE, NEW);
    assert!(!page.contains(OLD));
}

#[test]
fn the_event_stream_announces_reloads_and_errors() {
    let study = TestStudy::fixture("minimal");
    let serve = ServeProcess::start(study.dir(), &[]);
    let mut events = SseClient::connect(serve.addr, "/__thematic/events");

    study.edit(QUOTES, OLD, NEW);
    let reload = events.wait_for("reload", |d| d.contains("themes/care/index.html"));
    let paths: Vec<String> = serde_json::from_str(&reload.data).expect("a JSON list of paths");
    assert!(
        !paths.contains(&"*".to_string()),
        "a quote edit reloads only the pages that show it: {paths:?}"
    );
    assert!(paths.iter().all(|p| p.ends_with(".html")), "{paths:?}");
    assert!(
        !paths.contains(&"themes/access/index.html".to_string()),
        "a page without the quote is reloaded: {paths:?}"
    );

    study.edit(QUOTES, "site: alpha", "site: nowhere");
    let errors = events.wait_for("errors", |d| d != "[]");
    let list: Vec<String> = serde_json::from_str(&errors.data).expect("a JSON list of errors");
    assert!(
        list.iter()
            .any(|e| e.contains(&format!("--> {QUOTES}:")) && e.contains("nowhere")),
        "{list:#?}"
    );

    study.edit(QUOTES, "site: nowhere", "site: alpha");
    events.wait_for("errors", |d| d == "[]");
}

#[test]
fn a_stylesheet_change_swaps_css_without_a_reload() {
    let study = TestStudy::fixture("minimal");
    let css = repo_root().join("themes/default/static/style.css");
    study.write("themes/default/static/style.css", fs::read(&css).unwrap());
    let serve = ServeProcess::start(study.dir(), &[]);
    let mut events = SseClient::connect(serve.addr, "/__thematic/events");

    let mut text = study.read("themes/default/static/style.css");
    text.push_str("\nbody{outline:7px solid rgb(1, 2, 3)}\n");
    study.write("themes/default/static/style.css", text);

    let e = events.wait_for("css", |_| true);
    assert!(
        events.seen.iter().all(|e| e.event != "reload"),
        "a CSS-only change reloads pages: {:#?}",
        events.seen
    );
    assert_eq!(e.event, "css");
    let served = serve.get("/static/style.css").text();
    assert!(served.contains("rgb(1, 2, 3)"));
}

#[test]
fn paths_outside_the_site_are_refused() {
    let study = TestStudy::fixture("minimal");
    let serve = ServeProcess::start(study.dir(), &[]);
    let addr = serve.addr;
    for target in [
        "/../etc/passwd",
        "/../../../../../../etc/passwd",
        "/themes/../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/%2E%2E/%2E%2E/content/study.yaml",
        "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/themes%2f..%2f..%2fx",
        "/..%5c..%5cetc%5cpasswd",
        "/a\\..\\b",
        "/..\\..\\etc\\passwd",
        "/static/%00",
        "/..",
        // Absolute form, as a proxy would send it.
        &format!("http://{addr}/../../etc/passwd"),
    ] {
        // The request line is sent exactly as written: nothing normalises it.
        let req = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        let r = raw_request(addr, req.as_bytes());
        assert!(
            r.status == 403 || r.status == 400,
            "GET {target} answered {} {:?}",
            r.status,
            r.text()
        );
        let body = r.text();
        assert!(
            !body.contains("root:") && !body.contains("Minimal test study"),
            "GET {target} leaked a file: {body}"
        );
    }
    assert_eq!(serve.get("/").status, 200, "still serving");
}

#[test]
fn only_get_and_head_are_allowed() {
    let study = TestStudy::fixture("minimal");
    let serve = ServeProcess::start(study.dir(), &[]);
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        for path in ["/", "/themes/care/", "/__thematic/status", "/nothing-here"] {
            let r = serve.request(method, path);
            assert_eq!(r.status, 405, "{method} {path}");
            assert_eq!(r.header("allow"), Some("GET, HEAD"), "{method} {path}");
        }
    }
    assert_eq!(serve.status().generation, 1, "nothing changed");
}

#[test]
fn head_sends_the_headers_and_the_length_without_a_body() {
    let study = TestStudy::fixture("minimal");
    let serve = ServeProcess::start(study.dir(), &[]);
    for path in ["/", CARE, "/static/style.css", "/__thematic/live.js"] {
        let get = serve.get(path);
        let head = serve.request("HEAD", path);
        assert_eq!(head.status, 200, "HEAD {path}");
        assert!(head.body.is_empty(), "HEAD {path} sent a body");
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "HEAD {path}"
        );
        assert_eq!(
            head.header("content-length"),
            Some(get.body.len().to_string().as_str()),
            "HEAD {path}: Content-Length must be the GET body's length"
        );
    }
}

#[test]
fn symlinks_out_of_the_study_are_not_served() {
    let study = TestStudy::fixture("minimal");
    let secret = "TOP-SECRET-OUTSIDE-THE-STUDY";
    let outside = study.root().join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("secret.txt"), secret).unwrap();
    fs::write(outside.join("secret.css"), format!("/* {secret} */")).unwrap();
    symlink(outside.join("secret.txt"), study.path("content/secret.txt")).unwrap();
    symlink(&outside, study.path("content/leak")).unwrap();
    // Static files of the site theme are served: a link there must not be followed.
    fs::create_dir_all(study.path("themes/default/static")).unwrap();
    symlink(
        outside.join("secret.css"),
        study.path("themes/default/static/leak.css"),
    )
    .unwrap();
    symlink(&outside, study.path("themes/default/static/leakdir")).unwrap();

    let serve = ServeProcess::start(study.dir(), &[]);
    // One more, made while serving, goes through a rebuild.
    let g = serve.generation();
    symlink(
        outside.join("secret.txt"),
        study.path("themes/default/static/late.txt"),
    )
    .unwrap();
    serve.wait_for_generation(g + 1, TIMEOUT);

    for path in [
        "/secret.txt",
        "/content/secret.txt",
        "/leak/secret.txt",
        "/content/leak/secret.txt",
        "/static/leak.css",
        "/static/leakdir/secret.txt",
        "/static/late.txt",
        "/leak.css",
    ] {
        let r = serve.get(path);
        assert_eq!(r.status, 404, "GET {path}");
        assert!(!r.text().contains(secret), "GET {path} leaked the file");
    }
    for path in ["/", CARE, "/static/style.css"] {
        assert!(!serve.page(path).contains(secret));
    }
}

#[test]
fn a_port_in_use_moves_to_another_port_and_says_so() {
    let study = TestStudy::fixture("minimal");
    let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = taken.local_addr().unwrap().port();

    let serve = ServeProcess::start_on(study.dir(), port, &[]);
    let used = serve.addr.port();
    assert_ne!(used, port, "serve claims the taken port");
    let said = format!("Port {port} is in use; using port {used} instead.");
    serve.wait_for_line(&said, |l| l == said);
    assert_eq!(serve.get("/").status, 200);
    drop(taken);
}

#[test]
fn binding_beyond_loopback_warns_about_the_network() {
    let study = TestStudy::fixture("minimal");
    let serve = ServeProcess::start(study.dir(), &["--bind", "0.0.0.0"]);
    let warning = serve.wait_for_line("a warning", |l| l.starts_with("warning:"));
    assert!(warning.contains("network"), "{warning}");
    assert!(serve.url.starts_with("http://0.0.0.0:"), "{}", serve.url);

    // Loopback is quiet.
    let quiet = ServeProcess::start(study.dir(), &[]);
    assert!(
        !quiet.stdout_lines().iter().any(|l| l.contains("warning")),
        "{}",
        quiet.transcript()
    );
}

#[test]
fn ctrl_c_stops_cleanly_with_a_client_connected() {
    let study = TestStudy::fixture("minimal");
    let before = snapshot(study.dir());
    let mut serve = ServeProcess::start(study.dir(), &[]);
    let mut events = SseClient::connect(serve.addr, "/__thematic/events");
    let page = request(serve.addr, "GET", CARE);
    assert_eq!(page.status, 200);

    let started = Instant::now();
    serve.interrupt();
    let status = serve
        .wait_exit(Duration::from_secs(5))
        .unwrap_or_else(|| panic!("still running 5 s after Ctrl-C\n{}", serve.transcript()));
    assert!(
        status.success(),
        "exit status {status} after Ctrl-C\n{}",
        serve.transcript()
    );
    assert!(
        serve.stdout_lines().iter().any(|l| l == "Stopped."),
        "{}",
        serve.transcript()
    );
    assert!(
        events.wait_closed(Duration::from_secs(2)),
        "the event stream was left open"
    );
    eprintln!("stopped in {:?}", started.elapsed());
    assert!(!study.out().exists());
    assert_eq!(snapshot(study.dir()), before, "serve left files behind");
}

/// What `serve` adds to each page, to compare a served page with a built one.
const INJECTED: &str = "<script src=\"/__thematic/live.js\" defer></script>\n";

/// Compares every file of a fresh `thematic build --drafts` of the study with what
/// is served, and checks that the pages of the previous build that are gone are 404.
fn compare_with_fresh_build(
    serve: &ServeProcess,
    study: &TestStudy,
    step: &str,
    previous: &[String],
) -> Result<Vec<String>, String> {
    let out = study.root().join("fresh-build");
    if out.exists() {
        fs::remove_dir_all(&out).unwrap();
    }
    let run = study.build_into(&out, &["--drafts"]);
    run.assert_ok();
    let files: Vec<String> = list_files(&out)
        .into_iter()
        .filter(|f| !f.starts_with('.'))
        .collect();
    for f in &files {
        let r = serve.get(&format!("/{f}"));
        if r.status != 200 {
            return Err(format!("{step}: GET /{f} answered {}", r.status));
        }
        let built = fs::read(out.join(f)).unwrap();
        let served = if f.ends_with(".html") {
            let text = r.text();
            if text.matches(INJECTED).count() != 1 {
                return Err(format!("{step}: /{f} lacks the injected script"));
            }
            text.replacen(INJECTED, "", 1).into_bytes()
        } else {
            r.body
        };
        if served != built {
            let (s, b) = (
                String::from_utf8_lossy(&served).into_owned(),
                String::from_utf8_lossy(&built).into_owned(),
            );
            let line = s
                .lines()
                .zip(b.lines())
                .position(|(x, y)| x != y)
                .unwrap_or(s.lines().count().min(b.lines().count()));
            return Err(format!(
                "{step}: /{f} differs from a fresh build at line {}:\n served: {:?}\n built:  {:?}",
                line + 1,
                s.lines().nth(line).unwrap_or("<end>"),
                b.lines().nth(line).unwrap_or("<end>")
            ));
        }
    }
    for gone in previous.iter().filter(|p| !files.contains(p)) {
        let status = serve.get(&format!("/{gone}")).status;
        if status != 404 {
            return Err(format!(
                "{step}: /{gone} is gone from the build but answers {status}"
            ));
        }
    }
    Ok(files)
}

#[test]
fn after_each_edit_the_served_site_equals_a_fresh_build() {
    let study = TestStudy::fixture("riverside");
    let serve = ServeProcess::start(study.dir(), &[]);
    let mut files = compare_with_fresh_build(&serve, &study, "first build", &[])
        .unwrap_or_else(|e| panic!("{e}\n{}", serve.transcript()));
    assert!(files.len() > 40);

    let lilongwe = "content/quotes/lilongwe.yaml";
    type Step<'a> = (&'static str, Box<dyn Fn() + 'a>);
    let steps: Vec<Step> = vec![
        (
            "edit a quote embedded in a finding",
            Box::new(|| {
                study.edit(
                    "content/quotes/sao-paulo.yaml",
                    "are my family now.",
                    "are my whole family now.",
                )
            }),
        ),
        (
            "rename a subtheme",
            Box::new(|| {
                study.edit(
                    "content/themes/kinship.md",
                    "title: Kinship",
                    "title: Kin ties",
                )
            }),
        ),
        (
            "untag a quote from a theme",
            Box::new(|| study.edit(lilongwe, "themes: [apology, faith]", "themes: [apology]")),
        ),
        (
            "add a quote file in a new folder",
            Box::new(|| {
                study.write(
                    "content/quotes/round2/extra.yaml",
                    "- id: r2-01\n  participant: LL-02\n  site: lilongwe\n  group: late\n  themes: [faith, queues]\n  text: Round two, in a new folder.\n",
                )
            }),
        ),
        (
            "mark a quote as a draft",
            Box::new(|| {
                study.edit(
                    lilongwe,
                    "  themes: [chosen-family]\n",
                    "  themes: [chosen-family]\n  draft: true\n",
                )
            }),
        ),
        (
            "edit a finding's text",
            Box::new(|| {
                study.edit(
                    "content/findings/methods.md",
                    "Participants were sampled",
                    "All participants were sampled",
                )
            }),
        ),
        (
            "edit the study's subtitle",
            Box::new(|| study.edit("content/study.yaml", "A test study with", "A study with")),
        ),
        (
            "change a site's country, which search finds it by",
            Box::new(|| {
                study.edit(
                    "content/sites/lilongwe.md",
                    "country: Malawi",
                    "country: Republic of Malawi",
                )
            }),
        ),
        (
            "split the lists into pages of two quotes",
            Box::new(|| {
                let yaml = study.read("content/study.yaml");
                study.write("content/study.yaml", format!("{yaml}page_size: 2\n"));
            }),
        ),
        (
            "edit a quote shown on later pages",
            Box::new(|| {
                study.edit(
                    "content/quotes/sao-paulo.yaml",
                    "are my whole family now.",
                    "are all my family now.",
                )
            }),
        ),
        (
            "publish the draft theme",
            Box::new(|| study.edit("content/themes/rumours.md", "draft: true\n", "")),
        ),
        (
            "delete the new quote file",
            Box::new(|| study.remove("content/quotes/round2/extra.yaml")),
        ),
    ];
    for (step, change) in steps {
        let g = serve.generation();
        change();
        serve.wait_for_generation(g + 1, TIMEOUT);
        let mut last = Err(String::new());
        let ok = common::server::poll_until(TIMEOUT, || {
            last = if serve.status().errors == 0 {
                compare_with_fresh_build(&serve, &study, step, &files)
            } else {
                Err(format!("{step}: errors {:#?}", serve.errors()))
            };
            last.is_ok()
        });
        assert!(ok, "{}\n{}", last.as_ref().unwrap_err(), serve.transcript());
        files = last.unwrap();
    }
}

#[test]
fn a_study_with_errors_at_start_is_served_once_fixed() {
    let study = TestStudy::broken("unknown-site");
    let serve = ServeProcess::start(study.dir(), &[]);
    let status = serve.status();
    assert_eq!(status.generation, 1);
    assert!(status.errors > 0, "{status:?}");
    let errors = serve.errors();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("--> content/quotes/refs.yaml:3")),
        "{errors:#?}"
    );
    // No site yet: a page that says so, and reloads by itself.
    let home = serve.get("/");
    assert_eq!(home.status, 404);
    assert!(home.text().contains(LIVE_TAG));

    let g = serve.generation();
    study.edit("content/quotes/refs.yaml", "site: gamma", "site: beta");
    serve.wait_for_generation(g + 1, TIMEOUT);
    wait_no_errors(&serve);
    serve.wait_for_text(CARE, "There is no site gamma.");
    assert_html(&serve.get("/"), "GET / once fixed");
}

#[test]
fn a_broken_template_is_reported_and_fixed_while_serving() {
    let study = TestStudy::fixture("minimal");
    let template = "themes/plain/templates/theme.html";
    let good = "{% extends \"base.html\" %}\n{% block content %}\n<h1>PLAIN {{ theme.title }}</h1>\n{% endblock content %}\n";
    study.write(template, good);
    study.edit(
        "content/study.yaml",
        "language: en\n",
        "language: en\nsite_theme: plain\n",
    );
    let serve = ServeProcess::start(study.dir(), &[]);
    serve.wait_for_text(CARE, "PLAIN Care");

    let g = serve.generation();
    study.write(
        template,
        good.replace("{{ theme.title }}", "{{ theme.title }"),
    );
    serve.wait_for_generation(g + 1, TIMEOUT);
    serve.wait_until("the template error is reported", TIMEOUT, || {
        serve.status().errors > 0
    });
    let errors = serve.errors();
    assert!(
        errors.iter().any(|e| e.contains(template)),
        "the error does not name {template}: {errors:#?}"
    );
    assert!(
        serve.page(CARE).contains("PLAIN Care"),
        "the last good site stays up"
    );

    let g = serve.generation();
    study.write(template, good.replace("PLAIN", "FIXED"));
    serve.wait_for_generation(g + 1, TIMEOUT);
    wait_no_errors(&serve);
    serve.wait_for_text(CARE, "FIXED Care");
}

#[test]
fn a_site_theme_created_while_serving_is_picked_up() {
    let study = TestStudy::fixture("minimal");
    assert!(!study.path("themes").exists());
    let serve = ServeProcess::start(study.dir(), &[]);
    let g = serve.generation();

    let mut css = fs::read_to_string(repo_root().join("themes/default/static/style.css")).unwrap();
    css.push_str("\nbody{outline:7px solid rgb(1, 2, 3)}\n");
    study.write("themes/default/static/style.css", css);

    serve.wait_for_generation(g + 1, TIMEOUT);
    serve.wait_for_text("/static/style.css", "rgb(1, 2, 3)");
}

#[test]
fn the_highest_port_can_be_used() {
    let study = TestStudy::fixture("minimal");
    let probe = TcpListener::bind((Ipv4Addr::LOCALHOST, 65535))
        .expect("this test needs port 65535 free on loopback");
    drop(probe);
    let serve = ServeProcess::start_on(study.dir(), 65535, &[]);
    assert_eq!(serve.addr.port(), 65535);
}

#[test]
fn redirects_never_leave_the_site() {
    let study = TestStudy::fixture("minimal");
    let serve = ServeProcess::start(study.dir(), &[]);
    for target in [
        "/themes/care",
        "//themes/care",
        "///themes/care",
        "//sites/alpha",
    ] {
        let r = serve.get(target);
        if (300..400).contains(&r.status) {
            let location = r.header("location").unwrap_or("");
            assert!(
                location.starts_with('/') && !location.starts_with("//"),
                "GET {target} redirects off the site: Location: {location}"
            );
        } else {
            assert!(
                matches!(r.status, 400 | 403 | 404),
                "GET {target}: {}",
                r.status
            );
        }
    }
}

/// Saves `rel` with `from` replaced by `to`, waits for the rebuild, and returns
/// the errors it left (empty: the site was rebuilt).
fn edit_and_rebuild(
    serve: &ServeProcess,
    study: &TestStudy,
    rel: &str,
    from: &str,
    to: &str,
) -> Vec<String> {
    let g = serve.generation();
    study.edit(rel, from, to);
    serve.wait_for_generation(g + 1, TIMEOUT);
    serve.errors()
}

#[test]
fn the_privacy_guard_sees_every_edit_while_serving() {
    // The guard keeps what it found in unchanged files between rebuilds: each
    // change below must still be caught, and each undo must clear it.
    let study = TestStudy::fixture("privacy");
    let harbour = "content/quotes/harbour.yaml";
    let policy = "content/privacy.yaml";
    let denylisted = |errors: &[String]| errors.iter().any(|e| e.contains("denylisted identifier"));
    // A withdrawn quote that names someone: never checked while it is withheld.
    study.edit(
        harbour,
        "WITHDRAWN-TOKEN-1 I told",
        "WITHDRAWN-TOKEN-1 In Port Royal I told",
    );
    let serve = ServeProcess::start(study.dir(), &[]);
    wait_no_errors(&serve);

    // A quote edited to name a denylisted identifier.
    let nurses = "The nurses always explained";
    let named = "José Müller always explained";
    let errors = edit_and_rebuild(&serve, &study, harbour, nurses, named);
    assert!(denylisted(&errors), "{errors:#?}\n{}", serve.transcript());
    assert!(edit_and_rebuild(&serve, &study, harbour, named, nurses).is_empty());

    // A new identifier in privacy.yaml that an unchanged quote contains.
    let rule = "  - \"St. Elsewhere clinic\"\n";
    let added = format!("{rule}  - \"nobody dared\"\n");
    let errors = edit_and_rebuild(&serve, &study, policy, rule, &added);
    assert!(denylisted(&errors), "{errors:#?}\n{}", serve.transcript());
    assert!(edit_and_rebuild(&serve, &study, policy, &added, rule).is_empty());

    // The withdrawal lifted: the unchanged file's withheld quote is published, and checked.
    let withdrawn = "withdrawn:\n  - W-07\n";
    let errors = edit_and_rebuild(&serve, &study, policy, withdrawn, "");
    assert!(denylisted(&errors), "{errors:#?}\n{}", serve.transcript());
    let g = serve.generation();
    study.write(policy, study.read(policy) + withdrawn);
    serve.wait_for_generation(g + 1, TIMEOUT);
    wait_no_errors(&serve);

    // A pattern warning, then allowed in privacy.yaml: the warning goes.
    let email = "a nurse at care@example.org explained";
    let warned = |serve: &ServeProcess| {
        serve
            .stderr_lines()
            .iter()
            .filter(|l| l.contains("contains an e-mail address"))
            .count()
    };
    assert!(
        edit_and_rebuild(
            &serve,
            &study,
            harbour,
            "The nurses always explained",
            email
        )
        .is_empty()
    );
    serve.wait_until("the e-mail address is reported", TIMEOUT, || {
        warned(&serve) == 1
    });
    let allow = "allow:\n";
    assert!(
        edit_and_rebuild(&serve, &study, policy, allow, "allow:\n  h-01: [email]\n").is_empty()
    );
    let rebuilds = serve.stdout_lines().len();
    assert!(edit_and_rebuild(&serve, &study, harbour, "even when", "even if").is_empty());
    serve.wait_until("the rebuild line", TIMEOUT, || {
        serve.stdout_lines().len() > rebuilds
    });
    assert_eq!(warned(&serve), 1, "{}", serve.transcript());
    compare_with_fresh_build(&serve, &study, "the end", &[])
        .unwrap_or_else(|e| panic!("{e}\n{}", serve.transcript()));
}

#[test]
fn switching_the_site_theme_and_back_while_serving() {
    // The loaded site theme is kept between rebuilds: a change of `site_theme`
    // in study.yaml, either way, must load the other one.
    let study = TestStudy::fixture("minimal");
    let page = "{% extends \"base.html\" %}\n{% block content %}\n<h1>PLAIN {{ theme.title }}</h1>\n{% endblock content %}\n";
    study.write("themes/plain/templates/theme.html", page);
    let serve = ServeProcess::start(study.dir(), &[]);
    wait_no_errors(&serve);
    assert!(!serve.page(CARE).contains("PLAIN Care"));

    let switch = |from: &str, to: &str| {
        let g = serve.generation();
        study.edit("content/study.yaml", from, to);
        serve.wait_for_generation(g + 1, TIMEOUT);
        wait_no_errors(&serve);
    };
    switch("language: en\n", "language: en\nsite_theme: plain\n");
    serve.wait_for_text(CARE, "PLAIN Care");
    switch("site_theme: plain\n", "");
    serve.wait_until("the default theme is back", TIMEOUT, || {
        !serve.page(CARE).contains("PLAIN Care")
    });
    compare_with_fresh_build(&serve, &study, "back to the default theme", &[])
        .unwrap_or_else(|e| panic!("{e}\n{}", serve.transcript()));
}
