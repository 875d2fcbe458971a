// The iOS side of `sotto-device`: memory, cores, battery, thermal state; every iPhone and iPad
// Sotto supports (A12 and later) has a Neural Engine, which Core ML encoders run on.
import Foundation
import os
import Tauri
import UIKit

class DevicePlugin: Plugin {
    @objc public func report(_ invoke: Invoke) throws {
        let info = ProcessInfo.processInfo
        UIDevice.current.isBatteryMonitoringEnabled = true
        let device = UIDevice.current
        var battery: [String: Any]? = nil
        if device.batteryState != .unknown {
            battery = [
                "percent": Int(max(0, device.batteryLevel) * 100),
                "charging": device.batteryState == .charging || device.batteryState == .full,
                "lowPower": info.isLowPowerModeEnabled,
            ]
        }
        let thermal: String
        switch info.thermalState {
        case .nominal: thermal = "nominal"
        case .fair: thermal = "fair"
        case .serious: thermal = "serious"
        default: thermal = "critical"
        }
        var report: [String: Any] = [
            "platform": "ios",
            "model": Self.machine(),
            "totalRamMb": info.physicalMemory / (1024 * 1024),
            "availableRamMb": UInt64(os_proc_available_memory()) / (1024 * 1024),
            "cores": info.activeProcessorCount,
            "cpuFeatures": ["neon", "dotprod", "fp16"],
            "thermal": thermal,
            "accelerators": ["cpu", "ane", "gpu"],
        ]
        // Absent, not null, without a battery: the Rust side reads a missing key as none.
        if let battery { report["battery"] = battery }
        invoke.resolve(report)
    }

    /// "iPhone16,1": the hardware model.
    private static func machine() -> String {
        var system = utsname()
        uname(&system)
        return withUnsafeBytes(of: &system.machine) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    }
}

@_cdecl("init_plugin_sotto_device")
func initPlugin() -> Plugin {
    return DevicePlugin()
}
