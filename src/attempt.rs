//! One attempt at an exercise: build it in the harness, run it under its
//! limits, judge the result. Each stage hands plain data to the next.

use std::fs;

use anyhow::{Context, Result};

use crate::course::{Course, Exercise, Variant};
use crate::exec::{self, RunOutcome};
use crate::harness::{BuildOutcome, Harness};
use crate::judge::{self, Held, Verdict};
use crate::workspace::Workspace;

/// What an attempt produced.
#[derive(Debug)]
pub struct Attempt {
    /// The judgement.
    pub verdict: Verdict,
    /// The run, if the program built.
    pub outcome: Option<RunOutcome>,
}

/// Builds, runs and judges `exercise` in the given variant.
pub fn attempt(
    course: &Course,
    workspace: &Workspace,
    exercise: &Exercise,
    variant: Variant,
    color: bool,
) -> Result<Attempt> {
    let harness = Harness::new(course, workspace.build_dir());
    let exe = match harness.build(exercise, variant, color)? {
        BuildOutcome::Built(exe) => exe,
        BuildOutcome::CompileError(diagnostics) => {
            return Ok(Attempt {
                verdict: Verdict::CompileError { diagnostics },
                outcome: None,
            });
        }
    };
    let expected_path = course.expected_path(exercise);
    let expected = fs::read_to_string(&expected_path)
        .with_context(|| format!("cannot read expected output {}", expected_path.display()))?;
    let cwd = workspace.scratch_dir(&exercise.name)?;
    let mut outcome = exec::run(&exe, &cwd, &exercise.limits)
        .with_context(|| format!("cannot start {}", exe.display()))?;
    // Panic locations name harness paths; show the learner's instead.
    let stderr = String::from_utf8_lossy(&outcome.stderr);
    outcome.stderr = harness
        .display_paths(&stderr, exercise, variant)
        .into_bytes();
    let limits = &exercise.limits;
    let held = Held {
        timeout_ms: limits.timeout.as_millis(),
        max_output_bytes: limits.max_output_bytes,
        memory_limit_mb: limits.memory_limit_mb,
    };
    Ok(Attempt {
        verdict: judge::judge(&outcome, &expected, held),
        outcome: Some(outcome),
    })
}
