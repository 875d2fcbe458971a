//! Desktops: the core's detection (memory, cores, CPU features, battery), the CPU's model and
//! the thermal zones' trip points on Linux.

use std::marker::PhantomData;
use std::path::Path;

use serde::de::DeserializeOwned;
use sotto::models::DeviceProfile;
use tauri::plugin::PluginApi;
use tauri::{AppHandle, Runtime};

use crate::models::{Battery, DeviceReport, Thermal};

pub(crate) fn init<R: Runtime, C: DeserializeOwned>(
    _app: &AppHandle<R>,
    _api: PluginApi<R, C>,
) -> crate::Result<Device<R>> {
    Ok(Device(PhantomData))
}

/// The desktop implementation.
pub struct Device<R: Runtime>(PhantomData<fn() -> R>);

impl<R: Runtime> Device<R> {
    /// This machine now.
    pub fn report(&self) -> crate::Result<DeviceReport> {
        Ok(report(Path::new("/sys")))
    }
}

/// This machine, reading Linux's battery and thermal state under `sys` (`/sys`; tests give a
/// directory of their own).
pub fn report(sys: &Path) -> DeviceReport {
    let d = DeviceProfile::detect();
    DeviceReport {
        platform: d.platform,
        model: cpu_model().unwrap_or_else(|| std::env::consts::ARCH.to_string()),
        total_ram_mb: d.total_ram_mb,
        available_ram_mb: d.available_ram_mb,
        cores: d.cores,
        cpu_features: d.cpu_features,
        battery: battery(&sys.join("class/power_supply")),
        thermal: thermal(&sys.join("class/thermal")),
        accelerators: d.accelerators,
    }
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_string())
}

/// The first battery: its capacity and whether it charges.
fn battery(power_supply: &Path) -> Option<Battery> {
    let read = |p: &Path, f: &str| std::fs::read_to_string(p.join(f)).map(|s| s.trim().to_string()).ok();
    let entries = std::fs::read_dir(power_supply).ok()?;
    let mut batteries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    batteries.sort();
    let b = batteries.into_iter().find(|p| read(p, "type").as_deref() == Some("Battery"))?;
    let percent = read(&b, "capacity")?.parse::<u8>().ok()?.min(100);
    let status = read(&b, "status").unwrap_or_default();
    Some(Battery {
        percent,
        charging: matches!(status.as_str(), "Charging" | "Full" | "Not charging"),
        low_power: false,
    })
}

/// The hottest zone against its own trip points: past "passive" (throttling) is serious, past
/// "critical" (or "hot") critical, within 10 °C of passive fair.
fn thermal(zones: &Path) -> Thermal {
    let Ok(entries) = std::fs::read_dir(zones) else { return Thermal::Nominal };
    let number = |p: &Path| std::fs::read_to_string(p).ok().and_then(|s| s.trim().parse::<i64>().ok());
    let mut worst = Thermal::Nominal;
    for zone in entries.flatten().map(|e| e.path()).filter(|p| p.join("temp").exists()) {
        let Some(temp) = number(&zone.join("temp")) else { continue };
        let mut state = Thermal::Nominal;
        for i in 0..16 {
            let kind = std::fs::read_to_string(zone.join(format!("trip_point_{i}_type")));
            let Ok(kind) = kind else { break };
            let Some(trip) = number(&zone.join(format!("trip_point_{i}_temp"))) else { continue };
            let reached = match kind.trim() {
                "critical" | "hot" if temp >= trip => Thermal::Critical,
                "passive" if temp >= trip => Thermal::Serious,
                "passive" if temp >= trip - 10_000 => Thermal::Fair,
                _ => Thermal::Nominal,
            };
            state = state.max(reached);
        }
        worst = worst.max(state);
    }
    worst
}

impl PartialOrd for Thermal {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Thermal {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let rank = |t: &Thermal| *t as u8;
        rank(self).cmp(&rank(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn this_machine_is_reported_with_what_the_recommender_needs() {
        let r = report(Path::new("/sys"));
        assert!(r.cores >= 1 && r.total_ram_mb > 0 && r.available_ram_mb <= r.total_ram_mb, "{r:?}");
        assert!(r.accelerators.contains(&sotto::models::Accelerator::Cpu));
        assert!(!r.model.is_empty());
        // The page gets camelCase JSON, as from Kotlin and Swift.
        let json = serde_json::to_value(&r).unwrap();
        assert!(json.get("totalRamMb").is_some() && json.get("thermal").is_some(), "{json}");
    }

    #[test]
    fn a_discharging_battery_and_a_hot_zone_are_read() {
        let sys = tempfile::tempdir().unwrap();
        let bat = sys.path().join("class/power_supply/BAT0");
        write(&bat.join("type"), "Battery\n");
        write(&bat.join("capacity"), "42\n");
        write(&bat.join("status"), "Discharging\n");
        write(&sys.path().join("class/power_supply/AC/type"), "Mains\n");
        let zone = sys.path().join("class/thermal/thermal_zone0");
        write(&zone.join("temp"), "91000\n");
        write(&zone.join("trip_point_0_type"), "passive\n");
        write(&zone.join("trip_point_0_temp"), "90000\n");
        write(&zone.join("trip_point_1_type"), "critical\n");
        write(&zone.join("trip_point_1_temp"), "105000\n");
        let r = report(sys.path());
        assert_eq!(r.battery, Some(Battery { percent: 42, charging: false, low_power: false }));
        assert_eq!(r.thermal, Thermal::Serious);
        assert!(r.profile().on_battery);

        write(&bat.join("status"), "Charging\n");
        write(&zone.join("temp"), "85000\n");
        let r = report(sys.path());
        assert_eq!((r.battery.unwrap().charging, r.thermal), (true, Thermal::Fair));
        assert!(!r.profile().on_battery, "charging and not hot: the bigger model may run");
        write(&zone.join("temp"), "106000\n");
        assert_eq!(report(sys.path()).thermal, Thermal::Critical);
    }

    #[test]
    fn a_machine_without_battery_or_zones_is_nominal_and_plugged_in() {
        let sys = tempfile::tempdir().unwrap();
        let r = report(sys.path());
        assert_eq!((r.battery, r.thermal), (None, Thermal::Nominal));
        assert!(!r.profile().on_battery);
    }

    #[test]
    fn a_phones_report_from_kotlin_feeds_the_recommender() {
        // The JSON DevicePlugin.kt resolves with, for a mid-range phone.
        let json = r#"{"platform":"android","model":"Pixel 7a","totalRamMb":8192,"availableRamMb":3500,
            "cores":8,"cpuFeatures":["neon","dotprod"],"battery":{"percent":80,"charging":false,"lowPower":false},
            "thermal":"nominal","accelerators":["cpu","nnapi","gpu"]}"#;
        let r: DeviceReport = serde_json::from_str(json).unwrap();
        let backends = sotto::models::Backends::for_platform(r.platform);
        let m = sotto::models::Manifest::embedded();
        let c = sotto::models::recommend_whisper_with(&m, &r.profile(), &backends, None).unwrap();
        let v = m.model(&c.model).unwrap().variant(&c.variant).unwrap();
        assert!(v.precision.starts_with('q'), "quantized weights on a phone on battery: {c:?}");
        assert_eq!(c.encoder, None, "no encoder an Android build cannot run");
    }
}
