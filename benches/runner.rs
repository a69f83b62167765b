//! End-to-end timings of the runner, printed as a table:
//! `cargo bench --bench runner`.
//!
//! It drives the real binary on a temporary course, as a learner would:
//! the first (cold) check that creates the harness, warm checks that only
//! recompile the learner's file, an unchanged re-check, and a program that
//! floods its output until the cap stops it.

use std::fs;
use std::path::Path;
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
