//! Checking every exercise of one course: all programs and their
//! must-not-compile probes are built in one Cargo call, then each program
//! is run and judged in course order, as `check` would.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};

use super::assemble::Unavailable;
use super::build::Builder;
use super::{ExerciseGrade, ExerciseResult};
use crate::attempt::{self, Options};
use crate::course::{Course, Exercise, Variant};
use crate::harness::{BuildOutcome, Target};
use crate::interrupt::Interrupted;
use crate::judge::Verdict;
use crate::workspace::Workspace;

/// Checks every exercise of `course` in `workspace`, except those whose
/// module is `unavailable`, which fail with the reason. Calls
/// `exercise_done` after each. Ctrl-C makes it fail with [`Interrupted`].
pub fn check_course(
    course: &Course,
    workspace: &Workspace,
    builder: &Builder<'_>,
    unavailable: &BTreeMap<String, Unavailable>,
    memcheck: bool,
    exercise_done: impl Fn(),
) -> Result<Vec<ExerciseGrade>> {
    let available: Vec<&Exercise> = course
        .exercises
        .iter()
        .filter(|e| !unavailable.contains_key(&e.name))
        .collect();
    // Probes are built with the programs: one Cargo call compiles them all
    // in parallel, which costs little when the program fails after all.
    let targets: Vec<Target> = available
        .iter()
        .flat_map(|e| {
            std::iter::once(Target::program(e, Variant::Learner))
                .chain(Target::probes(e, Variant::Learner))
        })
        .collect();
    let mut builds = builder.build(&targets)?.into_iter();
    let options = Options {
        variant: Variant::Learner,
        color: false,
        memcheck,
        probes: true,
    };
    let mut grades = Vec::with_capacity(course.exercises.len());
    for exercise in &course.exercises {
        let result = match unavailable.get(&exercise.name) {
            Some(why) => ExerciseResult::Unavailable(why.clone()),
            None => {
                let program = builds.next().context("the harness lost a build")?;
                let probes: Vec<BuildOutcome> = builds
                    .by_ref()
                    .take(exercise.must_not_compile.len())
                    .collect();
                let attempt = attempt::judge_built(
                    course,
                    workspace,
                    builder.harness().clone(),
                    exercise,
                    options,
                    program,
                    || Ok(probes),
                )?;
                if attempt.verdict == Verdict::Interrupted {
                    bail!(Interrupted);
                }
                ExerciseResult::Judged(Box::new(attempt))
            }
        };
        exercise_done();
        grades.push(ExerciseGrade {
            exercise: exercise.name.clone(),
            result,
        });
    }
    Ok(grades)
}
