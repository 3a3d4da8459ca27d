//! A progress line for long builds, on a terminal only: nothing on a pipe, in CI,
//! or for a build that ends within half a second.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Shared with the ticker: what the build is doing, and how far it has got.
#[derive(Default)]
struct State {
    stage: Mutex<&'static str>,
    /// Files written so far in this stage.
    written: AtomicUsize,
    /// Files this stage will write, when known (0: unknown, no bar).
    total: AtomicUsize,
    done: AtomicBool,
}

/// The progress line of one build; cleared when dropped.
pub struct Progress {
    state: Arc<State>,
    ticker: Option<JoinHandle<()>>,
}

/// How long a build runs before its progress shows.
const QUIET_FOR: Duration = Duration::from_millis(500);
const TICK: Duration = Duration::from_millis(100);

impl Progress {
    /// Starts a progress line on stderr when it is a terminal and `CI` is not set.
    pub fn start() -> Progress {
        let state = Arc::new(State::default());
        let show = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let ticker = show.then(|| {
            let state = state.clone();
            std::thread::spawn(move || {
                std::thread::sleep(QUIET_FOR);
                let mut shown = false;
                while !state.done.load(Ordering::Relaxed) {
                    let line = state.line();
                    let _ = write!(std::io::stderr(), "\r\x1b[2K{line}");
                    shown = true;
                    std::thread::sleep(TICK);
                }
                if shown {
                    let _ = write!(std::io::stderr(), "\r\x1b[2K");
                }
            })
        });
        Progress { state, ticker }
    }

    /// Starts a stage whose length is not known: a line without a bar.
    pub fn stage(&self, stage: &'static str) {
        self.start_stage(stage, 0);
    }

    /// Starts a stage that writes `total` files: a bar that fills as they are.
    pub fn counted_stage(&self, stage: &'static str, total: usize) {
        self.start_stage(stage, total);
    }

    fn start_stage(&self, stage: &'static str, total: usize) {
        if let Ok(mut s) = self.state.stage.lock() {
            *s = stage;
        }
        self.state.written.store(0, Ordering::Relaxed);
        self.state.total.store(total, Ordering::Relaxed);
    }

    /// `files` more files were written (from any thread).
    pub fn wrote(&self, files: usize) {
        self.state.written.fetch_add(files, Ordering::Relaxed);
    }
}

impl State {
    fn line(&self) -> String {
        let stage = self.stage.lock().map(|s| *s).unwrap_or("");
        let total = self.total.load(Ordering::Relaxed);
        if total == 0 {
            return match self.written.load(Ordering::Relaxed) {
                0 => format!("{stage}…"),
                n => format!("{stage}… {n} files written"),
            };
        }
        let done = self.written.load(Ordering::Relaxed).min(total);
        bar(stage, done, total)
    }
}

/// `Writing [#######             ] 12,000/34,000 files`.
fn bar(stage: &str, done: usize, total: usize) -> String {
    const WIDTH: usize = 24;
    let filled = done * WIDTH / total.max(1);
    format!(
        "{stage} [{}{}] {done}/{total} files",
        "#".repeat(filled),
        " ".repeat(WIDTH - filled)
    )
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.state.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_with_the_files_written() {
        assert_eq!(
            bar("Writing", 0, 10),
            "Writing [                        ] 0/10 files"
        );
        assert_eq!(
            bar("Writing", 5, 10),
            "Writing [############            ] 5/10 files"
        );
        assert_eq!(
            bar("Writing", 10, 10),
            "Writing [########################] 10/10 files"
        );
    }
}
