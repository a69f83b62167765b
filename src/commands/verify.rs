//! `memlings verify`: for authors, every solution passes and every
//! untouched template fails.

use anyhow::{Result, bail};

use super::{Outcome, Session};
use crate::course::{Exercise, Variant};
use crate::judge::Verdict;
use crate::report::{self, Format, VerifyResult};

/// Checks the whole course, reporting each exercise. `memcheck` runs every
/// solution under valgrind; exercises with `memcheck = true` always are.
pub fn verify(session: &Session, memcheck: bool, format: Format) -> Result<Outcome> {
    super::require_valgrind(memcheck || session.course.exercises.iter().any(|e| e.memcheck))?;
    if !session.course.has_solutions() {
        bail!(
            "{} has no solutions/ folder: `verify` runs in a course's source directory, not in a learner workspace",
            session.course.root.display()
        );
    }
    let mut reporter = report::reporter(format, &session.course);
    let mut failures = 0;
    for exercise in &session.course.exercises {
        let Some(result) = verify_one(session, exercise, memcheck || exercise.memcheck)? else {
            return Ok(Outcome::Interrupted);
        };
        reporter.verified(exercise, &result);
        failures += usize::from(!result.ok());
    }
    reporter.verify_finished(failures, session.course.exercises.len());
    Ok(if failures == 0 {
        Outcome::Success
    } else {
        Outcome::Failed
    })
}

/// Verifies one exercise; `None` when Ctrl-C stopped it.
fn verify_one(
    session: &Session,
    exercise: &Exercise,
    memcheck: bool,
) -> Result<Option<VerifyResult>> {
    let solution = session.course.module_path(exercise, Variant::Solution);
    if !solution.is_file() {
        return Ok(Some(VerifyResult::NoSolution(solution)));
    }
    let run = |variant, memcheck| {
        session
            .attempt(exercise, variant, memcheck)
            .map(|a| a.verdict)
    };
    let solved = run(Variant::Solution, memcheck)?;
    if solved == Verdict::Interrupted {
        return Ok(None);
    }
    if !solved.passed() {
        return Ok(Some(VerifyResult::SolutionFails(solved)));
    }
    Ok(match run(Variant::Learner, false)? {
        Verdict::Interrupted => None,
        Verdict::Pass => Some(VerifyResult::TemplatePasses),
        template => Some(VerifyResult::Verified { memcheck, template }),
    })
}
