//! `thematic::import::refi::read` on real REFI-QDA exports (`tests/fixtures/refi/samples`,
//! byte-identical copies of `../shared/samples/refi-qda`) and on small projects written
//! for these tests (`tests/fixtures/refi/{cases,documents,sets}`), each read both as a
//! bare `.qde` beside its `sources/` and zipped into a `.qdpx`.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use thematic::diagnostics::Diagnostic;
use thematic::import::{Incoming, IncomingQuote, RefiOptions, refi};

const FIXTURES: &str = "tests/fixtures/refi";

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(FIXTURES)
        .join(path)
}

fn opts(file: &Path) -> RefiOptions {
    RefiOptions {
        file: file.to_path_buf(),
        ..RefiOptions::default()
    }
}

fn read(file: &Path) -> Incoming {
    match refi::read(&opts(file)) {
        Ok(incoming) => incoming,
        Err(errors) => panic!("{} failed:\n{}", file.display(), show(&errors)),
    }
}

fn read_err(o: &RefiOptions) -> Vec<Diagnostic> {
    match refi::read(o) {
        Ok(incoming) => panic!("{} should fail, got {incoming:#?}", o.file.display()),
        Err(errors) => {
            assert!(!errors.is_empty());
            errors
        }
    }
}

fn show(errors: &[Diagnostic]) -> String {
    errors
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The one error whose message contains `needle`.
fn error_with<'a>(errors: &'a [Diagnostic], needle: &str) -> &'a Diagnostic {
    let found: Vec<&Diagnostic> = errors
        .iter()
        .filter(|d| d.message.contains(needle))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one error with {needle:?} in:\n{}",
        show(errors)
    );
    found[0]
}

/// Every error names the file and says what to do.
fn assert_actionable(errors: &[Diagnostic], file: &str) {
    for d in errors {
        assert!(d.is_error());
        assert!(d.file.contains(file), "{file:?} not named by:\n{d}");
        assert!(d.hint.is_some(), "no hint in:\n{d}");
    }
}

/// Writes a zip of `entries` (name, bytes) to `dir/name`.
fn write_zip(dir: &Path, name: &str, entries: &[(&str, &[u8])]) -> PathBuf {
    let path = dir.join(name);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (entry, bytes) in entries {
        zip.start_file(*entry, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
    path
}

/// Zips a fixture folder (`project.qde` and `sources/`) into `dir/NAME.qdpx`.
fn zip_fixture(dir: &Path, name: &str) -> PathBuf {
    let root = fixture(name);
    let mut entries: Vec<(String, Vec<u8>)> = vec![(
        "project.qde".into(),
        std::fs::read(root.join("project.qde")).unwrap(),
    )];
    let mut sources: Vec<_> = std::fs::read_dir(root.join("sources"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    sources.sort();
    for s in sources {
        let file = s.file_name().unwrap().to_string_lossy().into_owned();
        entries.push((format!("sources/{file}"), std::fs::read(&s).unwrap()));
    }
    let refs: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    write_zip(dir, &format!("{name}.qdpx"), &refs)
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The entry of a zip, as bytes.
fn unzip(path: &Path, entry: &str) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = Vec::new();
    archive
        .by_name(entry)
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Depth of a theme (1 for a top-level theme).
fn depth(incoming: &Incoming, mut i: usize) -> usize {
    let mut d = 1;
    while let Some(p) = incoming.themes[i].parent {
        assert!(p < i, "parent {p} after child {i}");
        d += 1;
        i = p;
    }
    d
}

fn theme_titles(incoming: &Incoming, q: &IncomingQuote) -> Vec<String> {
    q.themes
        .iter()
        .map(|&t| incoming.themes[t].title.clone())
        .collect()
}

fn is_upper_guid(key: &str) -> bool {
    !key.is_empty() && !key.contains(['{', '}']) && key == key.to_ascii_uppercase()
}

// ---------------------------------------------------------------------------
// Real exports

#[test]
fn samples_are_byte_identical_copies() {
    // SHA-256 from ../shared/samples/refi-qda/README.md; compare sizes and a
    // stable hash here to avoid a dependency.
    let expected = [
        ("atlasti-23-blank-project.qdpx", 485),
        ("atlasti-23-target-project.qdpx", 686),
        ("maxqda-24-project.qde", 136130),
        ("nvivo-mac-15-project.qdpx", 36231),
        ("qc-1.3.2-demo.qdpx", 45533),
    ];
    for (name, size) in expected {
        let bytes = std::fs::read(fixture("samples").join(name)).unwrap();
        assert_eq!(bytes.len(), size, "{name}");
        let shared = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/samples/refi-qda")
            .join(name);
        if let Ok(original) = std::fs::read(shared) {
            assert!(original == bytes, "{name} differs from the shared sample");
        }
    }
}

#[test]
fn nvivo_project_gives_262_themes_keyed_by_guid() {
    let incoming = read(&fixture("samples/nvivo-mac-15-project.qdpx"));
    assert_eq!(incoming.title.as_deref(), Some("qc project"));
    assert_eq!(incoming.themes.len(), 262);
    let keys: HashSet<&str> = incoming.themes.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(keys.len(), 262, "keys are distinct");
    for t in &incoming.themes {
        assert!(is_upper_guid(&t.key), "{}", t.key);
        assert_eq!(t.guid.as_deref(), Some(t.key.as_str()));
        assert_eq!(t.color, None);
        assert_eq!(t.description, None);
    }
    // Repeated names in different branches stay separate themes.
    let named = |n: &str| incoming.themes.iter().filter(|t| t.title == n).count();
    assert_eq!(named("citizenship"), 3);
    assert!(named("programming") >= 2);
    // Seven levels deep; parent before child.
    let max = (0..incoming.themes.len())
        .map(|i| depth(&incoming, i))
        .max()
        .unwrap();
    assert_eq!(max, 7);
    let roots: Vec<&str> = incoming
        .themes
        .iter()
        .filter(|t| t.parent.is_none())
        .map(|t| t.title.as_str())
        .collect();
    assert_eq!(roots[0], "rq1_definition");
    let first_child = incoming
        .themes
        .iter()
        .position(|t| t.title == "competencies")
        .unwrap();
    assert_eq!(incoming.themes[first_child].parent, Some(0));
    // Its two sources have no selections: nothing to quote, nothing skipped.
    assert!(incoming.quotes.is_empty());
    assert!(incoming.skipped.is_empty(), "{:?}", incoming.skipped);
}

#[test]
fn nvivo_and_qc_share_their_code_guids() {
    let nvivo = read(&fixture("samples/nvivo-mac-15-project.qdpx"));
    let qc = read(&fixture("samples/qc-1.3.2-demo.qdpx"));
    let keys = |i: &Incoming| -> Vec<(String, Option<usize>, String)> {
        i.themes
            .iter()
            .map(|t| (t.key.clone(), t.parent, t.title.clone()))
            .collect()
    };
    assert_eq!(keys(&nvivo), keys(&qc), "same tree, same keys");
}

#[test]
fn qc_demo_without_site_or_group_skips_each_selection_and_says_why() {
    let incoming = read(&fixture("samples/qc-1.3.2-demo.qdpx"));
    assert_eq!(incoming.title.as_deref(), Some("qc project"));
    assert_eq!(incoming.themes.len(), 262);
    assert!(incoming.quotes.is_empty());
    assert_eq!(incoming.skipped.len(), 158);
    for s in &incoming.skipped {
        assert!(s.what.starts_with("selection "), "{s:?}");
        assert!(s.what.contains(" in source "), "{s:?}");
        assert!(s.why.contains("no participant"), "{s:?}");
        assert!(
            s.why.contains(
                "no site (the project has no variable or set named \"site\": name one with --site)"
            ),
            "{s:?}"
        );
        assert!(s.why.contains("no group"), "{s:?}");
    }
}

/// The qc demo's project file with a case that gives its interview a participant,
/// site and group, zipped again with the original sources.
fn qc_with_case(dir: &Path) -> (PathBuf, String, String) {
    let sample = fixture("samples/qc-1.3.2-demo.qdpx");
    let qde = String::from_utf8(unzip(&sample, "project.qde")).unwrap();
    let board = "33663939-3636-3632-3038-613431643463";
    let case = format!(
        "<Variables><Variable guid=\"7A400000-0000-4000-8000-000000000001\" name=\"site\" typeOfVariable=\"Text\"/>\
         <Variable guid=\"7A400000-0000-4000-8000-000000000002\" name=\"group\" typeOfVariable=\"Text\"/></Variables>\
         <Cases><Case guid=\"CA5E0000-0000-4000-8000-000000000001\" name=\"board\">\
         <VariableValue><VariableRef targetGUID=\"7A400000-0000-4000-8000-000000000001\"/><TextValue>District</TextValue></VariableValue>\
         <VariableValue><VariableRef targetGUID=\"7A400000-0000-4000-8000-000000000002\"/><TextValue>members</TextValue></VariableValue>\
         <SourceRef targetGUID=\"{board}\"/></Case></Cases><Sources>"
    );
    assert_eq!(qde.matches("<Sources>").count(), 1);
    let patched = qde.replace("<Sources>", &case);
    let board_txt = unzip(&sample, "sources/board_2017.txt");
    let admin = unzip(&sample, "sources/admin-1.txt");
    let path = write_zip(
        dir,
        "qc-with-case.qdpx",
        &[
            ("project.qde", patched.as_bytes()),
            ("sources/board_2017.txt", &board_txt),
            ("sources/admin-1.txt", &admin),
        ],
    );
    (path, qde, String::from_utf8(board_txt).unwrap())
}

#[test]
fn qc_demo_selections_with_several_codings_become_quotes_cut_by_code_points() {
    let dir = tempfile::tempdir().unwrap();
    let (path, qde, board) = qc_with_case(dir.path());
    let incoming = read(&path);
    assert_eq!(incoming.quotes.len(), 158);
    assert!(incoming.skipped.is_empty(), "{:?}", incoming.skipped);
    // 205 codings over 158 selections, no code twice on one selection.
    let codings: usize = incoming.quotes.iter().map(|q| q.themes.len()).sum();
    assert_eq!(codings, qde.matches("<Coding ").count());
    assert_eq!(codings, 205);
    assert!(incoming.quotes.iter().any(|q| q.themes.len() >= 3));

    // Positions read from the XML here, text cut by code points here.
    let chars: Vec<char> = board.chars().collect();
    let mut checked = 0;
    for q in &incoming.quotes {
        assert_eq!(q.participant, "board");
        assert_eq!(q.site, "District");
        assert_eq!(q.group, "members");
        assert_eq!(q.guid.as_deref(), Some(q.key.as_str()));
        assert!(is_upper_guid(&q.key));
        let at = qde
            .find(&format!("guid=\"{}\"", q.key.to_lowercase()))
            .unwrap_or_else(|| panic!("{} in the qde", q.key));
        let attr = |name: &str| -> usize {
            let from = at + qde[at..].find(&format!("{name}=\"")).unwrap() + name.len() + 2;
            let to = from + qde[from..].find('"').unwrap();
            qde[from..to].parse().unwrap()
        };
        let (start, end) = (attr("startPosition"), attr("endPosition"));
        let cut: String = chars[start..end].iter().collect();
        assert_eq!(q.text.as_bytes(), cut.trim().as_bytes(), "{}", q.key);
        checked += 1;
    }
    assert_eq!(checked, 158);
    // One by hand: the first selection (line 6) and its one code.
    let first = &incoming.quotes[0];
    assert_eq!(first.key, "37323865-3734-6533-3337-623138653238");
    assert_eq!(theme_titles(&incoming, first), ["fun"]);
}

#[test]
fn atlasti_target_gives_nested_themes_without_sources() {
    let incoming = read(&fixture("samples/atlasti-23-target-project.qdpx"));
    assert_eq!(incoming.title.as_deref(), Some("target-atlas-project"));
    let tree: Vec<(&str, &str, Option<usize>)> = incoming
        .themes
        .iter()
        .map(|t| (t.key.as_str(), t.title.as_str(), t.parent))
        .collect();
    assert_eq!(
        tree,
        [
            ("A182CD3A-D83C-4D8C-BC80-26D9103EC6D6", "Commits", None),
            (
                "2D2466F0-D77F-4F8C-BDF9-628966B6B74D",
                "2022-05-10T02:05:59Z 19e4dce",
                Some(0)
            ),
            (
                "086AC733-7B1C-4749-A138-D7182F63A5C9",
                "2022-02-11T10:39:25Z cdbfd92",
                Some(0)
            ),
        ]
    );
    assert!(incoming.quotes.is_empty() && incoming.skipped.is_empty());
}

#[test]
fn atlasti_blank_project_is_empty_not_an_error() {
    let incoming = read(&fixture("samples/atlasti-23-blank-project.qdpx"));
    assert_eq!(incoming.title.as_deref(), Some("blank-atlas-project"));
    assert!(incoming.themes.is_empty());
    assert!(incoming.quotes.is_empty());
    assert!(incoming.skipped.is_empty());
    // Users' names are not copied anywhere.
    assert!(!format!("{incoming:?}").contains("Enric"));
}

#[test]
fn maxqda_bare_qde_gives_307_coloured_themes() {
    let incoming = read(&fixture("samples/maxqda-24-project.qde"));
    assert_eq!(
        incoming.title.as_deref(),
        Some("2025-06-16_ICLS_Conf_Themes_ALL_just10")
    );
    assert_eq!(incoming.themes.len(), 307);
    let keys: HashSet<&str> = incoming.themes.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(keys.len(), 307);
    for t in &incoming.themes {
        let c = t.color.as_deref().expect("every MAXQDA code has a colour");
        assert!(
            c.len() == 7
                && c.starts_with('#')
                && c[1..]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{c}"
        );
        assert!(
            t.description
                .as_deref()
                .is_some_and(|d| !d.trim().is_empty())
        );
        assert!(
            depth(
                &incoming,
                incoming.themes.iter().position(|x| x.key == t.key).unwrap()
            ) <= 2
        );
    }
    assert_eq!(incoming.themes[0].title, "Additional Themes and Ideas");
    assert_eq!(incoming.themes[0].color.as_deref(), Some("#ef8256"));
    assert!(
        incoming.themes[0]
            .description
            .as_deref()
            .unwrap()
            .starts_with("This category encompasses")
    );
    // Ten sources, no selections: nothing quoted, nothing skipped, and no error
    // although the source texts are not beside the file.
    assert!(incoming.quotes.is_empty());
    assert!(incoming.skipped.is_empty());
}

#[test]
fn maxqda_sets_without_name_value_do_not_match_an_explicit_site() {
    let mut o = opts(&fixture("samples/maxqda-24-project.qde"));
    o.site = Some("conference".into());
    let errors = read_err(&o);
    assert_actionable(&errors, "maxqda-24-project.qde");
    let e = error_with(&errors, "--site \"conference\"");
    assert!(
        e.message.contains("sets \"ICLS 2024\", \"ICLS 2025\""),
        "{e}"
    );
    assert!(e.hint.as_deref().unwrap().contains("NAME: value"), "{e}");
}

// ---------------------------------------------------------------------------
// A project with cases and variables, non-ASCII text, CRLF and a BOM

const S1: &str = "50C00000-0000-4000-8000-000000000001";

fn cases_expectation(incoming: &Incoming) {
    assert_eq!(
        incoming.title.as_deref(),
        Some("Peer support (test fixture)")
    );
    type Row<'a> = (&'a str, Option<usize>, Option<&'a str>, Option<&'a str>);
    let themes: Vec<Row<'_>> = incoming
        .themes
        .iter()
        .map(|t| {
            (
                t.title.as_str(),
                t.parent,
                t.color.as_deref(),
                t.description.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        themes,
        [
            (
                "Recovery",
                None,
                Some("#3366cc"),
                Some("What helps people recover & stay well.")
            ),
            ("Hope", Some(0), Some("#aabbcc"), None),
            ("Zugehörigkeit / belonging", None, Some("#0080ff"), None),
            ("Care", None, None, None),
            ("Care", Some(3), None, None),
        ]
    );
    // Braces and lower case normalised.
    assert_eq!(
        incoming.themes[1].key,
        "C0DE0000-0000-4000-8000-000000000002"
    );

    let quotes: Vec<(&str, &str, &str, &str, Vec<String>)> = incoming
        .quotes
        .iter()
        .map(|q| {
            (
                q.text.as_str(),
                q.participant.as_str(),
                q.site.as_str(),
                q.group.as_str(),
                theme_titles(incoming, q),
            )
        })
        .collect();
    let t = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        quotes,
        [
            (
                "Die Gruppe hat mir Mut gemacht.",
                "P01",
                "Kampala",
                "high",
                t(&["Hope"])
            ),
            (
                "Ich fühlte mich verstanden 😀, nicht allein.",
                "P01",
                "Kampala",
                "high",
                t(&["Zugehörigkeit / belonging"])
            ),
            (
                "Und die Ärztin?\nP01: Sie hörte zu – endlich.",
                "P01",
                "Kampala",
                "high",
                t(&["Care"])
            ),
            (
                "Grüße an alle Peers!",
                "P01",
                "Kampala",
                "high",
                t(&["Hope", "Zugehörigkeit / belonging"])
            ),
            ("Mut gemacht.", "P01", "Kampala", "high", t(&["Care"])),
            (
                "Foi ótimo, não esperava tanta atenção.",
                "P02",
                "São Paulo",
                "low",
                t(&["Care"])
            ),
            (
                "אני מרגישה שייכת.",
                "P02",
                "São Paulo",
                "low",
                t(&["Zugehörigkeit / belonging"])
            ),
            // A SelectionRef beats the source's case.
            ("Ação já!", "P03", "Haifa", "high", t(&["Hope"])),
        ]
    );
    // The nested "Care" (index 4) is the one on the CRLF-spanning quote.
    assert_eq!(incoming.quotes[2].themes, [4]);
    assert_eq!(incoming.quotes[4].themes, [3]);
    // Keys: selection GUIDs normalised; the merged pair keeps the first GUID.
    let keys: Vec<&str> = incoming.quotes.iter().map(|q| q.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "5E1E0000-0000-4000-8000-000000000001",
            "5E1E0000-0000-4000-8000-000000000002",
            "5E1E0000-0000-4000-8000-000000000003",
            "5E1E0000-0000-4000-8000-000000000004",
            "5E1E0000-0000-4000-8000-000000000007",
            "5E1E0000-0000-4000-8000-000000000008",
            "5E1E0000-0000-4000-8000-000000000009",
            "5E1E0000-0000-4000-8000-000000000010",
        ]
    );
    for q in &incoming.quotes {
        assert_eq!(q.guid.as_deref(), Some(q.key.as_str()));
        assert_eq!(q.context, None);
    }

    let skipped: Vec<(&str, &str)> = incoming
        .skipped
        .iter()
        .map(|s| (s.what.as_str(), s.why.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            (
                "code \"P01\" (CA5E0000-0000-4000-8000-000000000001)",
                "its GUID is a case's: a case node, not a theme"
            ),
            (
                "selection 5E1E0000-0000-4000-8000-000000000006 in source \"Interview Anna Müller.docx\"",
                "not coded"
            ),
            (
                "codings of selection 5E1E0000-0000-4000-8000-000000000009 in source \"C:\\Users\\researcher\\Entrevista Maria.txt\"",
                "the codes are not in the codebook (DEAD0000-0000-4000-8000-000000000001)"
            ),
            (
                "selection 5E1E0000-0000-4000-8000-000000000011 in source \"Focus group\"",
                "several participants (cases \"P01\", \"P02\"); several sites (\"Kampala\", \"São Paulo\"); several groups (\"high\", \"low\")"
            ),
        ]
    );

    // Nothing private reaches what is written into a study.
    let published = format!(
        "{:?} {:?} {:?}",
        incoming.title, incoming.themes, incoming.quotes
    );
    for private in [
        "Private Researcher",
        "Anna Müller",
        "Entrevista",
        "researcher",
        "PRIVATE MEMO",
        "internal://",
        ".txt",
        ".docx",
        "Interviewer",
    ] {
        assert!(!published.contains(private), "{private} copied");
    }
}

#[test]
fn cases_and_variables_from_a_bare_qde_beside_its_sources() {
    let incoming = read(&fixture("cases/project.qde"));
    cases_expectation(&incoming);
}

#[test]
fn cases_and_variables_from_a_qdpx() {
    let dir = tempfile::tempdir().unwrap();
    let path = zip_fixture(dir.path(), "cases");
    let incoming = read(&path);
    cases_expectation(&incoming);
    assert_eq!(incoming, read(&fixture("cases/project.qde")));
}

#[test]
fn positions_are_code_points_not_bytes_nor_utf16_units() {
    // The fixture's positions were computed by code point; here the source is
    // checked to make them differ from bytes and UTF-16 units, BOM excluded.
    let raw = std::fs::read_to_string(fixture(&format!("cases/sources/{S1}.txt"))).unwrap();
    assert!(raw.starts_with('\u{feff}'), "the source starts with a BOM");
    assert!(raw.contains("\r\n"), "the source has CRLF line ends");
    let text = raw.strip_prefix('\u{feff}').unwrap();
    let qde = std::fs::read_to_string(fixture("cases/project.qde")).unwrap();
    let at = qde.find("5E1E0000-0000-4000-8000-000000000003").unwrap();
    assert!(qde[at..].starts_with(
        "5E1E0000-0000-4000-8000-000000000003\" startPosition=\"137\" endPosition=\"182\""
    ));
    let byte = text.find("Und die Ärztin?").unwrap();
    let prefix = &text[..byte];
    let code_points = prefix.chars().count();
    let utf16 = prefix.encode_utf16().count();
    assert_eq!(code_points, 137);
    assert!(byte != code_points && utf16 != code_points && byte != utf16);
    let end = text.find("endlich.").unwrap() + "endlich.".len();
    assert_eq!(text[..end].chars().count(), 182);
    // The reader cuts the same, and turns the CRLF inside into LF.
    let incoming = read(&fixture("cases/project.qde"));
    let q = &incoming.quotes[2];
    assert_eq!(q.text, text[byte..end].replace("\r\n", "\n"));
}

#[test]
fn explicit_variable_names_match_in_any_case() {
    let mut o = opts(&fixture("cases/project.qde"));
    o.site = Some("REGION".into());
    o.group = Some("group".into());
    let incoming = refi::read(&o).unwrap();
    let sites: Vec<(&str, &str)> = incoming
        .quotes
        .iter()
        .map(|q| (q.participant.as_str(), q.site.as_str()))
        .collect();
    // Only P01 has a Region.
    assert!(
        sites.iter().all(|&(p, s)| p == "P01" && s == "East Africa"),
        "{sites:?}"
    );
    assert_eq!(sites.len(), 5);
    let p02 = incoming
        .skipped
        .iter()
        .find(|s| s.what.contains("5E1E0000-0000-4000-8000-000000000008"))
        .unwrap();
    assert_eq!(
        p02.why,
        "no site (\"REGION\" has no value for its case or source)"
    );
}

#[test]
fn an_unknown_explicit_name_is_an_error_listing_what_exists() {
    let mut o = opts(&fixture("cases/project.qde"));
    o.site = Some("Regio".into());
    o.group = Some("Responder group".into());
    o.participant = Some("Code".into());
    let errors = read_err(&o);
    assert_eq!(errors.len(), 3, "{}", show(&errors));
    assert_actionable(&errors, "cases/project.qde");
    let site = error_with(&errors, "--site \"Regio\"");
    assert_eq!(
        site.message,
        "--site \"Regio\" names no variable or set of the project; the project has variables \"Site\", \"Group\", \"Region\""
    );
    assert!(
        site.hint
            .as_deref()
            .unwrap()
            .contains("did you mean `Region`?"),
        "{site}"
    );
    error_with(&errors, "--group \"Responder group\"");
    let participant = error_with(&errors, "--participant \"Code\"");
    assert!(
        participant
            .hint
            .as_deref()
            .unwrap()
            .contains("--participant"),
        "{participant}"
    );
}

#[test]
fn a_bare_qde_without_its_sources_skips_coded_selections() {
    let dir = tempfile::tempdir().unwrap();
    let qde = std::fs::read(fixture("cases/project.qde")).unwrap();
    let path = write_file(dir.path(), "project.qde", &qde);
    let incoming = read(&path);
    assert_eq!(incoming.themes.len(), 5);
    assert!(incoming.quotes.is_empty());
    let missing: Vec<_> = incoming
        .skipped
        .iter()
        .filter(|s| s.why.starts_with("its source text was not found"))
        .collect();
    // Every coded passage (the merged pair once), but not the uncoded one.
    assert_eq!(missing.len(), 9, "{:?}", incoming.skipped);
    assert!(
        missing[0].why.contains(&format!("internal://{S1}.txt")),
        "{:?}",
        missing[0]
    );
    assert!(incoming.skipped.iter().any(|s| s.why == "not coded"));
}

// ---------------------------------------------------------------------------
// Document variables (MAXQDA: VariableValue in TextSource, nameless case)

#[test]
fn site_and_participant_from_document_variables() {
    let dir = tempfile::tempdir().unwrap();
    for path in [
        fixture("documents/project.qde"),
        zip_fixture(dir.path(), "documents"),
    ] {
        let mut o = opts(&path);
        o.participant = Some("interviewee".into());
        let incoming = refi::read(&o).unwrap_or_else(|e| panic!("{}", show(&e)));
        assert_eq!(incoming.themes[0].color.as_deref(), Some("#ef8256"));
        let quotes = attributed(&incoming);
        assert_eq!(
            quotes,
            [
                ("It gave me a reason to get up.", "B-01", "Berlin", "low"),
                // PlainTextContent inside the .qde; values from a nameless case.
                ("The peer worker listened.", "H-02", "Haifa", "high"),
            ]
        );
        assert!(incoming.skipped.is_empty(), "{:?}", incoming.skipped);
    }
    // Without --participant there is no case name to use.
    let incoming = read(&fixture("documents/project.qde"));
    assert!(incoming.quotes.is_empty());
    assert_eq!(incoming.skipped.len(), 2);
    assert!(
        incoming.skipped[0]
            .why
            .starts_with("no participant (no named case"),
        "{:?}",
        incoming.skipped
    );
    assert!(
        !incoming.skipped[0].why.contains("site"),
        "{:?}",
        incoming.skipped
    );
}

// ---------------------------------------------------------------------------
// Sets named `NAME: value` (ATLAS.ti document groups); ATLAS.ti counts CRLF as one

#[test]
fn site_and_group_from_sets() {
    let dir = tempfile::tempdir().unwrap();
    for path in [fixture("sets/project.qde"), zip_fixture(dir.path(), "sets")] {
        let incoming = read(&path);
        let quotes = attributed(&incoming);
        assert_eq!(
            quotes,
            [
                (
                    "We cook together.\nR: Everyone brings something.",
                    "K-01",
                    "Kampala",
                    "high responders"
                ),
                (
                    "Nobody asks who you are.",
                    "B-02",
                    "Berlin",
                    "high responders"
                ),
            ]
        );
        assert!(incoming.skipped.is_empty(), "{:?}", incoming.skipped);
    }
}

#[test]
fn atlasti_positions_count_crlf_as_one() {
    let text = std::fs::read_to_string(fixture(
        "sets/sources/50C00000-0000-4000-8000-000000000021.txt",
    ))
    .unwrap();
    let start = text.find("We cook").unwrap();
    // Code points before the passage: one CRLF counted twice by the standard.
    assert_eq!(text[..start].chars().count(), 32);
    let qde = std::fs::read_to_string(fixture("sets/project.qde")).unwrap();
    assert!(qde.contains("startPosition=\"31\" endPosition=\"78\""));
}

#[test]
fn an_explicit_set_prefix_is_a_name_that_exists() {
    let mut o = opts(&fixture("sets/project.qde"));
    o.group = Some("GROUP".into());
    assert_eq!(refi::read(&o).unwrap().quotes.len(), 2);
    o.group = Some("Interviews 2024".into());
    let errors = read_err(&o);
    let e = error_with(&errors, "--group \"Interviews 2024\"");
    assert!(
        e.message.ends_with(
            "the project has sets \"site: Kampala\", \"site: Berlin\", \"Group: high responders\", \"Interviews 2024\""
        ),
        "{e}"
    );
}

/// A one-source project from `origin` whose selection has `name` and positions,
/// with a case that gives it a participant, site and group.
fn counted_project(
    dir: &Path,
    origin: &str,
    text: &str,
    name: &str,
    start: usize,
    end: usize,
) -> PathBuf {
    let qde = format!(
        "<Project xmlns=\"urn:QDA-XML:project:1.0\" name=\"p\" origin=\"{origin}\">\
<CodeBook><Codes><Code guid=\"C1\" name=\"c\" isCodable=\"true\"/></Codes></CodeBook>\
<Variables><Variable guid=\"V1\" name=\"site\" typeOfVariable=\"Text\"/><Variable guid=\"V2\" name=\"group\" typeOfVariable=\"Text\"/></Variables>\
<Cases><Case guid=\"K1\" name=\"P1\"><VariableValue><VariableRef targetGUID=\"V1\"/><TextValue>s</TextValue></VariableValue>\
<VariableValue><VariableRef targetGUID=\"V2\"/><TextValue>g</TextValue></VariableValue><SourceRef targetGUID=\"S1\"/></Case></Cases>\
<Sources><TextSource guid=\"S1\" plainTextPath=\"internal://S1.txt\">\
<PlainTextSelection guid=\"P1\" name=\"{name}\" startPosition=\"{start}\" endPosition=\"{end}\"><Coding guid=\"x\"><CodeRef targetGUID=\"C1\"/></Coding></PlainTextSelection>\
</TextSource></Sources></Project>"
    );
    write_zip(
        dir,
        &format!("{}.qdpx", origin.replace(' ', "-")),
        &[
            ("project.qde", qde.as_bytes()),
            ("sources/S1.txt", text.as_bytes()),
        ],
    )
}

#[test]
fn qualcoder_positions_are_utf16_units() {
    // NOTES.md: QualCoder (Qt) counts UTF-16 code units; the emoji takes two.
    let dir = tempfile::tempdir().unwrap();
    let text = "😀 Wir kochen zusammen.";
    let path = counted_project(dir.path(), "QualCoder 3.6", text, "", 3, 23);
    assert_eq!(read(&path).quotes[0].text, "Wir kochen zusammen.");
    // The same positions from a tool that follows the standard.
    let path = counted_project(dir.path(), "qc 1.3.2", text, "", 2, 22);
    assert_eq!(read(&path).quotes[0].text, "Wir kochen zusammen.");
}

#[test]
fn selection_names_that_hold_the_text_choose_the_counting() {
    // Positions counted with CRLF as one by a tool not known to do so: the
    // selection's name (its text) shows which counting fits.
    let dir = tempfile::tempdir().unwrap();
    let text = "Zeile eins\r\nZeile zwei\r\nDie dritte Zeile.\r\n";
    let name = "Die dritte Zeile.";
    let path = counted_project(dir.path(), "Some Tool 1.0", text, name, 22, 39);
    assert_eq!(read(&path).quotes[0].text, "Die dritte Zeile.");
    // Without a telling name, the standard counting applies.
    let path = counted_project(dir.path(), "Other Tool 1.0", text, "line:3", 24, 41);
    assert_eq!(read(&path).quotes[0].text, "Die dritte Zeile.");
    let path = counted_project(dir.path(), "Third Tool 1.0", text, "line:3", 22, 39);
    assert_eq!(read(&path).quotes[0].text, "Die dritte Zeil");
}

// ---------------------------------------------------------------------------
// Codebooks

#[test]
fn a_qdc_codebook_gives_themes_only() {
    let dir = tempfile::tempdir().unwrap();
    let qdc = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n\
<CodeBook xmlns=\"urn:QDA-XML:codebook:0:4\" origin=\"ATLAS.ti\">\r\n\
  <Codes>\r\n\
    <Code guid=\"{aaaaaaaa-0000-4000-8000-000000000001}\" name=\"Belonging\" isCodable=\"false\" color=\"#2A6F97\">\r\n\
      <Description>Feeling part of something.</Description>\r\n\
      <Code guid=\"AAAAAAAA-0000-4000-8000-000000000002\" name=\"Kinship\" isCodable=\"true\"/>\r\n\
    </Code>\r\n\
  </Codes>\r\n\
  <Sets></Sets>\r\n\
</CodeBook>\r\n";
    // The extension does not decide: content does.
    let path = write_file(dir.path(), "codebook.xml", qdc.as_bytes());
    let incoming = read(&path);
    assert_eq!(incoming.title, None);
    assert_eq!(incoming.themes.len(), 2);
    assert_eq!(
        incoming.themes[0].key,
        "AAAAAAAA-0000-4000-8000-000000000001"
    );
    assert_eq!(incoming.themes[0].color.as_deref(), Some("#2a6f97"));
    assert_eq!(
        incoming.themes[0].description.as_deref(),
        Some("Feeling part of something.")
    );
    assert_eq!(incoming.themes[1].parent, Some(0));
    assert!(incoming.quotes.is_empty());
}

// ---------------------------------------------------------------------------
// Errors: each names the file (and line), says what is wrong and what to do

#[test]
fn not_a_zip_nor_refi_qda() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "notes.qdpx", b"just some notes\n");
    let errors = read_err(&opts(&path));
    assert_actionable(&errors, "notes.qdpx");
    error_with(&errors, "not a zip archive");

    let path = write_file(dir.path(), "page.qde", b"<html><body>hi</body></html>");
    let errors = read_err(&opts(&path));
    assert_actionable(&errors, "page.qde");
    let e = error_with(&errors, "not a REFI-QDA file: its root element is <html>");
    assert_eq!((e.position.line, e.position.column), (1, 1));

    let path = write_file(
        dir.path(),
        "pom.qde",
        b"<Project xmlns=\"http://maven.apache.org/POM/4.0.0\"/>",
    );
    let errors = read_err(&opts(&path));
    error_with(&errors, "namespace `http://maven.apache.org/POM/4.0.0`");

    // A damaged zip.
    let good = std::fs::read(fixture("samples/atlasti-23-target-project.qdpx")).unwrap();
    let path = write_file(dir.path(), "cut.qdpx", &good[..good.len() / 2]);
    let errors = read_err(&opts(&path));
    assert_actionable(&errors, "cut.qdpx");
    error_with(&errors, "not a readable zip archive");
}

#[test]
fn no_qde_in_the_zip() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_zip(dir.path(), "empty.qdpx", &[("sources/a.txt", b"hello")]);
    let errors = read_err(&opts(&path));
    assert_actionable(&errors, "empty.qdpx");
    let e = error_with(&errors, "no .qde project file in the zip");
    assert!(e.message.contains("`sources/a.txt`"), "{e}");
    assert!(e.hint.as_deref().unwrap().contains("project.qde"));

    let path = write_zip(
        dir.path(),
        "two.qdpx",
        &[
            ("a.qde", b"<Project name='a'/>"),
            ("b.qde", b"<Project name='b'/>"),
        ],
    );
    let errors = read_err(&opts(&path));
    error_with(&errors, "2 .qde project files (`a.qde`, `b.qde`)");

    // Any one .qde name, in any folder, with Sources/ beside it.
    let qde = std::fs::read(fixture("sets/project.qde")).unwrap();
    let t1 = std::fs::read(fixture(
        "sets/sources/50C00000-0000-4000-8000-000000000021.txt",
    ))
    .unwrap();
    let t2 = std::fs::read(fixture(
        "sets/sources/50C00000-0000-4000-8000-000000000022.txt",
    ))
    .unwrap();
    let path = write_zip(
        dir.path(),
        "folder.qdpx",
        &[
            ("My project/My project.qde", &qde),
            (
                "My project/Sources/50C00000-0000-4000-8000-000000000021.txt",
                &t1,
            ),
            (
                "My project/Sources/50c00000-0000-4000-8000-000000000022.TXT",
                &t2,
            ),
        ],
    );
    assert_eq!(read(&path).quotes.len(), 2);
}

#[test]
fn xml_that_is_not_well_formed_gives_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let qde = "<?xml version=\"1.0\"?>\n<Project name=\"x\">\n  <CodeBook>\n    <Codes>\n      <Code guid=\"A\" name=\"ä\" isCodable=\"true\"></Cod>\n    </Codes>\n  </CodeBook>\n</Project>\n";
    let path = write_file(dir.path(), "broken.qde", qde.as_bytes());
    let errors = read_err(&opts(&path));
    assert_eq!(errors.len(), 1);
    assert_actionable(&errors, "broken.qde");
    let e = error_with(&errors, "the XML is not well-formed");
    assert_eq!(e.position.line, 5, "{e}");
    assert!(e.position.column > 1, "{e}");
    assert!(e.to_string().contains("broken.qde:5:"), "{e}");

    // Inside a zip, the file is named as the entry of the zip.
    let path = write_zip(
        dir.path(),
        "broken.qdpx",
        &[("project.qde", qde.as_bytes())],
    );
    let errors = read_err(&opts(&path));
    let e = error_with(&errors, "not well-formed");
    assert_eq!(e.file, format!("{}/project.qde", path.display()));
    assert_eq!(e.position.line, 5);

    // Cut short.
    let path = write_file(dir.path(), "short.qde", &qde.as_bytes()[..60]);
    let errors = read_err(&opts(&path));
    error_with(&errors, "not well-formed");
}

#[test]
fn required_attributes_missing_name_element_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let qde = "<Project name=\"x\">\n<CodeBook><Codes>\n<Code name=\"no guid\" isCodable=\"true\"/>\n<Code guid=\"B\" isCodable=\"true\"/>\n</Codes></CodeBook>\n<Sources><TextSource guid=\"S\" plainTextPath=\"s.txt\">\n<PlainTextSelection guid=\"P\" startPosition=\"0\"><Coding guid=\"c\"><CodeRef/></Coding></PlainTextSelection>\n<PlainTextSelection guid=\"Q\" startPosition=\"-1\" endPosition=\"x\"/>\n</TextSource></Sources>\n</Project>\n";
    let path = write_file(dir.path(), "attrs.qde", qde.as_bytes());
    let errors = read_err(&opts(&path));
    assert_actionable(&errors, "attrs.qde");
    let e = error_with(
        &errors,
        "<Code> at line 3 lacks the required attribute `guid`",
    );
    assert_eq!(e.position.line, 3);
    let e = error_with(
        &errors,
        "<Code> at line 4 lacks the required attribute `name`",
    );
    assert_eq!(e.position.line, 4);
    error_with(
        &errors,
        "<PlainTextSelection> at line 7 lacks the required attribute `endPosition`",
    );
    error_with(
        &errors,
        "<CodeRef> at line 7 lacks the required attribute `targetGUID`",
    );
    error_with(&errors, "startPosition=\"-1\", which is not a whole number");
    error_with(&errors, "endPosition=\"x\", which is not a whole number");
    assert_eq!(errors.len(), 6, "{}", show(&errors));
}

fn one_source_project(path: &str, start: u32, end: u32) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
<Project xmlns=\"urn:QDA-XML:project:1.0\" name=\"p\">\n\
<CodeBook><Codes><Code guid=\"C0DE0000-0000-4000-8000-000000000001\" name=\"c\" isCodable=\"true\"/></Codes></CodeBook>\n\
<Sources>\n\
<TextSource guid=\"50C00000-0000-4000-8000-000000000001\" name=\"Interview\" plainTextPath=\"{path}\">\n\
<PlainTextSelection guid=\"5E1E0000-0000-4000-8000-000000000001\" startPosition=\"{start}\" endPosition=\"{end}\"><Coding guid=\"C0D10000-0000-4000-8000-000000000001\"><CodeRef targetGUID=\"C0DE0000-0000-4000-8000-000000000001\"/></Coding></PlainTextSelection>\n\
</TextSource>\n\
</Sources>\n\
</Project>\n"
    )
}

#[test]
fn a_source_missing_from_the_zip() {
    let dir = tempfile::tempdir().unwrap();
    let qde = one_source_project("internal://50C00000-0000-4000-8000-000000000001.txt", 0, 2);
    let path = write_zip(
        dir.path(),
        "nosource.qdpx",
        &[("project.qde", qde.as_bytes())],
    );
    let errors = read_err(&opts(&path));
    assert_eq!(errors.len(), 1, "{}", show(&errors));
    assert_actionable(&errors, "nosource.qdpx/project.qde");
    let e = error_with(
        &errors,
        "the source \"Interview\" at line 5 is not in the zip",
    );
    assert_eq!(e.position.line, 5);
    assert!(
        e.message
            .contains("internal://50C00000-0000-4000-8000-000000000001.txt"),
        "{e}"
    );
    assert!(
        e.hint
            .as_deref()
            .unwrap()
            .contains("sources/50C00000-0000-4000-8000-000000000001.txt"),
        "{e}"
    );
}

#[test]
fn a_selection_outside_its_source() {
    let dir = tempfile::tempdir().unwrap();
    // 5 code points, 10 bytes.
    let qde = one_source_project("internal://s.txt", 3, 9);
    let path = write_zip(
        dir.path(),
        "outside.qdpx",
        &[
            ("project.qde", qde.as_bytes()),
            ("sources/s.txt", "ééééé".as_bytes()),
        ],
    );
    let errors = read_err(&opts(&path));
    assert_eq!(errors.len(), 1, "{}", show(&errors));
    assert_actionable(&errors, "outside.qdpx/project.qde");
    let e = &errors[0];
    assert_eq!(
        e.message,
        "the selection 5E1E0000-0000-4000-8000-000000000001 (startPosition 3, endPosition 9) lies outside its source \"Interview\", which is 5 code points long"
    );
    assert_eq!(e.position.line, 6);

    let qde = one_source_project("internal://s.txt", 4, 2);
    let path = write_zip(
        dir.path(),
        "backwards.qdpx",
        &[("project.qde", qde.as_bytes()), ("sources/s.txt", b"hello")],
    );
    let errors = read_err(&opts(&path));
    error_with(
        &errors,
        "ends (endPosition 2) before it starts (startPosition 4)",
    );

    // Within bounds, byte 9 would not be: code points it is.
    let qde = one_source_project("internal://s.txt", 3, 5);
    let path = write_zip(
        dir.path(),
        "inside.qdpx",
        &[
            ("project.qde", qde.as_bytes()),
            ("sources/s.txt", "ééébé".as_bytes()),
        ],
    );
    let incoming = read(&path);
    assert_eq!(incoming.skipped.len(), 1);
    assert!(incoming.quotes.is_empty());
}

#[test]
fn a_source_that_is_not_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let qde = one_source_project("s.txt", 0, 2);
    let path = write_zip(
        dir.path(),
        "latin1.qdpx",
        &[
            ("project.qde", qde.as_bytes()),
            ("sources/s.txt", b"caf\xe9\n"),
        ],
    );
    let errors = read_err(&opts(&path));
    assert_actionable(&errors, "latin1.qdpx/sources/s.txt");
    let e = error_with(&errors, "the source text is not valid UTF-8 (byte 3)");
    assert_eq!((e.position.line, e.position.column), (1, 4));
}

#[test]
fn unsafe_zip_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let qde = one_source_project("internal://s.txt", 0, 2);
    let path = write_zip(
        dir.path(),
        "evil.qdpx",
        &[
            ("project.qde", qde.as_bytes()),
            ("../../etc/evil.txt", b"x"),
            ("/abs/s.txt", b"x"),
            ("sources/s.txt", b"hello"),
        ],
    );
    let errors = read_err(&opts(&path));
    assert_actionable(&errors, "evil.qdpx");
    error_with(&errors, "`../../etc/evil.txt` has an unsafe name");
    error_with(&errors, "`/abs/s.txt` has an unsafe name");
    assert_eq!(errors.len(), 2, "{}", show(&errors));
    assert!(!dir.path().join("etc").exists());
}

#[test]
fn every_error_of_a_run_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let qde = "<Project name=\"many\">\n\
<CodeBook><Codes>\n\
<Code guid=\"C1\" name=\"a\" isCodable=\"true\"/>\n\
<Code guid=\"{c1}\" name=\"b\" isCodable=\"true\"/>\n\
<Code name=\"c\" isCodable=\"true\"/>\n\
</Codes></CodeBook>\n\
<Sources>\n\
<TextSource guid=\"S1\" name=\"one\" plainTextPath=\"internal://one.txt\">\n\
<PlainTextSelection guid=\"P1\" startPosition=\"0\" endPosition=\"99\"><Coding guid=\"x\"><CodeRef targetGUID=\"C1\"/></Coding></PlainTextSelection>\n\
</TextSource>\n\
<TextSource guid=\"S2\" name=\"two\" plainTextPath=\"internal://two.txt\">\n\
<PlainTextSelection guid=\"P2\" startPosition=\"0\" endPosition=\"1\"><Coding guid=\"y\"><CodeRef targetGUID=\"C1\"/></Coding></PlainTextSelection>\n\
</TextSource>\n\
</Sources>\n\
</Project>\n";
    let path = write_zip(
        dir.path(),
        "many.qdpx",
        &[
            ("project.qde", qde.as_bytes()),
            ("sources/one.txt", b"short"),
        ],
    );
    let mut o = opts(&path);
    o.site = Some("Region".into());
    let errors = read_err(&o);
    assert_actionable(&errors, "many.qdpx/project.qde");
    let e = error_with(
        &errors,
        "the code \"b\" at line 4 has the GUID C1 of the code \"a\" at line 3",
    );
    assert_eq!(e.position.line, 4);
    error_with(
        &errors,
        "<Code> at line 5 lacks the required attribute `guid`",
    );
    error_with(
        &errors,
        "lies outside its source \"one\", which is 5 code points long",
    );
    error_with(&errors, "the source \"two\" at line 11 is not in the zip");
    let none = error_with(
        &errors,
        "--site \"Region\" names no variable or set of the project; the project has no variables and no sets",
    );
    assert!(
        none.hint
            .as_deref()
            .unwrap()
            .contains("give the cases or documents a `Region` variable"),
        "{none}"
    );
    assert_eq!(errors.len(), 5, "{}", show(&errors));
}

#[test]
fn a_missing_file_and_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let errors = read_err(&opts(&dir.path().join("nothing.qdpx")));
    assert_actionable(&errors, "nothing.qdpx");
    error_with(&errors, "cannot read the file");
    let errors = read_err(&opts(dir.path()));
    error_with(&errors, "is a folder");
}

// ---------------------------------------------------------------------------
// Robustness

#[test]
fn damaged_input_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let qde = std::fs::read(fixture("cases/project.qde")).unwrap();
    for cut in (0..qde.len()).step_by(97) {
        let path = write_file(dir.path(), "cut.qde", &qde[..cut]);
        let _ = refi::read(&opts(&path));
    }
    let qdpx = std::fs::read(zip_fixture(dir.path(), "sets")).unwrap();
    let mut seen = HashMap::new();
    for at in (0..qdpx.len()).step_by(23) {
        let mut bytes = qdpx.clone();
        bytes[at] ^= 0x5a;
        let path = write_file(dir.path(), "flipped.qdpx", &bytes);
        let ok = refi::read(&opts(&path)).is_ok();
        *seen.entry(ok).or_insert(0) += 1;
    }
    assert!(seen.get(&false).copied().unwrap_or(0) > 0);
}

#[test]
fn deep_nesting_is_read_or_refused_without_crashing() {
    let dir = tempfile::tempdir().unwrap();
    let deep = |n: usize| {
        let mut qdc = String::from("<CodeBook xmlns=\"urn:QDA-XML:codebook:1.0\"><Codes>");
        for i in 0..n {
            qdc.push_str(&format!(
                "<Code guid=\"{i}\" name=\"c{i}\" isCodable=\"true\">"
            ));
        }
        qdc.push_str(&"</Code>".repeat(n));
        qdc.push_str("</Codes></CodeBook>");
        qdc
    };
    let path = write_file(dir.path(), "deep.qdc", deep(990).as_bytes());
    let incoming = read(&path);
    assert_eq!(incoming.themes.len(), 990);
    assert_eq!(depth(&incoming, 989), 990);
    let path = write_file(dir.path(), "deeper.qdc", deep(5000).as_bytes());
    let errors = read_err(&opts(&path));
    error_with(&errors, "nested more than 1000 deep");
}

/// Each quote's text, participant, site and group.
fn attributed(incoming: &thematic::import::Incoming) -> Vec<(&str, &str, &str, &str)> {
    incoming
        .quotes
        .iter()
        .map(|q| {
            (
                q.text.as_str(),
                q.participant.as_str(),
                q.site.as_str(),
                q.group.as_str(),
            )
        })
        .collect()
}
