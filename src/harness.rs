//! Building an exercise: one persistent Cargo project (the harness) holds a
//! binary per exercise and variant, so dependencies compile once and every
//! later build only recompiles the learner's module. Binaries of planted
//! mistakes, alternative solutions and must-not-compile probes join it when
//! they are built, so that one Cargo call can build many in parallel.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;

use serde::Deserialize;
use thiserror::Error;

use crate::course::{Course, Exercise, Probe, Variant, module_name};
use crate::heap;

/// The result of asking Cargo to build one exercise.
#[derive(Debug)]
pub enum BuildOutcome {
    /// The program built. `heap` says whether it carries the counting
    /// allocator and so reports its heap figures; `warnings` are the
    /// compiler's rendered warnings, worth a learner's attention.
    Built {
        exe: PathBuf,
        heap: bool,
        warnings: Vec<String>,
    },
    /// The code does not compile: the compiler's rendered errors, and
    /// their error codes (such as `E0502`).
    CompileError {
        diagnostics: String,
        codes: Vec<String>,
    },
}

/// One binary of the harness: a variant's program, or one of the
/// exercise's must-not-compile probes with the variant's module mounted.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub exercise: &'a Exercise,
    pub variant: Variant<'a>,
    /// `Some(i)`: the exercise's `i`th must-not-compile probe.
    pub probe: Option<usize>,
}

impl<'a> Target<'a> {
    /// The program of `variant`.
    pub fn program(exercise: &'a Exercise, variant: Variant<'a>) -> Self {
        Target {
            exercise,
            variant,
            probe: None,
        }
    }

    /// The must-not-compile probes of `exercise`, against `variant`.
    pub fn probes(
        exercise: &'a Exercise,
        variant: Variant<'a>,
    ) -> impl Iterator<Item = Target<'a>> + use<'a> {
        (0..exercise.must_not_compile.len()).map(move |i| Target {
            exercise,
            variant,
            probe: Some(i),
        })
    }

    /// The probe this target builds, if it is one.
    fn probe_definition(&self) -> Option<&'a Probe> {
        self.exercise.must_not_compile.get(self.probe?)
    }

    /// The binary's name in the harness. Exercise names have no `-`, so
    /// the names of different targets never collide.
    fn bin(&self) -> String {
        let name = &self.exercise.name;
        let program = match self.variant {
            Variant::Learner => format!("ex_{name}"),
            Variant::Solution => format!("sol_{name}"),
            Variant::Mistake(mistake) => format!("mis-{name}-{}", mistake.slug),
            Variant::Alternative(alternative) => format!("alt-{name}-{}", alternative.slug),
        };
        match self.probe {
            Some(i) => format!("neg{i}-{program}"),
            None => program,
        }
    }
}

/// Failures of the build machinery itself, as opposed to the learner's code.
#[derive(Debug, Error)]
pub enum HarnessError {
    // Causes are printed by the error chain, not repeated here.
    #[error("cannot prepare the build directory {}", path.display())]
    Prepare {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start cargo; install Rust from https://rustup.rs")]
    CargoMissing {
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not valid UTF-8, which Rust's #[path] attribute needs", path.display())]
    NonUtf8Path { path: PathBuf },
    #[error("cargo failed before compiling the exercise:\n{stderr}")]
    Cargo { stderr: String },
    #[error("build interrupted")]
    Interrupted,
}

/// The harness project of one course.
#[derive(Clone)]
pub struct Harness<'a> {
    course: &'a Course,
    dir: PathBuf,
    /// Cargo's target directory: `dir/target`, or one shared with the
    /// harnesses of other copies of the course (see [`Harness::sharing`]).
    target: PathBuf,
    /// Starts the name of every binary, unique among harnesses sharing a
    /// target directory: Cargo puts binaries there by name.
    bin_prefix: String,
    /// Build without debug info and incremental caches (see [`Harness::lean`]).
    lean: bool,
}

/// Cargo's environment for a lean build.
const LEAN_ENV: [(&str, &str); 2] = [("CARGO_INCREMENTAL", "0"), ("CARGO_PROFILE_DEV_DEBUG", "0")];

impl<'a> Harness<'a> {
    /// The harness of `course`, kept in `dir` across runs.
    pub fn new(course: &'a Course, dir: PathBuf) -> Self {
        let target = dir.join("target");
        Harness {
            course,
            dir,
            target,
            bin_prefix: String::new(),
            lean: false,
        }
    }

    /// This harness building without debug info and incremental caches,
    /// which take more than half of a fresh build's time: for programs
    /// built once and judged, never debugged nor run under valgrind, as in
    /// grading. Panic locations do not need debug info.
    pub fn lean(self) -> Self {
        Harness { lean: true, ..self }
    }

    /// This harness building into `target`, shared with other harnesses of
    /// the same dependencies so that those compile once for all of them
    /// (Cargo takes one build at a time there). `bin_prefix`, unique among
    /// them and a valid start of a crate name, starts the names of this
    /// harness's binaries, which Cargo would otherwise mix up.
    pub fn sharing(self, target: PathBuf, bin_prefix: String) -> Self {
        Harness {
            target,
            bin_prefix,
            ..self
        }
    }

    /// A target's binary name in this harness.
    fn bin(&self, target: &Target<'_>) -> String {
        format!("{}{}", self.bin_prefix, target.bin())
    }

    /// The harness's project directory (its manifest and `Cargo.lock`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Builds one target. `color` asks for ANSI-colored diagnostics.
    pub fn build(&self, target: Target<'_>, color: bool) -> Result<BuildOutcome, HarnessError> {
        // `build_all` gives one outcome per target.
        let outcomes = self.build_all(&[target], color)?;
        outcomes.into_iter().next().ok_or(HarnessError::Cargo {
            stderr: "no outcome for the target".into(),
        })
    }

    /// Builds several targets with one Cargo call, which compiles them in
    /// parallel and goes on past those that fail. The outcomes are in the
    /// order of `targets`.
    pub fn build_all(
        &self,
        targets: &[Target<'_>],
        color: bool,
    ) -> Result<Vec<BuildOutcome>, HarnessError> {
        let (first_build, accounted) = self.prepare(targets)?;
        if first_build && !self.course.dependencies.is_empty() {
            eprintln!(
                "Compiling dependencies ({}) for the first time; later builds reuse them...",
                self.dependency_names()
            );
        }
        let mut bins: Vec<String> = targets.iter().map(|t| self.bin(t)).collect();
        bins.sort();
        bins.dedup();
        let (messages, stderr) = self.cargo_build(&bins, color, first_build)?;
        if crate::interrupt::requested() {
            return Err(HarnessError::Interrupted);
        }
        let outcomes = targets
            .iter()
            .map(|target| {
                let bin = self.bin(target);
                let found = messages.get(&bin).cloned().unwrap_or_default();
                self.outcome(target, found, accounted.contains(&bin), &stderr)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let built = |o: &BuildOutcome| matches!(o, BuildOutcome::Built { .. });
        if first_build && outcomes.iter().any(built) {
            self.mark_dependencies_built();
        }
        Ok(outcomes)
    }

    /// What Cargo's messages say about one target.
    fn outcome(
        &self,
        target: &Target<'_>,
        messages: Messages,
        heap: bool,
        stderr: &str,
    ) -> Result<BuildOutcome, HarnessError> {
        match messages.executable {
            Some(exe) => Ok(BuildOutcome::Built {
                exe,
                heap,
                warnings: messages
                    .warnings
                    .iter()
                    .map(|w| self.display_paths(w, target))
                    .collect(),
            }),
            None if !messages.errors.is_empty() => Ok(BuildOutcome::CompileError {
                diagnostics: self.display_paths(&messages.errors.concat(), target),
                codes: messages.codes,
            }),
            None => Err(HarnessError::Cargo {
                stderr: stderr.to_owned(),
            }),
        }
    }

    /// Runs `cargo build --keep-going` for the bins; returns each bin's
    /// JSON messages, and Cargo's stderr (for failures before compiling).
    fn cargo_build(
        &self,
        bins: &[String],
        color: bool,
        first_build: bool,
    ) -> Result<(HashMap<String, Messages>, String), HarnessError> {
        let format = match color {
            true => "json-diagnostic-rendered-ansi",
            false => "json",
        };
        let mut child = Command::new(cargo())
            .arg("build")
            .arg("--manifest-path")
            .arg(self.dir.join("Cargo.toml"))
            .args(bins.iter().flat_map(|bin| ["--bin", bin]))
            .args(["--keep-going", "--message-format", format])
            .env("CARGO_TARGET_DIR", &self.target)
            .envs(LEAN_ENV.iter().copied().filter(|_| self.lean))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| HarnessError::CargoMissing { source })?;
        // Drain stderr on its own thread so neither pipe can fill and block.
        let stderr = child.stderr.take().map(|mut pipe| {
            thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        });
        let messages = child
            .stdout
            .take()
            .map(|out| self.read_messages(out, first_build))
            .unwrap_or_default();
        child
            .wait()
            .map_err(|source| HarnessError::CargoMissing { source })?;
        let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
        Ok((messages, stderr))
    }

    /// Reads Cargo's JSON messages into each bin's, reporting dependency
    /// progress on the first build.
    fn read_messages(&self, out: impl Read, first_build: bool) -> HashMap<String, Messages> {
        let mut found: HashMap<String, Messages> = HashMap::new();
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let Ok(CargoMessage {
                reason,
                message,
                executable,
                target: Some(target),
            }) = serde_json::from_str::<CargoMessage>(&line)
            else {
                continue;
            };
            match (reason.as_str(), message, executable) {
                ("compiler-message", Some(m), _) => {
                    let bin = found.entry(target.name).or_default();
                    match m.level.as_str() {
                        "error" => {
                            bin.codes.extend(m.code.map(|c| c.code));
                            bin.errors.push(m.rendered.unwrap_or_default());
                        }
                        // Span-less warnings are summaries ("1 warning emitted").
                        "warning" if !m.spans.is_empty() => {
                            bin.warnings.push(m.rendered.unwrap_or_default());
                        }
                        _ => {}
                    }
                }
                ("compiler-artifact", _, Some(exe)) => {
                    found.entry(target.name).or_default().executable = Some(exe);
                }
                // Build scripts are an implementation detail of a crate.
                ("compiler-artifact", _, None)
                    if first_build && target.kind != ["custom-build"] =>
                {
                    eprintln!("  compiled {}", target.name);
                }
                _ => {}
            }
        }
        found
    }

    /// Writes the manifest, the heap counter and the crate roots of the
    /// standing targets and of `extra`. Returns whether dependencies still
    /// need their first compilation, and the bins that carry heap accounting.
    fn prepare(&self, extra: &[Target<'_>]) -> Result<(bool, Vec<String>), HarnessError> {
        let bin_dir = self.dir.join("src").join("bin");
        fs::create_dir_all(&bin_dir).map_err(io_at(&bin_dir))?;
        let counter = self.dir.join("src").join(COUNTER_FILE);
        write_if_changed(&counter, heap::COUNTER_SOURCE).map_err(io_at(&counter))?;
        let mut bins: Vec<(String, PathBuf)> = Vec::new();
        let mut seen = HashSet::new();
        let mut accounted = Vec::new();
        for target in self.standing_targets().chain(extra.iter().copied()) {
            let name = self.bin(&target);
            if !seen.insert(name.clone()) {
                continue;
            }
            let Some(module) = self.module_file(&target)? else {
                continue;
            };
            let root = CrateRoot::new(self.course, &target, &module);
            let path = match root.text(&counter)? {
                Some((text, heap)) => {
                    let file = bin_dir.join(format!("{name}.rs"));
                    write_if_changed(&file, &text).map_err(io_at(&file))?;
                    if heap {
                        accounted.push(name.clone());
                    }
                    file
                }
                None => module,
            };
            bins.push((name, path));
        }
        let manifest = self.dir.join("Cargo.toml");
        write_if_changed(&manifest, &self.manifest(&bins)).map_err(io_at(&manifest))?;
        let first = fs::read_to_string(self.stamp_path()).ok() != Some(self.dependencies_stamp());
        Ok((first, accounted))
    }

    /// The targets always in the manifest, so that checking any exercise
    /// leaves it unchanged: every exercise's learner and solution programs
    /// and their probes.
    fn standing_targets(&self) -> impl Iterator<Item = Target<'a>> + use<'a> {
        self.course.exercises.iter().flat_map(|exercise| {
            [Variant::Learner, Variant::Solution]
                .into_iter()
                .flat_map(move |variant| {
                    std::iter::once(Target::program(exercise, variant))
                        .chain(Target::probes(exercise, variant))
                })
        })
    }

    /// The module file a target mounts, writing a planted mistake's patched
    /// text into the harness first; `None` if the file does not exist (a
    /// workspace has no solutions).
    fn module_file(&self, target: &Target<'_>) -> Result<Option<PathBuf>, HarnessError> {
        match target.variant {
            Variant::Mistake(mistake) => {
                let file = self.mistake_file(target.exercise, &mistake.slug);
                if let Some(dir) = file.parent() {
                    fs::create_dir_all(dir).map_err(io_at(dir))?;
                }
                write_if_changed(&file, &mistake.text).map_err(io_at(&file))?;
                Ok(Some(file))
            }
            variant => Ok(self
                .course
                .module_path(target.exercise, variant)
                .filter(|path| path.is_file())),
        }
    }

    /// Where a planted mistake's patched module is written.
    fn mistake_file(&self, exercise: &Exercise, slug: &str) -> PathBuf {
        self.dir
            .join("variants")
            .join(&exercise.name)
            .join(format!("{slug}.rs"))
    }

    fn manifest(&self, bins: &[(String, PathBuf)]) -> String {
        let mut doc = toml::Table::new();
        let mut package = toml::Table::new();
        package.insert("name".into(), "memlings-harness".into());
        package.insert("version".into(), "0.0.0".into());
        package.insert("edition".into(), "2024".into());
        package.insert("publish".into(), false.into());
        package.insert("autobins".into(), false.into());
        doc.insert("package".into(), package.into());
        doc.insert(
            "dependencies".into(),
            self.course.dependencies.clone().into(),
        );
        let bins: Vec<toml::Value> = bins
            .iter()
            .map(|(name, path)| {
                let mut bin = toml::Table::new();
                bin.insert("name".into(), name.clone().into());
                bin.insert("path".into(), path.to_string_lossy().into_owned().into());
                bin.into()
            })
            .collect();
        doc.insert("bin".into(), bins.into());
        // Its own workspace, so an enclosing Cargo project never adopts it.
        doc.insert("workspace".into(), toml::Table::new().into());
        format!("# Generated by memlings; edits are overwritten.\n{doc}")
    }

    fn dependency_names(&self) -> String {
        let names: Vec<&str> = self
            .course
            .dependencies
            .keys()
            .map(String::as_str)
            .collect();
        names.join(", ")
    }

    /// Beside the compiled dependencies, so a shared target says once
    /// that they compile for the first time.
    fn stamp_path(&self) -> PathBuf {
        self.target.join("dependencies.stamp")
    }

    fn dependencies_stamp(&self) -> String {
        self.course.dependencies.to_string()
    }

    fn mark_dependencies_built(&self) {
        // Only cosmetic: a missing stamp just repeats the first-build notice.
        let _ = fs::write(self.stamp_path(), self.dependencies_stamp());
    }

    /// Points compiler and panic messages at the course's files, relative
    /// to its root, instead of the harness's copies; a planted mistake's
    /// module is named by its diff.
    pub fn display_paths(&self, text: &str, target: &Target<'_>) -> String {
        let copy = format!("src/bin/{}.rs", self.bin(target));
        let shown = self.primary_display(target);
        // Absolute copies first (valgrind prints full paths), then relative.
        let absolute = self.dir.join(&copy);
        let mut text = text
            .replace(&*absolute.to_string_lossy(), &shown)
            .replace(&copy, &shown);
        if let Variant::Mistake(mistake) = target.variant {
            let patched = self.mistake_file(target.exercise, &mistake.slug);
            let module = self.course.module_display(target.exercise, target.variant);
            text = text.replace(&*patched.to_string_lossy(), &module);
        }
        let root = format!("{}/", self.course.root.display());
        text.replace(&root, "")
    }

    /// How messages name the file holding a target's `fn main`.
    fn primary_display(&self, target: &Target<'_>) -> String {
        let exercise = target.exercise;
        match (target.probe_definition(), &exercise.driver) {
            (Some(probe), _) => probe.relative_path().display().to_string(),
            (None, Some(driver)) => Path::new("exercises").join(driver).display().to_string(),
            (None, None) => self.course.module_display(exercise, target.variant),
        }
    }
}

/// Where the heap counter lives inside the harness's `src/`.
const COUNTER_FILE: &str = "memlings_heap.rs";
/// What the exercise's own `main` is renamed to when accounting wraps it.
pub const RENAMED_MAIN: &str = "__memlings_main";

/// The pieces of one binary's crate root.
struct CrateRoot<'a> {
    /// The file holding `fn main`: a probe, the driver, or a whole-program module.
    primary: PathBuf,
    /// The module to mount under its stem, for driven exercises and probes.
    mount: Option<(&'a Path, &'a str)>,
    exercise: &'a Exercise,
    /// Whether the program may carry heap accounting: probes are never run.
    runs: bool,
}

impl<'a> CrateRoot<'a> {
    fn new(course: &Course, target: &Target<'a>, module: &'a Path) -> Self {
        let exercise = target.exercise;
        // Validation guarantees a mounted module has an identifier stem.
        let mount = Some((module, module_name(&exercise.path).unwrap_or("exercise")));
        match (target.probe_definition(), course.driver_path(exercise)) {
            (Some(probe), _) => CrateRoot {
                primary: course.probe_path(probe),
                mount,
                exercise,
                runs: false,
            },
            (None, Some(driver)) => CrateRoot {
                primary: driver,
                mount,
                exercise,
                runs: true,
            },
            (None, None) => CrateRoot {
                primary: module.to_path_buf(),
                mount: None,
                exercise,
                runs: true,
            },
        }
    }

    /// The generated root text and whether it counts heap use, or `None`
    /// when the primary file can serve as the root unchanged. Appending
    /// keeps the primary file's line numbers and inner attributes valid.
    fn text(&self, counter: &Path) -> Result<Option<(String, bool)>, HarnessError> {
        let primary = fs::read_to_string(&self.primary).map_err(io_at(&self.primary))?;
        let module = match self.mount {
            Some((path, _)) => fs::read_to_string(path).map_err(io_at(path))?,
            None => String::new(),
        };
        let own_allocator = [&primary, &module]
            .iter()
            .any(|t| t.contains("global_allocator"));
        let wanted = self.runs && self.exercise.heap_accounting.unwrap_or(!own_allocator);
        let renamed = wanted.then(|| rename_main(&primary)).flatten();
        if self.mount.is_none() && renamed.is_none() {
            return Ok(None);
        }
        let heap = renamed.is_some();
        let mut text = renamed.unwrap_or(primary);
        if let Some((path, stem)) = self.mount {
            text.push_str(&format!(
                "\n#[path = {}]\nmod {stem};\n",
                path_literal(path)?
            ));
        }
        if heap {
            text.push_str(&format!(
                "\n#[path = {}]\nmod memlings_heap;\n\
                 fn main() -> std::process::ExitCode {{\n    \
                     memlings_heap::start();\n    \
                     std::process::Termination::report({RENAMED_MAIN}())\n}}\n",
                path_literal(counter)?
            ));
        }
        Ok(Some((text, heap)))
    }
}

/// Renames the one `fn main(` that starts a line (comments and strings
/// mentioning it do not count) so a wrapper can call it; `None` if there is not
/// exactly one, and the program then runs without accounting.
fn rename_main(text: &str) -> Option<String> {
    const MAIN: &str = "fn main(";
    let found: Vec<usize> = text
        .match_indices(MAIN)
        .map(|(i, _)| i)
        .filter(|&i| {
            let line_start = text[..i].rfind('\n').map_or(0, |n| n + 1);
            matches!(text[line_start..i].trim_start(), "" | "pub ")
        })
        .collect();
    let [at] = found[..] else { return None };
    let rest = &text[at + MAIN.len()..];
    Some(format!("{}fn {RENAMED_MAIN}({rest}", &text[..at]))
}

/// A path as a Rust string literal, for `#[path]`.
fn path_literal(path: &Path) -> Result<String, HarnessError> {
    let text = path.to_str().ok_or_else(|| HarnessError::NonUtf8Path {
        path: path.to_path_buf(),
    })?;
    Ok(format!("{text:?}"))
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> HarnessError + use<> {
    let path = path.to_path_buf();
    move |source| HarnessError::Prepare { path, source }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Rewriting an identical file would bump its mtime and force a rebuild.
fn write_if_changed(path: &Path, text: &str) -> std::io::Result<()> {
    if fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Ok(());
    }
    fs::write(path, text)
}

/// What Cargo said about one bin.
#[derive(Debug, Clone, Default)]
struct Messages {
    errors: Vec<String>,
    /// The error codes among `errors`.
    codes: Vec<String>,
    warnings: Vec<String>,
    executable: Option<PathBuf>,
}

#[derive(Deserialize)]
struct CargoMessage {
    reason: String,
    message: Option<Diagnostic>,
    executable: Option<PathBuf>,
    target: Option<CargoTarget>,
}

#[derive(Deserialize)]
struct Diagnostic {
    level: String,
    rendered: Option<String>,
    code: Option<DiagnosticCode>,
    #[serde(default)]
    spans: Vec<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct DiagnosticCode {
    code: String,
}

#[derive(Deserialize)]
struct CargoTarget {
    name: String,
    #[serde(default)]
    kind: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_only_the_top_level_main() {
        let text = "//! Driver.\nuse x::Y;\n\nfn main() -> io::Result<()> {\n    Ok(())\n}\n";
        let renamed = rename_main(text).unwrap();
        assert!(renamed.contains("\nfn __memlings_main() -> io::Result<()> {\n"));
        assert_eq!(
            renamed.lines().count(),
            text.lines().count(),
            "line numbers kept"
        );
        let commented = "/// Call fn main() twice?\n// fn main(\nfn main() {}\n";
        assert!(
            rename_main(commented)
                .unwrap()
                .ends_with("fn __memlings_main() {}\n")
        );
        assert_eq!(rename_main("pub fn helper() {}\n"), None);
        assert_eq!(rename_main("fn main() {}\nfn main() {}\n"), None);
        assert!(rename_main("pub fn main() {}").is_some());
    }
}
