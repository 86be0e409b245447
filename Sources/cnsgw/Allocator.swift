import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The malloc the process allocates with, for the start-up log: jemalloc, which `cnsgw` links on Linux (Package.swift
/// says why), or the C library's when built with `CNSGW_SYSTEM_MALLOC=1`.
enum Allocator {
    /// `jemalloc VERSION`, or `system malloc`.
    static var description: String {
        // RTLD_DEFAULT (a null handle): the symbol as the process resolves it. Only jemalloc defines `mallctl`.
        guard let symbol = dlsym(nil, "mallctl") else { return "system malloc" }
        typealias Control = @convention(c) (UnsafePointer<CChar>?, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?,
                                            UnsafeMutableRawPointer?, Int) -> Int32
        let control = unsafeBitCast(symbol, to: Control.self)
        var version: UnsafePointer<CChar>? = nil
        var size = MemoryLayout<UnsafePointer<CChar>?>.size
        guard control("version", &version, &size, nil, 0) == 0, let version else { return "jemalloc" }
        return "jemalloc " + String(cString: version)
    }
}
