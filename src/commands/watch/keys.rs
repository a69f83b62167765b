//! What `watch`'s single keys do, each in a session of its own so that the
//! lock is held only while acting.

use std::path::Path;

use anyhow::Result;
use colored::Colorize;

use super::super::{Session, hint, next, reset, solution};
use crate::course::Exercise;
use crate::terminal::{self, Key, Pick, Row};

/// The key legend, shown under every check and after every key.
pub const LEGEND: &str = "Keys: h hint · n next · l list · c check · s solution · r reset · q quit";

/// What the watch loop does after a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Keep waiting; show the legend again.
    Stay,
    /// A key that means nothing: keep waiting quietly.
    Ignore,
    /// Check the current exercise now.
    Check,
    /// Stop watching (exit 0).
    Quit,
    /// Ctrl-C (exit 130).
    Interrupted,
}

/// Acts on `key` while `exercise` is the one being watched.
pub fn act(key: Key, dir: &Path, color: bool, exercise: &Exercise) -> Result<Action> {
    let open = || Session::open(dir, color);
    match key {
        Key::Char('h') => {
            print!("{}", hint::reveal(&mut open()?, exercise, false)?);
            Ok(Action::Stay)
        }
        Key::Char('c') => Ok(Action::Check),
        Key::Char('n') => move_on(&mut open()?, exercise),
        Key::Char('s') => {
            solution::show(&open()?, exercise)?;
            Ok(Action::Stay)
        }
        Key::Char('r') => reset_confirmed(dir, color, exercise),
        Key::Char('l') => list(dir, color, exercise),
        Key::Char('q') => Ok(Action::Quit),
        Key::Interrupt => Ok(Action::Interrupted),
        _ => Ok(Action::Ignore),
    }
}

/// `n`: after a pass, on to the next pending exercise.
fn move_on(session: &mut Session, exercise: &Exercise) -> Result<Action> {
    if !session.state.is_done(&exercise.name) {
        let note = format!(
            "{} has not passed yet: `n` moves on after a pass (`memlings next` skips it).",
            exercise.name
        );
        println!("{}", note.yellow());
        return Ok(Action::Stay);
    }
    Ok(match next::advance(session)? {
        Some(_) => Action::Check,
        None => Action::Stay,
    })
}

/// `r`, or `r` in the list: reset after a yes.
fn reset_confirmed(dir: &Path, color: bool, exercise: &Exercise) -> Result<Action> {
    let question = format!(
        "Reset {} to its original template? Your file is backed up first.",
        exercise.name
    );
    if !terminal::confirm(&question)? {
        println!("Not reset.");
        return Ok(Action::Stay);
    }
    reset::restore(&mut Session::open(dir, color)?, exercise)?;
    Ok(Action::Check)
}

/// `l`: the list, to choose another exercise or reset one.
fn list(dir: &Path, color: bool, watched: &Exercise) -> Result<Action> {
    let (course, rows) = {
        let session = Session::open(dir, color)?;
        let current = session
            .state
            .current(&session.course)
            .map(|e| e.name.clone());
        let rows: Vec<Row> = session
            .course
            .exercises
            .iter()
            .map(|e| Row {
                name: e.name.clone(),
                done: session.state.is_done(&e.name),
                current: current.as_deref() == Some(e.name.as_str()),
            })
            .collect();
        (session.course.clone(), rows)
    };
    let chosen = |i: usize| course.exercises.get(i).cloned();
    match terminal::pick(&rows)? {
        Pick::Choose(i) => {
            let Some(exercise) = chosen(i) else {
                return Ok(Action::Stay);
            };
            let mut session = Session::open(dir, color)?;
            session.select(Some(&exercise.name))?;
            session.save()?;
            Ok(Action::Check)
        }
        Pick::Reset(i) => match chosen(i) {
            Some(exercise) => match reset_confirmed(dir, color, &exercise)? {
                // Resetting another exercise leaves the watched one alone.
                Action::Check if exercise.name != watched.name => Ok(Action::Stay),
                action => Ok(action),
            },
            None => Ok(Action::Stay),
        },
        Pick::Back => Ok(Action::Stay),
        Pick::Interrupted => Ok(Action::Interrupted),
    }
}
