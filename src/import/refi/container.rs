//! Where a REFI-QDA project's files come from: a `.qdpx` zip read in memory, or
//! the folder of a bare `.qde`.
//!
//! Zip entries are never extracted: names that are absolute or climb out with
//! `..` are refused, and what is inflated is capped per entry and in all.

use std::fs;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use zip::ZipArchive;

use crate::diagnostics::{Diagnostic, Position};

use super::xml::line_col;

/// Caps on what a run reads (inflated bytes).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// All entries (and files) together.
    pub total: u64,
    /// Any one entry or file.
    pub entry: u64,
}

impl Limits {
    /// 512 MiB in all, 256 MiB per file.
    pub const DEFAULT: Limits = Limits {
        total: 512 << 20,
        entry: 256 << 20,
    };
}

/// The file a run reads, and where its sources are.
pub(crate) struct Container {
    /// The file as the user named it.
    pub display: String,
    inner: Inner,
    used: u64,
    limits: Limits,
}

enum Inner {
    Zip {
        archive: Box<ZipArchive<Cursor<Vec<u8>>>>,
        /// Entry names, by index (`None`: unsafe, never read).
        names: Vec<Option<String>>,
        /// The folder of the `.qde` inside the zip (`""` or `dir/`).
        base: String,
    },
    Folder(PathBuf),
}

/// The project or codebook document itself.
pub(crate) struct Document {
    /// For diagnostics: `x.qde`, or `x.qdpx/project.qde`.
    pub file: String,
    /// Its text, BOM stripped.
    pub text: String,
    /// Whether it came from a zip.
    pub zipped: bool,
}

/// A source's plain text, or where it was looked for.
pub(crate) enum SourceText {
    Found {
        /// For diagnostics.
        file: String,
        text: String,
    },
    Missing {
        /// Where it was looked for, for the report.
        looked_for: Vec<String>,
    },
}

const ZIP_MAGIC: [&[u8]; 3] = [b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"];

/// A size for messages: MiB when whole, else bytes.
fn size(n: u64) -> String {
    if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// Opens `path`: a zip (by its first bytes, whatever the extension) or a bare
/// XML file.
pub(crate) fn open(path: &Path, limits: Limits) -> Result<(Container, Document), Vec<Diagnostic>> {
    let display = path.display().to_string();
    let whole = Position::default();
    let meta = fs::metadata(path).map_err(|e| {
        vec![
            Diagnostic::error(&display, whole, format!("cannot read the file: {e}"))
                .with_hint("check the path given to `thematic import refi-qda`"),
        ]
    })?;
    if meta.is_dir() {
        return Err(vec![
            Diagnostic::error(&display, whole, "is a folder, not a REFI-QDA file").with_hint(
                "give the .qdpx project, the .qde project file or the .qdc codebook itself",
            ),
        ]);
    }
    if meta.len() > limits.total {
        return Err(vec![
            Diagnostic::error(
                &display,
                whole,
                format!(
                    "the file is larger than {}, the most thematic reads",
                    size(limits.total)
                ),
            )
            .with_hint("export a smaller project, or the codebook alone (.qdc)"),
        ]);
    }
    let bytes = fs::read(path).map_err(|e| {
        vec![Diagnostic::error(
            &display,
            whole,
            format!("cannot read the file: {e}"),
        )]
    })?;
    let zipped = ZIP_MAGIC.iter().any(|m| bytes.starts_with(m));
    if zipped {
        open_zip(display, bytes, limits)
    } else {
        let text = decode(&bytes, &display, "file").map_err(|d| vec![d])?;
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let container = Container {
            display: display.clone(),
            inner: Inner::Folder(dir),
            used: bytes.len() as u64,
            limits,
        };
        Ok((
            container,
            Document {
                file: display,
                text,
                zipped: false,
            },
        ))
    }
}

fn open_zip(
    display: String,
    bytes: Vec<u8>,
    limits: Limits,
) -> Result<(Container, Document), Vec<Diagnostic>> {
    let whole = Position::default();
    let archive = ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        vec![
            Diagnostic::error(
                &display,
                whole,
                format!("not a readable zip archive ({e})"),
            )
            .with_hint(
                "a .qdpx project is a zip archive; the file may be damaged or cut short: export it again from the QDA tool",
            ),
        ]
    })?;
    let mut errors = Vec::new();
    let mut names = Vec::with_capacity(archive.len());
    let mut seen = std::collections::HashSet::new();
    for i in 0..archive.len() {
        let name = archive.name_for_index(i).unwrap_or_default().to_string();
        if unsafe_name(&name) {
            errors.push(
                Diagnostic::error(
                    &display,
                    whole,
                    format!(
                        "the zip entry `{name}` has an unsafe name (absolute, or climbing out with `..`)"
                    ),
                )
                .with_hint("thematic never reads such entries: export the project again from the QDA tool"),
            );
            names.push(None);
        } else if !seen.insert(name.clone()) {
            errors.push(
                Diagnostic::error(
                    &display,
                    whole,
                    format!("the zip holds two entries named `{name}`"),
                )
                .with_hint("export the project again from the QDA tool"),
            );
            names.push(None);
        } else {
            names.push(Some(name));
        }
    }
    let qdes: Vec<(usize, &String)> = names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.as_ref().map(|n| (i, n)))
        .filter(|(_, n)| n.to_ascii_lowercase().ends_with(".qde"))
        .collect();
    let qde = match qdes.as_slice() {
        [one] => Some((one.0, one.1.clone())),
        [] => {
            let listed: Vec<&str> = names
                .iter()
                .flatten()
                .map(String::as_str)
                .take(10)
                .collect();
            errors.push(
                Diagnostic::error(
                    &display,
                    whole,
                    format!(
                        "no .qde project file in the zip (it holds {})",
                        if listed.is_empty() {
                            "nothing".to_string()
                        } else {
                            listed.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                        }
                    ),
                )
                .with_hint(
                    "a REFI-QDA project (.qdpx) holds one project.qde beside its sources/ folder: export the project from the QDA tool as a REFI-QDA project",
                ),
            );
            None
        }
        many => {
            let listed: Vec<String> = many.iter().map(|(_, n)| format!("`{n}`")).collect();
            errors.push(
                Diagnostic::error(
                    &display,
                    whole,
                    format!(
                        "the zip holds {} .qde project files ({}); thematic reads one",
                        many.len(),
                        listed.join(", ")
                    ),
                )
                .with_hint("export one project per .qdpx file"),
            );
            None
        }
    };
    let Some((index, qde_name)) = qde else {
        return Err(errors);
    };
    let base = match qde_name.rfind('/') {
        Some(i) => qde_name[..=i].to_string(),
        None => String::new(),
    };
    let mut container = Container {
        display: display.clone(),
        inner: Inner::Zip {
            archive: Box::new(archive),
            names,
            base,
        },
        used: 0,
        limits,
    };
    let file = format!("{display}/{qde_name}");
    let text = container
        .read_entry(index)
        .and_then(|bytes| decode(&bytes, &file, "project file"));
    match text {
        Ok(text) if errors.is_empty() => Ok((
            container,
            Document {
                file,
                text,
                zipped: true,
            },
        )),
        Ok(_) => Err(errors),
        Err(d) => {
            errors.push(d);
            Err(errors)
        }
    }
}

/// Absolute names, drive letters, `..` components and NULs.
fn unsafe_name(name: &str) -> bool {
    let n = name.replace('\\', "/");
    n.starts_with('/')
        || n.as_bytes().get(1) == Some(&b':')
        || n.split('/').any(|c| c == "..")
        || n.contains('\0')
}

/// Decodes a file as UTF-8 (a BOM is dropped); `what` names it in messages.
pub(crate) fn decode(bytes: &[u8], file: &str, what: &str) -> Result<String, Diagnostic> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(Diagnostic::error(
            file,
            Position::default(),
            format!("the {what} is UTF-16; REFI-QDA files are UTF-8"),
        )
        .with_hint("save it as UTF-8 (or export again from the QDA tool)"));
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => {
            let good = e.valid_up_to();
            let prefix = std::str::from_utf8(&bytes[..good]).unwrap_or_default();
            let (line, column) = line_col(prefix, good);
            Err(Diagnostic::error(
                file,
                Position::at(line, column),
                format!("the {what} is not valid UTF-8 (byte {good})"),
            )
            .with_hint(
                "REFI-QDA text is UTF-8: save it as UTF-8, or export again from the QDA tool",
            ))
        }
    }
}

/// Where a `plainTextPath` may be, relative to the project's folder: `internal://x`,
/// bare `x`, `sources/x`, and (for external sources) the file name alone.
fn candidates(path: &str) -> Vec<String> {
    let lower = path.to_ascii_lowercase();
    let rest = ["internal://", "relative://", "absolute://", "file://"]
        .iter()
        .find(|s| lower.starts_with(*s))
        .map_or(path, |s| &path[s.len()..]);
    let rest = rest.replace('\\', "/");
    let rest = rest.trim_start_matches("./");
    let file_name = rest.rsplit('/').next().unwrap_or(rest);
    let mut out: Vec<String> = Vec::new();
    let mut add = |c: String| {
        if !c.is_empty() && !c.ends_with('/') && !unsafe_name(&c) && !out.contains(&c) {
            out.push(c);
        }
    };
    add(format!("sources/{rest}"));
    add(format!("Sources/{rest}"));
    add(rest.to_string());
    add(format!("sources/{file_name}"));
    add(format!("Sources/{file_name}"));
    add(file_name.to_string());
    out
}

impl Container {
    /// Reads one zip entry, within the caps.
    fn read_entry(&mut self, index: usize) -> Result<Vec<u8>, Diagnostic> {
        let remaining = self.limits.total.saturating_sub(self.used);
        let cap = self.limits.entry.min(remaining);
        let display = self.display.clone();
        let limits = self.limits;
        let Inner::Zip { archive, names, .. } = &mut self.inner else {
            return Err(Diagnostic::error(
                &display,
                Position::default(),
                "not a zip",
            ));
        };
        let name = names
            .get(index)
            .cloned()
            .flatten()
            .unwrap_or_else(|| format!("#{index}"));
        let file = format!("{display}/{name}");
        let too_big = |in_all: bool| {
            let message = if in_all {
                format!(
                    "the zip inflates to more than {} in all, the most thematic reads",
                    size(limits.total)
                )
            } else {
                format!(
                    "the entry inflates to more than {}, the most thematic reads for one file",
                    size(limits.entry)
                )
            };
            Diagnostic::error(&file, Position::default(), message)
                .with_hint("split the project, or check that the file is a genuine REFI-QDA export")
        };
        let mut entry = archive.by_index(index).map_err(|e| {
            Diagnostic::error(
                &file,
                Position::default(),
                format!("cannot read it from the zip: {e}"),
            )
            .with_hint("the .qdpx may be damaged or encrypted: export it again from the QDA tool")
        })?;
        if entry.size() > cap {
            return Err(too_big(cap < limits.entry));
        }
        let mut bytes = Vec::new();
        (&mut entry)
            .take(cap + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| {
                Diagnostic::error(
                    &file,
                    Position::default(),
                    format!("cannot inflate it: {e}"),
                )
                .with_hint("the .qdpx may be damaged: export it again from the QDA tool")
            })?;
        if bytes.len() as u64 > cap {
            return Err(too_big(cap < limits.entry));
        }
        self.used += bytes.len() as u64;
        Ok(bytes)
    }

    /// Finds and reads a source's plain text from its `plainTextPath`.
    pub fn source(&mut self, path: &str) -> Result<SourceText, Diagnostic> {
        let candidates = candidates(path);
        match &self.inner {
            Inner::Zip { names, base, .. } => {
                let wanted: Vec<String> = candidates.iter().map(|c| format!("{base}{c}")).collect();
                let find = |exact: bool| {
                    wanted.iter().find_map(|w| {
                        names.iter().position(|n| match n {
                            Some(n) if exact => n == w,
                            Some(n) => n.eq_ignore_ascii_case(w),
                            None => false,
                        })
                    })
                };
                let Some(index) = find(true).or_else(|| find(false)) else {
                    return Ok(SourceText::Missing { looked_for: wanted });
                };
                let name = names[index].clone().unwrap_or_default();
                let file = format!("{}/{name}", self.display);
                let bytes = self.read_entry(index)?;
                let text = decode(&bytes, &file, "source text")?;
                Ok(SourceText::Found { file, text })
            }
            Inner::Folder(dir) => {
                let dir = dir.clone();
                let Some(found) = candidates.iter().map(|c| dir.join(c)).find(|p| p.is_file())
                else {
                    return Ok(SourceText::Missing {
                        looked_for: candidates
                            .iter()
                            .map(|c| dir.join(c).display().to_string())
                            .collect(),
                    });
                };
                let file = found.display().to_string();
                let bytes = self.read_file(&found, &file)?;
                let text = decode(&bytes, &file, "source text")?;
                Ok(SourceText::Found { file, text })
            }
        }
    }

    fn read_file(&mut self, path: &Path, file: &str) -> Result<Vec<u8>, Diagnostic> {
        let remaining = self.limits.total.saturating_sub(self.used);
        let cap = self.limits.entry.min(remaining);
        let fail = |e: std::io::Error| {
            Diagnostic::error(
                file,
                Position::default(),
                format!("cannot read the source: {e}"),
            )
        };
        let f = fs::File::open(path).map_err(fail)?;
        let mut bytes = Vec::new();
        f.take(cap + 1).read_to_end(&mut bytes).map_err(fail)?;
        if bytes.len() as u64 > cap {
            return Err(Diagnostic::error(
                file,
                Position::default(),
                format!(
                    "the sources are larger than {} (or this one than {}), the most thematic reads",
                    size(self.limits.total),
                    size(self.limits.entry)
                ),
            ));
        }
        self.used += bytes.len() as u64;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_names() {
        for bad in [
            "/etc/passwd",
            "../x",
            "sources/../../x",
            "C:\\x",
            "a\\..\\b",
            "\\x",
        ] {
            assert!(unsafe_name(bad), "{bad}");
        }
        for good in ["project.qde", "sources/x.txt", "a..b/c", "sources/.root"] {
            assert!(!unsafe_name(good), "{good}");
        }
    }

    #[test]
    fn source_candidates() {
        let c = candidates("internal://ABC.txt");
        assert_eq!(c[0], "sources/ABC.txt");
        assert!(c.contains(&"ABC.txt".to_string()));
        let c = candidates("board_2017.txt");
        assert!(c.contains(&"sources/board_2017.txt".to_string()));
        let c = candidates("absolute://C:\\Users\\me\\a.txt");
        assert!(c.contains(&"sources/a.txt".to_string()));
        assert!(c.iter().all(|c| !unsafe_name(c)), "{c:?}");
        let c = candidates("relative://../x.txt");
        assert!(c.iter().all(|c| !unsafe_name(c)), "{c:?}");
        assert!(c.contains(&"x.txt".to_string()));
    }

    #[test]
    fn decoding() {
        assert_eq!(decode(b"\xEF\xBB\xBFhi", "f", "file").unwrap(), "hi");
        let e = decode(b"ok\nab\xFFc", "f", "file").unwrap_err();
        assert_eq!(e.position, Position::at(2, 3));
        assert!(e.message.contains("byte 5"), "{}", e.message);
        assert!(
            decode(b"\xFF\xFEh\0", "f", "file")
                .unwrap_err()
                .message
                .contains("UTF-16")
        );
    }
}
