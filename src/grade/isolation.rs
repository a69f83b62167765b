//! Whether learner programs are isolated from the grader's machine.

use crate::sandbox::{self, Isolation};

/// Makes namespace isolation a requirement of every build and run from
/// now on (unless the grader allowed grading without it), and says
/// whether it is available: `Err` holds why not.
pub fn require(allow_without: bool) -> Result<(), String> {
    if !allow_without {
        sandbox::require();
    }
    match sandbox::level() {
        Ok(_) => Ok(()),
        Err(unavailable) => Err(unavailable.reason),
    }
}

/// Whether the programs graded so far ran in namespaces.
pub fn used() -> bool {
    matches!(sandbox::level(), Ok(Isolation::Namespaces))
}
