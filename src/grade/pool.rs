//! Grading submissions in parallel: a fixed number of worker threads take
//! the next submission in turn, and results come back in input order.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

/// Applies `f` to every item on at most `jobs` threads; the results are in
/// the order of `items`, whatever order they finished in.
pub fn map<T: Sync, R: Send>(items: &[T], jobs: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    let worker = || {
        loop {
            let index = next.fetch_add(1, Ordering::SeqCst);
            let Some(item) = items.get(index) else { break };
            let result = f(item);
            let mut slots = results.lock().unwrap_or_else(|e| e.into_inner());
            slots[index] = Some(result);
        }
    };
    thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            scope.spawn(worker);
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::map;

    #[test]
    fn keeps_input_order_on_many_threads() {
        let items: Vec<u64> = (0..50).collect();
        let out = map(&items, 4, |&n| {
            std::thread::sleep(std::time::Duration::from_millis(50 - n));
            n * 2
        });
        assert_eq!(out, items.iter().map(|n| n * 2).collect::<Vec<_>>());
        assert_eq!(map(&[] as &[u8], 3, |_| 0), Vec::<i32>::new());
    }
}
