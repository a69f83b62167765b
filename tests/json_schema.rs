//! Every JSON line of `check`, `check --all`, `verify`, `list` and `grade`
//! validates against docs/memlings.schema.json and carries `"schema": 1`.

mod common;

use std::fs;

use jsonschema::Validator;
use serde_json::Value;

use common::{TestCourse, class_course, class_submissions, json_lines};

fn validator() -> Validator {
    let path = common::repo_root().join("docs/memlings.schema.json");
    let schema: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::meta::validate(&schema).expect("the schema is a valid JSON Schema");
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

/// Runs `args` on `course` and checks each line of its output; returns the
/// events seen.
fn validated(validator: &Validator, course: &TestCourse, args: &[&str]) -> Vec<String> {
    let out = course.cmd(args).output().unwrap();
    let lines = json_lines(&out.stdout);
    assert!(!lines.is_empty(), "{args:?} printed no JSON");
    lines
        .iter()
        .map(|line| {
            let errors: Vec<String> = validator.iter_errors(line).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{args:?}: {line}\n{errors:#?}");
            assert_eq!(line["schema"], 1, "{line}");
            line["event"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn real_output_of_every_command_matches_the_schema() {
    let validator = validator();
    let course = class_course()
        .mistake(
            "greet",
            "shout",
            "Mistake: shouts\nCaught-By: wrong output",
            "fn main() {\n    println!(\"HELLO\");\n}\n",
        )
        .alternative(
            "greet",
            "print",
            "//! print! with a newline.\nfn main() {\n    print!(\"hello\\n\");\n}\n",
        )
        .exercise(
            "leaky",
            "fn main() {\n    std::mem::forget(vec![1u8; 64]);\n}\n",
            "",
            "max_leaked_bytes = 0",
        )
        .solution("leaky", "fn main() {}\n")
        .exercise("broken", "fn main() { let x: u32 = \"no\"; }\n", "", "")
        .solution("broken", "fn main() {}\n")
        .build();
    let v = |args: &[&str]| validated(&validator, &course, args);

    assert_eq!(v(&["check", "add", "--format", "json"]), ["check"]); // a panic
    assert_eq!(v(&["check", "leaky", "--format", "json"]), ["check"]); // a heap limit
    assert_eq!(v(&["check", "broken", "--format", "json"]), ["check"]); // a compile error
    assert_eq!(v(&["list", "--format", "json"]), ["list"]);
    let verify = v(&["verify", "--format", "json"]);
    assert_eq!(verify.last().map(String::as_str), Some("verify_summary"));
    assert!(verify.iter().filter(|e| *e == "verify").count() == 5);
    let all = v(&["check", "--all", "--format", "json"]);
    assert_eq!(all.iter().filter(|e| *e == "graded").count(), 5);
    assert_eq!(all.last().map(String::as_str), Some("score"));

    let class = tempfile::tempdir().unwrap();
    let subs = class_submissions(class.path());
    let mut args = vec!["grade", "--allow-no-isolation", "--format", "json"];
    args.extend(subs.iter().map(|p| p.to_str().unwrap()));
    let graded = v(&args);
    assert_eq!(graded.last().map(String::as_str), Some("grade_summary"));
    assert_eq!(graded.iter().filter(|e| *e == "score").count(), 3);

    for name in ["add", "greet", "twice", "leaky", "broken"] {
        let solution = course.root().join(format!("solutions/{name}.rs"));
        fs::copy(solution, course.learner_file(name)).unwrap();
    }
    let check = |name| v(&["check", name, "--format", "json"]);
    assert_eq!(check("greet"), ["check"]); // a pass
    for name in ["add", "twice", "leaky", "broken"] {
        check(name);
    }
    let graded = v(&["check", "--all", "--format", "json"]);
    assert_eq!(graded.len(), 6);
    // A bare check re-checks the current exercise, which now passes.
    let out = course.cmd(&["check", "--format", "json"]).output().unwrap();
    assert_eq!(json_lines(&out.stdout)[0]["passed"], true);
    assert_eq!(v(&["check", "--format", "json"]), ["check"]);
}

#[test]
fn the_schema_rejects_lines_without_the_version_or_with_a_renamed_field() {
    let validator = validator();
    let list = serde_json::json!({
        "schema": 1, "event": "list", "title": "t",
        "exercises": [{"name": "a", "done": true}], "done": 1, "total": 1,
    });
    assert!(validator.is_valid(&list));
    let mut unversioned = list.clone();
    unversioned.as_object_mut().unwrap().remove("schema");
    assert!(!validator.is_valid(&unversioned));
    let mut renamed = list.clone();
    renamed["schema"] = 2.into();
    assert!(!validator.is_valid(&renamed));
    let mut renamed = list;
    let total = renamed.as_object_mut().unwrap().remove("total").unwrap();
    renamed["count"] = total;
    assert!(!validator.is_valid(&renamed));
}
