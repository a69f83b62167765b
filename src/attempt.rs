//! One attempt at an exercise: build it in the harness, run it under its
//! limits, judge the result. Each stage hands plain data to the next.

use std::fs;

use anyhow::{Context as _, Result};

use crate::course::{Course, Exercise, Variant};
use crate::exec::{self, Invocation, RunOutcome};
use crate::harness::{BuildOutcome, Harness};
use crate::heap::HeapReport;
use crate::judge::{self, Context, Verdict};
use crate::memcheck;
use crate::sandbox::View;
use crate::workspace::Workspace;

/// What an attempt produced.
#[derive(Debug)]
pub struct Attempt {
    /// The judgement.
    pub verdict: Verdict,
    /// The run, if the program built.
    pub outcome: Option<RunOutcome>,
    /// Heap figures, if the program was built with accounting and exited.
    pub heap: Option<HeapReport>,
    /// The expected output it was judged against (empty if it never ran).
    pub expected: String,
    /// Compiler warnings, rendered.
    pub warnings: Vec<String>,
}

impl Attempt {
    /// An attempt whose program was never built.
    fn unbuilt(verdict: Verdict) -> Attempt {
        Attempt {
            verdict,
            outcome: None,
            heap: None,
            expected: String::new(),
            warnings: Vec::new(),
        }
    }
}

/// How to attempt an exercise.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub variant: Variant,
    /// ANSI colors in compiler diagnostics.
    pub color: bool,
    /// Run under valgrind memcheck.
    pub memcheck: bool,
}

/// Builds, runs and judges `exercise`.
pub fn attempt(
    course: &Course,
    workspace: &Workspace,
    exercise: &Exercise,
    options: Options,
) -> Result<Attempt> {
    let harness = Harness::new(course, workspace.build_dir());
    let (exe, accounted, warnings) =
        match harness.build(exercise, options.variant, options.color)? {
            BuildOutcome::Built {
                exe,
                heap,
                warnings,
            } => (exe, heap, warnings),
            BuildOutcome::CompileError(diagnostics) => {
                return Ok(Attempt::unbuilt(Verdict::CompileError { diagnostics }));
            }
            BuildOutcome::LimitHit(limit) => {
                return Ok(Attempt::unbuilt(Verdict::BuildLimit(limit)));
            }
        };
    let expected_path = course.expected_path(exercise);
    let expected = fs::read_to_string(&expected_path)
        .with_context(|| format!("cannot read expected output {}", expected_path.display()))?;

    let cwd = workspace.scratch_dir(&exercise.name)?;
    let heap_file = workspace.heap_report_file(&exercise.name);
    // A stale report must not count; an empty one reads as none.
    fs::write(&heap_file, "").with_context(|| format!("cannot create {}", heap_file.display()))?;
    let mut invocation = match options.memcheck {
        true => memcheck::invocation(&exe),
        false => Invocation::program(&exe),
    };
    invocation.view = View {
        hidden: workspace.hidden_from_programs(&course.root),
        shown: vec![exe.clone()],
        writable: vec![heap_file.clone()],
    };
    if accounted {
        invocation
            .env
            .push(("MEMLINGS_HEAP_REPORT".into(), heap_file.clone().into()));
    }
    let mut limits = exercise.limits;
    if options.memcheck {
        limits.timeout *= memcheck::SLOWDOWN;
    }
    let outcome = exec::run(&invocation, &cwd, &limits);
    // Whatever the program left there goes now, even read-only
    // directories; the next run tries again if this fails.
    if let Err(e) = workspace.clear_scratch_dir(&exercise.name) {
        eprintln!("warning: {e:#}");
    }
    let mut outcome = outcome?;
    // Panic locations and valgrind frames name harness paths; show the
    // learner's files instead.
    let stderr = String::from_utf8_lossy(&outcome.stderr);
    outcome.stderr = harness
        .display_paths(&stderr, exercise, options.variant)
        .into_bytes();
    let heap = fs::read_to_string(&heap_file)
        .ok()
        .and_then(|t| HeapReport::parse(&t));

    let ctx = Context {
        limits,
        heap: heap.as_ref(),
        heap_limits: exercise.heap_limits,
        memcheck: options.memcheck,
    };
    Ok(Attempt {
        verdict: judge::judge(&outcome, &expected, &ctx),
        outcome: Some(outcome),
        heap,
        expected,
        warnings,
    })
}
