//! Containing a learner program: how far the kernel lets us isolate it,
//! and the pieces that do it.
//!
//! - [`supervisor`]: the `memlings __sandbox` process that puts the program
//!   in its own user, PID, mount, network and IPC namespaces;
//! - [`mounts`]: the program's read-only view of the file system;
//! - [`cgroup`]: whole-tree memory and process caps;
//! - [`rlimits`]: per-process limits;
//! - [`launch`] and [`child`]: starting a process at either level;
//! - [`protocol`]: how the supervisor reports back.
//!
//! Where namespaces are refused, runs fall back to process-group
//! containment, once said on stderr; `--require-isolation` turns that into
//! an error instead.

pub mod cgroup;
pub mod child;
pub mod launch;
mod mounts;
pub mod protocol;
pub mod rlimits;
pub mod spec;
pub mod supervisor;

use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use colored::Colorize;
use nix::fcntl::{FcntlArg, FdFlag, fcntl};

pub use spec::{SUBCOMMAND, Spec, View};

/// How strongly a program was contained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// Its own user, PID, mount, network and IPC namespaces.
    Namespaces,
    /// Its own process group only.
    ProcessGroup,
}

impl Isolation {
    /// The level's name in reports (`"namespaces"`, `"process-group"`).
    pub fn name(self) -> &'static str {
        match self {
            Isolation::Namespaces => "namespaces",
            Isolation::ProcessGroup => "process-group",
        }
    }
}

/// Isolation was required but is not available.
#[derive(Debug, thiserror::Error)]
#[error(
    "learner programs cannot be isolated in namespaces here ({reason}), and isolation is required (`--require-isolation`, or `grade` without `--allow-no-isolation`): refusing to run them with process-group containment only"
)]
pub struct IsolationUnavailable {
    pub reason: String,
}

/// Set by `--require-isolation`.
static REQUIRED: AtomicBool = AtomicBool::new(false);
/// Why namespaces are not used, once found out.
static UNAVAILABLE: Mutex<Option<String>> = Mutex::new(None);
/// The level of the latest run, for reports.
static LAST_USED: Mutex<Option<Isolation>> = Mutex::new(None);

/// Makes runs without namespaces an error (`--require-isolation`).
pub fn require() {
    REQUIRED.store(true, Ordering::SeqCst);
}

/// The level the next run gets, or an error when isolation is required
/// and unavailable. `MEMLINGS_SANDBOX=off` disables namespaces (for tests
/// of the fallback).
pub fn level() -> Result<Isolation, IsolationUnavailable> {
    if std::env::var_os("MEMLINGS_SANDBOX").is_some_and(|v| v == "off") {
        fall_back("disabled by MEMLINGS_SANDBOX=off".into());
    }
    let reason = UNAVAILABLE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    match reason {
        None => Ok(Isolation::Namespaces),
        Some(reason) if REQUIRED.load(Ordering::SeqCst) => Err(IsolationUnavailable { reason }),
        Some(_) => Ok(Isolation::ProcessGroup),
    }
}

/// Records that namespaces cannot be used, saying so once on stderr
/// (unless isolation is required, which makes the run fail instead).
pub fn fall_back(reason: String) {
    let mut unavailable = UNAVAILABLE.lock().unwrap_or_else(|e| e.into_inner());
    if unavailable.is_some() {
        return;
    }
    if !REQUIRED.load(Ordering::SeqCst) {
        eprintln!(
            "{} learner programs run without namespace isolation ({reason}); they are contained by process group only",
            "warning:".yellow().bold()
        );
    }
    *unavailable = Some(reason);
}

/// Records the level a run or build actually got.
pub fn note_used(level: Isolation) {
    *LAST_USED.lock().unwrap_or_else(|e| e.into_inner()) = Some(level);
}

/// The level of the latest run or build in this process, if any.
pub fn last_used() -> Option<Isolation> {
    *LAST_USED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Marks every descriptor this process inherited (beyond stdin, stdout
/// and stderr) close-on-exec, so that none reaches a learner program: a
/// grader's open files or pipes are not the program's to write. Call at
/// start, before any thread; the runner's own descriptors are
/// close-on-exec already, and those meant for a child are passed
/// explicitly.
pub fn close_inherited_fds() {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let fds = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&fd| fd > 2);
    for fd in fds {
        // SAFETY: listed as open while the listing (whose own descriptor
        // is among them) is still open, and nothing else runs yet that
        // could close it; it is only borrowed for the call.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let _ = fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC));
    }
}

/// Makes the runner undumpable: a program running as the same (non-root)
/// user cannot trace it or open its descriptors (its stdout) through
/// `/proc`, which matters in the process-group fallback. Children are not
/// affected (executing a program makes a process dumpable again).
pub fn protect_runner() {
    let _ = nix::sys::prctl::set_dumpable(false);
}

/// The command that starts a supervisor for `spec`: this very binary.
pub fn supervisor_command(spec: &Spec) -> Command {
    let mut command = Command::new("/proc/self/exe");
    command.arg(SUBCOMMAND).args(spec.to_args());
    command
}
