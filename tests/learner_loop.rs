//! The learner's loop: the current exercise, `next`, the completion
//! message, and what `watch` reacts to.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{TestCourse, spawn_cmd, texts};

const HELLO: &str = r#"fn main() { println!("hello"); }"#;

/// Two exercises, both passing as written.
fn two_passing() -> TestCourse {
    TestCourse::new()
        .exercise("first", HELLO, "hello\n", "")
        .exercise("second", HELLO, "hello\n", "")
        .build()
}

fn state(course: &TestCourse) -> toml::Table {
    let text = fs::read_to_string(course.root().join(".memlings/state.toml")).unwrap();
    text.parse().unwrap()
}

#[test]
fn commands_without_a_name_act_on_the_current_exercise() {
    let course = TestCourse::new()
        .exercise("first", "fn main() { todo!() }", "x\n", "")
        .exercise("second", "fn main() { todo!() }", "x\n", "")
        .build();
    // Unset: the first pending exercise.
    let list = texts(&course.cmd(&["list"]).output().unwrap()).0;
    assert!(
        list.contains("→ first") && list.contains("(current)"),
        "{list}"
    );

    // Naming one makes it current.
    let out = course.cmd(&["hint", "second"]).output().unwrap();
    assert!(texts(&out).0.contains("first hint for second"));
    assert_eq!(state(&course)["current"].as_str(), Some("second"));
    let out = texts(&course.cmd(&["hint"]).output().unwrap()).0;
    assert!(out.contains("Hint 2/2: second hint for second"), "{out}");
    let out = texts(&course.cmd(&["run"]).output().unwrap()).0;
    assert!(out.contains("Exercise second"), "{out}");
    let list = texts(&course.cmd(&["list"]).output().unwrap()).0;
    assert!(list.contains("→ second"), "{list}");
    let json = texts(&course.cmd(&["list", "--format", "json"]).output().unwrap()).0;
    assert!(json.contains(r#""current":"second""#), "{json}");

    // `reset` without a name resets the current one...
    fs::write(course.learner_file("second"), HELLO).unwrap();
    let init = course.root().join(".memlings/originals");
    fs::create_dir_all(&init).unwrap();
    fs::write(init.join("second.rs"), "fn main() { todo!() }").unwrap();
    fs::write(init.join("first.rs"), "fn main() { todo!() }").unwrap();
    let out = texts(&course.cmd(&["reset"]).output().unwrap()).0;
    assert!(
        out.contains("Restored the original template of second"),
        "{out}"
    );
    assert_eq!(
        fs::read_to_string(course.learner_file("second")).unwrap(),
        "fn main() { todo!() }"
    );
    // ...and resetting another one leaves the current one as it is.
    course.cmd(&["reset", "first"]).assert().code(0);
    assert_eq!(state(&course)["current"].as_str(), Some("second"));

    let out = course.cmd(&["check", "first"]).output().unwrap();
    assert!(texts(&out).0.contains("Exercise first"));
    assert_eq!(state(&course)["current"].as_str(), Some("first"));
}

#[test]
fn old_state_files_without_a_current_exercise_still_load() {
    let course = two_passing();
    let dir = course.root().join(".memlings");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("state.toml"), "done = [\"first\"]\n\n[hints]\n").unwrap();
    let out = course.cmd(&["list"]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert!(!stderr.contains("unreadable"), "{stderr}");
    assert!(stdout.contains("→ second"), "{stdout}");
}

#[test]
fn next_moves_on_says_what_it_skips_and_wraps_around() {
    let course = TestCourse::new()
        .exercise("first", HELLO, "hello\n", "")
        .exercise("second", "fn main() { todo!() }", "x\n", "")
        .exercise("third", HELLO, "hello\n", "")
        .build();
    course.cmd(&["check", "third"]).assert().code(0);
    course.cmd(&["check", "first"]).assert().code(0);
    let out = texts(&course.cmd(&["next"]).output().unwrap()).0;
    assert!(out.contains("Exercise second"), "{out}");
    assert!(!out.contains("has not passed"), "{out}");
    // Skipping a pending exercise is allowed, and said; only pending
    // exercises are moved to.
    let out = texts(&course.cmd(&["next"]).output().unwrap()).0;
    assert!(out.contains("second is the only exercise left"), "{out}");
    course.cmd(&["check", "third"]).assert().code(0);
    let out = texts(&course.cmd(&["next"]).output().unwrap()).0;
    assert!(out.contains("Exercise second"), "{out}");
    fs::write(
        course.learner_file("second"),
        "fn main() { println!(\"x\"); }",
    )
    .unwrap();
    course.cmd(&["check"]).assert().code(0);
    let out = texts(&course.cmd(&["next"]).output().unwrap()).0;
    assert!(out.contains("every exercise is done"), "{out}");
    assert_eq!(state(&course)["current"].as_str(), Some("second"));
}

#[test]
fn next_skipping_a_pending_exercise_says_so() {
    let course = TestCourse::new()
        .exercise("first", "fn main() { todo!() }", "x\n", "")
        .exercise("second", "fn main() { todo!() }", "x\n", "")
        .build();
    let out = texts(&course.cmd(&["next"]).output().unwrap()).0;
    assert!(out.contains("first has not passed yet"), "{out}");
    assert!(out.contains("Exercise second"), "{out}");
}

#[test]
fn the_completion_message_is_shown_once() {
    let course = two_passing();
    let first = texts(&course.cmd(&["check", "first"]).output().unwrap()).0;
    assert!(!first.contains("every exercise is done"), "{first}");
    let last = texts(&course.cmd(&["check", "second"]).output().unwrap()).0;
    assert_eq!(last.matches("every exercise is done").count(), 1, "{last}");
    assert!(!last.contains("memlings next"), "{last}");
    let again = texts(&course.cmd(&["check", "second"]).output().unwrap()).0;
    assert!(again.contains("passed"), "{again}");
    assert!(!again.contains("every exercise is done"), "{again}");
}

/// Spawns `watch` and returns its stdout lines as they come.
fn watch(course: &TestCourse, args: &[&str]) -> (std::process::Child, mpsc::Receiver<String>) {
    let mut child = spawn_cmd(course.root(), args)
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
    (child, lines)
}

/// Lines until one contains `needle`; panics after a minute.
fn wait_for(lines: &mpsc::Receiver<String>, needle: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("never saw {needle:?} in {seen:#?}"));
        let found = line.contains(needle);
        seen.push(line);
        if found {
            return seen;
        }
    }
}

/// Every line that arrives within `period`.
fn lines_within(lines: &mpsc::Receiver<String>, period: Duration) -> Vec<String> {
    let end = Instant::now() + period;
    let mut seen = Vec::new();
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    seen
}

fn interrupt(mut child: std::process::Child) {
    // SAFETY: plain kill(2) on a child we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert_eq!(child.wait().unwrap().code(), Some(130));
}

#[test]
fn watch_ignores_files_a_program_writes_into_the_workspace() {
    let course = TestCourse::new();
    let root = course.root().canonicalize().unwrap();
    // A failing program that drops new files all over the workspace, as a
    // learner's file-writing exercise might.
    let program = format!(
        r#"fn main() {{
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    for dir in ["", "exercises/", "expected/", ".memlings/"] {{
        std::fs::write(format!("{root}/{{dir}}written-{{n}}.txt"), "x").unwrap();
    }}
    println!("wrong");
}}"#,
        root = root.display()
    );
    let course = course.exercise("writer", &program, "right\n", "").build();
    let (child, lines) = watch(&course, &["watch"]);
    wait_for(&lines, "Watching for changes");
    let later = lines_within(&lines, Duration::from_secs(3));
    interrupt(child);
    assert!(
        !later.iter().any(|l| l.contains("checking again")),
        "no recheck without a save: {later:#?}"
    );
}

#[test]
fn watch_rechecks_a_burst_of_saves_once_and_shows_completion_once() {
    let course = TestCourse::new()
        .exercise("only", "fn main() { todo!() }", "hello\n", "")
        .build();
    let (child, lines) = watch(&course, &["watch"]);
    wait_for(&lines, "Watching for changes");
    for _ in 0..5 {
        fs::write(course.learner_file("only"), HELLO).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let seen = wait_for(&lines, "Watching for changes");
    assert_eq!(
        seen.iter().filter(|l| l.contains("checking again")).count(),
        1,
        "{seen:#?}"
    );
    assert!(
        seen.iter().any(|l| l.contains("every exercise is done")),
        "{seen:#?}"
    );
    // Saving again (a new content) re-checks, without a second completion message.
    fs::write(course.learner_file("only"), format!("{HELLO}\n")).unwrap();
    let again = wait_for(&lines, "Watching for changes");
    interrupt(child);
    assert!(again.iter().any(|l| l.contains("passed")), "{again:#?}");
    assert!(
        !again.iter().any(|l| l.contains("every exercise is done")),
        "{again:#?}"
    );
}

#[test]
fn a_crash_headline_states_the_cause_first_then_the_signal() {
    // The buffer is 4-aligned, so one byte in is misaligned for a u32 wherever it lies.
    let program = r#"#[repr(align(4))] struct Bytes([u8; 16]);
fn main() {
    let bytes = Bytes([0u8; 16]);
    let p = bytes.0.as_ptr().wrapping_add(1) as *const u32;
    println!("{}", unsafe { *p });
}
"#;
    let course = TestCourse::new()
        .exercise("align", program, "0\n", "")
        .build();
    let out = course.cmd(&["check", "align"]).output().unwrap();
    let stdout = texts(&out).0;
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let headline = stdout
        .lines()
        .find(|l| l.contains("crashed"))
        .unwrap_or_else(|| panic!("no crash headline: {stdout}"));
    assert!(
        headline.contains("your code dereferenced a misaligned pointer at exercises/align.rs:5:"),
        "{headline}"
    );
    assert!(headline.ends_with("(SIGABRT)"), "{headline}");
    assert!(!headline.contains("non-unwinding"), "{headline}");
}
