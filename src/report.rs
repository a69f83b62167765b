//! Wording verdicts, hints and program output for a person. Every function
//! returns text; the commands decide where it goes.

use colored::Colorize;

use crate::course::Exercise;
use crate::diff;
use crate::exec::RunOutcome;
use crate::heap::{HeapReport, human_bytes};
use crate::judge::Verdict;

/// The exercise's heading and description.
pub fn description(exercise: &Exercise) -> String {
    let mut out = format!("{} {}\n", "Exercise".bold(), exercise.name.cyan().bold());
    if let Some(text) = &exercise.description {
        for line in text.trim_end().lines() {
            if line.is_empty() {
                out.push('\n');
            } else {
                out.push_str(&format!("  {line}\n"));
            }
        }
    }
    out
}

/// What the program printed, labelled, with anything not UTF-8 shown lossily.
pub fn program_output(outcome: &RunOutcome) -> String {
    let mut out = String::new();
    for (label, bytes) in [("stdout", &outcome.stdout), ("stderr", &outcome.stderr)] {
        if bytes.is_empty() {
            continue;
        }
        out.push_str(&format!("{}\n", format!("── {label} ──").dimmed()));
        let text = String::from_utf8_lossy(bytes);
        out.push_str(&text);
        if !text.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// The one-line heap summary, dimmed, if the program reported one.
pub fn heap_summary(heap: Option<&HeapReport>) -> String {
    heap.map(|h| format!("{}\n", h.to_string().dimmed()))
        .unwrap_or_default()
}

/// A full explanation of a verdict.
pub fn verdict(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Pass => format!(
            "{} output matches the expected output\n",
            "✓ passed:".green().bold()
        ),
        Verdict::WrongOutput { expected, actual } => format!(
            "{} the program ran but its output differs from the expected output\n{}\n{}",
            "✗ wrong output:".red().bold(),
            diff::legend(),
            diff::render(expected, actual)
        ),
        Verdict::CompileError { diagnostics } => format!(
            "{} your code does not compile yet\n{}\n",
            "✗ compile error:".red().bold(),
            diagnostics.trim_end()
        ),
        Verdict::Panic { message, location } => {
            let place = location
                .as_deref()
                .map(|l| format!(" at {l}"))
                .unwrap_or_default();
            let todo = if message.starts_with("not yet implemented") {
                "\n  A todo!() is still waiting for your code there."
            } else {
                ""
            };
            format!(
                "{} the program panicked{place}:\n  {message}{todo}\n",
                "✗ panic:".red().bold()
            )
        }
        Verdict::Crash { cause, .. } => format!("{} {cause}\n", "✗ crashed:".red().bold()),
        Verdict::ExitCode { code } => {
            format!(
                "{} the program exited with status {code}\n",
                "✗ failed:".red().bold()
            )
        }
        Verdict::Timeout { limit_ms } => format!(
            "{} timed out after {limit_ms} ms; the program and everything it started were killed (an endless loop, or waiting on something that never comes?)\n",
            "✗ timeout:".red().bold()
        ),
        Verdict::OutputLimit {
            stream,
            limit_bytes,
        } => format!(
            "{} the program printed more than {} on {} and was killed (a print in an endless loop?)\n",
            "✗ output limit:".red().bold(),
            human_bytes(*limit_bytes),
            stream.name()
        ),
        Verdict::MemoryLimit { limit_mb } => format!(
            "{} memory limit exceeded: an allocation failed under the {limit_mb} MiB cap\n",
            "✗ memory limit:".red().bold()
        ),
        Verdict::HeapLimit(violation) => format!(
            "{} the output is right, but {}.\n  Usual cause: {}\n",
            "✗ heap limit:".red().bold(),
            violation.describe(),
            violation.usual_cause()
        ),
        Verdict::MemoryError(finding) => {
            let mut out = format!(
                "{} valgrind memcheck found: {}\n",
                "✗ memory error:".red().bold(),
                finding.headline
            );
            for frame in &finding.frames {
                out.push_str(&format!("    {frame}\n"));
            }
            out
        }
        Verdict::Interrupted => format!("{} stopped by Ctrl-C\n", "✗ interrupted:".yellow().bold()),
    }
}

/// The revealed hints, the newest emphasised.
pub fn hints(exercise: &Exercise, shown: usize) -> String {
    let total = exercise.hints.len();
    if total == 0 {
        return format!("{} this exercise has no hints\n", "Hint:".yellow().bold());
    }
    let mut out = String::new();
    for (i, hint) in exercise.hints.iter().take(shown).enumerate() {
        let label = format!("Hint {}/{total}:", i + 1);
        let label = if i + 1 == shown {
            label.yellow().bold()
        } else {
            label.dimmed()
        };
        out.push_str(&format!("{label} {hint}\n"));
    }
    if shown < total {
        out.push_str(&format!(
            "{}\n",
            format!("(`memlings hint {}` reveals the next one)", exercise.name).dimmed()
        ));
    }
    out
}
