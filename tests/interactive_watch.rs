//! `watch` in a real pseudo-terminal: single keys for a hint, the list,
//! choosing another exercise, the solution, moving on, reset and quit.

mod common;

use std::fs;

use common::{TestCourse, spawn_cmd};
use rexpect::process::WaitStatus;
use rexpect::session::{Options, PtySession, spawn_with_options};

const SOLUTION: &str = "fn main() {\n    println!(\"hello\");\n}\n";
const MINE: &str = "fn main() {\n    let word = \"hello\";\n    println!(\"{word}\");\n}\n";
/// Generous: the first check builds the harness.
const TIMEOUT_MS: u64 = 90_000;

fn expect(session: &mut PtySession, needle: &str) {
    if let Err(e) = session.exp_string(needle) {
        panic!("never saw {needle:?}: {e}");
    }
}

fn key(session: &mut PtySession, keys: &str) {
    session.send(keys).unwrap();
    session.flush().unwrap();
}

#[test]
fn the_learner_drives_watch_with_single_keys() {
    let course = TestCourse::new()
        .exercise("first", "fn main() { todo!() }\n", "hello\n", "")
        .exercise("second", "fn main() { todo!() }\n", "hello\n", "")
        .solution("second", SOLUTION)
        .build();
    let originals = course.root().join(".memlings/originals");
    fs::create_dir_all(&originals).unwrap();
    fs::write(originals.join("first.rs"), "fn main() { todo!() }\n").unwrap();

    let options = Options::new()
        .timeout_ms(Some(TIMEOUT_MS))
        .strip_ansi_escape_codes(true);
    let mut watch = spawn_with_options(spawn_cmd(course.root(), &["watch"]), options).unwrap();
    expect(&mut watch, "Exercise first");
    expect(&mut watch, "Hint 1/2: first hint for first");
    expect(&mut watch, "Keys: h hint");

    // h: the next hint, in place.
    key(&mut watch, "h");
    expect(&mut watch, "Hint 2/2: second hint for first");
    expect(&mut watch, "Keys:");

    // l: the list; down and Enter choose the second exercise.
    key(&mut watch, "l");
    expect(&mut watch, "2. second");
    key(&mut watch, "\x1b[B");
    key(&mut watch, "\r");
    expect(&mut watch, "Exercise second");
    expect(&mut watch, "Keys:");

    // n before a pass does not move on.
    key(&mut watch, "n");
    expect(&mut watch, "second has not passed yet");

    // Saving a passing file checks it.
    fs::write(course.learner_file("second"), MINE).unwrap();
    expect(&mut watch, "passed");
    expect(&mut watch, "Keys:");

    // s: the solution, and the learner's file beside it.
    key(&mut watch, "s");
    expect(&mut watch, "Reference solution of second");
    expect(&mut watch, "+++ exercises/second.rs");
    expect(&mut watch, "+    let word = \"hello\";");
    expect(&mut watch, "Keys:");

    // A key that fails says why, and watch goes on: this test course has
    // a pristine copy of `first` only.
    key(&mut watch, "r");
    expect(&mut watch, "[y/N]");
    key(&mut watch, "y");
    expect(&mut watch, "no pristine copy of second");
    expect(&mut watch, "Keys:");

    // n: on to the next pending exercise.
    key(&mut watch, "n");
    expect(&mut watch, "Exercise first");
    expect(&mut watch, "Keys:");

    // r: reset, only after a yes.
    fs::write(course.learner_file("first"), MINE).unwrap();
    expect(&mut watch, "passed");
    expect(&mut watch, "Keys:");
    key(&mut watch, "r");
    expect(&mut watch, "[y/N]");
    key(&mut watch, "x");
    expect(&mut watch, "Not reset.");
    assert_eq!(
        fs::read_to_string(course.learner_file("first")).unwrap(),
        MINE
    );
    key(&mut watch, "r");
    expect(&mut watch, "[y/N]");
    key(&mut watch, "y");
    expect(&mut watch, "Restored the original template of first");
    expect(&mut watch, "not yet implemented");
    expect(&mut watch, "Keys:");

    // q: quit, exit 0, the terminal left as it was.
    key(&mut watch, "q");
    watch.exp_eof().unwrap();
    let status = watch.process().wait().unwrap();
    assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
}
