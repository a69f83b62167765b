//! `memlings grade --course SRC SUBMISSION...`: grade a class against the
//! course source, then show the table, JSON lines and a JUnit file.

use std::num::NonZeroUsize;
use std::path::Path;

use anyhow::{Context, Result};

use super::Outcome;
use crate::cli::GradeArgs;
use crate::course::Course;
use crate::grade::{self, Grading, Request};
use crate::report::{Format, grade as words, junit};
use crate::workspace::{self, Workspace};

/// Grades every submission against the course in `dir`. Exits 0 whatever
/// the scores, unless `--fail-under` finds one below its mark.
pub fn grade(dir: &Path, args: GradeArgs) -> Result<Outcome> {
    let course = Course::load(dir)?;
    let source = Workspace::new(&course.root);
    let _lock = source.lock()?;
    let request = Request {
        submissions: args.submissions,
        jobs: args.jobs.map_or_else(default_jobs, NonZeroUsize::get),
        allow_no_isolation: args.allow_no_isolation,
    };
    let grading = grade::grade(&course, &source.grade_dir(), &request)?;
    if let Some(file) = &args.junit {
        let xml = junit::report(&grading.cards, grading.isolated)
            .context("cannot write the JUnit report")?;
        workspace::write_atomic(file, xml.as_bytes())
            .with_context(|| format!("cannot write {}", file.display()))?;
    }
    let below = grading.below(args.fail_under);
    match args.output.format {
        Format::Human => print_human(&grading, args.fail_under, below),
        Format::Json => {
            grading.cards.iter().for_each(words::emit_card);
            words::emit_summary(&grading, args.fail_under);
        }
    }
    Ok(match below {
        0 => Outcome::Success,
        _ => Outcome::Failed,
    })
}

/// The table, why files were missing, and the closing lines.
fn print_human(grading: &Grading, fail_under: Option<f64>, below: usize) {
    print!("{}", words::table("submission", &grading.cards));
    let notes = words::unavailable_notes(&grading.cards);
    if !notes.is_empty() {
        print!("\n{notes}");
    }
    print!("\n{}", words::summary_line(grading));
    if let (Some(pct), 1..) = (fail_under, below) {
        println!("{below} below the passing mark of {pct}%");
    }
}

/// One job per core.
fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}
