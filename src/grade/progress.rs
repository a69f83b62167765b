//! A progress bar for `grade` on a terminal: exercises and submissions done,
//! and the time left. Nothing at all when stderr is not a terminal.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

/// Counts finished exercises and submissions, and draws them if it may.
pub struct Progress {
    bar: Option<ProgressBar>,
    submissions: usize,
    submissions_done: AtomicUsize,
}

const TEMPLATE: &str =
    "{bar:30} {pos}/{len} exercises, {msg} submissions  [{elapsed_precise}, {eta} left]";

impl Progress {
    /// A bar over `exercises` exercises in `submissions` submissions, drawn
    /// on stderr only if it is a terminal.
    pub fn new(submissions: usize, exercises: usize) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(exercises as u64);
            if let Ok(style) = ProgressStyle::with_template(TEMPLATE) {
                bar.set_style(style);
            }
            bar.set_message(format!("0/{submissions}"));
            bar
        });
        Progress {
            bar,
            submissions,
            submissions_done: AtomicUsize::new(0),
        }
    }

    /// One more exercise graded.
    pub fn exercise_done(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// One more submission graded.
    pub fn submission_done(&self) {
        let done = self.submissions_done.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{done}/{}", self.submissions));
        }
    }

    /// Removes the bar, leaving the terminal to the report.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
