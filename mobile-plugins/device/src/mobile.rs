//! Phones: DevicePlugin.kt (Android) and DevicePlugin.swift (iOS) answer `report`.

use serde::de::DeserializeOwned;
use tauri::plugin::{PluginApi, PluginHandle};
use tauri::{AppHandle, Runtime};

use crate::models::DeviceReport;

#[cfg(target_os = "ios")]
tauri::ios_plugin_binding!(init_plugin_sotto_device);

pub(crate) fn init<R: Runtime, C: DeserializeOwned>(
    _app: &AppHandle<R>,
    api: PluginApi<R, C>,
) -> crate::Result<Device<R>> {
    #[cfg(target_os = "android")]
    let handle = api.register_android_plugin("app.sotto.device", "DevicePlugin")?;
    #[cfg(target_os = "ios")]
    let handle = api.register_ios_plugin(init_plugin_sotto_device)?;
    Ok(Device(handle))
}

/// The mobile implementation.
pub struct Device<R: Runtime>(PluginHandle<R>);

impl<R: Runtime> Device<R> {
    /// The phone now, as its platform reports it.
    pub fn report(&self) -> crate::Result<DeviceReport> {
        Ok(self.0.run_mobile_plugin("report", ())?)
    }
}
