//! Running a built program under limits: wall clock, output size, memory.
//!
//! The program gets its own process group so that a timeout, an output flood
//! or Ctrl-C kills it together with anything it spawned. Both output streams
//! are drained on their own threads into capped buffers, so the runner's
//! memory stays bounded however much the program prints.

use std::ffi::OsString;
use std::io::{self, Read};
use std::os::fd::RawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::course::Limits;
use crate::interrupt;

/// How often the supervisor looks at the child, its clock and its output.
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
    /// The user pressed Ctrl-C; it was killed.
    Interrupted,
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
}

/// What to start: a built exercise, or a tool (valgrind) wrapping it.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
    /// Apply the memory cap; off for tools that reserve address space
    /// themselves, as valgrind does.
    pub cap_memory: bool,
    /// Descriptors the program inherits at the same numbers (the heap
    /// report channel). The runner opens them close-on-exec; only this
    /// child gets them.
    pub inherit_fds: Vec<RawFd>,
}

impl Invocation {
    /// Runs `program` directly, with no arguments.
    pub fn program(program: &Path) -> Self {
        Invocation {
            program: program.to_path_buf(),
            args: Vec::new(),
            env: Vec::new(),
            cap_memory: true,
            inherit_fds: Vec::new(),
        }
    }
}

/// Runs the invocation in `cwd` with stdin closed, under `limits`.
pub fn run(invocation: &Invocation, cwd: &Path, limits: &Limits) -> io::Result<RunOutcome> {
    let mut command = Command::new(&invocation.program);
    command
        .args(&invocation.args)
        .envs(invocation.env.iter().map(|(k, v)| (k, v)))
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Keep panics short and stable; learners can rerun by hand for backtraces.
        .env("RUST_BACKTRACE", "0")
        .process_group(0);
    let address_space = invocation
        .cap_memory
        .then(|| limits.memory_limit_mb.saturating_mul(1024 * 1024));
    let inherit = invocation.inherit_fds.clone();
    // SAFETY: the closure runs between fork and exec and only calls fcntl
    // and setrlimit, which are async-signal-safe; it only reads memory
    // allocated before the fork, and takes no locks.
    unsafe {
        command.pre_exec(move || {
            keep_open(&inherit)?;
            limit_resources(address_space)
        });
    }
    let start = Instant::now();
    let mut child = command.spawn()?;
    let pgid = child.id() as libc::pid_t;
    let overflow = Arc::new(OverflowFlags::default());
    let cap = usize::try_from(limits.max_output_bytes).unwrap_or(usize::MAX);
    let stdout = drain(child.stdout.take(), cap, Stream::Stdout, &overflow);
    let stderr = drain(child.stderr.take(), cap, Stream::Stderr, &overflow);

    let ending = supervise(&mut child, pgid, limits.timeout, &overflow, start);
    // Kill whatever the program left behind in its group (grandchildren
    // included) so that it cannot hold our pipes open or outlive the run.
    kill_group(pgid);
    let elapsed = start.elapsed();
    Ok(RunOutcome {
        ending: ending?,
        stdout: collect(stdout),
        stderr: collect(stderr),
        elapsed,
    })
}

/// Clears close-on-exec on `fds`; runs in the child before exec.
fn keep_open(fds: &[RawFd]) -> io::Result<()> {
    for &fd in fds {
        // SAFETY: fcntl on a descriptor number has no memory-safety
        // preconditions; a closed one just fails.
        if unsafe { libc::fcntl(fd, libc::F_SETFD, 0) } == -1 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Sets the child's resource limits; runs in the child before exec.
/// Without a cap, the inherited address-space limit is left alone (raising
/// it could fail for an unprivileged user).
fn limit_resources(address_space: Option<u64>) -> io::Result<()> {
    let set = |resource, value: u64| {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `limit` is a valid, writable rlimit for the call.
        if unsafe { libc::getrlimit(resource, &mut limit) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // Never above the inherited hard limit: only root may raise it.
        let value = (value as libc::rlim_t).min(limit.rlim_max);
        limit.rlim_cur = value;
        limit.rlim_max = value;
        // SAFETY: `limit` is a valid rlimit for the duration of the call.
        if unsafe { libc::setrlimit(resource, &limit) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    };
    if let Some(bytes) = address_space {
        set(libc::RLIMIT_AS, bytes)?;
    }
    // A crashing exercise should not litter the workspace with core files.
    set(libc::RLIMIT_CORE, 0)
}

/// Waits for the child while enforcing the clock, the output cap and Ctrl-C.
fn supervise(
    child: &mut Child,
    pgid: libc::pid_t,
    timeout: Duration,
    overflow: &OverflowFlags,
    start: Instant,
) -> io::Result<Ending> {
    loop {
        if let Some(status) = child.try_wait()? {
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
        thread::sleep(POLL);
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
pub fn kill_group(pgid: libc::pid_t) {
    // SAFETY: killpg has no memory-safety preconditions.
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
    }
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
