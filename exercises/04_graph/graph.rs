//! Exercise: shared ownership without cycles, in a small compute graph.
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
//!
//! The check requires that nothing leaks: once the driver drops its
//! handles, every node must be freed (each `free` line shows one). It also
//! limits the peak of heap bytes: a node's value is computed from its
//! inputs' values read in place, and `into_value` moves a value out; a copy
//! of a 16 KiB tensor anywhere goes over. No `unsafe` here.

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
// Silences "variants never constructed" until your code returns them;
// remove it once `op` is done.
#[allow(dead_code)]
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
    // TODO:
    // 1. Reject, in this order: `Op::Input` (`NotAnOperation`), a number of
    //    inputs other than `op.arity()` (`Arity`), and the first input whose
    //    length differs from the first input's (`LengthMismatch`, naming
    //    it). Check everything before touching any input: a rejected node
    //    leaves no back-link behind.
    // 2. Make the node in an `Rc`, holding a strong handle to each input
    //    (`Rc::clone(input)` copies a pointer, never the data), no
    //    consumers yet, and no value yet.
    // 3. Record the new node as a consumer of each input, one link per
    //    input: a *weak* handle (`Rc::downgrade`), pushed through the
    //    input's `RefCell`. What would a strong handle there do to the
    //    counts, once the driver drops its own handles?
    let _ = (name, op, inputs, Op::arity); // (delete this line: it only silences warnings)
    todo!()
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
        // TODO: `Weak::upgrade` gives a strong handle, or `None` once the
        // consumer is gone. Keep only the links that are still alive (a
        // dead `Weak` still holds on to the freed node's memory block), and
        // return the live consumers in order. Careful with `RefCell`: a
        // `borrow()` still alive when you call `borrow_mut()` on the same
        // cell panics ("already borrowed"). One `borrow_mut()` can do both.
        todo!()
    }

    /// Computes the value, and the inputs' values first, unless it is
    /// cached. Each node computes at most once, printing `compute <name>`.
    fn ensure(&self) {
        // TODO:
        // 1. A cached value means there is nothing to do. Mind how long the
        //    `Ref` from `self.value.borrow()` lives: a temporary in an `if`
        //    condition ends with the condition, but one in a `match`
        //    scrutinee lives through every arm, and a `borrow_mut()` in an
        //    arm would then panic.
        // 2. Make sure every input is computed (recursively).
        // 3. Compute the floats from the inputs' values, read in place
        //    through `input.value.borrow()` (not `eval`, which copies):
        //    `Add` and `Mul` element-wise over two inputs, `Relu` is
        //    `x.max(0.0)` over one. An `Input` always has its value.
        // 4. Print `compute <name>`, then store the result in the cache.
        let _ = (&self.op, &self.inputs, &self.value); // (delete this line: it only silences a warning)
        todo!()
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
    // TODO:
    // 1. `Rc::try_unwrap` turns the last strong handle into the `Node`
    //    itself, and gives the `Rc` back (as its `Err`) otherwise. Weak
    //    handles do not count.
    // 2. Compute the value if needed.
    // 3. Move the value out without copying. `Node` implements `Drop`, so
    //    you cannot move a field out of it (E0509), but `RefCell` has a
    //    method that swaps in the default (`None`) and returns the content.
    //    The node is freed when it goes out of scope, and its inputs after
    //    it.
    let _ = node; // (delete this line: it only silences a warning)
    todo!()
}
