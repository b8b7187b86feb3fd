//! A share of the database pool per workspace: one identity provider importing on many
//! connections at once holds at most half of the pool, so that every other workspace's requests
//! still find a connection instead of queueing behind the import.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use webwork_scim_domain::WorkspaceId;

#[derive(Debug)]
pub struct WorkspaceLanes {
    per_workspace: usize,
    lanes: Mutex<HashMap<WorkspaceId, Arc<Semaphore>>>,
}

/// A place in a workspace's lane, held while its transaction runs.
#[derive(Debug)]
pub struct Place {
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
        })
    }

    /// How many transactions one workspace runs at once.
    pub fn per_workspace(&self) -> usize {
        self.per_workspace
    }

    /// Waits, in arrival order, for a place in `workspace`'s lane.
    pub async fn enter(self: &Arc<Self>, workspace: WorkspaceId) -> Place {
        let lane = self
            .lock()
            .entry(workspace)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_workspace)))
            .clone();
        // The semaphore is never closed, so acquiring cannot fail.
        let permit = lane.acquire_owned().await.ok();
        Place {
            permit,
            workspace,
            lanes: self.clone(),
        }
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
    async fn a_pool_of_one_still_serves_every_workspace() {
        let lanes = WorkspaceLanes::new(1);
        assert_eq!(lanes.per_workspace(), 1);
        let place = lanes.enter(WorkspaceId::generate()).await;
        drop(place);
        assert_eq!(lanes.open_lanes(), 0);
    }
}
