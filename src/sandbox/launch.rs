//! Starting a process at a given isolation level: under a supervisor in
//! namespaces, or directly in its own process group. Used for learner
//! programs and for the compiler alike.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, ExitStatus};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use nix::fcntl::OFlag;
use nix::unistd::{Pid, pipe2};

use super::cgroup::Cgroup;
use super::child::PreExec;
use super::protocol::Message;
use super::rlimits::Rlimits;
use super::{Isolation, Spec, View, supervisor_command};

/// What to start and how to contain it.
pub struct Launch<'a> {
    /// The program, found on `PATH` if it has no slash.
    pub program: &'a Path,
    pub args: &'a [OsString],
    /// Its working directory.
    pub cwd: &'a Path,
    /// The file-system view (namespaces only); list `cwd` as writable if
    /// it must be.
    pub view: View,
    /// Its per-process limits.
    pub rlimits: Rlimits,
    /// Descriptors to pass on under the same numbers.
    pub inherit: &'a [RawFd],
    /// Keep the network inside the namespaces.
    pub network: bool,
    /// The control group to start it in, if any.
    pub cgroup: Option<&'a Cgroup>,
}

/// A started process: the program itself, or its supervisor.
pub struct Launched {
    /// The program itself, or its supervisor.
    pub child: Child,
    /// Its process group and session (its own pid).
    pub pgid: Pid,
    /// Where the supervisor reports (namespaces only).
    pub status: Option<File>,
}

/// What the supervisor reported on `status`; read it once the supervisor
/// has exited.
pub fn report(status: Option<File>) -> Vec<Message> {
    let mut text = String::new();
    if let Some(mut status) = status {
        let _ = status.read_to_string(&mut text);
    }
    Message::parse_all(&text)
}

/// Waits for a child on a thread of its own, so that its end is seen at
/// once while the caller keeps watching clocks, output and signals.
pub struct Waiter(mpsc::Receiver<io::Result<ExitStatus>>);

impl Waiter {
    /// Starts waiting for `child`.
    pub fn new(mut child: Child) -> Waiter {
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            // The receiver may be gone; nothing to do then.
            let _ = tx.send(child.wait());
        });
        Waiter(rx)
    }

    /// The child's status, if it ends within `timeout`.
    pub fn wait_for(&self, timeout: Duration) -> Option<io::Result<ExitStatus>> {
        match self.0.recv_timeout(timeout) {
            Ok(status) => Some(status),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => Some(Err(lost())),
        }
    }

    /// The child's status, once it has ended.
    pub fn wait(&self) -> io::Result<ExitStatus> {
        self.0.recv().unwrap_or_else(|_| Err(lost()))
    }
}

fn lost() -> io::Error {
    io::Error::other("the waiting thread ended without a status")
}

impl Launch<'_> {
    /// Starts it at `level`; `configure` adds the environment and stdio.
    pub fn spawn(
        self,
        level: Isolation,
        configure: impl FnOnce(&mut Command),
    ) -> io::Result<Launched> {
        let mut inherit = self.inherit.to_vec();
        let (mut command, pipe, rlimits) = match level {
            Isolation::Namespaces => {
                let (read, write) = pipe2(OFlag::O_CLOEXEC)?;
                inherit.push(write.as_raw_fd());
                let mut command_line = vec![self.program.as_os_str().to_owned()];
                command_line.extend(self.args.iter().cloned());
                let spec = Spec {
                    status_fd: write.as_raw_fd(),
                    cwd: self.cwd.to_path_buf(),
                    view: self.view,
                    rlimits: self.rlimits,
                    network: self.network,
                    command: command_line,
                };
                // The supervisor sets the limits in the program's process.
                (supervisor_command(&spec), Some((read, write)), None)
            }
            Isolation::ProcessGroup => {
                let mut command = Command::new(self.program);
                command.args(self.args).current_dir(self.cwd);
                (command, None, Some(self.rlimits))
            }
        };
        configure(&mut command);
        let setup = PreExec::new(self.cgroup, &inherit, rlimits);
        // SAFETY: `PreExec::run` makes only async-signal-safe system calls
        // (setsid, prctl, getppid, write, fcntl, setrlimit) and allocates
        // nothing.
        unsafe {
            command.pre_exec(move || setup.run());
        }
        let child = command.spawn()?;
        // Only the child may hold the write end now.
        let status = pipe.map(|(read, write)| {
            drop(write);
            File::from(read)
        });
        let pgid = Pid::from_raw(child.id() as i32);
        Ok(Launched {
            child,
            pgid,
            status,
        })
    }
}
