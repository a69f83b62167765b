//! Must not compile: a thread may outlive the loader, so it needs a
//! `'static` handle (an `Arc<ModelLoader>` clone), never a borrowed view.

use std::thread;

use crate::loader::ModelLoader;

fn main() {
    let model = ModelLoader::open("model.gguf").expect("model.gguf opens");
    let view = model.tensor_f32("token_embd.weight").expect("an F32 tensor");
    // error[E0597]: `model` does not live long enough (the closure must be 'static)
    let worker = thread::spawn(move || view.iter().sum::<f32>());
    println!("{}", worker.join().expect("worker finished"));
}
