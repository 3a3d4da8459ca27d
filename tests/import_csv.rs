//! `thematic import csv`, the reader: a CSV of coded excerpts into `Incoming`.
//!
//! Real-shaped exports live in `tests/fixtures/csv/` (Taguette's highlights export
//! with CRLF records; a QualCoder-style coding export with a BOM, `;`-separated
//! codes and a cases file). Error cases build their file in a temporary folder.
//! Every error names its file and line, in the diagnostic and in its rendering.

use std::fs;
use std::path::{Path, PathBuf};

use thematic::diagnostics::Diagnostic;
use thematic::import::csvfile::read;
use thematic::import::{Columns, CsvOptions, Incoming, IncomingQuote};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/csv")
        .join(name)
}

/// `--columns text=…,participant=…,site=…,group=…,themes=…`.
fn columns(text: &str, participant: &str, site: &str, group: &str, themes: &[&str]) -> Columns {
    Columns {
        text: text.into(),
        participant: participant.into(),
        site: site.into(),
        group: group.into(),
        themes: themes.iter().map(|t| t.to_string()).collect(),
        id: None,
        context: None,
    }
}

/// The columns of the files the error tests write.
fn simple() -> Columns {
    columns("text", "participant", "site", "group", &["themes"])
}

fn options(file: &Path, columns: Columns) -> CsvOptions {
    CsvOptions {
        file: file.to_path_buf(),
        columns,
        theme_separator: None,
        participants: None,
    }
}

/// A temporary folder that holds files written by a test.
struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Self {
        Dir(tempfile::tempdir().unwrap())
    }

    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.path().join(name);
        fs::write(&path, bytes).unwrap();
        path
    }
}

fn shown(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

fn theme_names(inc: &Incoming, q: &IncomingQuote) -> Vec<String> {
    q.themes
        .iter()
        .map(|&i| inc.themes[i].title.clone())
        .collect()
}

#[track_caller]
fn ok(opts: &CsvOptions) -> Incoming {
    match read(opts) {
        Ok(inc) => inc,
        Err(errors) => panic!("unexpected errors:\n{}", render(&errors)),
    }
}

#[track_caller]
fn errors(opts: &CsvOptions) -> Vec<Diagnostic> {
    match read(opts) {
        Ok(inc) => panic!("expected errors, got {inc:#?}"),
        Err(errors) => {
            assert!(!errors.is_empty());
            errors
        }
    }
}

fn render(errors: &[Diagnostic]) -> String {
    errors.iter().map(|d| format!("{d}\n")).collect()
}

/// The error at `file:line` whose message holds `needle`; checks that it names the
/// file and the line, in the diagnostic and in its rendering, and has a hint.
#[track_caller]
fn error_at<'a>(errors: &'a [Diagnostic], file: &Path, line: u32, needle: &str) -> &'a Diagnostic {
    let file = shown(file);
    let Some(d) = errors
        .iter()
        .find(|d| d.message.contains(needle) && d.position.line == line)
    else {
        panic!(
            "no error at line {line} saying {needle:?} in:\n{}",
            render(errors)
        );
    };
    assert!(d.is_error());
    assert_eq!(d.file, file);
    let text = d.to_string();
    assert!(text.contains(&format!("--> {file}:{line}")), "{text}");
    assert!(d.hint.is_some(), "no hint: {text}");
    d
}

#[test]
fn taguette_highlights_merge_rows_of_one_highlight() {
    let file = fixture("taguette-highlights.csv");
    let mut cols = columns("content", "participant", "site", "group", &["tag"]);
    cols.id = Some("id".into());
    let inc = ok(&options(&file, cols));

    assert_eq!(inc.title, None);
    assert!(inc.skipped.is_empty());
    let titles: Vec<&str> = inc.themes.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Peer support",
            "Belonging",
            "Barriers",
            "Stigma/discrimination"
        ],
        "first-seen order; a slash is part of the name"
    );
    for t in &inc.themes {
        assert_eq!(t.key, t.title);
        assert_eq!(
            (t.parent, &t.guid, &t.color, &t.description),
            (None, &None, &None, &None)
        );
    }

    let keys: Vec<&str> = inc.quotes.iter().map(|q| q.key.as_str()).collect();
    assert_eq!(keys, ["1", "2", "3", "4", "5"]);
    let q1 = &inc.quotes[0];
    assert_eq!(q1.text, "I felt someone finally understood me.");
    assert_eq!(
        (q1.participant.as_str(), q1.site.as_str(), q1.group.as_str()),
        ("P01", "Hamburg", "Peer supporters")
    );
    assert_eq!(
        theme_names(&inc, q1),
        ["Peer support", "Belonging"],
        "union, each once"
    );
    assert_eq!((q1.guid.as_deref(), q1.context.as_deref()), (None, None));

    // Quotes, a comma and a line break inside a quoted cell; CRLF records around it.
    let q2 = &inc.quotes[1];
    assert_eq!(
        q2.text,
        "She said: \"we have no bus fare\", so\nwe met at the market."
    );
    assert_eq!(theme_names(&inc, q2), ["Barriers"]);

    let q3 = &inc.quotes[2];
    assert_eq!(q3.text, "Wir haben uns gegenseitig geholfen – ohne Scham.");
    assert_eq!(
        theme_names(&inc, q3),
        ["Stigma/discrimination", "Belonging"]
    );
    assert_eq!(
        inc.quotes[3].text,
        "Tulisaidiana, hata bila pesa. אנחנו ביחד."
    );
}

#[test]
fn qualcoder_codes_with_a_separator_and_a_cases_file() {
    let file = fixture("qualcoder-codings.csv");
    let cases = fixture("qualcoder-cases.csv");
    // `case` and `responder group` match `Case` and `Responder group` ignoring case;
    // the BOM before `Case` is not part of the name.
    let mut cols = columns("Coded text", "case", "Site", "responder group", &["Codes"]);
    cols.context = Some("Context".into());
    let opts = CsvOptions {
        theme_separator: Some(";".into()),
        participants: Some(cases.clone()),
        ..options(&file, cols)
    };
    let inc = ok(&opts);

    let titles: Vec<&str> = inc.themes.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["Peer support", "Belonging", "Barriers", "Hope"]);
    assert_eq!(inc.quotes.len(), 2);

    // Rows 2 and 6 have the same participant and text: one quote.
    let q = &inc.quotes[0];
    assert_eq!(q.key, "P01\u{0}I felt someone finally understood me.");
    assert_eq!(
        (q.site.as_str(), q.group.as_str()),
        ("Hamburg", "Peer supporters")
    );
    assert_eq!(theme_names(&inc, q), ["Peer support", "Belonging", "Hope"]);
    assert_eq!(q.context.as_deref(), Some("Asked about the first meeting"));

    // Empty pieces dropped, pieces trimmed, each once; CRLF inside a cell becomes \n.
    let q = &inc.quotes[1];
    assert_eq!(q.text, "Line one\nline two, with a comma");
    assert_eq!(theme_names(&inc, q), ["Barriers", "Peer support"]);
    assert_eq!(
        (q.site.as_str(), q.group.as_str()),
        ("Kampala", "Service users")
    );
    assert_eq!(q.context, None);

    let cases = shown(&cases);
    let skipped: Vec<(String, String)> = inc
        .skipped
        .iter()
        .map(|s| (s.what.clone(), s.why.clone()))
        .collect();
    assert_eq!(
        skipped,
        [
            (
                "row 5".to_string(),
                format!("participant `P03` has no group in {cases} (line 4)")
            ),
            (
                "row 6".to_string(),
                format!("participant `P04` is not in {cases}")
            ),
            (
                "row 8".to_string(),
                format!("participant `P05` has no site in {cases} (line 5)")
            ),
        ]
    );
}

#[test]
fn repeated_theme_columns_and_several_theme_names() {
    let dir = Dir::new();
    let file = dir.write(
        "repeated.csv",
        "text,who,site,group,Code,Code,Other\n\
         Hello,P1,A,G,Trust,Hope,Trust\n\
         Bye,P2,A,G,,,Fear\n",
    );
    let inc = ok(&options(
        &file,
        columns("text", "who", "site", "group", &["code", "Other"]),
    ));
    let titles: Vec<&str> = inc.themes.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["Trust", "Hope", "Fear"]);
    assert_eq!(theme_names(&inc, &inc.quotes[0]), ["Trust", "Hope"]);
    assert_eq!(theme_names(&inc, &inc.quotes[1]), ["Fear"]);
}

#[test]
fn names_are_flat_and_values_trimmed() {
    let dir = Dir::new();
    let file = dir.write(
        "flat.csv",
        " Text , Participant ,site,group,themes,id\n\
         \"  Padded text.  \",  P1 , A , G ,Care > Family,\n\
         Other text,P1,A,G, Care > Family ,\n\
         ,,,,,\n",
    );
    let mut cols = simple();
    cols.id = Some("id".into());
    let inc = ok(&options(&file, cols));
    assert_eq!(inc.themes.len(), 1);
    assert_eq!(
        (inc.themes[0].key.as_str(), inc.themes[0].parent),
        ("Care > Family", None)
    );
    // An empty id cell falls back to participant and text; an empty row is ignored.
    let keys: Vec<&str> = inc.quotes.iter().map(|q| q.key.as_str()).collect();
    assert_eq!(keys, ["P1\u{0}Padded text.", "P1\u{0}Other text"]);
    assert_eq!(inc.quotes[0].participant, "P1");
    assert_eq!(inc.quotes[0].site, "A");
}

#[test]
fn a_header_only_file_imports_nothing() {
    let dir = Dir::new();
    let file = dir.write("header.csv", "text,participant,site,group,themes\r\n");
    assert_eq!(ok(&options(&file, simple())), Incoming::default());
}

#[test]
fn a_missing_column_lists_the_columns_there_are() {
    let file = fixture("taguette-highlights.csv");
    let cols = columns("content", "Partcipant", "site", "group", &["tags"]);
    let errs = errors(&options(&file, cols));
    assert_eq!(errs.len(), 2, "{}", render(&errs));
    let d = error_at(&errs, &file, 1, "no column `Partcipant`");
    assert!(
        d.message.ends_with(
            "its columns are `id`, `document`, `tag`, `content`, `participant`, `site` and `group`"
        ),
        "{}",
        d.message
    );
    assert!(
        d.message.contains("named for the participant in --columns"),
        "{}",
        d.message
    );
    assert!(
        d.hint
            .as_deref()
            .unwrap()
            .starts_with("did you mean `participant`?"),
        "{d}"
    );
    let d = error_at(&errs, &file, 1, "no column `tags`");
    assert!(
        d.hint.as_deref().unwrap().contains("did you mean `tag`?"),
        "{d}"
    );

    let cols = columns("content", "participant", "site", "group", &["tag"]);
    let opts = CsvOptions {
        columns: Columns {
            id: Some("highlight".into()),
            ..cols
        },
        ..options(&file, simple())
    };
    let errs = errors(&opts);
    let d = error_at(&errs, &file, 1, "no column `highlight`");
    assert!(
        d.hint.as_deref().unwrap().contains("--columns id=COLUMN"),
        "{d}"
    );
}

#[test]
fn a_missing_column_of_the_participants_file() {
    let file = fixture("qualcoder-codings.csv");
    let cases = fixture("qualcoder-cases.csv");
    let opts = CsvOptions {
        participants: Some(cases.clone()),
        ..options(
            &file,
            columns("Coded text", "Case", "Sites", "Responder group", &["Codes"]),
        )
    };
    let errs = errors(&opts);
    assert_eq!(errs.len(), 1, "{}", render(&errs));
    let d = error_at(&errs, &cases, 1, "no column `Sites`");
    assert!(
        d.message.contains("site and group come from this file"),
        "{d}"
    );
    assert!(
        d.message
            .contains("`Case`, `Site`, `Responder group` and `Age`"),
        "{d}"
    );
    assert!(
        d.hint.as_deref().unwrap().contains("did you mean `Site`?"),
        "{d}"
    );
}

#[test]
fn empty_required_values_are_reported_with_their_lines_all_at_once() {
    let dir = Dir::new();
    // Line 2's text spans three lines, so the next row starts on line 5.
    let file = dir.write(
        "gaps.csv",
        "text,participant,site,group,themes\r\n\
         \"one\r\ntwo\r\nthree\",P1,A,G,T\r\n\
         ,P2,A,G,T\r\n\
         Text,  ,A,,T\r\n\
         Text,P3,A,G,\r\n\
         \r\n\
         More,P4,A,G,T\r\n\
         Last,P5,,G,T\r\n",
    );
    let errs = errors(&options(&file, simple()));
    assert_eq!(errs.len(), 4, "{}", render(&errs));
    error_at(&errs, &file, 5, "row 5 has no text (column `text`)");
    error_at(
        &errs,
        &file,
        6,
        "row 6 has no participant (column `participant`) and no group (column `group`)",
    );
    error_at(&errs, &file, 7, "row 7 has no theme in column `themes`");
    error_at(&errs, &file, 10, "row 10 has no site (column `site`)");
    let lines: Vec<u32> = errs.iter().map(|d| d.position.line).collect();
    assert_eq!(lines, [5, 6, 7, 10], "in file order");
}

#[test]
fn a_quote_with_no_theme_in_any_of_its_rows() {
    let dir = Dir::new();
    let file = dir.write(
        "untagged.csv",
        "id,content,participant,site,group,tag\n\
         7,Said this.,P1,A,G,\n\
         8,And this.,P1,A,G,\n\
         7,Said this.,P1,A,G,\n\
         8,And this.,P1,A,G,Hope\n",
    );
    let mut cols = columns("content", "participant", "site", "group", &["tag"]);
    cols.id = Some("id".into());
    let errs = errors(&options(&file, cols));
    assert_eq!(errs.len(), 1, "{}", render(&errs));
    error_at(
        &errs,
        &file,
        2,
        "rows 2 and 4 (one quote) have no theme in column `tag`",
    );
}

#[test]
fn one_id_with_two_texts() {
    let dir = Dir::new();
    let file = dir.write(
        "conflict.csv",
        "id,text,participant,site,group,themes\n\
         12,I took the bus.,P1,A,G,Travel\n\
         13,Fine.,P1,A,G,Travel\n\
         12,I took the train.,P1,A,G,Cost\n\
         13,Fine.,P2,A,G,Cost\n",
    );
    let mut cols = simple();
    cols.id = Some("id".into());
    let errs = errors(&options(&file, cols));
    assert_eq!(errs.len(), 2, "{}", render(&errs));
    error_at(
        &errs,
        &file,
        4,
        "row 4 has the same id `12` as row 2 but a different text",
    );
    error_at(
        &errs,
        &file,
        5,
        "row 5 has the same id `13` as row 3 but a different participant (`P2`, not `P1`)",
    );
}

#[test]
fn same_participant_and_text_with_two_sites() {
    let dir = Dir::new();
    let file = dir.write(
        "sites.csv",
        "text,participant,site,group,themes\nSame.,P1,A,G,T\nSame.,P1,B,G,U\n",
    );
    let errs = errors(&options(&file, simple()));
    let d = error_at(
        &errs,
        &file,
        3,
        "row 3 repeats the participant and text of row 2 but a different site (`B`, not `A`)",
    );
    assert!(
        d.hint.as_deref().unwrap().contains("add an id column"),
        "{d}"
    );
}

#[test]
fn not_utf8_names_the_line_and_says_to_save_as_utf8() {
    let dir = Dir::new();
    let file = dir.write(
        "latin1.csv",
        b"text,participant,site,group,themes\nFine,P1,A,G,T\nM\xfcnchen ist gro\xdf,P2,A,G,T\n",
    );
    let errs = errors(&options(&file, simple()));
    assert_eq!(errs.len(), 1, "{}", render(&errs));
    let d = error_at(&errs, &file, 3, "is not UTF-8: line 3");
    assert_eq!(d.position.column, 2);
    assert!(
        d.hint.as_deref().unwrap().contains("save it as UTF-8"),
        "{d}"
    );

    let file = dir.write("utf16.csv", b"\xff\xfet\x00e\x00x\x00t\x00\n\x00");
    let errs = errors(&options(&file, simple()));
    let d = error_at(&errs, &file, 1, "is UTF-16 text, not UTF-8");
    assert!(
        d.hint.as_deref().unwrap().contains("save it as UTF-8"),
        "{d}"
    );
}

#[test]
fn the_participants_file_must_be_utf8_too() {
    let dir = Dir::new();
    let file = dir.write("main.csv", "text,participant,themes\nHi,P1,T\n");
    let people = dir.write("people.csv", b"key,site,group\nP1,K\xf6ln,G\n");
    let opts = CsvOptions {
        participants: Some(people.clone()),
        ..options(&file, simple())
    };
    let errs = errors(&opts);
    error_at(&errs, &people, 2, "is not UTF-8: line 2");
}

#[test]
fn a_ragged_row_is_reported_and_the_others_still_read() {
    let dir = Dir::new();
    let file = dir.write(
        "ragged.csv",
        "text,participant,site,group,themes\r\n\
         \"a, b\",P1,A,G,T\r\n\
         a, b,P1,A,G,T\r\n\
         Short,P2,A\r\n\
         ,P3,A,G,T\r\n",
    );
    let errs = errors(&options(&file, simple()));
    assert_eq!(errs.len(), 3, "{}", render(&errs));
    let d = error_at(
        &errs,
        &file,
        3,
        "row 3 has 6 cells but the header row (line 1) has 5",
    );
    assert!(d.hint.as_deref().unwrap().contains("double quotes"), "{d}");
    error_at(
        &errs,
        &file,
        4,
        "row 4 has 3 cells but the header row (line 1) has 5",
    );
    error_at(&errs, &file, 5, "row 5 has no text");
}

#[test]
fn an_unclosed_quote_names_the_line_where_it_opens() {
    let dir = Dir::new();
    let file = dir.write(
        "unclosed.csv",
        "text,participant,site,group,themes\nFine,P1,A,G,T\n\"Oops,P2,A,G,T\nMore,P3,A,G,T\n",
    );
    let errs = errors(&options(&file, simple()));
    let d = error_at(
        &errs,
        &file,
        3,
        "a quoted cell opens on line 3 and is never closed",
    );
    assert!(
        d.hint.as_deref().unwrap().contains("close the quote"),
        "{d}"
    );
}

#[test]
fn an_empty_file() {
    let dir = Dir::new();
    let file = dir.write("empty.csv", "\u{feff}\r\n\r\n");
    let errs = errors(&options(&file, simple()));
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].message, format!("{} is empty", shown(&file)));
    assert!(errs[0].hint.as_deref().unwrap().contains("header row"));
}

#[test]
fn a_missing_file() {
    let dir = Dir::new();
    let file = dir.0.path().join("nope.csv");
    let errs = errors(&options(&file, simple()));
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0]
            .message
            .starts_with(&format!("cannot read {}", shown(&file))),
        "{}",
        errs[0]
    );
}

#[test]
fn a_semicolon_separated_file_says_to_save_with_commas() {
    let dir = Dir::new();
    let file = dir.write(
        "excel.csv",
        "text;participant;site;group;themes\nHi;P1;A;G;T\n",
    );
    let errs = errors(&options(&file, simple()));
    assert_eq!(
        errs.len(),
        1,
        "one error, not one per column: {}",
        render(&errs)
    );
    let d = error_at(
        &errs,
        &file,
        1,
        "separates its columns with `;`, not commas",
    );
    assert!(
        d.hint.as_deref().unwrap().contains("comma-separated"),
        "{d}"
    );
}

#[test]
fn a_column_name_that_two_columns_share() {
    let dir = Dir::new();
    let file = dir.write(
        "twice.csv",
        "text,participant,site,group,themes,Text\nA,P1,A,G,T,B\n",
    );
    let cols = columns("TEXT", "participant", "site", "group", &["themes"]);
    let errs = errors(&options(&file, cols));
    error_at(
        &errs,
        &file,
        1,
        "has 2 columns named `TEXT` (columns 1 and 6)",
    );
    // Spelt exactly, the name picks its one column.
    let cols = columns("Text", "participant", "site", "group", &["themes"]);
    assert_eq!(ok(&options(&file, cols)).quotes[0].text, "B");
}

#[test]
fn a_participant_listed_twice_with_different_sites() {
    let dir = Dir::new();
    let file = dir.write("main.csv", "text,participant,themes\nHi,P1,T\n");
    let people = dir.write("people.csv", "key,site,group\nP1,A,G\nP2,B,G\nP1,B,G\n");
    let opts = CsvOptions {
        participants: Some(people.clone()),
        ..options(&file, simple())
    };
    let errs = errors(&opts);
    error_at(
        &errs,
        &people,
        4,
        "participant `P1` is listed again on line 4 (first on line 2)",
    );
}

#[test]
fn columns_must_name_every_required_field() {
    let file = fixture("taguette-highlights.csv");
    let errs = errors(&options(
        &file,
        columns("content", "", "site", "group", &[]),
    ));
    let messages: Vec<&str> = errs.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "--columns does not say which column holds the participant",
            "--columns does not say which column holds the themes",
        ]
    );
    assert!(
        errs.iter()
            .all(|d| d.file == shown(&file) && d.hint.is_some())
    );
}

#[test]
fn never_panics_on_odd_input() {
    let dir = Dir::new();
    let huge = format!(
        "text,participant,site,group,themes\n\"{}\",P1,A,G,T\n",
        "x\"\"y\n".repeat(400_000)
    );
    let inputs: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\xef\xbb\xbf".to_vec(),
        b"\n\n\r\r\n".to_vec(),
        b"\"".to_vec(),
        b"text,participant,site,group,themes".to_vec(),
        b"text,participant,site,group,themes\n\"".to_vec(),
        b"text,participant,site,group,themes\nx\"y,\"\"\"\",a\"\",b,c\n".to_vec(),
        b"text,participant,site,group,themes\n,,,,\n\"\",\"\",\"\",\"\",\"\"\n".to_vec(),
        b"\x00\x01\x02,\xff\n".to_vec(),
        b"\r\r\rtext,participant,site,group,themes\r1,2,3,4,5\r".to_vec(),
        huge.into_bytes(),
    ];
    for (i, bytes) in inputs.iter().enumerate() {
        let file = dir.write(&format!("odd-{i}.csv"), bytes);
        let _ = read(&options(&file, simple()));
        let opts = CsvOptions {
            theme_separator: Some(";".into()),
            participants: Some(file.clone()),
            ..options(&file, simple())
        };
        let _ = read(&opts);
    }
    // The huge cell reads whole.
    let file = dir.0.path().join(format!("odd-{}.csv", inputs.len() - 1));
    let inc = ok(&options(&file, simple()));
    assert_eq!(inc.quotes[0].text.len(), 400_000 * 4 - 1);
}
