//! `memlings check [NAME]`: build, run, judge; record a pass or reveal a hint.

use anyhow::Result;

use super::{Outcome, Session};
use crate::course::Variant;
use crate::judge::Verdict;
use crate::report::{self, CheckReport, Format};

/// Checks `name`, or the first pending exercise.
pub fn check(
    mut session: Session,
    name: Option<&str>,
    memcheck: bool,
    format: Format,
) -> Result<Outcome> {
    super::require_valgrind(memcheck)?;
    let mut reporter = report::reporter(format, &session.course);
    let Some(name) = name.map(str::to_owned).or_else(|| next_pending(&session)) else {
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
            let shown = session.state.reveal_hint(&name, exercise.hints.len());
            (Outcome::Failed, Some(shown))
        }
    };
    session.save()?;
    let next = next_pending(&session);
    reporter.checked(&CheckReport {
        exercise: &exercise,
        attempt: &attempt,
        hints_shown,
        next: next.as_deref(),
    });
    Ok(outcome)
}

fn next_pending(session: &Session) -> Option<String> {
    session
        .course
        .exercises
        .iter()
        .find(|e| !session.state.is_done(&e.name))
        .map(|e| e.name.clone())
}
