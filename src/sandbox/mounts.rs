//! The program's view of the file system, built inside a fresh mount
//! namespace: hidden directories become empty read-only tmpfs mounts, the
//! paths that must stay visible inside them are bound back, every mount is
//! made read-only, and only the writable paths stay writable.

use std::fs::{self, File};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::mount::{MsFlags, mount};
use nix::sys::stat::Mode;
use nix::sys::statvfs::{FsFlags, statvfs};

use super::spec::View;

/// A step of the set-up that failed, with its cause.
#[derive(Debug, thiserror::Error)]
#[error("{step} {}: {source}", path.display())]
pub struct MountError {
    step: &'static str,
    path: PathBuf,
    source: std::io::Error,
}

fn at(step: &'static str, path: &Path) -> impl FnOnce(Errno) -> MountError + use<> {
    let path = path.to_path_buf();
    move |errno| MountError {
        step,
        path,
        source: errno.into(),
    }
}

/// Builds the view in the calling process's (new, private) mount namespace.
pub fn build(view: &View) -> Result<(), MountError> {
    let none: Option<&str> = None;
    mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none)
        .map_err(at("make private", Path::new("/")))?;
    // Bind sources are opened before anything hides them.
    let kept: Vec<Kept> = view
        .shown
        .iter()
        .chain(&view.writable)
        .map(|path| Kept::open(path))
        .collect::<Result<_, _>>()?;
    for dir in view.hidden.iter().filter(|d| d.is_dir()) {
        hide(dir)?;
    }
    for kept in &kept {
        kept.bind()?;
    }
    let writable: Vec<&Path> = view.writable.iter().map(PathBuf::as_path).collect();
    make_read_only(&writable)
}

/// Mounts `/proc` for the calling process's PID namespace.
pub fn mount_proc() -> Result<(), MountError> {
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount(Some("proc"), "/proc", Some("proc"), flags, None::<&str>)
        .map_err(at("mount", Path::new("/proc")))
}

/// A path to bind back in place, held open so that hiding its parent
/// directory does not lose it.
struct Kept {
    path: PathBuf,
    source: OwnedFd,
    is_dir: bool,
}

impl Kept {
    fn open(path: &Path) -> Result<Kept, MountError> {
        let source = open(path, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(at("open", path))?;
        Ok(Kept {
            path: path.to_path_buf(),
            is_dir: path.is_dir(),
            source,
        })
    }

    /// Creates the mount point if a tmpfs hid it, then binds the source
    /// (through its descriptor) onto it.
    fn bind(&self) -> Result<(), MountError> {
        let io = |step| {
            let path = self.path.clone();
            move |source| MountError { step, path, source }
        };
        if !self.path.exists() {
            if let Some(parent) = self.path.parent() {
                fs::create_dir_all(parent).map_err(io("create"))?;
            }
            match self.is_dir {
                true => fs::create_dir(&self.path).map_err(io("create"))?,
                false => drop(File::create(&self.path).map_err(io("create"))?),
            }
        }
        let source = format!("/proc/self/fd/{}", self.source.as_raw_fd());
        mount(
            Some(source.as_str()),
            &self.path,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(at("bind", &self.path))
    }
}

/// Replaces a directory's contents, for the program, by an empty tmpfs.
/// It stays writable until [`make_read_only`] so mount points can be made.
fn hide(dir: &Path) -> Result<(), MountError> {
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    mount(
        Some("tmpfs"),
        dir,
        Some("tmpfs"),
        flags,
        Some("mode=0755,size=1m"),
    )
    .map_err(at("hide", dir))
}

/// Remounts every mount point read-only, keeping its other flags (a user
/// namespace may not clear the ones it inherited), except `writable` ones.
fn make_read_only(writable: &[&Path]) -> Result<(), MountError> {
    let table = Path::new("/proc/self/mountinfo");
    let text = fs::read_to_string(table).map_err(|source| MountError {
        step: "read",
        path: table.to_path_buf(),
        source,
    })?;
    for point in mount_points(&text) {
        if writable.iter().any(|w| *w == point) {
            continue;
        }
        let flags = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY;
        let flags = match statvfs(&point) {
            Ok(stat) => flags | kept_flags(stat.flags()),
            // Not reachable (hidden under another mount): nothing to protect.
            Err(Errno::EACCES | Errno::ENOENT) => continue,
            Err(e) => return Err(at("inspect", &point)(e)),
        };
        match mount(None::<&str>, &point, None::<&str>, flags, None::<&str>) {
            Ok(()) | Err(Errno::EACCES | Errno::ENOENT) => {}
            Err(e) => return Err(at("make read-only", &point)(e)),
        }
    }
    Ok(())
}

/// The per-mount flags to keep when remounting.
fn kept_flags(flags: FsFlags) -> MsFlags {
    let pairs = [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ];
    let kept = pairs
        .iter()
        .filter(|(st, _)| flags.contains(*st))
        .fold(MsFlags::empty(), |acc, (_, ms)| acc | *ms);
    // Without either, a remount would default to relatime, and changing a
    // locked atime mode is refused.
    match flags.intersects(FsFlags::ST_NOATIME | FsFlags::ST_RELATIME) {
        true => kept,
        false => kept | MsFlags::MS_STRICTATIME,
    }
}

/// The mount points listed in `/proc/self/mountinfo`, unescaped.
fn mount_points(mountinfo: &str) -> Vec<PathBuf> {
    mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|field| PathBuf::from(unescape(field)))
        .collect()
}

/// Undoes mountinfo's octal escapes (`\040` for a space, ...).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            std::str::from_utf8(d)
                .ok()
                .and_then(|d| u8::from_str_radix(d, 8).ok())
        });
        match (bytes[i], octal) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mount_points() {
        let info = "22 27 0:21 / /proc rw,relatime - proc proc rw\n\
                    27 1 254:0 / / rw - ext4 /dev/vda rw\n\
                    30 27 0:27 / /a\\040b rw - tmpfs tmpfs rw\n";
        assert_eq!(
            mount_points(info),
            [
                PathBuf::from("/proc"),
                PathBuf::from("/"),
                PathBuf::from("/a b")
            ]
        );
        assert_eq!(unescape("x\\134y\\"), "x\\y\\");
    }

    #[test]
    fn remounts_keep_the_atime_mode() {
        let relatime = kept_flags(FsFlags::ST_RELATIME | FsFlags::ST_NOSUID);
        assert_eq!(relatime, MsFlags::MS_RELATIME | MsFlags::MS_NOSUID);
        assert_eq!(kept_flags(FsFlags::empty()), MsFlags::MS_STRICTATIME);
    }
}
