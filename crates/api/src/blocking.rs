//! Runs blocking work (diesel, argon2) on tokio's blocking pool, never on an async worker.

use crate::ApiError;

/// Runs `f` on the blocking pool inside the current tracing span. A panic in `f` is resumed
/// here, so it is not mistaken for an ordinary error.
pub async fn run_blocking<F, R>(f: F) -> Result<R, ApiError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let span = tracing::Span::current();
    match tokio::task::spawn_blocking(move || span.in_scope(f)).await {
        Ok(value) => Ok(value),
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(err) => Err(ApiError::internal(format!(
            "blocking task cancelled: {err}"
        ))),
    }
}

/// Runs argon2 work (`f`) on the blocking pool, at most as many at once as `permits` allows.
pub async fn run_argon2<F, R>(permits: &tokio::sync::Semaphore, f: F) -> Result<R, ApiError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let _permit = permits
        .acquire()
        .await
        .map_err(|err| ApiError::internal(format!("argon2 permits closed: {err}")))?;
    run_blocking(f).await
}
