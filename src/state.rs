//! The learner's progress: which exercises are done, and how many hints of
//! each have been revealed. Stored as TOML, written atomically; a corrupt
//! file is set aside with a warning rather than crashing the runner.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::workspace::{claim_unique, write_atomic};

/// Progress in one course.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
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
        let parsed = std::str::from_utf8(&text)
            .map_err(|e| e.to_string())
            .and_then(|t| toml::from_str::<State>(t).map_err(|e| e.to_string()));
        match parsed {
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

    /// Reveals one more hint of `total`; returns how many are now revealed.
    pub fn reveal_hint(&mut self, name: &str, total: usize) -> usize {
        let shown = (self.hints_shown(name) + 1).min(total);
        self.hints.insert(name.to_owned(), shown);
        shown
    }
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

        fs::write(&path, b"done = [\"trunc").unwrap();
        let (fresh, rec) = State::load(&path).unwrap();
        assert_eq!(fresh, State::default());
        assert!(matches!(rec, Recovery::SetAside { ref backup, .. } if backup.exists()));
    }
}
