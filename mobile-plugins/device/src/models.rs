//! What the plugin reports (the same JSON from Kotlin, Swift and Rust).

use serde::{Deserialize, Serialize};
use sotto::models::{Accelerator, DeviceProfile, Platform};

/// The battery, where there is one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Battery {
    /// Charge, 0–100.
    pub percent: u8,
    /// Plugged in and charging (or full).
    pub charging: bool,
    /// Low-power / battery-saver mode.
    pub low_power: bool,
}

/// How hot the device runs: the recommender steps down a size from `serious` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Thermal {
    /// Normal.
    Nominal,
    /// Warm.
    Fair,
    /// Throttling.
    Serious,
    /// Throttling hard.
    Critical,
}

/// A device as the models see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceReport {
    /// Operating system.
    pub platform: Platform,
    /// "iPhone16,1", "Pixel 8", the desktop's CPU…
    pub model: String,
    /// Installed memory (MB).
    pub total_ram_mb: u64,
    /// Memory free now (MB).
    pub available_ram_mb: u64,
    /// Logical cores.
    pub cores: u32,
    /// CPU features that matter to ggml (neon, dotprod, avx2…).
    pub cpu_features: Vec<String>,
    /// None on a device without a battery.
    pub battery: Option<Battery>,
    /// Thermal state.
    pub thermal: Thermal,
    /// Accelerators present: cpu, ane (Apple Neural Engine), nnapi, qnn (a Qualcomm NPU), gpu…
    pub accelerators: Vec<Accelerator>,
}

impl DeviceReport {
    /// The recommender's input: on battery unless charging; a hot device counts as on battery
    /// (smaller, cheaper weights).
    pub fn profile(&self) -> DeviceProfile {
        let discharging = self.battery.is_some_and(|b| !b.charging);
        let hot = matches!(self.thermal, Thermal::Serious | Thermal::Critical);
        DeviceProfile {
            platform: self.platform,
            total_ram_mb: self.total_ram_mb,
            available_ram_mb: self.available_ram_mb,
            cores: self.cores,
            cpu_features: self.cpu_features.clone(),
            on_battery: discharging || hot || self.battery.is_some_and(|b| b.low_power),
            accelerators: self.accelerators.clone(),
        }
    }
}
