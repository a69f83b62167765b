//! `memlings check [NAME]`: build, run, judge; record a pass or show a hint.

use anyhow::Result;
use colored::Colorize;

use super::{Outcome, Session};
use crate::course::Variant;
use crate::judge::Verdict;
use crate::report;

/// Checks `name`, or the first pending exercise.
pub fn check(mut session: Session, name: Option<&str>, memcheck: bool) -> Result<Outcome> {
    super::require_valgrind(memcheck)?;
    let name = match name {
        Some(name) => session.course.exercise(name)?.name.clone(),
        None => match next_pending(&session) {
            Some(name) => name,
            None => {
                println!("{} every exercise is done. Well done!", "✓".green().bold());
                return Ok(Outcome::Success);
            }
        },
    };
    let exercise = session.course.exercise(&name)?.clone();
    print!("{}", report::description(&exercise));
    let attempt = session.attempt(&exercise, Variant::Learner, memcheck)?;
    print!("{}", report::heap_summary(attempt.heap.as_ref()));
    print!("{}", report::verdict(&attempt.verdict));
    if let (Verdict::HeapLimit(_), Some(note)) = (&attempt.verdict, &exercise.heap_hint) {
        println!("  In this exercise: {note}");
    }
    match &attempt.verdict {
        Verdict::Pass => {
            session.state.done.insert(name);
            session.save()?;
            match next_pending(&session) {
                Some(next) => println!("Next: memlings check {next}"),
                None => println!("That was the last one: the course is complete!"),
            }
            Ok(Outcome::Success)
        }
        Verdict::Interrupted => Ok(Outcome::Interrupted),
        verdict => {
            if let (true, Some(outcome)) = (shows_stderr(verdict), &attempt.outcome) {
                print!("{}", report::program_output(outcome));
            }
            session.state.done.remove(&name);
            let shown = session.state.reveal_hint(&name, exercise.hints.len());
            session.save()?;
            print!("{}", report::hints(&exercise, shown));
            Ok(Outcome::Failed)
        }
    }
}

/// Crashes and odd exits are explained best by what the program printed.
fn shows_stderr(verdict: &Verdict) -> bool {
    matches!(verdict, Verdict::Crash { .. } | Verdict::ExitCode { .. })
}

fn next_pending(session: &Session) -> Option<String> {
    session
        .course
        .exercises
        .iter()
        .find(|e| !session.state.is_done(&e.name))
        .map(|e| e.name.clone())
}
