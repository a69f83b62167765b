//! Must not compile: a borrowed view sent to an unscoped thread.
//!
//! `thread::spawn` needs a `'static` closure, because the thread may run
//! after `main` has dropped the model; `floats` borrows `model`, so the
//! compiler refuses (E0597). `std::thread::scope` (which joins before
//! returning) or an `Arc<Model>` clone moved into the thread are the ways
//! out; a `const float *` in C++ would just dangle.

use std::thread;

use crate::threads::Model;

fn main() {
    let model = Model::open("model.bin").expect("model.bin opens");
    let floats = model.floats().expect("whole floats");
    let worker = thread::spawn(move || floats.iter().sum::<f32>());
    println!("{}", worker.join().expect("worker finished"));
}
