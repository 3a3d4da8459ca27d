//! The whole pipeline, load -> model -> render -> output, as `build` and `check` run it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::diagnostics::{Diagnostic, Diagnostics, Position};
use crate::model::{ModelOptions, Study};
use crate::render::{self, Rendered};
use crate::{load, model, output, privacy, search};

/// What to build and where.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The study folder (holding `content/`).
    pub study_dir: PathBuf,
    /// Output folder; `STUDY_DIR/output` when `None`.
    pub output: Option<PathBuf>,
    /// Include drafts, marked as such.
    pub drafts: bool,
}

impl BuildOptions {
    /// The output folder this build writes to.
    pub fn output_dir(&self) -> PathBuf {
        self.output
            .clone()
            .unwrap_or_else(|| self.study_dir.join("output"))
    }
}

/// What a successful run produced.
#[derive(Debug, Clone)]
pub struct Summary {
    /// HTML pages rendered.
    pub pages: usize,
    /// Files written (pages and static files).
    pub files: usize,
    /// Bytes of all files.
    pub bytes: u64,
    /// Top-level themes.
    pub themes: usize,
    /// Themes below the top level.
    pub subthemes: usize,
    /// Sites.
    pub sites: usize,
    /// Groups.
    pub groups: usize,
    /// Findings pages.
    pub findings: usize,
    /// Published quotes.
    pub quotes: usize,
    /// Draft quotes left out.
    pub draft_quotes_left_out: usize,
    /// Quotes withheld because their participant withdrew.
    pub withdrawn_quotes: usize,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl Summary {
    fn new(study: &Study, rendered: &Rendered, started: Instant) -> Self {
        Summary {
            pages: rendered.pages,
            files: rendered.files.len(),
            bytes: rendered.files.iter().map(|f| f.bytes.len() as u64).sum(),
            themes: study.themes.len() - study.subtheme_count(),
            subthemes: study.subtheme_count(),
            sites: study.sites.len(),
            groups: study.groups.len(),
            findings: study.findings.len(),
            quotes: study.quotes.len(),
            draft_quotes_left_out: study.draft_quotes_left_out,
            withdrawn_quotes: study.withdrawn_quotes,
            elapsed: started.elapsed(),
        }
    }

    /// "4 themes (12 subthemes), 6 sites, 2 groups, 96 quotes"
    pub fn counts(&self) -> String {
        let mut s = format!(
            "{} ({}), {}, {}, {}",
            plural(self.themes, "theme"),
            plural(self.subthemes, "subtheme"),
            plural(self.sites, "site"),
            plural(self.groups, "group"),
            plural(self.quotes, "quote"),
        );
        if self.withdrawn_quotes > 0 {
            s.push_str(&format!(
                " ({} withheld: withdrawn participants)",
                self.withdrawn_quotes
            ));
        }
        if self.draft_quotes_left_out > 0 {
            s.push_str(&format!(
                " ({} left out as drafts)",
                self.draft_quotes_left_out
            ));
        }
        s
    }
}

/// "1 quote", "2 quotes".
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The result of a run: every diagnostic, and a summary when it succeeded.
#[derive(Debug)]
pub struct Outcome {
    /// Errors and warnings, sorted by file and line.
    pub diagnostics: Vec<Diagnostic>,
    /// Present when the run succeeded.
    pub summary: Option<Summary>,
    /// What the privacy guard did (when the study could be read).
    pub privacy: Option<privacy::Report>,
}

/// A study rendered again and again as it is edited: each run re-parses only the
/// files whose text changed and re-renders only the pages whose inputs changed.
/// `build` and `check` make one run; `serve` keeps a session between edits.
pub struct Session {
    study_dir: PathBuf,
    drafts: bool,
    load_cache: load::LoadCache,
    renderer: render::Renderer,
    /// Hash of the site theme's templates the renderer's cache was filled with.
    templates: Option<u64>,
    /// What the privacy guard did in the last run.
    privacy_report: Option<privacy::Report>,
    /// The privacy guard's findings in quotes, by file.
    privacy_cache: privacy::Cache,
    /// The site theme of the last run, reused while its files are unchanged.
    site_theme: Option<CachedTheme>,
}

impl Session {
    /// Frees the session's caches on every core: `build` has no next run to keep
    /// them for (see [`render::Renderer::release`]).
    pub fn release(self) {
        let Session {
            load_cache,
            renderer,
            privacy_cache,
            ..
        } = self;
        rayon::join(
            || renderer.release(),
            || rayon::join(|| drop(load_cache), || drop(privacy_cache)),
        );
    }
}

/// A loaded site theme and what it was loaded from, so that an edit of a quote
/// does not parse every template again (a few milliseconds with the built-in
/// theme, more with a large site theme of its own).
struct CachedTheme {
    /// The theme's name (study.yaml's `site_theme`) and every file under
    /// `themes/NAME/` with its size and modification time.
    key: (String, Vec<FileStamp>),
    theme: render::SiteTheme,
    /// Its templates' hash ([`render::SiteTheme::templates_hash`]).
    templates: u64,
}

impl CachedTheme {
    /// The site theme of `study`, from `cache` unless its name or one of its files
    /// changed since it was loaded; with its templates' hash.
    fn get<'a>(
        cache: &'a mut Option<CachedTheme>,
        study_dir: &Path,
        study: &Study,
    ) -> Result<(&'a mut render::SiteTheme, u64), Vec<Diagnostic>> {
        let name = &study.meta.site_theme;
        let key = (name.clone(), theme_stamps(study_dir, name));
        if cache.as_ref().is_none_or(|c| c.key != key) {
            // Dropped first: a theme that fails to load must not be served from the cache.
            *cache = None;
            let theme = render::load_site_theme(study_dir, study)?;
            let templates = theme.templates_hash();
            *cache = Some(CachedTheme {
                key,
                theme,
                templates,
            });
        }
        let cached = cache.as_mut().expect("loaded above");
        Ok((&mut cached.theme, cached.templates))
    }
}

/// A file's path, size and modification time.
type FileStamp = (PathBuf, u64, Option<std::time::SystemTime>);

/// What the site theme `name` of the study in `study_dir` is loaded from: every
/// file under `themes/NAME/` (none when there is no such folder), in path order,
/// with its size and modification time.
fn theme_stamps(study_dir: &Path, name: &str) -> Vec<FileStamp> {
    let dir = study_dir.join("themes").join(name);
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .flatten()
        .map(|e| {
            let meta = e.metadata().ok();
            let len = meta.as_ref().map_or(0, |m| m.len());
            let modified = meta.and_then(|m| m.modified().ok());
            (e.into_path(), len, modified)
        })
        .collect()
}

impl Session {
    /// A session for the study in `study_dir`.
    pub fn new(study_dir: &Path, drafts: bool) -> Self {
        Session {
            study_dir: study_dir.to_path_buf(),
            drafts,
            load_cache: load::LoadCache::default(),
            renderer: render::Renderer::new(),
            templates: None,
            privacy_report: None,
            privacy_cache: privacy::Cache::default(),
            site_theme: None,
        }
    }

    /// What the privacy guard found in the last run.
    pub fn privacy_report(&self) -> Option<&privacy::Report> {
        self.privacy_report.as_ref()
    }

    /// Makes the next run read these files again even if they look unchanged.
    pub fn mark_dirty(&mut self, paths: impl IntoIterator<Item = PathBuf>) {
        let paths: Vec<PathBuf> = paths.into_iter().collect();
        // A coarse clock can hide a template edit from the stamps: load it again.
        let themes = self.study_dir.join("themes");
        if paths.iter().any(|p| p.starts_with(&themes)) {
            self.site_theme = None;
        }
        self.load_cache.mark_dirty(paths);
    }

    /// Loads, validates and renders the study; never writes.
    /// Returns the study and rendered site when there were no errors.
    /// Diagnostics never quote a denylisted identifier (see `privacy::Scrubber`).
    pub fn run(&mut self, diags: &mut Diagnostics) -> Option<(Study, Rendered)> {
        self.run_into(diags, None)
    }

    /// Like [`Session::run`], with each page sent to `sink` as it is rendered
    /// instead of being kept (see [`render::Renderer::render_into`]).
    pub fn run_into(
        &mut self,
        diags: &mut Diagnostics,
        sink: Option<&dyn render::PageSink>,
    ) -> Option<(Study, Rendered)> {
        let mut scrubber = None;
        let result = self.run_unscrubbed(diags, &mut scrubber, sink);
        let t = Instant::now();
        match scrubber {
            Some(s) => diags.for_each_mut(|d| s.scrub(d)),
            None => diags.for_each_mut(privacy::scrub_policy_file),
        }
        timing("scrub", t);
        result
    }

    fn run_unscrubbed(
        &mut self,
        diags: &mut Diagnostics,
        scrubber: &mut Option<privacy::Scrubber>,
        sink: Option<&dyn render::PageSink>,
    ) -> Option<(Study, Rendered)> {
        let t = Instant::now();
        let (sources, load_diags) = load::load_study_cached(&self.study_dir, &mut self.load_cache);
        timing("load", t);
        diags.extend(load_diags.iter().cloned());
        if sources.map.is_empty() {
            // No study here (no content/study.yaml): nothing to check, and no
            // privacy report, only the error that says so.
            self.privacy_report = None;
            return None;
        }
        let t = Instant::now();
        let study = model::build_study(
            sources,
            ModelOptions {
                drafts: self.drafts,
            },
            diags,
        );
        timing("model", t);
        *scrubber = Some(privacy::Scrubber::new(&study));
        let t = Instant::now();
        let theme = CachedTheme::get(&mut self.site_theme, &self.study_dir, &study);
        timing("site theme", t);
        let (theme, templates) = match theme {
            Ok(t) => t,
            Err(errors) => {
                let (privacy_diags, report) =
                    privacy::check_cached(&study, &mut self.privacy_cache);
                diags.extend(privacy_diags);
                self.privacy_report = Some(report);
                diags.extend(errors);
                return None;
            }
        };
        if self.templates != Some(templates) {
            // Cached quote HTML came from other templates.
            self.renderer = render::Renderer::new();
            self.templates = Some(templates);
        }
        let t = Instant::now();
        let guard = &mut self.privacy_cache;
        let renderer = &mut self.renderer;
        let ((privacy_diags, report), rendered) = match sink {
            // Nothing is written: the guard runs beside the renderer, and its
            // errors stop the run below all the same.
            None => rayon::join(
                || privacy::check_cached(&study, guard),
                || renderer.render_into(&study, theme, None),
            ),
            Some(sink) => {
                let (privacy_diags, report) = privacy::check_cached(&study, guard);
                // A run that already has errors renders only to find more: nothing to write.
                let clean = !diags.has_errors() && !privacy_diags.iter().any(Diagnostic::is_error);
                let rendered = renderer.render_into(&study, theme, clean.then_some(sink));
                ((privacy_diags, report), rendered)
            }
        };
        diags.extend(privacy_diags);
        self.privacy_report = Some(report);
        timing("privacy and render", t);
        diags.extend(rendered.diagnostics.iter().cloned());
        if diags.has_errors() {
            // The next run must compare against what was last shown, not this failed attempt.
            self.renderer.forget_pages();
            return None;
        }
        Some((study, rendered))
    }
}

/// Loads, validates and renders the study once; stops before writing.
pub fn render_study(
    study_dir: &Path,
    drafts: bool,
    diags: &mut Diagnostics,
) -> Option<(Study, Rendered)> {
    let (study, mut rendered) = Session::new(study_dir, drafts).run(diags)?;
    let downloads = Downloads::default().files(&study, &rendered.homes);
    rendered
        .changed
        .extend(downloads.iter().map(|f| f.path.clone()));
    rendered.files.extend(downloads);
    rendered.files.sort_by(|a, b| a.path.cmp(&b.path));
    Some((study, rendered))
}

/// The files readers download rather than open as pages: the open data in `data/`
/// and the search index in `search/`. No page loads them while it renders, so
/// `serve` builds them after the pages (see [`Downloads::is_download`]); `build`
/// makes and writes them beside the pages, without this cache
/// (`PagesToStaging::write_downloads`).
#[derive(Default)]
pub struct Downloads {
    index: search::IndexCache,
}

impl Downloads {
    /// The data files and the search index of `study`; the index is reused when no
    /// searchable text changed since the last call.
    /// `homes` are the quotes' links ([`render::Rendered::homes`]).
    pub fn files(&mut self, study: &Study, homes: &[String]) -> Vec<render::OutputFile> {
        let mut files = render::data_files(study, homes);
        let t = Instant::now();
        files.extend(self.index.files(study, homes).0);
        timing("search index", t);
        files
    }

    /// True for a path that [`Downloads::files`] makes (the data page and the search
    /// page are pages, rendered with the others).
    pub fn is_download(path: &str) -> bool {
        (path.starts_with("search/") || path.starts_with("data/")) && !path.ends_with(".html")
    }
}

/// A byte count as people read it: `812 bytes`, `14.2 kB`, `3.1 MB`, `1.2 GB`.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1_000 => format!("{b} bytes"),
        b if b < 1_000_000 => format!("{:.1} kB", b as f64 / 1e3),
        b if b < 1_000_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b => format!("{:.2} GB", b as f64 / 1e9),
    }
}

/// With `THEMATIC_TIMINGS` set, prints how long a stage took (for profiling).
pub fn timing(stage: &str, since: Instant) {
    if std::env::var_os("THEMATIC_TIMINGS").is_some() {
        eprintln!(
            "timing: {stage} {:.1} ms (process CPU so far {})",
            since.elapsed().as_secs_f64() * 1000.0,
            process_cpu().map_or_else(|| "unknown".to_string(), |s| format!("{s:.2} s")),
        );
    }
}

/// User and system CPU seconds of this process so far, from `/proc` (Linux), to
/// tell from [`timing`] lines how well a stage keeps the cores busy.
fn process_cpu() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    let user: f64 = fields.nth(11)?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    // Clock ticks: 100 a second on every Linux configuration we run on.
    Some((user + system) / 100.0)
}

/// Pages written into the staging folder as the renderer makes them, counted on
/// the progress bar.
struct PagesToStaging<'a> {
    staging: &'a output::Staging,
    progress: &'a crate::progress::Progress,
    /// Whether the data files and the search index were written beside the
    /// pages, and the first error if they were not.
    downloads: std::sync::Mutex<Option<Result<(), output::OutputError>>>,
}

impl PagesToStaging<'_> {
    fn write_all(&self, files: &[render::OutputFile]) -> Result<(), output::OutputError> {
        self.staging.write_all(files)?;
        self.progress.wrote(files.len());
        Ok(())
    }

    /// Writes the data files, then the search index. They are not counted on the
    /// progress bar, which counts pages.
    fn write_downloads(&self, study: &Study, homes: &[String]) -> Result<(), output::OutputError> {
        use rayon::prelude::*;
        let data = render::data_files_in_pieces(study, homes);
        data.par_iter()
            .try_for_each(|f| self.staging.write_pieces(&f.path, &f.pieces))?;
        drop(data);
        let t = Instant::now();
        // Made once, so without `Downloads`'s cache (and the hash of its inputs
        // that would tell a next run whether to make it again).
        let index = search::index_files(study, homes);
        timing("search index", t);
        self.staging.write_all(&index)
    }
}

impl render::PageSink for PagesToStaging<'_> {
    fn expect(&self, pages: usize) {
        self.progress.counted_stage("Writing pages", pages);
    }

    fn page(&self, path: &str, bytes: &[u8]) -> Result<(), String> {
        self.staging.write(path, bytes).map_err(|e| e.to_string())?;
        self.progress.wrote(1);
        Ok(())
    }

    fn beside_pages(&self, study: &Study, homes: &[String]) {
        let written = self.write_downloads(study, homes);
        if let Ok(mut downloads) = self.downloads.lock() {
            *downloads = Some(written);
        }
    }
}

/// `thematic build`: everything, written into a staging folder as it is made
/// (pages as they are rendered), which replaces the output only when all is well.
pub fn build(opts: &BuildOptions) -> Outcome {
    let started = Instant::now();
    let mut diags = Diagnostics::new();
    let failed = |mut diags: Diagnostics, error: Option<Diagnostic>| {
        diags.extend(error);
        Outcome {
            diagnostics: diags.sorted(),
            summary: None,
            privacy: None,
        }
    };
    let out = opts.output_dir();
    let io_error = |e: output::OutputError| {
        Diagnostic::error(
            out.display().to_string(),
            Position::default(),
            e.to_string(),
        )
    };
    let staging = match output::Staging::create(&out, &opts.study_dir) {
        Ok(s) => s,
        Err(e) => return failed(diags, Some(io_error(e))),
    };
    let progress = crate::progress::Progress::start();
    progress.stage("Reading the study");
    let sink = PagesToStaging {
        staging: &staging,
        progress: &progress,
        downloads: std::sync::Mutex::new(None),
    };
    let mut session = Session::new(&opts.study_dir, opts.drafts);
    // A failed run drops `staging`, which removes it: the last good output stays.
    let Some((mut study, rendered)) = session.run_into(&mut diags, Some(&sink)) else {
        return failed(diags, None);
    };
    // Its caches (quote HTML, parsed files) are for the next run, which `build` has not.
    let t = Instant::now();
    session.release();
    timing("release caches", t);
    let downloads = sink.downloads.lock().ok().and_then(|mut d| d.take());
    // A run without errors has made them beside its pages (the renderer calls
    // `beside_pages` whenever it has a sink); made here should it not have.
    let downloads = downloads.unwrap_or_else(|| sink.write_downloads(&study, &rendered.homes));
    let written = downloads.and_then(|()| sink.write_all(&rendered.files));
    let (files, bytes) = (
        staging.written.load(std::sync::atomic::Ordering::Relaxed),
        staging.bytes.load(std::sync::atomic::Ordering::Relaxed),
    );
    let t = Instant::now();
    if let Err(e) = written.and_then(|()| staging.commit()) {
        return failed(diags, Some(io_error(e)));
    }
    timing("write the rest, commit", t);
    drop(progress);
    let mut summary = Summary::new(&study, &rendered, started);
    summary.files = files;
    summary.bytes = bytes;
    // Its quotes are the largest part of what is left to free.
    let quotes = std::mem::take(&mut study.quotes);
    let t = Instant::now();
    rayon::join(|| crate::drop_in_parallel(quotes), || drop(rendered));
    timing("free the study", t);
    Outcome {
        diagnostics: diags.sorted(),
        summary: Some(summary),
        privacy: None,
    }
}

/// `thematic check`: everything but the write.
pub fn check(study_dir: &Path, drafts: bool) -> Outcome {
    let started = Instant::now();
    let mut diags = Diagnostics::new();
    let mut session = Session::new(study_dir, drafts);
    let result = session.run(&mut diags);
    Outcome {
        diagnostics: diags.sorted(),
        summary: result.map(|(study, rendered)| Summary::new(&study, &rendered, started)),
        privacy: session.privacy_report().cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `build` streams its pages and writes the data files in pieces and the
    /// search index without a cache, beside the render; `render_study` keeps
    /// every file whole. Both must give the same site.
    #[test]
    fn build_writes_the_files_render_study_makes() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for dir in [".", "tests/fixtures/riverside", "tests/fixtures/minimal"] {
            for drafts in [false, true] {
                let study_dir = root.join(dir);
                let mut diags = Diagnostics::new();
                let (_, rendered) = render_study(&study_dir, drafts, &mut diags)
                    .unwrap_or_else(|| panic!("{dir} renders"));
                let tmp = tempfile::tempdir().unwrap();
                let out = tmp.path().join("site");
                let outcome = build(&BuildOptions {
                    study_dir: study_dir.clone(),
                    output: Some(out.clone()),
                    drafts,
                });
                let summary = outcome.summary.unwrap_or_else(|| panic!("{dir} builds"));
                assert_eq!(
                    summary.files,
                    rendered.files.len(),
                    "{dir}, drafts {drafts}"
                );
                let mut on_disk = 0;
                for entry in walkdir::WalkDir::new(&out) {
                    let entry = entry.unwrap();
                    if entry.file_type().is_file() && entry.file_name() != output::MARKER {
                        on_disk += 1;
                    }
                }
                assert_eq!(on_disk, rendered.files.len(), "{dir}, drafts {drafts}");
                for f in &rendered.files {
                    let written = std::fs::read(out.join(&f.path))
                        .unwrap_or_else(|e| panic!("{dir}: {}: {e}", f.path));
                    assert!(
                        written == *f.bytes,
                        "{dir}, drafts {drafts}: {} differs",
                        f.path
                    );
                }
            }
        }
    }

    #[test]
    fn sizes_read_as_people_read_them() {
        assert_eq!(super::size(812), "812 bytes");
        assert_eq!(super::size(14_200), "14.2 kB");
        assert_eq!(super::size(3_100_000), "3.1 MB");
        assert_eq!(super::size(1_234_000_000), "1.23 GB");
    }
}
