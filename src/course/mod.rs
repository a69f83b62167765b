//! The course definition: what `course.toml` describes, loaded and validated.
//!
//! A course is a directory holding `course.toml` (in a learner's workspace,
//! `.memlings/course.toml`), `exercises/`, `expected/` and (for authors)
//! `solutions/`. [`Course::load`] turns it into plain data
//! the later stages use; nothing after loading touches the TOML again.

mod error;
mod load;
mod planted;
mod targeted;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::CourseError;

use crate::heap::HeapLimits;
pub use load::{COURSE_FILE, definition_file, is_course_root, module_name};
#[cfg(test)]
pub use planted::CAUGHT_BY_LABELS;
pub use planted::PlantedError;
pub use targeted::{Condition, TargetedHint, TargetedHintError};

/// The only `format_version` this binary understands.
pub const FORMAT_VERSION: u32 = 1;
/// Default wall-clock limit for one run of an exercise program.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
/// Default cap on each of stdout and stderr.
pub const DEFAULT_MAX_OUTPUT_BYTES: u64 = 1024 * 1024;
/// Default address-space cap for an exercise program.
pub const DEFAULT_MEMORY_LIMIT_MB: u64 = 1024;
/// Default cap on the size of any file a program writes.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Default wall-clock limit for compiling an exercise.
pub const DEFAULT_BUILD_TIMEOUT_MS: u64 = 60_000;
/// Default memory limit for compiling an exercise.
pub const DEFAULT_BUILD_MEMORY_LIMIT_MB: u64 = 4096;

/// A loaded, validated course.
#[derive(Debug, Clone)]
pub struct Course {
    /// Canonical course root directory.
    pub root: PathBuf,
    /// The definition file: `course.toml`, or in a workspace
    /// `.memlings/course.toml`.
    pub file: PathBuf,
    /// Human title of the course.
    pub title: String,
    /// Optional message shown when a workspace is created.
    pub welcome: Option<String>,
    /// Crates the exercises may use, as a Cargo `[dependencies]` table.
    pub dependencies: toml::Table,
    /// Exercises in course order.
    pub exercises: Vec<Exercise>,
}

/// Resource limits for one run of an exercise program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock limit; the whole process group is killed on expiry.
    pub timeout: Duration,
    /// Cap on bytes kept from each of stdout and stderr.
    pub max_output_bytes: u64,
    /// Memory cap in MiB: the whole process tree's where a control group
    /// can be made, and each process's address space (RLIMIT_AS).
    pub memory_limit_mb: u64,
    /// Largest file the program may write (RLIMIT_FSIZE).
    pub max_file_bytes: u64,
    /// Wall-clock limit for compiling the exercise.
    pub build_timeout: Duration,
    /// Memory limit in MiB for each compiler process (RLIMIT_AS).
    pub build_memory_limit_mb: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS),
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
            memory_limit_mb: DEFAULT_MEMORY_LIMIT_MB,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            build_timeout: Duration::from_millis(DEFAULT_BUILD_TIMEOUT_MS),
            build_memory_limit_mb: DEFAULT_BUILD_MEMORY_LIMIT_MB,
        }
    }
}

/// One exercise of a course. Paths are relative to their folder
/// (`exercises/`, `solutions/`, `expected/`), already checked to stay inside it.
#[derive(Debug, Clone)]
pub struct Exercise {
    /// Unique name, `[a-z0-9_]+`.
    pub name: String,
    /// The module the learner completes, relative to `exercises/`.
    pub path: PathBuf,
    /// The fixed program that uses the module, relative to `exercises/`.
    pub driver: Option<PathBuf>,
    /// Expected stdout, relative to `expected/`.
    pub expected: PathBuf,
    /// Progressive hints, gentlest first.
    pub hints: Vec<String>,
    /// Hints that answer a kind of mistake, in course order.
    pub targeted_hints: Vec<TargetedHint>,
    /// Short text shown by `run` and `check`.
    pub description: Option<String>,
    /// Limits for each run.
    pub limits: Limits,
    /// Force heap accounting on or off; `None` means on unless the
    /// exercise's code installs its own global allocator.
    pub heap_accounting: Option<bool>,
    /// Limits on the program's heap figures.
    pub heap_limits: HeapLimits,
    /// What exceeding a heap limit usually means in this exercise.
    pub heap_hint: Option<String>,
    /// Whether `verify` always runs the solution under valgrind memcheck.
    pub memcheck: bool,
    /// Programs that must not compile against a correct module.
    pub must_not_compile: Vec<Probe>,
    /// Planted mistakes, sorted by slug (only in a course with `solutions/`).
    pub mistakes: Vec<Mistake>,
    /// Other correct solutions, sorted by slug (only with `solutions/`).
    pub alternatives: Vec<Alternative>,
}

/// A must-not-compile probe: a program using the module in a way its types
/// forbid, so that a module which lets it compile has lost a guarantee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The program, with `fn main`, relative to `exercises/`.
    pub file: PathBuf,
    /// The rustc error code it must fail with, such as `E0502`.
    pub error: String,
    /// The guarantee it checks, in words.
    pub guarantee: String,
}

impl Probe {
    /// The program's path relative to the course root.
    pub fn relative_path(&self) -> PathBuf {
        Path::new("exercises").join(&self.file)
    }
}

/// A planted mistake: the reference solution with one realistic bug, kept
/// as `solutions/mistakes/<exercise>/<slug>.diff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mistake {
    /// The file's stem.
    pub slug: String,
    /// The `Mistake:` line.
    pub description: String,
    /// The `Caught-By:` verdict label, if the mistake names one.
    pub caught_by: Option<String>,
    /// The `Hint:` line: the id of the targeted hint its verdict must select.
    pub hint: Option<String>,
    /// The diff file, relative to the course root.
    pub patch_path: PathBuf,
    /// The reference solution with the diff applied.
    pub text: String,
}

/// Another correct solution, kept as `solutions/alternatives/<exercise>/<slug>.rs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternative {
    /// The file's stem.
    pub slug: String,
    /// Its first `//!` line: the style it is written in.
    pub description: String,
    /// The module file, relative to the course root.
    pub path: PathBuf,
}

/// Which copy of an exercise's module to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant<'a> {
    /// The learner's file in `exercises/`.
    Learner,
    /// The reference solution in `solutions/`.
    Solution,
    /// The reference solution with a planted mistake.
    Mistake(&'a Mistake),
    /// An alternative solution.
    Alternative(&'a Alternative),
}

impl Course {
    /// Loads and validates the course in `root`.
    pub fn load(root: &Path) -> Result<Course, CourseError> {
        load::load(root, false)
    }

    /// Like [`Course::load`], but a learner's module may be missing, as
    /// when `reset` is to restore a deleted file.
    pub fn load_for_repair(root: &Path) -> Result<Course, CourseError> {
        load::load(root, true)
    }

    /// Finds an exercise by name.
    pub fn exercise(&self, name: &str) -> Result<&Exercise, CourseError> {
        self.exercises
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| CourseError::UnknownExercise {
                name: name.to_owned(),
                known: self.exercises.iter().map(|e| e.name.clone()).collect(),
            })
    }

    /// Absolute path of the learner's module.
    pub fn learner_path(&self, exercise: &Exercise) -> PathBuf {
        self.root.join("exercises").join(&exercise.path)
    }

    /// Absolute path of the reference solution.
    pub fn solution_path(&self, exercise: &Exercise) -> PathBuf {
        self.root.join("solutions").join(&exercise.path)
    }

    /// Absolute path of the file holding a variant's module; `None` for a
    /// planted mistake, whose text ([`Mistake::text`]) is in no course file.
    pub fn module_path(&self, exercise: &Exercise, variant: Variant) -> Option<PathBuf> {
        match variant {
            Variant::Learner => Some(self.learner_path(exercise)),
            Variant::Solution => Some(self.solution_path(exercise)),
            Variant::Alternative(alternative) => Some(self.root.join(&alternative.path)),
            Variant::Mistake(_) => None,
        }
    }

    /// How messages name a variant's module: its path relative to the course
    /// root, or for a planted mistake its diff, marked as patched.
    pub fn module_display(&self, exercise: &Exercise, variant: Variant) -> String {
        match (variant, self.module_path(exercise, variant)) {
            (_, Some(path)) => path
                .strip_prefix(&self.root)
                .unwrap_or(&path)
                .display()
                .to_string(),
            (Variant::Mistake(mistake), None) => {
                format!("{} (patched)", mistake.patch_path.display())
            }
            (_, None) => String::new(),
        }
    }

    /// Absolute path of an exercise's driver, if it has one.
    pub fn driver_path(&self, exercise: &Exercise) -> Option<PathBuf> {
        let driver = exercise.driver.as_ref()?;
        Some(self.root.join("exercises").join(driver))
    }

    /// Absolute path of a must-not-compile probe's program.
    pub fn probe_path(&self, probe: &Probe) -> PathBuf {
        self.root.join(probe.relative_path())
    }

    /// Absolute path of an exercise's expected-output file.
    pub fn expected_path(&self, exercise: &Exercise) -> PathBuf {
        self.root.join("expected").join(&exercise.expected)
    }

    /// Whether this course carries reference solutions (an author's source tree).
    pub fn has_solutions(&self) -> bool {
        self.root.join("solutions").is_dir()
    }
}
