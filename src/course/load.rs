//! Parsing and validating `course.toml`.

use std::collections::HashSet;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::heap::HeapLimits;
use crate::workspace::Workspace;

use super::{
    Course, CourseError, DEFAULT_BUILD_MEMORY_LIMIT_MB, DEFAULT_BUILD_TIMEOUT_MS,
    DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MEMORY_LIMIT_MB, DEFAULT_TIMEOUT_MS,
    Exercise, FORMAT_VERSION, Limits, Probe, planted,
    targeted::{self, RawTargetedHint},
};

/// The file name of a course definition inside a course source's root.
pub const COURSE_FILE: &str = "course.toml";

/// The course definition of the course at `root`: `course.toml` in a
/// course source (and in a workspace made before the definition moved),
/// else the workspace's own copy, `.memlings/course.toml`, which keeps the
/// hints out of the files a learner browses.
pub fn definition_file(root: &Path) -> PathBuf {
    let source = root.join(COURSE_FILE);
    let workspace = Workspace::new(root).course_file();
    if !source.exists() && workspace.exists() {
        workspace
    } else {
        source
    }
}

/// Whether `dir` holds a course: a course source or a workspace.
pub fn is_course_root(dir: &Path) -> bool {
    dir.join(COURSE_FILE).is_file() || Workspace::new(dir).course_file().is_file()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCourse {
    #[allow(dead_code)] // checked before deserialising, kept so the key is known
    format_version: i64,
    title: String,
    welcome: Option<String>,
    #[serde(default)]
    dependencies: toml::Table,
    #[serde(default)]
    exercises: Vec<RawExercise>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExercise {
    name: String,
    path: String,
    driver: Option<String>,
    expected: Option<String>,
    #[serde(default)]
    hints: Vec<String>,
    description: Option<String>,
    timeout_ms: Option<u64>,
    max_output_bytes: Option<u64>,
    memory_limit_mb: Option<u64>,
    max_file_bytes: Option<u64>,
    build_timeout_ms: Option<u64>,
    build_memory_limit_mb: Option<u64>,
    heap_accounting: Option<bool>,
    max_leaked_bytes: Option<u64>,
    max_allocations: Option<u64>,
    max_reallocs: Option<u64>,
    max_peak_bytes: Option<u64>,
    max_allocated_bytes: Option<u64>,
    max_leaked_fds: Option<u64>,
    max_leaked_mappings: Option<u64>,
    heap_hint: Option<String>,
    #[serde(default)]
    memcheck: bool,
    #[serde(default)]
    must_not_compile: Vec<RawProbe>,
    #[serde(default)]
    targeted_hints: Vec<RawTargetedHint>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProbe {
    file: String,
    error: String,
    guarantee: String,
}

/// Loads the course definition of `root` ([`definition_file`]) and checks every rule of the format. With
/// `learner_files_may_be_missing`, a learner module that does not exist is
/// accepted (its path is still checked), so `reset` can restore it.
pub fn load(root: &Path, learner_files_may_be_missing: bool) -> Result<Course, CourseError> {
    let file = definition_file(root);
    let text = fs::read_to_string(&file).map_err(|source| CourseError::Read {
        path: file.clone(),
        source,
    })?;
    let raw = parse(&file, &text)?;
    let root = root.canonicalize().map_err(|source| CourseError::Read {
        path: root.to_path_buf(),
        source,
    })?;
    let checker = Checker {
        root: &root,
        file: &file,
        learner_files_may_be_missing,
    };
    let mut seen = HashSet::new();
    let mut exercises = Vec::with_capacity(raw.exercises.len());
    for raw_ex in raw.exercises {
        let exercise = checker.exercise(raw_ex)?;
        if !seen.insert(exercise.name.clone()) {
            return Err(CourseError::DuplicateName {
                path: file,
                name: exercise.name,
            });
        }
        exercises.push(exercise);
    }
    if root.join("solutions").is_dir() {
        planted::load(&root, &mut exercises)?;
    }
    Ok(Course {
        root,
        file,
        title: raw.title,
        welcome: raw.welcome,
        dependencies: raw.dependencies,
        exercises,
    })
}

/// Parses the text, checking the version before the schema so that a newer
/// course gets "upgrade memlings" rather than a confusing unknown-key error.
fn parse(file: &Path, text: &str) -> Result<RawCourse, CourseError> {
    let toml_error = |e: toml::de::Error| CourseError::Toml {
        path: file.to_path_buf(),
        message: e.to_string().trim_end().to_owned(),
    };
    let table: toml::Table = text.parse().map_err(toml_error)?;
    match table.get("format_version") {
        Some(toml::Value::Integer(v)) if *v == i64::from(FORMAT_VERSION) => {}
        Some(toml::Value::Integer(v)) => {
            return Err(CourseError::UnsupportedVersion {
                path: file.to_path_buf(),
                found: *v,
                supported: FORMAT_VERSION,
            });
        }
        // Missing or mistyped: let serde report it with a location.
        _ => {}
    }
    toml::from_str(text).map_err(toml_error)
}

/// Validates one exercise against the files on disk.
struct Checker<'a> {
    root: &'a Path,
    file: &'a Path,
    learner_files_may_be_missing: bool,
}

impl Checker<'_> {
    fn exercise(&self, raw: RawExercise) -> Result<Exercise, CourseError> {
        if !is_valid_name(&raw.name) {
            return Err(CourseError::MalformedName {
                path: self.file.to_path_buf(),
                name: raw.name,
            });
        }
        let name = raw.name;
        let path = self.file_in(&name, "path", "exercises", &raw.path)?;
        let driver = match &raw.driver {
            Some(d) => Some(self.file_in(&name, "driver", "exercises", d)?),
            None => None,
        };
        let must_not_compile = raw
            .must_not_compile
            .into_iter()
            .map(|probe| self.probe(&name, probe))
            .collect::<Result<Vec<_>, _>>()?;
        let targeted_hints = targeted::validate(raw.targeted_hints).map_err(|(id, problem)| {
            CourseError::TargetedHint {
                path: self.file.to_path_buf(),
                exercise: name.clone(),
                id,
                problem: Box::new(problem),
            }
        })?;
        let mounted = driver.is_some() || !must_not_compile.is_empty();
        if mounted && module_name(&path).is_none() {
            return Err(CourseError::UnsafePath {
                path: self.file.to_path_buf(),
                exercise: name,
                key: "path",
                value: raw.path,
                reason: "must be a .rs file whose stem is a Rust identifier, since the driver and probes name the module by it",
            });
        }
        let expected_name = raw.expected.unwrap_or_else(|| format!("{name}.txt"));
        let expected = self.file_in(&name, "expected", "expected", &expected_name)?;
        let limits = Limits {
            timeout: Duration::from_millis(self.positive(
                &name,
                "timeout_ms",
                raw.timeout_ms,
                DEFAULT_TIMEOUT_MS,
            )?),
            max_output_bytes: self.positive(
                &name,
                "max_output_bytes",
                raw.max_output_bytes,
                DEFAULT_MAX_OUTPUT_BYTES,
            )?,
            memory_limit_mb: self.positive(
                &name,
                "memory_limit_mb",
                raw.memory_limit_mb,
                DEFAULT_MEMORY_LIMIT_MB,
            )?,
            max_file_bytes: self.positive(
                &name,
                "max_file_bytes",
                raw.max_file_bytes,
                DEFAULT_MAX_FILE_BYTES,
            )?,
            build_timeout: Duration::from_millis(self.positive(
                &name,
                "build_timeout_ms",
                raw.build_timeout_ms,
                DEFAULT_BUILD_TIMEOUT_MS,
            )?),
            build_memory_limit_mb: self.positive(
                &name,
                "build_memory_limit_mb",
                raw.build_memory_limit_mb,
                DEFAULT_BUILD_MEMORY_LIMIT_MB,
            )?,
        };
        Ok(Exercise {
            name,
            path,
            driver,
            expected,
            hints: raw.hints,
            targeted_hints,
            description: raw.description,
            limits,
            heap_accounting: raw.heap_accounting,
            heap_limits: HeapLimits {
                max_leaked_bytes: raw.max_leaked_bytes,
                max_allocations: raw.max_allocations,
                max_reallocs: raw.max_reallocs,
                max_peak_bytes: raw.max_peak_bytes,
                max_allocated_bytes: raw.max_allocated_bytes,
                max_leaked_fds: raw.max_leaked_fds,
                max_leaked_mappings: raw.max_leaked_mappings,
            },
            heap_hint: raw.heap_hint,
            memcheck: raw.memcheck,
            must_not_compile,
            mistakes: Vec::new(),
            alternatives: Vec::new(),
        })
    }

    /// Validates one `[[exercises.must_not_compile]]` entry.
    fn probe(&self, exercise: &str, raw: RawProbe) -> Result<Probe, CourseError> {
        if !is_error_code(&raw.error) {
            return Err(CourseError::MalformedErrorCode {
                path: self.file.to_path_buf(),
                exercise: exercise.to_owned(),
                value: raw.error,
            });
        }
        Ok(Probe {
            file: self.file_in(exercise, "must_not_compile", "exercises", &raw.file)?,
            error: raw.error,
            guarantee: raw.guarantee,
        })
    }

    fn positive(
        &self,
        exercise: &str,
        key: &'static str,
        value: Option<u64>,
        default: u64,
    ) -> Result<u64, CourseError> {
        match value {
            Some(0) => Err(CourseError::InvalidLimit {
                path: self.file.to_path_buf(),
                exercise: exercise.to_owned(),
                key,
            }),
            Some(v) => Ok(v),
            None => Ok(default),
        }
    }

    /// Checks that `value` names an existing file inside `root/folder`,
    /// lexically and after resolving symlinks.
    fn file_in(
        &self,
        exercise: &str,
        key: &'static str,
        folder: &str,
        value: &str,
    ) -> Result<PathBuf, CourseError> {
        let unsafe_path = |reason| CourseError::UnsafePath {
            path: self.file.to_path_buf(),
            exercise: exercise.to_owned(),
            key,
            value: value.to_owned(),
            reason,
        };
        let relative = lexically_safe(value).map_err(unsafe_path)?;
        let full = self.root.join(folder).join(&relative);
        let is_learner_file = key == "path" && folder == "exercises";
        if is_learner_file && self.learner_files_may_be_missing && !full.exists() {
            // Nothing there to resolve; `..` and absolute paths are already out.
            return Ok(relative);
        }
        let missing = || CourseError::MissingFile {
            path: self.file.to_path_buf(),
            exercise: exercise.to_owned(),
            key,
            missing: full.clone(),
        };
        let resolved = full.canonicalize().map_err(|_| missing())?;
        if !resolved.starts_with(self.root) {
            return Err(unsafe_path(
                "resolves (through a symlink) outside the course root",
            ));
        }
        if !resolved.is_file() {
            return Err(missing());
        }
        Ok(relative)
    }
}

/// Whether `name` matches `[a-z0-9_]+`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Whether `code` looks like a rustc error code: `E` and four digits.
pub(super) fn is_error_code(code: &str) -> bool {
    code.len() == 5 && code.starts_with('E') && code[1..].bytes().all(|b| b.is_ascii_digit())
}

/// The module name a driver uses for `path`: its stem, if that is an identifier.
pub fn module_name(path: &Path) -> Option<&str> {
    if path.extension()? != "rs" {
        return None;
    }
    let stem = path.file_stem()?.to_str()?;
    let first = stem.bytes().next()?;
    let ok = (first.is_ascii_alphabetic() || first == b'_')
        && stem.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    ok.then_some(stem)
}

/// Rejects empty, absolute and `..`-bearing paths before touching the disk.
fn lexically_safe(value: &str) -> Result<PathBuf, &'static str> {
    if value.is_empty() {
        return Err("is empty");
    }
    let path = Path::new(value);
    let mut clean = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err("escapes its folder with `..`"),
            Component::RootDir | Component::Prefix(_) => {
                return Err("is absolute; paths are relative to their folder");
            }
        }
    }
    if clean.as_os_str().is_empty() {
        return Err("names no file");
    }
    Ok(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_valid_name("mapper_2"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("Mapper"));
        assert!(!is_valid_name("a-b"));
        assert!(!is_valid_name("a b"));
    }

    #[test]
    fn error_codes() {
        assert!(is_error_code("E0502"));
        for bad in ["E502", "e0502", "E05020", "X0502", "E05a2", ""] {
            assert!(!is_error_code(bad), "{bad}");
        }
    }

    #[test]
    fn lexical_paths() {
        assert_eq!(lexically_safe("a/./b.rs"), Ok(PathBuf::from("a/b.rs")));
        assert!(lexically_safe("/etc/passwd").is_err());
        assert!(lexically_safe("a/../../b").is_err());
        assert!(lexically_safe("..").is_err());
        assert!(lexically_safe("").is_err());
        assert!(lexically_safe(".").is_err());
    }

    #[test]
    fn version_checked_before_schema() {
        let err = parse(Path::new("c.toml"), "format_version = 2\nnew_key = 1\n").unwrap_err();
        assert!(matches!(
            err,
            CourseError::UnsupportedVersion { found: 2, .. }
        ));
    }

    #[test]
    fn unknown_key_has_location() {
        let text = "format_version = 1\ntitle = \"t\"\n[[exercises]]\nname = \"a\"\npath = \"a.rs\"\nbogus = 1\n";
        let msg = parse(Path::new("c.toml"), text).unwrap_err().to_string();
        assert!(msg.contains("c.toml"), "{msg}");
        assert!(msg.contains("line 6"), "{msg}");
        assert!(msg.contains("bogus"), "{msg}");
    }

    #[test]
    fn wrong_type_has_location() {
        let text = "format_version = 1\ntitle = 5\n";
        let msg = parse(Path::new("c.toml"), text).unwrap_err().to_string();
        assert!(msg.contains("line 2"), "{msg}");
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    const VALID: &str = "format_version = 1\ntitle = \"t\"\n[dependencies]\nmemmap2 = \"0.9\"\n\n[[exercises]]\nname = \"a\"\npath = \"a.rs\"\ndriver = \"main.rs\"\nexpected = \"a.txt\"\nhints = [\"h\"]\ntimeout_ms = 5\n";

    /// A course directory holding `text` as course.toml and the files it names.
    fn load_text(text: &str) -> Result<Course, CourseError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("exercises")).unwrap();
        std::fs::create_dir_all(dir.path().join("expected")).unwrap();
        for f in ["exercises/a.rs", "exercises/main.rs", "expected/a.txt"] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        std::fs::write(dir.path().join(COURSE_FILE), text).unwrap();
        load(dir.path(), false)
    }

    #[test]
    fn the_valid_seed_loads() {
        let course = load_text(VALID).unwrap();
        assert_eq!(course.exercises[0].limits.timeout, Duration::from_millis(5));
    }

    #[test]
    fn resource_limits_load() {
        let text = format!(
            "{VALID}max_allocated_bytes = 4096\nmax_leaked_fds = 0\nmax_leaked_mappings = 1\n"
        );
        let heap = load_text(&text).unwrap().exercises[0].heap_limits;
        assert_eq!(heap.max_allocated_bytes, Some(4096));
        assert_eq!(heap.max_leaked_fds, Some(0));
        assert_eq!(heap.max_leaked_mappings, Some(1));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn random_text_never_panics(text in "\\PC{0,200}") {
            let _ = load_text(&text);
        }

        #[test]
        fn mutated_courses_never_panic(
            cut in 0..VALID.len(),
            insert in "[\\[\\]\"=.a-z0-9/\\\\\n #{}-]{0,12}",
            drop in 0usize..8,
        ) {
            let mut text = VALID.to_owned();
            let cut = (0..=cut).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            let end = (cut + drop).min(text.len());
            text.replace_range(cut..end, &insert);
            let _ = load_text(&text);
        }
    }
}
