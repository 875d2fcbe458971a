// The page's side of the `sotto-device` plugin.
import { invoke } from '@tauri-apps/api/core'

export type Thermal = 'nominal' | 'fair' | 'serious' | 'critical'

export interface DeviceReport {
  platform: 'linux' | 'windows' | 'macos' | 'ios' | 'android'
  model: string
  totalRamMb: number
  availableRamMb: number
  cores: number
  cpuFeatures: string[]
  battery: { percent: number; charging: boolean; lowPower: boolean } | null
  thermal: Thermal
  accelerators: string[]
}

/** What this device offers the models now. */
export async function report(): Promise<DeviceReport> {
  return await invoke('plugin:sotto-device|report')
}
