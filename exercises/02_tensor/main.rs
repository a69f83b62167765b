//! Driver for the `tensor` exercise. Do not edit: complete `tensor.rs`.

use std::error::Error;
use std::sync::Arc;

use crate::tensor::{Tensor, TensorManager};

fn main() -> Result<(), Box<dyn Error>> {
    let matrix = Tensor::create(&[2, 3])?;
    let vector = Tensor::create(&[4])?;
    for t in [&matrix, &vector] {
        println!(
            "created {:?}: {} elements ({} bytes) {:?}, sum {}",
            t.shape(),
            t.num_elements(),
            t.size_bytes(),
            t.data(),
            t.sum()
        );
    }

    // Remember where the matrix's elements live before handing it over.
    let matrix_data = matrix.as_ptr();

    let mut manager = TensorManager::new();
    let m = manager.add(matrix); // moves the Box: nothing is copied or freed
    manager.add(vector);
    println!("manager holds {} tensors", manager.count());
    println!("total memory: {} bytes", manager.total_memory());

    let retrieved = manager.get(m)?;
    println!("retrieved {:?}, sum {}", retrieved.shape(), retrieved.sum());
    println!(
        "data moved without copying: {}",
        std::ptr::eq(matrix_data, retrieved.as_ptr())
    );
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

    // Errors are values, not panics.
    if let Err(e) = manager.get(7) {
        println!("get(7): {e}");
    }
    let huge = [1 << 20; 4];
    if let Err(e) = Tensor::create(&huge) {
        println!("Tensor::create: {e}");
    }

    println!("dropping the manager");
    drop(manager);
    println!(
        "manager gone, retrieved count: {}",
        Arc::strong_count(&retrieved)
    );
    println!(
        "retrieved {:?} still readable, sum {}",
        retrieved.shape(),
        retrieved.sum()
    );
    println!("dropping the last handle");
    drop(retrieved);
    println!("done");
    Ok(())
}
