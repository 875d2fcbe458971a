//! The page's commands, one module per view. Each makes one core call (or a few lines of
//! wiring); work that can take long runs on a blocking thread, never on the main one.

pub mod assistant;
pub mod dictate;
pub mod jobs;
pub mod models;
pub mod notes;
pub mod reminders;
pub mod settings;
pub mod vault;

use crate::error::{AppError, AppResult};

/// Run `f` on a blocking thread and wait for it without holding up the async runtime.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> AppResult<T> + Send + 'static) -> AppResult<T> {
    tauri::async_runtime::spawn_blocking(f).await.map_err(|e| AppError::Internal(e.to_string()))?
}
