//! Building for grading. A learner's workspace builds in its own harness;
//! the private courses of a class share one Cargo target directory, so the
//! course's dependencies compile once for every submission. Each private
//! course names its binaries with its own prefix there, since Cargo keeps
//! binaries by name, and builds one at a time.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::course::Course;
use crate::harness::{BuildOutcome, Harness, HarnessError, Target};
use crate::workspace::Workspace;

/// A Cargo target directory shared by the harnesses of many copies of one
/// course, and the `Cargo.lock` they all use.
pub struct SharedTarget {
    dir: PathBuf,
    lockfile: PathBuf,
    /// Held for a build, so builds take turns here rather than in Cargo's
    /// lock, and the first `Cargo.lock` is there for the next one.
    building: Mutex<()>,
}

impl SharedTarget {
    /// The target kept in `work_dir/target`.
    pub fn new(work_dir: &Path) -> Self {
        SharedTarget {
            dir: work_dir.join("target"),
            lockfile: work_dir.join("Cargo.lock"),
            building: Mutex::new(()),
        }
    }
}

/// Builds the targets of one course.
pub struct Builder<'a> {
    harness: Harness<'a>,
    shared: Option<&'a SharedTarget>,
}

impl<'a> Builder<'a> {
    /// Builds in the workspace's own harness, as `check` does.
    pub fn local(course: &'a Course, workspace: &Workspace) -> Self {
        Builder {
            harness: Harness::new(course, workspace.build_dir()),
            shared: None,
        }
    }

    /// Builds in `shared`, naming binaries with `id`, which must be unique
    /// among the courses sharing it and made of ASCII letters and digits.
    /// Grading builds each program once to judge it, so it builds lean.
    pub fn shared(
        course: &'a Course,
        workspace: &Workspace,
        shared: &'a SharedTarget,
        id: &str,
    ) -> Self {
        let harness = Harness::new(course, workspace.build_dir())
            .sharing(shared.dir.clone(), format!("s{id}-"))
            .lean();
        Builder {
            harness,
            shared: Some(shared),
        }
    }

    /// The harness it builds in, which also names its files in messages.
    pub fn harness(&self) -> &Harness<'a> {
        &self.harness
    }

    /// Builds `targets` in one Cargo call, without colors; the outcomes are
    /// in the order of `targets`.
    pub fn build(&self, targets: &[Target<'_>]) -> Result<Vec<BuildOutcome>, HarnessError> {
        let Some(shared) = self.shared else {
            return self.harness.build_all(targets, false);
        };
        let _turn = shared.building.lock().unwrap_or_else(|e| e.into_inner());
        let own_lockfile = self.harness.dir().join("Cargo.lock");
        seed(&shared.lockfile, &own_lockfile);
        let outcomes = self.harness.build_all(targets, false);
        seed(&own_lockfile, &shared.lockfile);
        outcomes
    }
}

/// Copies a `Cargo.lock` where there is none yet, so that every submission
/// builds against the same dependency versions. Best effort: without it,
/// Cargo resolves them again.
fn seed(from: &Path, to: &Path) {
    if from.is_file() && !to.exists() {
        let _ = fs::copy(from, to);
    }
}
