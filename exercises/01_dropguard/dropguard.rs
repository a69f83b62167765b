//! Exercise: drop order and scope guards.
//!
//! C++ ties every resource to an object's lifetime (RAII): the destructor
//! runs when the object goes out of scope, members are destroyed in reverse
//! declaration order, and a guard object (`std::lock_guard`, or a
//! hand-written "roll back unless committed" class, llama.cpp's clean-up on
//! every error path) undoes work on every early exit, exceptions included.
//! Go writes `defer`. Rust has the same idea with `Drop`, and its own rules
//! about *when* a value is dropped. The driver prints them all, with your
//! `Resource`:
//!
//! - locals: at the end of their scope, in reverse order of declaration (a
//!   shadowed local is not dropped early: it lives to the end too);
//! - struct fields: after the struct's own `Drop`, in declaration order
//!   (the opposite of C++ members!);
//! - temporaries: at the end of their statement, unless `let x = &temp;`
//!   extends them to the end of the block; `let _ = value;` binds nothing,
//!   so the value is dropped at once;
//! - `Vec` elements: front to back, when the vector is dropped;
//! - `std::mem::drop(x)`: right now, because `x` is moved into it.
//!
//! No `unsafe` anywhere: this exercise is only about *when* things happen.
//! The check also requires that nothing leaks: every heap byte allocated
//! must be freed by the end of `main`.

use std::fmt;
use std::ops::{Deref, DerefMut};

/// A named resource that says when it is acquired and released.
///
/// Deliberately not `Clone`: each resource is released exactly once (and
/// the check makes sure no `Clone` sneaks in).
pub struct Resource {
    name: String,
}

impl Resource {
    /// Acquires a resource: prints `acquire <name>`.
    pub fn new(name: &str) -> Resource {
        println!("acquire {name}");
        Resource {
            name: name.to_owned(),
        }
    }

    /// The resource's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Resource {
    fn drop(&mut self) {
        // TODO: print `release <name>`. Nothing else: the `name` field is
        // dropped by itself after this method returns.
        //
        // (The `Drop` bodies in this file are left empty instead of holding
        // a `todo!()`: a panic inside `drop` while another panic is already
        // unwinding aborts the whole program, and the driver drops plenty
        // of values on its way out of a panic.)
    }
}

/// A model loaded onto a backend: the weights live in the backend's
/// memory, so they must be released *before* the backend is shut down.
pub struct Context {
    // TODO: these fields are in the order a C++ class declares them (C++
    // destroys members in reverse order, so the backend outlives the
    // weights there). In which order does Rust drop fields? Make the
    // weights go first.
    backend: Resource,
    weights: Resource,
}

impl Context {
    /// Starts the backend `backend`, then loads the weights of `model`
    /// onto it, named `weights <model>`.
    pub fn new(backend: &str, model: &str) -> Context {
        // TODO: acquire the backend first: the weights need it running.
        // Careful: a struct literal evaluates its fields in the order they
        // are *written* in the literal, whatever the declaration order.
        let _ = (backend, model); // (delete this line: it only silences a warning)
        todo!()
    }

    /// The backend's name.
    pub fn backend(&self) -> &str {
        self.backend.name()
    }

    /// The weights' name.
    pub fn weights(&self) -> &str {
        self.weights.name()
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        // Runs before any field is dropped.
        println!("close context");
    }
}

/// Why a resource could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// A resource needs a name.
    EmptyName,
    /// The registry already holds `capacity` resources.
    Full { capacity: usize, name: String },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::EmptyName => write!(f, "a resource needs a name"),
            LoadError::Full { capacity, name } => {
                write!(
                    f,
                    "cannot load {name}: registry full ({capacity} resources)"
                )
            }
        }
    }
}

impl std::error::Error for LoadError {}

/// Loaded resources, oldest first, with room for at most `capacity`.
pub struct Registry {
    loaded: Vec<Resource>,
    capacity: usize,
}

impl Registry {
    /// An empty registry with room for `capacity` resources.
    pub fn new(capacity: usize) -> Registry {
        Registry {
            loaded: Vec::new(),
            capacity,
        }
    }

    /// Number of resources loaded.
    pub fn len(&self) -> usize {
        self.loaded.len()
    }

    /// Whether nothing is loaded.
    pub fn is_empty(&self) -> bool {
        self.loaded.is_empty()
    }

    /// The names of the loaded resources, oldest first.
    pub fn names(&self) -> Vec<&str> {
        self.loaded.iter().map(Resource::name).collect()
    }

    /// Acquires the resource `name` and keeps it.
    pub fn load(&mut self, name: &str) -> Result<(), LoadError> {
        if name.is_empty() {
            return Err(LoadError::EmptyName);
        }
        if self.loaded.len() >= self.capacity {
            return Err(LoadError::Full {
                capacity: self.capacity,
                name: name.to_owned(),
            });
        }
        self.loaded.push(Resource::new(name));
        Ok(())
    }

    /// Releases every resource loaded after the first `mark`, newest first,
    /// like locals at the end of a scope. A `mark` of `len()` or more
    /// (up to `usize::MAX`) releases nothing.
    pub fn rollback(&mut self, mark: usize) {
        // TODO: in which order does `Vec::truncate` drop what it removes?
        // And what does `self.len() - mark` do when `mark` is larger?
        let _ = mark; // (delete this line: it only silences a warning)
        todo!()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // TODO: release everything, newest first. Without this, the
        // `loaded` field would still release every resource after this
        // method, but in the `Vec`'s order. One line.
    }
}

/// Runs `undo(value)` when dropped, unless it was defused first: at the
/// end of a scope, on an early `return` or `?`, and while a panic unwinds.
/// Like a C++ guard object, or Go's `defer` that checks a flag.
///
/// The guard owns the value (often a `&mut` borrow) and lends it through
/// `Deref`/`DerefMut`, so the guarded work goes *through* the guard.
pub struct ScopeGuard<T, F: FnOnce(T)> {
    /// The value and the undo action, `None` once defused. An `Option`,
    /// because a type that implements `Drop` cannot have fields moved out of
    /// it (error E0509): `Option::take` moves them out and leaves `None`.
    armed: Option<(T, F)>,
}

impl<T, F: FnOnce(T)> ScopeGuard<T, F> {
    /// Guards `value`: `undo(value)` runs when the guard is dropped.
    pub fn new(value: T, undo: F) -> Self {
        // TODO: one line.
        let _ = (value, undo); // (delete this line: it only silences a warning)
        todo!()
    }

    /// Commits: the undo action never runs, and the value is handed back.
    /// It takes the guard by value, so a defused guard cannot be used (or
    /// undone) again: the check makes sure of that.
    pub fn defuse(mut self) -> T {
        // TODO: take the value and the undo action out of `self`. Return
        // the value; the undo action is simply dropped, never called (it
        // may own heap data, such as a captured `String`: dropping it frees
        // that, `std::mem::forget` would leak it). After this, `self` is
        // dropped as usual: what will its `Drop` find?
        let _ = &mut self.armed; // (delete this line: it only silences a warning)
        todo!()
    }
}

impl<T, F: FnOnce(T)> Deref for ScopeGuard<T, F> {
    type Target = T;

    fn deref(&self) -> &T {
        let (value, _) = self.armed.as_ref().expect("a guard is armed until defused");
        value
    }
}

impl<T, F: FnOnce(T)> DerefMut for ScopeGuard<T, F> {
    fn deref_mut(&mut self) -> &mut T {
        let (value, _) = self.armed.as_mut().expect("a guard is armed until defused");
        value
    }
}

impl<T, F: FnOnce(T)> Drop for ScopeGuard<T, F> {
    fn drop(&mut self) {
        // TODO: if the guard is still armed, call the undo action with the
        // value. During a panic too: unwinding drops every local on its way
        // out, and that is when an undo matters most.
    }
}

/// Loads every name in `names`, all or nothing: if one fails, the ones this
/// call loaded are released again, newest first, the resources loaded
/// before the call stay, and the error is returned. Returns how many were
/// loaded.
pub fn load_all(registry: &mut Registry, names: &[&str]) -> Result<usize, LoadError> {
    // TODO:
    // 1. Remember how many resources were loaded before this call.
    // 2. Put `registry` in a `ScopeGuard` whose undo rolls back to that
    //    mark (a `move` closure that takes the `&mut Registry`).
    // 3. Load each name *through the guard*, with `?`: an error returns
    //    early, and dropping the guard on the way out rolls back.
    // 4. All loaded: defuse the guard, and return the count.
    let _ = (registry, names); // (delete this line: it only silences a warning)
    todo!()
}
