//! argon2 on threads of its own: a fixed number of workers (one per core by default) that run
//! hashing and verification jobs, so that argon2 never runs on the async workers, never takes
//! the database's blocking threads, and never runs more at once than there are cores however
//! many requests want it.
//!
//! Every job belongs to a workspace, and the workers serve the workspaces that have jobs waiting
//! in turn, one job each: a burst of work for one workspace (wrong secrets against its token, a
//! mass password import) waits behind its own jobs, while any other workspace's job waits for at
//! most one job of each workspace ahead of it. A job whose caller has gone is dropped unrun.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;

use tokio::sync::oneshot;
use webwork_scim_domain::WorkspaceKey;

use crate::hashing::{self, HashError};

type Job = Box<dyn FnOnce() + Send>;

/// The jobs waiting, by workspace, and the order in which the workspaces are served.
#[derive(Default)]
struct Queue {
    waiting: HashMap<WorkspaceKey, VecDeque<Job>>,
    turns: VecDeque<WorkspaceKey>,
    closed: bool,
}

impl Queue {
    fn push(&mut self, lane: &WorkspaceKey, job: Job) {
        match self.waiting.get_mut(lane) {
            Some(jobs) => jobs.push_back(job),
            None => {
                self.waiting.insert(lane.clone(), VecDeque::from([job]));
                self.turns.push_back(lane.clone());
            }
        }
    }

    /// The next job of the workspace whose turn it is; the workspace goes to the back of the
    /// line while it has more.
    fn next(&mut self) -> Option<Job> {
        let lane = self.turns.pop_front()?;
        let jobs = self.waiting.get_mut(&lane)?;
        let job = jobs.pop_front();
        if jobs.is_empty() {
            self.waiting.remove(&lane);
        } else {
            self.turns.push_back(lane);
        }
        job
    }

    fn len(&self) -> usize {
        self.waiting.values().map(VecDeque::len).sum()
    }
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
}

impl Shared {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The argon2 workers of this process.
pub struct HashPool {
    shared: Arc<Shared>,
    workers: usize,
}

impl std::fmt::Debug for HashPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashPool")
            .field("workers", &self.workers)
            .finish_non_exhaustive()
    }
}

/// The pool has stopped (its workers are gone); nothing was hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the argon2 workers have stopped")]
pub struct PoolStopped;

impl HashPool {
    /// Starts `workers` threads (at least one).
    pub fn new(workers: usize) -> HashPool {
        let shared = Arc::new(Shared::default());
        let workers = workers.max(1);
        let mut started = 0;
        for n in 0..workers {
            let shared = Arc::clone(&shared);
            match thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || work(&shared))
            {
                Ok(_) => started += 1,
                // A worker that cannot start leaves the work to those that did.
                Err(err) => tracing::warn!(error = %err, "could not start an argon2 worker"),
            }
        }
        if started == 0 {
            shared.queue().closed = true;
        }
        HashPool { shared, workers }
    }

    /// A pool with one worker per core.
    pub fn per_core() -> HashPool {
        HashPool::new(thread::available_parallelism().map_or(2, usize::from))
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Jobs waiting for a worker, all workspaces together.
    pub fn waiting(&self) -> usize {
        self.shared.queue().len()
    }

    /// Runs `job` for workspace `lane` on a worker and waits for it without blocking the
    /// caller's thread.
    pub async fn run<R: Send + 'static>(
        &self,
        lane: &WorkspaceKey,
        job: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, PoolStopped> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            // Nobody waits for the outcome any more (the request was dropped): spare the work.
            if !done.is_closed() {
                let _ = done.send(job());
            }
        });
        {
            let mut queue = self.shared.queue();
            if queue.closed {
                return Err(PoolStopped);
            }
            queue.push(lane, job);
        }
        self.shared.ready.notify_one();
        result.await.map_err(|_| PoolStopped)
    }

    /// The argon2id PHC string of `secret` under a fresh salt, hashed in `lane`'s turn.
    pub async fn hash(&self, lane: &WorkspaceKey, secret: Vec<u8>) -> Result<String, HashError> {
        self.run(lane, move || hashing::hash_secret(&secret))
            .await
            .map_err(|stopped| HashError::new(stopped.to_string()))?
    }

    /// Whether `secret` matches the PHC string `phc`, checked in `lane`'s turn; a stopped pool
    /// matches nothing.
    pub async fn verify(&self, lane: &WorkspaceKey, secret: Vec<u8>, phc: String) -> bool {
        self.run(lane, move || hashing::verify_secret(&secret, &phc))
            .await
            .unwrap_or(false)
    }
}

impl Drop for HashPool {
    fn drop(&mut self) {
        self.shared.queue().closed = true;
        self.shared.ready.notify_all();
    }
}

fn work(shared: &Shared) {
    loop {
        // The lock is held only while taking a job, never while running it.
        let job = {
            let mut queue = shared.queue();
            loop {
                if let Some(job) = queue.next() {
                    break job;
                }
                if queue.closed {
                    return;
                }
                queue = shared
                    .ready
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        job();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::time::Duration;

    use webwork_scim_domain::WorkspaceName;

    use super::*;

    fn lane(name: &str) -> WorkspaceKey {
        let name = WorkspaceName::parse(name).unwrap();
        WorkspaceKey::from_name_and_suffix(&name, "a1b2").unwrap()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn jobs_run_on_the_workers_at_most_as_many_at_once_as_there_are() {
        let pool = Arc::new(HashPool::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let acme = lane("Acme");
        let jobs = (0..8).map(|_| {
            let (pool, running, most, acme) =
                (pool.clone(), running.clone(), most.clone(), acme.clone());
            async move {
                pool.run(&acme, move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(10));
                    running.fetch_sub(1, Ordering::SeqCst);
                    thread::current().name().map(str::to_owned)
                })
                .await
            }
        });
        let names: Vec<_> = join_all(jobs).await;
        assert!(names.iter().all(|name| {
            name.as_ref()
                .is_ok_and(|n| n.as_deref().is_some_and(|n| n.starts_with("argon2-")))
        }));
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn workspaces_take_turns_whatever_one_of_them_queued() {
        let pool = Arc::new(HashPool::new(1));
        let (acme, globex) = (lane("Acme"), lane("Globex"));
        let (release, gate) = mpsc::channel::<()>();
        let order = Arc::new(Mutex::new(Vec::new()));
        // The one worker is held until every job below is queued.
        let blocker = pool.run(&acme, move || {
            let _ = gate.recv();
        });
        let job = |name: &'static str, lane: &WorkspaceKey| {
            let (pool, order, lane) = (pool.clone(), order.clone(), lane.clone());
            async move {
                pool.run(&lane, move || order.lock().unwrap().push(name))
                    .await
                    .unwrap();
            }
        };
        let mut jobs: Vec<_> = (0..20).map(|_| Box::pin(job("acme", &acme))).collect();
        jobs.push(Box::pin(job("globex", &globex)));
        let all = async {
            let (blocked, _) = futures_join(blocker, async {
                // Every job is queued once the futures were polled once.
                tokio::task::yield_now().await;
                while pool.waiting() < 21 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                release.send(()).unwrap();
            })
            .await;
            blocked.unwrap();
        };
        futures_join(all, join_all(jobs.into_iter())).await;
        let order = order.lock().unwrap();
        assert_eq!(order.len(), 21);
        let globex_at = order.iter().position(|name| *name == "globex").unwrap();
        assert!(
            globex_at <= 1,
            "Globex waited behind {globex_at} of Acme's jobs"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_job_whose_caller_went_away_is_not_run() {
        let pool = Arc::new(HashPool::new(1));
        let acme = lane("Acme");
        let (release, gate) = mpsc::channel::<()>();
        let ran = Arc::new(AtomicUsize::new(0));
        let blocker = pool.run(&acme, move || {
            let _ = gate.recv();
        });
        let counted = ran.clone();
        let abandoned = pool.run(&acme, move || counted.fetch_add(1, Ordering::SeqCst));
        let first = async {
            tokio::select! {
                _ = abandoned => panic!("the abandoned job ran first"),
                _ = async {
                    // The blocker runs; the abandoned job waits behind it.
                    while pool.waiting() < 1 {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                } => {}
            }
            // The abandoned future is dropped here, before the worker is free.
            release.send(()).unwrap();
        };
        let (blocked, _) = futures_join(blocker, first).await;
        blocked.unwrap();
        let counted = ran.clone();
        pool.run(&acme, move || counted.load(Ordering::SeqCst))
            .await
            .unwrap();
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn hashes_verify() {
        let pool = HashPool::new(1);
        let acme = lane("Acme");
        let phc = pool.hash(&acme, b"correct horse".to_vec()).await.unwrap();
        assert!(
            pool.verify(&acme, b"correct horse".to_vec(), phc.clone())
                .await
        );
        assert!(!pool.verify(&acme, b"wrong horse".to_vec(), phc).await);
    }

    async fn futures_join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
        tokio::join!(a, b)
    }

    /// Polls the futures together so that they are in flight at once.
    async fn join_all<F: Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
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

    use std::future::Future;
}
