//! What an operator relies on: bounded metrics and readiness (database outages are in
//! `outages`).

use actix_web::http::StatusCode;
use webwork_scim_api::usecases::Caller;
use webwork_scim_api::{AppState, app};
use webwork_scim_domain::Plan;
use webwork_scim_persistence::workspaces::WorkspaceUpdate;

use crate::support::*;

/// The series of a metrics page: every line that is not a comment.
pub fn series(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            line.rsplit_once(' ')
                .map_or(line, |(name, _)| name)
                .to_owned()
        })
        .collect()
}

pub async fn metrics_page(app: &TestApp) -> String {
    let response = app
        .call(actix_web::http::Method::GET, "/metrics", None, None)
        .await;
    assert_eq!(response.status, StatusCode::OK);
    response.body.as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn metric_labels_stay_bounded_after_traffic_from_a_thousand_workspaces() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let jane = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    app.get(&user(&ws, &jane), &token).await.expect(200);
    let mut keys = Vec::new();
    let traffic = |key: String, n: usize| {
        let app = &app;
        async move {
            // A token shaped right but unknown: authentication fails after the workspace lookup.
            let bogus = format!("wwscim_{:012x}_{}", n, "0".repeat(64));
            app.get(
                &format!("/scim/v2/{key}/Users/{}", uuid::Uuid::new_v4()),
                &bogus,
            )
            .await
            .expect(401);
            app.get(
                &format!("/scim/v2/{key}/Groups?filter=displayName+eq+%22{n}%22"),
                &bogus,
            )
            .await
            .expect(401);
            app.get(&format!("/api/v1/workspaces/{key}/users"), "not-a-jwt")
                .await
                .expect(401);
        }
    };
    for n in 0..10 {
        let workspace = app.workspace(&format!("Tenant {n}"), Plan::Premium).await;
        keys.push(workspace.key.to_string());
        traffic(workspace.key.to_string(), n).await;
    }
    // The first scrape counts itself: compare scrapes that both follow one.
    metrics_page(&app).await;
    let early = series(&metrics_page(&app).await);
    for n in 10..1000 {
        let workspace = app.workspace(&format!("Tenant {n}"), Plan::Premium).await;
        keys.push(workspace.key.to_string());
        traffic(workspace.key.to_string(), n).await;
    }
    let page = metrics_page(&app).await;
    let late = series(&page);
    assert_eq!(
        late.len(),
        early.len(),
        "990 more workspaces added no series: {:?}",
        late.iter()
            .filter(|s| !early.contains(s))
            .collect::<Vec<_>>()
    );
    assert!(late.len() < 400, "{} series", late.len());
    for key in keys.iter().chain([&ws.key.to_string(), &jane]) {
        assert!(!page.contains(key.as_str()), "a label carries '{key}'");
    }
    for expected in [
        r#"webwork_scim_http_requests_total{method="GET",route="/scim/v2/{workspace}/Users/{id}",status="401"}"#,
        r#"webwork_scim_scim_operations_total{operation="create",outcome="success",resource="User"}"#,
        r#"webwork_scim_auth_failures_total{reason="unknown"}"#,
        "webwork_scim_token_cache_misses_total",
        "webwork_scim_token_cache_hits_total",
        "webwork_scim_http_request_duration_seconds_bucket",
        "webwork_scim_db_pool_wait_seconds_bucket",
        r#"webwork_scim_db_pool_connections{state="idle"}"#,
        "webwork_scim_db_pool_max_connections",
        "webwork_scim_build_info{commit=",
        "process_resident_memory_bytes",
    ] {
        assert!(page.contains(expected), "missing {expected}");
    }
    let auth_failures: f64 = page
        .lines()
        .find(|line| line.starts_with(r#"webwork_scim_auth_failures_total{reason="unknown"}"#))
        .and_then(|line| line.rsplit_once(' '))
        .and_then(|(_, value)| value.parse().ok())
        .unwrap();
    assert!(auth_failures >= 2000.0, "{auth_failures}");
}

#[actix_web::test]
async fn plan_refusals_and_rate_limits_are_counted() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let free = WorkspaceUpdate {
        plan: Some(Plan::Free),
        ..WorkspaceUpdate::default()
    };
    app.use_cases()
        .update_workspace(&Caller::operator(), ws.key.as_str(), free)
        .await
        .unwrap();
    app.get(&users(&ws), &token)
        .await
        .assert_scim_error(403, None);
    let page = metrics_page(&app).await;
    assert!(
        page.contains("webwork_scim_plan_refusals_total 1"),
        "{page}"
    );
}

#[actix_web::test]
async fn readiness_follows_start_and_stop_while_liveness_stays() {
    let db = webwork_scim_persistence::testing::TestDb::new();
    let state = AppState::new(db.store.clone(), test_config()).unwrap();
    let service = actix_web::test::init_service(app::app(state.clone())).await;
    let status = |path: &'static str| {
        let request = actix_web::test::TestRequest::get().uri(path).to_request();
        actix_web::test::call_service(&service, request)
    };
    assert_eq!(
        status("/readyz").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(status("/healthz").await.status(), StatusCode::OK);
    state.status.mark_ready();
    assert_eq!(status("/readyz").await.status(), StatusCode::OK);
    state.status.begin_stopping();
    assert_eq!(
        status("/readyz").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(status("/healthz").await.status(), StatusCode::OK);
}

/// The metric names a PromQL expression reads, without a histogram's `_bucket`, `_sum` or
/// `_count`.
fn metrics_read(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("webwork_scim_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .unwrap_or(name);
        names.push(base.to_owned());
        rest = &tail[end..];
    }
    names
}

fn expressions(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(object) => {
            for (key, value) in object {
                match (key.as_str(), value) {
                    ("expr", serde_json::Value::String(text)) => out.push(text.clone()),
                    // A variable's query (`label_values(…)`); a data source variable names only
                    // its type.
                    ("query", serde_json::Value::String(text)) if text.contains('(') => {
                        out.push(text.clone());
                    }
                    _ => expressions(value, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| expressions(item, out)),
        _ => {}
    }
}

#[actix_web::test]
async fn the_grafana_dashboard_queries_only_metrics_that_are_exposed() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/grafana/webwork-scim.json"
    );
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut exprs = Vec::new();
    expressions(&dashboard, &mut exprs);
    assert!(exprs.len() >= 20, "{} queries", exprs.len());
    // Traffic that gives every labelled series a sample: a create, a read, a refused token.
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let jane = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    app.get(&user(&ws, &jane), &token).await.expect(200);
    app.get(&users(&ws), "wwscim_000000000000_nope")
        .await
        .expect(401);
    let page = metrics_page(&app).await;
    let exposed: std::collections::HashSet<String> = series(&page)
        .into_iter()
        .map(|line| {
            let name = line.split('{').next().unwrap_or_default();
            ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .unwrap_or(name)
                .to_owned()
        })
        .collect();
    let mut read = 0;
    for expr in &exprs {
        let names = metrics_read(expr);
        assert!(
            !names.is_empty(),
            "a query that reads no metric of ours: {expr}"
        );
        for name in names {
            assert!(
                exposed.contains(&name),
                "{name} (in {expr}) is not on /metrics"
            );
            read += 1;
        }
    }
    assert!(read >= exprs.len());
}
