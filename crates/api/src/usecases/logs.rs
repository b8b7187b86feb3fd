//! A workspace's logs for its admin: the audit log of every change, and the provisioning errors
//! its identity provider met (written best-effort, outside the failed request's transaction).

use webwork_scim_domain::{PlainText, WorkspaceId};
use webwork_scim_persistence::audit::{self, AuditRecord, LogQuery};
use webwork_scim_persistence::provisioning_errors::{self, ErrorRecord, FailedRequest};
use webwork_scim_persistence::{Access, StoreError};

use super::{AdminError, UseCases, in_workspace, run_blocking};

/// The longest value of a log filter.
pub const MAX_FILTER_CHARS: usize = 200;

/// Which entries of a log to list: at most `limit`, older than the entry `before` (a cursor),
/// and the log's two filters (an action and a target for the audit log; a `scimType` and a
/// status for the error log).
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub limit: i64,
    pub before: Option<PlainText>,
    pub first: Option<PlainText>,
    pub second: Option<PlainText>,
}

impl LogFilter {
    fn query(&self) -> LogQuery<'_> {
        LogQuery {
            limit: self.limit,
            before: self.before.as_ref().map(PlainText::as_str),
            action: self.first.as_ref().map(PlainText::as_str),
            target_id: self.second.as_ref().map(PlainText::as_str),
        }
    }
}

impl UseCases {
    /// The audit log, newest first, filtered by action and target.
    pub async fn audit_log(
        &self,
        key: &str,
        filter: LogFilter,
    ) -> Result<Vec<AuditRecord>, AdminError> {
        in_workspace(&self.store, key, Access::Read, move |tx, _| {
            Ok::<_, AdminError>(audit::list(tx, filter.query())?)
        })
        .await
    }

    /// The provisioning errors, newest first, filtered by `scimType` and status.
    pub async fn error_log(
        &self,
        key: &str,
        filter: LogFilter,
    ) -> Result<Vec<ErrorRecord>, AdminError> {
        in_workspace(&self.store, key, Access::Read, move |tx, _| {
            Ok::<_, AdminError>(provisioning_errors::list(tx, filter.query())?)
        })
        .await
    }

    /// Writes a failed SCIM request to its workspace's error log.
    pub async fn record_failed_request(
        &self,
        workspace: WorkspaceId,
        failed: FailedRequest,
    ) -> Result<(), StoreError> {
        let store = self.store.clone();
        run_blocking(move || store.write(workspace, |tx| provisioning_errors::record(tx, &failed)))
            .await
    }
}
