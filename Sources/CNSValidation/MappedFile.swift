#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory map of a file whose consumed pages can be given back to the kernel.
final class MappedFile {
    let base: UnsafePointer<UInt8>
    let count: Int
    private let raw: UnsafeMutableRawPointer?
    private var dropped = 0

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw Failure(description: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Failure(description: String(cString: strerror(errno))) }
        count = Int(st.st_size)
        guard count > 0 else {
            raw = nil
            base = UnsafePointer(UnsafeMutablePointer<UInt8>.allocate(capacity: 1))
            return
        }
        let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw Failure(description: String(cString: strerror(errno))) }
        madvise(p, count, MADV_SEQUENTIAL)
        raw = p
        base = UnsafePointer(p.assumingMemoryBound(to: UInt8.self))
    }

    /// Releases the pages before `offset` (they are read again from the file only if touched).
    func drop(upTo offset: Int) {
        guard let raw else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let end = offset / page * page
        guard end > dropped else { return }
        madvise(raw + dropped, end - dropped, MADV_DONTNEED)
        dropped = end
    }

    deinit {
        if let raw { munmap(raw, count) } else { UnsafeMutablePointer(mutating: base).deallocate() }
    }
}
