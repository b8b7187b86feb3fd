//! WebWork's app as far as webhooks go: a real HTTP server that records each delivery, or
//! answers 503 while failing.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

/// One request the receiver accepted.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
}

impl Delivery {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

#[derive(Clone, Default)]
struct Inbox {
    accepted: Arc<Mutex<Vec<Delivery>>>,
    failing: Arc<AtomicBool>,
    /// Requests answered 503 while failing.
    refused: Arc<AtomicUsize>,
}

/// WebWork's app, as far as webhooks go: answers 204 and records, or 503 while failing.
pub struct Receiver {
    server: actix_test::TestServer,
    inbox: Inbox,
}

async fn receive(req: HttpRequest, body: web::Bytes, inbox: web::Data<Inbox>) -> HttpResponse {
    if inbox.failing.load(Ordering::SeqCst) {
        inbox.refused.fetch_add(1, Ordering::SeqCst);
        return HttpResponse::ServiceUnavailable().finish();
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    inbox.accepted.lock().unwrap().push(Delivery {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    HttpResponse::NoContent().finish()
}

impl Receiver {
    pub fn start() -> Receiver {
        Receiver::start_with(actix_test::config())
    }

    /// A receiver that speaks only TLS, with `tls`'s certificate.
    pub fn start_tls(tls: rustls::ServerConfig) -> Receiver {
        Receiver::start_with(actix_test::config().rustls_0_23(tls))
    }

    fn start_with(config: actix_test::TestServerConfig) -> Receiver {
        let inbox = Inbox::default();
        let shared = inbox.clone();
        let server = actix_test::start_with(config, move || {
            App::new()
                .app_data(web::Data::new(shared.clone()))
                .route("/events", web::post().to(receive))
        });
        Receiver { server, inbox }
    }

    pub fn url(&self) -> String {
        self.server.url("/events")
    }

    pub fn fail(&self, failing: bool) {
        self.inbox.failing.store(failing, Ordering::SeqCst);
    }

    /// How many deliveries were refused while failing.
    pub fn refused(&self) -> usize {
        self.inbox.refused.load(Ordering::SeqCst)
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inbox.accepted.lock().unwrap().clone()
    }

    /// The event types received about `user_id`, in arrival order.
    pub fn types_for(&self, user_id: &str) -> Vec<String> {
        self.deliveries()
            .iter()
            .map(Delivery::json)
            .filter(|event| event["data"]["user"]["id"] == json!(user_id))
            .map(|event| event["type"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Waits until `done` holds, at most `limit`.
    pub async fn wait_until(&self, limit: Duration, done: impl Fn(&Receiver) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if done(self) {
                return true;
            }
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
        done(self)
    }
}
