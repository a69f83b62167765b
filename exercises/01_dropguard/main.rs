//! Driver for the `dropguard` exercise. Do not edit: complete `dropguard.rs`.
//!
//! Every `acquire` and `release` line below is printed by a `Resource`, so
//! the output shows exactly when each value is dropped. The comments say
//! which rule decides it.

use std::panic::{self, AssertUnwindSafe};

use crate::dropguard::{LoadError, Registry, Resource, ScopeGuard, load_all};

fn section(title: &str) {
    println!();
    println!("== {title}");
}

/// The first section's title, without the blank line before it.
fn first_section(title: &str) {
    println!("== {title}");
}

fn show(registry: &Registry) {
    println!("registry: {} loaded {:?}", registry.len(), registry.names());
}

fn try_load_all(registry: &mut Registry, names: &[&str]) {
    println!("load_all({names:?})");
    match load_all(registry, names) {
        Ok(n) => println!("load_all: loaded {n}"),
        Err(e) => println!("load_all failed: {e}"),
    }
    show(registry);
}

fn main() -> Result<(), LoadError> {
    first_section("`let _ =` binds nothing: dropped at once");
    {
        let _ = Resource::new("ignored");
        let _kept = Resource::new("kept");
        println!("end of scope");
    }

    section("locals: reverse order of declaration");
    {
        let _a = Resource::new("a");
        let _b = Resource::new("b");
        let _c = Resource::new("c");
        println!("end of scope");
    }

    section("temporaries: end of statement, unless a `let` borrow extends them");
    {
        println!("length {}", Resource::new("temp").name().len());
        let len = Resource::new("measured").name().len();
        println!("measured length {len}");
        let extended = &Resource::new("extended");
        println!("still using {}", extended.name());
        println!("end of scope");
    }

    section("shadowing hides a value but does not drop it");
    {
        let buffer = Resource::new("buffer v1");
        println!("using {}", buffer.name());
        let buffer = Resource::new("buffer v2");
        println!("using {}", buffer.name());
        println!("end of scope");
    }

    section("std::mem::drop releases early");
    {
        let early = Resource::new("early");
        let late = Resource::new("late");
        drop(early);
        println!("after drop(early), still holding {}", late.name());
        println!("end of scope");
    }

    section("struct fields: the struct's Drop first, then fields in declaration order");
    {
        let context = crate::dropguard::Context::new("cpu backend", "tiny-llama");
        println!(
            "context ready: {} on {}",
            context.weights(),
            context.backend()
        );
        drop(context);
        println!("after drop(context)");
    }

    section("Vec elements: front to back");
    {
        let list = vec![
            Resource::new("v0"),
            Resource::new("v1"),
            Resource::new("v2"),
        ];
        println!("holding {} resources", list.len());
        drop(list);
        println!("after drop(list)");
    }

    section("Registry: rollback and Drop release newest first");
    {
        let mut registry = Registry::new(4);
        for name in ["r0", "r1", "r2", "r3"] {
            registry.load(name)?;
        }
        show(&registry);
        for bad in ["", "r4"] {
            if let Err(e) = registry.load(bad) {
                println!("load({bad:?}): {e}");
            }
        }
        for mark in [4, 5, usize::MAX] {
            println!("rollback({mark})");
            registry.rollback(mark);
        }
        show(&registry);
        println!("rollback(2)");
        registry.rollback(2);
        show(&registry);
        registry.load("r2b")?;
        show(&registry);
        println!("end of scope");
    }
    {
        let mut empty = Registry::new(0);
        println!("rollback(0) on an empty registry");
        empty.rollback(0);
        println!("empty: {}", empty.is_empty());
        if let Err(e) = empty.load("x") {
            println!("load(\"x\"): {e}");
        }
    }

    section("ScopeGuard: undo on drop, unless defused");
    {
        let mut draft = ScopeGuard::new(String::from("draft"), |text: String| {
            println!("undo: discard {text:?}");
        });
        draft.push_str(" v2");
        println!("guarded value {:?}, length {}", *draft, draft.len());
        println!("end of scope");
    }
    {
        // The undo closure owns this `String`: a defused guard must drop the
        // closure (freeing it) without calling it, not forget it (a leak).
        let note = String::from("written by the undo of a defused guard");
        let mut kept = ScopeGuard::new(String::from("report"), move |text: String| {
            println!("undo: discard {text:?} ({note})");
        });
        kept.push_str(" final");
        let text = kept.defuse();
        println!("defused, kept {text:?}");
        println!("end of scope");
    }
    {
        let guarded = ScopeGuard::new(Resource::new("scratch"), |r: Resource| {
            println!("undo: give back {}", r.name());
        });
        println!("working with {}", guarded.name());
        println!("end of scope");
    }

    section("load_all: all or nothing");
    {
        let mut registry = Registry::new(5);
        registry.load("base")?;
        try_load_all(&mut registry, &["l0", "l1"]);
        try_load_all(&mut registry, &[]);
        try_load_all(&mut registry, &["m0", "m1", "m2", "m3"]);
        try_load_all(&mut registry, &["n0", "", "n2"]);
        try_load_all(&mut registry, &["", "p1"]);
        try_load_all(&mut registry, &["last"]);
        try_load_all(&mut registry, &["over", "flow"]);
        try_load_all(&mut registry, &["full"]);
        try_load_all(&mut registry, &["spare"]);
        println!("end of scope");
    }

    section("a panic unwinds through the guard, and the guard still undoes");
    {
        let mut registry = Registry::new(8);
        registry.load("kept")?;
        let mark = registry.len();
        // The default hook would print the panic message on stderr.
        panic::set_hook(Box::new(|_| {}));
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            let mut guard = ScopeGuard::new(&mut registry, move |registry: &mut Registry| {
                println!("undo: rolling back to {mark}");
                registry.rollback(mark);
            });
            guard.load("tensor a").expect("room for a");
            guard.load("tensor b").expect("room for b");
            panic!("model file truncated");
        }));
        drop(panic::take_hook());
        match result {
            Ok(()) => println!("no panic"),
            Err(payload) => println!(
                "caught panic: {}",
                payload.downcast_ref::<&str>().unwrap_or(&"?")
            ),
        }
        show(&registry);
        println!("end of scope");
    }

    section("end of main");
    let _first = Resource::new("first local of main");
    let mut registry = Registry::new(3);
    load_all(&mut registry, &["g0", "g1", "g2"])?;
    println!("returning from main");
    Ok(())
}
