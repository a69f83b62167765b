//! Every kind of malformed course gives exit 2 and a message naming the file.

mod common;

use std::fs;

use common::{TestCourse, texts};

const OK: &str = r#"fn main() { println!("ok"); }"#;

/// A valid one-exercise course whose course.toml is then replaced by `toml`.
fn course_with(toml: &str) -> TestCourse {
    let course = TestCourse::new().exercise("ok", OK, "ok\n", "").build();
    fs::write(course.root().join("course.toml"), toml).unwrap();
    course
}

/// Asserts `list` fails with exit 2 and every fragment in stderr.
fn assert_rejected(course: &TestCourse, fragments: &[&str]) {
    assert_rejected_at(course, "course.toml", fragments);
}

/// Asserts `list` fails with exit 2, naming `file`, with every fragment in stderr.
fn assert_rejected_at(course: &TestCourse, file: &str, fragments: &[&str]) {
    let out = course.cmd(&["list"]).output().unwrap();
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(file), "names the file: {stderr}");
    for fragment in fragments {
        assert!(
            stderr.contains(fragment),
            "missing {fragment:?} in: {stderr}"
        );
    }
}

const HEAD: &str = "format_version = 1\ntitle = \"t\"\n";

fn entry(fields: &str) -> String {
    format!("{HEAD}[[exercises]]\n{fields}\n")
}

#[test]
fn toml_syntax_error_gives_line_and_column() {
    let course = course_with("format_version = 1\ntitle = \"t\n");
    assert_rejected(&course, &["line 2", "column"]);
}

#[test]
fn wrong_type_is_rejected_with_location() {
    let course = course_with("format_version = 1\ntitle = 42\n");
    assert_rejected(&course, &["line 2", "invalid type"]);
}

#[test]
fn unknown_keys_are_rejected() {
    let course = course_with(&entry("name = \"ok\"\npath = \"ok.rs\"\ntimeout = 5"));
    assert_rejected(&course, &["unknown field `timeout`", "line 6"]);
    let course = course_with(&format!("{HEAD}colour = true\n"));
    assert_rejected(&course, &["unknown field `colour`"]);
}

#[test]
fn unknown_format_version_is_rejected() {
    let course = course_with("format_version = 7\ntitle = \"t\"\n");
    assert_rejected(&course, &["format_version 7 is not supported"]);
    let course = course_with("title = \"t\"\n");
    assert_rejected(&course, &["missing field `format_version`"]);
}

#[test]
fn duplicate_and_malformed_names_are_rejected() {
    let twice = format!(
        "{}[[exercises]]\nname = \"ok\"\npath = \"ok.rs\"\n",
        entry("name = \"ok\"\npath = \"ok.rs\"")
    );
    assert_rejected(&course_with(&twice), &["\"ok\" is used twice"]);
    let bad = entry("name = \"Bad-Name\"\npath = \"ok.rs\"");
    assert_rejected(&course_with(&bad), &["\"Bad-Name\" is malformed"]);
}

#[test]
fn missing_files_are_rejected() {
    let course = course_with(&entry("name = \"ok\"\npath = \"gone.rs\""));
    assert_rejected(&course, &["path file", "gone.rs", "does not exist"]);
    let course = course_with(&entry(
        "name = \"ok\"\npath = \"ok.rs\"\ndriver = \"main.rs\"",
    ));
    assert_rejected(&course, &["driver file", "does not exist"]);
    let course = course_with(&entry(
        "name = \"ok\"\npath = \"ok.rs\"\nexpected = \"x.txt\"",
    ));
    assert_rejected(&course, &["expected file", "does not exist"]);
    let course = TestCourse::new().exercise("ok", OK, "ok\n", "").build();
    fs::remove_file(course.root().join("course.toml")).unwrap();
    assert_rejected(&course, &["cannot read"]);
}

#[test]
fn absolute_and_escaping_paths_are_rejected() {
    let course = course_with(&entry("name = \"ok\"\npath = \"/etc/hostname\""));
    assert_rejected(&course, &["is absolute"]);
    let course = course_with(&entry("name = \"ok\"\npath = \"../ok.rs\""));
    assert_rejected(&course, &["escapes its folder"]);
    let course = course_with(&entry(
        "name = \"ok\"\npath = \"ok.rs\"\nexpected = \"../exercises/ok.rs\"",
    ));
    assert_rejected(&course, &["escapes its folder"]);
}

#[test]
fn symlinks_out_of_the_course_are_rejected() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("evil.rs");
    fs::write(&target, OK).unwrap();
    let course = TestCourse::new().exercise("ok", OK, "ok\n", "").build();
    std::os::unix::fs::symlink(&target, course.root().join("exercises/link.rs")).unwrap();
    fs::write(
        course.root().join("course.toml"),
        entry("name = \"ok\"\npath = \"link.rs\""),
    )
    .unwrap();
    assert_rejected(&course, &["outside the course root"]);
}

#[test]
fn zero_limits_are_rejected() {
    let course = course_with(&entry("name = \"ok\"\npath = \"ok.rs\"\ntimeout_ms = 0"));
    assert_rejected(&course, &["timeout_ms must be greater than 0"]);
}

#[test]
fn driver_module_stem_must_be_an_identifier() {
    let course = TestCourse::new().exercise("ok", OK, "ok\n", "").build();
    fs::write(course.root().join("exercises/my-mod.rs"), "").unwrap();
    fs::write(
        course.root().join("course.toml"),
        entry("name = \"ok\"\npath = \"my-mod.rs\"\ndriver = \"ok.rs\""),
    )
    .unwrap();
    assert_rejected(&course, &["Rust identifier"]);
}

const PROBE: &str = "[[exercises.must_not_compile]]\nfile = \"probe.rs\"\nguarantee = \"g\"\n";

#[test]
fn malformed_probes_are_rejected() {
    let course = TestCourse::new()
        .exercise("ok", OK, "ok\n", &format!("{PROBE}error = \"E502\""))
        .file("exercises/probe.rs", OK)
        .build();
    assert_rejected(
        &course,
        &["must_not_compile error = \"E502\"", "rustc error code"],
    );
    let course = TestCourse::new()
        .exercise("ok", OK, "ok\n", &format!("{PROBE}error = \"E0502\""))
        .build();
    assert_rejected(
        &course,
        &["must_not_compile file", "probe.rs", "does not exist"],
    );
    let course = TestCourse::new()
        .exercise(
            "ok",
            OK,
            "ok\n",
            &format!("{PROBE}error = \"E0502\"\nwhy = 1"),
        )
        .file("exercises/probe.rs", OK)
        .build();
    assert_rejected(&course, &["unknown field `why`"]);
}

const SHOUTS: &str = r#"fn main() { println!("OK"); }"#;

#[test]
fn a_diff_that_does_not_apply_is_rejected() {
    let course = TestCourse::new()
        .exercise("ok", OK, "ok\n", "")
        .mistake("ok", "shout", "Mistake: shouts", SHOUTS)
        .solution("ok", "fn main() {}\n")
        .build();
    assert_rejected_at(
        &course,
        "solutions/mistakes/ok/shout.diff",
        &["does not apply to solutions/ok.rs", "hunk #1"],
    );
}

#[test]
fn malformed_mistake_headers_are_rejected() {
    let with_header = |header: &str| {
        TestCourse::new()
            .exercise("ok", OK, "ok\n", "")
            .mistake("ok", "shout", header, SHOUTS)
            .build()
    };
    let file = "solutions/mistakes/ok/shout.diff";
    let course = with_header("Mistake: shouts\nCaught-Bye: wrong output");
    assert_rejected_at(&course, file, &["unknown header key \"Caught-Bye\""]);
    let course = with_header("Caught-By: wrong output");
    assert_rejected_at(&course, file, &["no `Mistake:` line"]);
    let course = with_header("Mistake: shouts\nCaught-By: wrong answer");
    assert_rejected_at(
        &course,
        file,
        &["\"wrong answer\" is not a verdict label", "wrong output"],
    );
}

#[test]
fn planted_files_for_unknown_exercises_or_of_the_wrong_kind_are_rejected() {
    let course = TestCourse::new()
        .exercise("ok", OK, "ok\n", "")
        .file("solutions/mistakes/nope/x.diff", "Mistake: x\n\n")
        .build();
    assert_rejected_at(
        &course,
        "solutions/mistakes/nope",
        &["names no exercise of this course; it has: ok"],
    );
    let course = TestCourse::new()
        .exercise("ok", OK, "ok\n", "")
        .file("solutions/mistakes/ok/x.patch", "Mistake: x\n\n")
        .build();
    assert_rejected_at(
        &course,
        "solutions/mistakes/ok/x.patch",
        &["is not a `.diff` file"],
    );
    let course = TestCourse::new()
        .exercise("ok", OK, "ok\n", "")
        .alternative("ok", "plain", OK)
        .build();
    assert_rejected_at(
        &course,
        "solutions/alternatives/ok/plain.rs",
        &["has no `//!` line"],
    );
}
