//! Filters other than Okta's look-up, one request at a time, in the workspace that grows: the
//! queries an administrator's tooling or an identity provider's reconciliation sends, each of
//! which would count or scan the workspace's users if no index served it.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::fixture::Tenant;

/// What one filter took: the best and the median of [`TRIES`] requests, in milliseconds, and the
/// total it answered.
#[derive(Serialize)]
pub struct Timed {
    pub filter: String,
    pub best_ms: f64,
    pub median_ms: f64,
    pub total_results: u64,
}

const TRIES: usize = 5;

/// The filters, for `tenant` whose newest users were added after `since`.
fn queries(tenant: &Tenant, since: &str) -> Vec<(String, String)> {
    let half = tenant.users.len() / 2;
    let email = tenant.user_name(half);
    let named = |label: &str, query: String| (label.to_owned(), query);
    vec![
        named(
            "userName sw \"user7777\"",
            "filter=userName%20sw%20%22user7777%22".into(),
        ),
        named(
            "emails.value eq (one user)",
            format!(
                "filter=emails.value%20eq%20%22{}%22",
                email.replace('@', "%40")
            ),
        ),
        named(
            "emails[type eq \"work\"].value eq (Entra ID)",
            format!(
                "filter=emails%5Btype%20eq%20%22work%22%5D.value%20eq%20%22{}%22",
                email.replace('@', "%40")
            ),
        ),
        named(
            "externalId eq (one user)",
            format!(
                "filter=externalId%20eq%20%22{}%22",
                tenant.external_id(half)
            ),
        ),
        named(
            "active eq true, count=10",
            "filter=active%20eq%20true&count=10".into(),
        ),
        named(
            "meta.lastModified gt (the last step's users), count=10",
            format!("filter=meta.lastModified%20gt%20%22{since}%22&count=10"),
        ),
    ]
}

/// Each filter of [`queries`] once to warm the caches, then [`TRIES`] times one after another.
pub async fn measure(address: std::net::SocketAddr, tenant: &Tenant, since: &str) -> Vec<Timed> {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(60))
        .finish();
    let mut timed = Vec::new();
    for (label, query) in queries(tenant, since) {
        let url = format!("http://{address}{}/Users?{query}", tenant.base());
        let mut took = Vec::with_capacity(TRIES);
        let mut total = 0;
        for n in 0..=TRIES {
            let started = Instant::now();
            let mut response = client
                .get(url.as_str())
                .insert_header(("Authorization", format!("Bearer {}", tenant.token)))
                .send()
                .await
                .expect("the filter's answer");
            let body: serde_json::Value = response
                .json()
                .limit(16 << 20)
                .await
                .expect("a list response");
            assert_eq!(response.status().as_u16(), 200, "{label}: {body}");
            if n > 0 {
                took.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            total = body["totalResults"].as_u64().unwrap_or_default();
        }
        took.sort_by(f64::total_cmp);
        timed.push(Timed {
            filter: label,
            best_ms: took[0],
            median_ms: took[TRIES / 2],
            total_results: total,
        });
    }
    timed
}

pub fn print(timed: &[Timed]) {
    for t in timed {
        println!(
            "{:>14} {:<58} best {:>9.2} ms, median {:>9.2} ms, totalResults {}",
            "", t.filter, t.best_ms, t.median_ms, t.total_results
        );
    }
}
