//! RAII memory mapper (reference solution).
//!
//! A `MemoryMapper` owns a read-write mapping of a file. Acquiring it
//! (`create`) sizes the file and maps it; releasing it (`Drop`) flushes and
//! unmaps. Rust moves are plain bitwise transfers of ownership: there is no
//! "moved-from" object left behind, so the destructor can never run twice and
//! there is no null state to check for.

use std::fs::OpenOptions;
use std::io;
use std::path::{Path, PathBuf};

use memmap2::{MmapMut, MmapOptions};

/// A read-write memory mapping of a file, unmapped when dropped.
///
/// Deliberately not `Clone`: two owners of one mapping would both try to
/// unmap it. Moving it is always fine.
///
/// The file must not be truncated or modified by anyone else (another
/// process, another handle) while it is mapped; see the `SAFETY` note in
/// [`MemoryMapper::create`].
pub struct MemoryMapper {
    /// The mapping itself; memmap2's own `Drop` calls `munmap`.
    map: MmapMut,
    /// Kept only to say which file was unmapped.
    path: PathBuf,
}

impl MemoryMapper {
    /// Creates `path` if needed, grows it to at least `size` bytes and maps
    /// its first `size` bytes read-write.
    ///
    /// A file already larger than `size` keeps its length and contents; only
    /// its first `size` bytes are mapped. The mapping is shared: writes reach
    /// the file and every other mapping of it.
    ///
    /// Errors: `InvalidInput` for `size == 0` (an empty mapping is not
    /// portable), returned before the file is touched; and any I/O error from
    /// opening, resizing or mapping, e.g. `NotFound` when the parent
    /// directory does not exist, or the error for a `size` no file can have.
    pub fn create(path: impl AsRef<Path>, size: usize) -> io::Result<MemoryMapper> {
        // Checked first, so that a rejected call creates no file.
        if size == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot map an empty (0-byte) region",
            ));
        }
        let path = path.as_ref();
        // `truncate(false)`: an existing file keeps its contents; we only
        // ever grow it, never shrink it.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let wanted = u64::try_from(size)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "size does not fit in u64"))?;
        // Only grow: shrinking would lose data and pull pages out from under
        // any other mapping of this file (a SIGBUS on its next access).
        if file.metadata()?.len() < wanted {
            file.set_len(wanted)?;
        }
        // SAFETY: memmap2 marks mapping as unsafe because the bytes can change
        // under us if the file is modified or truncated externally while it
        // is mapped, which Rust cannot rule out. We opened the file ourselves,
        // made it at least `size` bytes long just above, and document on the
        // type that nobody else may modify it while the mapper lives (the same
        // contract llama.cpp relies on for model files).
        let map = unsafe { MmapOptions::new().len(size).map_mut(&file)? };
        // `file` can be closed now: the mapping keeps its own reference to
        // the underlying file.
        Ok(MemoryMapper {
            map,
            path: path.to_path_buf(),
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
        &self.map
    }

    /// The mapped bytes, writable; writes go straight to the file's pages.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.map
    }
}

impl Drop for MemoryMapper {
    fn drop(&mut self) {
        // `drop` cannot return an error, so the best we can do with a failed
        // flush is report it. The pages are still written back by the OS
        // eventually; `flush` just makes it happen now.
        if let Err(e) = self.map.flush() {
            eprintln!("warning: flushing {} failed: {e}", self.path.display());
        }
        // The actual `munmap` happens right after this body returns, when
        // the `map` field is dropped.
        println!("unmapped {} ({} bytes)", self.path.display(), self.size());
    }
}
