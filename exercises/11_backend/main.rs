//! Driver for the `backend` exercise. Do not edit: complete `backend.rs`.
//!
//! `run` is written once, against `&dyn Backend`, and runs on both backends:
//! the strategy pattern. Apart from the buffers and the copies that `read`
//! makes of device memory, nothing here allocates (stdout's buffer aside),
//! so the check's heap figures count every copy a backend makes.

use std::borrow::Cow;
use std::error::Error;

use crate::backend::{Backend, BackendError, Buffer, CpuBackend, DeviceBackend};

/// Floats in the driver's tensor.
const N: usize = 4;
/// The simulated device's memory: 16 floats.
const DEVICE_BYTES: usize = 64;

fn show_read(what: &str, buf: &dyn Buffer) {
    match buf.read() {
        Ok(Cow::Borrowed(floats)) => println!("  {what}: {floats:?}, borrowed"),
        Ok(Cow::Owned(floats)) => println!("  {what}: {floats:?}, a copy"),
        Err(e) => println!("  {what}: {e}"),
    }
}

fn report(what: &str, result: Result<(), BackendError>) {
    match result {
        Ok(()) => println!("  {what}: ok"),
        Err(e) => println!("  {what}: {e}"),
    }
}

fn try_alloc(backend: &dyn Backend, len: usize) {
    match backend.alloc_buffer(len) {
        Ok(buf) => println!(
            "  alloc_buffer({len}): unexpected success, {} floats",
            buf.len()
        ),
        Err(e) => println!("  alloc_buffer({len}): {e}"),
    }
}

/// A buffer that should fit, or `None` (and its error) if it does not.
fn alloc_shown(device: &DeviceBackend, len: usize) -> Option<Box<dyn Buffer + '_>> {
    match device.alloc_buffer(len) {
        Ok(buf) => {
            println!("  alloc_buffer({len}): {} bytes used", device.used_bytes());
            Some(buf)
        }
        Err(e) => {
            println!("  alloc_buffer({len}): unexpected error: {e}");
            None
        }
    }
}

/// The same work on any backend.
fn run(backend: &dyn Backend) -> Result<(), BackendError> {
    println!("== {} backend", backend.name());
    let host = [1.0, 2.0, 3.0, 4.0];
    let mut buf = backend.alloc_buffer(N)?;
    println!(
        "  alloc_buffer({N}): {} floats on {}, empty {}",
        buf.len(),
        buf.backend_name(),
        buf.is_empty()
    );
    buf.upload(&host)?;
    buf.scale(2.0)?;
    let mut out = [0.0; N];
    buf.download(&mut out)?;
    println!("  upload {host:?}, scale(2), download: {out:?}");
    show_read("read", &*buf);

    // Slices of the wrong length are refused, and the buffer keeps its data.
    report("upload of 3 floats", buf.upload(&host[..3]));
    report("upload of 5 floats", buf.upload(&[9.0; N + 1]));
    report("download into 3 floats", buf.download(&mut [0.0; 3]));
    report("download into 5 floats", buf.download(&mut [0.0; N + 1]));
    show_read("read after refused transfers", &*buf);

    // An empty tensor is a valid buffer.
    let mut empty = backend.alloc_buffer(0)?;
    println!(
        "  alloc_buffer(0): {} floats, empty {}",
        empty.len(),
        empty.is_empty()
    );
    empty.upload(&[])?;
    show_read("read of the empty buffer", &*empty);

    // Sizes no allocation can hold: errors, not panics.
    try_alloc(backend, usize::MAX);
    try_alloc(backend, isize::MAX as usize / 4 + 1);
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let device = DeviceBackend::new(DEVICE_BYTES);
    let backends: [&dyn Backend; 2] = [&CpuBackend, &device];
    for backend in backends {
        run(backend)?;
    }
    // Every buffer `run` made is gone, and the device got its memory back.
    println!(
        "device after run: {} bytes used, transfers: {}",
        device.used_bytes(),
        device.transfers()
    );

    println!("== device memory");
    // Fresh device memory holds nothing meaningful yet.
    let mut fresh = device.alloc_buffer(N)?;
    report("download before upload", fresh.download(&mut [0.0; N]));
    show_read("read before upload", &*fresh);
    report("scale before upload", fresh.scale(2.0));

    // The rest of the device, to the last byte, then nothing more.
    let rest = alloc_shown(&device, 12);
    try_alloc(&device, 1);
    try_alloc(&device, isize::MAX as usize / 4);
    drop(rest);
    println!(
        "  dropped the 12-float buffer: {} bytes used",
        device.used_bytes()
    );
    let again = alloc_shown(&device, 12);
    drop(again);
    drop(fresh);
    println!(
        "device at the end: {} bytes used, transfers: {}",
        device.used_bytes(),
        device.transfers()
    );
    Ok(())
}
