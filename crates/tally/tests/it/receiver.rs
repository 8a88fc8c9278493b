//! A webhook receiver for tests: an axum server on 127.0.0.1:0 that records every request's
//! headers and exact body, and answers as scripted (a status, a delay, or a body that never
//! ends) — 200 otherwise.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// What the receiver does with one request.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Status(u16),
    SleepMs(u64),
    /// 200 with a body of `x` streamed for as long as the client keeps reading.
    EndlessBody,
}

/// One chunk of an endless body.
static ENDLESS_CHUNK: [u8; 16_384] = [b'x'; 16_384];

fn endless_body() -> Response {
    let chunks = futures::stream::repeat_with(|| {
        Ok::<_, std::convert::Infallible>(Bytes::from_static(&ENDLESS_CHUNK))
    });
    axum::body::Body::from_stream(chunks).into_response()
}

#[derive(Clone, Default)]
pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<Answer>>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut receiver = Receiver {
            url: format!("http://{}/hooks", listener.local_addr().unwrap()),
            ..Receiver::default()
        };
        let (received, script) = (receiver.received.clone(), receiver.script.clone());
        let app = axum::Router::new().route(
            "/hooks",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let (received, script) = (received.clone(), script.clone());
                async move {
                    received.lock().unwrap().push(Received {
                        headers,
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                    let answer = script.lock().unwrap().pop_front();
                    match answer {
                        Some(Answer::Status(code)) => {
                            StatusCode::from_u16(code).unwrap().into_response()
                        }
                        Some(Answer::SleepMs(ms)) => {
                            tokio::time::sleep(Duration::from_millis(ms)).await;
                            StatusCode::OK.into_response()
                        }
                        Some(Answer::EndlessBody) => endless_body(),
                        None => StatusCode::OK.into_response(),
                    }
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver.url = receiver.url.clone();
        receiver
    }

    /// Answers the next requests in this order, then 200.
    pub fn script(&self, answers: &[Answer]) {
        self.script.lock().unwrap().extend(answers.iter().copied());
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}
