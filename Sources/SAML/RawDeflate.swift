import CZlib

/// Raw DEFLATE (RFC 1951) as the SAML HTTP-Redirect binding uses it, through the system zlib. Inflation stops at a
/// hard output limit, so a compression bomb is refused instead of filling memory.
public enum RawDeflate {
    public enum Failure: Error, Sendable, Equatable {
        case tooLarge(limit: Int)
        case corrupt
    }

    public static func inflate(_ input: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        guard cnsgw_inflate_init_raw(&stream) == Z_OK else { throw .corrupt }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        var input = input
        let status: Int32 = input.withUnsafeMutableBufferPointer { inBuffer -> Int32 in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = UInt32(inBuffer.count)
            while true {
                let result: Int32 = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                if output.count + produced > limit { return -100 }
                output.append(contentsOf: chunk[..<produced])
                if result == Z_STREAM_END { return Z_STREAM_END }
                if result != Z_OK { return result }
                if stream.avail_in == 0 && produced == 0 { return Z_BUF_ERROR }
            }
        }
        if status == -100 { throw .tooLarge(limit: limit) }
        guard status == Z_STREAM_END else { throw .corrupt }
        return output
    }

    public static func deflate(_ input: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        guard cnsgw_deflate_init_raw(&stream) == Z_OK else { return [] }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 16)
        var input = input
        input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = UInt32(inBuffer.count)
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                _ = CZlib.deflate(&stream, Z_FINISH)
            }
        }
        return Array(output[..<Int(stream.total_out)])
    }
}
