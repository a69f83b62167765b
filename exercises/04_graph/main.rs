//! Driver for the `graph` exercise. Do not edit: complete `graph.rs`.
//!
//! Every `free` line is printed by a node's `Drop`, so the output shows
//! exactly when each node's last strong handle goes. The check also
//! requires that nothing leaks by the end of `main`.

use std::error::Error;
use std::rc::{Rc, Weak};

use crate::graph::{Node, Op, input, into_value, op};

/// Floats per tensor in the per-token graphs.
const N: usize = 4096;

fn counts(node: &Rc<Node>) {
    println!(
        "{}: strong {}, weak {}",
        node.name(),
        Rc::strong_count(node),
        Rc::weak_count(node)
    );
}

fn names(nodes: &[Rc<Node>]) -> Vec<&str> {
    nodes.iter().map(|node| node.name()).collect()
}

fn consumers(node: &Rc<Node>) {
    let live = node.consumers();
    println!(
        "{} is consumed by {:?}, links kept: {}",
        node.name(),
        names(&live),
        node.links()
    );
}

/// Whether the node behind `weak` is alive, and its strong count. The
/// `Rc` that `upgrade` returns is dropped at the end of the `let` statement,
/// before the count is read: inside one `println!`, it would count too.
fn alive(weak: &Weak<Node>) -> String {
    let alive = weak.upgrade().is_some();
    format!("alive {alive}, strong {}", weak.strong_count())
}

fn try_op(name: &str, kind: Op, inputs: &[&Rc<Node>]) {
    match op(name, kind, inputs) {
        Ok(node) => println!("unexpected: {} was made", node.name()),
        Err(e) => println!("op({name:?}, {kind:?}, {} inputs): {e}", inputs.len()),
    }
}

/// One decoding step: llama.cpp builds a fresh graph for every token,
/// evaluates it, and frees it. `y = x * w`, `z = relu(y)`.
fn forward(token: usize) -> Result<Vec<f32>, Box<dyn Error>> {
    let x = input("x", (0..N).map(|i| (i % 7) as f32 - 3.0).collect());
    let w = input("w", vec![token as f32 + 0.5; N]);
    let y = op("y", Op::Mul, &[&x, &w])?;
    let z = op("z", Op::Relu, &[&y])?;
    // Our handles go; the graph lives on through z's inputs.
    drop((x, w, y));
    println!("only z is held: strong {}", Rc::strong_count(&z));
    match into_value(z) {
        Ok(value) => Ok(value),
        Err(z) => {
            println!("into_value(z): {} is still shared", z.name());
            Ok(Vec::new())
        }
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    println!("== building: inputs are shared, consumers are weak back-links");
    let x = input("x", vec![1.0, -2.0, 3.0]);
    let w = input("w", vec![0.5, 0.5, -2.0]);
    counts(&x);
    let a = op("a", Op::Mul, &[&x, &w])?;
    let b = op("b", Op::Add, &[&x, &w])?;
    let c = op("c", Op::Add, &[&a, &b])?;
    let r = op("r", Op::Relu, &[&c])?;
    println!("c = {:?} of {:?}", c.op(), names(c.inputs()));
    counts(&x);
    counts(&a);
    counts(&c);
    counts(&r);
    consumers(&x);
    consumers(&w);
    consumers(&c);
    consumers(&r);

    println!();
    println!("== a rejected node changes nothing");
    let short = input("short", vec![1.0, 2.0]);
    try_op("bad", Op::Add, &[&x]);
    try_op("bad", Op::Relu, &[&x, &w]);
    try_op("bad", Op::Mul, &[]);
    try_op("bad", Op::Input, &[]);
    try_op("bad", Op::Add, &[&x, &short]);
    try_op("bad", Op::Mul, &[&short, &x]);
    consumers(&x);
    consumers(&short);
    counts(&x);
    drop(short);

    println!();
    println!("== eval: every node computes once, inputs first");
    println!("r = {:?}", r.eval());
    println!("r = {:?}", r.eval());
    println!("c = {:?}", c.eval());
    println!("a = {:?}", a.eval());
    println!("x = {:?}", x.eval());
    let empty = input("empty", Vec::new());
    let none = op("none", Op::Relu, &[&empty])?;
    println!(
        "none = {:?} ({} floats, empty {})",
        none.eval(),
        none.len(),
        none.is_empty()
    );
    drop(empty);
    drop(none);

    println!();
    println!("== dropping handles: a node lives while anything holds it strongly");
    let weak_x = Rc::downgrade(&x);
    drop(x);
    println!("dropped our x: {}", alive(&weak_x));
    drop(r);
    consumers(&c);
    counts(&c);
    match into_value(a) {
        Ok(value) => println!("into_value(a) = {value:?}, although c holds a too"),
        Err(a) => {
            println!("into_value(a): still shared, handle given back");
            counts(&a);
            drop(a);
            println!("dropped our a: c still holds it");
        }
    }
    match into_value(c) {
        Ok(value) => println!("into_value(c) = {value:?}"),
        Err(c) => println!(
            "into_value(c): still shared, strong {}",
            Rc::strong_count(&c)
        ),
    }
    println!("x: {}", alive(&weak_x));
    consumers(&b);
    consumers(&w);
    drop(b);
    println!(
        "x: {}; the weak handle cannot bring it back",
        alive(&weak_x)
    );
    consumers(&w);
    counts(&w);
    let fresh = op("fresh", Op::Relu, &[&w])?;
    match into_value(fresh) {
        Ok(value) => println!("into_value(fresh) = {value:?}"),
        Err(fresh) => println!(
            "into_value(fresh): still shared, strong {}",
            Rc::strong_count(&fresh)
        ),
    }
    consumers(&w);
    drop(w);

    println!();
    println!("== per token: build a graph of {N}-float tensors, evaluate it, free it");
    for token in 0..2 {
        let value = forward(token)?;
        println!(
            "token {token}: {} floats, sum {}",
            value.len(),
            value.iter().sum::<f32>()
        );
    }

    println!();
    println!("== end of main");
    Ok(())
}
