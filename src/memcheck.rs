//! Running a program under valgrind memcheck and reading what it found.
//! Parsing is pure; only `available` and `invocation` touch the system.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::exec::Invocation;

/// Exit status valgrind uses when it found errors (chosen to be unusual).
pub const ERROR_EXIT_CODE: i32 = 97;
/// Memcheck slows programs down this much, so their timeout grows with it.
pub const SLOWDOWN: u32 = 20;

/// How to get valgrind, for the message when it is missing.
pub const INSTALL_ADVICE: &str = "valgrind is not installed; install it (Debian/Ubuntu: `sudo apt-get install valgrind`, Fedora: `sudo dnf install valgrind`, macOS: not supported) or run without --memcheck";

/// Whether valgrind can be started.
pub fn available() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Wraps `exe` in memcheck: invalid accesses, uninitialised values,
/// invalid frees and definite leaks all make it exit with `ERROR_EXIT_CODE`.
pub fn invocation(exe: &Path) -> Invocation {
    let args = [
        "--tool=memcheck",
        "--quiet",
        "--leak-check=full",
        "--show-leak-kinds=definite",
        "--errors-for-leak-kinds=definite",
        "--fullpath-after=",
    ];
    let mut args: Vec<OsString> = args.iter().map(OsString::from).collect();
    args.push(format!("--error-exitcode={ERROR_EXIT_CODE}").into());
    args.push(exe.into());
    Invocation {
        program: "valgrind".into(),
        args,
        env: Vec::new(),
        cap_memory: false,
    }
}

/// The first error memcheck reported: its headline and the stack frames
/// worth a learner's attention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub headline: String,
    pub frames: Vec<String>,
}

/// Finds the first error block in valgrind's output. `is_learner_frame`
/// picks the frames in the learner's code; when none match, the first few
/// frames are kept so the report is never empty.
pub fn first_error(stderr: &str, is_learner_frame: impl Fn(&str) -> bool) -> Option<Finding> {
    let lines: Vec<&str> = stderr.lines().filter_map(strip_pid_prefix).collect();
    let start = lines
        .iter()
        .position(|l| !l.trim().is_empty() && !is_frame(l))?;
    let block: Vec<&str> = lines[start..]
        .iter()
        .take_while(|l| !l.trim().is_empty())
        .copied()
        .collect();
    // The error's own stack; later stacks (where a block was freed, say)
    // only add detail.
    let frames: Vec<&str> = block[1..]
        .iter()
        .take_while(|l| is_frame(l))
        .copied()
        .collect();
    let mine: Vec<String> = frames
        .iter()
        .filter(|l| is_learner_frame(l))
        .map(|l| l.trim().to_owned())
        .collect();
    let frames = if mine.is_empty() {
        frames.iter().take(3).map(|l| l.trim().to_owned()).collect()
    } else {
        mine
    };
    Some(Finding {
        headline: block[0].trim().to_owned(),
        frames,
    })
}

/// `==1234== text` becomes `text`; lines without the prefix are the
/// program's own stderr and are skipped.
fn strip_pid_prefix(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("==")?;
    let (pid, text) = rest.split_once("==")?;
    pid.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| text.strip_prefix(' ').unwrap_or(text))
}

fn is_frame(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("at 0x") || t.starts_with("by 0x")
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\
==4242== Invalid write of size 4
==4242==    at 0x10C2B1: pool::PoolBox<T>::new_in (/course/exercises/pool.rs:42)
==4242==    by 0x10C8F0: main::main (/course/exercises/main.rs:10)
==4242==    by 0x10D000: core::ops::function::FnOnce::call_once (function.rs:250)
==4242==  Address 0x4a8b040 is 0 bytes inside a block of size 64 free'd
==4242==    at 0x483CA3F: free (vg_replace_malloc.c:540)
==4242==
program stderr line
==4242== 16 bytes in 1 blocks are definitely lost
";

    #[test]
    fn finds_the_first_error_and_trims_frames() {
        let finding = first_error(OUTPUT, |l| l.contains("/course/exercises/")).unwrap();
        assert_eq!(finding.headline, "Invalid write of size 4");
        assert_eq!(finding.frames.len(), 2, "{finding:?}");
        assert!(finding.frames[0].contains("pool.rs:42"));
        assert!(finding.frames.iter().all(|f| f.contains("exercises")));
    }

    #[test]
    fn keeps_some_frames_when_none_are_the_learners() {
        let finding = first_error(OUTPUT, |_| false).unwrap();
        assert_eq!(finding.frames.len(), 3);
    }

    #[test]
    fn nothing_found_in_clean_output() {
        assert_eq!(first_error("plain stderr\n", |_| true), None);
    }
}
