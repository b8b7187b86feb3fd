//! A share of the database pool per workspace: one identity provider importing on many
//! connections at once holds at most half of the pool, so that every other workspace's requests
//! still find a connection instead of queueing behind the import. Past its lane, a transaction
//! also waits for one of the pool's connections here, on the async side: only as many
//! transactions as the pool has connections go to the blocking pool at once, instead of a
//! parked thread (with its stack and its allocator's heap) for every request in flight.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use webwork_scim_domain::WorkspaceId;

#[derive(Debug)]
pub struct WorkspaceLanes {
    per_workspace: usize,
    lanes: Mutex<HashMap<WorkspaceId, Arc<Semaphore>>>,
    /// One permit per connection of the pool.
    connections: Arc<Semaphore>,
}

/// A place in a workspace's lane and one of the pool's connections, held while its transaction
/// runs.
#[derive(Debug)]
pub struct Place {
    connection: Option<OwnedSemaphorePermit>,
    permit: Option<OwnedSemaphorePermit>,
    workspace: WorkspaceId,
    lanes: Arc<WorkspaceLanes>,
}

impl WorkspaceLanes {
    /// Lanes over a pool of `pool_size` connections: each workspace may use half of it (at
    /// least one).
    pub fn new(pool_size: u32) -> Arc<WorkspaceLanes> {
        Arc::new(WorkspaceLanes {
            per_workspace: (pool_size as usize / 2).max(1),
            lanes: Mutex::new(HashMap::new()),
            connections: Arc::new(Semaphore::new((pool_size as usize).max(1))),
        })
    }

    /// How many transactions one workspace runs at once.
    pub fn per_workspace(&self) -> usize {
        self.per_workspace
    }

    /// Waits, in arrival order, for a place in `workspace`'s lane, then for a connection.
    pub async fn enter(self: &Arc<Self>, workspace: WorkspaceId) -> Place {
        self.take(workspace, true).await
    }

    /// Waits for a place in `workspace`'s lane only: for a change that SQLite's writer thread
    /// runs on a connection of its own.
    pub async fn enter_lane(self: &Arc<Self>, workspace: WorkspaceId) -> Place {
        self.take(workspace, false).await
    }

    async fn take(self: &Arc<Self>, workspace: WorkspaceId, connection: bool) -> Place {
        let lane = self
            .lock()
            .entry(workspace)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_workspace)))
            .clone();
        let mut place = Place {
            connection: None,
            permit: None,
            workspace,
            lanes: self.clone(),
        };
        // The semaphores are never closed, so acquiring cannot fail. Dropped while waiting (the
        // client went away), the place gives back what it took and forgets an idle lane.
        place.permit = lane.acquire_owned().await.ok();
        if connection {
            place.connection = self.connections.clone().acquire_owned().await.ok();
        }
        place
    }

    /// Connections no transaction holds a place for now.
    pub fn free_connections(&self) -> usize {
        self.connections.available_permits()
    }

    /// Workspaces with a lane now: those with a transaction running or waiting.
    pub fn open_lanes(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<WorkspaceId, Arc<Semaphore>>> {
        self.lanes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        drop(self.connection.take());
        drop(self.permit.take());
        let mut lanes = self.lanes.lock();
        // A lane nobody holds or waits for is forgotten, so idle workspaces cost nothing.
        if let Some(lane) = lanes.get(&self.workspace)
            && Arc::strong_count(lane) == 1
            && lane.available_permits() == self.lanes.per_workspace
        {
            lanes.remove(&self.workspace);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_busy_workspace_holds_half_the_pool_and_others_pass() {
        let lanes = WorkspaceLanes::new(10);
        let (busy, quiet) = (WorkspaceId::generate(), WorkspaceId::generate());
        let mut held = Vec::new();
        for _ in 0..lanes.per_workspace() {
            held.push(lanes.enter(busy).await);
        }
        assert_eq!(lanes.per_workspace(), 5);
        let sixth = tokio::time::timeout(Duration::from_millis(50), lanes.enter(busy)).await;
        assert!(sixth.is_err(), "a sixth transaction of one workspace waits");
        let other = tokio::time::timeout(Duration::from_millis(50), lanes.enter(quiet)).await;
        assert!(other.is_ok(), "another workspace does not wait");
        drop(other);
        held.pop();
        let freed = tokio::time::timeout(Duration::from_millis(50), lanes.enter(busy)).await;
        assert!(freed.is_ok(), "a place freed is taken");
        drop(freed);
        held.clear();
        assert_eq!(lanes.open_lanes(), 0, "idle lanes are forgotten");
    }

    #[tokio::test]
    async fn no_more_transactions_than_connections_pass_at_once() {
        let lanes = WorkspaceLanes::new(4);
        let workspaces: Vec<_> = (0..3).map(|_| WorkspaceId::generate()).collect();
        let mut held = Vec::new();
        for workspace in &workspaces[..2] {
            for _ in 0..lanes.per_workspace() {
                held.push(lanes.enter(*workspace).await);
            }
        }
        assert_eq!(lanes.free_connections(), 0);
        let third = tokio::time::timeout(Duration::from_millis(50), lanes.enter(workspaces[2]));
        assert!(
            third.await.is_err(),
            "a fifth transaction waits for a connection"
        );
        assert_eq!(
            lanes.free_connections(),
            0,
            "the one that gave up took nothing"
        );
        held.pop();
        let third = tokio::time::timeout(Duration::from_millis(50), lanes.enter(workspaces[2]));
        let third = third.await.expect("a connection given back is taken");
        assert_eq!(lanes.free_connections(), 0);
        drop(third);
        held.clear();
        assert_eq!(lanes.free_connections(), 4);
        assert_eq!(lanes.open_lanes(), 0, "idle lanes are forgotten");
    }

    #[tokio::test]
    async fn a_change_for_the_writer_thread_takes_a_lane_place_but_no_connection() {
        let lanes = WorkspaceLanes::new(2);
        let workspace = WorkspaceId::generate();
        let change = lanes.enter_lane(workspace).await;
        assert_eq!(lanes.free_connections(), 2);
        let second = tokio::time::timeout(Duration::from_millis(50), lanes.enter_lane(workspace));
        assert!(second.await.is_err(), "the lane of one is full");
        drop(change);
        assert_eq!(lanes.open_lanes(), 0);
    }

    #[tokio::test]
    async fn a_pool_of_one_still_serves_every_workspace() {
        let lanes = WorkspaceLanes::new(1);
        assert_eq!(lanes.per_workspace(), 1);
        let place = lanes.enter(WorkspaceId::generate()).await;
        drop(place);
        assert_eq!(lanes.open_lanes(), 0);
    }
}
