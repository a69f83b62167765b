//! Turning what happened into a verdict. Pure: no I/O, no printing.

use crate::course::{Limits, Probe};
use crate::exec::{Ending, RunOutcome, Stream};
pub use crate::harness::BuildLimit;
use crate::harness::BuildOutcome;
use crate::heap::{HeapLimits, HeapViolation, LayoutViolation, ReportProblem, ResourceViolation};
use crate::heap_channel::Received;
use crate::memcheck;

/// The judgement of one attempt at an exercise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Exited cleanly and printed the expected output.
    Pass,
    /// Exited cleanly but printed something else.
    WrongOutput { expected: String, actual: String },
    /// The module does not compile: the compiler's rendered errors, and
    /// their error codes (such as `E0502`).
    CompileError {
        diagnostics: String,
        codes: Vec<String>,
    },
    /// It compiles, but a lint that signals a memory bug (such as
    /// `clippy::uninit_vec`) fired; the rendered lints.
    Lint { diagnostics: String },
    /// A Rust panic, with its message and source location when found.
    Panic {
        message: String,
        location: Option<String>,
    },
    /// Killed by a signal; `cause` explains it in words.
    Crash { signal: i32, cause: String },
    /// Exited with a non-zero code without panicking.
    ExitCode { code: i32 },
    /// Ran past the wall-clock limit.
    Timeout { limit_ms: u128 },
    /// Printed more than the cap on a stream.
    OutputLimit { stream: Stream, limit_bytes: u64 },
    /// An allocation failed under the memory cap, or the process tree
    /// used more than it together.
    MemoryLimit { limit_mb: u64 },
    /// A file grew past `max_file_bytes`.
    FileLimit { limit_bytes: u64 },
    /// The compiler ran past its time or memory limit.
    BuildLimit(BuildLimit),
    /// Correct output, but a heap figure over the course's limit.
    HeapLimit(HeapViolation),
    /// Correct output, but file descriptors or mappings left open.
    ResourceLeak(ResourceViolation),
    /// A `dealloc` or `realloc` with another layout than the allocation's,
    /// or of a pointer that is not a live allocation: the first one, and
    /// how many there were.
    LayoutMismatch { first: LayoutViolation, count: u64 },
    /// Heap accounting was on, but no trustworthy report arrived.
    MissingHeapReport(ReportProblem),
    /// valgrind memcheck found a memory error; its first one.
    MemoryError(memcheck::Finding),
    /// Correct output, but a must-not-compile probe compiled against the
    /// module, or failed without its expected error code.
    GuaranteeLost(LostGuarantee),
    /// Ctrl-C stopped it.
    Interrupted,
}

impl Verdict {
    /// Whether this verdict means the exercise is solved.
    pub fn passed(&self) -> bool {
        matches!(self, Verdict::Pass)
    }

    /// Whether the program hit a `todo!()`: the learner is not done yet.
    pub fn is_unfinished(&self) -> bool {
        matches!(self, Verdict::Panic { message, .. } if message.starts_with("not yet implemented"))
    }

    /// A short label, used in one-line reports.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::WrongOutput { .. } => "wrong output",
            Verdict::CompileError { .. } => "compile error",
            Verdict::Lint { .. } => "lint",
            Verdict::Panic { .. } => "panic",
            Verdict::Crash { .. } => "crash",
            Verdict::ExitCode { .. } => "non-zero exit",
            Verdict::Timeout { .. } => "timeout",
            Verdict::OutputLimit { .. } => "output limit",
            Verdict::MemoryLimit { .. } => "memory limit",
            Verdict::FileLimit { .. } => "file limit",
            Verdict::BuildLimit(_) => "build limit",
            Verdict::HeapLimit(_) => "heap limit",
            Verdict::ResourceLeak(_) => "resource leak",
            Verdict::LayoutMismatch { .. } => "layout mismatch",
            Verdict::MissingHeapReport(_) => "missing heap report",
            Verdict::MemoryError(_) => "memory error",
            Verdict::GuaranteeLost(_) => "guarantee lost",
            Verdict::Interrupted => "interrupted",
        }
    }
}

/// A guarantee the module's types should give, shown lost by a
/// must-not-compile probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostGuarantee {
    /// What the types should guarantee, in words.
    pub guarantee: String,
    /// The probe program, relative to the course root.
    pub probe: String,
    /// The rustc error code the probe must fail with.
    pub expected_code: String,
    /// Whether the probe compiled at all.
    pub compiled: bool,
    /// The error codes it failed with instead, if it did not compile.
    pub found_codes: Vec<String>,
}

impl LostGuarantee {
    /// What went wrong, for a learner: "your module lets ... compile, so
    /// the guarantee is lost: ...".
    pub fn describe(&self) -> String {
        let LostGuarantee {
            guarantee,
            probe,
            expected_code,
            ..
        } = self;
        if self.compiled {
            return format!(
                "your module lets {probe} compile, so the guarantee is lost: {guarantee}. That program must fail to compile with error {expected_code}"
            );
        }
        let found = match self.found_codes.as_slice() {
            [] => "other errors".to_owned(),
            codes => format!("error {}", codes.join(", ")),
        };
        format!(
            "{probe} must fail to compile with error {expected_code}, and against your module it fails with {found} instead, so the guarantee is lost: {guarantee}"
        )
    }
}

/// What the judge knows about a run besides its output.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The limits the run was held to, for wording the verdict.
    pub limits: Limits,
    /// What the program's counter reported, when it was built with
    /// accounting.
    pub heap: Option<&'a Received>,
    pub heap_limits: HeapLimits,
    /// Whether the run was under valgrind memcheck.
    pub memcheck: bool,
}

/// Judges a finished run against the expected stdout.
pub fn judge(outcome: &RunOutcome, expected: &str, ctx: &Context<'_>) -> Verdict {
    let stderr = String::from_utf8_lossy(&outcome.stderr);
    let memcheck_failed =
        ctx.memcheck && outcome.ending == Ending::Exited(memcheck::ERROR_EXIT_CODE);
    if let Some(finding) = memcheck_failed
        .then(|| memcheck::first_error(&stderr, is_course_frame))
        .flatten()
    {
        return Verdict::MemoryError(finding);
    }
    let verdict = judge_run(outcome, &stderr, expected, &ctx.limits);
    match ctx.heap {
        Some(received) => judge_accounted(verdict, received, &ctx.heap_limits),
        None => verdict,
    }
}

/// Adds what the counter reported. A layout violation is undefined
/// behaviour and may be why the program went wrong or crashed, so it wins
/// over the run's own verdict; the rest only judges runs that passed.
fn judge_accounted(verdict: Verdict, received: &Received, limits: &HeapLimits) -> Verdict {
    let stopped_from_outside = matches!(
        verdict,
        Verdict::Timeout { .. } | Verdict::OutputLimit { .. } | Verdict::Interrupted
    );
    if let Some(&first) = received.violations.first()
        && !stopped_from_outside
    {
        return Verdict::LayoutMismatch {
            first,
            count: received.violation_count(),
        };
    }
    if verdict != Verdict::Pass {
        return verdict;
    }
    let report = match &received.report {
        Ok(report) => report,
        Err(problem) => return Verdict::MissingHeapReport(problem.clone()),
    };
    if let Some(violation) = limits.check_resources(report) {
        return Verdict::ResourceLeak(violation);
    }
    match limits.check(report) {
        Some(violation) => Verdict::HeapLimit(violation),
        None => Verdict::Pass,
    }
}

/// Judges one must-not-compile probe by its build against the module:
/// `None` while it fails with its expected error code, the guarantee kept.
pub fn probe(probe: &Probe, build: &BuildOutcome) -> Option<Verdict> {
    let (compiled, found_codes) = match build {
        BuildOutcome::CompileError { codes, .. } if codes.contains(&probe.error) => return None,
        BuildOutcome::CompileError { codes, .. } => (false, codes.clone()),
        // The compiler gave up before it could tell.
        BuildOutcome::LimitHit(_) => (false, Vec::new()),
        // Only a lint stopped it: the type system let it through.
        BuildOutcome::Built { .. } | BuildOutcome::Lint(_) => (true, Vec::new()),
    };
    Some(Verdict::GuaranteeLost(LostGuarantee {
        guarantee: probe.guarantee.clone(),
        probe: probe.relative_path().display().to_string(),
        expected_code: probe.error.clone(),
        compiled,
        found_codes,
    }))
}

/// Stack frames in the course's own files; paths were made relative to the
/// course root before judging.
fn is_course_frame(frame: &str) -> bool {
    frame.contains("(exercises/") || frame.contains("(solutions/")
}

/// Judges the run itself: how it ended and what it printed.
fn judge_run(outcome: &RunOutcome, stderr: &str, expected: &str, limits: &Limits) -> Verdict {
    match outcome.ending {
        Ending::TimedOut => Verdict::Timeout {
            limit_ms: limits.timeout.as_millis(),
        },
        Ending::OutputLimit(stream) => Verdict::OutputLimit {
            stream,
            limit_bytes: limits.max_output_bytes,
        },
        Ending::Interrupted => Verdict::Interrupted,
        Ending::MemoryLimit => Verdict::MemoryLimit {
            limit_mb: limits.memory_limit_mb,
        },
        _ if is_allocation_failure(stderr) => Verdict::MemoryLimit {
            limit_mb: limits.memory_limit_mb,
        },
        Ending::Signaled(libc::SIGXFSZ) => Verdict::FileLimit {
            limit_bytes: limits.max_file_bytes,
        },
        Ending::Signaled(signal) => Verdict::Crash {
            signal,
            cause: describe_signal(signal, stderr),
        },
        Ending::Exited(code) if code != 0 => match parse_panic(stderr) {
            Some((message, location)) => Verdict::Panic { message, location },
            None => Verdict::ExitCode { code },
        },
        Ending::Exited(_) => {
            let actual = String::from_utf8_lossy(&outcome.stdout).into_owned();
            if normalize(&actual) == normalize(expected) {
                Verdict::Pass
            } else {
                Verdict::WrongOutput {
                    expected: expected.to_owned(),
                    actual,
                }
            }
        }
    }
}

/// The comparison rule: CRLF becomes LF, trailing spaces and tabs at line
/// ends go, and trailing blank lines go. Everything else must match.
pub fn normalize(text: &str) -> String {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .map(|line| line.trim_end_matches([' ', '\t']))
        .collect();
    let keep = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(0, |i| i + 1);
    let mut out = lines[..keep].join("\n");
    if keep > 0 {
        out.push('\n');
    }
    out
}

/// Rust's allocator prints this before aborting when an allocation fails,
/// which under our RLIMIT_AS means the memory cap was reached.
fn is_allocation_failure(stderr: &str) -> bool {
    stderr.contains("memory allocation of ") && stderr.contains(" failed")
}

/// Finds the first panic report: `thread 'main' panicked at FILE:L:C:\nMESSAGE`.
fn parse_panic(stderr: &str) -> Option<(String, Option<String>)> {
    let start = stderr.find("panicked at ")?;
    let rest = &stderr[start + "panicked at ".len()..];
    let (head, tail) = rest.split_once('\n').unwrap_or((rest, ""));
    let location = head.trim_end_matches(':').trim();
    let message: Vec<&str> = tail
        .lines()
        .take_while(|l| !l.starts_with("note: run with `RUST_BACKTRACE"))
        .collect();
    let location = (!location.is_empty()).then(|| location.to_owned());
    Some((message.join("\n").trim().to_owned(), location))
}

/// Names a signal in the learner's terms: the cause in plain words first,
/// using what Rust printed if anything, then the signal.
fn describe_signal(signal: i32, stderr: &str) -> String {
    format!("{} ({})", signal_cause(signal, stderr), signal_name(signal))
}

/// What a signal most likely means, in plain words.
fn signal_cause(signal: i32, stderr: &str) -> String {
    match signal {
        libc::SIGSEGV => "your code made an invalid memory access, through a dangling or null pointer or out of bounds in unsafe code".into(),
        libc::SIGBUS => "your code touched memory that is not there: a misaligned access, or a mapped file that shrank underneath".into(),
        libc::SIGABRT => abort_cause(stderr),
        libc::SIGKILL => "the program was killed from outside, for example by the out-of-memory killer".into(),
        libc::SIGFPE => "your code hit an arithmetic fault, such as an integer division by zero".into(),
        libc::SIGILL => "the program ran an illegal instruction, often an abort from code that was meant to be unreachable".into(),
        _ => format!("the program was stopped by signal {signal}"),
    }
}

/// Why the program aborted: Rust's non-unwinding panics and its runtime's
/// fatal errors, the allocator's complaints, or the last line it printed.
fn abort_cause(stderr: &str) -> String {
    if stderr.contains("has overflowed its stack") {
        return "your code overflowed the stack: unbounded recursion, or a huge value on the stack"
            .into();
    }
    if stderr.contains("double free") {
        return "your code freed the same memory twice (a value dropped twice), and the allocator stopped it".into();
    }
    if stderr.contains("non-unwinding panic") {
        return non_unwinding_panic(&panics(stderr));
    }
    match last_line(stderr) {
        Some(line) => format!("the program aborted: {line}"),
        None => "the program aborted".into(),
    }
}

/// The cause of a panic that Rust could not unwind, from the panics
/// reported on stderr (the last is the one that aborted).
fn non_unwinding_panic(panics: &[Panic<'_>]) -> String {
    let Some((last, earlier)) = panics.split_last() else {
        return "your code panicked where Rust cannot unwind, so the program aborted".into();
    };
    if let Some(detail) = last.message.strip_prefix("misaligned pointer dereference") {
        let detail = detail.trim_start_matches(':').trim();
        let detail = match detail.is_empty() {
            true => String::new(),
            false => format!(" ({detail})"),
        };
        return format!(
            "your code dereferenced a misaligned pointer{}{detail}",
            last.at()
        );
    }
    if let Some(rule) = last
        .message
        .strip_prefix("unsafe precondition(s) violated:")
    {
        return format!(
            "your code broke the safety rules of an unsafe function{}: {}",
            last.at(),
            rule.trim()
        );
    }
    // The panic that could not unwind is reported first; the last one
    // only says why it aborted.
    let first = earlier.last().unwrap_or(last);
    let situation = match last.message {
        m if m.contains("destructor during cleanup") => {
            "in a `drop` while already unwinding from another panic"
        }
        m if m.contains("cannot unwind") => {
            "in a function that cannot unwind (such as an `extern \"C\"` fn)"
        }
        _ => "where Rust cannot unwind",
    };
    format!(
        "your code panicked {situation}{}: {}",
        first.at(),
        first.message
    )
}

/// One panic report on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Panic<'a> {
    /// The first line of its message.
    message: &'a str,
    /// Where it happened, when that is in the course's files rather than
    /// in the standard library.
    location: Option<&'a str>,
}

impl Panic<'_> {
    /// ` at LOCATION`, or nothing.
    fn at(&self) -> String {
        self.location
            .map(|l| format!(" at {l}"))
            .unwrap_or_default()
    }
}

/// Every `thread '...' panicked at LOCATION:\nMESSAGE` report on stderr.
fn panics(stderr: &str) -> Vec<Panic<'_>> {
    stderr
        .split("panicked at ")
        .skip(1)
        .map(|report| {
            let mut lines = report.lines();
            let location = lines
                .next()
                .unwrap_or_default()
                .trim()
                .trim_end_matches(':');
            let in_library = location.starts_with("/rustc/") || location.contains("library/");
            Panic {
                message: lines.next().unwrap_or_default().trim(),
                location: (!location.is_empty() && !in_library).then_some(location),
            }
        })
        .collect()
}

fn last_line(text: &str) -> Option<&str> {
    text.lines().rev().map(str::trim).find(|l| !l.is_empty())
}

/// The conventional name of a signal number.
pub fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGILL => "SIGILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        _ => return format!("signal {signal}"),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::{FreeOp, HeapReport, LayoutFigures, Leaked, Resource};
    use std::time::Duration;

    const HELD: Limits = Limits {
        timeout: Duration::from_millis(100),
        max_output_bytes: 10,
        memory_limit_mb: 64,
        max_file_bytes: 1000,
        build_timeout: Duration::from_secs(1),
        build_memory_limit_mb: 100,
    };

    fn judge(outcome: &RunOutcome, expected: &str, limits: Limits) -> Verdict {
        let ctx = Context {
            limits,
            heap: None,
            heap_limits: HeapLimits::default(),
            memcheck: false,
        };
        super::judge(outcome, expected, &ctx)
    }

    fn outcome(ending: Ending, stdout: &str, stderr: &str) -> RunOutcome {
        RunOutcome {
            ending,
            stdout: stdout.as_bytes().to_vec(),
            stderr: stderr.as_bytes().to_vec(),
            elapsed: Duration::ZERO,
            isolation: crate::sandbox::Isolation::ProcessGroup,
        }
    }

    #[test]
    fn normalisation_rules() {
        assert_eq!(normalize("a \r\nb\t\n\n\n"), "a\nb\n");
        assert_eq!(normalize("a\nb"), "a\nb\n");
        assert_eq!(normalize(""), "");
        assert_eq!(normalize("\n\n"), "");
        // Leading spaces and inner blank lines still count.
        assert_ne!(normalize(" a\n"), normalize("a\n"));
        assert_ne!(normalize("a\n\nb\n"), normalize("a\nb\n"));
    }

    #[test]
    fn pass_and_wrong_output() {
        let ok = outcome(Ending::Exited(0), "x\r\ny  \n\n", "");
        assert_eq!(judge(&ok, "x\ny\n", HELD), Verdict::Pass);
        let bad = outcome(Ending::Exited(0), "x\nz\n", "");
        assert!(matches!(
            judge(&bad, "x\ny\n", HELD),
            Verdict::WrongOutput { .. }
        ));
    }

    #[test]
    fn panic_is_parsed() {
        let stderr = "\nthread 'main' panicked at exercises/a.rs:3:5:\nnot yet implemented\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        let verdict = judge(&outcome(Ending::Exited(101), "", stderr), "", HELD);
        assert_eq!(
            verdict,
            Verdict::Panic {
                message: "not yet implemented".into(),
                location: Some("exercises/a.rs:3:5".into()),
            }
        );
    }

    #[test]
    fn signals_and_limits() {
        let segv = judge(&outcome(Ending::Signaled(libc::SIGSEGV), "", ""), "", HELD);
        assert!(
            matches!(segv, Verdict::Crash { signal: libc::SIGSEGV, ref cause } if cause.contains("invalid memory access") && cause.ends_with("(SIGSEGV)"))
        );
        let so = "\nthread 'main' has overflowed its stack\nfatal runtime error: stack overflow\n";
        let stack = judge(&outcome(Ending::Signaled(libc::SIGABRT), "", so), "", HELD);
        assert!(
            matches!(stack, Verdict::Crash { ref cause, .. } if cause.contains("overflowed the stack"))
        );
        let oom = "memory allocation of 1073741824 bytes failed\n";
        let mem = judge(&outcome(Ending::Signaled(libc::SIGABRT), "", oom), "", HELD);
        assert_eq!(mem, Verdict::MemoryLimit { limit_mb: 64 });
        let slow = judge(&outcome(Ending::TimedOut, "", ""), "", HELD);
        assert_eq!(slow, Verdict::Timeout { limit_ms: 100 });
        let code = judge(&outcome(Ending::Exited(3), "", "bye"), "", HELD);
        assert_eq!(code, Verdict::ExitCode { code: 3 });
    }

    fn received(report: Result<HeapReport, ReportProblem>) -> Received {
        Received {
            violations: Vec::new(),
            report,
        }
    }

    fn accounted(received: &Received, heap_limits: HeapLimits) -> Context<'_> {
        Context {
            limits: HELD,
            heap: Some(received),
            heap_limits,
            memcheck: false,
        }
    }

    fn clean_report() -> HeapReport {
        HeapReport {
            allocs: 3,
            frees: 3,
            peak: 100,
            fds: Some(Leaked::default()),
            mappings: Some(Leaked {
                count: 1,
                examples: vec!["4 KiB".into()],
            }),
            ..HeapReport::default()
        }
    }

    fn abort_cause(stderr: &str) -> String {
        match judge(
            &outcome(Ending::Signaled(libc::SIGABRT), "", stderr),
            "",
            HELD,
        ) {
            Verdict::Crash { cause, .. } => cause,
            other => panic!("not a crash: {other:?}"),
        }
    }

    #[test]
    fn non_unwinding_panics_say_the_cause_first() {
        let misaligned = "\nthread 'main' (7) panicked at exercises/pool.rs:194:13:\nmisaligned pointer dereference: address must be a multiple of 0x8 but is 0x7ffd1\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\nthread caused non-unwinding panic. aborting.\n";
        assert_eq!(
            abort_cause(misaligned),
            "your code dereferenced a misaligned pointer at exercises/pool.rs:194:13 (address must be a multiple of 0x8 but is 0x7ffd1) (SIGABRT)"
        );
        let precondition = "\nthread 'main' panicked at exercises/loader.rs:8:34:\nunsafe precondition(s) violated: slice::from_raw_parts requires the pointer to be aligned and non-null\n\nThis indicates a bug in the program.\nthread caused non-unwinding panic. aborting.\n";
        assert_eq!(
            abort_cause(precondition),
            "your code broke the safety rules of an unsafe function at exercises/loader.rs:8:34: slice::from_raw_parts requires the pointer to be aligned and non-null (SIGABRT)"
        );
        let in_drop = "\nthread 'main' panicked at exercises/a.rs:12:21:\nfirst\n\nthread 'main' panicked at exercises/a.rs:11:58:\nboom in drop\n\nthread 'main' panicked at /rustc/abc/library/core/src/panicking.rs:233:5:\npanic in a destructor during cleanup\nthread caused non-unwinding panic. aborting.\n";
        assert_eq!(
            abort_cause(in_drop),
            "your code panicked in a `drop` while already unwinding from another panic at exercises/a.rs:11:58: boom in drop (SIGABRT)"
        );
        assert_eq!(
            abort_cause("giving up\n"),
            "the program aborted: giving up (SIGABRT)"
        );
    }

    #[test]
    fn heap_limits_apply_only_to_otherwise_passing_runs() {
        let received = received(Ok(clean_report()));
        let limits = HeapLimits {
            max_allocations: Some(1),
            ..HeapLimits::default()
        };
        let ctx = accounted(&received, limits);
        let ok = outcome(Ending::Exited(0), "x\n", "");
        assert!(
            matches!(super::judge(&ok, "x\n", &ctx), Verdict::HeapLimit(ref v) if v.actual == 3)
        );
        let wrong = outcome(Ending::Exited(0), "y\n", "");
        assert!(matches!(
            super::judge(&wrong, "x\n", &ctx),
            Verdict::WrongOutput { .. }
        ));
    }

    #[test]
    fn resource_leaks_come_before_heap_limits() {
        let received = received(Ok(clean_report()));
        let limits = HeapLimits {
            max_allocations: Some(1),
            max_leaked_mappings: Some(0),
            ..HeapLimits::default()
        };
        let ok = outcome(Ending::Exited(0), "x\n", "");
        let verdict = super::judge(&ok, "x\n", &accounted(&received, limits));
        assert!(matches!(verdict, Verdict::ResourceLeak(ref v) if v.leaked.count == 1));
        assert_eq!(verdict.label(), "resource leak");
    }

    #[test]
    fn a_missing_report_fails_a_passing_run_only() {
        let missing = received(Err(ReportProblem::Missing));
        let ctx = accounted(&missing, HeapLimits::default());
        let ok = outcome(Ending::Exited(0), "x\n", "");
        let verdict = super::judge(&ok, "x\n", &ctx);
        assert_eq!(verdict, Verdict::MissingHeapReport(ReportProblem::Missing));
        assert_eq!(verdict.label(), "missing heap report");
        let crashed = outcome(Ending::Signaled(libc::SIGSEGV), "", "");
        assert!(matches!(
            super::judge(&crashed, "x\n", &ctx),
            Verdict::Crash { .. }
        ));
    }

    #[test]
    fn layout_violations_win_over_what_they_may_have_caused() {
        let first = LayoutViolation {
            op: FreeOp::Dealloc,
            given: LayoutFigures { size: 8, align: 8 },
            allocated: None,
        };
        let received = Received {
            violations: vec![first],
            report: Err(ReportProblem::Missing),
        };
        let ctx = accounted(&received, HeapLimits::default());
        let crashed = outcome(Ending::Signaled(libc::SIGSEGV), "", "");
        let verdict = super::judge(&crashed, "x\n", &ctx);
        assert_eq!(verdict, Verdict::LayoutMismatch { first, count: 1 });
        assert_eq!(verdict.label(), "layout mismatch");
        let slow = outcome(Ending::TimedOut, "", "");
        assert!(matches!(
            super::judge(&slow, "x\n", &ctx),
            Verdict::Timeout { .. }
        ));
    }

    #[test]
    fn probes_keep_their_guarantee_only_with_the_expected_code() {
        let probe = Probe {
            file: "p/reject.rs".into(),
            error: "E0502".into(),
            guarantee: "no reset while boxed".into(),
        };
        let failed = |codes: &[&str]| BuildOutcome::CompileError {
            diagnostics: String::new(),
            codes: codes.iter().map(|c| c.to_string()).collect(),
        };
        assert_eq!(super::probe(&probe, &failed(&["E0599", "E0502"])), None);
        assert!(matches!(
            super::probe(&probe, &failed(&["E0599"])),
            Some(Verdict::GuaranteeLost(ref lost)) if !lost.compiled && lost.found_codes == ["E0599"]
        ));
        let built = BuildOutcome::Built {
            exe: "x".into(),
            heap: false,
            warnings: Vec::new(),
        };
        assert!(matches!(
            super::probe(&probe, &built),
            Some(Verdict::GuaranteeLost(ref lost)) if lost.compiled && lost.probe == "exercises/p/reject.rs"
        ));
    }

    #[test]
    fn every_failing_label_may_be_named_by_caught_by() {
        let failing = [
            Verdict::WrongOutput {
                expected: String::new(),
                actual: String::new(),
            },
            Verdict::CompileError {
                diagnostics: String::new(),
                codes: Vec::new(),
            },
            Verdict::Panic {
                message: String::new(),
                location: None,
            },
            Verdict::Crash {
                signal: 11,
                cause: String::new(),
            },
            Verdict::ExitCode { code: 1 },
            Verdict::Timeout { limit_ms: 1 },
            Verdict::OutputLimit {
                stream: Stream::Stdout,
                limit_bytes: 1,
            },
            Verdict::MemoryLimit { limit_mb: 1 },
            Verdict::HeapLimit(
                HeapLimits {
                    max_allocations: Some(0),
                    ..HeapLimits::default()
                }
                .check(&HeapReport {
                    allocs: 1,
                    ..HeapReport::default()
                })
                .expect("over the limit"),
            ),
            Verdict::MemoryError(memcheck::Finding {
                headline: String::new(),
                frames: Vec::new(),
                details: Vec::new(),
            }),
            Verdict::Lint {
                diagnostics: String::new(),
            },
            Verdict::MissingHeapReport(ReportProblem::Missing),
            Verdict::ResourceLeak(ResourceViolation {
                resource: Resource::Fds,
                leaked: Leaked {
                    count: 1,
                    examples: Vec::new(),
                },
                limit: 0,
            }),
            Verdict::LayoutMismatch {
                first: LayoutViolation {
                    op: FreeOp::Dealloc,
                    given: LayoutFigures { size: 8, align: 8 },
                    allocated: None,
                },
                count: 1,
            },
            super::probe(
                &Probe {
                    file: "p.rs".into(),
                    error: "E0001".into(),
                    guarantee: String::new(),
                },
                &BuildOutcome::Built {
                    exe: "x".into(),
                    heap: false,
                    warnings: Vec::new(),
                },
            )
            .expect("a lost guarantee"),
        ];
        for verdict in &failing {
            assert!(
                crate::course::CAUGHT_BY_LABELS.contains(&verdict.label()),
                "{}",
                verdict.label()
            );
        }
        assert_eq!(failing.len(), crate::course::CAUGHT_BY_LABELS.len());
    }

    #[test]
    fn memcheck_errors_win() {
        let ctx = Context {
            limits: HELD,
            heap: None,
            heap_limits: HeapLimits::default(),
            memcheck: true,
        };
        let vg = "==1== Invalid read of size 8\n==1==    at 0x1: f (exercises/a.rs:1)\n";
        let run = outcome(Ending::Exited(memcheck::ERROR_EXIT_CODE), "x\n", vg);
        assert!(
            matches!(super::judge(&run, "x\n", &ctx), Verdict::MemoryError(f) if f.headline == "Invalid read of size 8")
        );
    }
}
