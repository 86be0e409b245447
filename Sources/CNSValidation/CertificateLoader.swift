import Foundation
import KeyMaterial
internal import COpenSSL

/// Reads certificates from PEM or DER bytes, files and folders.
public enum CertificateLoader {
    /// Files larger than this are refused before reading (a certificate bundle of the full TSL is far smaller).
    public static let maximumFileSize = 16 << 20
    /// File endings read when a folder is given.
    public static let certificateExtensions: Set<String> = ["pem", "crt", "cer", "der"]

    /// All certificates in `bytes`: one DER certificate, or any number of PEM `CERTIFICATE` blocks.
    public static func certificates(from bytes: [UInt8], origin: String = "input") throws -> [X509Certificate] {
        guard !bytes.isEmpty else { throw CertificateLoadError(.empty, "\(origin) is empty: expected a PEM or DER certificate") }
        if bytes.first == 0x30 {
            do { return [try X509Certificate(derEncoded: bytes)] } catch let e as CertificateLoadError {
                throw CertificateLoadError(.malformed, "\(origin): \(e.detail)")
            }
        }
        guard bytes.count < Int(Int32.max), isPEM(bytes) else {
            throw CertificateLoadError(.malformed, "\(origin) is neither DER (starts with 0x30) nor PEM (has a -----BEGIN line)")
        }
        OpenSSLErrorQueue.clear()
        var result: [X509Certificate] = []
        try bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else {
                throw CertificateLoadError(.malformed, "\(origin): cannot allocate a reader")
            }
            defer { BIO_free(bio) }
            while let x = PEM_read_bio_X509(bio, nil, nil, nil) {
                result.append(try X509Certificate(owning: x))
            }
            // The loop ends with PEM_R_NO_START_LINE at a clean end; anything else is a broken block.
            let code = ERR_peek_last_error()
            if code != 0 && ERR_GET_REASON(code) != PEM_R_NO_START_LINE {
                throw CertificateLoadError(.malformed, "\(origin): a PEM block is not a valid certificate (\(OpenSSLErrorQueue.drain()))")
            }
            OpenSSLErrorQueue.clear()
        }
        guard !result.isEmpty else {
            throw CertificateLoadError(.empty, "\(origin) has PEM blocks but no CERTIFICATE block")
        }
        return result
    }

    /// Certificates from a file, or from every certificate file (by ending) directly inside a folder.
    public static func certificates(atPath path: String) throws -> [X509Certificate] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CertificateLoadError(.unreadable, "\(path) does not exist")
        }
        if !isDirectory.boolValue { return try certificates(from: readFile(path), origin: path) }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: path).sorted() } catch {
            throw CertificateLoadError(.unreadable, "cannot list \(path): \(error.localizedDescription)")
        }
        var all: [X509Certificate] = []
        for name in names where certificateExtensions.contains((name as NSString).pathExtension.lowercased()) {
            let file = (path as NSString).appendingPathComponent(name)
            all += try certificates(from: readFile(file), origin: file)
        }
        guard !all.isEmpty else { throw CertificateLoadError(.empty, "\(path) holds no .pem/.crt/.cer/.der file") }
        return all
    }

    /// Reads a whole file, refusing ones over `limit` bytes.
    public static func readFile(_ path: String, limit: Int = maximumFileSize) throws -> [UInt8] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = attributes[.size] as? NSNumber else {
            throw CertificateLoadError(.unreadable, "cannot read \(path)")
        }
        guard size.intValue <= limit else {
            throw CertificateLoadError(.tooLarge, "\(path) is \(size.intValue) bytes; the limit for this kind of file is \(limit)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CertificateLoadError(.unreadable, "cannot read \(path) (permissions?)")
        }
        return [UInt8](data)
    }

    static func isPEM(_ bytes: [UInt8]) -> Bool {
        let marker = Array("-----BEGIN ".utf8)
        guard bytes.count >= marker.count else { return false }
        for i in 0...(bytes.count - marker.count) where bytes[i] == 0x2D && Array(bytes[i..<i + marker.count]) == marker {
            return true
        }
        return false
    }
}
