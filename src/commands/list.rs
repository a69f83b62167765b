//! `memlings list`: exercises in order with their status.

use anyhow::Result;

use super::{Outcome, Session};
use crate::report::{self, Format};

/// Reports every exercise with done/pending, then overall progress.
pub fn list(session: &Session, format: Format) -> Result<Outcome> {
    report::reporter(format, &session.course).listed(&session.course, &session.state);
    Ok(Outcome::Success)
}
