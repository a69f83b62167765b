//! Driver for the `ownership` exercise. Do not edit: complete `ownership.rs`.
//!
//! The check counts heap allocations: a buffer that is copied instead of
//! moved, swapped or taken shows up there, even when the printed floats are
//! right.

use std::panic::{self, AssertUnwindSafe};

use crate::ownership::{Buffer, DoubleBuffer, Pool};

fn show_pool(pool: &Pool) {
    println!(
        "pool: created {}, free {:?}",
        pool.created(),
        pool.free_ids()
    );
}

fn describe(what: &str, buffer: &Buffer) {
    println!(
        "{what}: buffer {}, data {:?}, capacity {}",
        buffer.id(),
        buffer.data(),
        buffer.capacity()
    );
}

fn show_double(what: &str, double: &DoubleBuffer) {
    println!(
        "{what}: front {:?}, back {:?}",
        double.front(),
        double.back()
    );
}

fn main() {
    println!("== a pool lends buffers; dropping a lease returns its buffer");
    let pool = Pool::new(4);
    show_pool(&pool);
    {
        let mut a = pool.lease();
        a.data_mut().extend_from_slice(&[1.0, 2.0, 3.0]);
        let mut b = pool.lease();
        b.data_mut().push(9.0);
        describe("a", &a);
        describe("b", &b);
        show_pool(&pool);
        drop(a);
        println!("after drop(a)");
        show_pool(&pool);
        println!("end of scope");
    }
    show_pool(&pool);

    println!();
    println!("== the most recently returned buffer is lent first, empty, with its memory");
    {
        let c = pool.lease();
        let d = pool.lease();
        let e = pool.lease();
        describe("c", &c);
        describe("d", &d);
        describe("e", &e);
        show_pool(&pool);
        println!("end of scope: e, d, c go back in that order");
    }
    show_pool(&pool);

    println!();
    println!("== keep takes a buffer out of the pool for good");
    {
        let mut lease = pool.lease();
        lease.data_mut().extend_from_slice(&[4.0, 5.0]);
        let kept: Buffer = lease.keep();
        describe("kept", &kept);
        show_pool(&pool);
        let mut again = pool.lease();
        again.data_mut().push(6.0);
        describe("next lease", &again);
        let kept_too = again.keep();
        describe("kept too", &kept_too);
        show_pool(&pool);
        println!("end of scope: both kept buffers are freed, not returned");
    }
    show_pool(&pool);
    {
        let f = pool.lease();
        describe("f", &f);
        let g = pool.lease();
        describe("g (a new buffer)", &g);
    }
    show_pool(&pool);

    println!();
    println!("== a lease goes back even when the code using it panics");
    panic::set_hook(Box::new(|_| {}));
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        let mut lease = pool.lease();
        lease.data_mut().extend_from_slice(&[7.0, 7.0, 7.0]);
        describe("leased", &lease);
        panic!("evaluation failed");
    }));
    drop(panic::take_hook());
    println!("caught panic: {}", result.is_err());
    show_pool(&pool);
    {
        let h = pool.lease();
        describe("h", &h);
    }

    println!();
    println!("== a pool of zero-capacity buffers");
    {
        let empty = Pool::new(0);
        let mut lease = empty.lease();
        describe("leased", &lease);
        lease.data_mut().push(1.0);
        drop(lease);
        show_pool(&empty);
        let again = empty.lease();
        describe("again", &again);
    }

    println!();
    println!("== double buffering: swap, take and replace move, never copy");
    let mut double = DoubleBuffer::new(4);
    show_double("new", &double);
    double.back_mut().extend_from_slice(&[1.0, 2.0]);
    show_double("written", &double);
    double.publish();
    show_double("published", &double);
    double.back_mut().push(3.0);
    show_double("written", &double);
    double.publish();
    show_double("published", &double);
    double.publish();
    show_double("published nothing", &double);
    double.back_mut().extend_from_slice(&[4.0, 5.0, 6.0]);
    double.publish();
    show_double("published", &double);

    let taken = double.take_front();
    println!("take_front: {taken:?}");
    show_double("after take_front", &double);
    let taken_again = double.take_front();
    println!("take_front again: {taken_again:?}");

    double.back_mut().push(8.0);
    double.publish();
    show_double("published", &double);
    let old = double.replace_front(taken);
    println!("replace_front(the taken floats): got back {old:?}");
    show_double("after replace_front", &double);
    double.back_mut().extend_from_slice(&[9.0, 10.0]);
    double.publish();
    show_double("published", &double);
    let old = double.replace_front(Vec::new());
    println!("replace_front(an empty Vec): got back {old:?}");
    show_double("after replace_front", &double);
    let old = double.replace_front(old);
    println!("replace_front(that again): got back {old:?}");
    show_double("after replace_front", &double);

    println!();
    println!("== end of main");
    show_pool(&pool);
}
