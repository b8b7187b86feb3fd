//! argon2 on threads of its own: a fixed number of workers (one per core by default) that run
//! hashing and verification jobs in the order they arrive, so that argon2 never runs on the
//! async workers, never takes the database's blocking threads, and never runs more at once than
//! there are cores however many requests want it.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use tokio::sync::oneshot;

use crate::hashing::{self, HashError};

type Job = Box<dyn FnOnce() + Send>;

/// The argon2 workers of this process.
#[derive(Debug)]
pub struct HashPool {
    jobs: Mutex<Sender<Job>>,
    workers: usize,
}

/// The pool has stopped (its workers are gone); nothing was hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the argon2 workers have stopped")]
pub struct PoolStopped;

impl HashPool {
    /// Starts `workers` threads (at least one).
    pub fn new(workers: usize) -> HashPool {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let workers = workers.max(1);
        for n in 0..workers {
            let queue = Arc::clone(&queue);
            let spawned = thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || work(&queue));
            // A worker that cannot start leaves the work to those that did.
            if let Err(err) = spawned {
                tracing::warn!(error = %err, "could not start an argon2 worker");
            }
        }
        HashPool {
            jobs: Mutex::new(jobs),
            workers,
        }
    }

    /// A pool with one worker per core.
    pub fn per_core() -> HashPool {
        HashPool::new(thread::available_parallelism().map_or(2, usize::from))
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Runs `job` on a worker and waits for it without blocking the caller's thread.
    pub async fn run<R: Send + 'static>(
        &self,
        job: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, PoolStopped> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            // The caller may have gone (its client hung up); the result is then dropped.
            let _ = done.send(job());
        });
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(job)
            .map_err(|_| PoolStopped)?;
        result.await.map_err(|_| PoolStopped)
    }

    /// The argon2id PHC string of `secret` under a fresh salt.
    pub async fn hash(&self, secret: Vec<u8>) -> Result<String, HashError> {
        self.run(move || hashing::hash_secret(&secret))
            .await
            .map_err(|stopped| HashError::new(stopped.to_string()))?
    }

    /// Whether `secret` matches the PHC string `phc`; a stopped pool matches nothing.
    pub async fn verify(&self, secret: Vec<u8>, phc: String) -> bool {
        self.run(move || hashing::verify_secret(&secret, &phc))
            .await
            .unwrap_or(false)
    }
}

fn work(queue: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while taking a job, never while running it.
        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn jobs_run_on_the_workers_at_most_as_many_at_once_as_there_are() {
        let pool = Arc::new(HashPool::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs = (0..8).map(|_| {
            let (pool, running, most) = (pool.clone(), running.clone(), most.clone());
            async move {
                pool.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(10));
                    running.fetch_sub(1, Ordering::SeqCst);
                    thread::current().name().map(str::to_owned)
                })
                .await
            }
        });
        let names: Vec<_> = futures_join_all(jobs).await;
        assert!(names.iter().all(|name| {
            name.as_ref()
                .is_ok_and(|n| n.as_deref().is_some_and(|n| n.starts_with("argon2-")))
        }));
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn hashes_verify() {
        let pool = HashPool::new(1);
        let phc = pool.hash(b"correct horse".to_vec()).await.unwrap();
        assert!(pool.verify(b"correct horse".to_vec(), phc.clone()).await);
        assert!(!pool.verify(b"wrong horse".to_vec(), phc).await);
    }

    /// Polls the futures together so that they are in flight at once.
    async fn futures_join_all<F: std::future::Future>(
        futures: impl Iterator<Item = F>,
    ) -> Vec<F::Output> {
        let handles: Vec<_> = futures.map(Box::pin).collect();
        let mut out = Vec::new();
        let mut pending: Vec<_> = handles.into_iter().map(Some).collect();
        std::future::poll_fn(|cx| {
            let mut all = true;
            for slot in &mut pending {
                if let Some(future) = slot {
                    match future.as_mut().poll(cx) {
                        std::task::Poll::Ready(value) => {
                            out.push(value);
                            *slot = None;
                        }
                        std::task::Poll::Pending => all = false,
                    }
                }
            }
            if all {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
        .await;
        out
    }
}
