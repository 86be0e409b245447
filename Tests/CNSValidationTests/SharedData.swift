import Foundation

/// Locates `../shared/data` beside the repository (CI lays a copy there), or `CNSGW_SHARED_DATA`.
enum SharedData {
    static var directory: String {
        if let env = ProcessInfo.processInfo.environment["CNSGW_SHARED_DATA"] { return env }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repo.deletingLastPathComponent().appendingPathComponent("shared/data").path
    }

    static func path(_ relative: String) -> String { (directory as NSString).appendingPathComponent(relative) }
}
