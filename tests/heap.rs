//! Memory verdicts: heap accounting, heap limits and valgrind memcheck.

mod common;

use std::fs;
use std::process::Command;

use common::{TestCourse, memlings, repo_course_copy, repo_root, texts};

/// Known allocations, and no printing (which would allocate stdout's buffer).
const KNOWN: &str = r#"
fn main() {
    let a = Box::new([0u8; 100]);
    let mut v: Vec<u64> = Vec::with_capacity(10);
    v.push(1);
    drop(a);
    let leaked: &'static mut u32 = Box::leak(Box::new(7u32));
    std::hint::black_box(leaked);
    drop(v);
}
"#;

fn valgrind_available() -> bool {
    let found = Command::new("valgrind").arg("--version").output().is_ok();
    if !found {
        eprintln!("SKIPPED: valgrind is not installed (.ci/run installs it)");
    }
    found
}

#[test]
fn figures_are_exact_for_known_allocations() {
    let course = TestCourse::new().exercise("known", KNOWN, "", "").build();
    let out = course.cmd(&["check", "known"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout
            .contains("heap: 3 allocs, 2 frees, peak 180 B, 4 B leaked; 0 fds, 0 mappings leaked"),
        "{stdout}"
    );
}

#[test]
fn a_leak_fails_max_leaked_bytes() {
    let course = TestCourse::new()
        .exercise("known", KNOWN, "", "max_leaked_bytes = 0")
        .build();
    let out = course.cmd(&["check", "known"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("heap limit"), "{stdout}");
    assert!(
        stdout.contains("4 B still allocated at exit, at most 0 B allowed"),
        "{stdout}"
    );
    assert!(stdout.contains("Leaked blocks: 4 B ×1"), "{stdout}");
    assert!(
        stdout.contains("mem::forget"),
        "names the usual cause: {stdout}"
    );
    assert!(stdout.contains("Hint 1/2"), "{stdout}");
}

#[test]
fn allocation_heavy_code_fails_max_allocations() {
    let program = r#"
        fn main() {
            let boxes: Vec<Box<u64>> = (0..1000).map(Box::new).collect();
            println!("{}", boxes.iter().map(|b| **b).sum::<u64>());
        }"#;
    let extra = "max_allocations = 10\nheap_hint = \"allocate the values in one block\"";
    let course = TestCourse::new()
        .exercise("many", program, "499500\n", extra)
        .build();
    let out = course.cmd(&["check", "many"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("1002 allocations, at most 10 allowed (992 too many)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Allocation sizes: 8 B ×1000,"),
        "names the size that went over: {stdout}"
    );
    assert!(
        stdout.contains("In this exercise: allocate the values in one block"),
        "{stdout}"
    );
}

#[test]
fn a_clean_program_passes_within_its_limits() {
    let program = r#"
        fn main() {
            let v: Vec<u32> = (1..=4).collect();
            println!("{}", v.iter().sum::<u32>());
        }"#;
    let extra = "max_leaked_bytes = 0\nmax_allocations = 2\nmax_peak_bytes = 2048";
    let course = TestCourse::new()
        .exercise("clean", program, "10\n", extra)
        .build();
    let out = course.cmd(&["check", "clean"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("heap: 2 allocs, 2 frees"), "{stdout}");
    assert!(stdout.contains("0 B leaked"), "{stdout}");
}

#[test]
fn a_program_with_its_own_allocator_is_not_accounted() {
    let program = r#"
        use std::alloc::System;
        #[global_allocator]
        static A: System = System;
        fn main() { println!("ok"); }"#;
    let course = TestCourse::new()
        .exercise("own", program, "ok\n", "")
        .build();
    let out = course.cmd(&["check", "own"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("heap:"), "{stdout}");
}

#[test]
fn heap_accounting_can_be_switched_off() {
    let course = TestCourse::new()
        .exercise(
            "known",
            KNOWN,
            "",
            "heap_accounting = false\nmax_leaked_bytes = 0",
        )
        .build();
    let out = course.cmd(&["check", "known"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("heap:"), "{stdout}");
}

/// Replaces `from` by `to` in `text`, insisting that `from` is there.
fn patch(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "the solution no longer contains {from:?}"
    );
    text.replace(from, to)
}

#[test]
fn wrong_curriculum_solutions_that_leak_or_copy_are_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let mut init = assert_cmd::Command::cargo_bin("memlings").unwrap();
    init.args(["--color", "never", "init"])
        .arg(&ws)
        .assert()
        .code(0);
    let solution =
        |path: &str| fs::read_to_string(repo_root().join("solutions").join(path)).unwrap();

    // A pool that never frees its arena: the output is still right.
    let leaky = patch(
        &solution("07_pool/pool.rs"),
        "unsafe { alloc::dealloc(self.base.as_ptr(), layout) };",
        "let _ = layout; // forgot to dealloc",
    );
    fs::write(ws.join("exercises/07_pool/pool.rs"), leaky).unwrap();
    let out = memlings(&ws, &["check", "pool"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    // The driver's three pools: every arena leaks, and the sizes say which.
    assert!(
        stdout.contains("17472 B (17.1 KiB) still allocated at exit, at most 0 B allowed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Leaked blocks: 16384 B ×1, 1024 B ×1, 64 B ×1"),
        "{stdout}"
    );

    // A tensor store that quietly builds each tensor's data twice.
    let copying = patch(
        &solution("05_tensor/tensor.rs"),
        "let data: Box<[f32]> = (1..=count).map(|i| i as f32).collect();",
        "let staged: Vec<f32> = (1..=count).map(|i| i as f32).collect();\n        let data: Box<[f32]> = staged.to_vec().into_boxed_slice();",
    );
    fs::write(ws.join("exercises/05_tensor/tensor.rs"), copying).unwrap();
    let out = memlings(&ws, &["check", "tensor"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    // Judged by the bytes allocated: the copy of the 18 KiB tensor shows.
    assert!(
        stdout.contains("allocated in all, at most 28672 B (28 KiB) allowed"),
        "{stdout}"
    );
    assert!(stdout.contains("Allocation sizes: 18432 B ×2"), "{stdout}");
    assert!(stdout.contains("never copied"), "{stdout}");

    // A KV cache that copies each token into a fresh buffer before storing it.
    let staging = patch(
        &solution("09_kvcache/kvcache.rs"),
        "self.keys[slot.clone()].copy_from_slice(k);",
        "let staged = k.to_vec();\n        self.keys[slot.clone()].copy_from_slice(&staged);",
    );
    fs::write(ws.join("exercises/09_kvcache/kvcache.rs"), staging).unwrap();
    let out = memlings(&ws, &["check", "kvcache"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("allocations, at most 3 allowed"),
        "{stdout}"
    );
}

#[test]
fn memcheck_catches_a_use_after_free_in_an_unsafe_pool() {
    if !valgrind_available() {
        return;
    }
    // A pool whose handle outlives its arena: the read still "works" and
    // even prints the right number, which is why stdout alone cannot see it.
    let program = r#"
        use std::alloc::{alloc, dealloc, Layout};
        struct Pool { base: *mut u64, layout: Layout }
        impl Pool {
            fn new() -> Pool {
                let layout = Layout::array::<u64>(8).unwrap();
                Pool { base: unsafe { alloc(layout) }.cast(), layout }
            }
            fn release(&self) { unsafe { dealloc(self.base.cast(), self.layout) } }
        }
        fn main() {
            let pool = Pool::new();
            unsafe { pool.base.write(42) };
            pool.release();
            let value = unsafe { pool.base.read() };
            println!("{}", if value == 42 || value != 42 { 42 } else { 0 });
        }"#;
    let course = TestCourse::new()
        .exercise("uaf", program, "42\n", "")
        .build();
    course.cmd(&["check", "uaf"]).assert().code(0);
    let out = course
        .cmd(&["check", "uaf", "--memcheck"])
        .output()
        .unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("memory error"), "{stdout}");
    assert!(stdout.contains("Invalid read of size 8"), "{stdout}");
    assert!(
        stdout.contains("(exercises/uaf.rs:15)"),
        "trimmed to the learner's frame: {stdout}"
    );
}

#[test]
fn verify_memcheck_passes_on_the_repository_course() {
    if !valgrind_available() {
        return;
    }
    let tmp = repo_course_copy();
    let out = memlings(tmp.path(), &["verify", "--memcheck"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("solution passes memcheck"), "{stdout}");
}

#[test]
fn memcheck_without_valgrind_says_how_to_install_it() {
    let course = TestCourse::new()
        .exercise("x", "fn main() {}", "", "")
        .build();
    let out = course
        .cmd(&["check", "x", "--memcheck"])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("apt-get install valgrind"), "{stderr}");
}

#[test]
fn a_growing_buffer_fails_max_reallocs() {
    let program = r#"
        fn main() {
            let mut v: Vec<u32> = Vec::new();
            for i in 0..100 { v.push(i); }
            println!("{}", v.len());
        }"#;
    let course = TestCourse::new()
        .exercise("grow", program, "100\n", "max_reallocs = 0")
        .build();
    let out = course.cmd(&["check", "grow"]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("reallocations, at most 0 allowed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("with_capacity"),
        "names the usual cause: {stdout}"
    );
}
