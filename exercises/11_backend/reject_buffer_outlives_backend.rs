//! Must not compile: a device buffer kept after its backend is gone.
//!
//! `alloc_buffer` returns `Box<dyn Buffer + '_>`: the buffer borrows the
//! backend, so it cannot live longer than it (E0597). If it compiled, the
//! buffer's `Drop` would give its bytes back to a device that no longer
//! exists, as a ggml buffer freed after its backend would.

use crate::backend::{Backend, DeviceBackend};

fn main() {
    let buf;
    {
        let device = DeviceBackend::new(64);
        buf = device.alloc_buffer(4).unwrap();
    }
    println!("{}", buf.len());
}
