//! Rendering a line diff of expected against actual output, with invisible
//! differences (trailing spaces, tabs, carriage returns, a missing final
//! newline) made visible. Pure: returns text, never prints.

use std::time::Duration;

use colored::Colorize;
use similar::{ChangeTag, TextDiff};

use crate::judge::normalize;

/// How many unchanged lines to show around each change.
const CONTEXT: usize = 3;
/// A diff longer than this is cut: the first screenfuls say enough.
const MAX_LINES: usize = 200;
/// Lines longer than this are shown cut.
const MAX_LINE_CHARS: usize = 400;
/// Past this, similar falls back to a coarser (still correct) diff, so a
/// huge output cannot stall the report.
const DIFF_DEADLINE: Duration = Duration::from_secs(1);

/// Renders a unified-style diff: `-` lines are expected, `+` lines actual.
/// The comparison runs on normalised text (the same rule as the judge);
/// actual lines that normalising changed are shown raw, so that what was
/// normalised stays visible.
pub fn render(expected: &str, actual: &str) -> String {
    let (exp_norm, act_norm) = (clip(&normalize(expected)), clip(&normalize(actual)));
    let raw_actual = clip(actual);
    let raw_actual: Vec<&str> = raw_actual.split('\n').collect();
    let last_actual = act_norm.lines().count().checked_sub(1);
    let no_final_newline = !actual.is_empty() && !actual.ends_with('\n');
    let diff = TextDiff::configure()
        .timeout(DIFF_DEADLINE)
        .diff_lines(&exp_norm, &act_norm);
    let mut lines = Vec::new();
    for (i, group) in diff.grouped_ops(CONTEXT).iter().enumerate() {
        if i > 0 {
            lines.push(format!("{}", "  ...".dimmed()));
        }
        for op in group {
            for change in diff.iter_inline_changes(op) {
                let shown: String = change
                    .iter_strings_lossy()
                    .map(|(emph, s)| emphasize(&visible(&s), emph))
                    .collect();
                let shown = match change.new_index() {
                    Some(n) if change.tag() != ChangeTag::Delete => {
                        let raw = raw_actual.get(n).copied().unwrap_or_default();
                        let at_end = Some(n) == last_actual && no_final_newline;
                        if raw.ends_with([' ', '\t', '\r']) || at_end {
                            visible_raw(raw, at_end)
                        } else {
                            shown
                        }
                    }
                    _ => shown,
                };
                let line = shown.trim_end_matches('\n');
                lines.push(match change.tag() {
                    ChangeTag::Delete => format!("{} {}", "-".red().bold(), line.red()),
                    ChangeTag::Insert => format!("{} {}", "+".green().bold(), line.green()),
                    ChangeTag::Equal => format!("  {}", line.dimmed()),
                });
            }
        }
    }
    let hidden = lines.len().saturating_sub(MAX_LINES);
    lines.truncate(MAX_LINES);
    if hidden > 0 {
        lines.push(format!(
            "{}",
            format!("  ... diff cut here, {hidden} more lines").dimmed()
        ));
    }
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// How far a program that stopped early (a panic, a crash, a timeout) got:
/// its output against the start of the expected output.
pub fn render_progress(expected: &str, actual: &str) -> String {
    let (exp_norm, act_norm) = (clip(&normalize(expected)), clip(&normalize(actual)));
    let expected: Vec<&str> = exp_norm.lines().collect();
    let actual: Vec<&str> = act_norm.lines().collect();
    if actual.is_empty() {
        return format!(
            "{}\n",
            "It printed nothing on stdout before it stopped.".dimmed()
        );
    }
    let shared = actual.len().min(expected.len());
    if expected[..shared] == actual[..shared] {
        let extra = actual.len() - shared;
        let mut out = format!(
            "{}\n",
            format!("Its first {shared} lines of output were right; the last ones:").dimmed()
        );
        for line in &actual[shared.saturating_sub(3)..shared] {
            out.push_str(&format!("  {}\n", visible(line).dimmed()));
        }
        if extra > 0 {
            out.push_str(&format!(
                "{}\n",
                format!("  ... and {extra} lines more than expected").dimmed()
            ));
        }
        return out;
    }
    let cut = |lines: &[&str]| {
        lines[..shared]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    };
    format!(
        "{}\n{}\n{}",
        "Its output so far, against the start of the expected output:".dimmed(),
        legend(),
        render(&cut(&expected), &cut(&actual))
    )
}

/// Shortens every line past `MAX_LINE_CHARS`, saying how much was cut, so
/// that a program printing one endless line cannot flood the report.
fn clip(text: &str) -> String {
    let clip_line = |line: &str| match line.char_indices().nth(MAX_LINE_CHARS) {
        Some((at, _)) => {
            let rest = line[at..].chars().count();
            format!("{}… ({rest} more characters)", &line[..at])
        }
        None => line.to_owned(),
    };
    text.split('\n')
        .map(clip_line)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Explains the symbols used by [`render`].
pub fn legend() -> String {
    format!(
        "{} expected  {} actual   (· trailing space, → tab, ␍ carriage return, ⏎̸ no final newline)",
        "-".red().bold(),
        "+".green().bold()
    )
}

fn emphasize(text: &str, emph: bool) -> String {
    if emph {
        text.underline().bold().to_string()
    } else {
        text.to_owned()
    }
}

/// A raw output line with its trailing whitespace and `\r` shown.
fn visible_raw(raw: &str, no_final_newline: bool) -> String {
    let (body, cr) = match raw.strip_suffix('\r') {
        Some(body) => (body, true),
        None => (raw, false),
    };
    let trimmed = body.trim_end_matches([' ', '\t']);
    let mut out = visible(trimmed);
    for c in body[trimmed.len()..].chars() {
        out.push(if c == '\t' { '→' } else { '·' });
    }
    if cr {
        out.push('␍');
    }
    if no_final_newline {
        out.push_str("⏎̸");
    }
    out
}

/// Shows characters that would otherwise be invisible or ambiguous.
fn visible(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' => "→".to_owned(),
            '\r' => "␍".to_owned(),
            '\u{a0}' => "⍽".to_owned(),
            '\n' => "\n".to_owned(),
            c if c.is_control() || is_zero_width(c) => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}

fn is_zero_width(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}')
}

/// A unified diff of two files, `-` lines from `old` and `+` lines from
/// `new`, colored, with `@@` hunk headers and three lines of context.
/// Empty when they are the same.
pub fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    if old == new {
        return String::new();
    }
    let diff = TextDiff::configure()
        .timeout(DIFF_DEADLINE)
        .diff_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(CONTEXT)
        .header(old_name, new_name)
        .to_string();
    let mut out = String::new();
    for line in text.lines() {
        let line = match line.as_bytes().first() {
            _ if line.starts_with("---") || line.starts_with("+++") => line.bold(),
            Some(b'@') => line.cyan(),
            Some(b'-') => line.red(),
            Some(b'+') => line.green(),
            _ => line.normal(),
        };
        out.push_str(&format!("{line}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(expected: &str, actual: &str) -> String {
        colored::control::set_override(false);
        render(expected, actual)
    }

    #[test]
    fn shows_changed_lines_with_context() {
        let out = plain("a\nb\nc\n", "a\nB\nc\n");
        assert_eq!(out, "  a\n- b\n+ B\n  c\n");
    }

    #[test]
    fn missing_and_extra_lines() {
        assert_eq!(plain("a\nb\n", "a\n"), "  a\n- b\n");
        assert_eq!(plain("a\n", "a\nextra\n"), "  a\n+ extra\n");
    }

    #[test]
    fn invisible_characters_are_shown() {
        let out = plain("x\ty\n", "x y  \r\nlast");
        assert!(out.contains("- x→y"), "{out}");
        assert!(out.contains("+ x y··␍"), "{out}");
        assert!(out.contains("+ last⏎̸"), "{out}");
    }

    #[test]
    fn progress_of_a_program_that_stopped_early() {
        colored::control::set_override(false);
        assert!(render_progress("a\nb\n", "").contains("printed nothing"));
        let right = render_progress("a\nb\nc\nd\n", "a\nb\n");
        assert!(
            right.contains("first 2 lines of output were right"),
            "{right}"
        );
        assert!(right.ends_with("  a\n  b\n"), "{right}");
        let wrong = render_progress("a\nb\nc\n", "a\nX\n");
        assert!(wrong.contains("- b\n+ X\n"), "{wrong}");
        assert!(!wrong.contains("- c"), "only the part it reached: {wrong}");
        let flood = render_progress("a\n", "a\na\na\n");
        assert!(flood.contains("and 2 lines more than expected"), "{flood}");
    }

    #[test]
    fn endless_lines_are_cut() {
        let long = "x".repeat(1_000_000);
        let out = plain("short\n", &long);
        assert!(out.len() < 1000, "{} bytes", out.len());
        assert!(out.contains("(999600 more characters)"), "{out}");
        assert!(render_progress("x\n", &long).len() < 1000);
    }

    #[test]
    fn long_diffs_are_cut() {
        let expected: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        let out = plain(&expected, "");
        assert_eq!(out.lines().count(), MAX_LINES + 1);
        assert!(out.ends_with("diff cut here, 800 more lines\n"), "{out}");
    }

    #[test]
    fn escapes_control_and_zero_width() {
        assert_eq!(visible("a\u{7}b\u{200b}"), "a\\u{7}b\\u{200b}");
    }
}
