//! Sotto's `device` plugin: what this phone, tablet or computer offers the models (memory, cores,
//! battery, thermal state, accelerators), reported by the platform (Kotlin on Android, Swift on
//! iOS) or by the core's detection on desktops; the app feeds it to the model recommender.

use tauri::plugin::{Builder, TauriPlugin};
use tauri::{Manager, Runtime};

mod commands;
#[cfg(desktop)]
pub mod desktop;
mod error;
#[cfg(mobile)]
mod mobile;
mod models;

pub use error::{Error, Result};
pub use models::{Battery, DeviceReport, Thermal};

#[cfg(desktop)]
use desktop::Device;
#[cfg(mobile)]
use mobile::Device;

/// Access to the device report from an app, window or handle.
pub trait DeviceExt<R: Runtime> {
    /// The plugin's state.
    fn device(&self) -> &Device<R>;
}

impl<R: Runtime, T: Manager<R>> DeviceExt<R> for T {
    fn device(&self) -> &Device<R> {
        self.state::<Device<R>>().inner()
    }
}

/// The plugin, for `tauri::Builder::plugin`.
pub fn init<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("sotto-device")
        .invoke_handler(tauri::generate_handler![commands::report])
        .setup(|app, api| {
            #[cfg(mobile)]
            let device = mobile::init(app, api)?;
            #[cfg(desktop)]
            let device = desktop::init(app, api)?;
            app.manage(device);
            Ok(())
        })
        .build()
}
