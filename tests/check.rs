//! `check`, `run`, `list` and `hint` on small temporary courses.

mod common;

use common::{TestCourse, spawn_cmd, texts};

const HELLO: &str = r#"fn main() { println!("hello"); println!("world"); }"#;

#[test]
fn a_correct_program_passes_and_is_marked_done() {
    let course = TestCourse::new()
        .exercise("hello", HELLO, "hello\nworld\n", "")
        .build();
    let out = course.cmd(&["check", "hello"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("passed"), "{stdout}");
    let list = course.cmd(&["list"]).output().unwrap();
    let (stdout, _) = texts(&list);
    assert!(stdout.contains("hello  done"), "{stdout}");
    assert!(stdout.contains("1/1 done (100%)"), "{stdout}");
}

#[test]
fn wrong_output_shows_a_diff_with_invisible_characters_and_a_hint() {
    let program = r#"fn main() { print!("hello \nWorld"); }"#;
    let course = TestCourse::new()
        .exercise("hello", program, "hello\nworld\n", "")
        .build();
    let out = course.cmd(&["check", "hello"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("wrong output"), "{stdout}");
    assert!(stdout.contains("- world"), "{stdout}");
    assert!(stdout.contains("+ World⏎̸"), "{stdout}");
    // The trailing space is normalised away, so "hello" is context, shown raw.
    assert!(stdout.contains("  hello·"), "{stdout}");
    assert!(
        stdout.contains("Hint 1/2: first hint for hello"),
        "{stdout}"
    );
}

#[test]
fn normalisation_accepts_crlf_trailing_spaces_and_blank_lines() {
    let program = r#"fn main() { print!("hello  \r\nworld\r\n\n\n"); }"#;
    let course = TestCourse::new()
        .exercise("hello", program, "hello\nworld", "")
        .build();
    course.cmd(&["check", "hello"]).assert().code(0);
}

#[test]
fn a_compile_error_shows_the_compiler_message() {
    let program = "fn main() { let x: u32 = \"nope\"; }";
    let course = TestCourse::new()
        .exercise("broken", program, "", "")
        .build();
    let out = course.cmd(&["check", "broken"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("compile error"), "{stdout}");
    assert!(stdout.contains("mismatched types"), "{stdout}");
    // Diagnostics name the learner's file relative to the course.
    assert!(stdout.contains("exercises/broken.rs:1"), "{stdout}");
    assert!(stdout.contains("Hint 1/2"), "{stdout}");
}

#[test]
fn a_panic_shows_its_message_and_location() {
    let program = "fn main() {\n    todo!(\"write the loop\")\n}\n";
    let course = TestCourse::new()
        .exercise("todo", program, "x\n", "")
        .build();
    let out = course.cmd(&["check", "todo"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("panicked at exercises/todo.rs:2:5"),
        "{stdout}"
    );
    assert!(
        stdout.contains("not yet implemented: write the loop"),
        "{stdout}"
    );
}

#[test]
fn check_without_a_name_stays_on_the_current_exercise() {
    let course = TestCourse::new()
        .exercise("first", HELLO, "hello\nworld\n", "")
        .exercise("second", HELLO, "other\n", "")
        .build();
    let out = course.cmd(&["check"]).output().unwrap();
    let stdout = texts(&out).0;
    assert!(stdout.contains("Exercise first"), "{stdout}");
    assert!(
        stdout.contains("`memlings next` moves on to second"),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(0));
    // A pass does not move on: checking again re-checks the same one.
    let out = course.cmd(&["check"]).output().unwrap();
    assert!(
        texts(&out).0.contains("Exercise first"),
        "{:?}",
        texts(&out)
    );
    assert_eq!(out.status.code(), Some(0));
    course.cmd(&["next"]).assert().code(0);
    let out = course.cmd(&["check"]).output().unwrap();
    assert!(texts(&out).0.contains("Exercise second"));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn hints_are_revealed_one_at_a_time_and_persist() {
    let course = TestCourse::new()
        .exercise("hello", HELLO, "x\n", "")
        .build();
    let first = texts(&course.cmd(&["hint", "hello"]).output().unwrap()).0;
    assert!(
        first.contains("Hint 1/2") && !first.contains("Hint 2/2"),
        "{first}"
    );
    let second = texts(&course.cmd(&["hint", "hello"]).output().unwrap()).0;
    assert!(
        second.contains("Hint 1/2") && second.contains("Hint 2/2"),
        "{second}"
    );
    let course2 = TestCourse::new()
        .exercise("hello", HELLO, "x\n", "")
        .build();
    let all = texts(&course2.cmd(&["hint", "hello", "--all"]).output().unwrap()).0;
    assert!(all.contains("Hint 2/2: second hint for hello"), "{all}");
}

#[test]
fn run_shows_output_without_judging_it() {
    let course = TestCourse::new()
        .exercise("hello", HELLO, "something else\n", "")
        .build();
    let out = course.cmd(&["run", "hello"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("hello\nworld\n"), "{stdout}");
}

#[test]
fn unknown_exercise_is_a_usage_error() {
    let course = TestCourse::new()
        .exercise("hello", HELLO, "x\n", "")
        .build();
    let out = course.cmd(&["check", "nope"]).output().unwrap();
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("unknown exercise \"nope\""), "{stderr}");
    assert!(stderr.contains("hello"), "{stderr}");
}

#[test]
fn verify_needs_passing_solutions_and_failing_templates() {
    let course = TestCourse::new()
        .exercise("good", "fn main() { todo!() }", "ok\n", "")
        .solution("good", r#"fn main() { println!("ok"); }"#)
        .exercise("lazy", HELLO, "hello\nworld\n", "")
        .build();
    let out = course.cmd(&["verify"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("good  solution passes; template fails (panic)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("lazy  the untouched template already passes"),
        "{stdout}"
    );
}

/// Parses each stdout line as JSON.
fn json_lines(out: &std::process::Output) -> Vec<serde_json::Value> {
    texts(out)
        .0
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn json_reports_for_machines() {
    let course = TestCourse::new()
        .exercise("hello", HELLO, "hello\nworld\n", "")
        .exercise("wrong", HELLO, "nope\n", "")
        .build();
    let out = course
        .cmd(&["check", "wrong", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "one object per check: {lines:?}");
    let check = &lines[0];
    assert_eq!(check["exercise"], "wrong");
    assert_eq!(check["passed"], false);
    assert_eq!(check["verdict"]["kind"], "wrong output");
    assert_eq!(check["verdict"]["actual"], "hello\nworld\n");
    assert_eq!(check["hint"], "first hint for wrong");
    assert_eq!(check["heap"]["leaked_bytes"], 0);

    let out = course
        .cmd(&["check", "hello", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(json_lines(&out)[0]["passed"], true);

    let out = course.cmd(&["list", "--format", "json"]).output().unwrap();
    let list = &json_lines(&out)[0];
    assert_eq!(list["done"], 1);
    assert_eq!(list["exercises"][1]["name"], "wrong");

    let out = course
        .cmd(&["verify", "--format", "json"])
        .output()
        .unwrap();
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["problem"], "template passes");
    assert_eq!(lines[2]["event"], "verify_summary");
    assert_eq!(lines[2]["failures"], 2);
}

#[test]
fn watch_rechecks_on_save_and_follows_next() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::sync::mpsc;
    use std::time::Duration;

    let course = TestCourse::new()
        .exercise("first", "fn main() { todo!() }", "hello\nworld\n", "")
        .exercise("second", "fn main() { todo!() }", "x\n", "")
        .build();
    let mut child = spawn_cmd(course.root(), &["watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let wait_for = |needle: &str| {
        let mut seen = Vec::new();
        loop {
            let line = lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("never saw {needle:?} in {seen:#?}"));
            if line.contains(needle) {
                return;
            }
            seen.push(line);
        }
    };
    wait_for("Exercise first");
    wait_for("Watching for changes");
    std::fs::write(course.learner_file("first"), HELLO).unwrap();
    wait_for("passed");
    // A pass stays on the exercise until the learner moves on.
    wait_for("`memlings next` moves on to second");
    wait_for("Watching for changes");
    course.cmd(&["next"]).assert().code(0);
    wait_for("moved on to second");
    wait_for("Exercise second");
    wait_for("Hint 1/2: first hint for second");
    wait_for("Watching for changes");
    // A failing save repeats the revealed hint instead of spending the next.
    std::fs::write(
        course.learner_file("second"),
        "fn main() { println!(\"y\"); }",
    )
    .unwrap();
    wait_for("wrong output");
    wait_for("Hint 1/2: first hint for second");
    // SAFETY: plain kill(2) on a child we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let state = std::fs::read_to_string(course.root().join(".memlings/state.toml")).unwrap();
    let state: toml::Table = state.parse().unwrap();
    assert_eq!(state["hints"]["second"].as_integer(), Some(1), "{state}");
}

#[test]
fn hints_are_spent_on_wrong_answers_not_on_typos_or_todos() {
    let course = TestCourse::new()
        .exercise("typo", "fn main() { let x: u8 = \"\"; }", "x\n", "")
        .exercise("todo", "fn main() { todo!() }", "x\n", "")
        .exercise("wrong", HELLO, "x\n", "")
        .build();
    for name in ["typo", "todo"] {
        for _ in 0..3 {
            let out = texts(&course.cmd(&["check", name]).output().unwrap()).0;
            assert!(out.contains("Hint 1/2"), "{name}: {out}");
            assert!(!out.contains("Hint 2/2"), "{name}: {out}");
        }
    }
    let first = texts(&course.cmd(&["check", "wrong"]).output().unwrap()).0;
    assert!(first.contains("Hint 1/2: first hint for wrong"), "{first}");
    let second = texts(&course.cmd(&["check", "wrong"]).output().unwrap()).0;
    // Only the newest hint is shown; `hint` lists them all.
    assert!(
        second.contains("Hint 2/2: second hint for wrong"),
        "{second}"
    );
    assert!(!second.contains("Hint 1/2"), "{second}");
}

#[test]
fn commands_find_the_course_from_a_subdirectory() {
    let course = TestCourse::new()
        .exercise("hello", HELLO, "hello\nworld\n", "")
        .build();
    let mut cmd = assert_cmd::Command::cargo_bin("memlings").unwrap();
    cmd.current_dir(course.root().join("exercises"))
        .args(["--color", "never", "check", "hello"]);
    cmd.assert().code(0);
    let outside = tempfile::tempdir().unwrap();
    let mut cmd = assert_cmd::Command::cargo_bin("memlings").unwrap();
    let out = cmd
        .current_dir(outside.path())
        .arg("list")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(texts(&out).1.contains("memlings init"), "{:?}", texts(&out));
}

#[test]
fn compiler_warnings_are_shown() {
    let program = "fn main() {\n    let unused = 5;\n    println!(\"hello\\nworld\");\n}\n";
    let course = TestCourse::new()
        .exercise("warn", program, "hello\nworld\n", "")
        .build();
    let out = texts(&course.cmd(&["check", "warn"]).output().unwrap()).0;
    assert!(out.contains("passed"), "{out}");
    assert!(out.contains("1 warning about your code"), "{out}");
    assert!(out.contains("unused variable: `unused`"), "{out}");
    assert!(out.contains("exercises/warn.rs:2:9"), "{out}");
}

#[test]
fn watch_can_start_with_a_named_exercise() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let course = TestCourse::new()
        .exercise("first", "fn main() { todo!() }", "x\n", "")
        .exercise("second", HELLO, "hello\nworld\n", "")
        .build();
    let mut child = spawn_cmd(course.root(), &["watch", "second"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines: Vec<String> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .take_while(|l| !l.contains("Watching for changes"))
        .collect();
    // SAFETY: plain kill(2) on a child we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    child.wait().unwrap();
    let text = lines.join("\n");
    assert!(text.contains("Exercise second"), "{text}");
    assert!(text.contains("passed"), "{text}");
    // It stays on the named one, which is now the current exercise.
    assert!(!text.contains("Exercise first"), "{text}");
    let list = texts(&course.cmd(&["list"]).output().unwrap()).0;
    assert!(list.contains("→ second"), "{list}");
}
