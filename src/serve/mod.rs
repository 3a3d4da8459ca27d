//! `thematic serve`: a live preview for authors.
//!
//! The site lives in memory (never in `output/`, so a draft cannot end up in
//! what gets published). A watcher thread turns file events into rebuilds of a
//! [`Session`], which re-parses and re-renders only what changed; a successful
//! rebuild swaps the in-memory site and tells open pages to reload, a failed one
//! keeps the last good site and shows the errors in an overlay on every page.

mod http;

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, mpsc};
use std::time::{Duration, Instant};

use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, new_debouncer};
use tokio::sync::broadcast;

use crate::diagnostics::Diagnostics;
use crate::pipeline::{Downloads, Session, plural};
use crate::render::OutputFile;

/// How `serve` was asked to run.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The study folder.
    pub study_dir: PathBuf,
    /// Port to listen on; the next free one is taken when it is in use.
    pub port: u16,
    /// Address to listen on; loopback unless the author asks otherwise.
    pub bind: IpAddr,
    /// Open the site in the default browser.
    pub open: bool,
    /// Show drafts (the default in serve).
    pub drafts: bool,
}

/// What the browser is told after a rebuild.
#[derive(Debug, Clone)]
pub(crate) enum LiveEvent {
    /// These pages changed (paths like `themes/a/index.html`; `*` for all).
    Reload(Vec<String>),
    /// Only stylesheets changed: swap them without a reload.
    Css,
    /// The current errors, as the terminal shows them (empty: none).
    Errors(Vec<String>),
    /// The server is stopping: event streams end so shutdown need not wait for them.
    Shutdown,
}

/// The site as currently served.
#[derive(Debug, Default)]
pub(crate) struct Live {
    /// Files by path relative to the site root.
    pub files: HashMap<String, Arc<Vec<u8>>>,
    /// Errors of the last rebuild, rendered as text.
    pub errors: Vec<String>,
    /// Increases with every rebuild, good or bad.
    pub generation: u64,
    /// The pages are up to date but the downloads that follow them (the data files
    /// and the search index, see [`Downloads`]) are not yet.
    pub downloads_pending: bool,
}

/// State shared between the rebuild thread and the HTTP server.
pub(crate) struct App {
    pub live: RwLock<Arc<Live>>,
    pub events: broadcast::Sender<LiveEvent>,
    /// Serving on loopback only: requests must name a loopback host, so a web page
    /// elsewhere cannot read the preview through DNS rebinding.
    pub loopback_only: bool,
}

impl App {
    pub(crate) fn snapshot(&self) -> Arc<Live> {
        self.live.read().map(|l| l.clone()).unwrap_or_default()
    }
}

/// Result of one rebuild, for the terminal line and the browser.
struct RebuildReport {
    line: String,
    event: Vec<LiveEvent>,
    /// The study and its quotes' links, when the rebuild succeeded: its search
    /// index and data files come next.
    study: Option<Built>,
}

/// A study that rendered, with its quotes' links ([`crate::render::Rendered::homes`]).
type Built = (crate::model::Study, Arc<Vec<String>>);

/// Builds the study once more and publishes the result into `app`.
fn rebuild(session: &mut Session, app: &App, what_changed: &str) -> RebuildReport {
    let started = Instant::now();
    let mut diags = Diagnostics::new();
    let result = session.run(&mut diags);
    let elapsed = started.elapsed();
    let t = Instant::now();
    let sorted = diags.sorted();
    let errors: Vec<String> = sorted
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    for d in &sorted {
        eprintln!("{d}\n");
    }
    let previous = app.snapshot();
    let mut events = Vec::new();
    let mut built = None;
    let line = match result {
        Some((study, rendered)) => {
            // The downloads follow from `spawn_downloads`; until then the previous
            // ones are served.
            let pages = rendered.pages;
            let files: HashMap<String, Arc<Vec<u8>>> = rendered
                .files
                .into_iter()
                .map(|f| (f.path, f.bytes))
                .chain(
                    previous
                        .files
                        .iter()
                        .filter(|(p, _)| Downloads::is_download(p))
                        .map(|(p, b)| (p.clone(), b.clone())),
                )
                .collect();
            built = Some((study, rendered.homes));
            // Compare with what is served (the last good site), not the last attempt.
            let changed: Vec<String> = files
                .iter()
                .filter(|(p, b)| previous.files.get(*p).is_none_or(|old| old != *b))
                .map(|(p, _)| p.clone())
                .chain(
                    previous
                        .files
                        .keys()
                        .filter(|p| !files.contains_key(*p))
                        .cloned(),
                )
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let pages_changed = changed.iter().filter(|p| p.ends_with(".html")).count();
            let only_css = !changed.is_empty() && changed.iter().all(|p| p.ends_with(".css"));
            let had_errors = !previous.errors.is_empty();
            *app.live.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(Live {
                files,
                errors: Vec::new(),
                generation: previous.generation + 1,
                downloads_pending: true,
            });
            if had_errors {
                events.push(LiveEvent::Errors(Vec::new()));
            }
            if only_css {
                events.push(LiveEvent::Css);
            } else if let Some(pages) = pages_to_reload(&changed) {
                events.push(LiveEvent::Reload(pages));
            }
            format!(
                "{what_changed}: rendered {} of {} in {} ms",
                pages_changed,
                plural(pages, "page"),
                elapsed.as_millis()
            )
        }
        None => {
            let count = errors.len();
            *app.live.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(Live {
                files: previous.files.clone(),
                errors: errors.clone(),
                generation: previous.generation + 1,
                downloads_pending: previous.downloads_pending,
            });
            events.push(LiveEvent::Errors(errors));
            format!(
                "{what_changed}: {} in {} ms; the last good site stays up",
                plural(count, "error"),
                elapsed.as_millis()
            )
        }
    };
    crate::pipeline::timing("serve: swap", t);
    RebuildReport {
        line,
        event: events,
        study: built,
    }
}

/// Builds the downloads of each study the rebuild thread sends (after its pages are
/// served) on a thread of its own, and swaps them in. A study that a newer one
/// follows before its turn is skipped.
fn spawn_downloads(app: Arc<App>, mut downloads: Downloads) -> mpsc::Sender<Built> {
    let (tx, rx) = mpsc::channel::<Built>();
    std::thread::spawn(move || {
        let mut queued = None;
        loop {
            let mut built = match queued.take() {
                Some(s) => s,
                None => match rx.recv() {
                    Ok(s) => s,
                    Err(_) => break,
                },
            };
            while let Ok(newer) = rx.try_recv() {
                built = newer;
            }
            let (study, homes) = &built;
            let files = downloads.files(study, homes);
            queued = rx.try_recv().ok();
            if let Some(e) = publish_downloads(&app, files, queued.is_some()) {
                let _ = app.events.send(e);
            }
        }
    });
    tx
}

/// Swaps `files` in for the downloads being served; the event that reloads an
/// open search page when its index changed.
fn publish_downloads(app: &App, files: Vec<OutputFile>, still_pending: bool) -> Option<LiveEvent> {
    let mut live = app.live.write().unwrap_or_else(|e| e.into_inner());
    let is_index = |p: &str| p.starts_with("search/") && Downloads::is_download(p);
    let old_index: HashMap<&String, &Arc<Vec<u8>>> =
        live.files.iter().filter(|(p, _)| is_index(p)).collect();
    let new_index: HashMap<&String, &Arc<Vec<u8>>> = files
        .iter()
        .filter(|f| is_index(&f.path))
        .map(|f| (&f.path, &f.bytes))
        .collect();
    let index_changed = old_index != new_index;
    let mut served: HashMap<String, Arc<Vec<u8>>> = live
        .files
        .iter()
        .filter(|(p, _)| !Downloads::is_download(p))
        .map(|(p, b)| (p.clone(), b.clone()))
        .collect();
    served.extend(files.into_iter().map(|f| (f.path, f.bytes)));
    *live = Arc::new(Live {
        files: served,
        errors: live.errors.clone(),
        generation: live.generation,
        downloads_pending: still_pending,
    });
    index_changed.then(|| LiveEvent::Reload(vec![crate::render::urls::SEARCH.to_string()]))
}

/// Binds `port`, or the next free port among the following twenty, saying so.
fn bind(addr: IpAddr, port: u16) -> Result<TcpListener, String> {
    let mut last_err = None;
    for p in port..=port.saturating_add(19) {
        match TcpListener::bind(SocketAddr::new(addr, p)) {
            Ok(l) => {
                if p != port {
                    println!("Port {port} is in use; using port {p} instead.");
                }
                return Ok(l);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => last_err = Some(e),
            Err(e) => return Err(format!("cannot listen on {addr}:{p}: {e}")),
        }
    }
    Err(format!(
        "ports {port} to {} on {addr} are all in use ({}); pass another with --port",
        port.saturating_add(19),
        last_err.map(|e| e.to_string()).unwrap_or_default()
    ))
}

/// Events that mean a source changed. Reads are reported as events on Linux;
/// reacting to them would rebuild in a loop as the build reads the files.
fn is_change(kind: &EventKind) -> bool {
    !matches!(kind, EventKind::Access(_) | EventKind::Other)
}

/// Only content/ and themes/ hold sources (the shallow watch of the study folder
/// also reports its other files, such as output/ written by a parallel build).
fn is_watched_source(study_dir: &Path, path: &Path) -> bool {
    path.starts_with(study_dir.join("content")) || path.starts_with(study_dir.join("themes"))
}

/// Files whose changes matter: sources, not editor droppings.
fn is_source_path(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    !(name.starts_with(".#")
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name == "4913")
}

fn describe_changes(study_dir: &Path, paths: &BTreeSet<PathBuf>) -> String {
    let shown: Vec<String> = paths
        .iter()
        .take(3)
        .map(|p| crate::diagnostics::display_path(p, study_dir))
        .collect();
    match paths.len() {
        0 => "changes".into(),
        n if n <= 3 => shown.join(", "),
        n => format!("{} and {} more", shown.join(", "), n - 3),
    }
}

/// Runs the preview server until Ctrl-C.
pub fn serve(opts: ServeOptions) -> Result<(), String> {
    let study_dir = opts
        .study_dir
        .canonicalize()
        .map_err(|e| format!("cannot open {}: {e}", opts.study_dir.display()))?;
    let (events, _) = broadcast::channel(64);
    let app = Arc::new(App {
        live: RwLock::new(Arc::new(Live::default())),
        events,
        loopback_only: opts.bind.is_loopback(),
    });
    let mut session = Session::new(&study_dir, opts.drafts);
    let first = rebuild(&mut session, &app, "first build");
    println!("{}", first.line);
    // The first downloads are in place before the site is served.
    let mut downloads = Downloads::default();
    if let Some((study, homes)) = &first.study {
        publish_downloads(&app, downloads.files(study, homes), false);
    }
    let downloads_tx = spawn_downloads(app.clone(), downloads);

    let listener = bind(opts.bind, opts.port)?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let url = format!("http://{addr}/");
    // Watch sources; rebuild on a thread of its own so the server never waits on a build.
    let (tx, rx) = mpsc::channel::<Vec<PathBuf>>();
    let watched_dir = study_dir.clone();
    let mut debouncer = new_debouncer(
        // Editors finish a save within a few milliseconds; every millisecond here is latency.
        Duration::from_millis(10),
        None,
        move |res: DebounceEventResult| {
            if let Ok(events) = res {
                let paths: Vec<PathBuf> = events
                    .iter()
                    .filter(|e| is_change(&e.kind))
                    .flat_map(|e| e.paths.iter().cloned())
                    .filter(|p| is_source_path(p) && is_watched_source(&watched_dir, p))
                    .collect();
                if !paths.is_empty() {
                    let _ = tx.send(paths);
                }
            }
        },
    )
    .map_err(|e| format!("cannot watch files: {e}"))?;
    // The study folder itself is watched shallowly, to notice themes/ appearing.
    debouncer
        .watch(&study_dir, RecursiveMode::NonRecursive)
        .map_err(|e| format!("cannot watch {}: {e}", study_dir.display()))?;
    for dir in ["content", "themes"] {
        let d = study_dir.join(dir);
        if d.is_dir() {
            debouncer
                .watch(&d, RecursiveMode::Recursive)
                .map_err(|e| format!("cannot watch {}: {e}", d.display()))?;
        }
    }
    let debouncer = Arc::new(std::sync::Mutex::new(debouncer));
    let watcher = debouncer.clone();
    let mut themes_watched = study_dir.join("themes").is_dir();
    let rebuild_app = app.clone();
    let dir_for_thread = study_dir.clone();
    std::thread::spawn(move || {
        while let Ok(first) = rx.recv() {
            let mut paths: BTreeSet<PathBuf> = first.into_iter().collect();
            // A burst (git checkout) arrives as several batches: take them all.
            while let Ok(more) = rx.try_recv() {
                paths.extend(more);
            }
            let themes = dir_for_thread.join("themes");
            if !themes_watched && themes.is_dir() {
                if let Ok(mut w) = watcher.lock() {
                    themes_watched = w.watch(&themes, RecursiveMode::Recursive).is_ok();
                }
                // Files written before the watch began were not reported: read them all.
                session.mark_dirty(
                    walkdir::WalkDir::new(&themes)
                        .into_iter()
                        .flatten()
                        .map(|e| e.into_path()),
                );
            }
            let what = describe_changes(&dir_for_thread, &paths);
            session.mark_dirty(paths.iter().cloned());
            let report = rebuild(&mut session, &rebuild_app, &what);
            println!("{}", report.line);
            for e in report.event {
                let _ = rebuild_app.events.send(e);
            }
            if let Some(built) = report.study {
                let _ = downloads_tx.send(built);
            }
        }
    });

    if !opts.bind.is_loopback() {
        println!(
            "warning: serving on {} makes your drafts visible to other machines on the network",
            opts.bind
        );
    }
    println!(
        "Serving {} at {url} ({}). Press Ctrl-C to stop.",
        study_dir.display(),
        if opts.drafts {
            "drafts shown"
        } else {
            "drafts hidden"
        }
    );
    if opts.open {
        open_browser(&url);
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let result = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
        let stopping = app.clone();
        axum::serve(listener, http::router(app))
            .with_graceful_shutdown(async move {
                let _ = tokio::signal::ctrl_c().await;
                let _ = stopping.events.send(LiveEvent::Shutdown);
            })
            .await
            .map_err(|e| e.to_string())
    });
    drop(debouncer);
    println!("Stopped.");
    result
}

fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    if std::process::Command::new(opener).arg(url).spawn().is_err() {
        println!("Could not open a browser ({opener} failed): open {url} yourself.");
    }
}

/// The pages open in a browser that must reload after `changed` files: the changed
/// pages; every page (`*`) when a file they all load changed (the site theme's
/// scripts and images); the search page when its index changed; none for files
/// no page loads (the open data, the citation file, the sitemap).
fn pages_to_reload(changed: &[String]) -> Option<Vec<String>> {
    let mut pages: Vec<String> = Vec::new();
    for p in changed {
        if p.ends_with(".html") {
            pages.push(p.clone());
        } else if p.starts_with("search/") {
            pages.push(crate::render::urls::SEARCH.to_string());
        } else if p.starts_with("data/")
            || matches!(p.as_str(), "CITATION.cff" | "robots.txt" | "sitemap.xml")
        {
            continue;
        } else {
            return Some(vec!["*".into()]);
        }
    }
    pages.sort();
    pages.dedup();
    (!pages.is_empty()).then_some(pages)
}

#[cfg(test)]
mod tests {
    use super::pages_to_reload;

    #[test]
    fn only_pages_that_load_a_changed_file_reload() {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            pages_to_reload(&v(&[
                "themes/a/index.html",
                "data/quotes.csv",
                "search/d/0.js"
            ])),
            Some(v(&["search/index.html", "themes/a/index.html"]))
        );
        assert_eq!(
            pages_to_reload(&v(&["data/quotes.json", "CITATION.cff"])),
            None
        );
        assert_eq!(
            pages_to_reload(&v(&["static/thematic.js"])),
            Some(v(&["*"]))
        );
        assert_eq!(pages_to_reload(&v(&[])), None);
    }
}
