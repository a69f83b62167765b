//! `memlings init`: create a learner workspace.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use include_dir::{Dir, include_dir};

use crate::course::{self, COURSE_FILE, Course};
use crate::solutions;
use crate::state::State;
use crate::workspace::{self, Workspace};

static EXERCISES: Dir = include_dir!("$CARGO_MANIFEST_DIR/exercises");
static EXPECTED: Dir = include_dir!("$CARGO_MANIFEST_DIR/expected");
static COURSE_TOML: &str = include_str!("../../course.toml");

/// Creates `dir` as a workspace from `source`, or from the built-in course.
/// Everything is assembled in a temporary sibling and renamed into place, so
/// a failure leaves nothing half-made, and nothing existing is overwritten.
pub fn init(dir: &Path, source: Option<&Path>) -> Result<()> {
    refuse_existing(dir)?;
    let source_course = match source {
        Some(src) => Some(Course::load(src)?),
        None => None,
    };
    if let Some(course) = &source_course {
        refuse_inside(dir, &course.root)?;
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".memlings-init-")
        .tempdir_in(parent)
        .with_context(|| {
            format!(
                "cannot create a temporary directory in {}",
                parent.display()
            )
        })?;
    let stage = staging.path();
    match &source_course {
        Some(course) => copy_course(&course.root, stage)?,
        None => extract_builtin(stage)?,
    }
    // Keep pristine templates so `reset` works without the original source.
    copy_tree(
        &stage.join("exercises"),
        &Workspace::new(stage).originals_dir(),
    )?;
    let course = Course::load(stage).context("the new workspace does not validate")?;
    write_readme(&course, stage)?;
    State::default().save(&Workspace::new(stage).state_file())?;
    // The solutions stay out of the workspace: say where they are.
    let solutions = match &source_course {
        Some(source) => solutions::Source::Dir(source.root.join("solutions")),
        None => solutions::Source::Builtin,
    };
    solutions
        .record(&Workspace::new(stage))
        .context("cannot record where the solutions are")?;
    if dir.exists() {
        // Only an empty directory gets here; replace it with the staged one.
        fs::remove_dir(dir).with_context(|| format!("cannot replace {}", dir.display()))?;
    }
    let staged = staging.keep();
    fs::rename(&staged, dir)
        .with_context(|| format!("cannot move the workspace into {}", dir.display()))?;
    print_welcome(&course, dir);
    Ok(())
}

fn refuse_existing(dir: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    if dir.join(COURSE_FILE).exists() || dir.join(workspace::DIR).exists() {
        bail!(InitError(format!(
            "{} already holds a memlings workspace; refusing to overwrite it (use another directory, or `memlings reset NAME` to restore one exercise)",
            dir.display()
        )));
    }
    let mut entries =
        fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    if entries.next().is_some() {
        bail!(InitError(format!(
            "{} exists and is not empty; refusing to write into it",
            dir.display()
        )));
    }
    Ok(())
}

/// Refuses a destination inside the course being copied, which would copy
/// itself into itself without end.
fn refuse_inside(dir: &Path, source_root: &Path) -> Result<()> {
    let dest = absolute_resolved(dir)?;
    if dest.starts_with(source_root) {
        bail!(InitError(format!(
            "{} is inside the course being copied ({}); choose a destination outside it",
            dir.display(),
            source_root.display()
        )));
    }
    Ok(())
}

/// `path` made absolute with its existing part's symbolic links resolved
/// (the rest of it does not exist yet).
fn absolute_resolved(path: &Path) -> Result<std::path::PathBuf> {
    let absolute =
        std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))?;
    let existing = absolute
        .ancestors()
        .find(|a| a.exists())
        .unwrap_or(Path::new("/"));
    let rest = absolute.strip_prefix(existing).unwrap_or(Path::new(""));
    let resolved = existing
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", existing.display()))?;
    Ok(resolved.join(rest))
}

/// `init` was asked to overwrite something: a usage error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InitError(String);

/// Writes the built-in course into `stage`; its definition goes under
/// `.memlings/`, out of the learner's sight.
fn extract_builtin(stage: &Path) -> Result<()> {
    write_definition(stage, COURSE_TOML)?;
    for (name, dir) in [("exercises", &EXERCISES), ("expected", &EXPECTED)] {
        let target = stage.join(name);
        fs::create_dir_all(&target)?;
        dir.extract(&target)
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    Ok(())
}

/// Copies what a learner needs, and never the solutions; the definition
/// goes under `.memlings/`, out of the learner's sight.
fn copy_course(root: &Path, stage: &Path) -> Result<()> {
    let source = course::definition_file(root);
    let text =
        fs::read_to_string(&source).with_context(|| format!("cannot read {}", source.display()))?;
    write_definition(stage, &text)?;
    copy_tree(&root.join("exercises"), &stage.join("exercises"))?;
    copy_tree(&root.join("expected"), &stage.join("expected"))
}

/// Writes the course definition `text` where a workspace keeps it.
fn write_definition(stage: &Path, text: &str) -> Result<()> {
    let file = Workspace::new(stage).course_file();
    if let Some(dir) = file.parent() {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    fs::write(&file, text).with_context(|| format!("cannot write {}", file.display()))
}

/// Writes the workspace's `README.md`: what the learner reads instead of
/// the course definition, with each exercise's file and description and
/// no hint.
fn write_readme(course: &Course, stage: &Path) -> Result<()> {
    let file = stage.join("README.md");
    fs::write(&file, readme(course)).with_context(|| format!("cannot write {}", file.display()))
}

/// The text of the workspace's `README.md`.
fn readme(course: &Course) -> String {
    let mut text = format!("# {}\n\n", course.title);
    if let Some(welcome) = &course.welcome {
        text.push_str(&format!("{}\n\n", welcome.trim_end()));
    }
    text.push_str(
        "Complete each exercise's file in `exercises/`. `memlings check` judges the current \
         exercise, `memlings watch` checks it again on every save, `memlings hint` reveals a \
         hint, `memlings list` shows your progress, and `memlings next` moves on.\n\n\
         ## Exercises\n",
    );
    for (number, exercise) in course.exercises.iter().enumerate() {
        text.push_str(&format!(
            "\n{}. **{}**: `exercises/{}`\n",
            number + 1,
            exercise.name,
            exercise.path.display()
        ));
        if let Some(description) = &exercise.description {
            text.push('\n');
            for line in description.trim_end().lines() {
                text.push_str(&format!("   {line}\n").replace("   \n", "\n"));
            }
        }
    }
    text
}

/// Recursively copies regular files and directories; symlinks are skipped
/// so a workspace never points back into the source.
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            fs::copy(entry.path(), &target)
                .with_context(|| format!("cannot copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}

fn print_welcome(course: &Course, dir: &Path) {
    println!("Created a memlings workspace in {}", dir.display());
    println!(
        "Course: {} ({} exercises)",
        course.title,
        course.exercises.len()
    );
    if let Some(welcome) = &course.welcome {
        println!("\n{}", welcome.trim_end());
    }
    println!(
        "\nNext:\n  cd {}\n  memlings list\n  memlings check",
        dir.display()
    );
}
