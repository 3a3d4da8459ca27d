//! The `thematic` command: parses arguments and calls the library.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use thematic::pipeline::{self, BuildOptions, Outcome};

// A build of a large study makes and frees millions of small strings from
// several threads; glibc's allocator spent a sixth of the time there (and
// tidies up after a run's frees in `serve`'s next edit). Built without
// transparent huge pages (`no_thp`): asking the kernel for them made it compact
// memory on page faults, seconds of system time after another large process.
// See docs/performance.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "thematic",
    version,
    about = "Publish qualitative research findings as a static website"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the study into a static site.
    Build {
        /// The study folder (it holds content/).
        #[arg(default_value = ".")]
        study_dir: PathBuf,
        /// Where to write the site [default: STUDY_DIR/output].
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Include drafts, marked as drafts on the page.
        #[arg(long)]
        drafts: bool,
    },
    /// Validate the study and report every problem; write nothing.
    Check {
        /// The study folder (it holds content/).
        #[arg(default_value = ".")]
        study_dir: PathBuf,
        /// Check drafts too.
        #[arg(long)]
        drafts: bool,
    },
    /// Preview the study in a browser, rebuilding as you edit (drafts shown).
    Serve {
        /// The study folder (it holds content/).
        #[arg(default_value = ".")]
        study_dir: PathBuf,
        /// Port to listen on (the next free one is used when it is taken).
        #[arg(short, long, default_value_t = 1111)]
        port: u16,
        /// Address to listen on. Anything but loopback shows your drafts to the network.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Open the site in your browser.
        #[arg(long)]
        open: bool,
        /// Hide drafts, as `build` does.
        #[arg(long)]
        no_drafts: bool,
    },
    /// Create a small study that builds, to start from.
    Init {
        /// Folder to create the study in.
        dir: PathBuf,
    },
    /// Import themes and coded quotes from a QDA tool or a spreadsheet.
    #[command(subcommand)]
    Import(ImportCommand),
}

#[derive(Subcommand)]
enum ImportCommand {
    /// A REFI-QDA project (.qdpx, .qde) or codebook (.qdc), from NVivo, ATLAS.ti,
    /// MAXQDA or QualCoder.
    #[command(name = "refi-qda")]
    RefiQda {
        /// The .qdpx, .qde or .qdc file.
        file: PathBuf,
        /// The study folder (a new study is created when it has none).
        #[arg(long, default_value = ".")]
        study: PathBuf,
        /// The variable (or set-name prefix) that holds the site [default: site].
        #[arg(long)]
        site: Option<String>,
        /// The variable that holds the responder group [default: group].
        #[arg(long)]
        group: Option<String>,
        /// The variable that holds the participant code [default: the case's name].
        #[arg(long)]
        participant: Option<String>,
        /// Show what would be written; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// A spreadsheet of coded excerpts saved as CSV (Taguette, QualCoder).
    Csv {
        /// The CSV file.
        file: PathBuf,
        /// The study folder (a new study is created when it has none).
        #[arg(long, default_value = ".")]
        study: PathBuf,
        /// Which columns hold what:
        /// text=COL,participant=COL,site=COL,group=COL,themes=COL[,id=COL][,context=COL].
        #[arg(long)]
        columns: String,
        /// Splits a themes cell that holds several themes, such as ";".
        #[arg(long)]
        theme_separator: Option<String>,
        /// A CSV of participants: the participant key first, then the site and group columns.
        #[arg(long)]
        participants: Option<PathBuf>,
        /// Show what would be written; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Runs an import command; the exit code.
fn run_import(cmd: ImportCommand) -> ExitCode {
    use thematic::import;
    let (file, study, dry_run, incoming) = match cmd {
        ImportCommand::RefiQda {
            file,
            study,
            site,
            group,
            participant,
            dry_run,
        } => {
            let opts = import::RefiOptions {
                file: file.clone(),
                site,
                group,
                participant,
            };
            (file, study, dry_run, import::refi::read(&opts))
        }
        ImportCommand::Csv {
            file,
            study,
            columns,
            theme_separator,
            participants,
            dry_run,
        } => {
            let columns = match import::parse_columns(&columns) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let opts = import::CsvOptions {
                file: file.clone(),
                columns,
                theme_separator,
                participants,
            };
            (file, study, dry_run, import::csvfile::read(&opts))
        }
    };
    let name = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "imported".into());
    let result = incoming.and_then(|inc| {
        let name = inc.title.clone().unwrap_or(name);
        import::import(&study, &inc, &name, dry_run)
    });
    match result {
        Ok(report) => {
            for line in report.details() {
                println!("{line}");
            }
            if let Some(note) = report.build_errors_note() {
                let mut err = std::io::stderr().lock();
                for d in &report.build_errors {
                    let _ = writeln!(err, "{d}\n");
                }
                let _ = writeln!(err, "{note}");
            }
            println!("{}", report.summary_line(&file, &study));
            ExitCode::SUCCESS
        }
        Err(errors) => {
            let mut err = std::io::stderr().lock();
            for d in &errors {
                let _ = writeln!(err, "{d}\n");
            }
            let _ = writeln!(
                err,
                "Import failed: {}. Nothing was written.",
                pipeline::plural(errors.len(), "error")
            );
            ExitCode::from(1)
        }
    }
}

fn print_diagnostics(outcome: &Outcome) {
    let mut err = std::io::stderr().lock();
    for d in &outcome.diagnostics {
        let _ = writeln!(err, "{d}\n");
    }
}

fn failure_line(outcome: &Outcome) -> String {
    let errors = outcome.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = outcome.diagnostics.len() - errors;
    format!(
        "{}, {}",
        pipeline::plural(errors, "error"),
        pipeline::plural(warnings, "warning")
    )
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Build {
            study_dir,
            output,
            drafts,
        } => {
            let opts = BuildOptions {
                study_dir,
                output,
                drafts,
            };
            let outcome = pipeline::build(&opts);
            print_diagnostics(&outcome);
            match &outcome.summary {
                Some(s) => {
                    println!(
                        "Built {} ({}, {}) from {} in {} ms -> {}/",
                        pipeline::plural(s.pages, "page"),
                        pipeline::plural(s.files, "file"),
                        pipeline::size(s.bytes),
                        s.counts(),
                        s.elapsed.as_millis(),
                        opts.output_dir().display()
                    );
                    ExitCode::SUCCESS
                }
                None => {
                    eprintln!(
                        "Build failed: {}. Nothing was written.",
                        failure_line(&outcome)
                    );
                    ExitCode::from(1)
                }
            }
        }
        Command::Check { study_dir, drafts } => {
            let outcome = pipeline::check(&study_dir, drafts);
            print_diagnostics(&outcome);
            if let Some(report) = &outcome.privacy {
                println!("{report}\n");
            }
            match &outcome.summary {
                Some(s) => {
                    let warnings = outcome.diagnostics.len();
                    println!(
                        "No errors: {} would build {} from {}{}",
                        study_dir.display(),
                        pipeline::plural(s.pages, "page"),
                        s.counts(),
                        if warnings > 0 {
                            format!(" ({})", pipeline::plural(warnings, "warning"))
                        } else {
                            String::new()
                        }
                    );
                    ExitCode::SUCCESS
                }
                None => {
                    eprintln!("Check failed: {}.", failure_line(&outcome));
                    ExitCode::from(1)
                }
            }
        }
        Command::Serve {
            study_dir,
            port,
            bind,
            open,
            no_drafts,
        } => {
            let opts = thematic::serve::ServeOptions {
                study_dir,
                port,
                bind,
                open,
                drafts: !no_drafts,
            };
            match thematic::serve::serve(opts) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Import(cmd) => run_import(cmd),
        Command::Init { dir } => match thematic::init::init(&dir) {
            Ok(files) => {
                println!(
                    "Created a starter study in {} ({} files).",
                    dir.display(),
                    files.len()
                );
                println!(
                    "Next: thematic build {}   then open {}/output/index.html",
                    dir.display(),
                    dir.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        },
    }
}
