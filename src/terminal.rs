//! The interactive terminal of `watch`: single keys without Enter, a list
//! to choose an exercise from, and yes/no questions, with crossterm. Used
//! only when stdin is a terminal; everything else reads no keys.

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use colored::Colorize;
use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::{QueueableCommand, cursor, terminal};

use crate::interrupt;

/// How long one look for a key waits.
const POLL: Duration = Duration::from_millis(100);

/// Whether keys can be read one at a time: stdin is a terminal.
pub fn interactive() -> bool {
    io::stdin().is_terminal()
}

/// Raw mode (keys arrive one at a time, unechoed, Ctrl-C as a key) until
/// dropped. Output in raw mode needs `\r\n` for a new line.
pub struct RawMode(());

impl RawMode {
    /// Switches the terminal to raw mode.
    pub fn enable() -> io::Result<RawMode> {
        terminal::enable_raw_mode()?;
        Ok(RawMode(()))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // Nothing better to do if the terminal is gone.
        let _ = terminal::disable_raw_mode();
    }
}

/// A key the learner pressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A letter or digit, lowercased.
    Char(char),
    Up,
    Down,
    Enter,
    Escape,
    /// Ctrl-C, which raw mode delivers as a key rather than a signal.
    Interrupt,
}

/// The next key pressed within [`POLL`], if any. Needs raw mode.
pub fn poll_key() -> io::Result<Option<Key>> {
    if !event::poll(POLL)? {
        return Ok(None);
    }
    Ok(match event::read()? {
        Event::Key(key) if key.kind != KeyEventKind::Release => translate(key),
        _ => None,
    })
}

/// The next key, however long it takes; Ctrl-C by signal counts too.
fn wait_key() -> io::Result<Key> {
    loop {
        if interrupt::requested() {
            return Ok(Key::Interrupt);
        }
        if let Some(key) = poll_key()? {
            return Ok(key);
        }
    }
}

fn translate(key: KeyEvent) -> Option<Key> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('c') if ctrl => Some(Key::Interrupt),
        KeyCode::Char(c) if !ctrl => Some(Key::Char(c.to_ascii_lowercase())),
        KeyCode::Up => Some(Key::Up),
        KeyCode::Down => Some(Key::Down),
        KeyCode::Enter => Some(Key::Enter),
        KeyCode::Esc => Some(Key::Escape),
        _ => None,
    }
}

/// Asks a yes/no question on one line; only `y` is yes.
pub fn confirm(question: &str) -> io::Result<bool> {
    let _raw = RawMode::enable()?;
    let mut out = io::stdout();
    write!(out, "{question} [y/N] ")?;
    out.flush()?;
    let yes = wait_key()? == Key::Char('y');
    write!(out, "{}\r\n", if yes { "yes" } else { "no" })?;
    out.flush()?;
    Ok(yes)
}

/// One exercise in the list.
#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    pub done: bool,
    pub current: bool,
}

/// What the learner did in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Work on the exercise at this index.
    Choose(usize),
    /// Reset the exercise at this index (not confirmed yet).
    Reset(usize),
    /// Left the list.
    Back,
    /// Ctrl-C.
    Interrupted,
}

/// Shows `rows` with a cursor on the current exercise and lets the learner
/// move it (arrows or j/k), choose (Enter or the exercise's number), reset
/// (r) or leave (Esc, q or l).
pub fn pick(rows: &[Row]) -> io::Result<Pick> {
    let Some(last) = rows.len().checked_sub(1) else {
        return Ok(Pick::Back);
    };
    let _raw = RawMode::enable()?;
    let mut out = io::stdout();
    let mut selected = rows.iter().position(|r| r.current).unwrap_or(0);
    draw(&mut out, rows, selected)?;
    loop {
        let pick = match wait_key()? {
            Key::Up | Key::Char('k') => {
                selected = selected.saturating_sub(1);
                None
            }
            Key::Down | Key::Char('j') => {
                selected = (selected + 1).min(last);
                None
            }
            Key::Enter => Some(Pick::Choose(selected)),
            Key::Char(c @ '1'..='9') => c
                .to_digit(10)
                .and_then(|d| usize::try_from(d).ok())
                .map(|d| d - 1)
                .filter(|&i| i <= last)
                .map(Pick::Choose),
            Key::Char('r') => Some(Pick::Reset(selected)),
            Key::Escape | Key::Char('q' | 'l') => Some(Pick::Back),
            Key::Interrupt => Some(Pick::Interrupted),
            Key::Char(_) => None,
        };
        if let Some(pick) = pick {
            return Ok(pick);
        }
        // Redraw in place: back to the header, clear, draw again.
        let lines = u16::try_from(rows.len() + 1).unwrap_or(u16::MAX);
        out.queue(cursor::MoveToPreviousLine(lines))?
            .queue(terminal::Clear(terminal::ClearType::FromCursorDown))?;
        draw(&mut out, rows, selected)?;
    }
}

/// The list, one line per exercise under a header of its keys.
fn draw(out: &mut impl Write, rows: &[Row], selected: usize) -> io::Result<()> {
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0);
    // Numbers are right-aligned, so that `10.` keeps the names in line with `9.`.
    let digits = rows.len().to_string().len();
    let header = "Exercises: ↑/↓ move, Enter or a number chooses, r resets, Esc goes back";
    write!(out, "{}\r\n", header.bold())?;
    for (i, row) in rows.iter().enumerate() {
        let cursor = if i == selected { ">" } else { " " };
        let status = match row.done {
            true => "done".green(),
            false => "pending".yellow(),
        };
        let current = if row.current { "  (current)" } else { "" };
        let line = format!(
            "{cursor} {:>digits$}. {:width$}  {status}{current}",
            i + 1,
            row.name
        );
        let line = if i == selected {
            line.bold().to_string()
        } else {
            line
        };
        write!(out, "{line}\r\n")?;
    }
    out.flush()
}
