//! `memlings man [--out-dir DIR]`: the man pages, generated from the
//! command-line definition.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;

use super::Outcome;
use crate::cli::Cli;

/// Prints `memlings(1)` as roff, or writes it and a page per command
/// (`memlings-check(1)`, ..., which it refers to) into `out_dir`.
pub fn man(out_dir: Option<&Path>) -> Result<Outcome> {
    let command = Cli::command();
    match out_dir {
        Some(dir) => {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(command, dir)
                .with_context(|| format!("cannot write the man pages into {}", dir.display()))?;
            println!("Wrote the man pages into {}", dir.display());
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut page)
                .context("cannot render the man page")?;
            std::io::stdout()
                .write_all(&page)
                .context("cannot write the man page")?;
        }
    }
    Ok(Outcome::Success)
}
