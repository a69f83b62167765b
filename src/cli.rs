//! Command-line interface: the commands and options, nothing else.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::Format;

/// memlings: memory-management exercises for Rust, checked by running them.
#[derive(Debug, Parser)]
#[command(name = "memlings", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Cmd,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Course directory (for `init`: the course to copy instead of the built-in one)
    #[arg(long, global = true, value_name = "DIR")]
    pub course: Option<PathBuf>,
    /// When to color output; NO_COLOR is honoured under `auto`
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Fail (exit 2) rather than run learner programs without namespace isolation
    #[arg(long, global = true)]
    pub require_isolation: bool,
}

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// The output format option of reporting commands.
#[derive(Debug, Args)]
pub struct Output {
    /// `human` text, or `json` lines for scripts and graders
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Create a learner workspace from the built-in course (or --course SRC)
    Init {
        /// Directory to create
        #[arg(default_value = "memlings")]
        dir: PathBuf,
    },
    /// List the exercises with their status and overall progress
    List {
        #[command(flatten)]
        output: Output,
    },
    /// Build and run an exercise (default: the current one), showing its output
    Run {
        /// Exercise name; it becomes the current exercise
        name: Option<String>,
    },
    /// Build, run and judge an exercise (default: the current one)
    Check {
        /// Exercise name; it becomes the current exercise
        name: Option<String>,
        /// Check every exercise and show a table
        #[arg(long, conflicts_with = "name")]
        all: bool,
        /// Also run the program under valgrind memcheck
        #[arg(long)]
        memcheck: bool,
        #[command(flatten)]
        output: Output,
    },
    /// Check the current exercise every time a file is saved; follows
    /// `memlings next` from another terminal
    Watch {
        /// Exercise to start with; it becomes the current exercise
        name: Option<String>,
    },
    /// Move on to the next pending exercise
    Next,
    /// Reveal the next hint of an exercise (default: the current one)
    Hint {
        /// Exercise name; it becomes the current exercise
        name: Option<String>,
        /// Show every hint
        #[arg(long)]
        all: bool,
    },
    /// Restore an exercise's original template (default: the current
    /// one), backing up your file first
    Reset {
        /// Exercise name (the current exercise stays as it is)
        name: Option<String>,
    },
    /// After a pass: the reference solution, and your file beside it as a diff
    Solution {
        /// Exercise name (default: the current one)
        name: Option<String>,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `memlings man > memlings.1`, or
    /// write a page per command into a directory
    Man {
        /// Write memlings.1 and memlings-COMMAND.1 here instead of printing
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
    /// For teachers: grade learners' submissions against the course in --course
    Grade {
        #[command(flatten)]
        args: GradeArgs,
    },
    /// For authors: every solution must pass and every template must fail
    Verify {
        /// Run every solution under valgrind memcheck too
        #[arg(long)]
        memcheck: bool,
        #[command(flatten)]
        output: Output,
    },
}

/// `grade`'s arguments.
#[derive(Debug, Args)]
pub struct GradeArgs {
    /// Learner workspaces or repositories to grade; only each exercise's
    /// module file is taken from them
    #[arg(required = true, value_name = "SUBMISSION")]
    pub submissions: Vec<PathBuf>,
    /// Grade this many submissions at once [default: the number of cores]
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<NonZeroUsize>,
    /// Also write a JUnit XML report to FILE
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Exit 1 if any submission scores below PCT percent
    #[arg(long, value_name = "PCT", value_parser = percent)]
    pub fail_under: Option<f64>,
    /// Grade even where learner programs cannot be isolated
    #[arg(long)]
    pub allow_no_isolation: bool,
    #[command(flatten)]
    pub output: Output,
}

/// A percentage between 0 and 100.
fn percent(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(pct) if (0.0..=100.0).contains(&pct) => Ok(pct),
        _ => Err(format!("{text:?} is not a percentage from 0 to 100")),
    }
}
