//! Turning what happened into a verdict. Pure: no I/O, no printing.

use crate::course::Limits;
use crate::exec::{Ending, RunOutcome, Stream};
pub use crate::harness::BuildLimit;
use crate::heap::{HeapLimits, HeapReport, HeapViolation};
use crate::memcheck;

/// The judgement of one attempt at an exercise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Exited cleanly and printed the expected output.
    Pass,
    /// Exited cleanly but printed something else.
    WrongOutput { expected: String, actual: String },
    /// The module does not compile; the compiler's rendered errors.
    CompileError { diagnostics: String },
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
    /// valgrind memcheck found a memory error; its first one.
    MemoryError(memcheck::Finding),
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
            Verdict::Panic { .. } => "panic",
            Verdict::Crash { .. } => "crash",
            Verdict::ExitCode { .. } => "non-zero exit",
            Verdict::Timeout { .. } => "timeout",
            Verdict::OutputLimit { .. } => "output limit",
            Verdict::MemoryLimit { .. } => "memory limit",
            Verdict::FileLimit { .. } => "file limit",
            Verdict::BuildLimit(_) => "build limit",
            Verdict::HeapLimit(_) => "heap limit",
            Verdict::MemoryError(_) => "memory error",
            Verdict::Interrupted => "interrupted",
        }
    }
}

/// What the judge knows about a run besides its output.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The limits the run was held to, for wording the verdict.
    pub limits: Limits,
    /// The program's heap figures, when it was built with accounting.
    pub heap: Option<&'a HeapReport>,
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
    match (verdict, ctx.heap) {
        (Verdict::Pass, Some(report)) => match ctx.heap_limits.check(report) {
            Some(violation) => Verdict::HeapLimit(violation),
            None => Verdict::Pass,
        },
        (verdict, _) => verdict,
    }
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

/// Names a signal in the learner's terms, using what Rust printed if anything.
fn describe_signal(signal: i32, stderr: &str) -> String {
    let name = signal_name(signal);
    match signal {
        libc::SIGSEGV => format!(
            "{name}: invalid memory access (a dangling or null pointer, or an out-of-bounds write in unsafe code)"
        ),
        libc::SIGBUS => {
            format!("{name}: bus error (misaligned access, or a mapped file shrank underneath)")
        }
        libc::SIGABRT if stderr.contains("has overflowed its stack") => {
            format!("{name}: stack overflow (unbounded recursion, or a huge value on the stack)")
        }
        libc::SIGABRT if stderr.contains("double free") => {
            format!("{name}: double free detected by the allocator (a value dropped twice)")
        }
        libc::SIGABRT => match last_line(stderr) {
            Some(line) => format!("{name}: aborted: {line}"),
            None => format!("{name}: aborted"),
        },
        libc::SIGKILL => {
            format!("{name}: killed from outside (for example by the out-of-memory killer)")
        }
        libc::SIGFPE => format!("{name}: arithmetic fault"),
        libc::SIGILL => {
            format!("{name}: illegal instruction (often an abort from unreachable code)")
        }
        _ => format!("{name}: terminated by signal {signal}"),
    }
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
            matches!(segv, Verdict::Crash { signal: libc::SIGSEGV, ref cause } if cause.contains("invalid memory access"))
        );
        let so = "\nthread 'main' has overflowed its stack\nfatal runtime error: stack overflow\n";
        let stack = judge(&outcome(Ending::Signaled(libc::SIGABRT), "", so), "", HELD);
        assert!(
            matches!(stack, Verdict::Crash { ref cause, .. } if cause.contains("stack overflow"))
        );
        let oom = "memory allocation of 1073741824 bytes failed\n";
        let mem = judge(&outcome(Ending::Signaled(libc::SIGABRT), "", oom), "", HELD);
        assert_eq!(mem, Verdict::MemoryLimit { limit_mb: 64 });
        let slow = judge(&outcome(Ending::TimedOut, "", ""), "", HELD);
        assert_eq!(slow, Verdict::Timeout { limit_ms: 100 });
        let code = judge(&outcome(Ending::Exited(3), "", "bye"), "", HELD);
        assert_eq!(code, Verdict::ExitCode { code: 3 });
    }

    #[test]
    fn heap_limits_apply_only_to_otherwise_passing_runs() {
        let report = HeapReport {
            allocs: 3,
            reallocs: 0,
            frees: 3,
            peak: 100,
            leaked: 0,
        };
        let limits = HeapLimits {
            max_allocations: Some(1),
            ..HeapLimits::default()
        };
        let ctx = Context {
            limits: HELD,
            heap: Some(&report),
            heap_limits: limits,
            memcheck: false,
        };
        let ok = outcome(Ending::Exited(0), "x\n", "");
        assert!(matches!(super::judge(&ok, "x\n", &ctx), Verdict::HeapLimit(v) if v.actual == 3));
        let wrong = outcome(Ending::Exited(0), "y\n", "");
        assert!(matches!(
            super::judge(&wrong, "x\n", &ctx),
            Verdict::WrongOutput { .. }
        ));
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
