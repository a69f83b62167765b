//! Holding a cargo build to its limits: its clock, Ctrl-C, a lock that
//! another build holds, and a build left running by a killed runner.
//! The harness decides what to build; this module watches it run.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::interrupt;
use crate::sandbox::launch::Waiter;

/// How often the clock and signals are looked at during a build (its end
/// is seen at once).
const BUILD_POLL: Duration = Duration::from_millis(10);
/// Where the process group of a running build is recorded, so that a
/// build orphaned by a killed runner can be stopped by the next one.
pub const BUILD_GROUP_FILE: &str = "build.pgid";

/// A limit the compiler ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildLimit {
    /// It ran past `build_timeout_ms`.
    Time { limit_ms: u128 },
    /// It ran out of memory.
    Memory { limit_mb: u64 },
}

/// How waiting for cargo ended.
pub enum BuildWait {
    /// Whether the started process (cargo, or its supervisor) succeeded.
    Exited(bool),
    TimedOut,
    Interrupted,
}

/// Waits for cargo, enforcing the clock and Ctrl-C.
pub fn wait_for_build(child: Child, pgid: Pid, timeout: Duration) -> BuildWait {
    let start = Instant::now();
    let child = Waiter::new(child);
    loop {
        if let Some(status) = child.wait_for(BUILD_POLL) {
            return BuildWait::Exited(status.is_ok_and(|s| s.success()));
        }
        let stop = if interrupt::requested() {
            Some(BuildWait::Interrupted)
        } else if start.elapsed() > timeout {
            Some(BuildWait::TimedOut)
        } else {
            None
        };
        if let Some(stop) = stop {
            let _ = killpg(pgid, Signal::SIGKILL);
            let _ = child.wait();
            return stop;
        }
    }
}

/// Drains cargo's stderr on a thread, noting while cargo says it is
/// waiting for a lock, and saying so at once.
pub fn read_stderr(
    pipe: impl Read + Send + 'static,
    blocked: &Arc<AtomicBool>,
) -> thread::JoinHandle<String> {
    let blocked = Arc::clone(blocked);
    thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            // Still blocked until cargo says anything else.
            let waiting = line.contains("Blocking waiting for file lock");
            if waiting && !blocked.swap(true, Ordering::SeqCst) {
                eprintln!(
                    "cargo: {} (held by another build; memlings gives up after build_timeout_ms)",
                    line.trim()
                );
            } else if !waiting {
                blocked.store(false, Ordering::SeqCst);
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    })
}

/// Kills a build that an earlier, killed runner left running: it would
/// hold cargo's lock and make this build wait. Such a group is found by
/// the number the earlier runner recorded, and recognised by a member
/// working in this harness directory.
pub fn stop_orphaned_build(group_file: &Path, harness: &Path) {
    let Some(pgid) = fs::read_to_string(group_file)
        .ok()
        .and_then(|t| t.trim().parse::<i32>().ok())
    else {
        return;
    };
    let _ = fs::remove_file(group_file);
    let marker = harness.to_string_lossy();
    let ours = fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| {
            let dir = entry.path();
            let in_group = fs::read_to_string(dir.join("stat"))
                .ok()
                .and_then(|stat| stat.rsplit_once(") ").map(|(_, rest)| rest.to_owned()))
                .and_then(|rest| rest.split(' ').nth(2).and_then(|g| g.parse::<i32>().ok()))
                == Some(pgid);
            in_group
                && fs::read(dir.join("cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker.as_ref()))
        });
    if ours {
        eprintln!("Stopping a build left running by an earlier memlings (process group {pgid})...");
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
    }
}
