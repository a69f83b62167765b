//! `memlings hint [NAME] [--all]`: reveal hints one at a time.

use anyhow::Result;

use super::{NoCurrentExercise, Outcome, Session};
use crate::course::Exercise;
use crate::report::human as report;

/// Reveals one more hint (or all of them) of `name`, or of the current
/// exercise, and shows those revealed so far.
pub fn hint(mut session: Session, name: Option<&str>, all: bool) -> Result<Outcome> {
    let exercise = session
        .select(name)?
        .ok_or(NoCurrentExercise { command: "hint" })?;
    print!("{}", reveal(&mut session, &exercise, all)?);
    Ok(Outcome::Success)
}

/// Reveals one more hint of `exercise` (or all), saves, and returns the
/// revealed hints, rendered.
pub fn reveal(session: &mut Session, exercise: &Exercise, all: bool) -> Result<String> {
    let total = exercise.hints.len();
    let shown = if all {
        session.state.hints.insert(exercise.name.clone(), total);
        total
    } else {
        session.state.reveal_hint(&exercise.name, total)
    };
    session.save()?;
    Ok(report::hints(exercise, shown))
}
