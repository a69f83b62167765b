//! Where a workspace's reference solutions live, and reading one. The
//! built-in course's solutions are embedded in the binary and never copied
//! into a workspace; a course copied with `init --course SRC` keeps them in
//! SRC's `solutions/`. `init` records which in `.memlings/solutions.toml`.

use std::fs;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use serde::{Deserialize, Serialize};

use crate::course::{Course, Exercise};
use crate::workspace::{Workspace, write_atomic};

/// The built-in course's reference solutions.
static BUILTIN: Dir = include_dir!("$CARGO_MANIFEST_DIR/solutions");

/// Where the reference solutions of a workspace are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Embedded in this binary: the workspace was made from the built-in course.
    Builtin,
    /// A course source's `solutions/` folder, where its author put them.
    Dir(PathBuf),
}

/// The record `init` writes.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    solutions: Source,
}

/// Why a reference solution cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum SolutionError {
    /// No record, and the course has no `solutions/` of its own.
    #[error(
        "this workspace does not say where its reference solutions are (it was made before `memlings init` recorded it, or by hand)"
    )]
    Unknown,
    /// The record is unreadable.
    #[error("cannot read {path}: {reason}")]
    BadRecord { path: PathBuf, reason: String },
    /// The built-in course has no solution at this path.
    #[error("the built-in course has no reference solution for {0}")]
    NotBuiltin(String),
    /// The solution file could not be read.
    #[error("cannot read the reference solution {path}: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Source {
    /// Records `self` as the solutions of `workspace`.
    pub fn record(&self, workspace: &Workspace) -> std::io::Result<()> {
        let record = Record {
            solutions: self.clone(),
        };
        let text = toml::to_string(&record).map_err(std::io::Error::other)?;
        let text = format!(
            "# Where this workspace's reference solutions are; written by `memlings init`.\n{text}"
        );
        write_atomic(&workspace.solutions_record(), text.as_bytes())
    }

    /// The solutions of `course`: as recorded in its workspace, else its own
    /// `solutions/` folder (a course source).
    pub fn locate(course: &Course, workspace: &Workspace) -> Result<Source, SolutionError> {
        let path = workspace.solutions_record();
        match fs::read_to_string(&path) {
            Ok(text) => toml::from_str::<Record>(&text)
                .map(|r| r.solutions)
                .map_err(|e| SolutionError::BadRecord {
                    path,
                    reason: e.message().to_owned(),
                }),
            Err(_) if course.has_solutions() => Ok(Source::Dir(course.root.join("solutions"))),
            Err(_) => Err(SolutionError::Unknown),
        }
    }

    /// The reference solution of `exercise`, and a name to show for it.
    pub fn read(&self, exercise: &Exercise) -> Result<(String, String), SolutionError> {
        let shown = Path::new("solutions")
            .join(&exercise.path)
            .display()
            .to_string();
        match self {
            Source::Builtin => BUILTIN
                .get_file(&exercise.path)
                .and_then(|f| f.contents_utf8())
                .map(|text| (text.to_owned(), shown))
                .ok_or_else(|| SolutionError::NotBuiltin(exercise.name.clone())),
            Source::Dir(dir) => {
                let path = dir.join(&exercise.path);
                fs::read_to_string(&path)
                    .map(|text| (text, path.display().to_string()))
                    .map_err(|source| SolutionError::Unreadable { path, source })
            }
        }
    }
}
