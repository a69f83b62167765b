//! Running a built program under limits: wall clock, output size, memory,
//! file size, processes.
//!
//! The program runs in its own namespaces where the kernel allows it (see
//! [`crate::sandbox`]), else in its own process group, so that a timeout,
//! an output flood or Ctrl-C kills it together with anything it spawned.
//! Both output streams are drained on their own threads into capped
//! buffers, so the runner's memory stays bounded however much the program
//! prints.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read};
use std::os::fd::RawFd;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::course::Limits;
use crate::interrupt;
use crate::sandbox::cgroup::{Cgroup, GroupLimits};
use crate::sandbox::launch::{self, Launch, Launched, Waiter};
use crate::sandbox::protocol::Message;
use crate::sandbox::rlimits::Rlimits;
use crate::sandbox::{self, Isolation, IsolationUnavailable, View};

/// How often the runner looks at the clock, the output and signals while
/// the child runs (its end is seen at once).
const POLL: Duration = Duration::from_millis(5);
/// How long to wait for pipes to close once the process group is dead.
const DRAIN_GRACE: Duration = Duration::from_secs(1);

/// Which output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    /// The stream's usual name.
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// How a program ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// It exited by itself with this code.
    Exited(i32),
    /// A signal it did not handle ended it (SIGSEGV, SIGABRT, ...).
    Signaled(i32),
    /// It ran past the wall-clock limit and was killed.
    TimedOut,
    /// It printed more than the cap on this stream and was killed.
    OutputLimit(Stream),
    /// The user pressed Ctrl-C (or the runner got SIGTERM or SIGHUP); it
    /// was killed.
    Interrupted,
    /// The kernel's out-of-memory killer struck in the run's control
    /// group: the process tree used more than the memory limit.
    MemoryLimit,
}

impl Ending {
    /// Whether the runner ended the program for a limit or Ctrl-C.
    fn is_a_limit(&self) -> bool {
        matches!(
            self,
            Ending::TimedOut | Ending::OutputLimit(_) | Ending::Interrupted
        )
    }
}

/// Everything observed about one run.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub ending: Ending,
    /// Captured stdout, at most the cap.
    pub stdout: Vec<u8>,
    /// Captured stderr, at most the cap.
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
    /// How the program was contained.
    pub isolation: Isolation,
}

/// How much memory a program may use beyond the exercise's own limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryCap {
    /// The exercise's `memory_limit_mb`, as it is.
    Program,
    /// Under valgrind, whose shadow memory and own heap need room too:
    /// twice the limit plus [`VALGRIND_OVERHEAD_MB`].
    UnderValgrind,
}

/// valgrind's own memory, on top of twice the program's limit.
pub const VALGRIND_OVERHEAD_MB: u64 = 512;
/// Processes a program may have at once, itself included.
pub const MAX_PROCESSES: u64 = 256;
const MIB: u64 = 1024 * 1024;

/// What to start: a built exercise, or a tool (valgrind) wrapping it.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
    /// How the memory limit applies.
    pub memory: MemoryCap,
    /// Descriptors the program inherits under the same numbers (report
    /// channels), through the sandbox too. The caller keeps them open
    /// until [`run`] returns.
    pub keep_fds: Vec<RawFd>,
    /// What the program sees of the file system under namespace
    /// isolation; its working directory is always writable.
    pub view: View,
}

impl Invocation {
    /// Runs `program` directly, with no arguments.
    pub fn program(program: &Path) -> Self {
        Invocation {
            program: program.to_path_buf(),
            args: Vec::new(),
            env: Vec::new(),
            memory: MemoryCap::Program,
            keep_fds: Vec::new(),
            view: View::default(),
        }
    }

    /// The memory cap in bytes, for one process or the whole tree.
    fn memory_bytes(&self, limits: &Limits) -> u64 {
        let mb = match self.memory {
            MemoryCap::Program => limits.memory_limit_mb,
            MemoryCap::UnderValgrind => limits
                .memory_limit_mb
                .saturating_mul(2)
                .saturating_add(VALGRIND_OVERHEAD_MB),
        };
        mb.saturating_mul(MIB)
    }
}

/// Why a program could not be run at all.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("cannot start {}", program.display())]
    Start {
        program: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("lost track of the program")]
    Wait(#[source] io::Error),
    #[error(transparent)]
    Isolation(#[from] IsolationUnavailable),
}

/// Runs the invocation in `cwd` with stdin closed, under `limits`, as
/// isolated as the machine allows (see [`crate::sandbox`]).
pub fn run(invocation: &Invocation, cwd: &Path, limits: &Limits) -> Result<RunOutcome, ExecError> {
    let cgroup = Cgroup::create(GroupLimits {
        memory_bytes: invocation.memory_bytes(limits),
        processes: MAX_PROCESSES,
    });
    loop {
        let isolation = sandbox::level()?;
        let started = start(invocation, cwd, limits, isolation, cgroup.as_ref())?;
        match finish(started, limits, cgroup.as_ref())? {
            Finished::Ran(outcome) => {
                sandbox::note_used(isolation);
                return Ok(outcome);
            }
            Finished::SetupFailed(reason) => sandbox::fall_back(reason),
        }
    }
}

/// A started program (or supervisor) and what is needed to watch it.
struct Started {
    launched: Launched,
    isolation: Isolation,
    program: PathBuf,
    start: Instant,
}

/// How a started run ended.
enum Finished {
    Ran(RunOutcome),
    /// The namespaces could not be set up; the program never started.
    SetupFailed(String),
}

fn start(
    invocation: &Invocation,
    cwd: &Path,
    limits: &Limits,
    isolation: Isolation,
    cgroup: Option<&Cgroup>,
) -> Result<Started, ExecError> {
    let mut view = invocation.view.clone();
    view.writable.push(cwd.to_path_buf());
    let launch = Launch {
        program: &invocation.program,
        args: &invocation.args,
        cwd,
        view,
        rlimits: Rlimits {
            address_space: Some(invocation.memory_bytes(limits)),
            file_size: Some(limits.max_file_bytes),
            processes: process_limit(isolation),
        },
        inherit: &invocation.keep_fds,
        network: false,
        cgroup,
    };
    let start = Instant::now();
    let launched = launch
        .spawn(isolation, |command| {
            command
                .envs(invocation.env.iter().map(|(k, v)| (k, v)))
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                // Keep panics short and stable; learners can rerun by hand
                // for backtraces.
                .env("RUST_BACKTRACE", "0");
            if isolation == Isolation::Namespaces {
                // Temporary files go to the run directory, the only
                // writable place.
                command.env("TMPDIR", cwd);
            }
        })
        .map_err(|source| ExecError::Start {
            program: invocation.program.clone(),
            source,
        })?;
    if isolation == Isolation::ProcessGroup {
        interrupt::ignore_signals_from(launched.pgid);
    }
    Ok(Started {
        launched,
        isolation,
        program: invocation.program.clone(),
        start,
    })
}

/// Watches a started run to its end and says how it ended.
fn finish(
    started: Started,
    limits: &Limits,
    cgroup: Option<&Cgroup>,
) -> Result<Finished, ExecError> {
    let overflow = Arc::new(OverflowFlags::default());
    let cap = usize::try_from(limits.max_output_bytes).unwrap_or(usize::MAX);
    let Launched {
        mut child,
        pgid,
        status,
    } = started.launched;
    let stdout = drain(child.stdout.take(), cap, Stream::Stdout, &overflow);
    let stderr = drain(child.stderr.take(), cap, Stream::Stderr, &overflow);
    let waiter = Waiter::new(child);
    let ending = supervise(&waiter, pgid, limits.timeout, &overflow, started.start);
    // Kill whatever the program left behind in its group (grandchildren
    // included) so that it cannot hold our pipes open or outlive the run.
    kill_group(pgid);
    if let Some(cgroup) = cgroup {
        cgroup.kill_all();
    }
    interrupt::ignore_signals_from(Pid::from_raw(0));
    let elapsed = started.start.elapsed();
    let mut ending = ending.map_err(ExecError::Wait)?;
    match reported_ending(&launch::report(status), &ending) {
        Report::Ending(reported) => ending = reported,
        Report::SetupFailed(reason) => return Ok(Finished::SetupFailed(reason)),
        Report::ExecFailed(errno) => {
            return Err(ExecError::Start {
                program: started.program,
                source: io::Error::from_raw_os_error(errno),
            });
        }
        Report::Nothing => {}
    }
    if cgroup.is_some_and(Cgroup::oom_killed) && !ending.is_a_limit() {
        ending = Ending::MemoryLimit;
    }
    Ok(Finished::Ran(RunOutcome {
        ending,
        stdout: collect(stdout),
        stderr: collect(stderr),
        elapsed,
        isolation: started.isolation,
    }))
}

/// What the supervisor's messages say, given how the supervisor ended.
enum Report {
    Ending(Ending),
    SetupFailed(String),
    ExecFailed(i32),
    Nothing,
}

fn reported_ending(messages: &[Message], supervisor: &Ending) -> Report {
    let reported = messages.first().map(|m| match m {
        Message::SetupFailed(reason) => Report::SetupFailed(reason.clone()),
        Message::ExecFailed(errno) => Report::ExecFailed(*errno),
        Message::Exited(code) => Report::Ending(Ending::Exited(*code)),
        Message::Signaled(signal) => Report::Ending(Ending::Signaled(*signal)),
    });
    match (supervisor, reported) {
        // The runner's own verdicts (timeout, output, Ctrl-C) stand.
        (Ending::Exited(_) | Ending::Signaled(_), Some(report)) => report,
        _ => Report::Nothing,
    }
}

/// The process-count limit for RLIMIT_NPROC. Inside a user namespace it
/// counts the sandbox's processes only; outside, every process of the
/// user, so the ones already running are added. Root is exempt either way.
fn process_limit(isolation: Isolation) -> Option<u64> {
    let uid = nix::unistd::getuid();
    if uid.is_root() {
        return None;
    }
    match isolation {
        Isolation::Namespaces => Some(MAX_PROCESSES),
        Isolation::ProcessGroup => Some(processes_of(uid.as_raw()) + MAX_PROCESSES),
    }
}

/// How many processes `uid` runs now.
fn processes_of(uid: u32) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = fs::read_dir("/proc") else {
        return 0;
    };
    let count = entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter(|e| e.metadata().is_ok_and(|m| m.uid() == uid))
        .count();
    count as u64
}

/// Waits for the child while enforcing the clock, the output cap and Ctrl-C.
fn supervise(
    child: &Waiter,
    pgid: Pid,
    timeout: Duration,
    overflow: &OverflowFlags,
    start: Instant,
) -> io::Result<Ending> {
    loop {
        if let Some(status) = child.wait_for(POLL) {
            let status = status?;
            // Finishing after the deadline is still a timeout.
            return Ok(if start.elapsed() > timeout {
                Ending::TimedOut
            } else if let Some(stream) = overflow.hit() {
                Ending::OutputLimit(stream)
            } else {
                ending_of(status)
            });
        }
        let cause = if start.elapsed() > timeout {
            Some(Ending::TimedOut)
        } else if let Some(stream) = overflow.hit() {
            Some(Ending::OutputLimit(stream))
        } else if interrupt::requested() {
            Some(Ending::Interrupted)
        } else {
            None
        };
        if let Some(cause) = cause {
            kill_group(pgid);
            child.wait()?;
            return Ok(cause);
        }
    }
}

fn ending_of(status: ExitStatus) -> Ending {
    match (status.code(), status.signal()) {
        (Some(code), _) => Ending::Exited(code),
        (None, Some(signal)) => Ending::Signaled(signal),
        (None, None) => Ending::Exited(-1),
    }
}

/// Sends SIGKILL to a whole process group; a group already gone is fine.
pub fn kill_group(pgid: Pid) {
    let _ = killpg(pgid, Signal::SIGKILL);
}

/// Which stream, if any, went over its cap first.
#[derive(Default)]
struct OverflowFlags {
    stdout: AtomicBool,
    stderr: AtomicBool,
}

impl OverflowFlags {
    fn set(&self, stream: Stream) {
        match stream {
            Stream::Stdout => self.stdout.store(true, Ordering::SeqCst),
            Stream::Stderr => self.stderr.store(true, Ordering::SeqCst),
        }
    }

    fn hit(&self) -> Option<Stream> {
        if self.stdout.load(Ordering::SeqCst) {
            Some(Stream::Stdout)
        } else if self.stderr.load(Ordering::SeqCst) {
            Some(Stream::Stderr)
        } else {
            None
        }
    }
}

/// Reads a pipe to its end on a thread, keeping at most `cap` bytes.
/// Bytes past the cap are read and dropped, so the child never blocks on a
/// full pipe while the supervisor is killing it.
fn drain<R: Read + Send + 'static>(
    pipe: Option<R>,
    cap: usize,
    stream: Stream,
    overflow: &Arc<OverflowFlags>,
) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    let overflow = Arc::clone(overflow);
    thread::spawn(move || {
        let mut kept = Vec::new();
        if let Some(mut pipe) = pipe {
            let mut chunk = [0u8; 16 * 1024];
            loop {
                match pipe.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => {
                        let room = cap.saturating_sub(kept.len());
                        kept.extend_from_slice(&chunk[..n.min(room)]);
                        if n > room {
                            overflow.set(stream);
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        }
        // The receiver may have given up waiting; nothing to do then.
        let _ = tx.send(kept);
    });
    rx
}

/// Takes a drained stream, unless something outside the group (a process
/// that escaped with setsid) still holds the pipe open.
fn collect(rx: mpsc::Receiver<Vec<u8>>) -> Vec<u8> {
    rx.recv_timeout(DRAIN_GRACE).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ending(report: Report) -> Option<Ending> {
        match report {
            Report::Ending(ending) => Some(ending),
            _ => None,
        }
    }

    #[test]
    fn the_supervisors_report_gives_the_ending() {
        let done = Ending::Exited(0);
        let signaled = [Message::Signaled(11)];
        assert_eq!(
            ending(reported_ending(&signaled, &done)),
            Some(Ending::Signaled(11))
        );
        let exited = [Message::Exited(3)];
        assert_eq!(
            ending(reported_ending(&exited, &done)),
            Some(Ending::Exited(3))
        );
        // The runner's own verdicts stand over whatever was reported.
        assert!(matches!(
            reported_ending(&exited, &Ending::TimedOut),
            Report::Nothing
        ));
        assert!(matches!(
            reported_ending(&[Message::SetupFailed("x".into())], &done),
            Report::SetupFailed(_)
        ));
        assert!(matches!(reported_ending(&[], &done), Report::Nothing));
    }

    #[test]
    fn valgrind_gets_room_for_its_shadow_memory() {
        let limits = Limits {
            memory_limit_mb: 100,
            ..Limits::default()
        };
        let mut invocation = Invocation::program(Path::new("x"));
        assert_eq!(invocation.memory_bytes(&limits), 100 * MIB);
        invocation.memory = MemoryCap::UnderValgrind;
        assert_eq!(
            invocation.memory_bytes(&limits),
            (200 + VALGRIND_OVERHEAD_MB) * MIB
        );
    }
}
