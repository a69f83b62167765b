//! Building an exercise: one persistent Cargo project (the harness) holds a
//! binary per exercise and variant, so dependencies compile once and every
//! later build only recompiles the learner's module.

use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;

use serde::Deserialize;
use thiserror::Error;

use crate::course::{Course, Exercise, Variant, module_name};
use crate::heap;
use crate::lints;

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
    /// The learner's code does not compile; the compiler's rendered errors.
    CompileError(String),
    /// It compiles, but denied lints fired; their rendered messages.
    Lint(String),
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
pub struct Harness<'a> {
    course: &'a Course,
    dir: PathBuf,
}

impl<'a> Harness<'a> {
    /// The harness of `course`, kept in `dir` across runs.
    pub fn new(course: &'a Course, dir: PathBuf) -> Self {
        Harness { course, dir }
    }

    /// Builds one exercise variant. `color` asks for ANSI-colored diagnostics.
    pub fn build(
        &self,
        exercise: &Exercise,
        variant: Variant,
        color: bool,
    ) -> Result<BuildOutcome, HarnessError> {
        let (first_build, mut accounted) = self.prepare()?;
        if first_build && !self.course.dependencies.is_empty() {
            eprintln!(
                "Compiling dependencies ({}) for the first time; later builds reuse them...",
                self.dependency_names()
            );
        }
        let bin = bin_name(exercise, variant);
        let mut build = self.cargo_build(&bin, color, first_build)?;
        if !build.success && build.messages.is_empty() && build.stderr.contains("clippy-driver") {
            // The driver is there but cannot run (a rustup proxy without
            // the component): build without lints.
            lints::turn_off();
            build = self.cargo_build(&bin, color, first_build)?;
        }
        let conflict = !build.success && build.messages.allocator_conflict;
        if conflict && exercise.heap_accounting.is_none() && accounted.contains(&bin) {
            // The program installs its own global allocator, so it runs
            // unaccounted; remembered until its sources change.
            self.remember_own_allocator(exercise, variant)?;
            accounted = self.prepare()?.1;
            build = self.cargo_build(&bin, color, false)?;
        }
        if crate::interrupt::requested() {
            return Err(HarnessError::Interrupted);
        }
        if first_build && build.success {
            self.mark_dependencies_built();
        }
        self.outcome(build, accounted.contains(&bin), exercise, variant)
    }

    /// What a finished `cargo build` means for the learner.
    fn outcome(
        &self,
        build: CargoBuild,
        heap: bool,
        exercise: &Exercise,
        variant: Variant,
    ) -> Result<BuildOutcome, HarnessError> {
        let shown = |texts: &[String]| self.display_paths(&texts.concat(), exercise, variant);
        let messages = build.messages;
        match (build.success, messages.executable) {
            (true, Some(exe)) => Ok(BuildOutcome::Built {
                exe,
                heap,
                warnings: messages
                    .warnings
                    .iter()
                    .map(|w| self.display_paths(w, exercise, variant))
                    .collect(),
            }),
            // Only denied lints stand between the code and a program.
            _ if messages.errors.is_empty() && !messages.lints.is_empty() => {
                Ok(BuildOutcome::Lint(shown(&messages.lints)))
            }
            _ if !messages.errors.is_empty() || !messages.notes.is_empty() => {
                let all = [messages.errors, messages.lints, messages.notes].concat();
                Ok(BuildOutcome::CompileError(shown(&all)))
            }
            _ => Err(HarnessError::Cargo {
                stderr: build.stderr,
            }),
        }
    }

    /// Records that this variant's sources install their own global allocator.
    fn remember_own_allocator(
        &self,
        exercise: &Exercise,
        variant: Variant,
    ) -> Result<(), HarnessError> {
        let module = self.course.module_path(exercise, variant);
        let hash = CrateRoot::new(self.course, exercise, &module)
            .sources()?
            .hash();
        self.own_allocators()
            .record(&bin_name(exercise, variant), hash)
    }

    /// Runs `cargo build` for one bin, linting it when clippy is there.
    fn cargo_build(
        &self,
        bin: &str,
        color: bool,
        first_build: bool,
    ) -> Result<CargoBuild, HarnessError> {
        let format = match color {
            true => "json-diagnostic-rendered-ansi",
            false => "json",
        };
        let mut command = Command::new(cargo());
        command
            .arg("build")
            .arg("--manifest-path")
            .arg(self.dir.join("Cargo.toml"))
            .args(["--bin", bin, "--message-format", format])
            .env("CARGO_TARGET_DIR", self.dir.join("target"));
        if let Some(driver) = lints::wrapper() {
            command.env("RUSTC_WORKSPACE_WRAPPER", driver);
        }
        let mut child = command
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
        let status = child
            .wait()
            .map_err(|source| HarnessError::CargoMissing { source })?;
        let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
        Ok(CargoBuild {
            success: status.success(),
            messages,
            stderr,
        })
    }

    /// Reads Cargo's JSON messages, reporting dependency progress on the first build.
    fn read_messages(&self, out: impl Read, first_build: bool) -> Messages {
        let mut found = Messages::default();
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let Ok(message) = serde_json::from_str::<CargoMessage>(&line) else {
                continue;
            };
            match message.reason.as_str() {
                // The counter's crate is memlings' business, not the learner's.
                "compiler-message"
                    if message
                        .target
                        .as_ref()
                        .is_some_and(|t| t.name == COUNTER_CRATE) => {}
                "compiler-message" => match message.message {
                    Some(m) if m.level == "error" => found.add_error(m),
                    // Span-less warnings are summaries ("1 warning emitted").
                    Some(m) if m.level == "warning" && !m.spans.is_empty() => {
                        found.warnings.push(m.rendered.unwrap_or_default())
                    }
                    _ => {}
                },
                "compiler-artifact" => match message.executable {
                    Some(exe) => found.executable = Some(exe),
                    None if first_build => {
                        // Build scripts are an implementation detail of a
                        // crate, and the counter one of memlings.
                        let shown =
                            |t: &Target| t.kind != ["custom-build"] && t.name != COUNTER_CRATE;
                        if let Some(t) = message.target.filter(shown) {
                            eprintln!("  compiled {}", t.name);
                        }
                    }
                    None => {}
                },
                _ => {}
            }
        }
        found
    }

    /// Writes the manifest, the counter's crate and the crate roots.
    /// Returns whether dependencies still need their first compilation,
    /// and the bins that carry heap accounting.
    fn prepare(&self) -> Result<(bool, Vec<String>), HarnessError> {
        let bin_dir = self.dir.join("src").join("bin");
        fs::create_dir_all(&bin_dir).map_err(io_at(&bin_dir))?;
        self.write_counter()?;
        let own_allocators = self.own_allocators();
        let mut bins = Vec::new();
        let mut accounted = Vec::new();
        for exercise in &self.course.exercises {
            for variant in [Variant::Learner, Variant::Solution] {
                let module = self.course.module_path(exercise, variant);
                if !module.is_file() {
                    continue;
                }
                let name = bin_name(exercise, variant);
                let root = CrateRoot::new(self.course, exercise, &module);
                let path = match root.text(|hash| own_allocators.has(&name, hash))? {
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
        }
        let manifest = self.dir.join("Cargo.toml");
        write_if_changed(&manifest, &self.manifest(&bins)).map_err(io_at(&manifest))?;
        let first = fs::read_to_string(self.stamp_path()).ok() != Some(self.dependencies_stamp());
        Ok((first, accounted))
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
        let mut dependencies = self.course.dependencies.clone();
        let mut counter = toml::Table::new();
        counter.insert("path".into(), COUNTER_DIR.into());
        dependencies.insert(COUNTER_PACKAGE.into(), counter.into());
        doc.insert("dependencies".into(), dependencies.into());
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
        doc.insert("lints".into(), lints::manifest_table().into());
        // Its own workspace, so an enclosing Cargo project never adopts it;
        // the counter is outside it, so it is neither linted nor rebuilt
        // with the exercises.
        let mut workspace = toml::Table::new();
        workspace.insert("exclude".into(), vec![COUNTER_DIR].into());
        doc.insert("workspace".into(), workspace.into());
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

    /// The counter's crate: a library every accounted program links.
    fn write_counter(&self) -> Result<(), HarnessError> {
        let dir = self.dir.join(COUNTER_DIR);
        let src = dir.join("src");
        fs::create_dir_all(&src).map_err(io_at(&src))?;
        let manifest = dir.join("Cargo.toml");
        let text = format!(
            "# Generated by memlings; edits are overwritten.\n\
             [package]\nname = \"{COUNTER_PACKAGE}\"\nversion = \"0.0.0\"\n\
             edition = \"2024\"\npublish = false\n"
        );
        write_if_changed(&manifest, &text).map_err(io_at(&manifest))?;
        let lib = src.join("lib.rs");
        write_if_changed(&lib, heap::COUNTER_SOURCE).map_err(io_at(&lib))
    }

    fn own_allocators(&self) -> OwnAllocators {
        OwnAllocators {
            dir: self.dir.join("own-allocator"),
        }
    }

    fn stamp_path(&self) -> PathBuf {
        self.dir.join("dependencies.stamp")
    }

    fn dependencies_stamp(&self) -> String {
        self.course.dependencies.to_string()
    }

    fn mark_dependencies_built(&self) {
        // Only cosmetic: a missing stamp just repeats the first-build notice.
        let _ = fs::write(self.stamp_path(), self.dependencies_stamp());
    }

    /// Points compiler and panic messages at the course's files, relative
    /// to its root, instead of the harness's copies.
    pub fn display_paths(&self, text: &str, exercise: &Exercise, variant: Variant) -> String {
        let copy = format!("src/bin/{}.rs", bin_name(exercise, variant));
        let primary = exercise.driver.as_ref().unwrap_or(&exercise.path);
        let shown = Path::new("exercises").join(primary);
        let shown = shown.to_string_lossy();
        // Absolute copies first (valgrind prints full paths), then relative.
        let absolute = self.dir.join(&copy);
        let text = text
            .replace(&*absolute.to_string_lossy(), &shown)
            .replace(&copy, &shown);
        let root = format!("{}/", self.course.root.display());
        text.replace(&root, "")
    }
}

/// Where the counter's crate lives inside the harness.
const COUNTER_DIR: &str = "counter";
/// The counter's package, and its crate name in code.
const COUNTER_PACKAGE: &str = "memlings-counter";
const COUNTER_CRATE: &str = "memlings_counter";
/// What the exercise's own `main` is renamed to when accounting wraps it.
pub const RENAMED_MAIN: &str = "__memlings_main";

/// The pieces of one binary's crate root.
struct CrateRoot<'a> {
    /// The file holding `fn main`: the driver, or a whole-program module.
    primary: PathBuf,
    /// The module to mount under its stem, for driven exercises.
    mount: Option<(&'a Path, &'a str)>,
    exercise: &'a Exercise,
}

impl<'a> CrateRoot<'a> {
    fn new(course: &Course, exercise: &'a Exercise, module: &'a Path) -> Self {
        match course.driver_path(exercise) {
            Some(driver) => CrateRoot {
                primary: driver,
                // Validation guarantees a driven module has an identifier stem.
                mount: Some((module, module_name(&exercise.path).unwrap_or("exercise"))),
                exercise,
            },
            None => CrateRoot {
                primary: module.to_path_buf(),
                mount: None,
                exercise,
            },
        }
    }

    /// The texts of the primary file and the mounted module (empty if none).
    fn sources(&self) -> Result<Sources, HarnessError> {
        let primary = fs::read_to_string(&self.primary).map_err(io_at(&self.primary))?;
        let module = match self.mount {
            Some((path, _)) => fs::read_to_string(path).map_err(io_at(path))?,
            None => String::new(),
        };
        Ok(Sources { primary, module })
    }

    /// The generated root text and whether it counts heap use, or `None`
    /// when the primary file can serve as the root unchanged. Appending
    /// keeps the primary file's line numbers and inner attributes valid.
    /// Accounting is on unless the course turns it off, or `own_allocator`
    /// says these sources (by hash) install their own global allocator.
    fn text(
        &self,
        own_allocator: impl Fn(u64) -> bool,
    ) -> Result<Option<(String, bool)>, HarnessError> {
        let sources = self.sources()?;
        let wanted = self
            .exercise
            .heap_accounting
            .unwrap_or_else(|| !own_allocator(sources.hash()));
        let primary = sources.primary;
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
            // Referencing KEEP makes the linker keep the counter's
            // constructor and its mmap hooks.
            text.push_str(&format!(
                "\n{allow}\n#[used]\n\
                 static __MEMLINGS_KEEP: &{COUNTER_CRATE}::Keep = &{COUNTER_CRATE}::KEEP;\n\
                 {allow}\n\
                 fn main() -> std::process::ExitCode {{\n    \
                     {COUNTER_CRATE}::start();\n    \
                     std::process::Termination::report({RENAMED_MAIN}())\n}}\n",
                allow = lints::GENERATED_ALLOW,
            ));
        }
        Ok(Some((text, heap)))
    }
}

/// The source texts one binary is built from.
struct Sources {
    primary: String,
    module: String,
}

impl Sources {
    /// Identifies the sources, for remembering decisions about them. std's
    /// hasher is stable within one Rust release, enough for a local cache.
    fn hash(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        (&self.primary, &self.module).hash(&mut hasher);
        hasher.finish()
    }
}

/// Binaries found to install their own `#[global_allocator]`, which
/// conflicts with the counter's: one file per binary holding the hash of
/// the sources it was found in. A build that fails with the conflict is
/// recorded here and rebuilt without the counter, so the extra compile
/// happens once per change of the sources, not on every check.
struct OwnAllocators {
    dir: PathBuf,
}

impl OwnAllocators {
    fn file(&self, bin: &str) -> PathBuf {
        self.dir.join(bin)
    }

    fn has(&self, bin: &str, hash: u64) -> bool {
        fs::read_to_string(self.file(bin)).is_ok_and(|text| text == format!("{hash:016x}"))
    }

    fn record(&self, bin: &str, hash: u64) -> Result<(), HarnessError> {
        fs::create_dir_all(&self.dir).map_err(io_at(&self.dir))?;
        let file = self.file(bin);
        fs::write(&file, format!("{hash:016x}")).map_err(io_at(&file))
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

/// Binary name of one exercise variant inside the harness.
fn bin_name(exercise: &Exercise, variant: Variant) -> String {
    match variant {
        Variant::Learner => format!("ex_{}", exercise.name),
        Variant::Solution => format!("sol_{}", exercise.name),
    }
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

/// A finished `cargo build`: whether it succeeded, its JSON messages, and
/// its stderr (for failures before compiling).
struct CargoBuild {
    success: bool,
    messages: Messages,
    stderr: String,
}

#[derive(Default)]
struct Messages {
    /// Compiler errors with a place in the code.
    errors: Vec<String>,
    /// Errors from the denied memory lints.
    lints: Vec<String>,
    /// Errors without a place, such as "aborting due to 2 previous errors".
    notes: Vec<String>,
    warnings: Vec<String>,
    executable: Option<PathBuf>,
    /// An error said the crate has two global allocators.
    allocator_conflict: bool,
}

impl Messages {
    fn is_empty(&self) -> bool {
        self.errors.is_empty() && self.lints.is_empty() && self.notes.is_empty()
    }

    fn add_error(&mut self, error: Diagnostic) {
        self.allocator_conflict |= error.message.contains("global allocator");
        let rendered = error.rendered.unwrap_or_default();
        if error.spans.is_empty() {
            self.notes.push(rendered);
        } else if error.code.is_some_and(|c| lints::is_denied(&c.code)) {
            self.lints.push(rendered);
        } else {
            self.errors.push(rendered);
        }
    }
}

#[derive(Deserialize)]
struct CargoMessage {
    reason: String,
    message: Option<Diagnostic>,
    executable: Option<PathBuf>,
    target: Option<Target>,
}

#[derive(Deserialize)]
struct Diagnostic {
    level: String,
    #[serde(default)]
    message: String,
    code: Option<DiagnosticCode>,
    rendered: Option<String>,
    #[serde(default)]
    spans: Vec<serde::de::IgnoredAny>,
}

/// `E0308`, or a lint's name such as `clippy::uninit_vec`.
#[derive(Deserialize)]
struct DiagnosticCode {
    code: String,
}

#[derive(Deserialize)]
struct Target {
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
