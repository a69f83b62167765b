//! `memlings next`: the learner moves on to the next pending exercise.

use anyhow::Result;
use colored::Colorize;

use super::{Outcome, Session};
use crate::course::Exercise;
use crate::report::human as report;

/// Makes the next pending exercise after the current one (in course
/// order, wrapping around) current. Skipping an exercise that has not
/// passed yet is allowed, and said.
pub fn next(mut session: Session) -> Result<Outcome> {
    if let Some(next) = advance(&mut session)? {
        print!("{}", report::description(&next));
        println!("{}", "`memlings check` checks it.".dimmed());
    }
    Ok(Outcome::Success)
}

/// Moves the current exercise on and saves; returns the new one, or
/// `None` (having said why) when there is nowhere to move.
pub fn advance(session: &mut Session) -> Result<Option<Exercise>> {
    let course = &session.course;
    let current = session.state.current(course).map(|e| e.name.clone());
    let Some(next) = session
        .state
        .next_pending(course, current.as_deref())
        .cloned()
    else {
        print!("{}", report::all_done());
        return Ok(None);
    };
    if let Some(current) = &current {
        if *current == next.name {
            println!("{current} is the only exercise left to do; it stays the current one.");
            return Ok(None);
        }
        if !session.state.is_done(current) {
            let note = format!("{current} has not passed yet; it stays pending.");
            println!("{}", note.dimmed());
        }
    }
    session.state.current = Some(next.name.clone());
    session.save()?;
    Ok(Some(next))
}
