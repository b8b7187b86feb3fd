//! A running app on its own database, and a small SCIM client for the tests.

use actix_web::http::header::HeaderMap;
use actix_web::http::{Method, StatusCode};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use webwork_scim_api::state::AppConfig;
use webwork_scim_api::usecases::workspaces::NewWorkspace;
use webwork_scim_api::usecases::{Caller, UseCases};
use webwork_scim_api::{AppState, app};
use webwork_scim_domain::{PlainText, Plan, Workspace, WorkspaceName};
use webwork_scim_persistence::Store;
use webwork_scim_persistence::testing::TestDb;
use webwork_scim_tenancy::JwtVerifier;

pub const BASE: &str = "http://scim.test";
pub const MAX_BODY: usize = 64 * 1024;
const JWT_PRIVATE: &str = include_str!("../../../tenancy/tests/fixtures/jwt-ed25519-private.pem");
const JWT_PUBLIC: &str = include_str!("../../../tenancy/tests/fixtures/jwt-ed25519-public.pem");
pub const JWT_ISSUER: &str = "webwork";
pub const JWT_AUDIENCE: &str = "webwork-scim-admin";
pub const JWT_INTERNAL_AUDIENCE: &str = "webwork-scim-internal";

pub struct TestApp {
    pub db: TestDb,
    pub state: AppState,
    pub server: actix_test::TestServer,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body, after checking the status: a set-up step that fails says so at once.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        self.body
    }

    /// Asserts an RFC 7644 error body with `status` as a string.
    pub fn assert_scim_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(
            self.body["schemas"],
            json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
        );
        assert_eq!(self.body["status"], json!(status.to_string()));
        assert!(self.body["detail"].is_string(), "{}", self.body);
        assert_eq!(self.body["scimType"].as_str(), scim_type, "{}", self.body);
        assert_eq!(self.header("content-type"), Some("application/scim+json"));
    }
}

impl TestApp {
    pub async fn start() -> TestApp {
        TestApp::start_with(|_| {}).await
    }

    /// An app whose settings `adjust` changes from the test defaults.
    pub async fn start_with(adjust: impl FnOnce(&mut AppConfig)) -> TestApp {
        let db = TestDb::new();
        let (state, server) = serve(&db, adjust);
        TestApp { db, state, server }
    }

    /// An app on `store`, a pool of the test's own making on `db`.
    pub fn on_store(db: TestDb, store: Store) -> TestApp {
        let (state, server) = serve_store(store, test_config());
        TestApp { db, state, server }
    }

    /// A second replica on the same database, with its own caches.
    pub fn replica(
        &self,
        adjust: impl FnOnce(&mut AppConfig),
    ) -> (AppState, actix_test::TestServer) {
        serve(&self.db, adjust)
    }

    /// The use cases of this app, as the command line and the handlers call them.
    pub fn use_cases(&self) -> &UseCases {
        &self.state.use_cases
    }

    /// A workspace on `plan` with single sign-on on.
    pub async fn workspace(&self, name: &str, plan: Plan) -> Workspace {
        workspace_on(self.use_cases(), name, plan).await
    }

    pub async fn token(&self, workspace: &Workspace) -> String {
        token_on(self.use_cases(), workspace).await
    }

    /// A Premium workspace with SSO on, and a token for it.
    pub async fn premium(&self, name: &str) -> (Workspace, String) {
        premium_on(self.use_cases(), name).await
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let raw = body.map(Value::to_string);
        self.call_raw(
            method,
            path,
            token,
            raw.as_deref(),
            "application/scim+json; charset=utf-8",
        )
        .await
    }

    /// A SCIM request with extra headers (`If-Match`, say); a `Null` body sends none.
    pub async fn call_with_headers(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut request = self
            .server
            .request(method, self.server.url(path))
            .insert_header(("Authorization", format!("Bearer {token}")));
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        let sent = if body.is_null() {
            request.send().await
        } else {
            request
                .insert_header(("Content-Type", "application/scim+json"))
                .send_body(body.to_string())
                .await
        };
        read_response(sent.unwrap()).await
    }

    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
        content_type: &str,
    ) -> Response {
        let mut request = self.server.request(method, self.server.url(path));
        if let Some(token) = token {
            request = request.insert_header(("Authorization", format!("Bearer {token}")));
        }
        let response = match body {
            Some(body) => request
                .insert_header(("Content-Type", content_type))
                .send_body(body.to_owned())
                .await
                .unwrap(),
            None => request.send().await.unwrap(),
        };
        read_response(response).await
    }

    /// A call to the internal API (`path` below `/internal/v1`) as WebWork's app makes it.
    pub async fn internal(&self, method: Method, path: &str, body: Option<&Value>) -> Response {
        let path = format!("/internal/v1{path}");
        self.call(method, &path, Some(&service_jwt()), body).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: &Value) -> Response {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Response {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Creates a user as Okta does and returns its resource.
    pub async fn create_user(&self, workspace: &Workspace, token: &str, user_name: &str) -> Value {
        self.post(&users(workspace), token, &okta_user(user_name))
            .await
            .expect(201)
    }
}

type ClientResponse = awc::ClientResponse;

/// The status, headers and JSON body (or text, or `Null`) of a response.
async fn read_response(mut response: ClientResponse) -> Response {
    let bytes = response.body().limit(16 * 1024 * 1024).await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Response {
        status: response.status(),
        headers: response.headers().clone(),
        body,
    }
}

/// The ids of `count` users created one after another, named `{prefix}{n}@acme.com`.
pub async fn created(
    app: &TestApp,
    ws: &Workspace,
    token: &str,
    prefix: &str,
    count: usize,
) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let name = format!("{prefix}{n}@acme.com");
        ids.push(id_of(&app.create_user(ws, token, &name).await));
    }
    ids
}

/// Polls two futures together on this thread, so that both are in flight at once.
pub async fn futures_join<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    let (mut a, mut b) = (Box::pin(a), Box::pin(b));
    let (mut left, mut right) = (None, None);
    std::future::poll_fn(|cx| {
        if left.is_none()
            && let std::task::Poll::Ready(value) = a.as_mut().poll(cx)
        {
            left = Some(value);
        }
        if right.is_none()
            && let std::task::Poll::Ready(value) = b.as_mut().poll(cx)
        {
            right = Some(value);
        }
        if left.is_some() && right.is_some() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    (left.unwrap(), right.unwrap())
}

pub fn test_config() -> AppConfig {
    let keys = json!([{"kid": "test", "alg": "EdDSA", "public_key": JWT_PUBLIC}]).to_string();
    AppConfig {
        max_body_bytes: MAX_BODY,
        jwt: JwtVerifier::from_json(&keys, JWT_ISSUER, JWT_AUDIENCE, 30, false).unwrap(),
        internal_jwt: JwtVerifier::from_json(&keys, JWT_ISSUER, JWT_INTERNAL_AUDIENCE, 30, false)
            .unwrap(),
        ..AppConfig::new(BASE)
    }
}

fn serve(db: &TestDb, adjust: impl FnOnce(&mut AppConfig)) -> (AppState, actix_test::TestServer) {
    let mut config = test_config();
    adjust(&mut config);
    serve_store(db.store.clone(), config)
}

/// A ready app on `store` (a pool of the test's own making), served on a socket.
pub fn serve_store(store: Store, config: AppConfig) -> (AppState, actix_test::TestServer) {
    let state = AppState::new(store, config).unwrap();
    state.status.mark_ready();
    let served = state.clone();
    let server = actix_test::start(move || app::app(served.clone()));
    (state, server)
}

/// A workspace on `plan` with single sign-on on, created through the use cases.
pub async fn workspace_on(use_cases: &UseCases, name: &str, plan: Plan) -> Workspace {
    let new = NewWorkspace {
        name: WorkspaceName::parse(name).unwrap(),
        plan,
        sso_enabled: true,
        seats: None,
    };
    use_cases
        .create_workspace(&Caller::operator(), new)
        .await
        .unwrap()
}

/// A Premium workspace with SSO on, and a token for it.
pub async fn premium_on(use_cases: &UseCases, name: &str) -> (Workspace, String) {
    let workspace = workspace_on(use_cases, name, Plan::Premium).await;
    let token = token_on(use_cases, &workspace).await;
    (workspace, token)
}

async fn token_on(use_cases: &UseCases, workspace: &Workspace) -> String {
    let label = PlainText::parse("label", "test", 100).unwrap();
    use_cases
        .issue_token(&Caller::operator(), workspace.key.as_str(), label, None)
        .await
        .unwrap()
        .plaintext
}

/// Waits until `condition` holds, checking every few milliseconds; fails after `within`.
/// Something that happens in the background is waited for, never slept on.
pub async fn eventually<F: AsyncFnMut() -> bool>(within: std::time::Duration, mut condition: F) {
    let deadline = std::time::Instant::now() + within;
    while !condition().await {
        assert!(
            std::time::Instant::now() < deadline,
            "the condition did not hold within {within:?}"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// An admin-API JWT signed with the test key.
pub fn jwt(role: &str, workspace: Option<&str>) -> String {
    signed(role, workspace, JWT_AUDIENCE)
}

/// A service JWT of the internal API.
pub fn service_jwt() -> String {
    signed("service", None, JWT_INTERNAL_AUDIENCE)
}

fn signed(role: &str, workspace: Option<&str>, audience: &str) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({"sub": format!("{role}-user"), "ws": workspace, "role": role,
        "iss": JWT_ISSUER, "aud": audience, "exp": now + 300, "nbf": now - 5});
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("test".into());
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_ed_pem(JWT_PRIVATE.as_bytes()).unwrap(),
    )
    .unwrap()
}

pub fn platform() -> String {
    jwt("platform", None)
}

pub fn admin_of(workspace: &Workspace) -> String {
    jwt("admin", Some(workspace.key.as_str()))
}

pub fn users(workspace: &Workspace) -> String {
    format!("/scim/v2/{}/Users", workspace.key)
}

pub fn user(workspace: &Workspace, id: &str) -> String {
    format!("/scim/v2/{}/Users/{id}", workspace.key)
}

pub fn id_of(resource: &Value) -> String {
    resource["id"]
        .as_str()
        .expect("resource has an id")
        .to_owned()
}

/// The `userName` (or, for a group, the `displayName`) of each resource of a ListResponse, in
/// order.
pub fn resource_names(page: &Value) -> Vec<String> {
    page["Resources"]
        .as_array()
        .expect("a ListResponse")
        .iter()
        .map(|r| {
            let name = r["userName"].as_str().or(r["displayName"].as_str());
            name.expect("a named resource").to_owned()
        })
        .collect()
}

/// The body of Okta's create request.
pub fn okta_user(user_name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Jane", "familyName": "Doe"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": "Jane Doe",
        "locale": "en-US",
        "externalId": "00u1okta",
        "groups": [],
        "password": "Okta-Placeholder-1!",
        "active": true
    })
}

pub fn patch_active(active: bool) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": active}}]
    })
}

/// Polls every future together on this thread, so the requests are in flight at once.
pub async fn join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<_> = futures.map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (slot, future) in done.iter_mut().zip(pending.iter_mut()) {
            if slot.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *slot = Some(value),
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
    done.into_iter().flatten().collect()
}

/// A SQLite store of its own in `dir`, migrated, with `sqlite`'s settings.
pub fn sqlite_store(
    dir: &tempfile::TempDir,
    sqlite: webwork_scim_persistence::SqliteSettings,
) -> (webwork_scim_persistence::DatabaseUrl, Store) {
    let url = webwork_scim_persistence::DatabaseUrl::Sqlite(dir.path().join("scim.db"));
    let settings = webwork_scim_persistence::PoolSettings {
        max_size: 4,
        sqlite,
        ..webwork_scim_persistence::testing::pool_settings()
    };
    let store = Store::connect(&url, &settings).unwrap();
    store.migrate().unwrap();
    (url, store)
}

/// How many users of the listing at `users` (a workspace's `/Users`) `server` finds by
/// `userName`, asked with `token` as an identity provider asks before a create.
pub async fn users_named(
    server: &actix_test::TestServer,
    users: &str,
    token: &str,
    name: &str,
) -> i64 {
    let found: Value = server
        .get(format!("{users}?filter=userName%20eq%20%22{name}%22"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    found["totalResults"].as_i64().expect("a total")
}
