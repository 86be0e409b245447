import Foundation
import HTTPTypes

/// The client certificate as a TLS-terminating reverse proxy forwards it. Accepted only from configured proxy
/// addresses, and always validated again by the gateway: the proxy only relays what the browser presented.
///
/// - RFC 9440: `Client-Cert: :<base64 DER>:` and `Client-Cert-Chain: :<base64>:, :<base64>:`
/// - nginx: `X-SSL-Client-Cert: $ssl_client_escaped_cert` (URL-encoded PEM)
/// - Apache: `RequestHeader set X-SSL-Client-Cert "%{SSL_CLIENT_CERT}s"` (PEM, line breaks folded to spaces)
public enum ProxyCertificateHeader {
    public static let clientCert = HTTPField.Name("Client-Cert")!
    public static let clientCertChain = HTTPField.Name("Client-Cert-Chain")!
    public static let sslClientCert = HTTPField.Name("X-SSL-Client-Cert")!
    /// Longest header value read (a certificate chain is a few KB).
    public static let maximumLength = 32 * 1024

    /// Why a forwarded certificate header cannot be used.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Whether the request carries any forwarded-certificate header.
    public static func isPresent(in fields: HTTPFields) -> Bool {
        fields[clientCert] != nil || fields[sslClientCert] != nil || fields[clientCertChain] != nil
    }

    /// The forwarded chain (leaf first) as DER, or a failure when a header is malformed.
    public static func chain(from fields: HTTPFields) throws(Failure) -> [[UInt8]] {
        if let value = fields[clientCert] {
            var chain = [try byteSequence(value)]
            if let rest = fields[clientCertChain] {
                for item in rest.split(separator: ",") { chain.append(try byteSequence(String(item))) }
            }
            return chain
        }
        if let value = fields[sslClientCert] { return [try pem(value)] }
        throw Failure(description: "no forwarded certificate header")
    }

    /// An RFC 8941 byte sequence: `:base64:`.
    static func byteSequence(_ raw: String) throws(Failure) -> [UInt8] {
        let value = raw.trimmingCharacters(in: .whitespaces)
        guard value.count <= maximumLength, value.count >= 2, value.hasPrefix(":"), value.hasSuffix(":"),
              let data = Data(base64Encoded: String(value.dropFirst().dropLast())), !data.isEmpty else {
            throw Failure(description: "Client-Cert is not an RFC 9440 byte sequence (:base64:)")
        }
        return [UInt8](data)
    }

    /// A PEM certificate, URL-encoded (nginx) or with its line breaks folded to spaces (Apache).
    static func pem(_ raw: String) throws(Failure) -> [UInt8] {
        guard raw.count <= maximumLength else { throw Failure(description: "X-SSL-Client-Cert is longer than \(maximumLength) bytes") }
        let text = raw.contains("%") ? (raw.removingPercentEncoding ?? raw) : raw
        let begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----"
        guard let b = text.range(of: begin), let e = text.range(of: end), b.upperBound <= e.lowerBound else {
            throw Failure(description: "X-SSL-Client-Cert holds no PEM certificate")
        }
        let body = text[b.upperBound..<e.lowerBound].filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: String(body)), !data.isEmpty else {
            throw Failure(description: "X-SSL-Client-Cert is not valid base64 PEM")
        }
        return [UInt8](data)
    }
}
