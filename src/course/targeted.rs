//! Targeted hints: hints a course attaches to what went wrong rather than
//! to the order of attempts. Each names a verdict label (`when`) and may
//! narrow it with one or more conditions:
//!
//! ```toml
//! [[exercises.targeted_hints]]
//! id = "shrink"             # unique in the exercise; a mistake's `Hint: shrink` names it
//! when = "wrong output"     # a verdict label
//! line = 12                 # wrong output: the first expected line that differs
//! text = "..."
//! ```
//!
//! Loading validates them; choosing the one that answers a verdict is
//! `crate::hints`.

use serde::Deserialize;
use thiserror::Error;

use super::load::is_error_code;
use super::planted::CAUGHT_BY_LABELS;
use crate::heap::{HeapLimitKind, Resource};

/// Verdict labels a `line` condition refines.
const LINE_FOR: &[&str] = &["wrong output"];
/// Verdict labels a `code` condition refines.
const CODE_FOR: &[&str] = &["compile error", "guarantee lost"];
/// Verdict labels a `message` condition refines.
const MESSAGE_FOR: &[&str] = &["panic", "crash", "memory error", "lint", "layout mismatch"];
/// Verdict labels a `limit` condition refines.
const LIMIT_FOR: &[&str] = &["heap limit"];
/// Verdict labels a `resource` condition refines.
const RESOURCE_FOR: &[&str] = &["resource leak"];

/// One `[[exercises.targeted_hints]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTargetedHint {
    id: String,
    when: String,
    line: Option<usize>,
    code: Option<String>,
    message: Option<String>,
    limit: Option<String>,
    resource: Option<String>,
    text: String,
}

/// A hint that answers one kind of mistake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetedHint {
    /// Unique in its exercise, `[a-z0-9_-]+`; named by a planted mistake's
    /// `Hint:` header.
    pub id: String,
    /// The verdict label it answers, such as `wrong output`.
    pub when: String,
    /// Further conditions the verdict must meet, all of them.
    pub conditions: Vec<Condition>,
    /// What the learner reads.
    pub text: String,
}

impl TargetedHint {
    /// How specific the hint is: the more conditions, the more specific.
    pub fn specificity(&self) -> usize {
        self.conditions.len()
    }
}

/// One condition narrowing a targeted hint's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Wrong output whose first differing line is this expected line (from 1).
    Line(usize),
    /// A compile error with this rustc error code among its errors, or a
    /// lost guarantee whose probe must fail with it.
    Code(String),
    /// A panic message, crash cause, memcheck error, lint or layout
    /// mismatch whose text contains this.
    Message(String),
    /// This heap limit was exceeded.
    Limit(HeapLimitKind),
    /// This resource leaked.
    Resource(Resource),
}

/// What is wrong with one targeted hint.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TargetedHintError {
    #[error("id is malformed: use only a-z, 0-9, _ and -")]
    MalformedId,
    #[error("id is used twice in this exercise")]
    DuplicateId,
    #[error("when = {when:?} is not a verdict label; use one of: {}", CAUGHT_BY_LABELS.join(", "))]
    UnknownVerdict { when: String },
    #[error("`{field}` does not apply to when = {when:?}; it refines only: {}", allowed.join(", "))]
    FieldNotFor {
        field: &'static str,
        when: String,
        allowed: &'static [&'static str],
    },
    #[error("line must be 1 or more (the first line is 1)")]
    ZeroLine,
    #[error("code = {code:?} is not a rustc error code such as \"E0502\"")]
    MalformedCode { code: String },
    #[error("`{0}` must not be empty")]
    Empty(&'static str),
    #[error("limit = {limit:?} is not a heap limit; use one of: {}", keys(&HeapLimitKind::ALL.map(HeapLimitKind::key)))]
    UnknownLimit { limit: String },
    #[error("resource = {resource:?} is not a resource; use one of: {}", keys(&Resource::ALL.map(Resource::key)))]
    UnknownResource { resource: String },
}

fn keys(keys: &[&str]) -> String {
    keys.join(", ")
}

/// Validates an exercise's targeted hints; on error, the offending hint's
/// id as written and the problem.
pub fn validate(
    raws: Vec<RawTargetedHint>,
) -> Result<Vec<TargetedHint>, (String, TargetedHintError)> {
    let mut hints: Vec<TargetedHint> = Vec::with_capacity(raws.len());
    for raw in raws {
        let id = raw.id.clone();
        let hint = one(raw).map_err(|problem| (id.clone(), problem))?;
        if hints.iter().any(|h| h.id == hint.id) {
            return Err((id, TargetedHintError::DuplicateId));
        }
        hints.push(hint);
    }
    Ok(hints)
}

/// Validates one targeted hint.
fn one(raw: RawTargetedHint) -> Result<TargetedHint, TargetedHintError> {
    let valid_id = !raw.id.is_empty()
        && raw
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !valid_id {
        return Err(TargetedHintError::MalformedId);
    }
    if !CAUGHT_BY_LABELS.contains(&raw.when.as_str()) {
        return Err(TargetedHintError::UnknownVerdict { when: raw.when });
    }
    if raw.text.trim().is_empty() {
        return Err(TargetedHintError::Empty("text"));
    }
    let applies = |field: &'static str, allowed: &'static [&'static str]| {
        if allowed.contains(&raw.when.as_str()) {
            Ok(())
        } else {
            Err(TargetedHintError::FieldNotFor {
                field,
                when: raw.when.clone(),
                allowed,
            })
        }
    };
    let mut conditions = Vec::new();
    if let Some(line) = raw.line {
        applies("line", LINE_FOR)?;
        if line == 0 {
            return Err(TargetedHintError::ZeroLine);
        }
        conditions.push(Condition::Line(line));
    }
    if let Some(code) = &raw.code {
        applies("code", CODE_FOR)?;
        if !is_error_code(code) {
            return Err(TargetedHintError::MalformedCode { code: code.clone() });
        }
        conditions.push(Condition::Code(code.clone()));
    }
    if let Some(message) = &raw.message {
        applies("message", MESSAGE_FOR)?;
        if message.is_empty() {
            return Err(TargetedHintError::Empty("message"));
        }
        conditions.push(Condition::Message(message.clone()));
    }
    if let Some(limit) = &raw.limit {
        applies("limit", LIMIT_FOR)?;
        let kind = HeapLimitKind::ALL
            .into_iter()
            .find(|k| k.key() == limit)
            .ok_or_else(|| TargetedHintError::UnknownLimit {
                limit: limit.clone(),
            })?;
        conditions.push(Condition::Limit(kind));
    }
    if let Some(resource) = &raw.resource {
        applies("resource", RESOURCE_FOR)?;
        let resource = Resource::ALL
            .into_iter()
            .find(|r| r.key() == resource)
            .ok_or_else(|| TargetedHintError::UnknownResource {
                resource: resource.clone(),
            })?;
        conditions.push(Condition::Resource(resource));
    }
    Ok(TargetedHint {
        id: raw.id,
        when: raw.when,
        conditions,
        text: raw.text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(when: &str) -> RawTargetedHint {
        RawTargetedHint {
            id: "h".into(),
            when: when.into(),
            line: None,
            code: None,
            message: None,
            limit: None,
            resource: None,
            text: "t".into(),
        }
    }

    fn error(raw: RawTargetedHint) -> TargetedHintError {
        validate(vec![raw]).unwrap_err().1
    }

    #[test]
    fn conditions_in_order() {
        let hint = one(RawTargetedHint {
            limit: Some("allocated".into()),
            ..raw("heap limit")
        })
        .unwrap();
        assert_eq!(
            hint.conditions,
            [Condition::Limit(HeapLimitKind::Allocated)]
        );
        assert_eq!(hint.specificity(), 1);
        assert_eq!(one(raw("panic")).unwrap().specificity(), 0);
    }

    #[test]
    fn malformed_hints_are_named() {
        assert_eq!(
            error(RawTargetedHint {
                id: "Big".into(),
                ..raw("panic")
            }),
            TargetedHintError::MalformedId
        );
        assert!(matches!(
            error(raw("wrong-output")),
            TargetedHintError::UnknownVerdict { .. }
        ));
        assert!(matches!(
            error(RawTargetedHint {
                line: Some(3),
                ..raw("panic")
            }),
            TargetedHintError::FieldNotFor { field: "line", .. }
        ));
        assert_eq!(
            error(RawTargetedHint {
                line: Some(0),
                ..raw("wrong output")
            }),
            TargetedHintError::ZeroLine
        );
        assert!(matches!(
            error(RawTargetedHint {
                code: Some("0502".into()),
                ..raw("compile error")
            }),
            TargetedHintError::MalformedCode { .. }
        ));
        assert!(matches!(
            error(RawTargetedHint {
                resource: Some("files".into()),
                ..raw("resource leak")
            }),
            TargetedHintError::UnknownResource { .. }
        ));
        assert_eq!(
            error(RawTargetedHint {
                text: " ".into(),
                ..raw("panic")
            }),
            TargetedHintError::Empty("text")
        );
        assert_eq!(
            validate(vec![raw("panic"), raw("crash")]).unwrap_err(),
            ("h".into(), TargetedHintError::DuplicateId)
        );
    }
}
