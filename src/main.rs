//! memlings: a command-line exercise runner for a course on memory-management
//! patterns in high-performance Rust.
//!
//! Data flows through one module per stage: `course` loads and validates the
//! definition, `harness` builds an exercise, `exec` runs it under limits,
//! `judge` turns the run into a `Verdict`, and `report` words it for a person.
//! `sandbox` contains builds and runs; the same binary, started with the
//! hidden first argument `__sandbox`, is the supervisor of one contained
//! process.
//! `grade` runs those stages over every exercise of a course, for a class of
//! submissions or one learner's workspace.

mod attempt;
mod build_limits;
mod cli;
mod commands;
mod course;
mod diff;
mod exec;
mod grade;
mod harness;
mod heap;
mod heap_channel;
mod hints;
mod interrupt;
mod judge;
mod lints;
mod memcheck;
mod report;
mod sandbox;
mod solutions;
mod state;
mod terminal;
mod workspace;

use std::process::ExitCode;

use clap::Parser;
use colored::Colorize;

use cli::{Cli, ColorChoice};
use commands::Outcome;

/// Exit status for usage and course errors.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let mut args = std::env::args_os();
    if args.nth(1).is_some_and(|a| a == sandbox::SUBCOMMAND) {
        // Hidden: this binary re-executed as a learner program's supervisor.
        sandbox::supervisor::main(args);
    }
    sandbox::close_inherited_fds();
    sandbox::protect_runner();
    let cli = Cli::parse();
    let color = configure_color(cli.global.color);
    if let Err(e) = interrupt::install() {
        eprintln!("warning: cannot install the signal handlers: {e}");
    }
    if cli.global.require_isolation {
        sandbox::require();
    }
    match commands::dispatch(cli.command, cli.global.course, color) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(1),
        Ok(Outcome::Interrupted) => interrupted(),
        Err(e) if e.is::<interrupt::Interrupted>() || interrupt::requested() => interrupted(),
        Err(e) => {
            eprintln!("{} {e:#}", "error:".red().bold());
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn interrupted() -> ExitCode {
    eprintln!("interrupted");
    ExitCode::from(interrupt::exit_code())
}

/// Applies `--color` and NO_COLOR; returns whether color is on.
fn configure_color(choice: ColorChoice) -> bool {
    use std::io::IsTerminal;
    let on = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    };
    colored::control::set_override(on);
    on
}
