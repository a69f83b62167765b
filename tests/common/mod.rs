//! Shared helpers: temporary courses written by the tests themselves, and
//! the real `memlings` binary to drive them.
#![allow(dead_code)] // each test crate uses a different subset

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

/// A course in a temporary directory. Exercises are whole programs (no
/// driver) with no dependencies, so they build in well under a second.
pub struct TestCourse {
    dir: TempDir,
    dependencies: String,
    entries: String,
}

impl TestCourse {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in ["exercises", "expected", "solutions"] {
            fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        TestCourse {
            dir,
            dependencies: String::new(),
            entries: String::new(),
        }
    }

    /// Adds a line to the course's `[dependencies]`, e.g. `memmap2 = "0.9"`.
    pub fn dependency(mut self, line: &str) -> Self {
        self.dependencies.push_str(line);
        self.dependencies.push('\n');
        self
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Adds an exercise whose learner file is `program`, whose solution is
    /// `solution`, expecting `expected`; `extra` is more TOML for its table.
    pub fn exercise(mut self, name: &str, program: &str, expected: &str, extra: &str) -> Self {
        let root = self.dir.path();
        fs::write(root.join(format!("exercises/{name}.rs")), program).unwrap();
        fs::write(root.join(format!("solutions/{name}.rs")), program).unwrap();
        fs::write(root.join(format!("expected/{name}.txt")), expected).unwrap();
        self.entries.push_str(&format!(
            "\n[[exercises]]\nname = \"{name}\"\npath = \"{name}.rs\"\nhints = [\"first hint for {name}\", \"second hint for {name}\"]\n{extra}\n"
        ));
        self
    }

    /// Overwrites the reference solution of `name`.
    pub fn solution(self, name: &str, program: &str) -> Self {
        fs::write(
            self.dir.path().join(format!("solutions/{name}.rs")),
            program,
        )
        .unwrap();
        self
    }

    /// Writes `text` to `path`, relative to the course root.
    pub fn file(self, path: &str, text: &str) -> Self {
        let file = self.dir.path().join(path);
        fs::create_dir_all(file.parent().expect("a parent")).unwrap();
        fs::write(file, text).unwrap();
        self
    }

    /// Plants a mistake in `name`: `header` lines, a blank line, and the
    /// diff from the current solution to `program`.
    pub fn mistake(self, name: &str, slug: &str, header: &str, program: &str) -> Self {
        let solution = fs::read_to_string(self.root().join(format!("solutions/{name}.rs")))
            .expect("the solution exists");
        let diff = diffy::create_patch(&solution, program);
        self.file(
            &format!("solutions/mistakes/{name}/{slug}.diff"),
            &format!(
                "{header}

{diff}"
            ),
        )
    }

    /// Adds an alternative solution of `name`.
    pub fn alternative(self, name: &str, slug: &str, program: &str) -> Self {
        self.file(&format!("solutions/alternatives/{name}/{slug}.rs"), program)
    }

    /// Writes course.toml and returns the finished course.
    pub fn build(self) -> Self {
        let text = format!(
            "format_version = 1\ntitle = \"Test course\"\n[dependencies]\n{}{}",
            self.dependencies, self.entries
        );
        fs::write(self.dir.path().join("course.toml"), text).unwrap();
        self
    }

    /// `memlings --course ROOT --color never ARGS...`
    pub fn cmd(&self, args: &[&str]) -> Command {
        memlings(self.root(), args)
    }

    /// Path of the learner's file of `name`.
    pub fn learner_file(&self, name: &str) -> PathBuf {
        self.root().join(format!("exercises/{name}.rs"))
    }

    /// The scratch directory a run of `name` used as its cwd.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.root().join(".memlings/run").join(name)
    }
}

/// The environment variable that marks every process a test starts, so
/// that survivors can be found whatever namespace they run in.
const MARK: &str = "MEMLINGS_TEST_MARK";

/// The binary, pointed at `course`, colors off, NO_COLOR unset.
pub fn memlings(course: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("memlings").expect("binary");
    cmd.arg("--course")
        .arg(course)
        .args(["--color", "never"])
        .args(args);
    cmd.env_remove("NO_COLOR").env(MARK, course);
    cmd
}

/// The binary as a plain `std::process::Command`, for tests that spawn it
/// and watch it run (signals, memory, streaming output).
pub fn spawn_cmd(course: &Path, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("memlings"));
    cmd.args(["--color", "never", "--course"])
        .arg(course)
        .args(args);
    cmd.env_remove("NO_COLOR").env(MARK, course);
    cmd
}

/// Processes (other than zombies) started by commands on `course`: the
/// runner, and every program it ran, in any namespace.
pub fn marked_processes(course: &Path) -> Vec<u32> {
    let mut needle = format!("{MARK}={}", course.display()).into_bytes();
    needle.push(0);
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.windows(needle.len()).any(|w| w == needle.as_slice()))
        })
        .filter(|&pid| !process_gone(pid))
        .collect()
}

/// Waits up to two seconds for every process of `course` to be gone (a
/// killed namespace is torn down asynchronously), then asserts it.
pub fn assert_no_survivors(course: &Path) {
    let start = std::time::Instant::now();
    loop {
        let left = marked_processes(course);
        if left.is_empty() {
            return;
        }
        if start.elapsed() > std::time::Duration::from_secs(2) {
            let names: Vec<String> = left
                .iter()
                .map(|p| fs::read_to_string(format!("/proc/{p}/cmdline")).unwrap_or_default())
                .collect();
            panic!("processes outlived the runner: {left:?} {names:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Whether this machine lets memlings isolate programs in namespaces (a
/// user namespace with its own mounts); tests that need it say why they
/// are skipped where it does not.
pub fn namespaces_available() -> bool {
    let ok = std::process::Command::new("unshare")
        .args(["-Urmnpf", "--mount-proc", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        // CI machines allow them: there, a skip would hide a regression.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the namespace tests, but this kernel refuses user namespaces"
        );
        eprintln!("skipped: this kernel refuses user namespaces (unshare -Urmnpf failed)");
    }
    ok
}

/// Standard output and error of a finished command, as text.
pub fn texts(output: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Whether a process is gone (or a zombie nobody reaped yet).
pub fn process_gone(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state field follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    }
}

/// A copy of the repository's course (with solutions) in a temporary
/// directory, so that tests never write into the source tree.
pub fn repo_course_copy() -> TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for entry in ["course.toml", "exercises", "expected", "solutions"] {
        copy_dir(&repo_root().join(entry), &tmp.path().join(entry));
    }
    tmp
}

/// Copies a file, or a directory recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    if from.is_dir() {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        fs::copy(from, to).unwrap();
    }
}

/// The repository root, which is itself the course.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The module template and solution of the driven exercise `add` in
/// [`class_course`].
pub const ADD_TEMPLATE: &str = "pub fn add(a: u32, b: u32) -> u32 {\n    todo!()\n}\n";
pub const ADD_SOLUTION: &str = "pub fn add(a: u32, b: u32) -> u32 {\n    a + b\n}\n";
/// A whole-program exercise, `greet`.
pub const GREET_TEMPLATE: &str = "fn main() {\n    todo!()\n}\n";
pub const GREET_SOLUTION: &str = "fn main() {\n    println!(\"hello\");\n}\n";
/// The driven exercise `twice`.
pub const TWICE_TEMPLATE: &str = "pub fn twice(n: u32) -> u32 {\n    todo!()\n}\n";
pub const TWICE_SOLUTION: &str = "pub fn twice(n: u32) -> u32 {\n    2 * n\n}\n";

/// A course to grade: `add` and `twice` complete modules that fixed
/// drivers use, `greet` is a whole program.
pub fn class_course() -> TestCourse {
    TestCourse::new()
        .exercise("add", ADD_TEMPLATE, "5\n", "driver = \"add_main.rs\"")
        .solution("add", ADD_SOLUTION)
        .file(
            "exercises/add_main.rs",
            "fn main() {\n    let sum = add::add(2, 3);\n    assert!(sum < 100, \"far too much\");\n    println!(\"{sum}\");\n}\n",
        )
        .exercise("greet", GREET_TEMPLATE, "hello\n", "")
        .solution("greet", GREET_SOLUTION)
        .exercise(
            "twice",
            TWICE_TEMPLATE,
            "42\n",
            "driver = \"twice_main.rs\"",
        )
        .solution("twice", TWICE_SOLUTION)
        .file(
            "exercises/twice_main.rs",
            "fn main() {\n    println!(\"{}\", twice::twice(21));\n}\n",
        )
        .build()
}

/// A learner's submission: a directory holding `files` (relative path,
/// text) and nothing else.
pub fn submission(parent: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = parent.join(name);
    for (path, text) in files {
        let file = dir.join(path);
        fs::create_dir_all(file.parent().expect("a parent")).unwrap();
        fs::write(file, text).unwrap();
    }
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// The three submissions of the grading tests: `complete` solves all,
/// `partial` one (its `greet` is the template, its `twice` missing), and
/// `cheater` edited `expected/`, a driver and its state to fake passes
/// of a wrong `add`, and solved `greet` for real.
pub fn class_submissions(parent: &Path) -> [PathBuf; 3] {
    [
        submission(
            parent,
            "complete",
            &[
                ("exercises/add.rs", ADD_SOLUTION),
                ("exercises/greet.rs", GREET_SOLUTION),
                ("exercises/twice.rs", TWICE_SOLUTION),
            ],
        ),
        submission(
            parent,
            "partial",
            &[
                ("exercises/add.rs", ADD_SOLUTION),
                ("exercises/greet.rs", GREET_TEMPLATE),
            ],
        ),
        submission(
            parent,
            "cheater",
            &[
                (
                    "exercises/add.rs",
                    "pub fn add(a: u32, b: u32) -> u32 {\n    a * b\n}\n",
                ),
                (
                    "exercises/add_main.rs",
                    "fn main() {\n    println!(\"5\");\n}\n",
                ),
                ("expected/twice.txt", "0\n"),
                (
                    "exercises/twice.rs",
                    "pub fn twice(_: u32) -> u32 {\n    0\n}\n",
                ),
                ("exercises/greet.rs", GREET_SOLUTION),
                (
                    ".memlings/state.toml",
                    "done = [\"add\", \"greet\", \"twice\"]\n",
                ),
            ],
        ),
    ]
}

/// The JSON lines of a command's stdout.
pub fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}
