//! Shared ownership without cycles: a small compute graph (reference
//! solution).
//!
//! ggml builds a compute graph of tensors: each node points at its inputs
//! (`src[]`), and the whole graph is freed at once with its context. A C++
//! port with `std::shared_ptr` makes inputs shared, so that a tensor lives
//! as long as any node that reads it. Links the other way, from an input to
//! the nodes that consume it, must then be `std::weak_ptr`: two nodes that
//! own each other keep each other's count above zero forever, and leak.
//!
//! Rust's counterparts are `Rc<T>` (`shared_ptr`, single-threaded; `Arc` is
//! the thread-safe one) and `Weak<T>` (`weak_ptr`). `Rc::clone` adds a
//! strong count, `Rc::downgrade` a weak one, and `Weak::upgrade` returns
//! `None` once the last strong handle is gone. An `Rc` only hands out `&T`,
//! so what must change after creation (the consumers list, the cached
//! value) sits in a `RefCell`, which checks its borrows at run time and
//! panics on a conflicting one.

use std::cell::RefCell;
use std::fmt;
use std::rc::{Rc, Weak};

/// What a node computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// A leaf holding data given at creation.
    Input,
    /// Element-wise sum of two inputs.
    Add,
    /// Element-wise product of two inputs.
    Mul,
    /// `max(x, 0)` of one input.
    Relu,
}

impl Op {
    /// How many inputs the operation takes.
    pub fn arity(self) -> usize {
        match self {
            Op::Input => 0,
            Op::Relu => 1,
            Op::Add | Op::Mul => 2,
        }
    }
}

/// Why a node could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphError {
    /// `Op::Input` is not an operation: inputs are made with [`input`].
    NotAnOperation,
    /// The operation takes `expected` inputs, not `got`.
    Arity { op: Op, expected: usize, got: usize },
    /// An input's length differs from the first input's.
    LengthMismatch {
        input: String,
        expected: usize,
        got: usize,
    },
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GraphError::NotAnOperation => write!(f, "inputs are made with `input`, not `op`"),
            GraphError::Arity { op, expected, got } => {
                write!(f, "{op:?}: expected {expected} input(s), got {got}")
            }
            GraphError::LengthMismatch {
                input,
                expected,
                got,
            } => write!(f, "input {input} has {got} floats, expected {expected}"),
        }
    }
}

impl std::error::Error for GraphError {}

/// A tensor in the graph.
pub struct Node {
    name: String,
    op: Op,
    /// Number of floats of the node's value.
    len: usize,
    /// Strong: a node keeps its inputs alive.
    inputs: Vec<Rc<Node>>,
    /// Weak back-links to the nodes that use this one as an input, one per
    /// edge. Weak, so that a consumer is freed when its last handle goes.
    consumers: RefCell<Vec<Weak<Node>>>,
    /// The value, once computed (an input's from the start).
    value: RefCell<Option<Vec<f32>>>,
}

/// Makes an input node holding `data`.
pub fn input(name: &str, data: Vec<f32>) -> Rc<Node> {
    Rc::new(Node {
        name: name.to_owned(),
        op: Op::Input,
        len: data.len(),
        inputs: Vec::new(),
        consumers: RefCell::new(Vec::new()),
        value: RefCell::new(Some(data)),
    })
}

/// Makes a node computing `op` from `inputs`, and records it as a consumer
/// of each input. A rejected node leaves the inputs untouched.
pub fn op(name: &str, op: Op, inputs: &[&Rc<Node>]) -> Result<Rc<Node>, GraphError> {
    if op == Op::Input {
        return Err(GraphError::NotAnOperation);
    }
    if inputs.len() != op.arity() {
        return Err(GraphError::Arity {
            op,
            expected: op.arity(),
            got: inputs.len(),
        });
    }
    // Every input has the length of the first (arity is at least 1 here).
    let len = inputs[0].len;
    if let Some(other) = inputs.iter().find(|input| input.len != len) {
        return Err(GraphError::LengthMismatch {
            input: other.name.clone(),
            expected: len,
            got: other.len,
        });
    }
    let node = Rc::new(Node {
        name: name.to_owned(),
        op,
        len,
        // `Rc::clone` copies a pointer and adds one to the input's strong
        // count; the input's data is not copied.
        inputs: inputs.iter().map(|&input| Rc::clone(input)).collect(),
        consumers: RefCell::new(Vec::new()),
        value: RefCell::new(None),
    });
    for input in inputs {
        // `Rc::downgrade` adds to the weak count only: the input does not
        // keep its consumer alive. (A strong `Rc` here would make a cycle:
        // neither count could ever reach zero, and both nodes would leak.)
        input.consumers.borrow_mut().push(Rc::downgrade(&node));
    }
    Ok(node)
}

impl Node {
    /// The node's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the node computes.
    pub fn op(&self) -> Op {
        self.op
    }

    /// Number of floats in the node's value.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the node's value holds no floats.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The node's inputs, in order.
    pub fn inputs(&self) -> &[Rc<Node>] {
        &self.inputs
    }

    /// Number of back-links stored, live or not.
    pub fn links(&self) -> usize {
        self.consumers.borrow().len()
    }

    /// The consumers still alive, oldest first. Back-links to consumers
    /// that are gone are forgotten on the way.
    pub fn consumers(&self) -> Vec<Rc<Node>> {
        let mut links = self.consumers.borrow_mut();
        // A dead `Weak` still keeps the freed node's allocation (its counts
        // and its now-dropped fields' space) until the last `Weak` goes.
        links.retain(|link| link.strong_count() > 0);
        links.iter().filter_map(Weak::upgrade).collect()
    }

    /// Computes the value, and the inputs' values first, unless it is
    /// cached. Each node computes at most once, printing `compute <name>`.
    fn ensure(&self) {
        // The shared borrow is a temporary of this condition: it ends
        // before the `borrow_mut` below. (Held in a `match` on
        // `self.value.borrow()` it would live through the arms, and the
        // `borrow_mut` would panic with "already borrowed".)
        if self.value.borrow().is_some() {
            return;
        }
        for input in &self.inputs {
            input.ensure();
        }
        // The inputs' values are read in place through shared borrows:
        // nothing is copied.
        let values: Vec<_> = self
            .inputs
            .iter()
            .map(|input| input.value.borrow())
            .collect();
        let arg = |i: usize| values[i].as_deref().expect("inputs are computed first");
        let result: Vec<f32> = match self.op {
            Op::Input => unreachable!("an input's value is set at creation"),
            Op::Add => arg(0).iter().zip(arg(1)).map(|(a, b)| a + b).collect(),
            Op::Mul => arg(0).iter().zip(arg(1)).map(|(a, b)| a * b).collect(),
            Op::Relu => arg(0).iter().map(|x| x.max(0.0)).collect(),
        };
        println!("compute {}", self.name);
        *self.value.borrow_mut() = Some(result);
    }

    /// The node's value (computed if needed), as a copy the caller owns.
    pub fn eval(&self) -> Vec<f32> {
        self.ensure();
        self.value.borrow().clone().expect("computed by ensure")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // Runs when the last strong handle goes; the inputs are released
        // after this, when the fields are dropped.
        println!("free {}", self.name);
    }
}

/// Moves the value out of the node, computing it if needed, when `node` is
/// the last strong handle: the node is freed and its value is handed over
/// without a copy. Otherwise returns `node` unchanged, without computing.
pub fn into_value(node: Rc<Node>) -> Result<Vec<f32>, Rc<Node>> {
    // `try_unwrap` succeeds only for the last strong handle (weak ones do
    // not count), and gives the handle back otherwise.
    let node = Rc::try_unwrap(node)?;
    node.ensure();
    // `Node` implements `Drop`, so its fields cannot be moved out (E0509);
    // `RefCell::take` swaps `None` in and returns the value.
    let value = node.value.take().expect("computed by ensure");
    Ok(value)
    // `node` is dropped here: `free <name>`, then its inputs.
}
