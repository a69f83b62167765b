//! Alternative: the guard keeps the value and the undo action in two
//! `Option`s; rollback drains the tail in reverse, and the registry's `Drop`
//! reverses the vector so that its own front-to-back drop goes newest first.
//!
//! C++ ties every resource to an object's lifetime (RAII): the destructor
//! runs when the object goes out of scope, members are destroyed in reverse
//! declaration order, and a guard such as `std::lock_guard` or a hand-written
//! "rollback unless committed" object undoes work on every early exit,
//! exceptions included. Rust has the same idea with `Drop`, and a few rules
//! of its own about *when* a value is dropped:
//!
//! - locals: at the end of their scope, in reverse order of declaration
//!   (a shadowed local is not dropped early: it lives to the end too);
//! - struct fields: after the struct's own `Drop`, in declaration order
//!   (the opposite of C++ members!);
//! - temporaries: at the end of the statement, unless `let x = &temp;`
//!   extends them to the end of the block; `let _ = value;` binds nothing,
//!   so the value is dropped at once;
//! - `Vec` elements: front to back, when the vector is dropped or cleared;
//! - `std::mem::drop(x)`: right now, because `x` is moved into it.
//!
//! No `unsafe` anywhere: this exercise is only about *when* things happen.

use std::fmt;
use std::ops::{Deref, DerefMut};

/// A named resource that says when it is acquired and released.
///
/// Deliberately not `Clone`: each resource is released exactly once.
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
        // The `name` field is still alive here: fields are dropped only
        // after this method returns.
        println!("release {}", self.name);
    }
}

/// A model loaded onto a backend: the weights live in the backend's
/// memory, so they must be released *before* the backend is shut down.
pub struct Context {
    // Rust drops fields in declaration order, so the field that must go
    // first is declared first. (C++ destroys members in reverse order, so a
    // C++ class declares the backend first: a literal port gets it wrong.)
    weights: Resource,
    backend: Resource,
}

impl Context {
    /// Starts the backend `backend`, then loads the weights of `model`
    /// onto it (`weights <model>`).
    pub fn new(backend: &str, model: &str) -> Context {
        // The weights need a running backend, so acquire it first. A struct
        // literal evaluates its fields in the order they are *written*, so
        // `Context { weights: Resource::new(..), backend: Resource::new(..) }`
        // would load the weights first; locals make the order explicit.
        let backend = Resource::new(backend);
        let weights = Resource::new(&format!("weights {model}"));
        Context { weights, backend }
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
    /// releases nothing.
    pub fn rollback(&mut self, mark: usize) {
        // `truncate(mark)` would release them oldest first: a `Vec` drops
        // its elements front to back. `len() - mark` would underflow for a
        // mark past the end. Popping one at a time gives the reverse order
        // and stops by itself.
        let keep = mark.min(self.loaded.len());
        // `drain(keep..)` removes the tail; `.rev()` hands it out newest
        // first, and each resource is dropped as the loop moves on.
        for resource in self.loaded.drain(keep..).rev() {
            drop(resource);
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // Without this, the `Vec` field would release its elements front to
        // back (oldest first) after this method.
        // The `Vec` drops front to back after this method: reversed, that
        // is newest first.
        self.loaded.reverse();
    }
}

/// Runs `undo(value)` when dropped, unless it was defused first: on a
/// normal end of scope, on an early `return` or `?`, and while a panic
/// unwinds. Like a C++ guard object, or Go's `defer` that checks a flag.
///
/// The guard owns the value (often a `&mut` borrow) and lends it through
/// `Deref`/`DerefMut`, so the guarded work goes *through* the guard.
pub struct ScopeGuard<T, F: FnOnce(T)> {
    /// The value and the undo action, `None` once defused. An `Option`,
    /// because a type that implements `Drop` cannot have fields moved out of
    /// it: `take()` moves them out and leaves `None` behind.
    value: Option<T>,
    undo: Option<F>,
}

impl<T, F: FnOnce(T)> ScopeGuard<T, F> {
    /// Guards `value`: `undo(value)` runs when the guard is dropped.
    pub fn new(value: T, undo: F) -> Self {
        ScopeGuard {
            value: Some(value),
            undo: Some(undo),
        }
    }

    /// Commits: the undo action never runs, and the value is handed back.
    /// Takes the guard by value, so it cannot be used (or undone) again.
    pub fn defuse(mut self) -> T {
        // Dropping the undo action without calling it; `self` is dropped
        // after this, and its `Drop` finds two `None`s.
        self.undo = None;
        self.value.take().expect("a guard is armed until defused")
    }
}

impl<T, F: FnOnce(T)> Deref for ScopeGuard<T, F> {
    type Target = T;

    fn deref(&self) -> &T {
        self.value.as_ref().expect("a guard is armed until defused")
    }
}

impl<T, F: FnOnce(T)> DerefMut for ScopeGuard<T, F> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().expect("a guard is armed until defused")
    }
}

impl<T, F: FnOnce(T)> Drop for ScopeGuard<T, F> {
    fn drop(&mut self) {
        // Also runs while a panic unwinds: that is the point. (An undo that
        // panicked itself during unwinding would abort the process, so keep
        // undo actions simple.)
        if let (Some(value), Some(undo)) = (self.value.take(), self.undo.take()) {
            undo(value);
        }
    }
}

/// Loads every name in `names`, all or nothing: if one fails, the ones this
/// call loaded are released again, newest first, and the error is returned.
/// Returns how many were loaded.
pub fn load_all(registry: &mut Registry, names: &[&str]) -> Result<usize, LoadError> {
    let mark = registry.len();
    // The guard owns the `&mut Registry`; each `?` below returns early,
    // dropping the guard, which rolls back to `mark`.
    let mut guard = ScopeGuard::new(registry, move |registry: &mut Registry| {
        registry.rollback(mark);
    });
    for name in names {
        guard.load(name)?;
    }
    let registry = guard.defuse();
    Ok(registry.len() - mark)
}
