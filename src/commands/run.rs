//! `memlings run [NAME]`: build and run, show the output, judge only crashes.

use anyhow::Result;

use super::{NoCurrentExercise, Outcome, Session};
use crate::attempt::Options;
use crate::course::Variant;
use crate::judge::Verdict;
use crate::report::human as report;

/// Shows what the learner's program (`name`, or the current exercise)
/// does, without comparing its output.
pub fn run(mut session: Session, name: Option<&str>) -> Result<Outcome> {
    let exercise = session
        .select(name)?
        .ok_or(NoCurrentExercise { command: "run" })?;
    session.save()?;
    print!("{}", report::description(&exercise));
    // `run` judges nothing, so the must-not-compile probes stay unbuilt.
    let options = Options {
        probes: false,
        ..session.options(Variant::Learner, false)
    };
    let attempt = session.attempt(&exercise, options)?;
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
