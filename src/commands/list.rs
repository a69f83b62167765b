//! `memlings list`: exercises in order with their status.

use anyhow::Result;
use colored::Colorize;

use super::{Outcome, Session};

/// Prints every exercise with done/pending, then overall progress.
pub fn list(session: &Session) -> Result<Outcome> {
    let course = &session.course;
    println!("{}", course.title.bold());
    let width = course
        .exercises
        .iter()
        .map(|e| e.name.len())
        .max()
        .unwrap_or(0);
    let mut done = 0usize;
    let mut next_marked = false;
    for exercise in &course.exercises {
        let is_done = session.state.is_done(&exercise.name);
        let status = if is_done {
            done += 1;
            "done".green().to_string()
        } else {
            "pending".yellow().to_string()
        };
        let marker = if !is_done && !next_marked {
            next_marked = true;
            "→"
        } else {
            " "
        };
        println!("{marker} {:width$}  {status}", exercise.name);
    }
    let total = course.exercises.len();
    let percent = (done * 100).checked_div(total).unwrap_or(100);
    println!("Progress: {done}/{total} done ({percent}%)");
    Ok(Outcome::Success)
}
