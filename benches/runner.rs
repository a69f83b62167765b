//! End-to-end timings of the runner, printed as a table:
//! `cargo bench --bench runner`.
//!
//! It drives the real binary on a temporary course, as a learner would:
//! the first (cold) check that creates the harness, warm checks that only
//! recompile the learner's file, against a bare `cargo build` plus run of
//! the same harness binary, an unchanged re-check with and without
//! namespace isolation, the namespace set-up alone, and a program that
//! floods its output until the cap stops it.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};

const RUNS: usize = 7;

fn write_course(root: &Path) {
    fs::create_dir_all(root.join("exercises")).unwrap();
    fs::create_dir_all(root.join("expected")).unwrap();
    let hello = r#"fn main() { for i in 0..3 { println!("line {i}"); } }"#;
    let flood = r#"fn main() { loop { println!("{}", "x".repeat(200)); } }"#;
    fs::write(root.join("exercises/hello.rs"), hello).unwrap();
    fs::write(root.join("exercises/flood.rs"), flood).unwrap();
    fs::write(root.join("expected/hello.txt"), "line 0\nline 1\nline 2\n").unwrap();
    fs::write(root.join("expected/flood.txt"), "").unwrap();
    fs::write(
        root.join("course.toml"),
        "format_version = 1\ntitle = \"bench\"\n\
         [[exercises]]\nname = \"hello\"\npath = \"hello.rs\"\n\
         [[exercises]]\nname = \"flood\"\npath = \"flood.rs\"\n",
    )
    .unwrap();
}

/// Runs `memlings --course ROOT check NAME`; returns its duration and exit code.
fn check(root: &Path, name: &str) -> (Duration, Option<i32>) {
    check_with(root, name, "on")
}

/// `check` with `MEMLINGS_SANDBOX` set to `sandbox` (`off`: process group).
fn check_with(root: &Path, name: &str, sandbox: &str) -> (Duration, Option<i32>) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_memlings"))
        .arg("--course")
        .arg(root)
        .args(["--color", "never", "check", name])
        .env("MEMLINGS_SANDBOX", sandbox)
        .output()
        .expect("memlings runs");
    (start.elapsed(), out.status.code())
}

/// Writes the `i`-th edit of the hello exercise, forcing a recompile.
fn edit_hello(root: &Path, i: usize) {
    let src = format!("fn main() {{ for i in 0..3 {{ println!(\"line {{i}}\"); }} let _ = {i}; }}");
    fs::write(root.join("exercises/hello.rs"), src).unwrap();
}

/// What the runner adds to: `cargo build` of the harness binary after an
/// edit, then running it, by hand.
fn bare_build_and_run(root: &Path, i: usize) -> Duration {
    // The harness compiles its own copy of the learner's file: edit that.
    let harness = root.join(".memlings/build");
    let copy = harness.join("src/bin/ex_hello.rs");
    let text = fs::read_to_string(&copy).expect("the harness holds a copy");
    fs::write(&copy, format!("{text}\n// bare build {i}\n")).unwrap();
    let start = Instant::now();
    let built = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--bin", "ex_hello", "--manifest-path"])
        .arg(harness.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", harness.join("target"))
        .status()
        .expect("cargo runs");
    assert!(built.success());
    let ran = Command::new(harness.join("target/debug/ex_hello"))
        .output()
        .expect("the binary runs");
    assert!(ran.status.success());
    start.elapsed()
}

/// One supervisor start (namespaces, mounts, PID 1) around `/bin/true`,
/// minus running `/bin/true` directly.
fn namespace_setup(root: &Path) -> (Duration, Duration) {
    let time = |sandboxed: bool| {
        let samples: Vec<Duration> = (0..20)
            .map(|_| {
                let start = Instant::now();
                let status = if sandboxed {
                    Command::new(env!("CARGO_BIN_EXE_memlings"))
                        .args(["__sandbox", "--status-fd", "2", "--cwd"])
                        .arg(root)
                        .arg("--hide")
                        .arg(root.join("expected"))
                        .args(["--", "/bin/true"])
                        .stderr(std::process::Stdio::null())
                        .status()
                } else {
                    Command::new("/bin/true").status()
                };
                assert!(status.expect("starts").success());
                start.elapsed()
            })
            .collect();
        median(samples)
    };
    (time(true), time(false))
}

/// Runs `f`, returning its result and the CPU time (user + system) of the
/// child processes it waited for.
fn with_cpu(f: impl FnOnce() -> Duration) -> (Duration, Duration) {
    let children = || {
        let usage = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage");
        let (user, system) = (usage.user_time(), usage.system_time());
        let micros = |t: nix::sys::time::TimeVal| {
            Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
        };
        micros(user) + micros(system)
    };
    let before = children();
    let wall = f();
    (wall, children().saturating_sub(before))
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn row(what: &str, d: Duration) {
    println!("{what:<52} {:>9.1} ms", d.as_secs_f64() * 1000.0);
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write_course(root);

    println!("memlings runner benchmark ({RUNS} runs each, median)\n");
    let (cold, code) = check(root, "hello");
    assert_eq!(code, Some(0), "the benchmark course must pass");
    row("cold check (new harness, first compile)", cold);

    // Interleaved, so that a busy machine slows both alike; CPU time (of
    // every process, the compiler's included) is steadier than wall time
    // on a shared machine.
    let samples: Vec<[Duration; 4]> = (0..RUNS)
        .map(|i| {
            edit_hello(root, i);
            let (checked, checked_cpu) = with_cpu(|| check(root, "hello").0);
            let (bare, bare_cpu) = with_cpu(|| bare_build_and_run(root, i));
            [checked, bare, checked_cpu, bare_cpu]
        })
        .collect();
    let column = |n: usize| median(samples.iter().map(|s| s[n]).collect());
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    let (edited, bare, edited_cpu, bare_cpu) = (column(0), column(1), column(2), column(3));
    row("warm check after an edit (recompile one file)", edited);
    row("bare cargo build + run of the same binary", bare);
    println!(
        "{:<52} {:>9.2} x",
        "warm check / bare build + run",
        ratio(edited, bare)
    );
    row("  the same, CPU time: warm check", edited_cpu);
    row("  the same, CPU time: bare build + run", bare_cpu);
    println!(
        "{:<52} {:>9.2} x",
        "  CPU time ratio",
        ratio(edited_cpu, bare_cpu)
    );

    let unchanged = (0..RUNS).map(|_| check(root, "hello").0).collect();
    row(
        "re-check with no change (cargo no-op + run + judge)",
        median(unchanged),
    );
    let unisolated = (0..RUNS)
        .map(|_| check_with(root, "hello", "off").0)
        .collect();
    row(
        "the same with process-group containment only",
        median(unisolated),
    );
    let (sandboxed, bare_true) = namespace_setup(root);
    row(
        "supervisor + namespaces + mounts around /bin/true",
        sandboxed,
    );
    row("/bin/true alone", bare_true);

    let flood: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let (d, code) = check(root, "flood");
            assert_eq!(code, Some(1), "the flood must hit the output cap");
            d
        })
        .collect();
    row(
        "check of a program flooding stdout (killed at 1 MiB)",
        median(flood),
    );
}
