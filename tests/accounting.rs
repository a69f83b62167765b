//! The in-program counter beyond heap figures: leaked descriptors and
//! mappings, layout checking, bytes allocated, the authenticated report
//! channel, how accounting is decided, and lints on learner code.

mod common;

use std::path::PathBuf;

use common::{TestCourse, texts};

/// Checks `name` in `course`; returns the exit code and stdout.
fn check(course: &TestCourse, name: &str) -> (Option<i32>, String) {
    let out = course.cmd(&["check", name]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    (out.status.code(), format!("{stdout}{stderr}"))
}

/// A JSON `check` of `name`: its verdict object.
fn json_verdict(course: &TestCourse, name: &str) -> serde_json::Value {
    let out = course
        .cmd(&["check", name, "--format", "json"])
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    let object: serde_json::Value = serde_json::from_str(line.trim()).expect(&line);
    object["verdict"].clone()
}

#[test]
fn a_forgotten_file_is_a_leaked_descriptor() {
    let program = r#"
        fn main() {
            let kept = std::fs::File::create("data.bin").unwrap();
            std::mem::forget(kept);
            let closed = std::fs::File::create("other.bin").unwrap();
            drop(closed);
            println!("ok");
        }"#;
    let course = TestCourse::new()
        .exercise("fd", program, "ok\n", "max_leaked_fds = 0")
        .build();
    let (code, stdout) = check(&course, "fd");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("0 B leaked; 1 fds, 0 mappings leaked"),
        "{stdout}"
    );
    assert!(stdout.contains("✗ resource leak: the output is right, but 1 file descriptor opened after `main` started still open at exit (fd "), "{stdout}");
    assert!(
        stdout.contains(" → data.bin), at most 0 allowed"),
        "names the file, relative to the run directory: {stdout}"
    );
    assert!(stdout.contains("into_raw_fd"), "usual cause: {stdout}");
    let verdict = json_verdict(&course, "fd");
    assert_eq!(verdict["kind"], "resource leak");
    assert_eq!(verdict["resource"], "fds");
    assert_eq!(verdict["actual"], 1);
}

/// Raw `mmap`/`munmap`, as a program without the libc crate declares them.
const RAW_MAPPINGS: &str = r#"
    use std::ffi::c_void;
    unsafe extern "C" {
        fn mmap(addr: *mut c_void, len: usize, prot: i32, flags: i32, fd: i32, off: i64) -> *mut c_void;
        fn munmap(addr: *mut c_void, len: usize) -> i32;
    }
    const READ_WRITE: i32 = 0x1 | 0x2;
    const PRIVATE_ANONYMOUS: i32 = 0x02 | 0x20;
    fn main() {
        unsafe {
            let kept = mmap(std::ptr::null_mut(), 8192, READ_WRITE, PRIVATE_ANONYMOUS, -1, 0);
            let unmapped = mmap(std::ptr::null_mut(), 4096, READ_WRITE, PRIVATE_ANONYMOUS, -1, 0);
            assert_eq!(munmap(unmapped, 4096), 0);
            std::hint::black_box(kept);
        }
        // A thread maps and unmaps its own signal stack: not a leak.
        std::thread::spawn(|| ()).join().unwrap();
        println!("ok");
    }"#;

#[test]
fn a_mapping_never_unmapped_is_a_leak() {
    let course = TestCourse::new()
        .exercise("map", RAW_MAPPINGS, "ok\n", "max_leaked_mappings = 0")
        .build();
    let (code, stdout) = check(&course, "map");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("; 0 fds, 1 mappings leaked"), "{stdout}");
    assert!(
        stdout.contains("1 memory mapping opened after `main` started still mapped at exit (8 KiB), at most 0 allowed"),
        "{stdout}"
    );
    assert!(stdout.contains("munmap"), "usual cause: {stdout}");
}

#[test]
fn memmap2_mappings_are_counted_until_dropped() {
    let program = |forget: bool| {
        format!(
            r#"
        fn main() {{
            let file = std::fs::OpenOptions::new()
                .read(true).write(true).create(true).truncate(false)
                .open("data.bin").unwrap();
            file.set_len(8192).unwrap();
            let kept = unsafe {{ memmap2::MmapMut::map_mut(&file).unwrap() }};
            let dropped = unsafe {{ memmap2::MmapMut::map_mut(&file).unwrap() }};
            drop(dropped);
            if {forget} {{ std::mem::forget(kept) }} else {{ drop(kept) }}
            println!("ok");
        }}"#
        )
    };
    let limits = "max_leaked_mappings = 0\nmax_leaked_fds = 0";
    let course = TestCourse::new()
        .dependency("memmap2 = \"0.9\"")
        .exercise("forgotten", &program(true), "ok\n", limits)
        .exercise("dropped", &program(false), "ok\n", limits)
        .build();
    let (code, stdout) = check(&course, "dropped");
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("; 0 fds, 0 mappings leaked"), "{stdout}");
    let (code, stdout) = check(&course, "forgotten");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout
            .contains("1 memory mapping opened after `main` started still mapped at exit (8 KiB)"),
        "{stdout}"
    );
}

#[test]
fn a_dealloc_with_another_layout_fails_with_both_layouts() {
    let program = r#"
        use std::alloc::{alloc, dealloc, Layout};
        fn main() {
            unsafe {
                let block = alloc(Layout::from_size_align(64, 8).unwrap());
                dealloc(block, Layout::from_size_align(32, 8).unwrap());
            }
            println!("ok");
        }"#;
    let course = TestCourse::new()
        .exercise("layout", program, "ok\n", "")
        .build();
    let (code, stdout) = check(&course, "layout");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("✗ layout mismatch: `dealloc` was given Layout { size: 32, align: 8 }, but the block was allocated with Layout { size: 64, align: 8 }."), "{stdout}");
    assert!(stdout.contains("exactly the `Layout`"), "{stdout}");
    assert!(stdout.contains("Hint 1/2"), "{stdout}");
    let verdict = json_verdict(&course, "layout");
    assert_eq!(verdict["kind"], "layout mismatch");
    assert_eq!(verdict["given"]["size"], 32);
    assert_eq!(verdict["allocated"]["size"], 64);
}

#[test]
fn freeing_what_was_never_allocated_fails_without_crashing() {
    let stack = r#"
        fn main() {
            let mut local = [0u64; 4];
            unsafe {
                std::alloc::dealloc(local.as_mut_ptr().cast(), std::alloc::Layout::new::<[u64; 4]>());
            }
            local[0] = 1;
            println!("ok {}", local[0]);
        }"#;
    let twice = r#"
        use std::alloc::{alloc, dealloc, Layout};
        fn main() {
            let layout = Layout::new::<u64>();
            unsafe {
                let block = alloc(layout);
                dealloc(block, layout);
                dealloc(block, layout);
            }
            println!("ok 1");
        }"#;
    let course = TestCourse::new()
        .exercise("stack", stack, "ok 1\n", "")
        .exercise("twice", twice, "ok 1\n", "")
        .build();
    for name in ["stack", "twice"] {
        let (code, stdout) = check(&course, name);
        assert_eq!(code, Some(1), "{stdout}");
        assert!(
            stdout
                .contains("✗ layout mismatch: `dealloc` was given a pointer (with Layout { size: "),
            "{stdout}"
        );
        assert!(stdout.contains("not a live allocation"), "{stdout}");
        assert!(
            !stdout.contains("crash"),
            "the free was skipped, so the run went on: {stdout}"
        );
    }
}

#[test]
fn max_allocated_bytes_names_the_sizes_that_went_over() {
    let program = r#"
        fn main() {
            let data: Vec<u8> = vec![7; 4096];
            let copies: Vec<Vec<u8>> = (0..3).map(|_| data.clone()).collect();
            println!("{}", copies.len());
        }"#;
    let course = TestCourse::new()
        .exercise("copies", program, "3\n", "max_allocated_bytes = 8192")
        .build();
    let (code, stdout) = check(&course, "copies");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("✗ heap limit:"), "{stdout}");
    assert!(
        stdout.contains(
            "17480 B (17.1 KiB) allocated in all, at most 8192 B (8 KiB) allowed (9288 B over)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("Allocation sizes: 4096 B ×4, "), "{stdout}");
    let verdict = json_verdict(&course, "copies");
    assert_eq!(verdict["kind"], "heap limit");
    assert_eq!(verdict["limit"], "allocated");
    assert_eq!(verdict["sizes"][0]["size"], 4096);
}

#[test]
fn a_program_that_skips_its_exit_handlers_has_no_report_and_fails() {
    let program = r#"
        use std::io::Write;
        unsafe extern "C" { fn _exit(code: i32) -> !; }
        fn main() {
            println!("ok");
            std::io::stdout().flush().unwrap();
            unsafe { _exit(0) }
        }"#;
    let course = TestCourse::new()
        .exercise("quit", program, "ok\n", "")
        .build();
    let (code, stdout) = check(&course, "quit");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "✗ missing heap report: heap accounting is on, but the program's report never arrived."
        ),
        "{stdout}"
    );
    assert!(stdout.contains("`libc::_exit`"), "{stdout}");
    assert_eq!(json_verdict(&course, "quit")["problem"], "missing");
}

#[test]
fn the_report_cannot_be_redirected_or_forged() {
    // Redirecting the old report variable changes nothing: the channel was
    // read before main.
    let redirect = r#"
        fn main() {
            unsafe { std::env::set_var("MEMLINGS_HEAP_REPORT", "/dev/null") };
            std::mem::forget(vec![1u8; 100]);
            println!("ok");
        }"#;
    // Fake figures written to every descriptor from an exit handler that
    // runs before the counter's, with or without leaving at once after.
    let forge = |then_exit: bool| {
        format!(
            r#"
        unsafe extern "C" {{
            fn atexit(callback: extern "C" fn()) -> i32;
            fn write(fd: i32, buf: *const u8, count: usize) -> isize;
            fn _exit(code: i32) -> !;
        }}
        extern "C" fn fake() {{
            let text = b"allocs=0\nreallocs=0\nfrees=0\npeak=0\nleaked=0\nend\n";
            for fd in 3..256 {{
                unsafe {{ write(fd, text.as_ptr(), text.len()) }};
            }}
            if {then_exit} {{ unsafe {{ _exit(0) }} }}
        }}
        fn main() {{
            unsafe {{ atexit(fake) }};
            std::mem::forget(vec![1u8; 100]);
            println!("ok");
        }}"#
        )
    };
    let leaks = "max_leaked_bytes = 0";
    let course = TestCourse::new()
        .exercise("redirect", redirect, "ok\n", leaks)
        .exercise("forge", &forge(false), "ok\n", leaks)
        .exercise("forge_exit", &forge(true), "ok\n", leaks)
        .build();
    let (code, stdout) = check(&course, "redirect");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("100 B still allocated at exit"), "{stdout}");
    for name in ["forge", "forge_exit"] {
        let (code, stdout) = check(&course, name);
        assert_eq!(code, Some(1), "{stdout}");
        assert!(stdout.contains("✗ missing heap report:"), "{stdout}");
        assert!(
            stdout.contains("something other than memlings' counter wrote to its report channel"),
            "{stdout}"
        );
        assert_eq!(json_verdict(&course, name)["problem"], "forged");
    }
}

#[test]
fn a_comment_about_global_allocator_does_not_turn_accounting_off() {
    let program = r#"
        // This program has no #[global_allocator] of its own; the
        // global_allocator attribute is only mentioned here.
        fn main() {
            std::mem::forget(Box::new(7u32));
            println!("ok");
        }"#;
    let course = TestCourse::new()
        .exercise("comment", program, "ok\n", "max_leaked_bytes = 0")
        .build();
    let (code, stdout) = check(&course, "comment");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("heap: "), "{stdout}");
    assert!(stdout.contains("4 B still allocated at exit"), "{stdout}");
}

#[test]
fn a_program_with_its_own_allocator_runs_unaccounted_and_the_decision_is_kept() {
    let program = r#"
        use std::alloc::System;
        #[global_allocator]
        static A: System = System;
        fn main() { std::mem::forget(Box::new(1u8)); println!("ok"); }"#;
    let course = TestCourse::new()
        .exercise("own", program, "ok\n", "max_leaked_bytes = 0")
        .build();
    let decision: PathBuf = course.root().join(".memlings/build/own-allocator/ex_own");
    for _ in 0..2 {
        let (code, stdout) = check(&course, "own");
        assert_eq!(code, Some(0), "{stdout}");
        assert!(!stdout.contains("heap:"), "{stdout}");
        assert!(decision.is_file(), "remembered by the sources' hash");
    }
    // Without the allocator, the same exercise is accounted again.
    let plain = program.replace("#[global_allocator]", "");
    std::fs::write(course.learner_file("own"), plain).unwrap();
    let (code, stdout) = check(&course, "own");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("1 B still allocated at exit"), "{stdout}");
}

/// Whether clippy-driver is installed where memlings looks for it.
fn clippy_available() -> bool {
    let beside_cargo = std::env::var_os("CARGO")
        .map(PathBuf::from)
        .and_then(|c| c.parent().map(|d| d.join("clippy-driver")));
    let on_path: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("clippy-driver"))
                .collect()
        })
        .unwrap_or_default();
    let found = beside_cargo.into_iter().chain(on_path).any(|p| p.is_file());
    if !found {
        eprintln!("SKIPPED: clippy-driver is not installed (.ci/run installs clippy)");
    }
    found
}

#[test]
fn a_denied_lint_fails_as_a_lint_and_other_lints_are_warnings() {
    if !clippy_available() {
        return;
    }
    let uninit = r#"
        fn main() {
            let mut buffer: Vec<u8> = Vec::with_capacity(4);
            unsafe { buffer.set_len(4) };
            println!("{}", buffer.len());
        }"#;
    // Only modules with `unsafe` code get the lint pass.
    let style = r#"
        fn main() {
            let numbers = vec![1, 2, 3];
            // SAFETY: the vector holds three elements.
            let first = unsafe { *numbers.as_ptr() };
            println!("{}", numbers.len() + first - 1);
        }"#;
    let course = TestCourse::new()
        .exercise("uninit", uninit, "4\n", "")
        .exercise("style", style, "3\n", "")
        .build();
    let (code, stdout) = check(&course, "uninit");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout
            .contains("✗ lint: your code compiles, but a lint found what is usually a memory bug"),
        "{stdout}"
    );
    assert!(
        stdout.contains("clippy::uninit-vec"),
        "clippy's own message: {stdout}"
    );
    assert!(stdout.contains("exercises/uninit.rs:"), "{stdout}");
    assert!(!stdout.contains("compile error"), "{stdout}");
    assert_eq!(json_verdict(&course, "uninit")["kind"], "lint");

    let (code, stdout) = check(&course, "style");
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("The compiler has 1 warning about your code"),
        "{stdout}"
    );
    assert!(stdout.contains("useless_vec"), "{stdout}");
}
