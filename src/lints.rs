//! Lints on exercise code. Beside each build the harness runs a
//! `cargo check` with `clippy-driver` as Cargo's workspace wrapper, in a
//! target directory of its own (dependencies are not linted). The program
//! itself is built by plain rustc: clippy-driver leaves out rustc's runtime
//! checks for misaligned and null pointer dereferences, which the verdicts
//! rely on. A curated list of lints that signal memory bugs is denied in the
//! harness manifest and fails the check as a `lint` verdict; every other
//! clippy lint is a warning, shown like rustc's (clippy's `correctness`
//! group, denied by default, included: a silly but harmless expression is
//! not a memory bug).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Clippy lints denied because they signal memory bugs: uninitialised
/// memory, pointer casts and transmutes that break layout or validity, and
/// raw pointers dereferenced behind a safe signature.
pub const DENIED_CLIPPY: &[&str] = &[
    "uninit_vec",
    "uninit_assumed_init",
    "mem_replace_with_uninit",
    "transmute_ptr_to_ref",
    "transmute_undefined_repr",
    "size_of_in_element_count",
    "not_unsafe_ptr_arg_deref",
    "cast_slice_different_sizes",
    "unsound_collection_transmute",
    "wrong_transmute",
    "transmuting_null",
    "from_raw_with_void_ptr",
    "as_ptr_cast_mut",
];

// Deliberately not denied, nor added as warnings: `cast_ptr_alignment`
// and `mut_from_ref` also fire on correct arena code, which aligns its
// pointers itself and hands out `&mut` from `&self` through interior
// mutability (the reference loader among it), and a correct solution must
// pass without a warning.

/// rustc lints denied for the same reason (the first two only warn by
/// default; the others are listed so that they count as `lint` verdicts).
pub const DENIED_RUSTC: &[&str] = &[
    "invalid_value",
    "dangling_pointers_from_temporaries",
    "invalid_reference_casting",
    "invalid_null_arguments",
    "invalid_from_utf8_unchecked",
];

/// Put on the code memlings adds to a program (the `main` that wraps the
/// exercise's, and what keeps the counter linked): no lint on it is the
/// learner's business.
pub const GENERATED_ALLOW: &str = "#[allow(clippy::all, clippy::pedantic, clippy::nursery)]";

/// The `[lints]` table of the harness manifest.
pub fn manifest_table() -> toml::Table {
    let levels = |names: &[&str], level: &str| -> toml::Table {
        names
            .iter()
            .map(|name| ((*name).to_owned(), toml::Value::from(level)))
            .collect()
    };
    let mut clippy = levels(DENIED_CLIPPY, "deny");
    // Below the single lints, so that they win.
    let mut correctness = toml::Table::new();
    correctness.insert("level".into(), "warn".into());
    correctness.insert("priority".into(), (-1).into());
    clippy.insert("correctness".into(), correctness.into());
    let mut table = toml::Table::new();
    table.insert("clippy".into(), clippy.into());
    table.insert("rust".into(), levels(DENIED_RUSTC, "deny").into());
    table
}

/// Whether a diagnostic code (`clippy::uninit_vec`, `invalid_value`,
/// `E0308`) names one of the denied memory lints.
pub fn is_denied(code: &str) -> bool {
    match code.strip_prefix("clippy::") {
        Some(name) => DENIED_CLIPPY.contains(&name),
        None => DENIED_RUSTC.contains(&code),
    }
}

/// Lints were found unavailable in this process: build without them.
static OFF: AtomicBool = AtomicBool::new(false);

/// The clippy-driver to lint with, if lints are on. Looked up once: next
/// to the `cargo` in `$CARGO` (a toolchain's own directory), else on
/// `PATH`. When lints are off it says so, once.
pub fn driver() -> Option<&'static Path> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        let cargo_dir = std::env::var_os("CARGO")
            .map(PathBuf::from)
            .and_then(|cargo| cargo.parent().map(Path::to_path_buf));
        let path = std::env::var_os("PATH").unwrap_or_default();
        find_driver(cargo_dir.as_deref(), &path)
    });
    match found {
        Some(driver) if !OFF.load(Ordering::Relaxed) => Some(driver),
        _ => {
            turn_off();
            None
        }
    }
}

/// Lints are off from now on (the driver could not run); says so once.
pub fn turn_off() {
    static SAID: AtomicBool = AtomicBool::new(false);
    OFF.store(true, Ordering::Relaxed);
    if !SAID.swap(true, Ordering::Relaxed) {
        eprintln!(
            "note: clippy-driver is not available, so lints are off (`rustup component add clippy` turns them on)"
        );
    }
}

/// `clippy-driver` in `preferred` or else in a `PATH` directory.
fn find_driver(preferred: Option<&Path>, path: &std::ffi::OsStr) -> Option<PathBuf> {
    preferred
        .into_iter()
        .map(Path::to_path_buf)
        .chain(std::env::split_paths(path))
        .map(|dir| dir.join("clippy-driver"))
        .find(|candidate| candidate.is_file())
}

/// `unsafe` as a keyword outside `//` comments: a block, fn, impl, trait
/// or extern block.
pub fn has_unsafe_code(text: &str) -> bool {
    text.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .any(|code| {
            code.match_indices("unsafe").any(|(i, _)| {
                let before = code[..i].chars().next_back();
                let after = code[i + "unsafe".len()..].trim_start();
                !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '`')
                    && ["{", "fn ", "impl", "trait ", "extern "]
                        .iter()
                        .any(|next| after.starts_with(next))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_memory_lints_are_denied() {
        assert!(is_denied("clippy::uninit_vec"));
        assert!(is_denied("invalid_value"));
        assert!(!is_denied("clippy::overly_complex_bool_expr"));
        assert!(!is_denied("uninit_vec"));
        assert!(!is_denied("unconditional_panic"));
        assert!(!is_denied("E0308"));
    }

    #[test]
    fn the_manifest_denies_memory_lints_and_warns_of_the_rest() {
        let table = manifest_table();
        assert_eq!(table["clippy"]["uninit_vec"].as_str(), Some("deny"));
        assert_eq!(
            table["clippy"]["correctness"]["level"].as_str(),
            Some("warn")
        );
        assert_eq!(table["rust"]["invalid_value"].as_str(), Some("deny"));
    }

    #[test]
    fn finds_the_driver_beside_cargo_first() {
        let dir = tempfile::tempdir().unwrap();
        let (toolchain, elsewhere) = (dir.path().join("tc"), dir.path().join("bin"));
        for d in [&toolchain, &elsewhere] {
            std::fs::create_dir_all(d).unwrap();
            std::fs::write(d.join("clippy-driver"), "").unwrap();
        }
        let path = std::env::join_paths([&elsewhere]).unwrap();
        assert_eq!(
            find_driver(Some(&toolchain), &path),
            Some(toolchain.join("clippy-driver"))
        );
        assert_eq!(
            find_driver(Some(dir.path()), &path),
            Some(elsewhere.join("clippy-driver"))
        );
        assert_eq!(find_driver(None, std::ffi::OsStr::new("")), None);
    }

    #[test]
    fn finds_unsafe_code_not_the_word() {
        assert!(has_unsafe_code("let p = unsafe { alloc(l) };"));
        assert!(has_unsafe_code("unsafe impl Send for X {}"));
        assert!(has_unsafe_code("    pub unsafe fn f() {}"));
        assert!(!has_unsafe_code("//! No `unsafe` is needed anywhere."));
        assert!(!has_unsafe_code("let x = 1; // unsafe { would be wrong }"));
        assert!(!has_unsafe_code("/// an unsafe_cell helper"));
    }
}
