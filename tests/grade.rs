//! `grade` over temporary submissions, and `check --all`.

mod common;

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use quick_junit::Report;
use serde_json::Value;

use common::{
    ADD_SOLUTION, GREET_SOLUTION, class_course, class_submissions, copy_dir, json_lines, texts,
};

/// The `memlings` line of docs/grading.md's class workflow: one job per
/// learner repository, checked out in `submission/` beside the course.
pub const CLASS_COMMAND: &str =
    "memlings grade --course course --allow-no-isolation --junit junit.xml submission";
/// The `memlings` line of docs/grading.md's workflow in a learner's own
/// repository, with the course checked out in `course/`.
pub const LEARNER_COMMAND: &str =
    "memlings grade --course course --allow-no-isolation --junit junit.xml .";

/// `memlings ARGS...` in `dir`, colors off.
fn memlings_in(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("memlings").expect("binary");
    cmd.current_dir(dir).args(args).env_remove("NO_COLOR");
    cmd
}

/// The `score` lines, by submission: (passed, total, kinds per exercise).
fn scores(lines: &[Value]) -> Vec<(String, u64, u64, Vec<String>)> {
    lines
        .iter()
        .filter(|l| l["event"] == "score")
        .map(|l| {
            let kinds = l["exercises"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["kind"].as_str().unwrap().to_owned())
                .collect();
            let name = l["submission"].as_str().unwrap().to_owned();
            let name = Path::new(&name)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (
                name,
                l["passed"].as_u64().unwrap(),
                l["total"].as_u64().unwrap(),
                kinds,
            )
        })
        .collect()
}

#[test]
fn grade_scores_only_the_learners_modules_in_junit_and_json_alike_on_any_jobs() {
    let course = class_course();
    let class = tempfile::tempdir().unwrap();
    let subs = class_submissions(class.path());
    let subs: Vec<&str> = subs.iter().map(|p| p.to_str().unwrap()).collect();
    let junit = class.path().join("junit.xml");
    let run = |jobs: &str| {
        let mut args = vec![
            "grade",
            "--allow-no-isolation",
            "--format",
            "json",
            "-j",
            jobs,
        ];
        args.extend(["--junit", junit.to_str().unwrap()]);
        args.extend(&subs);
        let out = course.cmd(&args).output().unwrap();
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
        assert!(
            !stderr.contains("exercises,"),
            "no progress bar off a terminal: {stderr}"
        );
        json_lines(&out.stdout)
    };
    let one = run("1");
    let kinds = |k: &[&str]| k.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        scores(&one),
        vec![
            ("complete".into(), 3, 3, kinds(&["pass", "pass", "pass"])),
            (
                "partial".into(),
                1,
                3,
                kinds(&["pass", "panic", "missing file"])
            ),
            (
                "cheater".into(),
                1,
                3,
                kinds(&["wrong output", "pass", "wrong output"])
            ),
        ]
    );
    let missing = one
        .iter()
        .find(|l| l["event"] == "graded" && l["verdict"]["kind"] == "missing file")
        .expect("a missing file");
    let reason = missing["verdict"]["reason"].as_str().unwrap();
    assert!(reason.contains("exercises/twice.rs"), "{reason}");
    let summary = one.last().unwrap();
    assert_eq!(summary["event"], "grade_summary");
    // Isolated wherever the kernel allows namespaces, as here and in CI.
    assert!(summary["isolated"].is_boolean(), "{summary}");

    let xml = fs::read_to_string(&junit).unwrap();
    let report = Report::deserialize_from_str(&xml).expect("JUnit parses");
    assert_eq!(report.test_suites.len(), 3);
    assert_eq!((report.tests, report.failures), (9, 4), "{xml}");
    let failures: Vec<usize> = report.test_suites.iter().map(|s| s.failures).collect();
    assert_eq!(failures, [0, 2, 2]);
    assert!(xml.contains("message=\"missing file\""), "{xml}");
    assert!(xml.contains("message=\"wrong output\""), "{xml}");
    assert!(xml.contains("<system-out>heap: "), "{xml}");

    assert_eq!(run("2"), one, "-j 2 grades as -j 1 does");
}

#[test]
fn grade_prints_a_table_and_fail_under_sets_the_exit_status() {
    let course = class_course();
    let class = tempfile::tempdir().unwrap();
    let [complete, partial, _] = class_submissions(class.path());
    let args = |pct: &'static str| {
        vec![
            "grade".to_owned(),
            "--allow-no-isolation".into(),
            "--fail-under".into(),
            pct.into(),
            complete.display().to_string(),
            partial.display().to_string(),
        ]
    };
    // Without namespaces (simulated), the report says so.
    let out = course
        .cmd(&[])
        .args(args("50"))
        .env("MEMLINGS_SANDBOX", "off")
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let header = stdout.lines().next().unwrap();
    assert!(header.starts_with("submission"), "{stdout}");
    assert!(
        header.contains("add") && header.contains("passed  score"),
        "{stdout}"
    );
    let row = |name: &str| {
        stdout
            .lines()
            .find(|l| l.contains(name) && l.contains('%'))
            .unwrap_or_else(|| panic!("a row for {name} in {stdout}"))
            .to_owned()
    };
    assert!(row("complete").ends_with("3/3     100%"), "{stdout}");
    assert!(row("partial").contains("✓"), "{stdout}");
    assert!(row("partial").contains("panic  missing file"), "{stdout}");
    assert!(row("partial").ends_with("1/3     33%"), "{stdout}");
    assert!(
        stdout.contains("twice: the submission has no file exercises/twice.rs"),
        "{stdout}"
    );
    assert!(stdout.contains("WITHOUT isolation"), "{stdout}");
    assert!(
        stdout.contains("1 below the passing mark of 50%"),
        "{stdout}"
    );

    course.cmd(&[]).args(args("33")).assert().code(0);
    course.cmd(&[]).args(args("101")).assert().code(2);
}

#[test]
fn a_panic_in_the_driver_names_the_courses_driver() {
    let course = class_course();
    let class = tempfile::tempdir().unwrap();
    let add = "pub fn add(_: u32, _: u32) -> u32 {\n    1000\n}\n";
    let sub = common::submission(class.path(), "big", &[("exercises/add.rs", add)]);
    let out = course
        .cmd(&["grade", "--allow-no-isolation", "--format", "json"])
        .arg(&sub)
        .output()
        .unwrap();
    let lines = json_lines(&out.stdout);
    let verdict = &lines[0]["verdict"];
    assert_eq!(verdict["kind"], "panic", "{verdict}");
    assert_eq!(
        verdict["location"], "exercises/add_main.rs:3:5",
        "{verdict}"
    );
}

#[test]
fn a_module_linked_to_a_file_elsewhere_is_refused() {
    let course = class_course();
    let class = tempfile::tempdir().unwrap();
    let sub = common::submission(
        class.path(),
        "linker",
        &[("exercises/greet.rs", GREET_SOLUTION)],
    );
    // The reference solution, on the grader's machine.
    let solution = course.root().join("solutions/add.rs");
    std::os::unix::fs::symlink(solution, sub.join("exercises/add.rs")).unwrap();
    let out = course
        .cmd(&["grade", "--allow-no-isolation", "--format", "json"])
        .arg(&sub)
        .output()
        .unwrap();
    let lines = json_lines(&out.stdout);
    let verdict = &lines[0]["verdict"];
    assert_eq!(verdict["kind"], "refused file", "{verdict}");
    assert!(
        verdict["reason"]
            .as_str()
            .unwrap()
            .contains("symbolic link"),
        "{verdict}"
    );
    assert_eq!(lines[1]["passed"], true, "the other modules are graded");
}

#[test]
fn grading_requires_isolation_unless_allowed_without() {
    let course = class_course();
    let class = tempfile::tempdir().unwrap();
    let [complete, ..] = class_submissions(class.path());
    // Where the kernel refuses namespaces (simulated here), grading stops.
    let out = course
        .cmd(&["grade", complete.to_str().unwrap()])
        .env("MEMLINGS_SANDBOX", "off")
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stderr.contains("cannot be isolated"), "{stderr}");
    assert!(stderr.contains("--allow-no-isolation"), "{stderr}");
}

#[test]
fn submissions_must_be_directories_named_once() {
    let course = class_course();
    let class = tempfile::tempdir().unwrap();
    let [complete, ..] = class_submissions(class.path());
    let complete = complete.to_str().unwrap();
    let missing = class.path().join("nobody");
    let out = course
        .cmd(&["grade", "--allow-no-isolation", missing.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(texts(&out).1.contains("is not a directory"));
    let out = course
        .cmd(&["grade", "--allow-no-isolation", complete, complete])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(texts(&out).1.contains("named twice"));
}

#[test]
fn check_all_checks_every_exercise_records_them_and_prints_the_table() {
    let course = class_course();
    fs::write(course.learner_file("add"), ADD_SOLUTION).unwrap();
    let out = course.cmd(&["check", "--all"]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("  add  greet  twice  passed  score"),
        "{stdout}"
    );
    assert!(stdout.starts_with("workspace"), "{stdout}");
    assert!(
        stdout.contains("✓    panic  panic  1/3     33%"),
        "{stdout}"
    );
    let list = course.cmd(&["list", "--format", "json"]).output().unwrap();
    let list = &json_lines(&list.stdout)[0];
    assert_eq!(list["done"], 1, "{list}");
    assert_eq!(list["exercises"][0]["done"], true, "{list}");
    // No hint is spent by checking everything.
    let hint = course
        .cmd(&["check", "greet", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(json_lines(&hint.stdout)[0]["hint_level"], 1);
}

#[test]
fn the_grading_guide_shows_the_command_lines_tested_here() {
    let guide = fs::read_to_string(common::repo_root().join("docs/grading.md")).unwrap();
    for command in [CLASS_COMMAND, LEARNER_COMMAND] {
        assert!(guide.contains(command), "docs/grading.md lacks `{command}`");
    }
}

#[test]
fn the_class_workflow_command_grades_a_checked_out_submission() {
    let course = class_course();
    let job = tempfile::tempdir().unwrap();
    copy_dir(course.root(), &job.path().join("course"));
    class_submissions(job.path());
    fs::rename(job.path().join("partial"), job.path().join("submission")).unwrap();
    run_documented(job.path(), CLASS_COMMAND, 1);
}

#[test]
fn the_learner_workflow_command_grades_the_repository_itself() {
    let course = class_course();
    let repo = tempfile::tempdir().unwrap();
    copy_dir(course.root(), &repo.path().join("course"));
    for name in ["add", "greet", "twice"] {
        let solution = course.root().join(format!("solutions/{name}.rs"));
        fs::create_dir_all(repo.path().join("exercises")).unwrap();
        copy_dir(&solution, &repo.path().join(format!("exercises/{name}.rs")));
    }
    run_documented(repo.path(), LEARNER_COMMAND, 3);
}

/// Runs a documented command line in `dir`; it must exit 0 and write a
/// JUnit file with one suite, `passed` of whose three cases pass.
fn run_documented(dir: &Path, command: &str, passed: usize) {
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(words[0], "memlings");
    let out = memlings_in(dir, &words[1..]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let xml = fs::read_to_string(dir.join("junit.xml")).unwrap();
    let report = Report::deserialize_from_str(&xml).expect("JUnit parses");
    assert_eq!(report.test_suites.len(), 1);
    assert_eq!(
        (report.tests, report.tests - report.failures),
        (3, passed),
        "{xml}"
    );
}
