//! Alternative: combinators instead of early returns, `Box<Path>` for the path, and `writeln!` in `Drop`.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::Path;

use memmap2::{MmapMut, MmapOptions};

/// A read-write memory mapping of a file, unmapped when dropped.
///
/// Not `Clone`: two owners of one mapping would both unmap it.
pub struct MemoryMapper {
    /// The mapping; its own `Drop` unmaps it after ours has run.
    map: MmapMut,
    /// The path as given; it never changes, so a `Box<Path>` is enough.
    path: Box<Path>,
}

impl MemoryMapper {
    /// Creates `path` if needed, grows it to at least `size` bytes and maps
    /// its first `size` bytes read-write.
    ///
    /// Errors: `InvalidInput` for `size == 0` (before touching the file),
    /// and any I/O error from opening, resizing or mapping.
    pub fn create(path: impl AsRef<Path>, size: usize) -> io::Result<MemoryMapper> {
        let path = path.as_ref();
        let wanted = Some(size)
            .filter(|&size| size != 0)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "cannot map an empty (0-byte) region",
                )
            })
            .and_then(|size| u64::try_from(size).map_err(io::Error::other))?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        // Never shrink: the new length is the larger of the two, and setting
        // a file to its own length changes nothing.
        file.metadata()
            .map(|meta| meta.len().max(wanted))
            .and_then(|len| file.set_len(len))?;
        // SAFETY: the file is at least `size` bytes long; by the type's
        // contract nobody else truncates or modifies it while it is mapped.
        unsafe { MmapOptions::new().len(size).map_mut(&file) }.map(|map| MemoryMapper {
            map,
            path: path.into(),
        })
    }

    /// Number of mapped bytes.
    pub fn size(&self) -> usize {
        self.map.len()
    }

    /// The path this mapper was created with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The mapped bytes, read-only.
    pub fn as_slice(&self) -> &[u8] {
        self.map.as_ref()
    }

    /// The mapped bytes, writable; writes go straight to the file's pages.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        self.map.as_mut()
    }
}

impl Drop for MemoryMapper {
    fn drop(&mut self) {
        let flushed = self.map.flush();
        // Errors are reported, never raised: a panic in `drop` during an
        // unwind would abort the program.
        if let Err(e) = flushed {
            let _ = writeln!(
                io::stderr(),
                "warning: flushing {} failed: {e}",
                self.path.display()
            );
        }
        let _ = writeln!(
            io::stdout().lock(),
            "unmapped {} ({} bytes)",
            self.path.display(),
            self.size()
        );
    }
}
