//! Must not compile: using a guard after `defuse`.
//!
//! `defuse` takes the guard by value, so the guard is moved into the call
//! and the compiler rejects any later use of it (E0382). If `defuse` took
//! `&mut self`, a committed guard would still be around, and code could go
//! on working through it as if it were still protected.

use crate::dropguard::ScopeGuard;

fn main() {
    let mut guard = ScopeGuard::new(String::from("draft"), |text: String| drop(text));
    guard.push_str(" v2");
    let text = guard.defuse();
    println!("{text} {}", guard.len());
}
