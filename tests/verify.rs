//! `verify` with planted mistakes, alternative solutions and must-not-compile
//! probes, on small temporary courses.

mod common;

use common::{TestCourse, texts};

const TODO: &str = "fn main() { todo!() }\n";
const OK: &str = "fn main() {\n    println!(\"ok\");\n}\n";
const SHOUTS: &str = "fn main() {\n    println!(\"OK\");\n}\n";
const PANICS: &str = "fn main() {\n    panic!(\"no\");\n}\n";

/// A course with one exercise `say` whose template is a `todo!()` and whose
/// solution prints "ok".
fn course() -> TestCourse {
    TestCourse::new()
        .exercise("say", TODO, "ok\n", "")
        .solution("say", OK)
}

/// Runs `verify`; returns its exit code and stdout.
fn verify(course: &TestCourse) -> (Option<i32>, String) {
    let out = course.cmd(&["verify"]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    (out.status.code(), format!("{stdout}{stderr}"))
}

#[test]
fn caught_mistakes_and_passing_alternatives_verify() {
    let course = course()
        .mistake(
            "say",
            "shout",
            "Mistake: prints OK\nCaught-By: wrong output",
            SHOUTS,
        )
        .mistake("say", "gives_up", "Mistake: panics", PANICS)
        .alternative(
            "say",
            "print",
            "//! Alternative: print! with a newline.\nfn main() { print!(\"ok\\n\"); }\n",
        )
        .build();
    let (code, out) = verify(&course);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("✓ say  solution passes; template fails (panic)"),
        "{out}"
    );
    assert!(out.contains("✓ caught  gives_up — panic"), "{out}");
    assert!(out.contains("✓ caught  shout    — wrong output"), "{out}");
    assert!(out.contains("✓ passes  print    (alternative)"), "{out}");
    assert!(out.contains("planted mistakes: 2 of 2 caught"), "{out}");
    assert!(out.contains("alternatives: 1 of 1 pass"), "{out}");
}

#[test]
fn a_planted_mistake_that_passes_fails_verify() {
    let harmless = "fn main() {\n    println!(\"{}\", \"ok\");\n}\n";
    let course = course()
        .mistake("say", "harmless", "Mistake: formats instead", harmless)
        .build();
    let (code, out) = verify(&course);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("✗ missed  harmless — it passes: formats instead"),
        "{out}"
    );
    assert!(out.contains("planted mistakes: 0 of 1 caught"), "{out}");
    assert!(
        out.contains("1 of 1 exercises failed verification"),
        "{out}"
    );
}

#[test]
fn an_alternative_that_fails_fails_verify() {
    let course = course()
        .alternative(
            "say",
            "loud",
            &format!("//! Alternative: shouting.\n{SHOUTS}"),
        )
        .build();
    let (code, out) = verify(&course);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("✗ fails   loud (alternative) — wrong output"),
        "{out}"
    );
    // The verdict is explained, with the diff.
    assert!(out.contains("+ OK"), "{out}");
    assert!(out.contains("alternatives: 0 of 1 pass"), "{out}");
}

#[test]
fn a_mistake_caught_by_another_verdict_than_named_fails_verify() {
    let course = course()
        .mistake(
            "say",
            "shout",
            "Mistake: prints OK\nCaught-By: panic",
            SHOUTS,
        )
        .build();
    let (code, out) = verify(&course);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("✗ caught  shout — wrong output, but Caught-By names panic"),
        "{out}"
    );
    assert!(out.contains("planted mistakes: 0 of 1 caught"), "{out}");
}

#[test]
fn mistake_paths_name_the_diff() {
    let course = course()
        .mistake(
            "say",
            "typo",
            "Mistake: a type error",
            "fn main() {\n    let x: u8 = \"\";\n}\n",
        )
        .build();
    let out = course
        .cmd(&["verify", "--format", "json"])
        .output()
        .unwrap();
    let (stdout, _) = texts(&out);
    let line: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    let diagnostics = line["mistakes"][0]["verdict"]["diagnostics"]
        .as_str()
        .unwrap();
    assert!(
        diagnostics.contains("solutions/mistakes/say/typo.diff (patched):2"),
        "{diagnostics}"
    );
}

#[test]
fn json_carries_mistakes_alternatives_and_totals() {
    let hint = "[[exercises.targeted_hints]]\nid = \"case\"\nwhen = \"wrong output\"\nline = 1\ntext = \"case matters\"\n";
    let course = TestCourse::new()
        .exercise("say", TODO, "ok\n", hint)
        .solution("say", OK)
        .mistake(
            "say",
            "shout",
            "Mistake: prints OK\nCaught-By: wrong output\nHint: case",
            SHOUTS,
        )
        .mistake(
            "say",
            "harmless",
            "Mistake: the same",
            "fn main() {\n    println!(\"ok\" );\n}\n",
        )
        .alternative(
            "say",
            "print",
            "//! Alternative: print!.\nfn main() { print!(\"ok\\n\"); }\n",
        )
        .build();
    let out = course
        .cmd(&["verify", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let (stdout, _) = texts(&out);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    let say = &lines[0];
    assert_eq!(say["event"], "verify");
    assert_eq!(say["ok"], false);
    assert_eq!(say["problem"], serde_json::Value::Null);
    let mistakes = say["mistakes"].as_array().unwrap();
    assert_eq!(mistakes[0]["slug"], "harmless");
    assert_eq!(mistakes[0]["caught"], false);
    assert_eq!(mistakes[0]["verdict"]["kind"], "pass");
    assert_eq!(mistakes[0]["expected"], serde_json::Value::Null);
    assert_eq!(mistakes[1]["slug"], "shout");
    assert_eq!(mistakes[1]["description"], "prints OK");
    assert_eq!(mistakes[1]["caught"], true);
    assert_eq!(mistakes[1]["expected"], "wrong output");
    assert_eq!(mistakes[1]["verdict"]["kind"], "wrong output");
    assert_eq!(mistakes[1]["hint"], "case");
    assert_eq!(mistakes[1]["selected_hint"], "case");
    assert_eq!(mistakes[0]["selected_hint"], serde_json::Value::Null);
    let alternatives = say["alternatives"].as_array().unwrap();
    assert_eq!(alternatives[0]["slug"], "print");
    assert_eq!(alternatives[0]["passed"], true);
    assert_eq!(alternatives[0]["verdict"]["kind"], "pass");
    let summary = &lines[1];
    assert_eq!(summary["event"], "verify_summary");
    assert_eq!(summary["failures"], 1);
    assert_eq!(summary["mistakes_caught"], 1);
    assert_eq!(summary["mistakes_total"], 2);
    assert_eq!(summary["alternatives_passed"], 1);
    assert_eq!(summary["alternatives_total"], 1);
}

/// A module with a token type that must not be cloned, a probe that
/// clones one, and a template with the `Clone` the guarantee forbids.
const TOKEN: &str =
    "pub struct Token(pub u32);\n\nfn main() {\n    println!(\"{}\", Token(7).0);\n}\n";
const CLONE_PROBE: &str =
    "fn main() {\n    let token = token::Token(1);\n    let _copy = token.clone();\n}\n";
const PROBE_TOML: &str = "[[exercises.must_not_compile]]\nfile = \"reject_clone.rs\"\nerror = \"E0599\"\nguarantee = \"a `Token` cannot be cloned\"\n";

fn token_course(learner: &str) -> TestCourse {
    TestCourse::new()
        .exercise("token", learner, "7\n", PROBE_TOML)
        .solution("token", TOKEN)
        .file("exercises/reject_clone.rs", CLONE_PROBE)
}

#[test]
fn a_module_that_lets_a_probe_compile_loses_its_guarantee() {
    let cloneable = format!("#[derive(Clone)]\n{TOKEN}");
    let course = token_course(&cloneable).build();
    let out = course.cmd(&["check", "token"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("✗ guarantee lost: the output is right, but your module lets exercises/reject_clone.rs compile, so the guarantee is lost: a `Token` cannot be cloned"),
        "{stdout}"
    );
    let out = course
        .cmd(&["check", "token", "--format", "json"])
        .output()
        .unwrap();
    let (stdout, _) = texts(&out);
    let check: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let verdict = &check["verdict"];
    assert_eq!(verdict["kind"], "guarantee lost");
    assert_eq!(verdict["probe"], "exercises/reject_clone.rs");
    assert_eq!(verdict["expected_code"], "E0599");
    assert_eq!(verdict["compiled"], true);
}

#[test]
fn a_module_that_keeps_its_guarantee_passes() {
    let course = token_course(TOKEN).build();
    let out = course.cmd(&["check", "token"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("passed"), "{stdout}");
}

#[test]
fn verify_catches_a_mistake_that_loses_a_guarantee() {
    let course = token_course("fn main() { todo!() }\n")
        .mistake(
            "token",
            "cloneable",
            "Mistake: derives Clone\nCaught-By: guarantee lost",
            &format!("#[derive(Clone)]\n{TOKEN}"),
        )
        .build();
    let (code, out) = verify(&course);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("✓ caught  cloneable — guarantee lost"),
        "{out}"
    );
}

#[test]
fn a_mistake_named_memory_error_runs_under_memcheck() {
    if std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: valgrind is not installed (.ci/run installs it)");
        return;
    }
    let safe = "fn main() {\n    let value = Box::new(42u64);\n    println!(\"{}\", *value);\n}\n";
    // Reads freed memory, which prints the right number all the same.
    let use_after_free = "fn main() {\n    let value = Box::into_raw(Box::new(42u64));\n    drop(unsafe { Box::from_raw(value) });\n    let read = unsafe { value.read() };\n    println!(\"{}\", if read == 42 || read != 42 { 42 } else { 0 });\n}\n";
    let course = TestCourse::new()
        .exercise("uaf", TODO, "42\n", "")
        .solution("uaf", safe)
        .mistake(
            "uaf",
            "freed",
            "Mistake: reads a freed box\nCaught-By: memory error",
            use_after_free,
        )
        .build();
    let (code, out) = verify(&course);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("✓ caught  freed — memory error"), "{out}");
}
