//! The learner's progress: the current exercise, which exercises are done,
//! and how many hints of each have been revealed. Stored as TOML, written atomically; a corrupt
//! file is set aside with a warning rather than crashing the runner.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::course::{Course, Exercise};
use crate::workspace::{claim_unique, write_atomic};

/// Progress in one course.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// The exercise the learner is working on, if one was chosen: set by
    /// naming an exercise or by `memlings next`, never by a pass alone.
    /// Absent in state files written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    /// Names of exercises that passed `check`.
    #[serde(default)]
    pub done: BTreeSet<String>,
    /// Hints revealed so far, per exercise.
    #[serde(default)]
    pub hints: BTreeMap<String, usize>,
}

/// What loading found besides the state itself.
#[derive(Debug)]
pub enum Recovery {
    /// The file was fine, or absent.
    Clean,
    /// The file was unreadable; it was moved aside to this path.
    SetAside { backup: PathBuf, reason: String },
}

impl State {
    /// Loads the state at `path`. A missing file is a fresh start; a corrupt
    /// one is renamed aside and reported, and a fresh state returned.
    pub fn load(path: &Path) -> Result<(State, Recovery)> {
        let text = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((State::default(), Recovery::Clean));
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        match parse(&text) {
            Ok(state) => Ok((state, Recovery::Clean)),
            Err(reason) => {
                // Never overwrite the copy of an earlier corruption.
                let dir = path.parent().unwrap_or(Path::new("."));
                let backup = claim_unique(dir, "state.corrupt", "toml")?;
                fs::rename(path, &backup)
                    .with_context(|| format!("cannot move corrupt {} aside", path.display()))?;
                Ok((State::default(), Recovery::SetAside { backup, reason }))
            }
        }
    }

    /// The state at `path` if it reads cleanly, without the lock and
    /// without setting a corrupt file aside: for a watcher that only
    /// looks. Writes are atomic, so a reader never sees half a file.
    pub fn peek(path: &Path) -> Option<State> {
        fs::read(path).ok().and_then(|bytes| parse(&bytes).ok())
    }

    /// Writes the state atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = toml::to_string(self).context("cannot serialise progress")?;
        write_atomic(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Whether `name` is done.
    pub fn is_done(&self, name: &str) -> bool {
        self.done.contains(name)
    }

    /// Hints revealed for `name`.
    pub fn hints_shown(&self, name: &str) -> usize {
        self.hints.get(name).copied().unwrap_or(0)
    }

    /// The current exercise of `course`: the one chosen, while the course
    /// still has it, else the first one not done. `None` only when none
    /// was chosen and every exercise is done.
    pub fn current<'c>(&self, course: &'c Course) -> Option<&'c Exercise> {
        let chosen = self.current.as_deref();
        chosen
            .and_then(|name| course.exercises.iter().find(|e| e.name == name))
            .or_else(|| self.next_pending(course, None))
    }

    /// The first exercise not done after `from` in course order, wrapping
    /// around to the start (from the start when `from` is `None`); `from`
    /// itself comes last, if it is pending.
    pub fn next_pending<'c>(&self, course: &'c Course, from: Option<&str>) -> Option<&'c Exercise> {
        let start = from
            .and_then(|name| course.exercises.iter().position(|e| e.name == name))
            .map_or(0, |i| i + 1);
        let (before, after) = course.exercises.split_at(start.min(course.exercises.len()));
        after.iter().chain(before).find(|e| !self.is_done(&e.name))
    }

    /// Whether every exercise of `course` is done.
    pub fn all_done(&self, course: &Course) -> bool {
        course.exercises.iter().all(|e| self.is_done(&e.name))
    }

    /// Reveals one more hint of `total`; returns how many are now revealed.
    pub fn reveal_hint(&mut self, name: &str, total: usize) -> usize {
        let shown = (self.hints_shown(name) + 1).min(total);
        self.hints.insert(name.to_owned(), shown);
        shown
    }
}

/// Parses a state file's bytes; the error says why it is unreadable.
fn parse(bytes: &[u8]) -> Result<State, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    toml::from_str(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.toml");
        let (mut state, _) = State::load(&path).unwrap();
        state.done.insert("mapper".into());
        assert_eq!(state.reveal_hint("pool", 2), 1);
        assert_eq!(state.reveal_hint("pool", 2), 2);
        assert_eq!(state.reveal_hint("pool", 2), 2);
        state.save(&path).unwrap();
        let (again, rec) = State::load(&path).unwrap();
        assert_eq!(again, state);
        assert!(matches!(rec, Recovery::Clean));

        // A file from before `current` existed still loads.
        fs::write(&path, "done = [\"mapper\"]\n\n[hints]\npool = 2\n").unwrap();
        let (old, rec) = State::load(&path).unwrap();
        assert!(matches!(rec, Recovery::Clean));
        assert_eq!((old.current.as_deref(), old.hints_shown("pool")), (None, 2));

        state.current = Some("pool".into());
        state.save(&path).unwrap();
        assert_eq!(State::peek(&path), Some(state));

        fs::write(&path, b"done = [\"trunc").unwrap();
        assert_eq!(State::peek(&path), None);
        let (fresh, rec) = State::load(&path).unwrap();
        assert_eq!(fresh, State::default());
        assert!(matches!(rec, Recovery::SetAside { ref backup, .. } if backup.exists()));
    }
}
