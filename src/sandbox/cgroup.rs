//! A control group around one run, where the machine lets us make one:
//! it caps the memory and the number of processes of the whole process
//! tree, not of each process, and tells whether the kernel's out-of-memory
//! killer struck. cgroup v2 is used when its memory controller is
//! available, otherwise the v1 `memory` (and `pids`) hierarchies.
//! Without either, runs rely on per-process limits alone.

use std::fs::{self, File};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Prefix of the groups memlings creates, followed by the runner's pid.
const PREFIX: &str = "memlings-";

/// The resources a group caps.
#[derive(Debug, Clone, Copy)]
pub struct GroupLimits {
    /// Memory of the whole tree, swap excluded (none allowed).
    pub memory_bytes: u64,
    /// Processes at once.
    pub processes: u64,
}

/// One created group (one directory per hierarchy). Removed on drop, after
/// killing anything still in it.
#[derive(Debug)]
pub struct Cgroup {
    /// The group holding the memory controller.
    memory: PathBuf,
    /// The v1 `pids` group, when separate.
    pids: Option<PathBuf>,
    v2: bool,
    /// The file to join through in every hierarchy, opened before the
    /// program starts so that joining is a plain write between fork and
    /// exec: v2's `cgroup.procs`; v1's `tasks`, which moves the (single)
    /// calling thread without the global lock whose write side waits for
    /// an RCU grace period (about 10 ms, against 0.1 ms).
    procs: Vec<File>,
}

impl Cgroup {
    /// Creates a group with these limits, or `None` where the machine does
    /// not allow it.
    pub fn create(limits: GroupLimits) -> Option<Cgroup> {
        if std::env::var_os("MEMLINGS_CGROUP").is_some_and(|v| v == "off") {
            return None;
        }
        let mounts = fs::read_to_string("/proc/self/mountinfo").ok()?;
        let own = fs::read_to_string("/proc/self/cgroup").ok()?;
        let name = unique_name();
        let group = create_v2(&mounts, &own, &name, limits)
            .or_else(|| create_v1(&mounts, &own, &name, limits))?;
        Some(group)
    }

    /// Descriptors to write `0` to (joining the writer) in the child.
    pub fn join_fds(&self) -> Vec<BorrowedFd<'_>> {
        self.procs.iter().map(AsFd::as_fd).collect()
    }

    /// Whether the out-of-memory killer killed something in the group.
    pub fn oom_killed(&self) -> bool {
        let file = if self.v2 {
            "memory.events"
        } else {
            "memory.oom_control"
        };
        let text = fs::read_to_string(self.memory.join(file)).unwrap_or_default();
        text.lines()
            .filter_map(|l| l.strip_prefix("oom_kill "))
            .any(|n| n.trim().parse::<u64>().is_ok_and(|n| n > 0))
    }

    /// Kills every process left in the group.
    pub fn kill_all(&self) {
        kill_members(&self.memory);
        if let Some(pids) = &self.pids {
            kill_members(pids);
        }
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        self.procs.clear();
        let dirs: Vec<&PathBuf> = std::iter::once(&self.memory)
            .chain(self.pids.as_ref())
            .collect();
        for dir in dirs {
            remove_group(dir);
        }
    }
}

/// `memlings-<pid>-<n>`: unique on the machine, and it names its owner so
/// that groups of a dead runner can be recognised and removed.
fn unique_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{PREFIX}{}-{n}", std::process::id())
}

/// Mount points of a file system type, with their super options.
fn mounts_of<'a>(mountinfo: &'a str, fstype: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
    mountinfo.lines().filter_map(move |line| {
        let (head, tail) = line.split_once(" - ")?;
        let mut tail = tail.split(' ');
        (tail.next()? == fstype).then_some(())?;
        let options = tail.nth(1).unwrap_or_default();
        Some((head.split(' ').nth(4)?, options))
    })
}

/// This process's group in the hierarchy whose controllers `matches`.
fn own_path(cgroups: &str, matches: impl Fn(&str) -> bool) -> Option<&str> {
    cgroups.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        matches(controllers).then_some(path)
    })
}

fn create_v2(mounts: &str, own: &str, name: &str, limits: GroupLimits) -> Option<Cgroup> {
    let (root, _) = mounts_of(mounts, "cgroup2").next()?;
    let root = Path::new(root);
    let own = own_path(own, str::is_empty)?;
    // Our own group first; the root group (which may hold processes and
    // still delegate) where ours cannot have children with controllers.
    let parents = [root.join(own.trim_start_matches('/')), root.to_path_buf()];
    parents.iter().find_map(|parent| {
        let controllers = fs::read_to_string(parent.join("cgroup.subtree_control")).ok()?;
        let enabled: Vec<&str> = controllers.split_whitespace().collect();
        if !enabled.contains(&"memory") {
            return None;
        }
        sweep_stale(parent);
        let dir = parent.join(name);
        fs::create_dir(&dir).ok()?;
        let mut settings = vec![("memory.max", limits.memory_bytes.to_string())];
        // Only where swap is accounted; otherwise there is none to cap.
        if dir.join("memory.swap.max").exists() {
            settings.push(("memory.swap.max", "0".to_owned()));
        }
        if enabled.contains(&"pids") {
            settings.push(("pids.max", limits.processes.to_string()));
        }
        let group = configure(&dir, &settings, V2_JOIN).map(|procs| Cgroup {
            memory: dir.clone(),
            pids: None,
            v2: true,
            procs: vec![procs],
        });
        if group.is_none() {
            let _ = fs::remove_dir(&dir);
        }
        group
    })
}

fn create_v1(mounts: &str, own: &str, name: &str, limits: GroupLimits) -> Option<Cgroup> {
    let group_in = |controller: &str| -> Option<PathBuf> {
        let (root, _) = mounts_of(mounts, "cgroup")
            .find(|(_, options)| options.split(',').any(|o| o == controller))?;
        let path = own_path(own, |c| c.split(',').any(|c| c == controller))?;
        let parent = Path::new(root).join(path.trim_start_matches('/'));
        sweep_stale(&parent);
        let dir = parent.join(name);
        fs::create_dir(&dir).ok().map(|()| dir)
    };
    let memory = group_in("memory")?;
    let limit = limits.memory_bytes.to_string();
    let mut settings = vec![("memory.limit_in_bytes", limit.clone())];
    if memory.join("memory.memsw.limit_in_bytes").exists() {
        settings.push(("memory.memsw.limit_in_bytes", limit));
    }
    let Some(memory_procs) = configure(&memory, &settings, V1_JOIN) else {
        let _ = fs::remove_dir(&memory);
        return None;
    };
    let mut procs = vec![memory_procs];
    let pids = group_in("pids").and_then(|dir| {
        match configure(&dir, &[("pids.max", limits.processes.to_string())], V1_JOIN) {
            Some(file) => {
                procs.push(file);
                Some(dir)
            }
            None => {
                let _ = fs::remove_dir(&dir);
                None
            }
        }
    });
    Some(Cgroup {
        memory,
        pids,
        v2: false,
        procs,
    })
}

/// How a process joins a v2 group.
const V2_JOIN: &str = "cgroup.procs";
/// How the calling thread of a single-threaded process joins a v1 group.
const V1_JOIN: &str = "tasks";

/// Writes the settings and opens `join` for joining.
fn configure(dir: &Path, settings: &[(&str, String)], join: &str) -> Option<File> {
    for (file, value) in settings {
        fs::write(dir.join(file), value).ok()?;
    }
    File::options().write(true).open(dir.join(join)).ok()
}

fn members(dir: &Path) -> Vec<i32> {
    fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

fn kill_members(dir: &Path) {
    if fs::write(dir.join("cgroup.kill"), "1").is_ok() {
        return;
    }
    for pid in members(dir) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

/// Kills what is left and removes the group, waiting briefly for the
/// killed processes to be gone.
fn remove_group(dir: &Path) {
    for _ in 0..100 {
        kill_members(dir);
        if fs::remove_dir(dir).is_ok() || !dir.exists() {
            return;
        }
        thread::sleep(Duration::from_millis(2));
    }
}

/// Removes groups left by runners that no longer exist (killed with -9).
fn sweep_stale(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let owner = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if owner.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
            remove_group(&entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_hierarchies() {
        let mounts = "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
                      41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
        assert_eq!(
            mounts_of(mounts, "cgroup").collect::<Vec<_>>(),
            [("/sys/fs/cgroup/memory", "rw,memory")]
        );
        assert_eq!(
            mounts_of(mounts, "cgroup2").next().map(|m| m.0),
            Some("/sys/fs/cgroup/unified")
        );
        let own = "8:pids:/\n4:memory:/a/b\n0::/\n";
        assert_eq!(own_path(own, |c| c == "memory"), Some("/a/b"));
        assert_eq!(own_path(own, str::is_empty), Some("/"));
    }
}
