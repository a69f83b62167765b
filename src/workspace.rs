//! The runner's own corner of a course directory, `.memlings/`: learner
//! state, the build harness, scratch directories, backups and the lock.

use std::fs::{self, File, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

/// Name of the runner's directory inside a course.
pub const DIR: &str = ".memlings";

/// Paths of the runner's files in one course.
#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
}

impl Workspace {
    /// The workspace of the course at `course_root`.
    pub fn new(course_root: &Path) -> Self {
        Workspace {
            root: course_root.join(DIR),
        }
    }

    /// The course definition of a workspace made by `init`, kept here so
    /// that its hints are not in a file the learner browses.
    pub fn course_file(&self) -> PathBuf {
        self.root.join("course.toml")
    }

    /// Progress and hint levels.
    pub fn state_file(&self) -> PathBuf {
        self.root.join("state.toml")
    }

    /// The persistent Cargo project exercises are built in.
    pub fn build_dir(&self) -> PathBuf {
        self.root.join("build")
    }

    /// Where `grade`, run in a course source, assembles submissions and
    /// keeps the build target they share.
    pub fn grade_dir(&self) -> PathBuf {
        self.root.join("grade")
    }

    /// Pristine templates, kept by `init` for `reset`.
    pub fn originals_dir(&self) -> PathBuf {
        self.root.join("originals")
    }

    /// Where `init` records where the reference solutions are.
    pub fn solutions_record(&self) -> PathBuf {
        self.root.join("solutions.toml")
    }

    /// Where `reset` keeps the learner's files.
    pub fn backups_dir(&self) -> PathBuf {
        self.root.join("backups")
    }

    /// A fresh, empty working directory for one run of an exercise.
    pub fn scratch_dir(&self, exercise: &str) -> Result<PathBuf> {
        self.clear_scratch_dir(exercise)?;
        let dir = self.root.join("run").join(exercise);
        fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create scratch directory {}", dir.display()))?;
        Ok(dir)
    }

    /// Removes the working directory of an exercise's runs and all that a
    /// program left in it, even read-only directories.
    pub fn clear_scratch_dir(&self, exercise: &str) -> Result<()> {
        let dir = self.root.join("run").join(exercise);
        remove_tree(&dir)
            .with_context(|| format!("cannot clear scratch directory {}", dir.display()))
    }

    /// What learner programs must not see of a course: the expected
    /// outputs, the solutions, and the runner's own directory (state,
    /// builds, other exercises' binaries).
    pub fn hidden_from_programs(&self, course_root: &Path) -> Vec<PathBuf> {
        vec![
            course_root.join("expected"),
            course_root.join("solutions"),
            self.root.clone(),
        ]
    }

    /// Takes the workspace lock, waiting (and saying so) while another
    /// memlings holds it. Released when the returned guard drops.
    pub fn lock(&self) -> Result<File> {
        fs::create_dir_all(&self.root)
            .with_context(|| format!("cannot create {}", self.root.display()))?;
        let path = self.root.join("lock");
        let file =
            File::create(&path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut said = false;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(file),
                Err(TryLockError::WouldBlock) => {
                    if !said {
                        eprintln!(
                            "waiting for another memlings working in this course to finish..."
                        );
                        said = true;
                    }
                    if crate::interrupt::requested() {
                        anyhow::bail!(crate::interrupt::Interrupted);
                    }
                    thread::sleep(Duration::from_millis(50));
                }
                Err(TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("cannot lock {}", path.display()));
                }
            }
        }
    }
}

/// Removes a directory tree, first making every directory in it writable
/// and searchable, so that a program's read-only leftovers go too.
/// Symbolic links are removed, never followed. A missing tree is fine.
pub fn remove_tree(dir: &Path) -> io::Result<()> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(_) => {
            make_writable(dir);
            fs::remove_dir_all(dir).or_else(|e| match e.kind() {
                io::ErrorKind::NotFound => Ok(()),
                _ => Err(e),
            })
        }
        Ok(()) => Ok(()),
    }
}

/// Gives the owner full rights on every directory under `dir` (itself
/// included), not following symbolic links. Errors are left for the
/// removal to report.
fn make_writable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = fs::symlink_metadata(dir) else {
        return;
    };
    if !meta.is_dir() {
        return;
    }
    let mode = meta.permissions().mode() | 0o700;
    let _ = fs::set_permissions(dir, fs::Permissions::from_mode(mode));
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        make_writable(&entry.path());
    }
}

/// Writes `contents` to `path` atomically: a temp file in the same
/// directory, flushed, then renamed over the target.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Copies `file` into `dir` under a timestamped name that never overwrites
/// an earlier backup; returns the backup's path.
pub fn backup(file: &Path, dir: &Path, label: &str) -> Result<PathBuf> {
    let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("bak");
    let target = claim_unique(dir, label, ext)?;
    fs::copy(file, &target)
        .with_context(|| format!("cannot back up {} to {}", file.display(), target.display()))?;
    Ok(target)
}

/// Creates a new empty file `dir/LABEL-<UTC time>[-N].EXT` that did not
/// exist before, so that keeping a copy never overwrites an earlier one.
pub fn claim_unique(dir: &Path, label: &str, ext: &str) -> Result<PathBuf> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // `2026-11-25T12-40-03Z`: readable, sortable, and no `:` in file names.
    let stamp = humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .replace(':', "-");
    for n in 0u32.. {
        let suffix = if n == 0 {
            String::new()
        } else {
            format!("-{n}")
        };
        let target = dir.join(format!("{label}-{stamp}{suffix}.{ext}"));
        match File::create_new(&target) {
            Ok(_) => return Ok(target),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", target.display())),
        }
    }
    unreachable!("u32 suffixes exhausted")
}
