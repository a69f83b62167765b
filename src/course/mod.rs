//! The course definition: what `course.toml` describes, loaded and validated.
//!
//! A course is a directory holding `course.toml`, `exercises/`, `expected/`
//! and (for authors) `solutions/`. [`Course::load`] turns it into plain data
//! the later stages use; nothing after loading touches the TOML again.

mod error;
mod load;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::CourseError;

use crate::heap::HeapLimits;
pub use load::{COURSE_FILE, module_name};

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
}

/// Which copy of an exercise's module to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The learner's file in `exercises/`.
    Learner,
    /// The reference solution in `solutions/`.
    Solution,
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

    /// Absolute path of an exercise's module, for the given variant.
    pub fn module_path(&self, exercise: &Exercise, variant: Variant) -> PathBuf {
        let folder = match variant {
            Variant::Learner => "exercises",
            Variant::Solution => "solutions",
        };
        self.root.join(folder).join(&exercise.path)
    }

    /// Absolute path of an exercise's driver, if it has one.
    pub fn driver_path(&self, exercise: &Exercise) -> Option<PathBuf> {
        let driver = exercise.driver.as_ref()?;
        Some(self.root.join("exercises").join(driver))
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
