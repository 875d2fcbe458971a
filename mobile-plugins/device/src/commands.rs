//! The page's one command: the report (for the model settings' "why this model").

use tauri::{AppHandle, Runtime, command};

use crate::{DeviceExt, DeviceReport, Result};

#[command]
pub(crate) async fn report<R: Runtime>(app: AppHandle<R>) -> Result<DeviceReport> {
    app.device().report()
}
