//! What the supervisor is asked to do, carried on its command line:
//! `memlings __sandbox --status-fd N --cwd DIR [--hide P]... [--show P]...
//! [--write P]... [--rlimit NAME=N]... [--network] -- PROGRAM ARGS...`.

use std::ffi::{OsStr, OsString};
use std::os::fd::RawFd;
use std::path::PathBuf;

use super::rlimits::Rlimits;

/// The hidden subcommand that turns the runner's binary into a supervisor.
pub const SUBCOMMAND: &str = "__sandbox";

/// Which parts of the file system the program sees, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    /// Directories replaced by an empty, read-only directory.
    pub hidden: Vec<PathBuf>,
    /// Paths inside hidden directories that stay visible, read-only (the
    /// program itself).
    pub shown: Vec<PathBuf>,
    /// The only writable paths: the run directory and report files.
    pub writable: Vec<PathBuf>,
}

/// A supervisor's whole task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// Where to report (see `protocol`).
    pub status_fd: RawFd,
    /// The program's working directory.
    pub cwd: PathBuf,
    pub view: View,
    pub rlimits: Rlimits,
    /// Keep the network (for a build's first dependency download);
    /// programs get a network namespace of their own, with nothing in it.
    pub network: bool,
    /// The program and its arguments.
    pub command: Vec<OsString>,
}

/// A command line the supervisor cannot understand.
#[derive(Debug, thiserror::Error)]
#[error("bad sandbox arguments: {0}")]
pub struct BadArgs(String);

impl Spec {
    /// The arguments after the subcommand.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "--status-fd".into(),
            self.status_fd.to_string().into(),
            "--cwd".into(),
            self.cwd.clone().into(),
        ];
        let lists = [
            ("--hide", &self.view.hidden),
            ("--show", &self.view.shown),
            ("--write", &self.view.writable),
        ];
        for (flag, paths) in lists {
            for path in paths {
                args.push(flag.into());
                args.push(path.clone().into());
            }
        }
        for setting in self.rlimits.settings() {
            args.push("--rlimit".into());
            args.push(setting.into());
        }
        if self.network {
            args.push("--network".into());
        }
        args.push("--".into());
        args.extend(self.command.iter().cloned());
        args
    }

    /// Parses what [`Spec::to_args`] wrote.
    pub fn from_args(args: impl IntoIterator<Item = OsString>) -> Result<Spec, BadArgs> {
        let mut args = args.into_iter();
        let mut status_fd = None;
        let mut cwd = None;
        let mut view = View::default();
        let mut rlimits = Rlimits::default();
        let mut network = false;
        while let Some(flag) = args.next() {
            if flag == "--" {
                break;
            }
            if flag == "--network" {
                network = true;
                continue;
            }
            let value = args
                .next()
                .ok_or_else(|| BadArgs(format!("{} needs a value", flag.to_string_lossy())))?;
            match flag.to_str() {
                Some("--status-fd") => status_fd = Some(number(&value)?),
                Some("--cwd") => cwd = Some(PathBuf::from(value)),
                Some("--hide") => view.hidden.push(value.into()),
                Some("--show") => view.shown.push(value.into()),
                Some("--write") => view.writable.push(value.into()),
                Some("--rlimit") => rlimits
                    .set(&value.to_string_lossy())
                    .map_err(|e| BadArgs(e.to_string()))?,
                _ => return Err(BadArgs(format!("unknown {}", flag.to_string_lossy()))),
            }
        }
        let command: Vec<OsString> = args.collect();
        if command.is_empty() {
            return Err(BadArgs("no program".into()));
        }
        Ok(Spec {
            status_fd: status_fd.ok_or_else(|| BadArgs("no --status-fd".into()))?,
            cwd: cwd.ok_or_else(|| BadArgs("no --cwd".into()))?,
            view,
            rlimits,
            network,
            command,
        })
    }
}

fn number(value: &OsStr) -> Result<RawFd, BadArgs> {
    value
        .to_str()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| BadArgs(format!("not a number: {}", value.to_string_lossy())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_round_trip() {
        let spec = Spec {
            status_fd: 7,
            cwd: "/c/.memlings/run/x".into(),
            view: View {
                hidden: vec!["/c/expected".into(), "/c/.memlings".into()],
                shown: vec!["/c/.memlings/build/target/debug/ex_x".into()],
                writable: vec!["/c/.memlings/run/x".into()],
            },
            rlimits: Rlimits {
                address_space: Some(1 << 30),
                file_size: Some(64 << 20),
                processes: None,
            },
            network: true,
            command: vec!["valgrind".into(), "--".into(), "a b".into()],
        };
        assert_eq!(Spec::from_args(spec.to_args()).unwrap(), spec);
        assert!(Spec::from_args(vec!["--cwd".into()]).is_err());
        assert!(Spec::from_args(vec!["--bogus".into(), "1".into()]).is_err());
    }
}
