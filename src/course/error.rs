//! Everything that can be wrong with a course definition.

use std::path::PathBuf;

use thiserror::Error;

use super::{PlantedError, TargetedHintError};

/// A course that cannot be used as it is. Every variant names the file at
/// fault so the author knows where to look; the CLI maps them all to exit 2.
#[derive(Debug, Error)]
pub enum CourseError {
    /// The course file could not be read at all.
    // The cause is printed by the error chain, not repeated here.
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// TOML syntax or schema error; the message carries line and column.
    #[error("{}: {message}", path.display())]
    Toml { path: PathBuf, message: String },
    /// A `format_version` this binary does not know.
    #[error(
        "{}: format_version {found} is not supported (this memlings understands format_version {supported}); upgrade memlings",
        path.display()
    )]
    UnsupportedVersion {
        path: PathBuf,
        found: i64,
        supported: u32,
    },
    /// A name outside `[a-z0-9_]+`.
    #[error("{}: exercise name {name:?} is malformed: use only a-z, 0-9 and _", path.display())]
    MalformedName { path: PathBuf, name: String },
    /// Two exercises share a name.
    #[error("{}: exercise name {name:?} is used twice", path.display())]
    DuplicateName { path: PathBuf, name: String },
    /// A path that is absolute, leaves its folder, or resolves outside the course.
    #[error("{}: exercise {exercise:?}: {key} = {value:?} {reason}", path.display())]
    UnsafePath {
        path: PathBuf,
        exercise: String,
        key: &'static str,
        value: String,
        reason: &'static str,
    },
    /// A file named by the course does not exist.
    #[error(
        "{}: exercise {exercise:?}: {key} file {} does not exist{}",
        path.display(),
        missing.display(),
        if *key == "path" { "; `memlings reset NAME` restores the template in a workspace made by `memlings init`" } else { "" }
    )]
    MissingFile {
        path: PathBuf,
        exercise: String,
        key: &'static str,
        missing: PathBuf,
    },
    /// A limit that makes no sense, such as a zero timeout.
    #[error("{}: exercise {exercise:?}: {key} must be greater than 0", path.display())]
    InvalidLimit {
        path: PathBuf,
        exercise: String,
        key: &'static str,
    },
    /// A must-not-compile probe's `error` that is not a rustc error code.
    #[error(
        "{}: exercise {exercise:?}: must_not_compile error = {value:?} is not a rustc error code such as \"E0502\"",
        path.display()
    )]
    MalformedErrorCode {
        path: PathBuf,
        exercise: String,
        value: String,
    },
    /// A targeted hint that cannot be used.
    #[error("{}: exercise {exercise:?}: targeted hint {id:?}: {problem}", path.display())]
    TargetedHint {
        path: PathBuf,
        exercise: String,
        id: String,
        problem: Box<TargetedHintError>,
    },
    /// A planted mistake or alternative solution that cannot be used.
    #[error("{}: {problem}", path.display())]
    Planted {
        path: PathBuf,
        problem: PlantedError,
    },
    /// A command named an exercise the course does not have.
    #[error("unknown exercise {name:?}; this course has: {}", known.join(", "))]
    UnknownExercise { name: String, known: Vec<String> },
}
