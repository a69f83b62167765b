//! Command-line interface: the commands and options, nothing else.

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
    /// Build and run an exercise, showing its output
    Run {
        /// Exercise name
        name: String,
    },
    /// Build, run and judge an exercise (default: the next pending one)
    Check {
        /// Exercise name
        name: Option<String>,
        /// Also run the program under valgrind memcheck
        #[arg(long)]
        memcheck: bool,
        #[command(flatten)]
        output: Output,
    },
    /// Check an exercise (default: the next pending one) every time a file
    /// is saved, moving on to the next pending one after a pass
    Watch {
        /// Exercise to start with
        name: Option<String>,
    },
    /// Reveal the next hint of an exercise
    Hint {
        /// Exercise name
        name: String,
        /// Show every hint
        #[arg(long)]
        all: bool,
    },
    /// Restore an exercise's original template, backing up your file first
    Reset {
        /// Exercise name
        name: String,
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
