/// A compact, read-only set of revoked serial numbers with their date and reason.
///
/// Layout: all serials concatenated in one byte array, an offset per entry, and an open-addressing hash table of
/// entry numbers — about 25 bytes an entry for CNS-sized serials, built in one pass with no sorting. A lookup
/// hashes the serial and compares a few bytes: tens of nanoseconds.
public struct RevokedSerialIndex: Sendable {
    /// One revoked certificate.
    public struct Entry: Sendable, Hashable {
        public let revocationDate: Int64
        /// `nil` when the CRL entry has no reasonCode.
        public let reason: CRLReason?
    }

    private var serials: [UInt8] = []
    private var offsets: [UInt32] = [0]
    private var dates: [UInt32] = []
    private var reasons: [UInt8] = []
    private var table: [UInt32] = []
    private var mask = 0

    public var count: Int { dates.count }

    /// Approximate bytes held.
    public var memoryFootprint: Int { serials.capacity + offsets.capacity * 4 + dates.capacity * 4 + reasons.capacity + table.capacity * 4 }

    init(expectedCount: Int = 0) {
        if expectedCount > 0 {
            serials.reserveCapacity(expectedCount * 16)
            offsets.reserveCapacity(expectedCount + 1)
            dates.reserveCapacity(expectedCount)
            reasons.reserveCapacity(expectedCount)
        }
    }

    /// Adds an entry; `serial` is the INTEGER content (leading zero bytes are dropped).
    mutating func append(serial: UnsafeBufferPointer<UInt8>, date: Int64, reason: UInt8) {
        var s = serial[...]
        while s.count > 1, s.first == 0 { s = s.dropFirst() }
        serials.append(contentsOf: s)
        offsets.append(UInt32(serials.count))
        dates.append(UInt32(clamping: date))
        reasons.append(reason)
    }

    /// Builds the hash table; call once after the last `append`.
    mutating func seal() {
        var size = 16
        while size < count * 2 { size <<= 1 }
        mask = size - 1
        table = [UInt32](repeating: 0, count: size)
        serials.withUnsafeBufferPointer { blob in
            offsets.withUnsafeBufferPointer { offs in
                table.withUnsafeMutableBufferPointer { t in
                    for i in 0..<dates.count {
                        let start = Int(offs[i]), end = Int(offs[i + 1])
                        var slot = Self.hash(UnsafeBufferPointer(rebasing: blob[start..<end])) & mask
                        while t[slot] != 0 { slot = (slot + 1) & mask }
                        t[slot] = UInt32(i + 1)
                    }
                }
            }
        }
    }

    /// The entry for a serial (magnitude bytes, big-endian, as ``X509Certificate/serialNumber``), if revoked.
    public func entry(forSerial serial: [UInt8]) -> Entry? {
        guard !table.isEmpty else { return nil }
        var key = serial[...]
        while key.count > 1, key.first == 0 { key = key.dropFirst() }
        if key.isEmpty { key = [0][...] }
        return key.withUnsafeBufferPointer { k -> Entry? in
            serials.withUnsafeBufferPointer { blob in
                var slot = Self.hash(k) & mask
                while true {
                    let e = Int(table[slot])
                    if e == 0 { return nil }
                    let start = Int(offsets[e - 1]), end = Int(offsets[e])
                    if end - start == k.count, memcmp(blob.baseAddress! + start, k.baseAddress!, k.count) == 0 {
                        let r = reasons[e - 1]
                        return Entry(revocationDate: Int64(dates[e - 1]), reason: r == 0xFF ? nil : CRLReason(rawValue: r) ?? .unspecified)
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
    }

    /// FNV-1a 64.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
import KeyMaterial
#endif
