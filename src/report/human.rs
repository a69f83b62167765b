//! Wording verdicts, hints and program output for a person. The functions
//! return text; [`Human`] prints it for the commands.

use std::path::Path;

use colored::Colorize;

use super::{
    AlternativeCheck, CheckReport, MistakeCheck, Reporter, Verification, VerifyResult,
    VerifySummary,
};
use crate::course::{Course, Exercise, TargetedHint};
use crate::diff;
use crate::exec::RunOutcome;
use crate::heap::{HeapReport, human_bytes};
use crate::judge::{BuildLimit, Verdict};
use crate::state::State;

/// Prints colored text for a person.
pub struct Human {
    /// Width of the longest exercise name, to align columns.
    width: usize,
}

impl Human {
    /// A reporter for `course`.
    pub fn new(course: &Course) -> Self {
        let width = course
            .exercises
            .iter()
            .map(|e| e.name.len())
            .max()
            .unwrap_or(0);
        Human { width }
    }
}

impl Reporter for Human {
    fn check_started(&mut self, exercise: &Exercise, describe: bool) {
        match describe {
            true => print!("{}", description(exercise)),
            false => println!("{}", heading(exercise)),
        }
    }

    fn checked(&mut self, report: &CheckReport<'_>) {
        let attempt = report.attempt;
        if finished_normally(&attempt.verdict) {
            print!("{}", heap_summary(attempt.heap.as_ref()));
        }
        print!("{}", verdict(&attempt.verdict));
        match &attempt.verdict {
            Verdict::HeapLimit(_) => {
                if let Some(note) = &report.exercise.heap_hint {
                    println!("  In this exercise: {note}");
                }
            }
            Verdict::Pass
            | Verdict::WrongOutput { .. }
            | Verdict::CompileError { .. }
            | Verdict::Lint { .. }
            | Verdict::ResourceLeak(_)
            | Verdict::LayoutMismatch { .. }
            | Verdict::MissingHeapReport(_)
            | Verdict::BuildLimit(_)
            | Verdict::MemoryError(_)
            | Verdict::GuaranteeLost(_)
            | Verdict::Interrupted => {}
            // It stopped early: show how far it got, and for crashes and
            // odd exits what it said on stderr.
            stopped => {
                if let Some(outcome) = &attempt.outcome {
                    let stdout = String::from_utf8_lossy(&outcome.stdout);
                    print!("{}", diff::render_progress(&attempt.expected, &stdout));
                    if matches!(stopped, Verdict::Crash { .. } | Verdict::ExitCode { .. }) {
                        print!("{}", stderr_tail(&outcome.stderr));
                    }
                }
            }
        }
        print!("{}", warnings(&attempt.warnings));
        if let Some(shown) = report.hints_shown {
            if let Some(hint) = report.targeted_hint {
                print!("{}", targeted_hint(hint));
            }
            print!("{}", latest_hint(report.exercise, shown));
        } else if attempt.verdict.passed() {
            if report.memcheck {
                println!("{} valgrind memcheck found no errors", "✓".green().bold());
            }
            if report.suggest_memcheck {
                let tip = format!(
                    "Your code uses `unsafe`, and right output does not prove it sound: try `memlings check {} --memcheck`.",
                    report.exercise.name
                );
                println!("{}", tip.dimmed());
            }
            if report.completed_course {
                print!("{}", all_done());
            } else if let Some(next) = report.next {
                println!("`memlings next` moves on to {next}.");
            }
        }
    }

    fn all_done(&mut self) {
        print!("{}", all_done());
    }

    fn verified(&mut self, exercise: &Exercise, verification: &Verification<'_>) {
        let result = &verification.result;
        let (summary, detail) = match result {
            VerifyResult::Verified { memcheck, template } => (
                format!(
                    "solution passes{}; template fails ({})",
                    if *memcheck { " memcheck" } else { "" },
                    template.label()
                ),
                None,
            ),
            VerifyResult::NoSolution(path) => {
                (format!("no reference solution at {}", path.display()), None)
            }
            VerifyResult::SolutionFails(v) => (
                format!("the solution does not pass ({})", v.label()),
                Some(verdict(v)),
            ),
            VerifyResult::TemplatePasses => (
                "the untouched template already passes; it must fail until completed".into(),
                None,
            ),
        };
        println!(
            "{} {:width$}  {summary}",
            mark(result.ok()),
            exercise.name,
            width = self.width
        );
        print!("{}", indented(detail.as_deref().unwrap_or_default(), 4));
        let slugs = verification
            .mistakes
            .iter()
            .map(|m| m.mistake.slug.len())
            .chain(
                verification
                    .alternatives
                    .iter()
                    .map(|a| a.alternative.slug.len()),
            );
        let width = slugs.max().unwrap_or(0);
        for check in &verification.mistakes {
            print!("{}", mistake_line(check, width));
        }
        for check in &verification.alternatives {
            print!("{}", alternative_line(check, width));
        }
    }

    fn verify_finished(&mut self, summary: &VerifySummary) {
        let VerifySummary {
            failures, total, ..
        } = *summary;
        if failures == 0 {
            println!("{} all {total} exercises verified", mark(true));
        } else {
            println!(
                "{} {failures} of {total} exercises failed verification",
                mark(false)
            );
        }
        println!(
            "planted mistakes: {} of {} caught",
            summary.mistakes_caught, summary.mistakes_total
        );
        println!(
            "alternatives: {} of {} pass",
            summary.alternatives_passed, summary.alternatives_total
        );
    }

    fn listed(&mut self, course: &Course, state: &State) {
        println!("{}", course.title.bold());
        let current = state.current(course).map(|e| e.name.as_str());
        for exercise in &course.exercises {
            let status = if state.is_done(&exercise.name) {
                "done".green().to_string()
            } else {
                "pending".yellow().to_string()
            };
            let (marker, note) = if Some(exercise.name.as_str()) == current {
                ("→", format!("  {}", "(current)".cyan()))
            } else {
                (" ", String::new())
            };
            println!(
                "{marker} {:width$}  {status}{note}",
                exercise.name,
                width = self.width
            );
        }
        let total = course.exercises.len();
        let done = course
            .exercises
            .iter()
            .filter(|e| state.is_done(&e.name))
            .count();
        let percent = (done * 100).checked_div(total).unwrap_or(100);
        println!("Progress: {done}/{total} done ({percent}%)");
    }
}

/// `✓` or `✗`, colored.
fn mark(ok: bool) -> colored::ColoredString {
    match ok {
        true => "✓".green().bold(),
        false => "✗".red().bold(),
    }
}

/// Every line of `text`, indented by `by` spaces.
fn indented(text: &str, by: usize) -> String {
    text.lines()
        .map(|line| format!("{:by$}{line}\n", ""))
        .collect()
}

/// One line on a planted mistake in `verify`:
/// `✓ caught  shrink_file — wrong output`.
fn mistake_line(check: &MistakeCheck<'_>, width: usize) -> String {
    let MistakeCheck {
        mistake,
        verdict,
        selected_hint,
    } = check;
    let slug = &mistake.slug;
    let selected = selected_hint.map_or("none", |hint| hint.id.as_str());
    let (status, what) = match (verdict.passed(), &mistake.caught_by, &mistake.hint) {
        (true, _, _) => ("missed", format!("it passes: {}", mistake.description)),
        (false, Some(expected), _) if !check.as_named() => (
            "caught",
            format!("{}, but Caught-By names {expected}", verdict.label()),
        ),
        (false, _, Some(id)) if !check.hint_as_named() => (
            "caught",
            format!(
                "{}, but Hint names {id} and the verdict selects {selected}",
                verdict.label()
            ),
        ),
        (false, _, Some(id)) => ("caught", format!("{}, hint {id}", verdict.label())),
        (false, _, None) => ("caught", verdict.label().to_owned()),
    };
    format!(
        "    {} {status}  {slug:width$} — {what}\n",
        mark(check.caught())
    )
}

/// One line on an alternative solution in `verify`, with the verdict
/// explained when it fails.
fn alternative_line(check: &AlternativeCheck<'_>, width: usize) -> String {
    let AlternativeCheck {
        alternative,
        verdict: v,
    } = check;
    let slug = &alternative.slug;
    if check.passed() {
        return format!("    {} passes  {slug:width$} (alternative)\n", mark(true));
    }
    format!(
        "    {} fails   {slug:width$} (alternative) — {}\n{}",
        mark(false),
        v.label(),
        indented(&verdict(v), 6)
    )
}

/// The one completion message: every exercise is done.
pub fn all_done() -> String {
    format!(
        "{} every exercise is done: the course is complete. Well done!\n",
        "✓".green().bold()
    )
}

/// `Exercise NAME  (edit exercises/PATH)`
fn heading(exercise: &Exercise) -> String {
    let file = Path::new("exercises").join(&exercise.path);
    format!(
        "{} {}  {}",
        "Exercise".bold(),
        exercise.name.cyan().bold(),
        format!("(edit {})", file.display()).dimmed()
    )
}

/// The exercise's heading and description.
pub fn description(exercise: &Exercise) -> String {
    let mut out = format!("{}\n", heading(exercise));
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

/// Whether the program ran to its end, so that its heap figures describe
/// its own work rather than a panic's unwinding.
pub fn finished_normally(verdict: &Verdict) -> bool {
    matches!(
        verdict,
        Verdict::Pass
            | Verdict::WrongOutput { .. }
            | Verdict::HeapLimit(_)
            | Verdict::ResourceLeak(_)
            | Verdict::LayoutMismatch { .. }
            | Verdict::MemoryError(_)
            | Verdict::GuaranteeLost(_)
    )
}

/// The compiler's warnings, which often point at the bug itself.
fn warnings(rendered: &[String]) -> String {
    if rendered.is_empty() {
        return String::new();
    }
    let n = rendered.len();
    let mut out = format!(
        "{}\n",
        format!(
            "The compiler has {n} warning{} about your code:",
            if n == 1 { "" } else { "s" }
        )
        .yellow()
    );
    for warning in rendered {
        out.push_str(warning.trim_end());
        out.push('\n');
    }
    out
}

/// The last lines the program wrote to stderr, if any.
fn stderr_tail(stderr: &[u8]) -> String {
    const LINES: usize = 10;
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return String::new();
    }
    let mut out = format!("{}\n", "── stderr (last lines) ──".dimmed());
    for line in &lines[lines.len().saturating_sub(LINES)..] {
        out.push_str(&format!("{}\n", escape_controls(line, false)));
    }
    out
}

/// Shows control characters (escape sequences, carriage returns,
/// backspaces, bidirectional overrides) as `\u{..}` instead of letting the
/// terminal interpret them, so that a program cannot repaint the report.
/// Newlines and tabs stay. With `keep_color`, SGR color sequences
/// (`ESC [ ... m`, as in the compiler's colored diagnostics) stay too.
pub fn escape_controls(text: &str, keep_color: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some(len) = sgr_length(rest).filter(|_| keep_color) {
            out.push_str(&rest[..len]);
            rest = &rest[len..];
            continue;
        }
        let dangerous = (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if dangerous {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The length of the SGR sequence `ESC [ digits;... m` at the start of
/// `text`, if there is one.
fn sgr_length(text: &str) -> Option<usize> {
    let body = text.strip_prefix("\u{1b}[")?;
    let params = body
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    (body.as_bytes().get(params) == Some(&b'm')).then_some(2 + params + 1)
}

/// What the program printed, labelled, with anything not UTF-8 shown lossily.
pub fn program_output(outcome: &RunOutcome) -> String {
    let mut out = String::new();
    for (label, bytes) in [("stdout", &outcome.stdout), ("stderr", &outcome.stderr)] {
        if bytes.is_empty() {
            continue;
        }
        out.push_str(&format!("{}\n", format!("── {label} ──").dimmed()));
        let text = escape_controls(&String::from_utf8_lossy(bytes), false);
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
        Verdict::CompileError { diagnostics, .. } => format!(
            "{} your code does not compile yet\n{}\n",
            "✗ compile error:".red().bold(),
            escape_controls(diagnostics.trim_end(), true)
        ),
        Verdict::Lint { diagnostics } => format!(
            "{} your code compiles, but a lint found what is usually a memory bug\n{}\n",
            "✗ lint:".red().bold(),
            diagnostics.trim_end()
        ),
        Verdict::BuildLimit(limit) => {
            format!("{} {}\n", "✗ build limit:".red().bold(), build_limit(limit))
        }
        Verdict::Panic { message, location } => {
            let message = escape_controls(message, false);
            let place = location
                .as_deref()
                .map(|l| format!(" at {}", escape_controls(l, false)))
                .unwrap_or_default();
            let todo = if verdict.is_unfinished() {
                "\n  A todo!() is still waiting for your code there."
            } else {
                ""
            };
            format!(
                "{} the program panicked{place}:\n  {message}{todo}\n",
                "✗ panic:".red().bold()
            )
        }
        Verdict::Crash { cause, .. } => format!(
            "{} {}\n",
            "✗ crashed:".red().bold(),
            escape_controls(cause, false)
        ),
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
            "{} memory limit exceeded: the program needed more than the {limit_mb} MiB cap (an allocation failed, or its processes together used more)\n",
            "✗ memory limit:".red().bold()
        ),
        Verdict::FileLimit { limit_bytes } => format!(
            "{} the program wrote a file larger than {} (max_file_bytes) and was stopped (a write in an endless loop?)\n",
            "✗ file limit:".red().bold(),
            human_bytes(*limit_bytes)
        ),
        Verdict::HeapLimit(violation) => format!(
            "{} the output is right, but {}.\n{}  Usual cause: {}\n",
            "✗ heap limit:".red().bold(),
            violation.describe(),
            violation
                .sizes_line()
                .map(|line| format!("  {line}\n"))
                .unwrap_or_default(),
            violation.usual_cause()
        ),
        Verdict::ResourceLeak(violation) => format!(
            "{} the output is right, but {}.\n  Usual cause: {}\n",
            "✗ resource leak:".red().bold(),
            violation.describe(),
            violation.usual_cause()
        ),
        Verdict::LayoutMismatch { first, count } => format!(
            "{} {}.{}\n  Usual cause: {}\n",
            "✗ layout mismatch:".red().bold(),
            first.describe(),
            match count {
                0 | 1 => String::new(),
                n => format!("\n  That happened {n} times in all; this was the first."),
            },
            first.usual_cause()
        ),
        Verdict::MissingHeapReport(problem) => format!(
            "{} heap accounting is on, but {}.\n",
            "✗ missing heap report:".red().bold(),
            problem.describe()
        ),
        Verdict::MemoryError(finding) => {
            let mut out = format!(
                "{} valgrind memcheck found: {}\n",
                "✗ memory error:".red().bold(),
                escape_controls(&finding.headline, false)
            );
            for frame in &finding.frames {
                out.push_str(&format!("    {}\n", escape_controls(frame, false)));
            }
            for (header, frames) in &finding.details {
                out.push_str(&format!("  {}\n", escape_controls(header, false)));
                for frame in frames {
                    out.push_str(&format!("    {}\n", escape_controls(frame, false)));
                }
            }
            out
        }
        Verdict::GuaranteeLost(lost) => format!(
            "{} the output is right, but {}.\n  Read that program: your types must forbid what it does.\n",
            "✗ guarantee lost:".red().bold(),
            lost.describe()
        ),
        Verdict::Interrupted => format!("{} stopped by Ctrl-C\n", "✗ interrupted:".yellow().bold()),
    }
}

/// Words a build limit.
fn build_limit(limit: &BuildLimit) -> String {
    match limit {
        BuildLimit::Time { limit_ms } => format!(
            "the compiler ran out of time: compiling took longer than {limit_ms} ms and was stopped (a constant evaluated in an endless loop, or a macro that expands without bound?)"
        ),
        BuildLimit::Memory { limit_mb } => format!(
            "the compiler ran out of memory: it needed more than {limit_mb} MiB and was stopped (a huge include_bytes!, or a constant or macro expansion that grows without bound?)"
        ),
    }
}

fn no_hints() -> String {
    format!("{} this exercise has no hints\n", "Hint:".yellow().bold())
}

/// The hint that answers what went wrong.
pub fn targeted_hint(hint: &TargetedHint) -> String {
    format!(
        "{} {}\n",
        "Hint for this mistake:".yellow().bold(),
        hint.text
    )
}

/// The newest revealed hint, and how to see more.
pub fn latest_hint(exercise: &Exercise, shown: usize) -> String {
    let total = exercise.hints.len();
    let Some(hint) = shown.checked_sub(1).and_then(|i| exercise.hints.get(i)) else {
        return no_hints();
    };
    let label = format!("Hint {shown}/{total}:").yellow().bold();
    let more = match (shown > 1, shown < total) {
        (_, true) => format!("`memlings hint {}` reveals the next one", exercise.name),
        (true, false) => format!("`memlings hint {} --all` shows them all", exercise.name),
        (false, false) => return format!("{label} {hint}\n"),
    };
    format!("{label} {hint}\n{}\n", format!("({more})").dimmed())
}

/// The revealed hints, the newest emphasised.
pub fn hints(exercise: &Exercise, shown: usize) -> String {
    let total = exercise.hints.len();
    if total == 0 {
        return no_hints();
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

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn control_characters_are_shown_not_interpreted() {
        let fake = "\u{1b}[2K\r\u{1b}[32m✓ passed\u{1b}[0m";
        let shown = escape_controls(fake, false);
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\r'),
            "{shown}"
        );
        assert!(shown.contains("\\u{1b}[32m✓ passed"), "{shown}");
        assert_eq!(escape_controls("a\tb\nc", false), "a\tb\nc");
        assert_eq!(escape_controls("x\u{202e}y", false), "x\\u{202e}y");
        // Colors in diagnostics stay; anything else is escaped.
        let colored = "\u{1b}[1m\u{1b}[38;5;9merror\u{1b}[0m \u{1b}]0;title\u{7}";
        let kept = escape_controls(colored, true);
        assert!(
            kept.starts_with("\u{1b}[1m\u{1b}[38;5;9merror\u{1b}[0m "),
            "{kept}"
        );
        assert!(kept.ends_with("\\u{1b}]0;title\\u{7}"), "{kept}");
    }
}
