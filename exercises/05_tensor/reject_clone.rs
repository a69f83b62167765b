//! Must not compile: `Tensor` is deliberately not `Clone`, so its element
//! buffer can never be copied by accident (E0599: no method `clone`).

use crate::tensor::Tensor;

fn main() {
    let original = Tensor::create(&[2, 3]).unwrap();
    let copy: Tensor = (*original).clone();
    println!("{} and {}", original.sum(), copy.sum());
}
