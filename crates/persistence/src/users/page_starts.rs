//! Where the deep pages of a workspace's users start, remembered between requests. A page at
//! `startIndex=99901` in id order would otherwise step over 99,900 index entries on every
//! request: neither database finds the n-th entry of an index without walking to it.
//!
//! Every [`STEP`]-th live user's id is kept per workspace, with the workspace's stamp when they
//! were read (`workspaces.live_users_stamp`, which the database's triggers draw at random again
//! in the transaction of every creation, deletion, restore and removal, whoever writes it). A
//! read transaction reads the stamp in its own snapshot and uses the ids only while it is the
//! same, so a page found from them is exactly the page its offset names in that snapshot. The
//! stamp is random rather than a count so that a database taken back in time cannot show a value
//! these ids were read at with other users behind it. After a change, the ids are found again as
//! far as a page needs them: one statement per [`STEP`] users, each skipping as many index
//! entries, which is the walk the page's offset would make, in that many round trips.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use webwork_scim_domain::WorkspaceId;

use crate::schema::{users, workspaces};
use crate::{StoreError, TenantTx};

/// How many users lie between two remembered ids: a page skips fewer entries than this.
pub(crate) const STEP: i64 = 1000;

/// The most workspaces whose page starts are kept at once. A workspace of a million users keeps
/// a thousand ids, about 70 KB.
const MAX_WORKSPACES: usize = 256;

/// How long a read waits for another's walk of the same workspace at the same stamp before it
/// walks itself.
const WAIT_FOR_WALK: Duration = Duration::from_secs(5);

/// The page starts of the workspaces listed lately, shared by a store's transactions.
#[derive(Debug, Default)]
pub(crate) struct PageStarts {
    state: Mutex<State>,
    /// Signalled when a walk ends, found or not.
    walked: Condvar,
}

#[derive(Debug, Default)]
struct State {
    known: HashMap<WorkspaceId, Known>,
    /// The workspaces whose ids a read is walking now, with the stamp it walks at: the reads
    /// that come at the same stamp meanwhile (an identity provider's parallel pages right after
    /// a change) wait for its ids rather than each walk the same index entries.
    walking: HashMap<WorkspaceId, i64>,
}

#[derive(Debug)]
struct Known {
    /// `workspaces.live_users_stamp` when `ids` were read.
    stamp: i64,
    /// `ids[k]`: the id of the `(k + 1) * STEP`-th live user in id order.
    ids: Vec<String>,
}

/// What a read found for its page: the start, or the walk is its own to make.
enum Claimed<'a> {
    Found(String),
    Walk { from: Vec<String>, walk: Walk<'a> },
}

/// A walk in progress; it ends, and wakes the reads waiting for it, when dropped (also when the
/// walk failed).
struct Walk<'a> {
    starts: &'a PageStarts,
    workspace: WorkspaceId,
    stamp: i64,
}

impl Drop for Walk<'_> {
    fn drop(&mut self) {
        let mut state = self.starts.lock();
        if state.walking.get(&self.workspace) == Some(&self.stamp) {
            state.walking.remove(&self.workspace);
        }
        drop(state);
        self.starts.walked.notify_all();
    }
}

impl PageStarts {
    /// For a page of the workspace's live users in id order that skips `offset` of them: the id
    /// of the last user before the nearest remembered start, and how many users after it the
    /// page still skips. `None` when the page starts within the first [`STEP`] users.
    pub(crate) fn start(
        &self,
        tx: &mut TenantTx<'_>,
        offset: i64,
    ) -> Result<Option<(String, i64)>, StoreError> {
        let wanted = usize::try_from(offset / STEP).unwrap_or(0);
        if wanted == 0 {
            return Ok(None);
        }
        let stamp = tx
            .first::<i64, _>(
                tx.workspace_row()
                    .refine(|q| q.select(workspaces::live_users_stamp)),
            )?
            .unwrap_or(0);
        let workspace = tx.workspace();
        let (mut ids, walk) = match self.claim(workspace, stamp, wanted) {
            Claimed::Found(last) => return Ok(Some(start_at(&last, offset, wanted))),
            Claimed::Walk { from, walk } => (from, walk),
        };
        let found = ids.len();
        while ids.len() < wanted {
            let after = ids.last().map_or("", String::as_str).to_owned();
            let next = tx.first::<String, _>(tx.live_users().refine(|q| {
                q.filter(users::id.gt(after))
                    .order(users::id)
                    .offset(STEP - 1)
                    .select(users::id)
            }))?;
            match next {
                Some(id) => ids.push(id),
                // Fewer users than the page skips: it starts past the end.
                None => break,
            }
        }
        let start = ids.last().map(|last| start_at(last, offset, ids.len()));
        if ids.len() > found {
            self.remember(workspace, stamp, ids);
        }
        drop(walk);
        Ok(start)
    }

    /// The remembered start the page needs, waiting for a walk at the same stamp that is in
    /// progress; else the ids known at this stamp to walk on from, and the walk marked as this
    /// read's.
    fn claim(&self, workspace: WorkspaceId, stamp: i64, wanted: usize) -> Claimed<'_> {
        let deadline = Instant::now() + WAIT_FOR_WALK;
        let mut state = self.lock();
        loop {
            if let Some(known) = state.known.get(&workspace)
                && known.stamp == stamp
                && known.ids.len() >= wanted
            {
                return Claimed::Found(known.ids[wanted - 1].clone());
            }
            let now = Instant::now();
            if state.walking.get(&workspace) != Some(&stamp) || now >= deadline {
                break;
            }
            state = self
                .walked
                .wait_timeout(state, deadline - now)
                .map_or_else(|poisoned| poisoned.into_inner().0, |(state, _)| state);
        }
        let from = match state.known.get(&workspace) {
            Some(known) if known.stamp == stamp => known.ids.clone(),
            _ => Vec::new(),
        };
        state.walking.insert(workspace, stamp);
        Claimed::Walk {
            from,
            walk: Walk {
                starts: self,
                workspace,
                stamp,
            },
        }
    }

    /// Keeps `ids` unless as many or more were kept meanwhile at the same stamp. A workspace
    /// not kept yet takes the place of another when the store keeps the most it may: the
    /// evicted one's next deep page walks again, which costs time, never a wrong page.
    fn remember(&self, workspace: WorkspaceId, stamp: i64, ids: Vec<String>) {
        let mut state = self.lock();
        let known = &mut state.known;
        if let Some(kept) = known.get(&workspace)
            && kept.stamp == stamp
            && kept.ids.len() >= ids.len()
        {
            return;
        }
        if known.len() >= MAX_WORKSPACES
            && !known.contains_key(&workspace)
            && let Some(evicted) = known.keys().next().copied()
        {
            known.remove(&evicted);
        }
        known.insert(workspace, Known { stamp, ids });
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The page after the `starts * STEP`-th user, `last`, skipping what remains of `offset`.
fn start_at(last: &str, offset: i64, starts: usize) -> (String, i64) {
    let skipped = i64::try_from(starts)
        .unwrap_or(i64::MAX)
        .saturating_mul(STEP);
    (last.to_owned(), offset.saturating_sub(skipped))
}
