//! What a child of the runner does between `fork` and `exec`: leave the
//! terminal's session, die with the runner, join the control group, pass
//! on the descriptors it must inherit, and take its resource limits.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::sys::prctl;
use nix::sys::signal::Signal;

use super::cgroup::Cgroup;
use super::rlimits::Rlimits;

/// Most descriptors a child can be asked to inherit.
const MAX_INHERITED: usize = 8;
/// Most control-group hierarchies a child joins (v1 memory and pids).
const MAX_GROUPS: usize = 2;

/// The set-up, as plain numbers that can move into a `pre_exec` closure:
/// running it allocates nothing.
#[derive(Debug, Clone, Copy)]
pub struct PreExec {
    parent: u32,
    inherit: [RawFd; MAX_INHERITED],
    inherit_len: usize,
    join: [RawFd; MAX_GROUPS],
    join_len: usize,
    rlimits: Option<Rlimits>,
}

impl PreExec {
    /// A set-up that joins `cgroup`, clears close-on-exec on `inherit`
    /// (the caller keeps them open until the spawn returns), and applies
    /// `rlimits`.
    pub fn new(cgroup: Option<&Cgroup>, inherit: &[RawFd], rlimits: Option<Rlimits>) -> Self {
        let join: Vec<RawFd> = cgroup
            .map(|c| c.join_fds().iter().map(AsRawFd::as_raw_fd).collect())
            .unwrap_or_default();
        let mut setup = PreExec {
            parent: std::process::id(),
            inherit: [-1; MAX_INHERITED],
            inherit_len: inherit.len().min(MAX_INHERITED),
            join: [-1; MAX_GROUPS],
            join_len: join.len().min(MAX_GROUPS),
            rlimits,
        };
        setup.inherit[..setup.inherit_len].copy_from_slice(&inherit[..setup.inherit_len]);
        setup.join[..setup.join_len].copy_from_slice(&join[..setup.join_len]);
        setup
    }

    /// Runs in the child. Only async-signal-safe system calls.
    pub fn run(&self) -> io::Result<()> {
        // Its own session and process group, so that one signal to the
        // group ends it and it has no controlling terminal to write to
        // behind the report's back (`/dev/tty`).
        nix::unistd::setsid()?;
        prctl::set_pdeathsig(Signal::SIGKILL)?;
        if nix::unistd::getppid().as_raw() as u32 != self.parent {
            // The runner died before the line above: do not run orphaned.
            return Err(io::Error::from(Errno::ESRCH));
        }
        for &fd in &self.join[..self.join_len] {
            // "0" is the caller; this child is single-threaded, so moving
            // its thread moves the process.
            // SAFETY: the control group's descriptors stay open in the
            // parent for the whole spawn.
            let fd = unsafe { BorrowedFd::borrow_raw(fd) };
            nix::unistd::write(fd, b"0")?;
        }
        for &fd in &self.inherit[..self.inherit_len] {
            // SAFETY: the caller keeps these open until the spawn returns.
            let fd = unsafe { BorrowedFd::borrow_raw(fd) };
            fcntl(fd, FcntlArg::F_SETFD(FdFlag::empty()))?;
        }
        if let Some(rlimits) = self.rlimits {
            rlimits.apply()?;
        }
        Ok(())
    }
}
