//! `memlings check [NAME]`: build, run, judge; record a pass or reveal a hint.

use std::collections::BTreeMap;

use anyhow::Result;

use super::{Outcome, Session};
use crate::attempt::Attempt;
use crate::course::{Exercise, Variant};
use crate::grade::Scorecard;
use crate::grade::build::Builder;
use crate::grade::exercises::check_course;
use crate::judge::{self, Verdict};
use crate::lints;
use crate::report::{self, CheckReport, Format, grade as words};
use crate::{hints as targeted, memcheck};

/// After a failure, whether to reveal one more hint or only repeat the
/// ones already revealed (watch mode, where every save is a check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HintPolicy {
    RevealNext,
    KeepLevel,
}

/// How to check.
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions {
    /// Run under valgrind memcheck.
    pub memcheck: bool,
    pub format: Format,
    pub hints: HintPolicy,
    /// Show the exercise's description first.
    pub describe: bool,
}

/// Checks `name`, or the current exercise.
pub fn check(
    mut session: Session,
    name: Option<&str>,
    memcheck: bool,
    format: Format,
) -> Result<Outcome> {
    super::require_valgrind(memcheck)?;
    let options = CheckOptions {
        memcheck,
        format,
        hints: HintPolicy::RevealNext,
        describe: true,
    };
    check_with(&mut session, name, options)
}

/// `check --all`: checks every exercise, records each pass and failure in
/// the learner's state (revealing no hints), and shows the table.
pub fn check_all(mut session: Session, memcheck: bool, format: Format) -> Result<Outcome> {
    super::require_valgrind(memcheck)?;
    let builder = Builder::local(&session.course, &session.workspace);
    let grades = check_course(
        &session.course,
        &session.workspace,
        &builder,
        &BTreeMap::new(),
        memcheck,
        || {},
    )?;
    for grade in &grades {
        match grade.passed() {
            true => session.state.done.insert(grade.exercise.clone()),
            false => session.state.done.remove(&grade.exercise),
        };
    }
    session.save()?;
    let root = &session.course.root;
    let name = root.file_name().unwrap_or(root.as_os_str());
    let card = Scorecard {
        submission: name.to_string_lossy().into_owned(),
        grades,
    };
    match format {
        Format::Human => {
            print!("{}", words::table("workspace", std::slice::from_ref(&card)));
            if card.passed() < card.total() {
                println!("\n`memlings check NAME` shows what went wrong and a hint.");
            }
        }
        Format::Json => words::emit_card(&card),
    }
    Ok(match card.passed() == card.total() {
        true => Outcome::Success,
        false => Outcome::Failed,
    })
}

/// `check`, with options chosen by the caller. The exercise checked
/// becomes the current one, and stays current after a pass.
pub fn check_with(
    session: &mut Session,
    name: Option<&str>,
    options: CheckOptions,
) -> Result<Outcome> {
    let CheckOptions {
        memcheck,
        format,
        hints,
        describe,
    } = options;
    let mut reporter = report::reporter(format, &session.course);
    let Some(exercise) = session.select(name)? else {
        reporter.all_done();
        return Ok(Outcome::Success);
    };
    let name = exercise.name.clone();
    let was_complete = session.state.all_done(&session.course);
    reporter.check_started(&exercise, describe);
    let attempt = session.attempt(&exercise, session.options(Variant::Learner, memcheck))?;
    let (outcome, hints_shown) = match &attempt.verdict {
        Verdict::Interrupted => return Ok(Outcome::Interrupted),
        Verdict::Pass => {
            session.state.done.insert(name.clone());
            (Outcome::Success, None)
        }
        _ => {
            session.state.done.remove(&name);
            let shown = session.state.hints_shown(&name);
            let spend = hints == HintPolicy::RevealNext && earns_new_hint(&attempt);
            let shown = if shown == 0 || spend {
                session.state.reveal_hint(&name, exercise.hints.len())
            } else {
                shown
            };
            (Outcome::Failed, Some(shown))
        }
    };
    session.save()?;
    let next = session
        .state
        .next_pending(&session.course, Some(&name))
        .filter(|next| next.name != name)
        .map(|next| next.name.clone());
    let suggest_memcheck =
        outcome == Outcome::Success && !memcheck && uses_unsafe(session, &exercise);
    reporter.checked(&CheckReport {
        exercise: &exercise,
        attempt: &attempt,
        hints_shown,
        targeted_hint: hints_shown
            .and(targeted::select(&exercise.targeted_hints, &attempt.verdict)),
        next: next.as_deref(),
        completed_course: !was_complete && session.state.all_done(&session.course),
        memcheck,
        suggest_memcheck: suggest_memcheck && memcheck::available(),
    });
    Ok(outcome)
}

/// Whether the learner's module has `unsafe` code (not merely the word in
/// a comment), which passing output alone does not prove sound.
fn uses_unsafe(session: &Session, exercise: &Exercise) -> bool {
    let module = session.course.learner_path(exercise);
    std::fs::read_to_string(module).is_ok_and(|text| lints::has_unsafe_code(&text))
}

/// Whether a failure deserves a new hint: only when the program ran and
/// what it did was visibly wrong (wrong output, a panic, a crash, a limit).
/// Unfinished code (a `todo!()` still reached) and code that does not
/// compile yet repeat the hints already revealed instead, so typos do not
/// spend them. So does a program whose output was right but broke a
/// memory rule, whichever check found it (a lint, the resource counter,
/// a must-not-compile probe or valgrind): its verdict explains itself, and
/// a leak costs the same under `--memcheck` as under a heap limit.
fn earns_new_hint(attempt: &Attempt) -> bool {
    match &attempt.verdict {
        Verdict::CompileError { .. } | Verdict::BuildLimit(_) | Verdict::Lint { .. } => false,
        Verdict::HeapLimit(_)
        | Verdict::ResourceLeak(_)
        | Verdict::MissingHeapReport(_)
        | Verdict::GuaranteeLost(_) => false,
        // Judged before (or instead of) the output: right output or not?
        Verdict::LayoutMismatch { .. } | Verdict::MemoryError(_) => !output_was_right(attempt),
        verdict => !verdict.is_unfinished(),
    }
}

/// Whether the program exited cleanly with the expected output.
fn output_was_right(attempt: &Attempt) -> bool {
    attempt.outcome.as_ref().is_some_and(|outcome| {
        let stdout = String::from_utf8_lossy(&outcome.stdout);
        judge::normalize(&stdout) == judge::normalize(&attempt.expected)
    })
}
