//! memlings: a command-line exercise runner for a course on memory-management
//! patterns in high-performance Rust.
//!
//! Data flows through one module per stage: `course` loads and validates the
//! definition, `harness` builds an exercise, `exec` runs it under limits,
//! `judge` turns the run into a `Verdict`, and `report` words it for a person.
//! `grade` runs those stages over every exercise of a course, for a class of
//! submissions or one learner's workspace.

mod attempt;
mod cli;
mod commands;
mod course;
mod diff;
mod exec;
mod grade;
mod harness;
mod heap;
mod interrupt;
mod judge;
mod memcheck;
mod report;
mod state;
mod workspace;

use std::process::ExitCode;

use clap::Parser;
use colored::Colorize;

use cli::{Cli, ColorChoice};
use commands::Outcome;

/// Exit status for usage and course errors.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = configure_color(cli.global.color);
    if let Err(e) = interrupt::install() {
        eprintln!("warning: cannot install the Ctrl-C handler: {e}");
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
    ExitCode::from(interrupt::EXIT_CODE as u8)
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
