//! Work spread over threads with results in input order, so that what comes out
//! never depends on the thread count.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// `work(0..n)` on up to `threads` threads (0 = one per core), results in index order.
/// The first error (by index) wins.
pub fn map_indexed<T: Send, E: Send>(
    n: usize,
    threads: usize,
    work: impl Fn(usize) -> Result<T, E> + Sync,
) -> Result<Vec<T>, E> {
    let threads = thread_count(threads).min(n.max(1));
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<Result<T, E>>>> = Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let result = work(i);
                if let Ok(mut slots) = slots.lock() {
                    slots[i] = Some(result);
                }
            });
        }
    });
    let slots = slots
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    slots
        .into_iter()
        .map(|slot| slot.expect("every index is visited exactly once"))
        .collect()
}

/// The number of threads `threads` asks for: itself, or every core when 0.
pub fn thread_count(threads: usize) -> usize {
    if threads > 0 {
        threads
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_come_back_in_index_order_for_any_thread_count() {
        for threads in [1, 2, 7] {
            let out: Result<Vec<usize>, ()> = super::map_indexed(100, threads, |i| Ok(i * i));
            assert_eq!(out.unwrap(), (0..100).map(|i| i * i).collect::<Vec<_>>());
        }
        let err: Result<Vec<usize>, usize> =
            super::map_indexed(10, 3, |i| if i % 4 == 3 { Err(i) } else { Ok(i) });
        assert_eq!(err, Err(3));
    }
}
