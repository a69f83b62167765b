//! Reporting verdicts to a person (`human`) or a machine (`json`). Commands
//! hand plain data to a [`Reporter`]; only reporters print.

pub mod human;
mod json;

use std::path::PathBuf;

use clap::ValueEnum;

use crate::attempt::Attempt;
use crate::course::{Course, Exercise};
use crate::judge::Verdict;
use crate::state::State;

/// Output formats of `check`, `verify` and `list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Colored text for a person.
    Human,
    /// One JSON object per line, for scripts and graders.
    Json,
}

/// A judged `check`.
pub struct CheckReport<'a> {
    pub exercise: &'a Exercise,
    pub attempt: &'a Attempt,
    /// After a failure: how many hints are now revealed.
    pub hints_shown: Option<usize>,
    /// The next pending exercise after this one, if any: where
    /// `memlings next` would move.
    pub next: Option<&'a str>,
    /// Whether this check completed the course: it passed, and before it
    /// some exercise was still pending. The completion message is shown
    /// then, and only then.
    pub completed_course: bool,
    /// Whether the run was under valgrind memcheck.
    pub memcheck: bool,
    /// After a plain pass of code with `unsafe`: suggest `--memcheck`.
    pub suggest_memcheck: bool,
}

/// How one exercise fared in `verify`.
#[derive(Debug)]
pub enum VerifyResult {
    /// The solution passes (under memcheck if asked) and the template fails.
    Verified { memcheck: bool, template: Verdict },
    /// There is no reference solution file.
    NoSolution(PathBuf),
    /// The reference solution does not pass.
    SolutionFails(Verdict),
    /// The untouched template already passes.
    TemplatePasses,
}

impl VerifyResult {
    /// Whether this exercise is verified.
    pub fn ok(&self) -> bool {
        matches!(self, VerifyResult::Verified { .. })
    }
}

/// Receives what the commands found and shows it.
pub trait Reporter {
    /// `check` is about to build `exercise`; `describe` asks for its
    /// description too.
    fn check_started(&mut self, exercise: &Exercise, describe: bool);
    /// `check` judged an attempt.
    fn checked(&mut self, report: &CheckReport<'_>);
    /// `check` found nothing left to do.
    fn all_done(&mut self);
    /// `verify` finished one exercise.
    fn verified(&mut self, exercise: &Exercise, result: &VerifyResult);
    /// `verify` finished the course.
    fn verify_finished(&mut self, failures: usize, total: usize);
    /// `list`: the course and the learner's progress.
    fn listed(&mut self, course: &Course, state: &State);
}

/// The reporter for `format`.
pub fn reporter(format: Format, course: &Course) -> Box<dyn Reporter> {
    match format {
        Format::Human => Box::new(human::Human::new(course)),
        Format::Json => Box::new(json::Json),
    }
}
