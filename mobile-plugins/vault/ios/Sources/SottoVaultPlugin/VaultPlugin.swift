// The iOS side of `sotto-vault`: a random 32-byte database key as a Keychain item whose access
// control is `biometryCurrentSet` (Face ID / Touch ID; a new enrolment makes it unreadable) and
// `WhenPasscodeSetThisDeviceOnly` (never in backups, never on another device).
import Foundation
import LocalAuthentication
import Security
import Tauri

class ReleaseArgs: Decodable {
    let reason: String
}

class VaultPlugin: Plugin {
    private let service = "app.sotto.vault"
    private let account = "database-key"

    @objc public func platformStatus(_ invoke: Invoke) throws {
        var error: NSError?
        let biometry = LAContext().canEvaluatePolicy(.deviceOwnerAuthenticationWithBiometrics, error: &error)
        let query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecUseAuthenticationUI as String: kSecUseAuthenticationUISkip,
        ]
        let status = SecItemCopyMatching(query as CFDictionary, nil)
        // errSecInteractionNotAllowed: it exists, reading it needs the prompt.
        invoke.resolve(["exists": status == errSecSuccess || status == errSecInteractionNotAllowed, "biometry": biometry])
    }

    @objc public func release(_ invoke: Invoke) throws {
        let args = try invoke.parseArgs(ReleaseArgs.self)
        let context = LAContext()
        context.localizedReason = args.reason
        var query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
            kSecReturnData as String: true,
            kSecUseAuthenticationContext as String: context,
        ]
        var item: CFTypeRef?
        var status = SecItemCopyMatching(query as CFDictionary, &item)
        var created = false
        if status == errSecItemNotFound {
            var key = Data(count: 32)
            let ok = key.withUnsafeMutableBytes { SecRandomCopyBytes(kSecRandomDefault, 32, $0.baseAddress!) }
            guard ok == errSecSuccess,
                  let access = SecAccessControlCreateWithFlags(nil, kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly,
                                                               .biometryCurrentSet, nil) else {
                invoke.reject("cannot make a key")
                return
            }
            query.removeValue(forKey: kSecReturnData as String)
            query[kSecValueData as String] = key
            query[kSecAttrAccessControl as String] = access
            status = SecItemAdd(query as CFDictionary, nil)
            item = key as CFTypeRef
            created = true
        }
        guard status == errSecSuccess, let data = item as? Data, data.count == 32 else {
            invoke.reject(status == errSecUserCanceled ? "cancelled" : "the key could not be read (\(status))")
            return
        }
        invoke.resolve(["key": data.map { String(format: "%02x", $0) }.joined(), "created": created])
    }
}

@_cdecl("init_plugin_sotto_vault")
func initPlugin() -> Plugin {
    return VaultPlugin()
}
