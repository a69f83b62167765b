//! Grading: every exercise of a course checked afresh, for a class of
//! submissions (`memlings grade`) or for one learner's workspace
//! (`memlings check --all`).
//!
//! The data flows through one module per stage: `assemble` gives each
//! submission a private course, made of the source course and nothing of
//! the submission but the learner's module files; `build` compiles in a
//! target directory shared by all submissions, so dependencies compile once;
//! `exercises` runs and judges every exercise of one course; `pool` grades
//! submissions in parallel and `progress` shows how far it got. The
//! resulting [`Scorecard`]s are worded by `report::grade` and `report::junit`.

pub mod assemble;
pub mod build;
pub mod exercises;
pub mod isolation;
mod pool;
mod progress;

use std::collections::{BTreeSet, hash_map::DefaultHasher};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use thiserror::Error;

use crate::attempt::Attempt;
use crate::course::Course;
use assemble::Unavailable;
use build::{Builder, SharedTarget};
use progress::Progress;

/// What became of one exercise.
#[derive(Debug)]
pub enum ExerciseResult {
    /// Built, run and judged.
    Judged(Box<Attempt>),
    /// The learner's module could not be taken from the submission.
    Unavailable(Unavailable),
}

/// One exercise of one submission, graded.
#[derive(Debug)]
pub struct ExerciseGrade {
    /// The exercise's name.
    pub exercise: String,
    pub result: ExerciseResult,
}

impl ExerciseGrade {
    /// Whether the exercise passed.
    pub fn passed(&self) -> bool {
        matches!(&self.result, ExerciseResult::Judged(a) if a.verdict.passed())
    }

    /// A short label: `pass`, the verdict's label, or why the file is missing.
    pub fn label(&self) -> &'static str {
        match &self.result {
            ExerciseResult::Judged(attempt) => attempt.verdict.label(),
            ExerciseResult::Unavailable(why) => why.label(),
        }
    }
}

/// Every exercise of one submission (or workspace), in course order.
#[derive(Debug)]
pub struct Scorecard {
    /// The submission as named on the command line, or the workspace's path.
    pub submission: String,
    pub grades: Vec<ExerciseGrade>,
}

impl Scorecard {
    /// How many exercises passed.
    pub fn passed(&self) -> usize {
        self.grades.iter().filter(|g| g.passed()).count()
    }

    /// How many exercises were graded: all of the course's.
    pub fn total(&self) -> usize {
        self.grades.len()
    }

    /// The share of exercises passed, in percent (100 for an empty course).
    pub fn score(&self) -> f64 {
        match self.total() {
            0 => 100.0,
            total => 100.0 * self.passed() as f64 / total as f64,
        }
    }
}

/// What `grade` was asked to do.
#[derive(Debug, Clone)]
pub struct Request {
    /// Submission directories, as named on the command line.
    pub submissions: Vec<PathBuf>,
    /// How many submissions to grade at once.
    pub jobs: usize,
    /// Grade even when programs cannot be isolated.
    pub allow_no_isolation: bool,
}

/// The result of grading a class.
#[derive(Debug)]
pub struct Grading {
    /// One scorecard per submission, in the order of the request.
    pub cards: Vec<Scorecard>,
    /// Whether learner programs ran isolated.
    pub isolated: bool,
}

impl Grading {
    /// How many submissions scored below `pct` percent (none without one).
    pub fn below(&self, pct: Option<f64>) -> usize {
        pct.map_or(0, |pct| {
            self.cards.iter().filter(|c| c.score() < pct).count()
        })
    }

    /// The mean of the scores (100 for no submissions).
    pub fn mean_score(&self) -> f64 {
        match self.cards.len() {
            0 => 100.0,
            n => self.cards.iter().map(Scorecard::score).sum::<f64>() / n as f64,
        }
    }
}

/// What stops a class from being graded at all.
#[derive(Debug, Error)]
pub enum GradeError {
    #[error(
        "learner programs cannot be isolated on this machine ({reason}); grading runs other people's code, so it needs isolation. Pass --allow-no-isolation to grade anyway, for example inside a throwaway CI job or container"
    )]
    NoIsolation { reason: String },
    #[error("submission {} is not a directory", path.display())]
    NotADirectory { path: PathBuf },
    #[error("submission {} is named twice", path.display())]
    Duplicate { path: PathBuf },
}

/// Grades every submission against `source`, assembling them under
/// `work_dir` (kept between runs, so dependencies stay compiled).
pub fn grade(source: &Course, work_dir: &Path, request: &Request) -> Result<Grading> {
    isolation::require(request.allow_no_isolation)
        .map_err(|reason| GradeError::NoIsolation { reason })?;
    let roots = submission_roots(&request.submissions)?;
    let shared = SharedTarget::new(work_dir);
    let progress = Progress::new(roots.len(), roots.len() * source.exercises.len());
    let results = pool::map(&roots, request.jobs, |(name, root)| {
        let card = grade_one(source, &shared, work_dir, name, root, &progress);
        progress.submission_done();
        card
    });
    progress.finish();
    let cards = results.into_iter().collect::<Result<Vec<_>>>()?;
    Ok(Grading {
        cards,
        isolated: isolation::used(),
    })
}

/// Each submission's name as given and its canonical directory; every one
/// must be a directory, named once.
fn submission_roots(submissions: &[PathBuf]) -> Result<Vec<(String, PathBuf)>, GradeError> {
    let mut seen = BTreeSet::new();
    submissions
        .iter()
        .map(|path| {
            let root = path
                .canonicalize()
                .ok()
                .filter(|root| root.is_dir())
                .ok_or_else(|| GradeError::NotADirectory { path: path.clone() })?;
            if !seen.insert(root.clone()) {
                return Err(GradeError::Duplicate { path: path.clone() });
            }
            Ok((path.display().to_string(), root))
        })
        .collect()
}

/// Assembles and grades one submission.
fn grade_one(
    source: &Course,
    shared: &SharedTarget,
    work_dir: &Path,
    name: &str,
    root: &Path,
    progress: &Progress,
) -> Result<Scorecard> {
    if crate::interrupt::requested() {
        anyhow::bail!(crate::interrupt::Interrupted);
    }
    let (dir, id) = private_dir(work_dir, root);
    let assembled = assemble::assemble(source, root, &dir)
        .with_context(|| format!("cannot assemble submission {name} in {}", dir.display()))?;
    let builder = Builder::shared(&assembled.course, &assembled.workspace, shared, &id);
    let grades = exercises::check_course(
        &assembled.course,
        &assembled.workspace,
        &builder,
        &assembled.unavailable,
        false,
        || progress.exercise_done(),
    )?;
    Ok(Scorecard {
        submission: name.to_owned(),
        grades,
    })
}

/// A stable directory per submission, so that grading it again rebuilds
/// only what changed, named by its last name and a hash of its canonical
/// path; and the hash, in hex, to tell its binaries apart.
fn private_dir(work_dir: &Path, root: &Path) -> (PathBuf, String) {
    let mut hasher = DefaultHasher::new();
    root.hash(&mut hasher);
    let stem: String = root
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default()
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() || c == '-' {
            true => c,
            false => '_',
        })
        .take(40)
        .collect();
    let id = format!("{:016x}", hasher.finish());
    let dir = work_dir.join("submissions").join(format!("{stem}-{id}"));
    (dir, id)
}
