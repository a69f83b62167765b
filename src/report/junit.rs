//! JUnit XML for CI test reporters: one `<testsuite>` per submission, one
//! `<testcase>` per exercise, the verdict as a failure's message and its
//! explanation as the failure's text, the heap figures in `<system-out>`.

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::human;
use crate::grade::{ExerciseGrade, ExerciseResult, Scorecard};

/// The report of a graded class, as XML.
pub fn report(cards: &[Scorecard], isolated: bool) -> Result<String, quick_junit::SerializeError> {
    let mut report = Report::new("memlings grade");
    for card in cards {
        let mut suite = TestSuite::new(card.submission.as_str());
        suite.add_property(Property::new("isolated", isolated.to_string()));
        suite.add_property(Property::new("score", format!("{:.1}", card.score())));
        suite.add_test_cases(card.grades.iter().map(|g| test_case(&card.submission, g)));
        report.add_test_suite(suite);
    }
    report.to_string()
}

fn test_case(submission: &str, grade: &ExerciseGrade) -> TestCase {
    let status = match grade.passed() {
        true => TestCaseStatus::success(),
        false => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(grade.label())
                .set_type(grade.label())
                .set_description(plain(&explanation(grade)));
            status
        }
    };
    let mut case = TestCase::new(grade.exercise.as_str(), status);
    case.set_classname(submission);
    if let ExerciseResult::Judged(attempt) = &grade.result {
        if let Some(outcome) = &attempt.outcome {
            case.set_time(outcome.elapsed);
        }
        if let Some(heap) = &attempt.heap {
            case.set_system_out(format!("{heap}\n"));
        }
    }
    case
}

/// What went wrong, in words.
fn explanation(grade: &ExerciseGrade) -> String {
    match &grade.result {
        ExerciseResult::Judged(attempt) => human::verdict(&attempt.verdict),
        ExerciseResult::Unavailable(why) => why.to_string(),
    }
}

/// `text` without ANSI escape sequences, which have no place in XML.
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        // CSI: ESC '[' parameters, then one final byte in '@'..='~'.
        if chars.next() == Some('[') {
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn strips_colors_only() {
        assert_eq!(plain("\u{1b}[1;31m✗\u{1b}[0m wrong [x]"), "✗ wrong [x]");
    }
}
