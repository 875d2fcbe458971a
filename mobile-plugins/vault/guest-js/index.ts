// The page's side of the `sotto-vault` plugin: only the status; unlocking goes through the
// app's own `unlock` command, whose Rust side takes the key from the vault.
import { invoke } from '@tauri-apps/api/core'

export type Method = 'passphrase' | 'keyring' | 'biometric'

export interface Status {
  exists: boolean
  methods: Method[]
}

/** Whether a key exists and how this device can unlock it. */
export async function status(): Promise<Status> {
  return await invoke('plugin:sotto-vault|status')
}
