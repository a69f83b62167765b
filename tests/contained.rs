//! Hostile programs as a grader would fear them (issue 9): each must fail
//! or be harmless, leave no process behind, and leave the runner, its
//! report and the workspace untouched. Cases that need namespaces are
//! skipped, saying why, only where the kernel refuses them.

mod common;

use std::fs;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{TestCourse, assert_no_survivors, namespaces_available, spawn_cmd, texts};

/// A program body in a `main` that first writes `started` in its cwd.
fn program(body: &str) -> String {
    format!(
        "#[allow(unreachable_code, unused)]\nfn main() {{\nstd::fs::write(\"started\", \"\").unwrap();\n{body}\n}}\n"
    )
}

/// A one-exercise course `x` expecting "ok".
fn course(body: &str, extra: &str) -> TestCourse {
    TestCourse::new()
        .exercise("x", &program(body), "ok\n", extra)
        .build()
}

/// Runs `memlings ARGS` on the course; returns (exit code, stdout, stderr, elapsed).
fn run(course: &TestCourse, args: &[&str]) -> (Option<i32>, String, String, Duration) {
    let start = Instant::now();
    let out = course.cmd(args).output().unwrap();
    let elapsed = start.elapsed();
    let (stdout, stderr) = texts(&out);
    (out.status.code(), stdout, stderr, elapsed)
}

fn state(course: &TestCourse) -> String {
    fs::read_to_string(course.root().join(".memlings/state.toml")).unwrap_or_default()
}

/// Whether the machine lets memlings make a memory control group.
fn cgroups_available() -> bool {
    let root = nix_is_root();
    let v1 = std::path::Path::new("/sys/fs/cgroup/memory/cgroup.procs").exists();
    let v2 = fs::read_to_string("/sys/fs/cgroup/cgroup.subtree_control")
        .is_ok_and(|c| c.split_whitespace().any(|w| w == "memory"));
    let ok = root && (v1 || v2);
    if !ok {
        eprintln!(
            "skipped: no memory control group can be made here (needs root and cgroup memory)"
        );
    }
    ok
}

fn nix_is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Waits for the program of `x` to have started.
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
    sleep(Duration::from_millis(100));
}

// ---- Escapes -------------------------------------------------------------

/// A program that leaves a setsid child and a double-forked daemon, each
/// trying to mark every exercise done a second later; itself it is right.
const DAEMONS: &str = r#"
    let me = std::env::current_exe().unwrap();
    if std::env::args().nth(1).as_deref() == Some("daemon") {
        std::thread::sleep(std::time::Duration::from_secs(1));
        let _ = std::fs::write(std::env::var("STATE").unwrap(), "done = [\"x\", \"y\"]\n");
        return;
    }
    let state = std::env::current_dir().unwrap().join("../../state.toml");
    std::process::Command::new("setsid").arg("-f").arg(&me).arg("daemon")
        .env("STATE", &state).status().unwrap();
    let script = format!("( ( '{}' daemon ) & )", me.display());
    std::process::Command::new("sh").args(["-c", &script])
        .env("STATE", &state).status().unwrap();
    println!("ok");"#;

/// Checks the daemons' program with `env`; asserts that it passed, that
/// nothing survived it, and that progress was not forged.
fn daemons_are_gone(env: &[(&str, &str)]) {
    let course = TestCourse::new()
        .exercise("x", &program(DAEMONS), "ok\n", "")
        .exercise("y", &program("println!(\"no\");"), "ok\n", "")
        .build();
    let mut command = course.cmd(&["check", "x"]);
    command.envs(env.iter().copied());
    let out = command.output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert_no_survivors(course.root());
    sleep(Duration::from_millis(1500));
    let list = texts(&course.cmd(&["list"]).output().unwrap()).0;
    assert!(
        list.contains("y  pending"),
        "a daemon forged progress:\n{list}"
    );
    assert!(!state(&course).contains("\"y\""), "{}", state(&course));
}

#[test]
fn setsid_children_and_daemons_die_and_cannot_rewrite_the_state() {
    if !namespaces_available() {
        return;
    }
    daemons_are_gone(&[]);
}

#[test]
fn without_namespaces_a_control_group_still_ends_daemons() {
    if !cgroups_available() {
        return;
    }
    daemons_are_gone(&[("MEMLINGS_SANDBOX", "off")]);
}

/// Starts `check x` of an endless program, sends `signal` to the runner
/// once the program runs, and returns the runner's exit code.
fn signal_runner(signal: i32) -> Option<i32> {
    let course = course("loop { std::hint::spin_loop(); }", "timeout_ms = 60000");
    let mut runner = spawn_cmd(course.root(), &["check", "x"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_started(&course);
    // SAFETY: plain kill(2) on a child we spawned.
    unsafe { libc::kill(runner.id() as i32, signal) };
    let status = runner.wait().unwrap();
    assert_no_survivors(course.root());
    status.code()
}

#[test]
fn sigterm_kills_the_program_and_exits_143() {
    assert_eq!(signal_runner(libc::SIGTERM), Some(143));
}

#[test]
fn sighup_kills_the_program_and_exits_129() {
    assert_eq!(signal_runner(libc::SIGHUP), Some(129));
}

#[test]
fn sigkill_of_the_runner_takes_the_program_with_it() {
    assert_eq!(signal_runner(libc::SIGKILL), None);
}

#[test]
fn timeout_of_the_runner_leaves_no_program_behind() {
    let course = course("loop { std::hint::spin_loop(); }", "timeout_ms = 60000");
    let out = Command::new("timeout")
        .arg("3")
        .arg(assert_cmd::cargo::cargo_bin("memlings"))
        .args(["--color", "never", "--course"])
        .arg(course.root())
        .args(["check", "x"])
        .env("MEMLINGS_TEST_MARK", course.root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(124), "{:?}", texts(&out));
    assert_no_survivors(course.root());
}

/// Sends `signal` to a runner three seconds into an endless build; returns
/// its exit code, once it and the whole build are gone.
fn signal_during_build(signal: i32) -> Option<i32> {
    let course = course(CONST_LOOP, "build_timeout_ms = 120000");
    let mut runner = spawn_cmd(course.root(), &["check", "x"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    sleep(Duration::from_secs(3));
    let start = Instant::now();
    // SAFETY: plain kill(2) on a child we spawned.
    unsafe { libc::kill(runner.id() as i32, signal) };
    let status = runner.wait().unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_no_survivors(course.root());
    status.code()
}

#[test]
fn sigterm_during_a_build_stops_the_compiler_at_once() {
    assert_eq!(signal_during_build(libc::SIGTERM), Some(143));
}

#[test]
fn sigkill_during_a_build_takes_the_compiler_with_it() {
    if !namespaces_available() {
        return;
    }
    assert_eq!(signal_during_build(libc::SIGKILL), None);
}

// ---- Forged passes -------------------------------------------------------

#[test]
fn the_expected_output_cannot_be_read_at_run_time() {
    if !namespaces_available() {
        return;
    }
    let body = r#"
        let cwd = std::env::current_dir().unwrap();
        for path in [cwd.join("../../../expected/x.txt"), cwd.join("../../../solutions/x.rs")] {
            if let Ok(text) = std::fs::read_to_string(&path) { print!("{text}"); return; }
        }
        println!("hidden");"#;
    let course = course(body, "");
    let (code, stdout, _, _) = run(&course, &["check", "x", "--format", "json"]);
    assert_eq!(code, Some(1), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["passed"], false, "{stdout}");
    assert_eq!(report["stdout"], "hidden\n", "{stdout}");
    assert_eq!(report["isolation"], "namespaces", "{stdout}");
}

#[test]
fn the_expected_output_cannot_be_included_at_compile_time() {
    if !namespaces_available() {
        return;
    }
    let course = TestCourse::new();
    let expected = course.root().join("expected/x.txt");
    let solution = course.root().join("solutions/x.rs");
    let source = format!(
        "static E: &str = include_str!({expected:?});\nstatic S: &str = include_str!({solution:?});\nfn main() {{ print!(\"{{E}}\"); let _ = S; }}\n"
    );
    let course = course
        .exercise("x", &source, "ok\n", "")
        .solution("x", "fn main() { println!(\"ok\"); }\n")
        .build();
    let (code, stdout, _, _) = run(&course, &["check", "x"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("✗ compile error:"), "{stdout}");
    assert!(stdout.contains("couldn't read"), "{stdout}");
    // The JSON report names the build's isolation when nothing ran.
    let (_, json, _, _) = run(&course, &["check", "x", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(report["isolation"], "namespaces", "{json}");
    // The reference solution still builds (verify needs it).
    let (code, stdout, _, _) = run(&course, &["verify"]);
    assert_eq!(code, Some(0), "{stdout}");
}

#[test]
fn another_exercises_binary_cannot_be_overwritten() {
    if !namespaces_available() {
        return;
    }
    let attack = r#"
        let build = std::env::current_dir().unwrap().join("../../build/target/debug");
        let result = std::fs::write(build.join("ex_y"), "echo ok");
        println!("{}", if result.is_ok() { "overwritten" } else { "ok" });"#;
    let course = TestCourse::new()
        .exercise("x", &program(attack), "ok\n", "")
        .exercise("y", &program("println!(\"no\");"), "ok\n", "")
        .build();
    assert_eq!(run(&course, &["check", "y"]).0, Some(1));
    let binary = course.root().join(".memlings/build/target/debug/ex_y");
    let before = fs::read(&binary).unwrap();
    let (code, stdout, _, _) = run(&course, &["check", "x"]);
    assert_eq!(code, Some(0), "the write must fail quietly: {stdout}");
    assert_eq!(fs::read(&binary).unwrap(), before, "ex_y was overwritten");
    assert_eq!(run(&course, &["check", "y"]).0, Some(1));
}

#[test]
fn the_runners_stdout_cannot_be_written_and_the_runner_not_killed() {
    let body = r#"
        let ppid = std::os::unix::process::parent_id();
        let fake = "{\"event\":\"check\",\"exercise\":\"x\",\"passed\":true}\n";
        let _ = std::fs::write(format!("/proc/{ppid}/fd/1"), fake);
        let _ = std::process::Command::new("kill").args(["-KILL", &ppid.to_string()]).status();
        println!("wrong");"#;
    let course = course(body, "");
    let (code, stdout, stderr, _) = run(&course, &["check", "x", "--format", "json"]);
    if !namespaces_available() {
        return;
    }
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["passed"], false);
    assert_eq!(report["verdict"]["kind"], "wrong output");
}

#[test]
fn the_terminal_cannot_be_written_behind_the_reports_back() {
    let body = r#"
        use std::io::Write;
        if let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open("/dev/tty") {
            let _ = writeln!(tty, "FORGED ✓ passed");
        }
        println!("ok");"#;
    let course = course(body, "");
    let memlings = assert_cmd::cargo::cargo_bin("memlings");
    let command = format!(
        "{} --color never --course {} check x",
        memlings.display(),
        course.root().display()
    );
    // `script` gives the runner a terminal, as a learner's shell would.
    let Ok(out) = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("MEMLINGS_TEST_MARK", course.root())
        .output()
    else {
        eprintln!("skipped: `script` (util-linux) is not installed");
        return;
    };
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("✓ passed"), "{stdout}");
    assert!(!stdout.contains("FORGED"), "{stdout}");
}

#[test]
fn descriptors_the_runner_inherited_do_not_reach_the_program() {
    // A grader's open file (descriptor 9) must not be the program's to write.
    let body = r#"
        let inherited = std::fs::symlink_metadata("/proc/self/fd/9").is_ok();
        println!("{}", if inherited { "inherited" } else { "ok" });"#;
    let course = course(body, "");
    let grader_file = course.root().join("grader.txt");
    let command = format!(
        "exec 9>'{}'; '{}' --color never --course '{}' check x",
        grader_file.display(),
        assert_cmd::cargo::cargo_bin("memlings").display(),
        course.root().display()
    );
    for sandbox in ["on", "off"] {
        let out = Command::new("sh")
            .args(["-c", &command])
            .env("MEMLINGS_SANDBOX", sandbox)
            .env("MEMLINGS_TEST_MARK", course.root())
            .output()
            .unwrap();
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(0), "{sandbox}: {stdout}{stderr}");
    }
}

// ---- Attacks on the runner -----------------------------------------------

const SIGNAL_PARENT: &str = r#"
    let ppid = std::os::unix::process::parent_id().to_string();
    for signal in SIGNALS {
        let _ = std::process::Command::new("kill").args([signal, &ppid]).status();
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    println!("ok");"#;

#[test]
fn sigint_and_sigstop_from_the_program_do_not_affect_the_runner() {
    if !namespaces_available() {
        return;
    }
    let body = SIGNAL_PARENT.replace("SIGNALS", r#"["-INT", "-TERM", "-HUP", "-STOP"]"#);
    let course = course(&body, "timeout_ms = 5000");
    let (code, stdout, stderr, elapsed) = run(&course, &["check", "x"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
}

#[test]
fn without_namespaces_signals_from_the_program_group_are_ignored() {
    let body = SIGNAL_PARENT.replace("SIGNALS", r#"["-INT", "-TERM", "-HUP"]"#);
    let course = course(&body, "timeout_ms = 5000");
    let out = course
        .cmd(&["check", "x", "--format", "json"])
        .env("MEMLINGS_SANDBOX", "off")
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stderr.contains("without namespace isolation"), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["isolation"], "process-group", "{stdout}");
}

#[test]
fn require_isolation_refuses_to_run_without_it() {
    let course = course(r#"println!("ok");"#, "");
    let out = course
        .cmd(&["--require-isolation", "check", "x"])
        .env("MEMLINGS_SANDBOX", "off")
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("--require-isolation"), "{stderr}");
    assert!(!course.scratch("x").join("started").exists());
    if namespaces_available() {
        course
            .cmd(&["--require-isolation", "check", "x"])
            .assert()
            .code(0);
    }
}

#[test]
fn escape_sequences_in_a_panic_are_shown_not_interpreted() {
    let body = r#"
        eprintln!("\x1b]0;owned\x07\x1b[2J");
        panic!("\x1b[2K\r\x1b[32m✓ passed:\x1b[0m output matches the expected output");"#;
    let course = course(body, "");
    let (code, stdout, _, _) = run(&course, &["check", "x"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\r'),
        "{stdout:?}"
    );
    assert!(stdout.contains("\\u{1b}[32m✓ passed:"), "{stdout}");
    let run_out = texts(&course.cmd(&["run", "x"]).output().unwrap()).0;
    assert!(!run_out.contains('\u{1b}'), "{run_out:?}");
}

// ---- Unbounded builds ----------------------------------------------------

const CONST_LOOP: &str = r#"
    #[allow(long_running_const_eval)]
    const X: u64 = { let mut i = 0u64; let mut n = 0u64; while i < u64::MAX { i += 1; n = n.wrapping_mul(31).wrapping_add(i); } n };
    println!("{X}");"#;

/// Checks a build bomb; returns (stdout, elapsed) after the common checks.
fn build_bomb(source: &str, extra: &str, limit: Duration) -> String {
    let course = TestCourse::new()
        .exercise("x", source, "ok\n", extra)
        .build();
    let (code, stdout, stderr, elapsed) = run(&course, &["check", "x"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("✗ build limit:"), "{stdout}");
    assert!(
        elapsed < limit + Duration::from_secs(15),
        "took {elapsed:?}"
    );
    assert_no_survivors(course.root());
    stdout
}

#[test]
fn a_const_eval_loop_runs_out_of_build_time() {
    let source = format!("fn main() {{ {CONST_LOOP} }}\n");
    let stdout = build_bomb(&source, "build_timeout_ms = 4000", Duration::from_secs(4));
    assert!(stdout.contains("the compiler ran out of time"), "{stdout}");
    assert!(stdout.contains("4000 ms"), "{stdout}");
}

#[test]
fn an_exponential_macro_runs_out_of_build_time() {
    let xs = "x ".repeat(28);
    let source = format!(
        "macro_rules! e {{ () => {{}}; (x $($r:tt)*) => {{ e!($($r)*); e!($($r)*); }}; }}\nfn main() {{ e!({xs}); println!(\"ok\"); }}\n"
    );
    let stdout = build_bomb(&source, "build_timeout_ms = 4000", Duration::from_secs(4));
    assert!(stdout.contains("the compiler ran out of time"), "{stdout}");
}

#[test]
fn including_dev_zero_runs_out_of_build_memory() {
    let source = "static X: &[u8] = include_bytes!(\"/dev/zero\");\nfn main() { println!(\"{}\", X.len()); }\n";
    let stdout = build_bomb(
        source,
        "build_memory_limit_mb = 1024\nbuild_timeout_ms = 60000",
        Duration::from_secs(60),
    );
    assert!(
        stdout.contains("the compiler ran out of memory"),
        "{stdout}"
    );
}

#[test]
fn an_orphaned_build_holding_the_lock_is_stopped() {
    // A runner killed mid-build leaves cargo's children behind where no
    // PID namespace or control group ends them; the next check must find
    // and stop them instead of waiting on cargo's lock.
    let course = course(CONST_LOOP, "build_timeout_ms = 120000");
    let mut runner = spawn_cmd(course.root(), &["check", "x"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .env("MEMLINGS_SANDBOX", "off")
        .env("MEMLINGS_CGROUP", "off")
        .spawn()
        .unwrap();
    sleep(Duration::from_secs(3));
    // SAFETY: plain kill(2) on a child we spawned.
    unsafe { libc::kill(runner.id() as i32, libc::SIGKILL) };
    runner.wait().unwrap();
    fs::write(course.learner_file("x"), program(r#"println!("ok");"#)).unwrap();
    let (code, stdout, stderr, elapsed) = run(&course, &["check", "x"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stderr.contains("Stopping a build left running"), "{stderr}");
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
    assert_no_survivors(course.root());
}

// ---- Per-process limits --------------------------------------------------

#[test]
fn forked_children_share_one_memory_limit() {
    if !cgroups_available() {
        return;
    }
    let body = r#"
        if std::env::args().nth(1).as_deref() == Some("child") {
            let v = vec![1u8; 900 << 20];
            std::thread::sleep(std::time::Duration::from_millis(500));
            std::process::exit(i32::from(v[v.len() - 1]) - 1);
        }
        let me = std::env::current_exe().unwrap();
        let children: Vec<_> = (0..4)
            .map(|_| std::process::Command::new(&me).arg("child").spawn().unwrap())
            .collect();
        for mut c in children { let _ = c.wait(); }
        println!("ok");"#;
    let course = course(body, "memory_limit_mb = 1024\ntimeout_ms = 20000");
    let (code, stdout, stderr, _) = run(&course, &["check", "x"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("memory limit exceeded"), "{stdout}");
    assert!(stdout.contains("1024 MiB"), "{stdout}");
}

#[test]
fn memcheck_keeps_a_memory_limit() {
    if std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: valgrind is not installed");
        return;
    }
    let body =
        r#"let v = vec![1u8; 3 << 30]; println!("{}", if v[12345] == 1 { "ok" } else { "no" });"#;
    let course = course(body, "");
    let (code, stdout, stderr, _) = run(&course, &["check", "x", "--memcheck"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("memory limit exceeded"), "{stdout}");
    assert!(state(&course).contains("done = []"), "{}", state(&course));
}

#[test]
fn a_huge_file_is_stopped_by_max_file_bytes() {
    let body = r#"
        use std::io::Write;
        let mut f = std::fs::File::create("big").unwrap();
        let chunk = vec![7u8; 1 << 20];
        for _ in 0..3072 { f.write_all(&chunk).unwrap(); }
        println!("ok");"#;
    let course = course(body, "");
    let (code, stdout, stderr, _) = run(&course, &["check", "x"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("✗ file limit:"), "{stdout}");
    assert!(stdout.contains("larger than 64 MiB"), "{stdout}");
    assert!(
        !course.scratch("x").exists(),
        "the run directory was left behind"
    );
}

#[test]
fn a_read_only_directory_left_behind_does_not_break_later_checks() {
    let body = r#"
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all("locked/inner").unwrap();
        std::fs::write("locked/inner/file", "x").unwrap();
        for d in ["locked/inner", "locked"] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o500)).unwrap();
        }
        println!("ok");"#;
    let course = course(body, "");
    for _ in 0..2 {
        let (code, stdout, stderr, _) = run(&course, &["check", "x"]);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        assert!(!course.scratch("x").exists());
    }
}

#[test]
fn init_refuses_a_destination_inside_the_source_course() {
    let course = course(r#"println!("ok");"#, "");
    let inside = course.root().join("exercises/ws");
    let out = assert_cmd::Command::cargo_bin("memlings")
        .unwrap()
        .args(["init"])
        .arg(&inside)
        .arg("--course")
        .arg(course.root())
        .output()
        .unwrap();
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("inside the course being copied"),
        "{stderr}"
    );
    assert!(!inside.exists());
}

#[test]
fn a_build_lock_held_by_another_process_is_reported_not_waited_on_forever() {
    let course = course(r#"println!("ok");"#, "build_timeout_ms = 3000");
    assert_eq!(run(&course, &["check", "x"]).0, Some(0));
    // Another process holds cargo's lock on the build directory.
    let lock = fs::File::open(
        course
            .root()
            .join(".memlings/build/target/debug/.cargo-lock"),
    )
    .expect("cargo's lock file");
    lock.lock().unwrap();
    fs::write(course.learner_file("x"), program(r#"println!("ok"); "#)).unwrap();
    let (code, stdout, stderr, elapsed) = run(&course, &["check", "x"]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("Blocking waiting for file lock"),
        "{stderr}"
    );
    assert!(stderr.contains("another build is using it"), "{stderr}");
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
    lock.unlock().unwrap();
    assert_eq!(run(&course, &["check", "x"]).0, Some(0));
}
