//! Must not compile: cloning a `Resource`.
//!
//! A resource is released exactly once, by the one value that owns it.
//! `Resource` does not implement `Clone`, so the compiler rejects the copy
//! (E0599: no method named `clone`). With a `Clone`, both values would
//! print `release` for the same resource, as two C++ objects sharing a
//! handle through a defaulted copy constructor would each close it.

use crate::dropguard::Resource;

fn main() {
    let original = Resource::new("weights");
    let copy = original.clone();
    println!("{} {}", original.name(), copy.name());
}
