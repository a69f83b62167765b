//! `memlings watch [NAME]`: check the current exercise, then again whenever
//! one of its files changes, until Ctrl-C. A pass does not move on: the
//! learner does, with `memlings next` (or by naming another exercise) from
//! another terminal, and watch follows. When stdin is a terminal, single
//! keys do the same from watch itself (see [`keys`]).

mod keys;

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use colored::Colorize;
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use super::check::{CheckOptions, HintPolicy, check_with};
use super::{Outcome, Session};
use crate::course::{Course, Exercise};
use crate::interrupt;
use crate::report::{self, Format};
use crate::state::State;
use crate::terminal::{self, Key, RawMode};
use crate::workspace::{self, Workspace};
use keys::Action;

/// Editors save in bursts (temp file, rename, chmod); wait this long for
/// quiet before looking at what changed.
const SETTLE: Duration = Duration::from_millis(150);
/// A program that writes without pause never goes quiet; look anyway
/// after this long.
const MAX_SETTLE: Duration = Duration::from_secs(1);
/// How often to look for Ctrl-C while waiting.
const POLL: Duration = Duration::from_millis(100);

/// What the file watcher saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    /// A file outside the runner's own directories changed.
    Files,
    /// The progress file changed: it may name another current exercise.
    State,
}

/// Why a wait ended.
#[derive(Debug, PartialEq, Eq)]
enum Wake {
    /// A file of the exercise being watched has new contents.
    Saved,
    /// Another exercise became the current one.
    Moved(String),
    /// The learner pressed a key (interactive watch only).
    Key(Key),
    /// Ctrl-C.
    Interrupted,
}

/// How a round of checking ended.
enum Round {
    Checked(Box<Checked>),
    /// No exercise is current and every one is done.
    AllDone,
    Interrupted,
}

/// The exercise a round checked, and what it was checked with.
struct Checked {
    course: Course,
    exercise: Exercise,
    fingerprint: u64,
}

/// Runs the watch loop on the course in `dir`, starting with `name` if
/// given (it becomes the current exercise; an unknown name is a usage
/// error), else with the current exercise. Reads single keys when stdin is
/// a terminal.
pub fn watch(dir: &Path, name: Option<String>, color: bool) -> Result<Outcome> {
    let root = dir
        .canonicalize()
        .with_context(|| format!("cannot open {}", dir.display()))?;
    let state_file = Workspace::new(&root).state_file();
    let (_watcher, changes) = start_watcher(&root, state_file.clone())?;
    let interactive = terminal::interactive();
    let mut name = name;
    let mut last: Option<String> = None;
    loop {
        let checked = match check_round(dir, color, name.take(), last.as_deref())? {
            Round::Checked(checked) => checked,
            Round::AllDone => {
                print!("{}", report::human::all_done());
                return Ok(Outcome::Success);
            }
            Round::Interrupted => return Ok(Outcome::Interrupted),
        };
        last = Some(checked.exercise.name.clone());
        show_legend(interactive);
        let banner = loop {
            match wait_for_change(&changes, &checked, &state_file, interactive)? {
                Wake::Interrupted => return Ok(Outcome::Interrupted),
                Wake::Saved => break "── change detected, checking again ──".to_owned(),
                Wake::Moved(name) => break format!("── moved on to {name} ──"),
                Wake::Key(key) => match act(key, dir, color, &checked.exercise)? {
                    Action::Check => break "── checking ──".to_owned(),
                    Action::Stay => show_legend(interactive),
                    Action::Ignore => {}
                    Action::Quit => return Ok(Outcome::Success),
                    Action::Interrupted => return Ok(Outcome::Interrupted),
                },
            }
        };
        println!("\n{}", banner.dimmed());
    }
}

/// Acts on a key. A key that fails (say `r` in a course without pristine
/// templates) says why and leaves watch running; Ctrl-C still stops it.
fn act(key: Key, dir: &Path, color: bool, exercise: &Exercise) -> Result<Action> {
    match keys::act(key, dir, color, exercise) {
        Ok(action) => Ok(action),
        Err(e) if e.is::<interrupt::Interrupted>() => Err(e),
        Err(e) => {
            eprintln!("{} {e:#}", "error:".red().bold());
            Ok(Action::Stay)
        }
    }
}

/// Checks the current exercise (or `name`, made current first) in a
/// session of its own: the lock is held only while checking, so that
/// `hint` and `next` work from another terminal.
fn check_round(dir: &Path, color: bool, name: Option<String>, last: Option<&str>) -> Result<Round> {
    let mut session = Session::open(dir, color)?;
    let Some(exercise) = session.select(name.as_deref())? else {
        return Ok(Round::AllDone);
    };
    let fingerprint = fingerprint(&session.course, &exercise);
    let options = CheckOptions {
        memcheck: false,
        format: Format::Human,
        hints: HintPolicy::KeepLevel,
        // The description once per exercise, not on every save.
        describe: last != Some(exercise.name.as_str()),
    };
    if check_with(&mut session, Some(&exercise.name), options)? == Outcome::Interrupted {
        return Ok(Round::Interrupted);
    }
    Ok(Round::Checked(Box::new(Checked {
        course: session.course.clone(),
        exercise,
        fingerprint,
    })))
}

/// What the learner can do while watch waits.
fn show_legend(interactive: bool) {
    let legend = match interactive {
        true => format!("Watching for changes. {}", keys::LEGEND),
        false => "Watching for changes: save to check again. In another terminal, `memlings hint` helps and `memlings next` moves on. Ctrl-C stops.".to_owned(),
    };
    println!("{}", legend.dimmed());
}

/// Watches the course recursively; the runner's own files are filtered out
/// here, except the progress file, reported as [`Change::State`].
fn start_watcher(
    root: &Path,
    state_file: PathBuf,
) -> Result<(RecommendedWatcher, Receiver<Change>)> {
    let watched = root.to_path_buf();
    let (tx, changes) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        let change = if event.paths.contains(&state_file) {
            Some(Change::State)
        } else if event.paths.iter().any(|p| !is_runner_file(&watched, p)) {
            Some(Change::Files)
        } else {
            None
        };
        if let Some(change) = change {
            // The loop may have ended; a lost event is harmless then.
            let _ = tx.send(change);
        }
    })
    .context("cannot watch the course directory")?;
    watcher
        .watch(root, RecursiveMode::Recursive)
        .with_context(|| format!("cannot watch {}", root.display()))?;
    Ok((watcher, changes))
}

/// Waits until the exercise's files have new contents, another exercise
/// becomes current, or (when `interactive`) a key is pressed. Changes that
/// alter neither the files nor the current exercise (a program writing
/// files, an editor touching a file without changing it, `check` saving
/// progress) are ignored.
fn wait_for_change(
    changes: &Receiver<Change>,
    checked: &Checked,
    state_file: &Path,
    interactive: bool,
) -> Result<Wake> {
    let _raw = interactive
        .then(RawMode::enable)
        .transpose()
        .context("cannot read keys from the terminal")?;
    loop {
        if interrupt::requested() {
            return Ok(Wake::Interrupted);
        }
        let first = match interactive {
            true => match changes.try_recv() {
                Ok(change) => change,
                Err(TryRecvError::Empty) => match terminal::poll_key()? {
                    Some(key) => return Ok(Wake::Key(key)),
                    None => continue,
                },
                Err(TryRecvError::Disconnected) => anyhow::bail!("the file watcher stopped"),
            },
            false => match changes.recv_timeout(POLL) {
                Ok(change) => change,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => anyhow::bail!("the file watcher stopped"),
            },
        };
        let burst = settle(changes, first);
        if interrupt::requested() {
            return Ok(Wake::Interrupted);
        }
        if burst.contains(&Change::State)
            && let Some(now) = current_exercise(&checked.course, state_file)
            && now != checked.exercise.name
        {
            return Ok(Wake::Moved(now));
        }
        if burst.contains(&Change::Files)
            && fingerprint(&checked.course, &checked.exercise) != checked.fingerprint
        {
            return Ok(Wake::Saved);
        }
    }
}

/// Collects the rest of a burst of changes: until none came for
/// [`SETTLE`], or [`MAX_SETTLE`] passed.
fn settle(changes: &Receiver<Change>, first: Change) -> Vec<Change> {
    let deadline = Instant::now() + MAX_SETTLE;
    let mut burst = vec![first];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match changes.recv_timeout(SETTLE.min(left)) {
            Ok(change) => burst.push(change),
            Err(_) => break,
        }
    }
    burst
}

/// The current exercise as the progress file now names it, read without
/// the lock. `None` if the file cannot be read.
fn current_exercise(course: &Course, state_file: &Path) -> Option<String> {
    let state = State::peek(state_file)?;
    state.current(course).map(|e| e.name.clone())
}

/// A digest of everything a check of `exercise` reads from the course: the
/// definition, the learner's module, the driver and the expected output.
/// A missing file counts as a content of its own.
fn fingerprint(course: &Course, exercise: &Exercise) -> u64 {
    let files = [
        Some(course.file.clone()),
        Some(course.learner_path(exercise)),
        course.driver_path(exercise),
        Some(course.expected_path(exercise)),
    ];
    let mut hasher = DefaultHasher::new();
    for file in files.iter().flatten() {
        std::fs::read(file).ok().hash(&mut hasher);
    }
    hasher.finish()
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
