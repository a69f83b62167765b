//! `memlings run NAME`: build and run, show the output, judge only crashes.

use anyhow::Result;

use super::{Outcome, Session};
use crate::course::Variant;
use crate::judge::Verdict;
use crate::report::human as report;

/// Shows what the learner's program does, without comparing its output.
pub fn run(session: &Session, name: &str) -> Result<Outcome> {
    let exercise = session.course.exercise(name)?;
    print!("{}", report::description(exercise));
    let attempt = session.attempt(exercise, Variant::Learner, false)?;
    if let Some(outcome) = &attempt.outcome {
        print!("{}", report::program_output(outcome));
        if report::finished_normally(&attempt.verdict) {
            print!("{}", report::heap_summary(attempt.heap.as_ref()));
        }
        println!("(finished in {} ms)", outcome.elapsed.as_millis());
    }
    Ok(match attempt.verdict {
        // A clean exit is all `run` asks; `check` compares the output.
        Verdict::Pass
        | Verdict::WrongOutput { .. }
        | Verdict::HeapLimit(_)
        | Verdict::ResourceLeak(_) => Outcome::Success,
        Verdict::Interrupted => Outcome::Interrupted,
        other => {
            print!("{}", report::verdict(&other));
            Outcome::Failed
        }
    })
}
