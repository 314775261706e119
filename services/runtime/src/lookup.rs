//! Looking up one key's current state over HTTP (`GET /<route>/{key}`), for support
//! agents and tracking pages. The HTTP task asks the processing loop through a
//! channel and the loop answers between batches, so a lookup reads state exactly as
//! the loop holds it and no lock is shared with the decision path.
//!
//! An instance answers for the partitions it owns. With several replicas, a key
//! another replica holds is "not held here"; ask the others (for example through a
//! headless Kubernetes service).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How long an HTTP lookup waits for the loop (a batch, or a restore, in progress).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

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

pub(crate) fn channel() -> (mpsc::Sender<Query>, mpsc::Receiver<Query>) {
    mpsc::channel(64)
}

pub(crate) async fn handle(
    State(queries): State<mpsc::Sender<Query>>,
    Path(key): Path<String>,
) -> (StatusCode, Json<Value>) {
    let (reply, answer) = oneshot::channel();
    let unavailable = |why: &str| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": why })),
        )
    };
    if queries
        .send(Query {
            key: key.clone(),
            reply,
        })
        .await
        .is_err()
    {
        return unavailable("the processing loop has stopped");
    }
    match tokio::time::timeout(ANSWER_TIMEOUT, answer).await {
        Ok(Ok(Answer::Found(state))) => (StatusCode::OK, Json(state)),
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
