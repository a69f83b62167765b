//! `memlings reset [NAME]`: restore the template, backing up the learner's file.

use std::fs;

use anyhow::{Context, Result};

use super::{NoCurrentExercise, Outcome, Session};
use crate::course::Exercise;
use crate::workspace::{backup, write_atomic};

/// Backs up the learner's module of `name` (or of the current exercise),
/// then restores the pristine template. Resetting another exercise does
/// not make it current: the learner may be cleaning up, not switching.
pub fn reset(mut session: Session, name: Option<&str>) -> Result<Outcome> {
    let exercise = session
        .target(name)?
        .ok_or(NoCurrentExercise { command: "reset" })?;
    restore(&mut session, &exercise)?;
    Ok(Outcome::Success)
}

/// Backs up the learner's module of `exercise`, restores its template and
/// marks it pending, saying what it did.
pub fn restore(session: &mut Session, exercise: &Exercise) -> Result<()> {
    let current = session.course.learner_path(exercise);
    let original = session.workspace.originals_dir().join(&exercise.path);
    let template = fs::read(&original).with_context(|| {
        format!(
            "no pristine copy of {} at {}: this course was not made by `memlings init`; restore the file with your version control instead",
            exercise.name,
            original.display()
        )
    })?;
    if current.exists() {
        let saved = backup(&current, &session.workspace.backups_dir(), &exercise.name)?;
        println!("Your file was saved to {}", saved.display());
    } else {
        println!("{} was missing; nothing to back up", current.display());
    }
    write_atomic(&current, &template)
        .with_context(|| format!("cannot restore {}", current.display()))?;
    session.state.done.remove(&exercise.name);
    session.save()?;
    println!("Restored the original template of {}", exercise.name);
    Ok(())
}
