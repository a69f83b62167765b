//! Must not compile: a tensor view borrows its loader (`&self`), so the
//! loader, and with it the mapping, cannot be dropped while the view is in
//! use. In C++ the `float*` would dangle after `munmap`.

use crate::loader::ModelLoader;

fn main() {
    let model = ModelLoader::open("model.gguf").expect("model.gguf opens");
    let view = model.tensor_f32("token_embd.weight").expect("an F32 tensor");
    drop(model); // error[E0505]: cannot move out of `model` because it is borrowed
    println!("{}", view[0]);
}
