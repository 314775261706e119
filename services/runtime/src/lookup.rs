//! Looking up one key's current state over HTTP (`GET /<route>/{key}`), for support
//! agents and tracking pages. The HTTP task asks the processing loop through a
//! channel and the loop answers between batches, so a lookup reads state exactly as
//! the loop holds it and no lock is shared with the decision path.
//!
//! An instance answers for the partitions it owns. With several replicas, a key
//! another replica holds is "not held here"; ask the others (for example through a
//! headless Kubernetes service).
//!
//! The answer leaves out the free-text fields a publisher may fill with personal
//! data (a scan's `description` and `location`, kept in state for scans held
//! until their shipment is known): a lookup shows ids, codes, statuses and times.

use crate::access::LookupAccess;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Value};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::time::Duration;
use tokio::sync::oneshot;

/// How long an HTTP lookup waits for the loop (a batch, or a restore, in progress).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// State fields never shown by a lookup, wherever they occur.
const FREE_TEXT: &[&str] = &["description", "location"];

pub(crate) struct Query {
    pub key: String,
    pub reply: oneshot::Sender<Answer>,
}

pub(crate) enum Answer {
    Found(Value),
    /// Not among the keys of the partitions this instance owns.
    NotHeld {
        partitions: Vec<i32>,
    },
}

pub(crate) fn channel() -> (SyncSender<Query>, Receiver<Query>) {
    sync_channel(64)
}

/// What the lookup route needs: the way to the loop, and who may ask.
#[derive(Clone)]
pub(crate) struct Lookup {
    pub queries: SyncSender<Query>,
    pub access: LookupAccess,
}

/// Removes the free-text fields from a state's JSON.
pub(crate) fn scrub(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for field in FREE_TEXT {
                map.remove(*field);
            }
            map.values_mut().for_each(scrub);
        }
        Value::Array(items) => items.iter_mut().for_each(scrub),
        _ => {}
    }
}

pub(crate) async fn handle(
    State(lookup): State<Lookup>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> (StatusCode, HeaderMap, Json<Value>) {
    let auth = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
    if !lookup.access.allows(auth) {
        let mut challenge = HeaderMap::new();
        challenge.insert(
            header::WWW_AUTHENTICATE,
            "Bearer".parse().expect("static header"),
        );
        let error =
            json!({ "error": "a bearer token is required (Authorization: Bearer <token>)" });
        return (StatusCode::UNAUTHORIZED, challenge, Json(error));
    }
    let (status, body) = answer(&lookup.queries, key).await;
    (status, HeaderMap::new(), body)
}

async fn answer(queries: &SyncSender<Query>, key: String) -> (StatusCode, Json<Value>) {
    let (reply, answer) = oneshot::channel();
    let unavailable = |why: &str| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": why })),
        )
    };
    if queries
        .try_send(Query {
            key: key.clone(),
            reply,
        })
        .is_err()
    {
        return unavailable("the processing loop is busy or has stopped; try again");
    }
    match tokio::time::timeout(ANSWER_TIMEOUT, answer).await {
        Ok(Ok(Answer::Found(mut state))) => {
            scrub(&mut state);
            (StatusCode::OK, Json(state))
        }
        Ok(Ok(Answer::NotHeld { partitions })) => (
            StatusCode::NOT_FOUND,
            Json(json!({
                "error": format!("{key} is not held by this instance"),
                "partitions_held": partitions,
            })),
        ),
        Ok(Err(_)) => unavailable("the processing loop has stopped"),
        Err(_) => unavailable("the processing loop is busy (restoring?); try again"),
    }
}
