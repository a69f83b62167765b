//! Driver for the `tensor` exercise. Do not edit: complete `tensor.rs`.

use std::error::Error;
use std::sync::Arc;

use crate::tensor::{Tensor, TensorManager};

/// Prints a tensor's shape, sizes, elements (the first three and the last
/// when there are many) and sum.
fn describe(what: &str, t: &Tensor) {
    let data = t.data();
    print!(
        "{what} {:?}: {} elements, {} bytes, data ",
        t.shape(),
        t.num_elements(),
        t.size_bytes()
    );
    match data {
        [a, b, c, .., z] if data.len() > 8 => print!("[{a:?}, {b:?}, {c:?}, ..., {z:?}]"),
        _ => print!("{data:?}"),
    }
    println!(", sum {}", sum(t));
}

/// The tensor's sum, with -0 shown as 0: `Iterator::sum` of no floats is
/// -0.0, while a loop that starts from 0.0 gives 0.0, and both are right.
fn sum(t: &Tensor) -> f32 {
    t.sum() + 0.0
}

/// A shape that cannot be allocated must come back as an error value.
fn create_too_large(why: &str, shape: &[usize]) {
    match Tensor::create(shape) {
        Ok(t) => describe(&format!("create ({why}) unexpectedly succeeded:"), &t),
        Err(e) => println!("create {shape:?} ({why}): {e}"),
    }
}

/// Looks up `index` and shows the tensor, or the error.
fn show_get(manager: &TensorManager, index: usize) {
    match manager.get(index) {
        Ok(t) => println!(
            "get({index}): {:?}, sum {}, strong count {}",
            t.shape(),
            sum(&t),
            Arc::strong_count(&t)
        ),
        Err(e) => println!("get({index}): {e}"),
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    println!("-- creating tensors");
    let matrix = Tensor::create(&[2, 3])?;
    let vector = Tensor::create(&[4])?;
    let scalar = Tensor::create(&[])?; // no dimensions: one element
    let empty = Tensor::create(&[3, 0, 5])?; // a 0 dimension: no elements
    // Big enough (18 KiB) that one copy of its data stands out in the heap
    // figures; its sum is still exact in f32.
    let big = Tensor::create(&[48, 96])?;
    for t in [&matrix, &vector, &scalar, &empty, &big] {
        describe("created", t);
    }

    println!("-- shapes that do not fit: errors, not panics");
    create_too_large("the element count overflows usize", &[1 << 20; 4]);
    create_too_large(
        "the count overflows only at the last dimension",
        &[2, 3, usize::MAX],
    );
    create_too_large(
        "2^62 elements fit in usize, but their 2^64 bytes do not",
        &[1 << 62],
    );
    create_too_large(
        "2^61 elements are 2^63 bytes, one more than isize::MAX",
        &[1 << 30, 1 << 31],
    );

    println!("-- an empty manager");
    let mut manager = TensorManager::new();
    println!(
        "count {}, total memory {} bytes",
        manager.count(),
        manager.total_memory()
    );
    show_get(&manager, 0);

    println!("-- sharing without copying");
    // Remember where the elements live before handing the tensors over.
    let matrix_data = matrix.as_ptr();
    let big_data = big.as_ptr();
    // Each `add` moves a Box: no element is copied, no tensor freed.
    let m = manager.add(matrix);
    let b = manager.add(big);
    let s = manager.add(scalar);
    let e = manager.add(empty);
    println!("added as tensors {m}, {b}, {s}, {e}");
    println!(
        "count {}, total memory {} bytes",
        manager.count(),
        manager.total_memory()
    );
    let retrieved = manager.get(m)?;
    let big_again = manager.get(b)?;
    println!(
        "data moved without copying: {} and {}",
        std::ptr::eq(matrix_data, retrieved.as_ptr()),
        std::ptr::eq(big_data, big_again.as_ptr())
    );
    drop(big_again);

    println!("-- looking tensors up, up to the last index and past it");
    let count = manager.count();
    for index in [0, count - 1, count, usize::MAX] {
        show_get(&manager, index);
    }

    println!("-- handles share one tensor");
    println!(
        "strong count of tensor {m}: {}",
        Arc::strong_count(&retrieved)
    );
    {
        let again = manager.get(m)?;
        println!(
            "strong count with a second handle: {}",
            Arc::strong_count(&again)
        );
    }
    println!(
        "second handle dropped, count: {}",
        Arc::strong_count(&retrieved)
    );

    println!("-- dropping the vector, which was never shared");
    drop(vector);

    println!("-- dropping the manager");
    drop(manager);
    println!(
        "manager gone, retrieved count: {}",
        Arc::strong_count(&retrieved)
    );
    describe("still readable:", &retrieved);
    println!("-- dropping the last handle");
    drop(retrieved);
    println!("done");
    Ok(())
}
