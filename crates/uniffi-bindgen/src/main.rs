//! `uniffi-bindgen generate --library <libsotto.so> --language kotlin|swift|python --out-dir DIR`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
