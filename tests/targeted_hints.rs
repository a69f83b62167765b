//! Targeted hints: chosen by what went wrong, shown beside the ladder,
//! checked by `verify` against planted mistakes, validated on load.

mod common;

use common::{TestCourse, texts};

const ABC: &str =
    "fn main() {\n    println!(\"a\");\n    println!(\"b\");\n    println!(\"c\");\n}\n";

/// Targeted hints for an exercise expecting "a\nb\nc\n": any wrong
/// output, wrong output from line 2, a compile error E0308, an overflow
/// panic, and a leak.
const HINTS: &str = r#"max_leaked_bytes = 0

[[exercises.targeted_hints]]
id = "any-output"
when = "wrong output"
text = "Compare your output with the expected one."

[[exercises.targeted_hints]]
id = "second-line"
when = "wrong output"
line = 2
text = "The second line is the one to look at."

[[exercises.targeted_hints]]
id = "types"
when = "compile error"
code = "E0308"
text = "A value of the wrong type: read the expected type."

[[exercises.targeted_hints]]
id = "overflow"
when = "panic"
message = "overflow"
text = "Use checked arithmetic."

[[exercises.targeted_hints]]
id = "leak"
when = "heap limit"
limit = "leaked"
text = "Something is never freed."
"#;

fn course(program: &str) -> TestCourse {
    TestCourse::new()
        .exercise("abc", program, "a\nb\nc\n", HINTS)
        .solution("abc", ABC)
        .build()
}

/// `check --format json` on `program`: the targeted hint's id, if any,
/// and the hint level.
fn targeted(program: &str) -> (serde_json::Value, serde_json::Value) {
    let course = course(program);
    let out = course
        .cmd(&["check", "abc", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{:?}", texts(&out));
    let check: serde_json::Value = serde_json::from_str(texts(&out).0.trim()).unwrap();
    (
        check["targeted_hint"]["id"].clone(),
        check["hint_level"].clone(),
    )
}

#[test]
fn the_most_specific_matching_hint_is_shown_beside_the_ladder() {
    let course = course("fn main() {\n    println!(\"a\");\n    println!(\"B\");\n}\n");
    let out = course.cmd(&["check", "abc"]).output().unwrap();
    let stdout = texts(&out).0;
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("Hint for this mistake: The second line is the one to look at."),
        "{stdout}"
    );
    assert!(!stdout.contains("Compare your output"), "{stdout}");
    assert!(stdout.contains("Hint 1/2: first hint for abc"), "{stdout}");
}

#[test]
fn hints_are_selected_by_line_code_message_and_limit() {
    let first_line = "fn main() {\n    println!(\"x\");\n}\n";
    assert_eq!(targeted(first_line).0, "any-output");
    let second_line = "fn main() {\n    println!(\"a\");\n}\n";
    assert_eq!(targeted(second_line).0, "second-line");
    let mistyped = "fn main() {\n    let x: u8 = \"\";\n}\n";
    assert_eq!(targeted(mistyped).0, "types");
    let overflow = "fn main() {\n    let x: u8 = std::hint::black_box(255);\n    println!(\"{}\", x + 1);\n}\n";
    assert_eq!(targeted(overflow).0, "overflow");
    let other_panic = "fn main() {\n    panic!(\"no\");\n}\n";
    assert_eq!(targeted(other_panic).0, serde_json::Value::Null);
    let leak = "fn main() {\n    std::mem::forget(vec![1u8; 64]);\n    println!(\"a\");\n    println!(\"b\");\n    println!(\"c\");\n}\n";
    assert_eq!(targeted(leak).0, "leak");
}

/// Runs `args` (a JSON check) twice and returns the hint level after each.
fn levels(course: &TestCourse, args: &[&str]) -> Vec<i64> {
    (0..2)
        .map(|_| {
            let out = course.cmd(args).output().unwrap();
            let check: serde_json::Value = serde_json::from_str(texts(&out).0.trim()).unwrap();
            check["hint_level"].as_i64().unwrap()
        })
        .collect()
}

#[test]
fn memory_verdicts_behind_right_output_spend_no_hint_whichever_check_finds_them() {
    let leak = "fn main() {\n    std::mem::forget(vec![1u8; 64]);\n    println!(\"a\");\n    println!(\"b\");\n    println!(\"c\");\n}\n";
    // Right output, a memory rule broken: the verdict explains itself.
    let counted = course(leak);
    let check = ["check", "abc", "--format", "json"];
    assert_eq!(levels(&counted, &check), [1, 1]);
    if which_valgrind() {
        // So does a use after free that valgrind finds behind right output.
        let use_after_free = "fn main() {\n    let value = Box::into_raw(Box::new(42u64));\n    drop(unsafe { Box::from_raw(value) });\n    let read = unsafe { value.read() };\n    println!(\"{}\", if read == 42 || read != 42 { 42 } else { 0 });\n}\n";
        let memchecked = TestCourse::new()
            .exercise("abc", use_after_free, "42\n", "")
            .build();
        let check = ["check", "abc", "--memcheck", "--format", "json"];
        assert_eq!(levels(&memchecked, &check), [1, 1]);
    }
    // Wrong output is a visible mistake and spends the next hint.
    let wrong = course("fn main() {\n    println!(\"a\");\n}\n");
    assert_eq!(levels(&wrong, &check), [1, 2]);
}

fn which_valgrind() -> bool {
    let found = std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipped the memcheck half: valgrind is not installed");
    }
    found
}

#[test]
fn verify_checks_that_a_mistake_selects_the_hint_it_names() {
    let course = TestCourse::new()
        .exercise("abc", "fn main() { todo!() }\n", "a\nb\nc\n", HINTS)
        .solution("abc", ABC)
        .mistake(
            "abc",
            "drops-b",
            "Mistake: forgets the second line\nCaught-By: wrong output\nHint: second-line",
            "fn main() {\n    println!(\"a\");\n    println!(\"c\");\n}\n",
        )
        .build();
    let out = course.cmd(&["verify"]).output().unwrap();
    let stdout = texts(&out).0;
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("✓ caught  drops-b — wrong output, hint second-line"),
        "{stdout}"
    );

    let course = TestCourse::new()
        .exercise("abc", "fn main() { todo!() }\n", "a\nb\nc\n", HINTS)
        .solution("abc", ABC)
        .mistake(
            "abc",
            "drops-a",
            "Mistake: forgets the first line\nHint: second-line",
            "fn main() {\n    println!(\"b\");\n    println!(\"c\");\n}\n",
        )
        .build();
    let out = course.cmd(&["verify"]).output().unwrap();
    let stdout = texts(&out).0;
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "✗ caught  drops-a — wrong output, but Hint names second-line and the verdict selects any-output"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("planted mistakes: 0 of 1 caught"),
        "{stdout}"
    );
}

#[test]
fn bad_targeted_hints_are_course_errors_naming_the_file() {
    let bad_field =
        "[[exercises.targeted_hints]]\nid = \"x\"\nwhen = \"panic\"\nline = 3\ntext = \"t\"\n";
    let course = TestCourse::new()
        .exercise("abc", ABC, "a\nb\nc\n", bad_field)
        .build();
    let out = course.cmd(&["list"]).output().unwrap();
    let stderr = texts(&out).1;
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("course.toml"), "{stderr}");
    assert!(
        stderr.contains("targeted hint \"x\": `line` does not apply to when = \"panic\""),
        "{stderr}"
    );

    let course = TestCourse::new()
        .exercise("abc", ABC, "a\nb\nc\n", HINTS)
        .mistake(
            "abc",
            "drops-b",
            "Mistake: forgets the second line\nHint: no-such-hint",
            "fn main() {\n    println!(\"a\");\n}\n",
        )
        .build();
    let out = course.cmd(&["list"]).output().unwrap();
    let stderr = texts(&out).1;
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("solutions/mistakes/abc/drops-b.diff"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Hint: \"no-such-hint\" names no targeted hint"),
        "{stderr}"
    );

    let course = TestCourse::new()
        .exercise("abc", ABC, "a\nb\nc\n", HINTS)
        .mistake(
            "abc",
            "drops-b",
            "Mistake: forgets the second line\nCaught-By: panic\nHint: second-line",
            "fn main() {\n    println!(\"a\");\n}\n",
        )
        .build();
    let out = course.cmd(&["list"]).output().unwrap();
    let stderr = texts(&out).1;
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("answers \"wrong output\", but Caught-By names \"panic\""),
        "{stderr}"
    );
}
