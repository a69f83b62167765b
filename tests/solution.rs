//! `memlings solution`: the reference solution and a diff, after a pass only,
//! from wherever the workspace's solutions are.

mod common;

use std::fs;
use std::path::Path;

use common::{TestCourse, memlings, repo_root, texts};

const TEMPLATE: &str = "fn main() { todo!() }\n";
const SOLUTION: &str = "fn main() {\n    println!(\"hello\");\n}\n";
const MINE: &str = "fn main() {\n    let greeting = \"hello\";\n    println!(\"{greeting}\");\n}\n";

fn course() -> TestCourse {
    TestCourse::new()
        .exercise("hello", TEMPLATE, "hello\n", "")
        .solution("hello", SOLUTION)
        .build()
}

fn init(src: Option<&Path>, dir: &Path) {
    let mut cmd = assert_cmd::Command::cargo_bin("memlings").unwrap();
    cmd.args(["--color", "never"]);
    if let Some(src) = src {
        cmd.arg("--course").arg(src);
    }
    cmd.arg("init").arg(dir).assert().code(0);
}

#[test]
fn the_solution_waits_for_a_pass_then_shows_a_diff() {
    let course = course();
    let out = course.cmd(&["solution", "hello"]).output().unwrap();
    let stdout = texts(&out).0;
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("hello has not passed yet"), "{stdout}");
    assert!(!stdout.contains("println"), "no spoiler: {stdout}");

    fs::write(course.learner_file("hello"), MINE).unwrap();
    course.cmd(&["check"]).assert().code(0);
    // Without a name: the current exercise.
    let out = course.cmd(&["solution"]).output().unwrap();
    let stdout = texts(&out).0;
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("Reference solution of hello"), "{stdout}");
    assert!(stdout.contains(SOLUTION), "{stdout}");
    assert!(stdout.contains("+++ exercises/hello.rs"), "{stdout}");
    assert!(stdout.contains("@@"), "{stdout}");
    assert!(stdout.contains("-    println!(\"hello\");"), "{stdout}");
    assert!(
        stdout.contains("+    let greeting = \"hello\";"),
        "{stdout}"
    );

    // A later failure makes it pending again, and the solution waits again.
    fs::write(course.learner_file("hello"), TEMPLATE).unwrap();
    course.cmd(&["check"]).assert().code(1);
    course.cmd(&["solution"]).assert().code(1);
}

#[test]
fn a_copied_course_keeps_its_solutions_where_the_author_put_them() {
    let source = course();
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    init(Some(source.root()), &ws);
    assert!(!ws.join("solutions").exists());
    let record = fs::read_to_string(ws.join(".memlings/solutions.toml")).unwrap();
    assert!(record.contains("dir"), "{record}");

    fs::write(ws.join("exercises/hello.rs"), SOLUTION).unwrap();
    memlings(&ws, &["check", "hello"]).assert().code(0);
    let stdout = texts(&memlings(&ws, &["solution"]).output().unwrap()).0;
    assert!(stdout.contains(SOLUTION), "{stdout}");
    assert!(stdout.contains("is the same as the solution"), "{stdout}");

    // The author moved them away: a clear error, not a crash.
    fs::remove_dir_all(source.root().join("solutions")).unwrap();
    let out = memlings(&ws, &["solution"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        texts(&out).1.contains("cannot read the reference solution"),
        "{:?}",
        texts(&out)
    );
}

#[test]
fn the_builtin_solutions_come_from_the_binary_not_the_workspace() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    init(None, &ws);
    assert!(!ws.join("solutions").exists());
    let course: toml::Table = fs::read_to_string(ws.join(".memlings/course.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let first = &course["exercises"].as_array().unwrap()[0];
    let (name, path) = (
        first["name"].as_str().unwrap(),
        first["path"].as_str().unwrap(),
    );
    let reference = fs::read_to_string(repo_root().join("solutions").join(path)).unwrap();
    // Mark it passed without building (the course's dependencies are slow).
    let state = ws.join(".memlings/state.toml");
    fs::write(&state, format!("done = [\"{name}\"]\n")).unwrap();
    let out = memlings(&ws, &["solution", name]).output().unwrap();
    let stdout = texts(&out).0;
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    assert!(
        stdout.contains(&reference),
        "the embedded solution of {name}"
    );
    assert!(
        stdout.contains(&format!("+++ exercises/{path}")),
        "{stdout}"
    );
}
