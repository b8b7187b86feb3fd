//! SQLite's writers, queued in this process: one writing transaction at a time, in the order
//! they asked.
//!
//! SQLite lets one writer in at a time and makes the others sleep and poll in its busy handler,
//! which serves them in no order at all: under a burst of concurrent writes some wait ten times
//! longer than others. Waiting here instead, first come first served, gives every writer a wait
//! in proportion to the queue ahead of it. A writer that has waited too long leaves the queue and
//! its request is answered as busy, as a saturated pool answers.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::StoreError;

#[derive(Debug, Default)]
struct State {
    /// Tickets of the writers waiting, in arrival order.
    waiting: VecDeque<u64>,
    next_ticket: u64,
    /// Whether a writer holds its turn now.
    busy: bool,
}

#[derive(Debug, Default)]
pub(crate) struct WriterQueue {
    state: Mutex<State>,
    turn_over: Condvar,
}

/// A writer's turn; the next writer's begins when it is dropped.
#[derive(Debug)]
pub(crate) struct Turn<'q> {
    queue: &'q WriterQueue,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.queue.lock().busy = false;
        self.queue.turn_over.notify_all();
    }
}

impl WriterQueue {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: each update is complete.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until every writer that asked earlier has had its turn and the current one is
    /// over; [`StoreError::PoolExhausted`] after `patience`.
    pub(crate) fn wait_turn(&self, patience: Duration) -> Result<Turn<'_>, StoreError> {
        let deadline = Instant::now() + patience;
        let mut state = self.lock();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.waiting.push_back(ticket);
        loop {
            if !state.busy && state.waiting.front() == Some(&ticket) {
                state.waiting.pop_front();
                state.busy = true;
                return Ok(Turn { queue: self });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                state.waiting.retain(|waiting| *waiting != ticket);
                drop(state);
                // The writer behind this one may be first now.
                self.turn_over.notify_all();
                return Err(StoreError::PoolExhausted);
            }
            state = self
                .turn_over
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn writers_take_turns_one_at_a_time_in_arrival_order() {
        let queue = Arc::new(WriterQueue::default());
        let first = queue.wait_turn(Duration::from_secs(5)).unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let inside = Arc::new(AtomicUsize::new(0));
        let mut writers = Vec::new();
        for n in 0..8 {
            let (mine, order, inside) = (queue.clone(), order.clone(), inside.clone());
            writers.push(std::thread::spawn(move || {
                let _turn = mine.wait_turn(Duration::from_secs(5)).unwrap();
                assert_eq!(
                    inside.fetch_add(1, Ordering::SeqCst),
                    0,
                    "one writer at a time"
                );
                order.lock().unwrap().push(n);
                std::thread::sleep(Duration::from_millis(2));
                inside.fetch_sub(1, Ordering::SeqCst);
            }));
            // Each writer is queued before the next one asks.
            while queue.lock().waiting.len() < n + 1 {
                std::thread::yield_now();
            }
        }
        drop(first);
        for writer in writers {
            writer.join().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), (0..8).collect::<Vec<_>>());
    }

    #[test]
    fn a_writer_that_waits_too_long_leaves_the_queue_to_the_next() {
        let queue = WriterQueue::default();
        let held = queue.wait_turn(Duration::from_secs(5)).unwrap();
        let refused = queue.wait_turn(Duration::from_millis(20));
        assert!(matches!(refused, Err(StoreError::PoolExhausted)));
        assert!(queue.lock().waiting.is_empty());
        drop(held);
        assert!(queue.wait_turn(Duration::from_millis(20)).is_ok());
    }
}
