// swift-tools-version:5.9
// The iOS side of `sotto-vault`, built by the Tauri iOS project (Tauri's Swift API package).
import PackageDescription

let package = Package(
    name: "tauri-plugin-sotto-vault",
    platforms: [.iOS(.v16)],
    products: [.library(name: "tauri-plugin-sotto-vault", type: .static, targets: ["SottoVaultPlugin"])],
    dependencies: [.package(name: "Tauri", path: "../.tauri/tauri-api")],
    targets: [.target(name: "SottoVaultPlugin", dependencies: [.byName(name: "Tauri")], path: "Sources")]
)
