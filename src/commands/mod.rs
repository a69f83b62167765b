//! The commands. Each loads what it needs, drives the stages, and prints.

mod check;
mod completions;
mod grade;
mod hint;
pub mod init;
mod list;
mod man;
mod next;
mod reset;
mod run;
mod solution;
mod verify;
mod watch;

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use colored::Colorize;

use crate::attempt::{self, Attempt, Options};
use crate::cli::Cmd;
use crate::course::{self, COURSE_FILE, Course, CourseError, Exercise, Variant};
use crate::memcheck;
use crate::state::{Recovery, State};
use crate::workspace::Workspace;

/// How a command ended, for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Success, or a pass: exit 0.
    Success,
    /// An exercise failed: exit 1.
    Failed,
    /// Stopped by Ctrl-C: exit 130.
    Interrupted,
}

/// Runs one command against the course in `course_dir`.
pub fn dispatch(cmd: Cmd, course_dir: Option<PathBuf>, color: bool) -> Result<Outcome> {
    // Commands that need no course.
    match &cmd {
        Cmd::Init { dir } => {
            init::init(dir, course_dir.as_deref())?;
            return Ok(Outcome::Success);
        }
        Cmd::Completions { shell } => return completions::completions(*shell),
        Cmd::Man { out_dir } => return man::man(out_dir.as_deref()),
        _ => {}
    }
    let dir = match course_dir {
        Some(dir) => dir,
        None => find_course_root()?,
    };
    let dir = dir.as_path();
    if let Cmd::Watch { name } = cmd {
        // Watch takes the lock only while it checks, so that `hint` and
        // friends work from another terminal in between.
        return watch::watch(dir, name, color);
    }
    if let Cmd::Grade { args } = cmd {
        // The course source has no learner state to open.
        return grade::grade(dir, args);
    }
    let session = match cmd {
        Cmd::Reset { .. } => Session::open_with(Course::load_for_repair(dir)?, color)?,
        _ => Session::open(dir, color)?,
    };
    match cmd {
        Cmd::Watch { .. }
        | Cmd::Init { .. }
        | Cmd::Completions { .. }
        | Cmd::Man { .. }
        | Cmd::Grade { .. } => {
            unreachable!("handled above")
        }
        Cmd::List { output } => list::list(&session, output.format),
        Cmd::Run { name } => run::run(session, name.as_deref()),
        Cmd::Check {
            all: true,
            memcheck,
            output,
            ..
        } => check::check_all(session, memcheck, output.format),
        Cmd::Check {
            name,
            memcheck,
            output,
            ..
        } => check::check(session, name.as_deref(), memcheck, output.format),
        Cmd::Hint { name, all } => hint::hint(session, name.as_deref(), all),
        Cmd::Reset { name } => reset::reset(session, name.as_deref()),
        Cmd::Next => next::next(session),
        Cmd::Solution { name } => solution::solution(session, name.as_deref()),
        Cmd::Verify { memcheck, output } => verify::verify(&session, memcheck, output.format),
    }
}

/// The nearest directory, from the current one upwards, holding a course
/// (`course.toml`, or a workspace's `.memlings/course.toml`), so that
/// commands work from inside `exercises/` too.
fn find_course_root() -> Result<PathBuf> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    cwd.ancestors()
        .find(|dir| course::is_course_root(dir))
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no {COURSE_FILE} in {} or any directory above it: run this inside a workspace made by `memlings init`, or pass --course DIR",
                cwd.display()
            )
        })
}

/// A loaded course with its workspace, locked for this command.
pub struct Session {
    pub course: Course,
    pub workspace: Workspace,
    pub state: State,
    /// Whether diagnostics should carry ANSI colors.
    pub color: bool,
    _lock: File,
}

impl Session {
    /// Loads the course in `dir`, takes its lock and reads progress.
    pub fn open(dir: &Path, color: bool) -> Result<Session> {
        Session::open_with(Course::load(dir)?, color)
    }

    /// A session on an already loaded course.
    fn open_with(course: Course, color: bool) -> Result<Session> {
        let workspace = Workspace::new(&course.root);
        let lock = workspace.lock()?;
        let (state, recovery) = State::load(&workspace.state_file())?;
        if let Recovery::SetAside { backup, reason } = recovery {
            eprintln!(
                "{} the progress file was unreadable ({reason}); starting clean. The old file is kept at {}",
                "warning:".yellow().bold(),
                backup.display()
            );
        }
        Ok(Session {
            course,
            workspace,
            state,
            color,
            _lock: lock,
        })
    }

    /// Saves progress atomically.
    pub fn save(&self) -> Result<()> {
        self.state.save(&self.workspace.state_file())
    }

    /// The exercise a command acts on: `name` if given (an unknown name is
    /// an error), else the current one. `None` only when no exercise was
    /// chosen and every exercise is done.
    pub fn target(&self, name: Option<&str>) -> Result<Option<Exercise>, CourseError> {
        match name {
            Some(name) => self.course.exercise(name).cloned().map(Some),
            None => Ok(self.state.current(&self.course).cloned()),
        }
    }

    /// Like [`Session::target`], and the exercise becomes the current one
    /// (saved with the state), so that later commands without a name
    /// stay on it whether it passes or not.
    pub fn select(&mut self, name: Option<&str>) -> Result<Option<Exercise>, CourseError> {
        let exercise = self.target(name)?;
        if let Some(exercise) = &exercise {
            self.state.current = Some(exercise.name.clone());
        }
        Ok(exercise)
    }

    /// How this session attempts `variant`: in its colors, judging the
    /// must-not-compile probes after a pass.
    pub fn options<'a>(&self, variant: Variant<'a>, memcheck: bool) -> Options<'a> {
        Options {
            variant,
            color: self.color,
            memcheck,
            probes: true,
        }
    }

    /// Attempts `exercise` in this session's course and workspace.
    pub fn attempt(&self, exercise: &Exercise, options: Options<'_>) -> Result<Attempt> {
        attempt::attempt(&self.course, &self.workspace, exercise, options)
    }

    /// Attempts several variants of `exercise`, building them all at once.
    pub fn attempt_all(&self, exercise: &Exercise, runs: &[Options<'_>]) -> Result<Vec<Attempt>> {
        attempt::attempt_all(&self.course, &self.workspace, exercise, runs)
    }
}

/// A command without a NAME found no current exercise: none was chosen
/// and every exercise is done.
#[derive(Debug, thiserror::Error)]
#[error("every exercise is done and none is current: name one, as in `memlings {command} NAME`")]
pub struct NoCurrentExercise {
    /// The command, for the example.
    pub command: &'static str,
}

/// Fails with install advice when memcheck is asked for but missing.
fn require_valgrind(wanted: bool) -> Result<()> {
    if wanted && !memcheck::available() {
        anyhow::bail!(memcheck::INSTALL_ADVICE);
    }
    Ok(())
}
