//! End-to-end timings of the runner, printed as a table:
//! `cargo bench --bench runner`.
//!
//! It drives the real binary on a temporary course, as a learner would:
//! the first (cold) check that creates the harness, warm checks that only
//! recompile the learner's file, an unchanged re-check, and a program that
//! floods its output until the cap stops it.
//!
//! With `MEMLINGS_BENCH_GRADE=N` it also grades N submissions of the
//! repository's course, every exercise solved, and compares that with
//! running `memlings check` on each exercise of each submission in
//! sequence: `MEMLINGS_BENCH_GRADE=30 cargo bench --bench runner` (minutes).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 5;

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
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_memlings"))
        .arg("--course")
        .arg(root)
        .args(["--color", "never", "check", name])
        .output()
        .expect("memlings runs");
    (start.elapsed(), out.status.code())
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

    let edited = (0..RUNS)
        .map(|i| {
            let src = format!(
                "fn main() {{ for i in 0..3 {{ println!(\"line {{i}}\"); }} let _ = {i}; }}"
            );
            fs::write(root.join("exercises/hello.rs"), src).unwrap();
            check(root, "hello").0
        })
        .collect();
    row(
        "warm check after an edit (recompile one file)",
        median(edited),
    );

    let unchanged = (0..RUNS).map(|_| check(root, "hello").0).collect();
    row(
        "re-check with no change (cargo no-op + run + judge)",
        median(unchanged),
    );

    if let Some(n) = std::env::var("MEMLINGS_BENCH_GRADE")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        grade_class(n);
    }

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

/// The repository's course without its solutions, as a teacher's source
/// for grading; and `n` learner workspaces made from it with every
/// exercise solved.
fn class(root: &Path, n: usize) -> (PathBuf, Vec<PathBuf>) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = root.join("course");
    for entry in ["course.toml", "exercises", "expected"] {
        copy(&repo.join(entry), &source.join(entry));
    }
    let learners: Vec<PathBuf> = (0..n)
        .map(|i| {
            let ws = root.join(format!("learner{i:02}"));
            let out = memlings(&source, &["init"]).arg(&ws).output().unwrap();
            assert!(out.status.success(), "init: {out:?}");
            // solutions/NN_name/*.rs solve exercises/NN_name/*.rs.
            for dir in fs::read_dir(repo.join("solutions")).unwrap() {
                let dir = dir.unwrap().path();
                let name = dir.file_name().unwrap().to_string_lossy().into_owned();
                if name.starts_with(|c: char| c.is_ascii_digit()) {
                    copy(&dir, &ws.join("exercises").join(name));
                }
            }
            ws
        })
        .collect();
    (source, learners)
}

/// The exercises of the course at `root`, in order.
fn exercise_names(root: &Path) -> Vec<String> {
    let out = memlings(root, &["list", "--format", "json"])
        .output()
        .unwrap();
    let list: serde_json::Value =
        serde_json::from_slice(out.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    list["exercises"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Grading `n` complete submissions against `memlings check` per exercise.
fn grade_class(n: usize) {
    let tmp = tempfile::tempdir().unwrap();
    let (source, learners) = class(tmp.path(), n);
    let names = exercise_names(&source);
    println!(
        "\ngrading {n} submissions of {} exercises, all passing",
        names.len()
    );

    let (checks, checks_cpu) = timed(|| {
        for ws in &learners {
            for name in &names {
                let out = memlings(ws, &["check", name]).output().unwrap();
                assert_eq!(out.status.code(), Some(0), "check {name}: {out:?}");
            }
        }
    });
    let what = format!("`memlings check` x{} in sequence", n * names.len());
    row_cpu(&what, checks, checks_cpu);

    let grade = |jobs: &str| {
        let mut args = vec![
            "grade",
            "--allow-no-isolation",
            "--format",
            "json",
            "-j",
            jobs,
        ];
        let paths: Vec<&str> = learners.iter().map(|p| p.to_str().unwrap()).collect();
        args.extend(paths);
        timed(|| {
            let out = memlings(&source, &args).output().unwrap();
            assert_eq!(out.status.code(), Some(0), "grade: {out:?}");
            let text = String::from_utf8_lossy(&out.stdout);
            let failed = text
                .lines()
                .filter(|l| l.contains("\"passed\":false"))
                .count();
            assert_eq!(failed, 0, "every exercise must pass:\n{text}");
        })
    };
    let (cold, cold_cpu) = grade("2");
    row_cpu(
        &format!("`memlings grade -j 2` of {n} (cold)"),
        cold,
        cold_cpu,
    );
    let (warm, warm_cpu) = grade("2");
    row_cpu(
        &format!("`memlings grade -j 2` of {n} again (warm)"),
        warm,
        warm_cpu,
    );
    println!(
        "{:<52} {:>9.1} x ({:.1} x in CPU time)",
        "speed-up of a cold grade over the checks",
        checks.as_secs_f64() / cold.as_secs_f64(),
        checks_cpu.as_secs_f64() / cold_cpu.as_secs_f64(),
    );
}

/// Runs `f`; returns the wall-clock time it took and the CPU time (user
/// and system) of the child processes it waited for, which other load on
/// the machine does not inflate.
fn timed(f: impl FnOnce()) -> (Duration, Duration) {
    let cpu_before = children_cpu();
    let start = Instant::now();
    f();
    (start.elapsed(), children_cpu().saturating_sub(cpu_before))
}

/// The CPU time of all waited-for descendants so far.
fn children_cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

fn row_cpu(what: &str, wall: Duration, cpu: Duration) {
    println!(
        "{what:<52} {:>9.1} ms  (CPU {:.1} s)",
        wall.as_secs_f64() * 1000.0,
        cpu.as_secs_f64()
    );
}

/// `memlings --course ROOT --color never ARGS...`
fn memlings(root: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_memlings"));
    cmd.arg("--course")
        .arg(root)
        .args(["--color", "never"])
        .args(args);
    cmd
}

/// Copies a file, or a directory recursively.
fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            copy(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(from, to).unwrap();
    }
}
