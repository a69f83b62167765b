//! `memlings watch`: check the next pending exercise, then again whenever
//! a file of the course changes, until the course is done or Ctrl-C.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use anyhow::{Context, Result};
use colored::Colorize;
use notify::{EventKind, RecursiveMode, Watcher};

use super::check::{CheckOptions, HintPolicy, check_with, next_pending};
use super::{Outcome, Session};
use crate::interrupt;
use crate::report::{self, Format};
use crate::workspace;

/// Editors save in bursts (temp file, rename, chmod); wait this long for
/// quiet before checking.
const SETTLE: Duration = Duration::from_millis(150);
/// How often to look for Ctrl-C while waiting.
const POLL: Duration = Duration::from_millis(100);

/// Runs the watch loop on the course in `dir`, starting with `name` if
/// given (an unknown name is a usage error).
pub fn watch(dir: &Path, name: Option<String>, color: bool) -> Result<Outcome> {
    let root = dir
        .canonicalize()
        .with_context(|| format!("cannot open {}", dir.display()))?;
    let watched = root.clone();
    let (tx, changes) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            let relevant = !matches!(event.kind, EventKind::Access(_))
                && event.paths.iter().any(|p| !is_runner_file(&watched, p));
            if relevant {
                // The loop may have ended; a lost event is harmless then.
                let _ = tx.send(());
            }
        }
    })
    .context("cannot watch the course directory")?;
    watcher
        .watch(&root, RecursiveMode::Recursive)
        .with_context(|| format!("cannot watch {}", root.display()))?;

    // The exercise being worked on: the one named, until it passes, then
    // the next pending one each round.
    let mut focus = name;
    let mut last: Option<String> = None;
    loop {
        {
            // A session per round: the lock is held only while checking.
            let mut session = Session::open(dir, color)?;
            let Some(current) = focus.clone().or_else(|| next_pending(&session)) else {
                print!("{}", report::human::all_done());
                return Ok(Outcome::Success);
            };
            let options = CheckOptions {
                memcheck: false,
                format: Format::Human,
                hints: HintPolicy::KeepLevel,
                // The description once per exercise, not on every save.
                describe: last.as_deref() != Some(current.as_str()),
            };
            let outcome = check_with(&mut session, Some(&current), options)?;
            last = Some(current);
            match outcome {
                Outcome::Interrupted => return Ok(outcome),
                Outcome::Success => {
                    // Passed: go straight on to the next pending exercise
                    // (or finish, when there is none).
                    focus = None;
                    continue;
                }
                Outcome::Failed => {}
            }
        }
        println!(
            "{}",
            "Watching for changes: save a file to check again, `memlings hint NAME` in another terminal for more help, Ctrl-C to stop."
                .dimmed()
        );
        if !wait_for_change(&changes) {
            return Ok(Outcome::Interrupted);
        }
        println!("\n{}", "── change detected, checking again ──".dimmed());
    }
}

/// Waits for a change and then for quiet; `false` on Ctrl-C.
fn wait_for_change(changes: &Receiver<()>) -> bool {
    loop {
        if interrupt::requested() {
            return false;
        }
        match changes.recv_timeout(POLL) {
            Ok(()) => break,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return false,
        }
    }
    while changes.recv_timeout(SETTLE).is_ok() {}
    !interrupt::requested()
}

/// The runner's own files (builds, state, scratch runs) and Cargo's
/// `target/` change during every check and must not trigger another.
fn is_runner_file(root: &Path, path: &Path) -> bool {
    let top = path
        .strip_prefix(root)
        .ok()
        .and_then(|p| p.components().next());
    top.is_some_and(|c| c.as_os_str() == workspace::DIR || c.as_os_str() == "target")
}
