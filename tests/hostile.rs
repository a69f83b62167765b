//! Hostile learner programs: each must get a clear verdict within its limit
//! plus a small margin, leave no process behind, and leave state intact.

mod common;

use std::fs;
use std::process::Stdio;
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{TestCourse, assert_no_survivors, spawn_cmd, texts};

/// Writes `started` in its cwd (the scratch directory), so that a test can
/// wait for the program to be running.
const STARTED: &str = r#"std::fs::write("started", "").unwrap();"#;

/// Every program first says it started; tests check that no process of
/// the course outlives its command.
fn program(body: &str) -> String {
    format!("#[allow(unreachable_code, unused)]\nfn main() {{\n{STARTED}\n{body}\n}}\n")
}

/// A one-exercise course named `x` with the given extra TOML.
fn course(body: &str, extra: &str) -> TestCourse {
    TestCourse::new()
        .exercise("x", &program(body), "ok\n", extra)
        .build()
}

/// Runs `check x`, returning (exit code, stdout, stderr, elapsed), after
/// asserting that the program is no longer running.
fn check(course: &TestCourse) -> (Option<i32>, String, String, Duration) {
    let start = Instant::now();
    let out = course.cmd(&["check", "x"]).output().unwrap();
    let elapsed = start.elapsed();
    let (stdout, stderr) = texts(&out);
    assert_no_survivors(course.root());
    (out.status.code(), stdout, stderr, elapsed)
}

fn assert_state_intact(course: &TestCourse) {
    let text = fs::read_to_string(course.root().join(".memlings/state.toml")).unwrap();
    text.parse::<toml::Table>().expect("state is valid TOML");
}

#[test]
fn endless_loop_times_out_and_is_killed() {
    let course = course("loop { std::hint::spin_loop(); }", "timeout_ms = 500");
    let (code, stdout, _, _) = check(&course);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("timed out after 500 ms"), "{stdout}");
    // Built already: now the whole command takes the limit plus a margin.
    let (_, stdout, _, elapsed) = check(&course);
    assert!(stdout.contains("timed out after 500 ms"), "{stdout}");
    assert!(
        elapsed < Duration::from_millis(500 + 1500),
        "took {elapsed:?}"
    );
    assert_state_intact(&course);
}

#[test]
fn finishing_just_after_the_limit_is_still_a_timeout() {
    let body = r#"std::thread::sleep(std::time::Duration::from_millis(330)); println!("ok");"#;
    let course = course(body, "timeout_ms = 300");
    let (code, stdout, _, _) = check(&course);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("timed out after 300 ms"), "{stdout}");
}

#[test]
fn grandchildren_are_killed_with_the_program() {
    // The child spawns a long sleep, prints, and exits.
    let body = r#"
        let child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        std::mem::forget(child);
        println!("ok");"#;
    let course = course(body, "timeout_ms = 5000");
    let (code, stdout, _, elapsed) = check(&course);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        elapsed < Duration::from_secs(5),
        "did not wait for the grandchild: {elapsed:?}"
    );
}

#[test]
fn a_looping_program_and_its_children_die_on_timeout() {
    let body = r#"
        let child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        loop { std::thread::sleep(std::time::Duration::from_millis(10)); }"#;
    let course = course(body, "timeout_ms = 400");
    let (code, stdout, _, _) = check(&course);
    assert_eq!(code, Some(1));
    assert!(stdout.contains("timed out after 400 ms"), "{stdout}");
}

/// Runs `check x` while sampling the runner's peak RSS (VmHWM) in KiB.
fn check_with_peak_rss(course: &TestCourse) -> (Option<i32>, String, u64) {
    let mut child = spawn_cmd(course.root(), &["check", "x"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Drain the report while sampling, so a long report cannot block it.
    let mut pipe = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut stdout = String::new();
        std::io::Read::read_to_string(&mut pipe, &mut stdout).unwrap();
        stdout
    });
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if let Ok(text) = fs::read_to_string(&status_file) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok());
            peak = peak.max(hwm.unwrap_or(0));
        }
        sleep(Duration::from_millis(5));
    };
    (status.code(), reader.join().unwrap(), peak)
}

#[test]
fn endless_output_is_capped_and_the_runner_stays_small() {
    let body = r#"
        use std::io::Write;
        let line = [b'x'; 4096];
        let mut out = std::io::stdout().lock();
        loop { out.write_all(&line).unwrap(); }"#;
    let course = course(body, "");
    let (code, stdout, peak_kib) = check_with_peak_rss(&course);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("printed more than 1 MiB on stdout"),
        "{stdout}"
    );
    assert!(peak_kib > 0, "sampled the runner");
    assert!(peak_kib < 64 * 1024, "runner peak RSS {peak_kib} KiB");
}

#[test]
fn endless_stderr_with_a_large_cap_keeps_the_runner_bounded() {
    let body = r#"
        use std::io::Write;
        let line = [b'e'; 4096];
        let mut err = std::io::stderr().lock();
        loop { let _ = err.write_all(&line); }"#;
    let course = course(body, "max_output_bytes = 16_000_000");
    let (code, stdout, peak_kib) = check_with_peak_rss(&course);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("on stderr"), "{stdout}");
    assert_no_survivors(course.root());
    assert!(peak_kib < 64 * 1024, "runner peak RSS {peak_kib} KiB");
}

#[test]
fn a_huge_allocation_hits_the_memory_limit() {
    let body = r#"let v = vec![1u8; 1 << 30]; println!("{}", v[12345]);"#;
    let course = course(body, "memory_limit_mb = 256");
    let (code, stdout, _, _) = check(&course);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("memory limit exceeded"), "{stdout}");
    assert!(stdout.contains("256 MiB"), "{stdout}");
}

#[test]
fn an_invalid_write_is_named_sigsegv() {
    // Address 8: on the never-mapped null page, but not null itself, which
    // Rust's debug checks would turn into a panic first.
    let body = "unsafe { std::ptr::without_provenance_mut::<u8>(8).write_volatile(1) };";
    let course = course(body, "");
    let (code, stdout, _, _) = check(&course);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("invalid memory access") && stdout.contains("(SIGSEGV)"),
        "{stdout}"
    );
    assert!(stdout.contains("Hint 1/2"), "{stdout}");
}

#[test]
fn abort_is_named_sigabrt() {
    let course = course(r#"eprintln!("giving up"); std::process::abort();"#, "");
    let (code, stdout, _, _) = check(&course);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("the program aborted: giving up (SIGABRT)"),
        "{stdout}"
    );
}

#[test]
fn stack_overflow_is_named() {
    let body = r#"
        fn deep(n: u64) -> u64 { let pad = [n; 64]; std::hint::black_box(&pad); deep(n + 1) + pad[3] }
        println!("{}", deep(0));"#;
    let course = course(body, "");
    let (code, stdout, _, _) = check(&course);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("your code overflowed the stack") && stdout.contains("(SIGABRT)"),
        "{stdout}"
    );
}

#[test]
fn a_panic_shows_message_and_location() {
    let course = course(r#"let v: Vec<u8> = Vec::new(); println!("{}", v[3]);"#, "");
    let (code, stdout, _, _) = check(&course);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("panicked at exercises/x.rs:4:"), "{stdout}");
    assert!(stdout.contains("index out of bounds"), "{stdout}");
}

#[test]
fn reading_stdin_sees_eof_instead_of_hanging() {
    let body = r#"
        let mut s = String::new();
        let n = std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).unwrap();
        if n == 0 { println!("ok"); }"#;
    let course = course(body, "timeout_ms = 5000");
    let (code, stdout, _, elapsed) = check(&course);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(elapsed < Duration::from_secs(5));
}

#[test]
fn non_utf8_output_is_shown_lossily() {
    let body = r#"
        use std::io::Write;
        std::io::stdout().write_all(b"ok\xff\xfe\n").unwrap();
        std::io::stderr().write_all(b"bad \xc3\x28 bytes\n").unwrap();
        std::process::exit(3);"#;
    let course = course(body, "");
    let (code, stdout, _, _) = check(&course);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("exited with status 3"), "{stdout}");
    assert!(stdout.contains("ok\u{fffd}\u{fffd}"), "{stdout}");
    assert!(stdout.contains("bad \u{fffd}( bytes"), "{stdout}");
    let run = course.cmd(&["run", "x"]).output().unwrap();
    assert!(texts(&run).0.contains("ok\u{fffd}"));
}

#[test]
fn crlf_output_passes() {
    let course = course(r#"print!("ok\r\n");"#, "");
    let (code, stdout, _, _) = check(&course);
    assert_eq!(code, Some(0), "{stdout}");
}

/// Presses Ctrl-C on `memlings ARGS` once its endless program is running.
fn interrupt_while_running(args: &[&str]) {
    let course = course("loop { std::hint::spin_loop(); }", "timeout_ms = 60000");
    course.cmd(&["hint", "x"]).assert().code(0);
    let mut runner = spawn_cmd(course.root(), args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_started(&course);
    // SAFETY: plain kill(2) on a child we spawned.
    unsafe { libc::kill(runner.id() as i32, libc::SIGINT) };
    let status = runner.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{args:?}");
    assert_no_survivors(course.root());
    assert_state_intact(&course);
    let hints = course.cmd(&["hint", "x"]).output().unwrap();
    assert!(
        texts(&hints).0.contains("Hint 2/2"),
        "the earlier hint level survived"
    );
}

/// Waits until the program of `x` has started (or fails after a minute).
fn wait_until_started(course: &TestCourse) {
    let started = course.scratch("x").join("started");
    let start = Instant::now();
    while !started.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "program never started"
        );
        sleep(Duration::from_millis(20));
    }
    sleep(Duration::from_millis(50));
}

#[test]
fn ctrl_c_during_check_kills_the_program_and_exits_130() {
    interrupt_while_running(&["check", "x"]);
}

#[test]
fn ctrl_c_during_run_kills_the_program_and_exits_130() {
    interrupt_while_running(&["run", "x"]);
}

#[test]
fn ctrl_c_during_verify_kills_the_program_and_exits_130() {
    interrupt_while_running(&["verify"]);
}

#[test]
fn concurrent_checks_wait_for_each_other_and_keep_state_valid() {
    let body = r#"std::thread::sleep(std::time::Duration::from_millis(300)); println!("ok");"#;
    let course = course(body, "");
    course.cmd(&["check", "x"]).assert().code(0);
    let spawn = || {
        spawn_cmd(course.root(), &["check", "x"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_eq!((a.status.code(), b.status.code()), (Some(0), Some(0)));
    let waited = [a, b]
        .iter()
        .any(|o| String::from_utf8_lossy(&o.stderr).contains("waiting for another memlings"));
    assert!(waited, "one run waited for the other");
    assert_state_intact(&course);
}

#[test]
fn a_corrupt_state_file_is_set_aside_with_a_warning() {
    let course = course(r#"println!("ok");"#, "");
    course.cmd(&["check", "x"]).assert().code(0);
    let state = course.root().join(".memlings/state.toml");
    fs::write(&state, b"\xff\x00garbage [[[").unwrap();
    let out = course.cmd(&["list"]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("progress file was unreadable"), "{stderr}");
    assert!(stdout.contains("x  pending"), "{stdout}");
    let kept_path = stderr
        .split("The old file is kept at ")
        .nth(1)
        .expect("names the kept copy")
        .trim();
    assert_eq!(fs::read(kept_path).unwrap(), b"\xff\x00garbage [[[");
    // A second corruption keeps its own copy beside the first.
    fs::write(&state, b"again").unwrap();
    course.cmd(&["list"]).assert().code(0);
    let copies = fs::read_dir(course.root().join(".memlings"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("state.corrupt")
        })
        .count();
    assert_eq!(copies, 2);
}
