// The Android side of `sotto-vault`: a random 32-byte database key, sealed with AES-GCM by a
// Keystore key that needs a biometric authentication for each use (StrongBox where present,
// invalidated when a new fingerprint or face is enrolled); the sealed key and its IV live in
// the app's private preferences. Released only through a BiometricPrompt with a CryptoObject.
package app.sotto.vault

import android.app.Activity
import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import android.util.Base64
import androidx.biometric.BiometricManager
import androidx.biometric.BiometricManager.Authenticators.BIOMETRIC_STRONG
import androidx.biometric.BiometricPrompt
import androidx.core.content.ContextCompat
import androidx.fragment.app.FragmentActivity
import app.tauri.annotation.Command
import app.tauri.annotation.InvokeArg
import app.tauri.annotation.TauriPlugin
import app.tauri.plugin.Invoke
import app.tauri.plugin.JSObject
import app.tauri.plugin.Plugin
import java.security.KeyStore
import java.security.SecureRandom
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

@InvokeArg
class ReleaseArgs {
    lateinit var reason: String
}

@TauriPlugin
class VaultPlugin(private val activity: Activity) : Plugin(activity) {
    private val alias = "sotto-vault-wrap"
    private val prefs = activity.getSharedPreferences("sotto-vault", Context.MODE_PRIVATE)

    @Command
    fun platformStatus(invoke: Invoke) {
        val biometry = BiometricManager.from(activity).canAuthenticate(BIOMETRIC_STRONG) == BiometricManager.BIOMETRIC_SUCCESS
        invoke.resolve(JSObject().apply {
            put("exists", prefs.contains("sealed"))
            put("biometry", biometry)
        })
    }

    @Command
    fun release(invoke: Invoke) {
        val args = invoke.parseArgs(ReleaseArgs::class.java)
        val created = !prefs.contains("sealed")
        val cipher = try {
            if (created) Cipher.getInstance("AES/GCM/NoPadding").apply { init(Cipher.ENCRYPT_MODE, wrappingKey(create = true)) }
            else Cipher.getInstance("AES/GCM/NoPadding").apply {
                val iv = Base64.decode(prefs.getString("iv", ""), Base64.NO_WRAP)
                init(Cipher.DECRYPT_MODE, wrappingKey(create = false), GCMParameterSpec(128, iv))
            }
        } catch (e: android.security.keystore.KeyPermanentlyInvalidatedException) {
            // A new fingerprint or face: the sealed key is gone for good; the passphrase-less
            // unlock must be set up again (the notes stay; the recovery key opens them).
            invoke.reject("biometrics changed since the key was sealed; unlock with the recovery key")
            return
        }
        val prompt = BiometricPrompt(activity as FragmentActivity, ContextCompat.getMainExecutor(activity),
            object : BiometricPrompt.AuthenticationCallback() {
                override fun onAuthenticationSucceeded(result: BiometricPrompt.AuthenticationResult) {
                    val c = result.cryptoObject?.cipher ?: return invoke.reject("no cipher after authentication")
                    val key = if (created) {
                        val fresh = ByteArray(32).also { SecureRandom().nextBytes(it) }
                        prefs.edit()
                            .putString("sealed", Base64.encodeToString(c.doFinal(fresh), Base64.NO_WRAP))
                            .putString("iv", Base64.encodeToString(c.iv, Base64.NO_WRAP))
                            .apply()
                        fresh
                    } else {
                        c.doFinal(Base64.decode(prefs.getString("sealed", ""), Base64.NO_WRAP))
                    }
                    val hex = key.joinToString("") { "%02x".format(it) }
                    key.fill(0)
                    invoke.resolve(JSObject().apply { put("key", hex); put("created", created) })
                }
                override fun onAuthenticationError(code: Int, message: CharSequence) = invoke.reject(message.toString())
            })
        val info = BiometricPrompt.PromptInfo.Builder()
            .setTitle("Sotto")
            .setSubtitle(args.reason)
            .setNegativeButtonText("Cancel")
            .setAllowedAuthenticators(BIOMETRIC_STRONG)
            .build()
        prompt.authenticate(info, BiometricPrompt.CryptoObject(cipher))
    }

    private fun wrappingKey(create: Boolean): SecretKey {
        val store = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }
        (store.getKey(alias, null) as? SecretKey)?.let { if (!create) return it }
        val strongBox = Build.VERSION.SDK_INT >= Build.VERSION_CODES.P &&
            activity.packageManager.hasSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE)
        fun spec(strong: Boolean) = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .setUserAuthenticationRequired(true)
            .setInvalidatedByBiometricEnrollment(true)
            .apply {
                if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) setUserAuthenticationParameters(0, KeyProperties.AUTH_BIOMETRIC_STRONG)
                if (strong && Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) setIsStrongBoxBacked(true)
            }
            .build()
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, "AndroidKeyStore")
        return try {
            generator.init(spec(strongBox)); generator.generateKey()
        } catch (e: StrongBoxUnavailableException) {
            generator.init(spec(false)); generator.generateKey()
        }
    }
}
