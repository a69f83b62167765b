//! Reporting verdicts to a person (`human`) or a machine (`json`). Commands
//! hand plain data to a [`Reporter`]; only reporters print.

pub mod grade;
pub mod human;
pub mod json;
pub mod junit;

use std::path::PathBuf;

use clap::ValueEnum;

use crate::attempt::Attempt;
use crate::course::{Alternative, Course, Exercise, Mistake, TargetedHint};
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
    /// After a failure: the targeted hint that answers it, if any.
    pub targeted_hint: Option<&'a TargetedHint>,
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
    /// Whether the solution and the template are as they must be.
    pub fn ok(&self) -> bool {
        matches!(self, VerifyResult::Verified { .. })
    }
}

/// Everything `verify` found about one exercise.
#[derive(Debug)]
pub struct Verification<'a> {
    /// The reference solution and the untouched template.
    pub result: VerifyResult,
    /// Each planted mistake, in slug order.
    pub mistakes: Vec<MistakeCheck<'a>>,
    /// Each alternative solution, in slug order.
    pub alternatives: Vec<AlternativeCheck<'a>>,
}

impl Verification<'_> {
    /// Whether the exercise is verified: the solution and template as they
    /// must be, every mistake caught and every alternative passing.
    pub fn ok(&self) -> bool {
        self.result.ok()
            && self.mistakes.iter().all(MistakeCheck::caught)
            && self.alternatives.iter().all(AlternativeCheck::passed)
    }
}

/// A planted mistake and the verdict on it.
#[derive(Debug)]
pub struct MistakeCheck<'a> {
    pub mistake: &'a Mistake,
    pub verdict: Verdict,
    /// The targeted hint the verdict selects, if any.
    pub selected_hint: Option<&'a TargetedHint>,
}

impl MistakeCheck<'_> {
    /// Whether the mistake failed, with the verdict its `Caught-By` names
    /// and the targeted hint its `Hint` names.
    pub fn caught(&self) -> bool {
        !self.verdict.passed() && self.as_named() && self.hint_as_named()
    }

    /// Whether the verdict selects the targeted hint `Hint` names, if it
    /// names one.
    pub fn hint_as_named(&self) -> bool {
        let selected = self.selected_hint.map(|hint| hint.id.as_str());
        self.mistake
            .hint
            .as_deref()
            .is_none_or(|id| Some(id) == selected)
    }

    /// Whether the verdict is the one `Caught-By` names, if it names one.
    pub fn as_named(&self) -> bool {
        let expected = self.mistake.caught_by.as_deref();
        expected.is_none_or(|label| label == self.verdict.label())
    }
}

/// An alternative solution and the verdict on it.
#[derive(Debug)]
pub struct AlternativeCheck<'a> {
    pub alternative: &'a Alternative,
    pub verdict: Verdict,
}

impl AlternativeCheck<'_> {
    /// Whether the alternative passes, as it must.
    pub fn passed(&self) -> bool {
        self.verdict.passed()
    }
}

/// The totals of a whole `verify`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifySummary {
    /// Exercises not verified.
    pub failures: usize,
    /// Exercises verified or not.
    pub total: usize,
    pub mistakes_caught: usize,
    pub mistakes_total: usize,
    pub alternatives_passed: usize,
    pub alternatives_total: usize,
}

impl VerifySummary {
    /// Counts one exercise's verification in.
    pub fn add(&mut self, verification: &Verification<'_>) {
        let Verification {
            mistakes,
            alternatives,
            ..
        } = verification;
        self.failures += usize::from(!verification.ok());
        self.total += 1;
        self.mistakes_caught += mistakes.iter().filter(|m| m.caught()).count();
        self.mistakes_total += mistakes.len();
        self.alternatives_passed += alternatives.iter().filter(|a| a.passed()).count();
        self.alternatives_total += alternatives.len();
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
    fn verified(&mut self, exercise: &Exercise, verification: &Verification<'_>);
    /// `verify` finished the course.
    fn verify_finished(&mut self, summary: &VerifySummary);
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
