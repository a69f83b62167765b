//! Per-process resource limits, set in the program's process just before
//! it is executed. Applying them uses only async-signal-safe system calls,
//! so it may run between `fork` and `exec`.

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// The limits a program runs under; `None` leaves the inherited one.
/// Core dumps are always disabled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rlimits {
    /// RLIMIT_AS, bytes of address space per process.
    pub address_space: Option<u64>,
    /// RLIMIT_FSIZE, the largest file a process may write.
    pub file_size: Option<u64>,
    /// RLIMIT_NPROC, processes of the program's user.
    pub processes: Option<u64>,
}

/// An `--rlimit` setting the supervisor does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown resource limit {0:?}")]
pub struct UnknownLimit(String);

impl Rlimits {
    /// `NAME=VALUE` settings for the supervisor's command line.
    pub fn settings(self) -> Vec<String> {
        let named = [
            ("as", self.address_space),
            ("fsize", self.file_size),
            ("nproc", self.processes),
        ];
        named
            .iter()
            .filter_map(|(name, value)| value.map(|v| format!("{name}={v}")))
            .collect()
    }

    /// Takes one `NAME=VALUE` setting.
    pub fn set(&mut self, setting: &str) -> Result<(), UnknownLimit> {
        let unknown = || UnknownLimit(setting.to_owned());
        let (name, value) = setting.split_once('=').ok_or_else(unknown)?;
        let value = Some(value.parse().map_err(|_| unknown())?);
        match name {
            "as" => self.address_space = value,
            "fsize" => self.file_size = value,
            "nproc" => self.processes = value,
            _ => return Err(unknown()),
        }
        Ok(())
    }

    /// Sets the limits on the calling process. Never raises a hard limit
    /// (only a privileged process may), so a limit above the inherited one
    /// keeps the inherited one.
    pub fn apply(&self) -> nix::Result<()> {
        let limits = [
            (Resource::RLIMIT_AS, self.address_space),
            (Resource::RLIMIT_FSIZE, self.file_size),
            (Resource::RLIMIT_NPROC, self.processes),
            // A crashing exercise must not litter the workspace with cores.
            (Resource::RLIMIT_CORE, Some(0)),
        ];
        for (resource, value) in limits {
            if let Some(value) = value {
                let (_, hard) = getrlimit(resource)?;
                let value = value.min(hard);
                setrlimit(resource, value, value)?;
            }
        }
        Ok(())
    }
}
