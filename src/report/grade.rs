//! Wording grades: the table of submissions × exercises for a person, and
//! the `graded`, `score` and `grade_summary` JSON lines for machines.

use std::fmt::Write as _;

use colored::Colorize;
use serde_json::{Value, json};

use super::json::{self, emit};
use crate::grade::{ExerciseGrade, ExerciseResult, Grading, Scorecard};

/// The mark of a passed exercise in the table.
const PASS_MARK: &str = "✓";

/// The table: one row per scorecard, headed by `first_column` (what a
/// scorecard is of), one column per exercise holding a pass mark or the
/// verdict's label, then the totals and the score.
pub fn table(first_column: &str, cards: &[Scorecard]) -> String {
    let exercises: Vec<&str> = cards
        .first()
        .map(|c| c.grades.iter().map(|g| g.exercise.as_str()).collect())
        .unwrap_or_default();
    let header: Vec<String> = std::iter::once(first_column.to_owned())
        .chain(exercises.iter().map(|e| (*e).to_owned()))
        .chain(["passed".to_owned(), "score".to_owned()])
        .collect();
    let rows: Vec<Vec<String>> = cards.iter().map(row).collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|col| {
            std::iter::once(&header)
                .chain(&rows)
                .map(|r| r[col].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = line(&header, &widths, |cell, _| cell.bold().to_string());
    for cells in &rows {
        out.push_str(&line(cells, &widths, |cell, col| {
            match (1..=exercises.len()).contains(&col) {
                true => color_cell(cell),
                false => cell.to_owned(),
            }
        }));
    }
    out
}

/// One scorecard's cells, plain.
fn row(card: &Scorecard) -> Vec<String> {
    std::iter::once(card.submission.clone())
        .chain(card.grades.iter().map(|g| match g.passed() {
            true => PASS_MARK.to_owned(),
            false => g.label().to_owned(),
        }))
        .chain([
            format!("{}/{}", card.passed(), card.total()),
            format!("{:.0}%", card.score()),
        ])
        .collect()
}

/// Cells padded to their column's width, then colored by `paint`, which
/// gets the padded cell and its column.
fn line(cells: &[String], widths: &[usize], paint: impl Fn(&str, usize) -> String) -> String {
    let padded: Vec<String> = cells
        .iter()
        .zip(widths)
        .enumerate()
        .map(|(col, (cell, &width))| {
            let pad = width.saturating_sub(cell.chars().count());
            paint(&format!("{cell}{:pad$}", ""), col)
        })
        .collect();
    format!("{}\n", padded.join("  ").trim_end())
}

/// In an exercise's column, a pass mark green and a verdict red.
fn color_cell(cell: &str) -> String {
    let text = cell.trim_end();
    let pad = &cell[text.len()..];
    match text {
        PASS_MARK => format!("{}{pad}", text.green().bold()),
        _ => format!("{}{pad}", text.red()),
    }
}

/// Why exercises could not be graded at all, one line each, if any were.
pub fn unavailable_notes(cards: &[Scorecard]) -> String {
    let mut out = String::new();
    for card in cards {
        for grade in &card.grades {
            if let ExerciseResult::Unavailable(why) = &grade.result {
                let _ = writeln!(out, "{}: {}: {why}", card.submission, grade.exercise);
            }
        }
    }
    out
}

/// The closing line of a class's grading.
pub fn summary_line(grading: &Grading) -> String {
    let (cards, mean) = (&grading.cards, grading.mean_score());
    let isolation = match grading.isolated {
        true => "isolated".normal(),
        false => "WITHOUT isolation (--allow-no-isolation)".yellow().bold(),
    };
    format!(
        "{} submission{} graded, mean score {mean:.0}%, {isolation}\n",
        cards.len(),
        if cards.len() == 1 { "" } else { "s" },
    )
}

/// Prints one `graded` line per exercise, then the card's `score` line.
pub fn emit_card(card: &Scorecard) {
    for grade in &card.grades {
        emit(graded(&card.submission, grade));
    }
    emit(score(card));
}

/// Prints the `grade_summary` line closing a class.
pub fn emit_summary(grading: &Grading, fail_under: Option<f64>) {
    emit(json!({
        "event": "grade_summary",
        "submissions": grading.cards.len(),
        "mean_score": grading.mean_score(),
        "isolated": grading.isolated,
        "fail_under": fail_under,
        "below": grading.below(fail_under),
    }));
}

/// One exercise of one submission.
fn graded(submission: &str, grade: &ExerciseGrade) -> Value {
    let (verdict, heap) = match &grade.result {
        ExerciseResult::Judged(attempt) => (
            json::verdict(&attempt.verdict),
            attempt.heap.as_ref().map(json::heap),
        ),
        ExerciseResult::Unavailable(why) => (
            json!({ "kind": why.label(), "reason": why.to_string() }),
            None,
        ),
    };
    json!({
        "event": "graded",
        "submission": submission,
        "exercise": grade.exercise,
        "passed": grade.passed(),
        "verdict": verdict,
        "heap": heap,
    })
}

/// One submission's totals.
fn score(card: &Scorecard) -> Value {
    let exercises: Vec<Value> = card
        .grades
        .iter()
        .map(|g| json!({ "name": g.exercise, "passed": g.passed(), "kind": g.label() }))
        .collect();
    json!({
        "event": "score",
        "submission": card.submission,
        "passed": card.passed(),
        "total": card.total(),
        "score": card.score(),
        "exercises": exercises,
    })
}
