//! `memlings completions SHELL`: a shell completion script on stdout.

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;

use super::Outcome;
use crate::cli::Cli;

/// Prints the completion script for `shell`, generated from the same
/// definition that parses the command line.
pub fn completions(shell: Shell) -> Result<Outcome> {
    let mut command = Cli::command();
    let name = command.get_name().to_owned();
    clap_complete::generate(shell, &mut command, name, &mut std::io::stdout());
    Ok(Outcome::Success)
}
