//! Must not compile: dropping the backend while one of its buffers lives.
//!
//! The buffer borrows the backend, and `drop` needs to move it, which is
//! refused while it is borrowed (E0505).

use crate::backend::{Backend, DeviceBackend};

fn main() {
    let device = DeviceBackend::new(64);
    let mut buf = device.alloc_buffer(4).unwrap();
    drop(device);
    buf.upload(&[1.0, 2.0, 3.0, 4.0]).unwrap();
}
