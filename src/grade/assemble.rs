//! A submission's private course: a copy of the source course's
//! `course.toml`, `exercises/` (drivers, templates, probes) and `expected/`,
//! never its `solutions/`, with the learner's module files put in place.
//! Nothing else is taken from the submission: not its state, not its
//! expected outputs or drivers. A module that is missing, unreadable or a
//! symbolic link is left out and reported as [`Unavailable`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use thiserror::Error;

use crate::course::{COURSE_FILE, Course, CourseError};
use crate::workspace::Workspace;

/// A learner's module larger than this is refused.
pub const MAX_MODULE_BYTES: u64 = 1024 * 1024;

/// Why a learner's module could not be taken from a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// No such file.
    Missing { path: PathBuf },
    /// The file exists but reading it failed.
    Unreadable { path: PathBuf, reason: String },
    /// The file is not something memlings grades.
    Refused { path: PathBuf, reason: &'static str },
}

impl Unavailable {
    /// A short label, in the place of a verdict's.
    pub fn label(&self) -> &'static str {
        match self {
            Unavailable::Missing { .. } => "missing file",
            Unavailable::Unreadable { .. } => "unreadable file",
            Unavailable::Refused { .. } => "refused file",
        }
    }
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unavailable::Missing { path } => {
                write!(f, "the submission has no file {}", path.display())
            }
            Unavailable::Unreadable { path, reason } => {
                write!(f, "cannot read {}: {reason}", path.display())
            }
            Unavailable::Refused { path, reason } => write!(f, "{} {reason}", path.display()),
        }
    }
}

/// A submission's course, ready to grade.
pub struct Assembled {
    /// The private course, loaded.
    pub course: Course,
    /// Its runner directory (harness, scratch directories).
    pub workspace: Workspace,
    /// Exercises whose module the submission did not provide, by name.
    pub unavailable: BTreeMap<String, Unavailable>,
}

/// Failures of assembling itself, as opposed to a submission's files.
#[derive(Debug, Error)]
pub enum AssembleError {
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read the course source at {}", path.display())]
    Source {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the assembled course does not load")]
    Course(#[from] CourseError),
}

/// Assembles in `dir` the course `source` with the modules of the
/// submission at `submission`. Files whose content is unchanged since the
/// last assembly are left alone, so Cargo rebuilds only what changed.
pub fn assemble(
    source: &Course,
    submission: &Path,
    dir: &Path,
) -> Result<Assembled, AssembleError> {
    let modules: BTreeSet<PathBuf> = source.exercises.iter().map(|e| e.path.clone()).collect();
    sync_file(&source.root.join(COURSE_FILE), &dir.join(COURSE_FILE))?;
    sync_tree(
        &source.root.join("exercises"),
        &dir.join("exercises"),
        &|relative| modules.contains(relative),
    )?;
    sync_tree(
        &source.root.join("expected"),
        &dir.join("expected"),
        &|_| false,
    )?;
    let mut unavailable = BTreeMap::new();
    for exercise in &source.exercises {
        let target = dir.join("exercises").join(&exercise.path);
        match take_module(submission, &Path::new("exercises").join(&exercise.path)) {
            Ok(text) => write_if_changed(&target, &text)?,
            Err(why) => {
                remove_file(&target)?;
                unavailable.insert(exercise.name.clone(), why);
            }
        }
    }
    Ok(Assembled {
        course: Course::load_for_repair(dir)?,
        workspace: Workspace::new(dir),
        unavailable,
    })
}

/// Reads `relative` (a path without `..`) inside `root`, refusing symbolic
/// links on the way, anything but a regular file, and oversized files.
pub fn take_module(root: &Path, relative: &Path) -> Result<Vec<u8>, Unavailable> {
    let mut path = root.to_path_buf();
    let mut components = relative.components().peekable();
    while let Some(component) = components.next() {
        let Component::Normal(part) = component else {
            return Err(Unavailable::Refused {
                path: relative.to_path_buf(),
                reason: "leaves the submission",
            });
        };
        path.push(part);
        let refused = |reason| Unavailable::Refused {
            path: relative.to_path_buf(),
            reason,
        };
        let meta = fs::symlink_metadata(&path).map_err(|e| unreadable(relative, e))?;
        if meta.file_type().is_symlink() {
            return Err(refused(
                "is or lies under a symbolic link; only regular files are graded",
            ));
        }
        let last = components.peek().is_none();
        if last && !meta.is_file() {
            return Err(refused("is not a regular file"));
        }
        if last && meta.len() > MAX_MODULE_BYTES {
            return Err(refused("is larger than 1 MiB"));
        }
    }
    let bytes = read_no_follow(&path).map_err(|e| unreadable(relative, e))?;
    match std::str::from_utf8(&bytes) {
        Ok(_) => Ok(bytes),
        Err(_) => Err(Unavailable::Refused {
            path: relative.to_path_buf(),
            reason: "is not UTF-8 text, as Rust source must be",
        }),
    }
}

/// Reads a file without following a symbolic link in its last component,
/// and at most one byte past the size cap.
fn read_no_follow(path: &Path) -> io::Result<Vec<u8>> {
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    let mut bytes = Vec::new();
    file.take(MAX_MODULE_BYTES + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn unreadable(relative: &Path, error: io::Error) -> Unavailable {
    match error.kind() {
        io::ErrorKind::NotFound => Unavailable::Missing {
            path: relative.to_path_buf(),
        },
        _ => Unavailable::Unreadable {
            path: relative.to_path_buf(),
            reason: error.to_string(),
        },
    }
}

/// Copies the regular files under `from` to `to`, skipping symbolic links
/// and the files `skip` names (relative to `from`).
fn sync_tree(from: &Path, to: &Path, skip: &dyn Fn(&Path) -> bool) -> Result<(), AssembleError> {
    sync_dir(from, to, Path::new(""), skip)
}

fn sync_dir(
    from: &Path,
    to: &Path,
    relative: &Path,
    skip: &dyn Fn(&Path) -> bool,
) -> Result<(), AssembleError> {
    let dir = from.join(relative);
    let source_error = |source| AssembleError::Source {
        path: dir.clone(),
        source,
    };
    for entry in fs::read_dir(&dir).map_err(source_error)? {
        let entry = entry.map_err(source_error)?;
        let kind = entry.file_type().map_err(source_error)?;
        let path = relative.join(entry.file_name());
        if kind.is_dir() {
            sync_dir(from, to, &path, skip)?;
        } else if kind.is_file() && !skip(&path) {
            sync_file(&from.join(&path), &to.join(&path))?;
        }
    }
    Ok(())
}

fn sync_file(from: &Path, to: &Path) -> Result<(), AssembleError> {
    let text = fs::read(from).map_err(|source| AssembleError::Source {
        path: from.to_path_buf(),
        source,
    })?;
    write_if_changed(to, &text)
}

/// Rewriting an identical file would bump its mtime and force a rebuild.
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), AssembleError> {
    if fs::read(path).ok().as_deref() == Some(bytes) {
        return Ok(());
    }
    let write_error = |source| AssembleError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(write_error)?;
    }
    fs::write(path, bytes).map_err(write_error)
}

fn remove_file(path: &Path) -> Result<(), AssembleError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(AssembleError::Write {
            path: path.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_regular_files_and_refuses_links() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir_all(root.join("exercises/a")).unwrap();
        fs::write(root.join("exercises/a/m.rs"), "fn x() {}").unwrap();
        fs::write(root.join("secret.rs"), "solution").unwrap();
        std::os::unix::fs::symlink(root.join("secret.rs"), root.join("exercises/a/l.rs")).unwrap();
        std::os::unix::fs::symlink(root.join("exercises/a"), root.join("exercises/b")).unwrap();
        let take = |p: &str| take_module(root, Path::new(p));
        assert_eq!(take("exercises/a/m.rs").unwrap(), b"fn x() {}");
        assert_eq!(
            take("exercises/a/l.rs").unwrap_err().label(),
            "refused file"
        );
        assert_eq!(
            take("exercises/b/m.rs").unwrap_err().label(),
            "refused file"
        );
        assert_eq!(take("exercises/a").unwrap_err().label(), "refused file");
        assert_eq!(
            take("exercises/a/none.rs").unwrap_err().label(),
            "missing file"
        );
        assert_eq!(
            take("exercises/c/m.rs").unwrap_err().label(),
            "missing file"
        );
        assert_eq!(take("../x.rs").unwrap_err().label(), "refused file");
        let big = "x".repeat(MAX_MODULE_BYTES as usize + 1);
        fs::write(root.join("exercises/a/big.rs"), big).unwrap();
        assert_eq!(
            take("exercises/a/big.rs").unwrap_err().label(),
            "refused file"
        );
        fs::write(root.join("exercises/a/bin.rs"), [0xff, 0xfe]).unwrap();
        assert_eq!(
            take("exercises/a/bin.rs").unwrap_err().label(),
            "refused file"
        );
    }
}
