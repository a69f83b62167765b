//! `memlings check [NAME]`: build, run, judge; record a pass or reveal a hint.

use anyhow::Result;

use super::{Outcome, Session};
use crate::course::Variant;
use crate::judge::Verdict;
use crate::report::{self, CheckReport, Format};

/// After a failure, whether to reveal one more hint or only repeat the
/// ones already revealed (watch mode, where every save is a check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HintPolicy {
    RevealNext,
    KeepLevel,
}

/// Checks `name`, or the first pending exercise.
pub fn check(
    mut session: Session,
    name: Option<&str>,
    memcheck: bool,
    format: Format,
) -> Result<Outcome> {
    super::require_valgrind(memcheck)?;
    check_with(&mut session, name, memcheck, format, HintPolicy::RevealNext)
}

/// `check`, with the hint policy chosen by the caller.
pub fn check_with(
    session: &mut Session,
    name: Option<&str>,
    memcheck: bool,
    format: Format,
    hints: HintPolicy,
) -> Result<Outcome> {
    let mut reporter = report::reporter(format, &session.course);
    let Some(name) = name.map(str::to_owned).or_else(|| next_pending(session)) else {
        reporter.all_done();
        return Ok(Outcome::Success);
    };
    let exercise = session.course.exercise(&name)?.clone();
    reporter.check_started(&exercise);
    let attempt = session.attempt(&exercise, Variant::Learner, memcheck)?;
    let (outcome, hints_shown) = match &attempt.verdict {
        Verdict::Interrupted => return Ok(Outcome::Interrupted),
        Verdict::Pass => {
            session.state.done.insert(name);
            (Outcome::Success, None)
        }
        _ => {
            session.state.done.remove(&name);
            let shown = session.state.hints_shown(&name);
            let spend = hints == HintPolicy::RevealNext && earns_new_hint(&attempt.verdict);
            let shown = if shown == 0 || spend {
                session.state.reveal_hint(&name, exercise.hints.len())
            } else {
                shown
            };
            (Outcome::Failed, Some(shown))
        }
    };
    session.save()?;
    let next = next_pending(session);
    reporter.checked(&CheckReport {
        exercise: &exercise,
        attempt: &attempt,
        hints_shown,
        next: next.as_deref(),
        memcheck,
    });
    Ok(outcome)
}

/// Whether a failure deserves a new hint. Unfinished code (a `todo!()`
/// still reached) and code that does not compile yet repeat the hints
/// already revealed instead, so typos do not spend them.
fn earns_new_hint(verdict: &Verdict) -> bool {
    !matches!(verdict, Verdict::CompileError { .. }) && !verdict.is_unfinished()
}

/// The first exercise not yet done.
pub fn next_pending(session: &Session) -> Option<String> {
    session
        .course
        .exercises
        .iter()
        .find(|e| !session.state.is_done(&e.name))
        .map(|e| e.name.clone())
}
