//! One attempt at an exercise: build it in the harness, run it under its
//! limits, judge the result, and for a pass compile its must-not-compile
//! probes. Each stage hands plain data to the next.

use std::fs;
use std::path::Path;

use anyhow::{Context as _, Result};

use crate::course::{Course, Exercise, Variant};
use crate::exec::{self, Invocation, RunOutcome};
use crate::harness::{BuildOutcome, Harness, HarnessError, Target};
use crate::heap::HeapReport;
use crate::heap_channel::ReportChannel;
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
    /// Heap figures, if the program was built with accounting and its
    /// report arrived intact.
    pub heap: Option<HeapReport>,
    /// The expected output it was judged against (empty if it never ran).
    pub expected: String,
    /// Compiler warnings, rendered.
    pub warnings: Vec<String>,
}

impl Attempt {
    /// An attempt that stopped at the build.
    fn unbuilt(verdict: Verdict) -> Self {
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
pub struct Options<'a> {
    pub variant: Variant<'a>,
    /// ANSI colors in compiler diagnostics.
    pub color: bool,
    /// Run under valgrind memcheck.
    pub memcheck: bool,
    /// After a pass, also require the exercise's must-not-compile probes
    /// to fail against the module (`run`, which judges nothing, does not).
    pub probes: bool,
}

/// Builds, runs and judges `exercise`. Probes are built only after a
/// pass, so a failing check stays as fast as one build and run.
pub fn attempt(
    course: &Course,
    workspace: &Workspace,
    exercise: &Exercise,
    options: Options<'_>,
) -> Result<Attempt> {
    let stages = Stages::new(course, workspace);
    let program = stages
        .harness
        .build(Target::program(exercise, options.variant), options.color)?;
    let probes: Vec<Target> = Target::probes(exercise, options.variant).collect();
    stages.finish(exercise, options, program, || {
        stages.harness.build_all(&probes, options.color)
    })
}

/// Attempts several variants of `exercise`, in order. Their programs (and
/// the probes of those that ask for them) are built first, all in one
/// Cargo call, which compiles them in parallel. Stops after an attempt
/// that Ctrl-C interrupted.
pub fn attempt_all(
    course: &Course,
    workspace: &Workspace,
    exercise: &Exercise,
    runs: &[Options<'_>],
) -> Result<Vec<Attempt>> {
    let stages = Stages::new(course, workspace);
    let targets: Vec<Target> = runs
        .iter()
        .flat_map(|o| {
            let probes = Target::probes(exercise, o.variant).filter(|_| o.probes);
            std::iter::once(Target::program(exercise, o.variant)).chain(probes)
        })
        .collect();
    let color = runs.iter().any(|o| o.color);
    let mut builds = stages.harness.build_all(&targets, color)?.into_iter();
    let mut attempts = Vec::with_capacity(runs.len());
    for &options in runs {
        let program = builds.next().context("the harness lost a build")?;
        let probe_count = if options.probes {
            exercise.must_not_compile.len()
        } else {
            0
        };
        let probes: Vec<BuildOutcome> = builds.by_ref().take(probe_count).collect();
        let attempt = stages.finish(exercise, options, program, || Ok(probes))?;
        let interrupted = attempt.verdict == Verdict::Interrupted;
        attempts.push(attempt);
        if interrupted {
            break;
        }
    }
    Ok(attempts)
}

/// Judges a program the caller built in `harness` (with the probes of
/// `exercise`, if it asked for them, built by `probes` only after a pass):
/// for callers that batch builds across exercises or share them across
/// courses.
pub fn judge_built(
    course: &Course,
    workspace: &Workspace,
    harness: Harness<'_>,
    exercise: &Exercise,
    options: Options<'_>,
    program: BuildOutcome,
    probes: impl FnOnce() -> Result<Vec<BuildOutcome>, HarnessError>,
) -> Result<Attempt> {
    let stages = Stages {
        course,
        workspace,
        harness,
    };
    stages.finish(exercise, options, program, probes)
}

/// What every attempt in one course uses.
struct Stages<'a> {
    course: &'a Course,
    workspace: &'a Workspace,
    harness: Harness<'a>,
}

impl<'a> Stages<'a> {
    fn new(course: &'a Course, workspace: &'a Workspace) -> Self {
        Stages {
            course,
            workspace,
            harness: Harness::new(course, workspace.build_dir()),
        }
    }

    /// Runs and judges a built program; after a pass, judges its probes,
    /// built by `probes` only then.
    fn finish(
        &self,
        exercise: &Exercise,
        options: Options<'_>,
        program: BuildOutcome,
        probes: impl FnOnce() -> Result<Vec<BuildOutcome>, HarnessError>,
    ) -> Result<Attempt> {
        let (exe, accounted, warnings) = match program {
            BuildOutcome::Built {
                exe,
                heap,
                warnings,
            } => (exe, heap, warnings),
            BuildOutcome::CompileError { diagnostics, codes } => {
                return Ok(Attempt::unbuilt(Verdict::CompileError {
                    diagnostics,
                    codes,
                }));
            }
            BuildOutcome::Lint(diagnostics) => {
                return Ok(Attempt::unbuilt(Verdict::Lint { diagnostics }));
            }
            BuildOutcome::LimitHit(limit) => {
                return Ok(Attempt::unbuilt(Verdict::BuildLimit(limit)));
            }
        };
        let mut attempt = run(self, exercise, options, &exe, accounted)?;
        attempt.warnings = warnings;
        if options.probes && attempt.verdict.passed() && !exercise.must_not_compile.is_empty() {
            let builds = probes()?;
            let lost = exercise
                .must_not_compile
                .iter()
                .zip(&builds)
                .find_map(|(probe, build)| judge::probe(probe, build));
            if let Some(lost) = lost {
                attempt.verdict = lost;
            }
        }
        Ok(attempt)
    }
}

/// Runs a built program under its limits and judges the run.
fn run(
    stages: &Stages<'_>,
    exercise: &Exercise,
    options: Options<'_>,
    exe: &Path,
    accounted: bool,
) -> Result<Attempt> {
    let Stages {
        course,
        workspace,
        harness,
    } = stages;
    let expected_path = course.expected_path(exercise);
    let expected = fs::read_to_string(&expected_path)
        .with_context(|| format!("cannot read expected output {}", expected_path.display()))?;

    let cwd = workspace.scratch_dir(&exercise.name)?;
    let mut invocation = match options.memcheck {
        true => memcheck::invocation(exe),
        false => Invocation::program(exe),
    };
    invocation.view = View {
        hidden: workspace.hidden_from_programs(&course.root),
        shown: vec![exe.to_path_buf()],
        writable: Vec::new(),
    };
    let channel = accounted
        .then(ReportChannel::open)
        .transpose()
        .context("cannot open the heap report channel")?;
    if let Some(channel) = &channel {
        invocation.env.push(channel.env());
        invocation.keep_fds.extend(channel.fds());
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
    // course's files instead.
    let stderr = String::from_utf8_lossy(&outcome.stderr);
    outcome.stderr = harness
        .display_paths(&stderr, &Target::program(exercise, options.variant))
        .into_bytes();
    let received = channel.map(|channel| {
        let mut received = channel.receive();
        received.relative_to(&cwd);
        received
    });

    let ctx = Context {
        limits,
        heap: received.as_ref(),
        heap_limits: exercise.heap_limits,
        memcheck: options.memcheck,
    };
    Ok(Attempt {
        verdict: judge::judge(&outcome, &expected, &ctx),
        outcome: Some(outcome),
        heap: received.and_then(|r| r.report.ok()),
        expected,
        warnings: Vec::new(),
    })
}
