//! `memlings verify`: for authors, every solution passes and every
//! untouched template fails.

use anyhow::{Result, bail};
use colored::Colorize;

use super::{Outcome, Session};
use crate::course::{Exercise, Variant};
use crate::judge::Verdict;
use crate::report;

/// Checks the whole course, one line per exercise.
/// `memcheck` runs every solution under valgrind; exercises with
/// `memcheck = true` are always run so.
pub fn verify(session: &Session, memcheck: bool) -> Result<Outcome> {
    super::require_valgrind(memcheck || session.course.exercises.iter().any(|e| e.memcheck))?;
    if !session.course.has_solutions() {
        bail!(
            "{} has no solutions/ folder: `verify` runs in a course's source directory, not in a learner workspace",
            session.course.root.display()
        );
    }
    let width = session
        .course
        .exercises
        .iter()
        .map(|e| e.name.len())
        .max()
        .unwrap_or(0);
    let mut failures = 0;
    for exercise in &session.course.exercises {
        let Some(line) = verify_one(session, exercise, memcheck || exercise.memcheck)? else {
            return Ok(Outcome::Interrupted);
        };
        let mark = if line.ok {
            "✓".green().bold()
        } else {
            "✗".red().bold()
        };
        println!("{mark} {:width$}  {}", exercise.name, line.summary);
        if let Some(detail) = line.detail {
            for l in detail.lines() {
                println!("    {l}");
            }
        }
        failures += usize::from(!line.ok);
    }
    let total = session.course.exercises.len();
    if failures == 0 {
        println!("{} all {total} exercises verified", "✓".green().bold());
        Ok(Outcome::Success)
    } else {
        println!(
            "{} {failures} of {total} exercises failed verification",
            "✗".red().bold()
        );
        Ok(Outcome::Failed)
    }
}

struct Line {
    ok: bool,
    summary: String,
    detail: Option<String>,
}

/// Verifies one exercise; `None` when Ctrl-C stopped it.
fn verify_one(session: &Session, exercise: &Exercise, memcheck: bool) -> Result<Option<Line>> {
    let solution = session.course.module_path(exercise, Variant::Solution);
    if !solution.is_file() {
        return Ok(Some(Line {
            ok: false,
            summary: format!("no reference solution at {}", solution.display()),
            detail: None,
        }));
    }
    let run = |variant, memcheck| {
        session
            .attempt(exercise, variant, memcheck)
            .map(|a| a.verdict)
    };
    let solved = run(Variant::Solution, memcheck)?;
    if solved == Verdict::Interrupted {
        return Ok(None);
    }
    if !solved.passed() {
        return Ok(Some(Line {
            ok: false,
            summary: format!("the solution does not pass ({})", solved.label()),
            detail: Some(report::verdict(&solved)),
        }));
    }
    let template = run(Variant::Learner, false)?;
    Ok(match template {
        Verdict::Interrupted => None,
        Verdict::Pass => Some(Line {
            ok: false,
            summary: "the untouched template already passes; it must fail until completed".into(),
            detail: None,
        }),
        failing => Some(Line {
            ok: true,
            summary: format!(
                "solution passes{}; template fails ({})",
                if memcheck { " memcheck" } else { "" },
                failing.label()
            ),
            detail: None,
        }),
    })
}
