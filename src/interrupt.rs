//! Ctrl-C handling: the first SIGINT asks the current stage to stop, kill its
//! child process group and leave state consistent; the CLI then exits 130.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// The exit status conventionally used after SIGINT.
pub const EXIT_CODE: i32 = 130;

/// Installs the handler. Safe to call once per process.
pub fn install() -> Result<(), ctrlc::Error> {
    ctrlc::set_handler(|| REQUESTED.store(true, Ordering::SeqCst))
}

/// Whether Ctrl-C was pressed.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// An operation stopped because Ctrl-C was pressed.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;
