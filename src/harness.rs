//! Building an exercise: one persistent Cargo project (the harness) holds a
//! binary per exercise and variant, so dependencies compile once and every
//! later build only recompiles the learner's module. Binaries of planted
//! mistakes, alternative solutions and must-not-compile probes join it when
//! they are built, so that one Cargo call can build many in parallel.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};

use serde::Deserialize;
use thiserror::Error;

pub use crate::build_limits::BuildLimit;
use crate::build_limits::{
    BUILD_GROUP_FILE, BuildWait, read_stderr, stop_orphaned_build, wait_for_build,
};
use crate::course::{Course, Exercise, Limits, Probe, Variant, module_name};
use crate::heap;
use crate::lints;
use crate::sandbox::launch::{self, Launch, Launched};
use crate::sandbox::protocol::Message;
use crate::sandbox::rlimits::Rlimits;
use crate::sandbox::{Isolation, IsolationUnavailable, View};
use crate::workspace::Workspace;

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
    /// It compiles, but denied lints fired; their rendered messages.
    Lint(String),
    /// The compiler was stopped by a build limit.
    LimitHit(BuildLimit),
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
    #[error(transparent)]
    Isolation(#[from] IsolationUnavailable),
    #[error(
        "cargo waited {} s for a lock on {}: another build is using it (one left running by a killed memlings?); stop it and check again",
        waited.as_secs(), dir.display()
    )]
    Locked { dir: PathBuf, waited: Duration },
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
        let (first_build, mut accounted) = self.prepare(targets)?;
        if first_build && !self.course.dependencies.is_empty() {
            eprintln!(
                "Compiling dependencies ({}) for the first time; later builds reuse them...",
                self.dependency_names()
            );
        }
        let bins = self.bin_names(targets.iter());
        // Probes are about type errors; lints are for programs, and only
        // for those whose module has `unsafe` code: every denied lint is a
        // memory bug only there, and a safe module is spared a second compile.
        let programs = self.bin_names(
            targets
                .iter()
                .filter(|t| t.probe.is_none() && self.module_has_unsafe(t)),
        );
        let job = BuildJob {
            bins: &bins,
            pass: Pass::Build,
            learner_only: targets.iter().all(|t| t.variant == Variant::Learner),
            color,
            first_build,
            limits: &limits_of(targets),
        };
        let (mut messages, mut stderr) = match self.build_and_lint(&job, &programs)? {
            CargoEnd::Finished(messages, stderr) => (messages, stderr),
            CargoEnd::Limit(limit) => return Ok(limit_hit(targets, limit)),
        };
        let conflicts = self.own_allocator_conflicts(targets, &messages, &accounted)?;
        if !conflicts.is_empty() {
            // Those programs install their own global allocator, so they
            // run unaccounted; remembered until their sources change.
            accounted = self.prepare(targets)?.1;
            let again = BuildJob {
                bins: &conflicts,
                first_build: false,
                ..job
            };
            match self.cargo_build(&again)? {
                CargoEnd::Finished(found, err) => {
                    messages.extend(found);
                    stderr = err;
                }
                CargoEnd::Limit(limit) => return Ok(limit_hit(targets, limit)),
            }
        }
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
        // Only denied lints stand between the code and a passing build.
        if messages.errors.is_empty() && !messages.lints.is_empty() {
            return Ok(BuildOutcome::Lint(
                self.display_paths(&messages.lints.concat(), target),
            ));
        }
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
            None if !messages.errors.is_empty() || !messages.notes.is_empty() => {
                let all = [messages.errors, messages.lints, messages.notes].concat();
                Ok(BuildOutcome::CompileError {
                    diagnostics: self.display_paths(&all.concat(), target),
                    codes: messages.codes,
                })
            }
            None => Err(HarnessError::Cargo {
                stderr: stderr.to_owned(),
            }),
        }
    }

    /// Records the accounted targets whose build failed only because their
    /// sources install their own global allocator; returns their bins.
    fn own_allocator_conflicts(
        &self,
        targets: &[Target<'_>],
        messages: &HashMap<String, Messages>,
        accounted: &[String],
    ) -> Result<Vec<String>, HarnessError> {
        let mut bins = Vec::new();
        for target in targets {
            let bin = target.bin();
            let conflict = messages.get(&bin).is_some_and(|m| m.allocator_conflict);
            if !conflict
                || target.exercise.heap_accounting.is_some()
                || !accounted.contains(&bin)
                || bins.contains(&bin)
            {
                continue;
            }
            let Some(module) = self.module_file(target)? else {
                continue;
            };
            let hash = CrateRoot::new(self.course, target, &module)
                .sources()?
                .hash();
            self.own_allocators().record(&bin, hash)?;
            bins.push(bin);
        }
        Ok(bins)
    }

    /// Whether the module a target mounts has `unsafe` code.
    fn module_has_unsafe(&self, target: &Target<'_>) -> bool {
        self.module_file(target)
            .ok()
            .flatten()
            .and_then(|path| fs::read_to_string(path).ok())
            .is_some_and(|text| lints::has_unsafe_code(&text))
    }

    /// The distinct bin names of `targets`, sorted.
    fn bin_names<'b, 'c: 'b>(&self, targets: impl Iterator<Item = &'b Target<'c>>) -> Vec<String> {
        let mut bins: Vec<String> = targets.map(|t| self.bin(t)).collect();
        bins.sort();
        bins.dedup();
        bins
    }

    /// Runs the build of `job` and, when clippy is there, lints `programs`
    /// with a `cargo check` beside it (after it on a first build, whose
    /// dependency resolution the other would race). The program itself is
    /// compiled by plain rustc: clippy-driver leaves out rustc's runtime
    /// checks of misaligned and null pointer dereferences. Only clippy's
    /// own lints are taken from the lint pass, merged into each bin's.
    fn build_and_lint(
        &self,
        job: &BuildJob<'_>,
        programs: &[String],
    ) -> Result<CargoEnd, HarnessError> {
        let driver = lints::driver().filter(|_| !programs.is_empty());
        let lint_job = driver.map(|driver| BuildJob {
            bins: programs,
            pass: Pass::Lint(driver),
            ..*job
        });
        let (built, linted) = thread::scope(|scope| {
            let beside = lint_job
                .as_ref()
                .filter(|_| !job.first_build)
                .map(|lint| scope.spawn(move || self.cargo_build(lint)));
            let built = self.cargo_build(job);
            let linted = match (beside, &lint_job) {
                (Some(handle), _) => Some(handle.join().unwrap_or(Err(HarnessError::Cargo {
                    stderr: "the lint pass stopped unexpectedly".into(),
                }))),
                (None, Some(lint)) if built.is_ok() => Some(self.cargo_build(lint)),
                _ => None,
            };
            (built, linted)
        });
        let mut built = built?;
        if let (CargoEnd::Finished(messages, _), Some(linted)) = (&mut built, linted) {
            match linted? {
                CargoEnd::Finished(lints, lint_stderr) => {
                    if lints.is_empty() && lint_stderr.contains("clippy-driver") {
                        // The driver is there but cannot run (a rustup
                        // proxy without the component).
                        lints::turn_off();
                    }
                    for (bin, found) in lints {
                        messages.entry(bin).or_default().merge_lints(found);
                    }
                }
                // The program built; only its lints ran out of room.
                CargoEnd::Limit(_) => {}
            }
        }
        Ok(built)
    }

    /// Runs `cargo build --keep-going` for the bins under the build
    /// limits, as isolated as learner programs are: in namespaces where
    /// `expected/`, `.memlings/` (but the harness) and, for the learner's
    /// code, `solutions/` are hidden, so that no macro can read them at
    /// compile time. Stops at once on Ctrl-C.
    fn cargo_build(&self, job: &BuildJob<'_>) -> Result<CargoEnd, HarnessError> {
        loop {
            let level = crate::sandbox::level()?;
            match self.cargo_attempt(job, level)? {
                Attempted::Done(end) => {
                    crate::sandbox::note_used(level);
                    return Ok(end);
                }
                Attempted::SetupFailed(reason) => crate::sandbox::fall_back(reason),
            }
        }
    }

    fn cargo_attempt(
        &self,
        job: &BuildJob<'_>,
        level: Isolation,
    ) -> Result<Attempted, HarnessError> {
        let limits = job.limits;
        // The limit is per program: a batch (verify's variants, grading)
        // builds many, so it gets the limit once for each.
        let programs = u32::try_from(job.bins.len()).unwrap_or(u32::MAX).max(1);
        let timeout = limits.build_timeout.saturating_mul(programs);
        let format = match job.color {
            true => "json-diagnostic-rendered-ansi",
            false => "json",
        };
        let memory_bytes = limits.build_memory_limit_mb.saturating_mul(1024 * 1024);
        let group_file = self.dir.join(job.pass.group_file());
        stop_orphaned_build(&group_file, &self.dir);
        let tmp = self.dir.join("tmp");
        fs::create_dir_all(&tmp).map_err(io_at(&tmp))?;
        // The build view binds the target writable, so it must exist.
        fs::create_dir_all(&self.target).map_err(io_at(&self.target))?;
        let mut args: Vec<OsString> = vec![
            job.pass.subcommand().into(),
            "--manifest-path".into(),
            self.dir.join("Cargo.toml").into(),
        ];
        for bin in job.bins {
            args.push("--bin".into());
            args.push(bin.into());
        }
        args.extend(["--keep-going", "--message-format", format].map(OsString::from));
        let cargo = cargo();
        let launch = Launch {
            program: Path::new(&cargo),
            args: &args,
            cwd: &self.dir,
            view: self.build_view(job.learner_only),
            // Per process: joining a control group costs a kernel grace
            // period (~15 ms) per spawn, too much for every build.
            rlimits: Rlimits {
                address_space: Some(memory_bytes),
                ..Rlimits::default()
            },
            inherit: &[],
            network: true,
            cgroup: None,
        };
        let target_dir = match job.pass {
            Pass::Build => self.target.clone(),
            Pass::Lint(_) => self.target.join("lint"),
        };
        let Launched {
            mut child,
            pgid,
            status,
        } = launch
            .spawn(level, |command| {
                command
                    .env("CARGO_TARGET_DIR", &target_dir)
                    .env("TMPDIR", &tmp)
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                if self.lean {
                    command.envs(LEAN_ENV);
                }
                if let Pass::Lint(driver) = job.pass {
                    command.env("RUSTC_WORKSPACE_WRAPPER", driver);
                }
            })
            .map_err(|source| HarnessError::CargoMissing { source })?;
        // Only a record for the next run; losing it loses only that.
        let _ = fs::write(&group_file, pgid.to_string());
        let blocked = Arc::new(AtomicBool::new(false));
        let stderr = child.stderr.take().map(|pipe| read_stderr(pipe, &blocked));
        let (first_build, pass) = (job.first_build, job.pass.is_lint());
        let stdout = child
            .stdout
            .take()
            .map(|out| thread::spawn(move || read_messages(out, pass, first_build)));
        let waited = wait_for_build(child, pgid, timeout);
        let _ = killpg(pgid, Signal::SIGKILL);
        let _ = fs::remove_file(&group_file);
        let messages = stdout.and_then(|t| t.join().ok()).unwrap_or_default();
        let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
        // rustc's own words when memory runs out under RLIMIT_AS: an
        // allocation that failed, or a file it could not read into memory.
        let out_of_memory = (stderr.contains("memory allocation of") && stderr.contains("failed"))
            || messages
                .values()
                .flat_map(|m| &m.errors)
                .any(|e| e.contains(": out of memory"));
        let success = match waited {
            BuildWait::Interrupted => return Err(HarnessError::Interrupted),
            BuildWait::TimedOut if blocked.load(Ordering::SeqCst) => {
                return Err(HarnessError::Locked {
                    dir: self.target.clone(),
                    waited: timeout,
                });
            }
            BuildWait::TimedOut => {
                return Ok(Attempted::Done(CargoEnd::Limit(BuildLimit::Time {
                    limit_ms: timeout.as_millis(),
                })));
            }
            BuildWait::Exited(success) => match launch::report(status).first() {
                Some(Message::SetupFailed(reason)) => {
                    return Ok(Attempted::SetupFailed(reason.clone()));
                }
                Some(Message::ExecFailed(errno)) => {
                    return Err(HarnessError::CargoMissing {
                        source: std::io::Error::from_raw_os_error(*errno),
                    });
                }
                Some(Message::Exited(code)) => *code == 0,
                Some(Message::Signaled(_)) => false,
                None => success,
            },
        };
        Ok(Attempted::Done(match success {
            false if out_of_memory => CargoEnd::Limit(BuildLimit::Memory {
                limit_mb: limits.build_memory_limit_mb,
            }),
            _ => CargoEnd::Finished(messages, stderr),
        }))
    }

    /// What a build may see: the course without its expected outputs, the
    /// runner's files but the harness, and (for the learner's code alone)
    /// the solutions; it may write only the harness and Cargo's home.
    fn build_view(&self, learner_only: bool) -> View {
        let workspace = Workspace::new(&self.course.root);
        let solutions = self.course.root.join("solutions");
        let hidden = workspace
            .hidden_from_programs(&self.course.root)
            .into_iter()
            .filter(|dir| learner_only || *dir != solutions)
            .collect();
        let mut writable = vec![self.dir.clone(), self.target.clone()];
        writable.extend(cargo_home().filter(|home| home.is_dir()));
        View {
            hidden,
            shown: Vec::new(),
            writable,
        }
    }

    /// Writes the manifest, the counter's crate and the crate roots of the
    /// standing targets and of `extra`. Returns whether dependencies still
    /// need their first compilation, and the bins that carry heap accounting.
    fn prepare(&self, extra: &[Target<'_>]) -> Result<(bool, Vec<String>), HarnessError> {
        let bin_dir = self.dir.join("src").join("bin");
        fs::create_dir_all(&bin_dir).map_err(io_at(&bin_dir))?;
        self.write_counter()?;
        let own_allocators = self.own_allocators();
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

/// Reads Cargo's JSON messages into each bin's, reporting dependency
/// progress on the first build.
/// From the lint pass (`lint`) only clippy's own lints count: the rest
/// repeats what the build said.
fn read_messages(out: impl Read, lint: bool, first_build: bool) -> HashMap<String, Messages> {
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
            // The counter's crate is memlings' business, not the learner's.
            ("compiler-message", _, _) if target.name == COUNTER_CRATE => {}
            ("compiler-message", Some(m), _) if lint && m.is_clippy_lint() => {
                found.entry(target.name).or_default().add_lint(m);
            }
            _ if lint => {}
            ("compiler-message", Some(m), _) => {
                let bin = found.entry(target.name).or_default();
                match m.level.as_str() {
                    "error" => bin.add_error(m),
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
            // Build scripts are an implementation detail of a crate,
            // and the counter one of memlings.
            ("compiler-artifact", _, None)
                if first_build
                    && target.kind != ["custom-build"]
                    && target.name != COUNTER_CRATE =>
            {
                eprintln!("  compiled {}", target.name);
            }
            _ => {}
        }
    }
    found
}

/// The build limits for a set of targets: their exercise's (a build
/// holds one exercise's targets).
fn limits_of(targets: &[Target<'_>]) -> Limits {
    targets
        .first()
        .map(|t| t.exercise.limits)
        .unwrap_or_default()
}

/// Every target stopped by the same build limit.
fn limit_hit(targets: &[Target<'_>], limit: BuildLimit) -> Vec<BuildOutcome> {
    targets
        .iter()
        .map(|_| BuildOutcome::LimitHit(limit))
        .collect()
}

/// One build to run.
#[derive(Clone, Copy)]
struct BuildJob<'a> {
    bins: &'a [String],
    pass: Pass<'a>,
    /// Only the learner's code is built, so the solutions stay hidden.
    learner_only: bool,
    color: bool,
    first_build: bool,
    limits: &'a Limits,
}

/// What a Cargo run does: build the programs, or lint them with clippy.
#[derive(Clone, Copy)]
enum Pass<'a> {
    Build,
    Lint(&'a Path),
}

impl Pass<'_> {
    fn subcommand(self) -> &'static str {
        match self {
            Pass::Build => "build",
            Pass::Lint(_) => "check",
        }
    }

    fn is_lint(self) -> bool {
        matches!(self, Pass::Lint(_))
    }

    /// Where the pass's process group is recorded, to stop it if orphaned.
    fn group_file(self) -> String {
        match self {
            Pass::Build => BUILD_GROUP_FILE.to_owned(),
            Pass::Lint(_) => format!("{BUILD_GROUP_FILE}.lint"),
        }
    }
}

/// One try at a build at a given isolation level.
enum Attempted {
    Done(CargoEnd),
    /// The namespaces could not be set up; cargo never started.
    SetupFailed(String),
}

/// Cargo's home: `CARGO_HOME`, or `~/.cargo`.
fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .and_then(|path| path.canonicalize().ok())
}

/// How a cargo build ended.
enum CargoEnd {
    /// Cargo finished by itself: each bin's JSON messages, and its stderr
    /// (for failures before compiling).
    Finished(HashMap<String, Messages>, String),
    Limit(BuildLimit),
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
        let wanted = self.runs
            && self
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
    /// Compiler errors with a place in the code.
    errors: Vec<String>,
    /// The error codes among the errors (such as `E0502`).
    codes: Vec<String>,
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
    fn merge_lints(&mut self, linted: Messages) {
        self.lints.extend(linted.lints);
        self.warnings.extend(linted.warnings);
    }

    /// A clippy lint: denied ones fail the check, the others are warnings
    /// (whatever level the code itself gave them).
    fn add_lint(&mut self, lint: Diagnostic) {
        let denied = lint
            .code
            .as_ref()
            .is_some_and(|c| lints::is_denied(&c.code));
        let rendered = lint.rendered.unwrap_or_default();
        match denied {
            true => self.lints.push(rendered),
            false => self.warnings.push(rendered),
        }
    }

    fn add_error(&mut self, error: Diagnostic) {
        self.allocator_conflict |= error.message.contains("global allocator");
        let rendered = error.rendered.unwrap_or_default();
        let code = error.code.map(|c| c.code);
        if error.spans.is_empty() {
            self.notes.push(rendered);
        } else if code.as_deref().is_some_and(lints::is_denied) {
            self.lints.push(rendered);
        } else {
            self.codes.extend(code);
            self.errors.push(rendered);
        }
    }
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
    #[serde(default)]
    message: String,
    rendered: Option<String>,
    code: Option<DiagnosticCode>,
    #[serde(default)]
    spans: Vec<serde::de::IgnoredAny>,
}

impl Diagnostic {
    fn is_clippy_lint(&self) -> bool {
        !self.spans.is_empty()
            && self
                .code
                .as_ref()
                .is_some_and(|c| c.code.starts_with("clippy::"))
    }
}

/// `E0308`, or a lint's name such as `clippy::uninit_vec`.
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
