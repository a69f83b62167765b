//! Must not compile: using a handle after `into_value`.
//!
//! `into_value` takes the `Rc` by value: on success the node is unwrapped,
//! its value moved out and the node freed, so no handle may remain. The
//! compiler rejects the later use of the moved handle (E0382). If
//! `into_value` took `&Rc<Node>`, `try_unwrap` could never succeed, since
//! the caller's handle would always count.

use crate::graph::{input, into_value};

fn main() {
    let x = input("x", vec![1.0, 2.0]);
    let value = into_value(x);
    println!("{} {}", value.is_ok(), x.name());
}
