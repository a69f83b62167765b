//! `memlings solution [NAME]`: after a pass, the reference solution and the
//! learner's file beside it as a diff.

use std::fs;

use anyhow::Result;
use colored::Colorize;

use super::{NoCurrentExercise, Outcome, Session};
use crate::course::Exercise;
use crate::diff;
use crate::solutions::Source;

/// Shows the reference solution of `name` (or of the current exercise)
/// and how the learner's file differs from it, once the exercise has
/// passed; before that, says so and fails. Naming an exercise here does
/// not make it current: reading a solution is not starting to work on it.
pub fn solution(session: Session, name: Option<&str>) -> Result<Outcome> {
    let exercise = session.target(name)?.ok_or(NoCurrentExercise {
        command: "solution",
    })?;
    show(&session, &exercise)
}

/// Shows the solution of `exercise` and the diff, or says that it has not
/// passed yet (and fails).
pub fn show(session: &Session, exercise: &Exercise) -> Result<Outcome> {
    if !session.state.is_done(&exercise.name) {
        println!(
            "{} {} has not passed yet: its solution is shown once `memlings check {}` passes.",
            "✗".red().bold(),
            exercise.name,
            exercise.name
        );
        return Ok(Outcome::Failed);
    }
    let source = Source::locate(&session.course, &session.workspace)?;
    let (reference, reference_name) = source.read(exercise)?;
    let mine_path = session.course.learner_path(exercise);
    let mine_name = format!("exercises/{}", exercise.path.display());
    // A file deleted since the pass compares as empty.
    let mine = fs::read_to_string(&mine_path).unwrap_or_default();

    println!(
        "{} {}  {}",
        "Reference solution of".bold(),
        exercise.name.cyan().bold(),
        format!("({reference_name})").dimmed()
    );
    print!("{reference}");
    if !reference.ends_with('\n') {
        println!();
    }
    println!();
    match diff::unified(&reference, &mine, &reference_name, &mine_name) {
        same if same.is_empty() => println!("Your {mine_name} is the same as the solution."),
        differences => {
            println!(
                "{}",
                format!("Your {mine_name} beside it (- solution, + yours):").bold()
            );
            print!("{differences}");
        }
    }
    Ok(Outcome::Success)
}
