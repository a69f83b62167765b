//! Choosing the targeted hint that answers a verdict: of the exercise's
//! targeted hints whose verdict and conditions all match, the most
//! specific (the most conditions), and of equals the first in the course.

use std::borrow::Cow;

use crate::course::{Condition, TargetedHint};
use crate::judge::{self, Verdict};

/// The targeted hint among `hints` that best answers `verdict`, if any.
pub fn select<'a>(hints: &'a [TargetedHint], verdict: &Verdict) -> Option<&'a TargetedHint> {
    hints.iter().filter(|hint| matches(hint, verdict)).fold(
        None,
        |best: Option<&TargetedHint>, hint| match best {
            Some(best) if best.specificity() >= hint.specificity() => Some(best),
            _ => Some(hint),
        },
    )
}

/// Whether `hint` answers `verdict`: the same label, every condition met.
fn matches(hint: &TargetedHint, verdict: &Verdict) -> bool {
    hint.when == verdict.label() && hint.conditions.iter().all(|c| holds(c, verdict))
}

/// Whether one condition holds of `verdict`.
fn holds(condition: &Condition, verdict: &Verdict) -> bool {
    match (condition, verdict) {
        (Condition::Line(line), Verdict::WrongOutput { expected, actual }) => {
            first_differing_line(expected, actual) == Some(*line)
        }
        (Condition::Code(code), Verdict::CompileError { codes, .. }) => codes.contains(code),
        (Condition::Code(code), Verdict::GuaranteeLost(lost)) => lost.expected_code == *code,
        (Condition::Message(text), verdict) => {
            message(verdict).is_some_and(|m| m.contains(text.as_str()))
        }
        (Condition::Limit(kind), Verdict::HeapLimit(violation)) => violation.kind == *kind,
        (Condition::Resource(resource), Verdict::ResourceLeak(violation)) => {
            violation.resource == *resource
        }
        _ => false,
    }
}

/// The text a `message` condition searches in a verdict.
fn message(verdict: &Verdict) -> Option<Cow<'_, str>> {
    match verdict {
        Verdict::Panic { message, .. } => Some(Cow::Borrowed(message)),
        Verdict::Crash { cause, .. } => Some(Cow::Borrowed(cause)),
        Verdict::MemoryError(finding) => Some(Cow::Borrowed(&finding.headline)),
        Verdict::Lint { diagnostics } => Some(Cow::Borrowed(diagnostics)),
        Verdict::LayoutMismatch { first, .. } => Some(Cow::Owned(first.describe())),
        _ => None,
    }
}

/// The first line (from 1) of the expected output that the actual output
/// does not match after normalising both, or `None` if they match. Extra
/// output after the expected end counts as a difference on the line after it.
pub fn first_differing_line(expected: &str, actual: &str) -> Option<usize> {
    let (expected, actual) = (judge::normalize(expected), judge::normalize(actual));
    let (mut expected, mut actual) = (expected.lines(), actual.lines());
    let mut line = 1;
    loop {
        match (expected.next(), actual.next()) {
            (None, None) => return None,
            (e, a) if e != a => return Some(line),
            _ => line += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::{HeapLimitKind, HeapViolation};

    fn hint(id: &str, when: &str, conditions: Vec<Condition>) -> TargetedHint {
        TargetedHint {
            id: id.into(),
            when: when.into(),
            conditions,
            text: format!("text of {id}"),
        }
    }

    fn wrong(expected: &str, actual: &str) -> Verdict {
        Verdict::WrongOutput {
            expected: expected.into(),
            actual: actual.into(),
        }
    }

    #[test]
    fn differing_lines() {
        assert_eq!(first_differing_line("a\nb\n", "a\nb"), None);
        assert_eq!(first_differing_line("a\nb\nc\n", "a\nB\nc\n"), Some(2));
        assert_eq!(first_differing_line("a\nb\n", "a\n"), Some(2));
        assert_eq!(first_differing_line("a\n", "a\nextra\n"), Some(2));
        assert_eq!(first_differing_line("a  \r\n", "a\n"), None);
    }

    #[test]
    fn the_most_specific_match_wins_then_the_first() {
        let hints = [
            hint("any", "wrong output", vec![]),
            hint("two", "wrong output", vec![Condition::Line(2)]),
            hint("two-again", "wrong output", vec![Condition::Line(2)]),
            hint("panic", "panic", vec![]),
        ];
        let id = |v: &Verdict| select(&hints, v).map(|h| h.id.as_str());
        assert_eq!(id(&wrong("a\nb\n", "a\nc\n")), Some("two"));
        assert_eq!(id(&wrong("a\nb\n", "x\nb\n")), Some("any"));
        let crash = Verdict::Crash {
            signal: 11,
            cause: String::new(),
        };
        assert_eq!(id(&crash), None);
    }

    #[test]
    fn conditions_read_their_verdicts() {
        let hints = [
            hint(
                "e0502",
                "compile error",
                vec![Condition::Code("E0502".into())],
            ),
            hint(
                "overflow",
                "panic",
                vec![Condition::Message("overflow".into())],
            ),
            hint(
                "peak",
                "heap limit",
                vec![Condition::Limit(HeapLimitKind::Peak)],
            ),
        ];
        let id = |v: &Verdict| select(&hints, v).map(|h| h.id.as_str());
        let compile = |codes: &[&str]| Verdict::CompileError {
            diagnostics: String::new(),
            codes: codes.iter().map(|c| c.to_string()).collect(),
        };
        assert_eq!(id(&compile(&["E0308", "E0502"])), Some("e0502"));
        assert_eq!(id(&compile(&["E0308"])), None);
        let panic = |message: &str| Verdict::Panic {
            message: message.into(),
            location: None,
        };
        assert_eq!(id(&panic("attempt to add with overflow")), Some("overflow"));
        assert_eq!(id(&panic("index out of bounds")), None);
        let heap = |kind| {
            Verdict::HeapLimit(HeapViolation {
                kind,
                actual: 2,
                limit: 1,
                sizes: Vec::new(),
            })
        };
        assert_eq!(id(&heap(HeapLimitKind::Peak)), Some("peak"));
        assert_eq!(id(&heap(HeapLimitKind::Leaked)), None);
    }
}
