//! A running app on its own database, and a small SCIM client for the tests.

use actix_web::http::header::HeaderMap;
use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};
use webwork_scim_api::{AppState, admin, app};
use webwork_scim_domain::{Plan, Workspace};
use webwork_scim_persistence::testing::TestDb;
use webwork_scim_tenancy::TokenVerifier;

pub const BASE: &str = "http://scim.test";
pub const MAX_BODY: usize = 64 * 1024;

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
        let db = TestDb::new();
        let verifier = TokenVerifier::new(std::time::Duration::from_secs(300), 1000).unwrap();
        let state = AppState::new(db.store.clone(), verifier, BASE.into(), MAX_BODY);
        let served = state.clone();
        let server = actix_test::start(move || app::app(served.clone()));
        TestApp { db, state, server }
    }

    pub fn workspace(&self, name: &str, plan: Plan) -> Workspace {
        admin::create_workspace(&self.db.store, name, plan, true).unwrap()
    }

    pub fn token(&self, workspace: &Workspace) -> String {
        admin::issue_token(&self.db.store, workspace.key.as_str(), "test", None)
            .unwrap()
            .plaintext
    }

    /// A Premium workspace with SSO on, and a token for it.
    pub fn premium(&self, name: &str) -> (Workspace, String) {
        let workspace = self.workspace(name, Plan::Premium);
        let token = self.token(&workspace);
        (workspace, token)
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
        let mut response = match body {
            Some(body) => request
                .insert_header(("Content-Type", content_type))
                .send_body(body.to_owned())
                .await
                .unwrap(),
            None => request.send().await.unwrap(),
        };
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
        let response = self
            .post(&users(workspace), token, &okta_user(user_name))
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
        response.body
    }
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
