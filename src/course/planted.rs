//! Planted mistakes and alternative solutions: the files under
//! `solutions/mistakes/` and `solutions/alternatives/` that let `verify`
//! test the course itself. Loading reads and checks them all, so a diff that
//! does not apply is a course error before anything is built.
//!
//! ```text
//! solutions/mistakes/<exercise>/<slug>.diff      header, blank line, unified diff
//! solutions/alternatives/<exercise>/<slug>.rs    a whole module, `//!` description
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::{Alternative, CourseError, Exercise, Mistake};

/// Folder of planted mistakes, relative to the course root.
pub const MISTAKES_DIR: &str = "solutions/mistakes";
/// Folder of alternative solutions, relative to the course root.
pub const ALTERNATIVES_DIR: &str = "solutions/alternatives";

/// The verdict labels a `Caught-By:` header may name: the label of every
/// failing verdict (`judge::Verdict::label`).
pub const CAUGHT_BY_LABELS: &[&str] = &[
    "wrong output",
    "compile error",
    "panic",
    "crash",
    "non-zero exit",
    "timeout",
    "output limit",
    "memory limit",
    "heap limit",
    "memory error",
    "guarantee lost",
    "lint",
    "resource leak",
    "layout mismatch",
    "missing heap report",
];

/// What is wrong with one planted-mistake or alternative file.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PlantedError {
    #[error("header line {line:?} is not `Key: value`")]
    MalformedLine { line: String },
    #[error("the header must end with a blank line before the diff")]
    NoBlankLine,
    #[error("unknown header key {key:?}; known keys: Mistake, Caught-By, Hint")]
    UnknownKey { key: String },
    #[error("header key {key:?} appears twice")]
    DuplicateKey { key: String },
    #[error("header key {key:?} has no value")]
    EmptyValue { key: String },
    #[error("the header has no `Mistake:` line describing the mistake")]
    NoDescription,
    #[error("Caught-By: {label:?} is not a verdict label; use one of: {}", CAUGHT_BY_LABELS.join(", "))]
    UnknownVerdict { label: String },
    #[error("Hint: {id:?} names no targeted hint of this exercise; it has: {}", if known.is_empty() { "none".to_owned() } else { known.join(", ") })]
    UnknownHint { id: String, known: Vec<String> },
    #[error("Hint: {id:?} answers {when:?}, but Caught-By names {caught_by:?}")]
    HintDisagrees {
        id: String,
        when: String,
        caught_by: String,
    },
    #[error("is not a unified diff: {reason}")]
    NotADiff { reason: String },
    #[error("the diff has no hunks")]
    NoHunks,
    #[error("does not apply to {}: {reason}", solution.display())]
    DoesNotApply { solution: PathBuf, reason: String },
    #[error("there is no reference solution {} to patch", solution.display())]
    NoSolution { solution: PathBuf },
    #[error("has no `//!` line describing the alternative's style")]
    NoAlternativeDescription,
    #[error("names no exercise of this course; it has: {}", known.join(", "))]
    UnknownExercise { known: Vec<String> },
    #[error("is not a `.{extension}` file with a name of a-z, 0-9, _ and -")]
    UnexpectedEntry { extension: &'static str },
    #[error("resolves (through a symlink) outside the course root")]
    OutsideCourse,
    #[error("cannot be read: {reason}")]
    Unreadable { reason: String },
}

/// The parsed header of a mistake file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// `Mistake:`, the one-line description.
    pub description: String,
    /// `Caught-By:`, the verdict label that must catch it.
    pub caught_by: Option<String>,
    /// `Hint:`, the id of the targeted hint the mistake must select.
    pub hint: Option<String>,
}

/// Splits a mistake file into its header and the diff after the blank line.
pub fn parse_header(text: &str) -> Result<(Header, &str), PlantedError> {
    let (head, diff) = text
        .split_once("\n\n")
        .or_else(|| text.split_once("\r\n\r\n"))
        .ok_or(PlantedError::NoBlankLine)?;
    let mut description = None;
    let mut header = Header::default();
    for line in head.lines() {
        let line = line.trim_end();
        if line.starts_with("---") || line.starts_with("@@") {
            return Err(PlantedError::NoBlankLine);
        }
        let (key, value) = line
            .split_once(':')
            .filter(|(key, _)| !key.is_empty() && !key.contains(char::is_whitespace))
            .ok_or_else(|| PlantedError::MalformedLine { line: line.into() })?;
        let value = value.trim();
        let slot = match key {
            "Mistake" => &mut description,
            "Caught-By" => &mut header.caught_by,
            "Hint" => &mut header.hint,
            _ => return Err(PlantedError::UnknownKey { key: key.into() }),
        };
        if value.is_empty() {
            return Err(PlantedError::EmptyValue { key: key.into() });
        }
        if slot.replace(value.to_owned()).is_some() {
            return Err(PlantedError::DuplicateKey { key: key.into() });
        }
    }
    header.description = description.ok_or(PlantedError::NoDescription)?;
    if let Some(label) = &header.caught_by
        && !CAUGHT_BY_LABELS.contains(&label.as_str())
    {
        return Err(PlantedError::UnknownVerdict {
            label: label.clone(),
        });
    }
    Ok((header, diff))
}

/// Applies a unified diff to the reference solution's text.
pub fn apply(solution_text: &str, diff: &str, solution: &Path) -> Result<String, PlantedError> {
    let patch = diffy::Patch::from_str(diff).map_err(|e| PlantedError::NotADiff {
        reason: e.to_string(),
    })?;
    if patch.hunks().is_empty() {
        return Err(PlantedError::NoHunks);
    }
    diffy::apply(solution_text, &patch).map_err(|e| PlantedError::DoesNotApply {
        solution: solution.to_path_buf(),
        reason: e.to_string(),
    })
}

/// An alternative's description: its first `//!` line.
pub fn alternative_description(text: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.trim_start().strip_prefix("//!"))
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty())
}

/// Reads the planted mistakes and alternatives of every exercise in the
/// course at the canonical `root`, when it has them.
pub fn load(root: &Path, exercises: &mut [Exercise]) -> Result<(), CourseError> {
    let at = |file: &Path| {
        let path = root.join(file);
        move |problem| CourseError::Planted { path, problem }
    };
    for (index, slug, file) in files(root, MISTAKES_DIR, "diff", exercises)? {
        let exercise = &exercises[index];
        let mistake = read(root, &file)
            .and_then(|text| mistake(root, exercise, slug, file.clone(), &text))
            .map_err(at(&file))?;
        exercises[index].mistakes.push(mistake);
    }
    for (index, slug, file) in files(root, ALTERNATIVES_DIR, "rs", exercises)? {
        let description = read(root, &file)
            .and_then(|text| {
                alternative_description(&text).ok_or(PlantedError::NoAlternativeDescription)
            })
            .map_err(at(&file))?;
        exercises[index].alternatives.push(Alternative {
            slug,
            description,
            path: file,
        });
    }
    Ok(())
}

/// One mistake from its file's text.
fn mistake(
    root: &Path,
    exercise: &Exercise,
    slug: String,
    patch_path: PathBuf,
    text: &str,
) -> Result<Mistake, PlantedError> {
    let (header, diff) = parse_header(text)?;
    if let Some(id) = &header.hint {
        check_hint(exercise, id, header.caught_by.as_deref())?;
    }
    let solution = Path::new("solutions").join(&exercise.path);
    let solution_text =
        fs::read_to_string(root.join(&solution)).map_err(|_| PlantedError::NoSolution {
            solution: solution.clone(),
        })?;
    Ok(Mistake {
        slug,
        description: header.description,
        caught_by: header.caught_by,
        hint: header.hint,
        text: apply(&solution_text, diff, &solution)?,
        patch_path,
    })
}

/// Checks that a `Hint:` header names a targeted hint of the exercise,
/// one that answers the verdict `Caught-By:` names, if it names one.
fn check_hint(exercise: &Exercise, id: &str, caught_by: Option<&str>) -> Result<(), PlantedError> {
    let hint = exercise
        .targeted_hints
        .iter()
        .find(|h| h.id == id)
        .ok_or_else(|| PlantedError::UnknownHint {
            id: id.to_owned(),
            known: exercise
                .targeted_hints
                .iter()
                .map(|h| h.id.clone())
                .collect(),
        })?;
    match caught_by {
        Some(label) if label != hint.when => Err(PlantedError::HintDisagrees {
            id: id.to_owned(),
            when: hint.when.clone(),
            caught_by: label.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// The files in `root/folder/<exercise>/`, sorted, as (exercise index, slug,
/// path relative to the root). Anything unexpected there is an error.
fn files(
    root: &Path,
    folder: &str,
    extension: &'static str,
    exercises: &[Exercise],
) -> Result<Vec<(usize, String, PathBuf)>, CourseError> {
    let mut found = Vec::new();
    for dir in entries(root, Path::new(folder))? {
        let fail = |problem| CourseError::Planted {
            path: root.join(&dir),
            problem,
        };
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let index = exercises
            .iter()
            .position(|e| e.name == name && root.join(&dir).is_dir())
            .ok_or_else(|| {
                fail(PlantedError::UnknownExercise {
                    known: exercises.iter().map(|e| e.name.clone()).collect(),
                })
            })?;
        for file in entries(root, &dir)? {
            let slug = slug(&file, extension).ok_or_else(|| CourseError::Planted {
                path: root.join(&file),
                problem: PlantedError::UnexpectedEntry { extension },
            })?;
            found.push((index, slug, file));
        }
    }
    Ok(found)
}

/// The entries of `root/dir`, relative to the root and sorted; none if it
/// does not exist.
fn entries(root: &Path, dir: &Path) -> Result<Vec<PathBuf>, CourseError> {
    let full = root.join(dir);
    if !full.exists() {
        return Ok(Vec::new());
    }
    let unreadable = |e: std::io::Error| CourseError::Planted {
        path: full.clone(),
        problem: PlantedError::Unreadable {
            reason: e.to_string(),
        },
    };
    let mut names = Vec::new();
    for entry in fs::read_dir(&full).map_err(unreadable)? {
        names.push(dir.join(entry.map_err(unreadable)?.file_name()));
    }
    names.sort();
    Ok(names)
}

/// The slug of `<slug>.<extension>`, if the name is well formed.
fn slug(file: &Path, extension: &str) -> Option<String> {
    if file.extension()? != extension {
        return None;
    }
    let stem = file.file_stem()?.to_str()?;
    let ok = !stem.is_empty()
        && stem
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    ok.then(|| stem.to_owned())
}

/// Reads a planted file, refusing symlinks that lead out of the course.
fn read(root: &Path, file: &Path) -> Result<String, PlantedError> {
    let full = root.join(file);
    let unreadable = |e: std::io::Error| PlantedError::Unreadable {
        reason: e.to_string(),
    };
    if !full.canonicalize().map_err(unreadable)?.starts_with(root) {
        return Err(PlantedError::OutsideCourse);
    }
    fs::read_to_string(&full).map_err(unreadable)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "--- a/m.rs\n+++ b/m.rs\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n";

    #[test]
    fn a_full_header() {
        let text = format!("Mistake: shouts two\nCaught-By: wrong output\nHint: whisper\n\n{DIFF}");
        let (header, diff) = parse_header(&text).unwrap();
        assert_eq!(
            header,
            Header {
                description: "shouts two".into(),
                caught_by: Some("wrong output".into()),
                hint: Some("whisper".into()),
            }
        );
        assert_eq!(diff, DIFF);
    }

    #[test]
    fn only_mistake_is_required() {
        let (header, _) = parse_header(&format!("Mistake:  spaces trimmed  \n\n{DIFF}")).unwrap();
        assert_eq!(header.description, "spaces trimmed");
        assert_eq!((header.caught_by, header.hint), (None, None));
    }

    #[test]
    fn header_errors() {
        let err = |text: &str| parse_header(text).unwrap_err();
        assert_eq!(err("Caught-By: panic\n\n"), PlantedError::NoDescription);
        assert_eq!(
            err("Mistake: x\nCaught-by: panic\n\n"),
            PlantedError::UnknownKey {
                key: "Caught-by".into()
            }
        );
        assert_eq!(
            err("Mistake: x\nMistake: y\n\n"),
            PlantedError::DuplicateKey {
                key: "Mistake".into()
            }
        );
        assert_eq!(
            err("Mistake:\n\n"),
            PlantedError::EmptyValue {
                key: "Mistake".into()
            }
        );
        assert_eq!(
            err("Mistake x\n\n"),
            PlantedError::MalformedLine {
                line: "Mistake x".into()
            }
        );
        assert_eq!(
            err(&format!("Mistake: x\n{DIFF}")),
            PlantedError::NoBlankLine
        );
        assert_eq!(err("Mistake: x\n"), PlantedError::NoBlankLine);
        assert!(matches!(
            err("Mistake: x\nCaught-By: wrong-output\n\n"),
            PlantedError::UnknownVerdict { .. }
        ));
    }

    #[test]
    fn diffs_apply_or_say_why_not() {
        let solution = Path::new("solutions/m.rs");
        assert_eq!(
            apply("one\ntwo\nthree\n", DIFF, solution).unwrap(),
            "one\nTWO\nthree\n"
        );
        assert_eq!(
            apply("one\n2\nthree\n", DIFF, solution).unwrap_err(),
            PlantedError::DoesNotApply {
                solution: solution.into(),
                reason: "error applying hunk #1".into()
            }
        );
        assert_eq!(
            apply("one\n", "--- a/m.rs\n+++ b/m.rs\n", solution).unwrap_err(),
            PlantedError::NoHunks
        );
        assert!(matches!(
            apply(
                "one\n",
                "--- a/m.rs\n+++ b/m.rs\n@@ -1,1 +1,1 @@\n",
                solution
            ),
            Err(PlantedError::NotADiff { .. })
        ));
    }

    #[test]
    fn alternative_descriptions_and_slugs() {
        let text = "// licence\n//! Alternative: loops.\n//! More.\nfn f() {}\n";
        assert_eq!(
            alternative_description(text).as_deref(),
            Some("Alternative: loops.")
        );
        assert_eq!(alternative_description("fn f() {}\n//!\n"), None);
        assert_eq!(
            slug(Path::new("x/shrink-file_2.diff"), "diff").as_deref(),
            Some("shrink-file_2")
        );
        assert_eq!(slug(Path::new("x/Shrink.diff"), "diff"), None);
        assert_eq!(slug(Path::new("x/shrink.patch"), "diff"), None);
    }
}
