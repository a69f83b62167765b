//! The learner's workspace: `init`, the built-in course end to end, `reset`.

mod common;

use std::fs;
use std::path::Path;

use common::{TestCourse, memlings, repo_course_copy, repo_root, texts};

/// (name, path) of every exercise of the repository's course, in order.
fn course_exercises() -> Vec<(String, String)> {
    let text = fs::read_to_string(repo_root().join("course.toml")).unwrap();
    let doc: toml::Table = text.parse().unwrap();
    doc["exercises"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let field = |k: &str| e[k].as_str().unwrap().to_owned();
            (field("name"), field("path"))
        })
        .collect()
}

fn init(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut cmd = assert_cmd::Command::cargo_bin("memlings").unwrap();
    cmd.args(["--color", "never", "init"]).arg(dir).args(extra);
    cmd.output().unwrap()
}

#[test]
fn builtin_course_templates_fail_with_hints_and_solutions_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let out = init(&ws, &[]);
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    assert!(
        !ws.join("solutions").exists(),
        "a workspace carries no solutions"
    );
    assert!(ws.join(".memlings/state.toml").is_file());

    let exercises = course_exercises();
    assert!(exercises.len() >= 3);
    for (i, (name, _)) in exercises.iter().enumerate() {
        let out = memlings(&ws, &["check", name]).output().unwrap();
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {stdout}{stderr}");
        assert!(stdout.contains("Hint 1/"), "{name} shows a hint: {stdout}");
        // Only the first build compiles the dependencies, and says so.
        let notice = stderr.contains("Compiling dependencies (memmap2)");
        assert_eq!(notice, i == 0, "{name}: {stderr}");
    }
    for (name, path) in &exercises {
        fs::copy(
            repo_root().join("solutions").join(path),
            ws.join("exercises").join(path),
        )
        .unwrap();
        let out = memlings(&ws, &["check", name]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}: {:?}", texts(&out));
    }
    let list = texts(&memlings(&ws, &["list"]).output().unwrap()).0;
    let total = exercises.len();
    assert!(
        list.contains(&format!("{total}/{total} done (100%)")),
        "{list}"
    );
    for (name, _) in &exercises {
        assert!(
            list.contains(&format!("{name} ")) && !list.contains("pending"),
            "{list}"
        );
    }
}

#[test]
fn verify_passes_on_the_repository_course() {
    let tmp = repo_course_copy();
    let out = memlings(tmp.path(), &["verify"]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    for (name, _) in course_exercises() {
        assert!(stdout.contains(&format!("✓ {name}")), "{name}: {stdout}");
    }
}

#[test]
fn init_refuses_to_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    assert_eq!(init(&ws, &[]).status.code(), Some(0));
    let mapper = ws.join("exercises/03_mapper/mapper.rs");
    fs::write(&mapper, "// my work").unwrap();
    let again = init(&ws, &[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(texts(&again).1.contains("refusing to overwrite"));
    assert_eq!(fs::read_to_string(&mapper).unwrap(), "// my work");

    let other = tmp.path().join("other");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("notes.txt"), "keep").unwrap();
    let out = init(&other, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(fs::read_to_string(other.join("notes.txt")).unwrap(), "keep");
}

#[test]
fn init_from_another_course_and_reset_keeps_a_backup() {
    let source = TestCourse::new()
        .exercise("hello", "fn main() { todo!() }", "hello\n", "")
        .build();
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let src = source.root().to_str().unwrap();
    let out = init(&ws, &["--course", src]);
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    assert!(!ws.join("solutions").exists());

    let file = ws.join("exercises/hello.rs");
    fs::write(&file, "fn main() { println!(\"hello\"); }").unwrap();
    memlings(&ws, &["check", "hello"]).assert().code(0);
    let out = memlings(&ws, &["reset", "hello"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let backup = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Your file was saved to "))
        .expect("reset prints the backup path");
    assert_eq!(
        fs::read_to_string(backup).unwrap(),
        "fn main() { println!(\"hello\"); }"
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), "fn main() { todo!() }");
    let list = texts(&memlings(&ws, &["list"]).output().unwrap()).0;
    assert!(
        list.contains("hello  pending"),
        "reset makes it pending: {list}"
    );
    // A second reset never overwrites the first backup.
    memlings(&ws, &["reset", "hello"]).assert().code(0);
    assert_eq!(
        fs::read_dir(ws.join(".memlings/backups")).unwrap().count(),
        2
    );

    // A deleted file stops other commands, with advice; reset restores it.
    fs::remove_file(&file).unwrap();
    let out = memlings(&ws, &["list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        texts(&out).1.contains("memlings reset NAME"),
        "{:?}",
        texts(&out)
    );
    memlings(&ws, &["reset", "hello"]).assert().code(0);
    assert_eq!(fs::read_to_string(&file).unwrap(), "fn main() { todo!() }");
}

/// Every hint text of the repository's course: the ladders, the heap
/// hints and the targeted hints.
fn course_hint_texts() -> Vec<String> {
    let text = fs::read_to_string(repo_root().join("course.toml")).unwrap();
    let doc: toml::Table = text.parse().unwrap();
    let mut hints = Vec::new();
    for exercise in doc["exercises"].as_array().unwrap() {
        let strings = |value: Option<&toml::Value>| {
            value
                .and_then(toml::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        };
        hints.extend(strings(exercise.get("hints")));
        hints.extend(
            exercise
                .get("heap_hint")
                .and_then(|h| h.as_str())
                .map(str::to_owned),
        );
        for targeted in exercise
            .get("targeted_hints")
            .and_then(|t| t.as_array())
            .into_iter()
            .flatten()
        {
            hints.push(targeted["text"].as_str().unwrap().to_owned());
        }
    }
    hints
}

/// Every regular file under `dir`, skipping the directory `skip`.
fn files_under(dir: &Path, skip: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path == skip {
            continue;
        }
        if path.is_dir() {
            found.extend(files_under(&path, skip));
        } else {
            found.push(path);
        }
    }
    found
}

/// The trimmed lines of a file's text that are long enough to be telling.
fn telling_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| l.len() >= 25)
}

/// The lines of the reference solutions that no template, driver or
/// expected output holds: what only a solution would give away.
fn distinctive_solution_lines() -> Vec<String> {
    let root = repo_root();
    let mut public = std::collections::HashSet::new();
    for dir in ["exercises", "expected"] {
        for file in files_under(&root.join(dir), Path::new("")) {
            let text = fs::read_to_string(file).unwrap_or_default();
            public.extend(telling_lines(&text).map(str::to_owned));
        }
    }
    let mut lines = Vec::new();
    for (_, path) in course_exercises() {
        let text = fs::read_to_string(root.join("solutions").join(path)).unwrap();
        lines.extend(
            telling_lines(&text)
                .filter(|l| !public.contains(*l))
                .map(str::to_owned),
        );
    }
    lines
}

#[test]
fn a_fresh_workspace_shows_no_hint_or_solution_outside_memlings() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    assert_eq!(init(&ws, &[]).status.code(), Some(0));
    assert!(ws.join(".memlings/course.toml").is_file());
    assert!(!ws.join("course.toml").exists(), "the definition is hidden");
    let readme = fs::read_to_string(ws.join("README.md")).unwrap();
    let (first, path) = &course_exercises()[0];
    assert!(
        readme.contains(&format!("**{first}**: `exercises/{path}`")),
        "{readme}"
    );

    let hints = course_hint_texts();
    assert!(hints.len() > 20, "the course has hints: {}", hints.len());
    let solution_lines = distinctive_solution_lines();
    assert!(solution_lines.len() > 100, "{}", solution_lines.len());
    let files = files_under(&ws, &ws.join(".memlings"));
    assert!(files.len() > 10, "{files:?}");
    for file in files {
        let text = String::from_utf8_lossy(&fs::read(&file).unwrap()).into_owned();
        for hint in &hints {
            assert!(
                !text.contains(hint.as_str()),
                "{} holds the hint {hint:?}",
                file.display()
            );
        }
        for line in telling_lines(&text) {
            assert!(
                !solution_lines.iter().any(|s| s == line),
                "{} holds the solution line {line:?}",
                file.display()
            );
        }
    }
}

#[test]
fn commands_find_a_workspace_by_its_hidden_definition() {
    let source = TestCourse::new()
        .exercise("hello", "fn main() { todo!() }", "hello\n", "")
        .build();
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let out = init(&ws, &["--course", source.root().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    assert!(ws.join(".memlings/course.toml").is_file());
    assert!(!ws.join("course.toml").exists());
    let mut cmd = assert_cmd::Command::cargo_bin("memlings").unwrap();
    cmd.current_dir(ws.join("exercises"))
        .args(["--color", "never", "list"]);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    assert!(texts(&out).0.contains("hello"), "{:?}", texts(&out));
    // A workspace of the old layout, with course.toml at its root, works too.
    fs::rename(ws.join(".memlings/course.toml"), ws.join("course.toml")).unwrap();
    memlings(&ws, &["list"]).assert().code(0);
}
