//! The calling thread and helpers from rayon's pool on one shared piece of work, without
//! waiting for helpers that have not started.
//!
//! A helper spawned on a sleeping rayon worker can start tens of microseconds late, longer
//! than a whole call on a small batch. `rayon::scope` would make the caller wait for every
//! spawned helper to run; here the caller does the work itself, helpers join while there is
//! some left, and when the caller is done it waits only for the helpers inside the work.
//! One that starts later finds the call closed and returns without touching it.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::{Arc, Mutex, MutexGuard};

/// Runs `work` on the calling thread and on up to `helpers` rayon tasks, returning when the
/// caller's run has returned and so has every helper's that started before then. `work`
/// must return once the work it shares is done (each run takes pieces from a queue until it
/// is empty). A panic in any run is raised again on the calling thread.
pub(crate) fn run_with_helpers<F: Fn() + Sync>(helpers: usize, work: &F) {
    if helpers == 0 {
        work();
        return;
    }
    let call = Arc::new(Call {
        state: Mutex::new(CallState {
            closed: false,
            inside: 0,
        }),
        panic: Mutex::new(None),
        work: WorkPointer {
            data: (work as *const F).cast(),
            run: run_erased::<F>,
        },
    });
    for _ in 0..helpers {
        let call = Arc::clone(&call);
        rayon::spawn(move || call.help());
    }
    {
        // Closes the call and waits for the helpers inside it even if `work` unwinds: after
        // this, nothing refers to `work` any more.
        let _close = CloseOnDrop(&call);
        work();
    }
    if let Some(payload) = lock(&call.panic).take() {
        resume_unwind(payload);
    }
}

/// One call's state, shared with its helpers (which may outlive it).
struct Call {
    state: Mutex<CallState>,
    /// The first panic of a helper's run, raised again by the caller.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
    work: WorkPointer,
}

struct CallState {
    /// The caller is done: no helper may start the work any more.
    closed: bool,
    /// Helpers running the work now.
    inside: usize,
}

/// The caller's `work` with its type and lifetime erased: valid while the call is open or
/// a helper is inside it (see [`Call::help`] and [`CloseOnDrop`]).
struct WorkPointer {
    data: *const (),
    run: unsafe fn(*const ()),
}

// SAFETY: `data` points to an `F: Sync` (`run_with_helpers`'s bound), called through `&F`
// from any thread; the pointer itself is only read.
unsafe impl Send for WorkPointer {}
// SAFETY: as above.
unsafe impl Sync for WorkPointer {}

/// # Safety
/// `data` must point to a live `F`.
unsafe fn run_erased<F: Fn()>(data: *const ()) {
    // SAFETY: the caller's contract.
    unsafe { (*data.cast::<F>())() }
}

impl Call {
    fn help(&self) {
        {
            let mut state = lock(&self.state);
            if state.closed {
                return;
            }
            state.inside += 1;
        }
        // SAFETY: the call was open when `inside` was raised, and the caller does not
        // return (so `work` lives) until `inside` is back to zero with the call closed.
        let result = catch_unwind(AssertUnwindSafe(|| unsafe {
            (self.work.run)(self.work.data)
        }));
        if let Err(payload) = result {
            lock(&self.panic).get_or_insert(payload);
        }
        lock(&self.state).inside -= 1;
    }
}

/// Closes the call, then waits until no helper is inside it.
struct CloseOnDrop<'a>(&'a Call);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        lock(&self.0.state).closed = true;
        // A helper inside finishes the piece it took (at most one chunk) and finds the queue
        // empty: a short wait, spent spinning rather than sleeping (waking takes longer).
        let mut spins = 0u32;
        while lock(&self.0.state).inside > 0 {
            if spins < 64 {
                std::hint::spin_loop();
                spins += 1;
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// The guarded value; a panic while it was held (raised again by the caller) does not
/// make it unusable.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn every_piece_runs_once_whoever_takes_it() {
        for helpers in 0..4 {
            let pieces: Vec<AtomicUsize> = (0..1000).map(|_| AtomicUsize::new(0)).collect();
            let next = AtomicUsize::new(0);
            run_with_helpers(helpers, &|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(piece) = pieces.get(i) else { break };
                    piece.fetch_add(1, Ordering::Relaxed);
                }
            });
            assert!(pieces.iter().all(|p| p.load(Ordering::Relaxed) == 1));
        }
    }

    #[test]
    fn late_helpers_never_touch_a_finished_call() {
        // Many short calls in a row: helpers of earlier calls start after those returned
        // (their data gone, which Miri would report) and must do nothing.
        for round in 0..200 {
            // On the heap, freed at the end of the round: a late helper's read of it would
            // be a use after free.
            #[allow(clippy::useless_vec)]
            let data = vec![round; 8];
            let sum = AtomicUsize::new(0);
            let taken = AtomicUsize::new(0);
            run_with_helpers(2, &|| {
                while taken.fetch_add(1, Ordering::Relaxed) < data.len() {
                    sum.fetch_add(data[0], Ordering::Relaxed);
                }
            });
            assert_eq!(sum.load(Ordering::Relaxed), 8 * round);
        }
    }

    #[test]
    fn a_panic_in_the_work_reaches_the_caller() {
        let calls = AtomicUsize::new(0);
        let result = catch_unwind(AssertUnwindSafe(|| {
            run_with_helpers(1, &|| {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("the first run panics");
                }
            })
        }));
        assert!(result.is_err());
    }
}
