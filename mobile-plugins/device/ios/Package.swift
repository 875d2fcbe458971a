// swift-tools-version:5.9
// The iOS side of `sotto-device`, built by the Tauri iOS project (Tauri's Swift API package).
import PackageDescription

let package = Package(
    name: "tauri-plugin-sotto-device",
    platforms: [.iOS(.v16)],
    products: [.library(name: "tauri-plugin-sotto-device", type: .static, targets: ["SottoDevicePlugin"])],
    dependencies: [.package(name: "Tauri", path: "../.tauri/tauri-api")],
    targets: [.target(name: "SottoDevicePlugin", dependencies: [.byName(name: "Tauri")], path: "Sources")]
)
