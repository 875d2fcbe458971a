//! The page may ask what the lock view should offer; the key itself stays in Rust.

use tauri::{AppHandle, Runtime, command};

use crate::{Result, Status, VaultExt};

#[command]
pub(crate) async fn status<R: Runtime>(app: AppHandle<R>) -> Result<Status> {
    app.vault().status()
}
