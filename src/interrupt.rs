//! Signals to the runner: Ctrl-C (SIGINT), SIGTERM and SIGHUP ask the
//! current stage to stop, kill its child processes and leave state
//! consistent; the CLI then exits 130 (SIGINT) or 128 + the signal.
//!
//! A learner program in namespaces cannot see the runner at all. In the
//! process-group fallback it can: while it runs (and for a signal that
//! arrived while it was being started), these signals count only if the
//! kernel sent them or their sender was alive and outside the program's
//! process group. SIGSTOP and SIGKILL cannot be caught, so nothing defends
//! against those there.

use std::sync::atomic::{AtomicI32, Ordering};

use nix::libc;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
use nix::unistd::{Pid, getpgid};

/// The signal that asked us to stop, or 0.
static RECEIVED: AtomicI32 = AtomicI32::new(0);
/// The process group of a running learner program (fallback only), or 0.
static IGNORED_GROUP: AtomicI32 = AtomicI32::new(0);
/// The process group of the sender of the received signal, when it
/// arrived: [`KERNEL`], [`GONE`], or a group.
static SENDER_GROUP: AtomicI32 = AtomicI32::new(0);
/// Sent by the kernel (a terminal's Ctrl-C or hang-up).
const KERNEL: i32 = 0;
/// Sent by a process that was gone when the signal arrived.
const GONE: i32 = -1;

/// The signals that stop the runner.
const STOPPING: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// Installs the handlers. Call once, before any thread is started.
pub fn install() -> nix::Result<()> {
    let action = SigAction::new(
        SigHandler::SigAction(on_signal),
        SaFlags::SA_SIGINFO | SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for signal in STOPPING {
        // SAFETY: the handler only reads and writes atomics and calls
        // getpgid, all async-signal-safe.
        unsafe { sigaction(signal, &action) }?;
    }
    Ok(())
}

extern "C" fn on_signal(signal: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo_t.
    let sender = unsafe { info.as_ref().map_or(0, |info| info.si_pid()) };
    let sender_group = match sender {
        0 => KERNEL,
        pid => getpgid(Some(Pid::from_raw(pid))).map_or(GONE, Pid::as_raw),
    };
    let group = IGNORED_GROUP.load(Ordering::SeqCst);
    if group > 0 && from_program(sender_group, group) {
        return;
    }
    if RECEIVED.load(Ordering::SeqCst) == 0 {
        SENDER_GROUP.store(sender_group, Ordering::SeqCst);
        let _ = RECEIVED.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// Whether a signal whose sender was in `sender_group` must be taken as
/// sent by the program running in `group`: one from the group, or from a
/// process already gone (a program's short-lived `kill`). The kernel (the
/// terminal's Ctrl-C or hang-up) and live processes elsewhere count.
fn from_program(sender_group: i32, group: i32) -> bool {
    sender_group == group || sender_group == GONE
}

/// While a program runs in the process-group fallback, its group's
/// signals are ignored; `Pid 0` ends that. A request that arrived from
/// the program before its group was known is withdrawn here.
pub fn ignore_signals_from(group: Pid) {
    let group = group.as_raw();
    IGNORED_GROUP.store(group, Ordering::SeqCst);
    if group > 0
        && RECEIVED.load(Ordering::SeqCst) != 0
        && from_program(SENDER_GROUP.load(Ordering::SeqCst), group)
    {
        RECEIVED.store(0, Ordering::SeqCst);
    }
}

/// Whether a stopping signal arrived.
pub fn requested() -> bool {
    RECEIVED.load(Ordering::SeqCst) != 0
}

/// The exit status after a stopping signal: 128 + its number (130 for
/// Ctrl-C).
pub fn exit_code() -> u8 {
    let signal = match RECEIVED.load(Ordering::SeqCst) {
        0 => libc::SIGINT,
        n => n,
    };
    u8::try_from(128 + signal).unwrap_or(130)
}

/// An operation stopped because a stopping signal arrived.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;
