//! The supervisor: the runner's own binary, re-executed as
//! `memlings __sandbox ...`. It enters new user, mount, network, IPC and
//! PID namespaces, builds the program's view of the file system, and forks
//! the namespace's first process (PID 1), which forks and executes the
//! program, reaps every orphan, and reports how the program ended.
//!
//! ```text
//! runner ── supervisor (new namespaces) ── PID 1 ── program ── ...
//! ```
//!
//! Each process dies with its parent (`PR_SET_PDEATHSIG`), and when PID 1
//! dies the kernel kills everything left in the namespace, so killing the
//! supervisor ends the whole tree, `setsid` or not. The program sees
//! neither the supervisor nor the runner, and cannot signal them.

use std::ffi::{CString, OsString};
use std::fs;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::process;

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::sched::{CloneFlags, unshare};
use nix::sys::prctl;
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitStatus, wait, waitpid};
use nix::unistd::{ForkResult, Gid, Pid, Uid, chdir, execvp, fork, getegid, geteuid};

use super::mounts::{self, MountError};
use super::protocol::Message;
use super::spec::Spec;

/// Exit status of a supervisor that could not read its arguments.
const EXIT_BAD_ARGS: i32 = 125;
/// Exit status of a program that could not be executed.
const EXIT_EXEC_FAILED: i32 = 127;
/// The user the program runs as when the runner is root: an unprivileged
/// user inside the namespace, so that executing the program drops every
/// capability (it still maps to the runner's own user outside).
const NOBODY: u32 = 65534;

/// Why the namespaces could not be set up.
#[derive(Debug, thiserror::Error)]
enum SetupError {
    #[error("unshare: {0}")]
    Unshare(Errno),
    #[error("cannot write {file}: {source}")]
    Map {
        file: &'static str,
        source: std::io::Error,
    },
    #[error(transparent)]
    Mount(#[from] MountError),
    #[error("fork: {0}")]
    Fork(Errno),
}

/// Runs the supervisor; never returns.
pub fn main(args: impl Iterator<Item = OsString>) -> ! {
    let spec = match Spec::from_args(args) {
        Ok(spec) => spec,
        Err(e) => {
            eprintln!("memlings: {e}");
            process::exit(EXIT_BAD_ARGS);
        }
    };
    // SAFETY: the runner opened this descriptor for the supervisor alone
    // and passed its number; nothing else in this process owns it.
    let status = unsafe { OwnedFd::from_raw_fd(spec.status_fd) };
    // The program must never hold it: close it on exec.
    let _ = fcntl(&status, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC));
    if let Err(e) = enter_namespaces(&spec) {
        fail(&status, &e);
    }
    // SAFETY: the supervisor is single-threaded, so the child may run any code.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => first_process(&spec, &status),
        Ok(ForkResult::Parent { child }) => {
            // PID 1 reports the ending; the supervisor only waits for it.
            while let Err(Errno::EINTR) = waitpid(child, None) {}
            process::exit(0)
        }
        Err(e) => fail(&status, &SetupError::Fork(e)),
    }
}

/// Reports a set-up failure and exits; the runner then falls back.
fn fail(status: &OwnedFd, error: &dyn std::fmt::Display) -> ! {
    report(status, &Message::SetupFailed(error.to_string()));
    process::exit(0)
}

/// Writes one message; a runner that stopped listening is not an error.
fn report(status: &OwnedFd, message: &Message) {
    let _ = nix::unistd::write(status, message.encode().as_bytes());
}

fn enter_namespaces(spec: &Spec) -> Result<(), SetupError> {
    let (uid, gid) = (geteuid(), getegid());
    let mut namespaces = CloneFlags::CLONE_NEWUSER
        | CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWPID;
    if !spec.network {
        namespaces |= CloneFlags::CLONE_NEWNET;
    }
    unshare(namespaces).map_err(SetupError::Unshare)?;
    map_ids(uid, gid)?;
    mounts::build(&spec.view)?;
    Ok(())
}

/// Maps one user and one group inside the new user namespace to the
/// runner's own. The inside ids are the same numbers, except for root,
/// which becomes `nobody` inside (see [`NOBODY`]).
fn map_ids(uid: Uid, gid: Gid) -> Result<(), SetupError> {
    let inside = |id: u32| if id == 0 { NOBODY } else { id };
    let write = |file: &'static str, text: String| {
        fs::write(file, text).map_err(|source| SetupError::Map { file, source })
    };
    write("/proc/self/setgroups", "deny".into())?;
    write(
        "/proc/self/gid_map",
        format!("{} {} 1", inside(gid.as_raw()), gid),
    )?;
    write(
        "/proc/self/uid_map",
        format!("{} {} 1", inside(uid.as_raw()), uid),
    )
}

/// PID 1 of the new namespace: mounts its `/proc`, starts the program,
/// reaps everything, and reports the program's ending.
fn first_process(spec: &Spec, status: &OwnedFd) -> ! {
    let _ = prctl::set_pdeathsig(Signal::SIGKILL);
    if let Err(e) = mounts::mount_proc() {
        fail(status, &e);
    }
    // Nobody in the namespace may trace this process or open its
    // descriptors through /proc, the status descriptor least of all.
    let _ = prctl::set_dumpable(false);
    // SAFETY: this process is single-threaded.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => program(spec, status),
        Ok(ForkResult::Parent { child }) => reap(child, status),
        Err(e) => fail(status, &SetupError::Fork(e)),
    }
}

/// Waits for every child until the program ends, then reports it. PID 1
/// exiting makes the kernel kill whatever the program left behind.
fn reap(program: Pid, status: &OwnedFd) -> ! {
    loop {
        match wait() {
            Ok(WaitStatus::Exited(pid, code)) if pid == program => {
                report(status, &Message::Exited(code));
                process::exit(0);
            }
            Ok(WaitStatus::Signaled(pid, signal, _)) if pid == program => {
                report(status, &Message::Signaled(signal as i32));
                process::exit(0);
            }
            Ok(_) | Err(Errno::EINTR) => {}
            Err(_) => process::exit(0),
        }
    }
}

/// The program's process: working directory, limits, no new privileges,
/// then exec. Executing drops every capability, since the program's user
/// is not root inside the namespace.
fn program(spec: &Spec, status: &OwnedFd) -> ! {
    let Err(errno) = prepare_and_exec(spec);
    report(status, &Message::ExecFailed(errno as i32));
    process::exit(EXIT_EXEC_FAILED)
}

fn prepare_and_exec(spec: &Spec) -> Result<std::convert::Infallible, Errno> {
    prctl::set_pdeathsig(Signal::SIGKILL)?;
    chdir(&spec.cwd)?;
    spec.rlimits.apply()?;
    prctl::set_no_new_privs()?;
    let argv: Vec<CString> = spec
        .command
        .iter()
        .map(|a| CString::new(a.as_bytes()).map_err(|_| Errno::EINVAL))
        .collect::<Result<_, _>>()?;
    let program = argv.first().ok_or(Errno::EINVAL)?;
    execvp(program, &argv)
}
