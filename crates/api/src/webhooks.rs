//! The delivery worker: posts outbox events to WebWork's app, signed in the manner of the
//! Standard Webhooks specification (`webhook-id`, `webhook-timestamp`, and `webhook-signature`
//! = `v1,` + base64 HMAC-SHA256 over `id.timestamp.body`), at least once, in order per user,
//! retrying with exponential backoff (capped at a few minutes, so that delivery resumes soon
//! after the receiver does) until an event is older than the configured horizon, days by
//! default: only then is it dead.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use serde_json::{Value, json};
use sha2::Sha256;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use webwork_scim_persistence::StoreError;
use webwork_scim_persistence::unscoped::delivery::ClaimedEvent;

use crate::AppState;
use crate::usecases::delivery::{Outcome, Recorded};

/// Where and how events are delivered.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub urls: Vec<String>,
    /// The signing secret's bytes (decoded from `whsec_<base64>`); `Debug` hides them.
    pub secret: SecretSlice<u8>,
    /// A failed event written longer ago than this is dead and waits for a replay; until then
    /// it is retried.
    pub dead_after: Duration,
    pub timeout: Duration,
    /// How long the worker waits when there is nothing to deliver.
    pub poll: Duration,
    /// The first retry waits this long; each further one twice as long, up to `max_backoff`.
    pub backoff_base: Duration,
    pub max_backoff: Duration,
    pub batch: i64,
    /// TLS for `https://` URLs; `None` when every URL is `http://`.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl WebhookSettings {
    /// Decodes a secret written as `whsec_<base64>` (or plain base64).
    pub fn decode_secret(raw: &str) -> Result<SecretSlice<u8>, String> {
        let encoded = raw.strip_prefix("whsec_").unwrap_or(raw);
        let secret = STANDARD
            .decode(encoded)
            .map_err(|err| format!("WEBHOOK_SECRET is not base64: {err}"))?;
        if secret.len() < 24 {
            return Err("WEBHOOK_SECRET needs at least 24 bytes".into());
        }
        Ok(secret.into())
    }

    fn retry_after(&self, attempts: i32) -> Duration {
        let factor =
            2u32.saturating_pow(u32::try_from(attempts.max(0)).unwrap_or(u32::MAX).min(20));
        self.backoff_base
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// `v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`.
pub fn sign(secret: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The body posted for an event.
pub fn body(event: &ClaimedEvent) -> String {
    let data: Value = serde_json::from_str(&event.payload).unwrap_or(Value::Null);
    json!({
        "id": event.id,
        "type": event.event_type,
        "timestamp": event.created_at().format(&Rfc3339).unwrap_or_default(),
        "data": data,
    })
    .to_string()
}

/// Long enough to post a whole batch, each event to every endpoint at its timeout: a replica
/// never loses a lease on events it is still working through.
fn lease_for(settings: &WebhookSettings) -> Duration {
    let per_event = settings
        .timeout
        .saturating_mul(u32::try_from(settings.urls.len().max(1)).unwrap_or(u32::MAX));
    per_event.saturating_mul(u32::try_from(settings.batch.max(1)).unwrap_or(u32::MAX))
        + Duration::from_secs(10)
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub delivered: usize,
    pub failed: usize,
    pub dead: usize,
}

/// Claims a batch and delivers it. An event whose user has an earlier event failing in this
/// batch is given back untried, so that events of one user never overtake each other.
pub async fn deliver_batch(
    state: &AppState,
    settings: &WebhookSettings,
    client: &awc::Client,
) -> Result<Pass, StoreError> {
    let use_cases = &state.use_cases;
    let claimed = use_cases
        .claim_events(lease_for(settings), settings.batch)
        .await?;
    let mut pass = Pass::default();
    let mut blocked: Vec<(String, String)> = Vec::new();
    let stopping = state.status.stopping();
    for event in claimed {
        let aggregate = (event.workspace_id.clone(), event.aggregate_id.clone());
        // Once the process is stopping, the events not yet posted are handed back at once rather
        // than held until their leases expire.
        let outcome = if blocked.contains(&aggregate) || *stopping.borrow() {
            Outcome::Released
        } else {
            match post(settings, client, &event).await {
                Ok(()) => Outcome::Delivered,
                Err(error) => Outcome::Failed(error),
            }
        };
        let retry_in = settings.retry_after(event.attempts);
        let recorded = use_cases
            .record_delivery(event, outcome, retry_in, settings.dead_after)
            .await?;
        match recorded {
            Recorded::Delivered => {
                pass.delivered += 1;
                state.metrics.webhook_deliveries.inc();
            }
            Recorded::Failed { dead } => {
                pass.failed += 1;
                state.metrics.webhook_failures.inc();
                if dead {
                    pass.dead += 1;
                }
                blocked.push(aggregate);
            }
            Recorded::Released => {}
        }
    }
    Ok(pass)
}

/// Posts one event to every endpoint; an error names the first endpoint that refused it.
async fn post(
    settings: &WebhookSettings,
    client: &awc::Client,
    event: &ClaimedEvent,
) -> Result<(), String> {
    let body = body(event);
    let timestamp = OffsetDateTime::now_utc().unix_timestamp();
    let signature = sign(settings.secret.expose_secret(), &event.id, timestamp, &body);
    for url in &settings.urls {
        let sent = client
            .post(url)
            .timeout(settings.timeout)
            .insert_header(("content-type", "application/json"))
            .insert_header(("webhook-id", event.id.as_str()))
            .insert_header(("webhook-timestamp", timestamp.to_string()))
            .insert_header(("webhook-signature", signature.as_str()))
            .send_body(body.clone())
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {}
            Ok(response) => return Err(format!("{url} answered {}", response.status())),
            Err(err) => return Err(format!("{url}: {err}")),
        }
    }
    Ok(())
}

/// Delivers until the process stops: a pass, then a short wait when nothing was due. The
/// outbox metrics are refreshed every few seconds.
pub async fn run(state: AppState, settings: WebhookSettings) {
    let mut connector = awc::Connector::new();
    if let Some(tls) = &settings.tls {
        connector = connector.rustls_0_23(Arc::clone(tls));
    }
    let client = awc::Client::builder()
        .connector(connector)
        .timeout(settings.timeout)
        .finish();
    let mut stats_due = Instant::now();
    let mut stopping = state.status.stopping();
    // Stopping is checked between batches; within one, `deliver_batch` hands the events it has
    // not posted yet back at once, so that no lease holds them until it expires.
    while !*stopping.borrow() {
        let idle = match deliver_batch(&state, &settings, &client).await {
            Ok(pass) => pass == Pass::default(),
            Err(err) => {
                tracing::warn!(error = %err, "outbox delivery failed");
                true
            }
        };
        if Instant::now() >= stats_due {
            refresh_metrics(&state).await;
            stats_due = Instant::now() + Duration::from_secs(10);
        }
        if idle {
            tokio::select! {
                () = actix_web::rt::time::sleep(settings.poll) => {}
                _ = stopping.changed() => {}
            }
        }
    }
    tracing::info!("outbox delivery stopped");
}

/// Keeps the outbox gauges current on a replica that delivers nothing (no `WEBHOOK_URLS`), so that
/// a backlog piling up there still shows and alerts.
pub async fn watch_backlog(state: AppState) {
    let mut stopping = state.status.stopping();
    while !*stopping.borrow() {
        refresh_metrics(&state).await;
        tokio::select! {
            () = actix_web::rt::time::sleep(Duration::from_secs(10)) => {}
            _ = stopping.changed() => {}
        }
    }
}

async fn refresh_metrics(state: &AppState) {
    match state.use_cases.outbox_stats().await {
        Ok(stats) => {
            state.metrics.outbox_backlog.set(stats.pending);
            state.metrics.outbox_dead.set(stats.dead);
            state
                .metrics
                .outbox_oldest_age
                .set(stats.oldest_pending_age_secs);
        }
        Err(err) => tracing::warn!(error = %err, "outbox statistics failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_standard_webhooks_scheme() {
        // HMAC-SHA256 of "msg_1.1700000000.{}" under the key b"0123456789abcdef0123456789abcdef",
        // computed independently with Python's hmac module.
        let signature = sign(
            b"0123456789abcdef0123456789abcdef",
            "msg_1",
            1_700_000_000,
            "{}",
        );
        assert_eq!(signature, "v1,2c4VI0bO4Wd5svqP2unEA9pCk0dTAXr/elrHCJ+/efk=");
        assert_ne!(
            signature,
            sign(
                b"0123456789abcdef0123456789abcdeX",
                "msg_1",
                1_700_000_000,
                "{}"
            )
        );
        assert_ne!(
            signature,
            sign(
                b"0123456789abcdef0123456789abcdef",
                "msg_2",
                1_700_000_000,
                "{}"
            )
        );
    }

    #[test]
    fn secrets_decode_from_whsec_form_and_short_ones_are_refused() {
        let secret =
            WebhookSettings::decode_secret("whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
                .unwrap();
        assert_eq!(secret.expose_secret(), b"0123456789abcdef0123456789abcdef");
        assert!(WebhookSettings::decode_secret("whsec_c2hvcnQ=").is_err());
        assert!(WebhookSettings::decode_secret("not base64!").is_err());
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let settings = WebhookSettings {
            urls: vec![],
            secret: Vec::new().into(),
            dead_after: Duration::from_secs(3 * 24 * 3600),
            timeout: Duration::from_secs(5),
            poll: Duration::from_millis(250),
            backoff_base: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
            batch: 10,
            tls: None,
        };
        assert_eq!(settings.retry_after(0), Duration::from_secs(1));
        assert_eq!(settings.retry_after(3), Duration::from_secs(8));
        assert_eq!(settings.retry_after(8), Duration::from_secs(256));
        assert_eq!(settings.retry_after(9), Duration::from_secs(300));
        assert_eq!(settings.retry_after(30), Duration::from_secs(300));
    }
}
