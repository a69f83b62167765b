//! `memlings verify`: for authors, every solution and alternative passes,
//! every untouched template and planted mistake fails.

use anyhow::{Result, bail};

use super::{Outcome, Session};
use crate::attempt::Options;
use crate::course::{Exercise, Mistake, Variant};
use crate::hints;
use crate::judge::Verdict;
use crate::report::{
    self, AlternativeCheck, Format, MistakeCheck, Verification, VerifyResult, VerifySummary,
};

/// The `Caught-By` label that asks for a mistake to be run under memcheck.
const MEMORY_ERROR: &str = "memory error";

/// Checks the whole course, reporting each exercise. `memcheck` runs every
/// solution and alternative under valgrind; exercises with `memcheck =
/// true` always are. Mistakes run plainly unless they name `memory error`.
pub fn verify(session: &Session, memcheck: bool, format: Format) -> Result<Outcome> {
    let exercises = &session.course.exercises;
    super::require_valgrind(
        memcheck
            || exercises.iter().any(|e| e.memcheck)
            || exercises
                .iter()
                .flat_map(|e| &e.mistakes)
                .any(needs_memcheck),
    )?;
    if !session.course.has_solutions() {
        bail!(
            "{} has no solutions/ folder: `verify` runs in a course's source directory, not in a learner workspace",
            session.course.root.display()
        );
    }
    let mut reporter = report::reporter(format, &session.course);
    let mut summary = VerifySummary::default();
    for exercise in exercises {
        let Some(verification) = verify_one(session, exercise, memcheck || exercise.memcheck)?
        else {
            return Ok(Outcome::Interrupted);
        };
        reporter.verified(exercise, &verification);
        summary.add(&verification);
    }
    reporter.verify_finished(&summary);
    Ok(if summary.failures == 0 {
        Outcome::Success
    } else {
        Outcome::Failed
    })
}

/// Whether a mistake is to be caught by valgrind, and so run under it.
fn needs_memcheck(mistake: &Mistake) -> bool {
    mistake.caught_by.as_deref() == Some(MEMORY_ERROR)
}

/// Verifies one exercise, building all its variants at once; `None` when
/// Ctrl-C stopped it.
fn verify_one<'a>(
    session: &Session,
    exercise: &'a Exercise,
    memcheck: bool,
) -> Result<Option<Verification<'a>>> {
    let solution = session.course.solution_path(exercise);
    if !solution.is_file() {
        return Ok(Some(Verification {
            result: VerifyResult::NoSolution(solution),
            mistakes: Vec::new(),
            alternatives: Vec::new(),
        }));
    }
    let template = Options {
        probes: false, // it fails before they would matter
        ..session.options(Variant::Learner, false)
    };
    let mut runs = vec![session.options(Variant::Solution, memcheck), template];
    runs.extend(
        exercise
            .alternatives
            .iter()
            .map(|a| session.options(Variant::Alternative(a), memcheck)),
    );
    runs.extend(
        exercise
            .mistakes
            .iter()
            .map(|m| session.options(Variant::Mistake(m), needs_memcheck(m))),
    );
    let attempts = session.attempt_all(exercise, &runs)?;
    if attempts.len() < runs.len() || attempts.iter().any(|a| a.verdict == Verdict::Interrupted) {
        return Ok(None);
    }
    // In the order of `runs`: solution, template, alternatives, mistakes.
    let mut verdicts = attempts.into_iter().map(|a| a.verdict);
    let (Some(solved), Some(template)) = (verdicts.next(), verdicts.next()) else {
        return Ok(None);
    };
    let alternatives = exercise
        .alternatives
        .iter()
        .zip(verdicts.by_ref())
        .map(|(alternative, verdict)| AlternativeCheck {
            alternative,
            verdict,
        })
        .collect();
    let mistakes = exercise
        .mistakes
        .iter()
        .zip(verdicts)
        .map(|(mistake, verdict)| MistakeCheck {
            selected_hint: hints::select(&exercise.targeted_hints, &verdict),
            mistake,
            verdict,
        })
        .collect();
    let result = match (solved.passed(), template) {
        (false, _) => VerifyResult::SolutionFails(solved),
        (true, Verdict::Pass) => VerifyResult::TemplatePasses,
        (true, template) => VerifyResult::Verified { memcheck, template },
    };
    Ok(Some(Verification {
        result,
        mistakes,
        alternatives,
    }))
}
