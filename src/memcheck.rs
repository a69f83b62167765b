//! Running a program under valgrind memcheck and reading what it found.
//! Parsing is pure; only `available` and `invocation` touch the system.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::exec::{Invocation, MemoryCap};
use crate::harness::RENAMED_MAIN;

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
        args,
        memory: MemoryCap::UnderValgrind,
        ..Invocation::program(Path::new("valgrind"))
    }
}

/// The first error memcheck reported: its headline and the stack frames
/// worth a learner's attention, then any further stacks valgrind attached
/// (where the block was allocated or freed), trimmed the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub headline: String,
    pub frames: Vec<String>,
    /// `(header, frames)`, e.g. "Address 0x… is 0 bytes inside a block of
    /// size 64 free'd" and where that happened.
    pub details: Vec<(String, Vec<String>)>,
}

/// How many frames to keep of a stack with none in the learner's code.
const FALLBACK_FRAMES: usize = 3;

/// Finds the first error block in valgrind's output. `is_learner_frame`
/// picks the frames in the learner's code; a stack with none keeps its
/// first few frames, so the report is never empty.
pub fn first_error(stderr: &str, is_learner_frame: impl Fn(&str) -> bool) -> Option<Finding> {
    let lines: Vec<&str> = stderr.lines().filter_map(strip_pid_prefix).collect();
    let start = lines
        .iter()
        .position(|l| !l.trim().is_empty() && !is_frame(l))?;
    let block = lines[start..].iter().take_while(|l| !l.trim().is_empty());
    // Split the block into stacks, each a header line and its frames.
    let mut stacks: Vec<(String, Vec<&str>)> = Vec::new();
    for line in block {
        match stacks.last_mut() {
            Some((_, frames)) if is_frame(line) => frames.push(line),
            _ => stacks.push((line.trim().to_owned(), Vec::new())),
        }
    }
    let mut stacks = stacks.into_iter().map(|(header, frames)| {
        let mine: Vec<&str> = frames
            .iter()
            .copied()
            .filter(|l| is_learner_frame(l))
            .collect();
        let kept = if mine.is_empty() {
            frames.into_iter().take(FALLBACK_FRAMES).collect()
        } else {
            mine
        };
        (header, tidy(&kept))
    });
    let (headline, frames) = stacks.next()?;
    Some(Finding {
        headline,
        frames,
        details: stacks.collect(),
    })
}

/// Hides the accounting wrapper: its `main` frame goes, and the renamed
/// exercise `main` gets its name back.
fn tidy(frames: &[&str]) -> Vec<String> {
    let wrapped = frames.iter().any(|f| f.contains(RENAMED_MAIN));
    frames
        .iter()
        .filter(|f| !(wrapped && f.contains("::main (")))
        .map(|f| f.trim().replace(RENAMED_MAIN, "main"))
        .collect()
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
        let (header, frames) = &finding.details[0];
        assert!(header.ends_with("block of size 64 free'd"), "{header}");
        assert_eq!(frames, &["at 0x483CA3F: free (vg_replace_malloc.c:540)"]);
    }

    #[test]
    fn hides_the_accounting_wrapper() {
        let frames = [
            "by 0x1: ex_uaf::__memlings_main (exercises/uaf.rs:14)",
            "by 0x2: ex_uaf::main (exercises/uaf.rs:22)",
        ];
        assert_eq!(
            tidy(&frames),
            ["by 0x1: ex_uaf::main (exercises/uaf.rs:14)"]
        );
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
