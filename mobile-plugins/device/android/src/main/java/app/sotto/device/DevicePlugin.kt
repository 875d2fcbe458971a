// The Android side of `sotto-device`: memory, cores, battery, thermal state and accelerators.
package app.sotto.device

import android.app.Activity
import android.app.ActivityManager
import android.content.Context
import android.content.Intent
import android.content.IntentFilter
import android.content.pm.PackageManager
import android.os.BatteryManager
import android.os.Build
import android.os.PowerManager
import app.tauri.annotation.Command
import app.tauri.annotation.TauriPlugin
import app.tauri.plugin.Invoke
import app.tauri.plugin.JSArray
import app.tauri.plugin.JSObject
import app.tauri.plugin.Plugin

@TauriPlugin
class DevicePlugin(private val activity: Activity) : Plugin(activity) {
    @Command
    fun report(invoke: Invoke) {
        val memory = ActivityManager.MemoryInfo()
        (activity.getSystemService(Context.ACTIVITY_SERVICE) as ActivityManager).getMemoryInfo(memory)
        val power = activity.getSystemService(Context.POWER_SERVICE) as PowerManager
        val out = JSObject()
        out.put("platform", "android")
        out.put("model", "${Build.MANUFACTURER} ${Build.MODEL}")
        out.put("totalRamMb", memory.totalMem / (1024 * 1024))
        out.put("availableRamMb", memory.availMem / (1024 * 1024))
        out.put("cores", Runtime.getRuntime().availableProcessors())
        out.put("cpuFeatures", JSArray(cpuFeatures()))
        out.put("battery", battery(power))
        out.put("thermal", thermal(power))
        out.put("accelerators", JSArray(accelerators()))
        invoke.resolve(out)
    }

    /** ggml's ARM features from /proc/cpuinfo's "Features" line (asimd is NEON). */
    private fun cpuFeatures(): List<String> {
        val flags = runCatching { java.io.File("/proc/cpuinfo").readLines() }.getOrDefault(emptyList())
            .firstOrNull { it.startsWith("Features") }?.substringAfter(':')?.trim()?.split(' ') ?: emptyList()
        return buildList {
            if ("asimd" in flags || Build.SUPPORTED_ABIS.any { it.startsWith("arm64") }) add("neon")
            if ("asimddp" in flags) add("dotprod")
            if ("fphp" in flags) add("fp16")
        }
    }

    private fun battery(power: PowerManager): JSObject? {
        val status = activity.registerReceiver(null, IntentFilter(Intent.ACTION_BATTERY_CHANGED)) ?: return null
        if (!status.getBooleanExtra(BatteryManager.EXTRA_PRESENT, true)) return null
        val level = status.getIntExtra(BatteryManager.EXTRA_LEVEL, -1)
        val scale = status.getIntExtra(BatteryManager.EXTRA_SCALE, 100)
        val plugged = status.getIntExtra(BatteryManager.EXTRA_PLUGGED, 0) != 0
        return JSObject().apply {
            put("percent", if (level >= 0 && scale > 0) level * 100 / scale else 0)
            put("charging", plugged)
            put("lowPower", power.isPowerSaveMode)
        }
    }

    private fun thermal(power: PowerManager): String =
        if (Build.VERSION.SDK_INT < Build.VERSION_CODES.Q) "nominal" else when (power.currentThermalStatus) {
            PowerManager.THERMAL_STATUS_NONE, PowerManager.THERMAL_STATUS_LIGHT -> "nominal"
            PowerManager.THERMAL_STATUS_MODERATE -> "fair"
            PowerManager.THERMAL_STATUS_SEVERE -> "serious"
            else -> "critical"
        }

    /** NNAPI from Android 8.1; a Qualcomm Hexagon NPU where the SoC is a Snapdragon (QNN). */
    private fun accelerators(): List<String> = buildList {
        add("cpu")
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.O_MR1) add("nnapi")
        val soc = if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) Build.SOC_MANUFACTURER else Build.HARDWARE
        if (soc.contains("qualcomm", ignoreCase = true) || soc.startsWith("qcom", ignoreCase = true)) add("qnn")
        if (activity.packageManager.hasSystemFeature(PackageManager.FEATURE_VULKAN_HARDWARE_LEVEL)) add("gpu")
    }
}
