//! Shell completions and man pages, generated from the command line's
//! definition; they need no course.

mod common;

use assert_cmd::Command;
use common::texts;

/// `memlings ARGS` run from an empty directory, where there is no course.
fn outside_a_course(args: &[&str]) -> std::process::Output {
    let empty = tempfile::tempdir().unwrap();
    let mut cmd = Command::cargo_bin("memlings").unwrap();
    cmd.current_dir(empty.path()).args(args);
    cmd.output().unwrap()
}

#[test]
fn completion_scripts_for_bash_zsh_and_fish() {
    for (shell, marker) in [
        ("bash", "complete -F _memlings"),
        ("zsh", "#compdef memlings"),
        ("fish", "complete -c memlings"),
    ] {
        let out = outside_a_course(&["completions", shell]);
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(0), "{shell}: {stderr}");
        assert!(stdout.contains(marker), "{shell}: {stdout}");
        for command in ["check", "next", "watch", "hint", "completions"] {
            assert!(stdout.contains(command), "{shell} completes {command}");
        }
    }
    let out = outside_a_course(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_bash_script_is_valid_bash() {
    let out = outside_a_course(&["completions", "bash"]);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("memlings.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(check.status.success(), "{:?}", texts(&check));
}

#[test]
fn the_man_page_is_printed_or_written_per_command() {
    let out = outside_a_course(&["man"]);
    let stdout = texts(&out).0;
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.contains(".TH memlings 1"), "{stdout}");
    assert!(stdout.contains("SUBCOMMANDS"), "{stdout}");
    assert!(stdout.contains("\\-\\-course"), "{stdout}");

    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("man1");
    let out = outside_a_course(&["man", "--out-dir", pages.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{:?}", texts(&out));
    for page in ["memlings.1", "memlings-check.1", "memlings-next.1"] {
        let text = std::fs::read_to_string(pages.join(page)).unwrap();
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{page}");
    }
    let check = std::fs::read_to_string(pages.join("memlings-check.1")).unwrap();
    assert!(check.contains("memcheck"), "{check}");
}
