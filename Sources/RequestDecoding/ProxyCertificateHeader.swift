import Foundation
import HTTPTypes

/// The client certificate as a TLS-terminating reverse proxy forwards it. Read only from configured proxy addresses,
/// only from the **one** header and format the admin configured (`card.proxy_certificate_header`), and always
/// validated again by the gateway: the proxy only relays what the browser presented.
///
/// A proxy passes through any header the client sends that it does not overwrite itself, so a gateway that read
/// "whichever certificate header is there" could be handed someone else's public certificate by the client. Reading
/// one configured header, and refusing a request that carries any other known certificate header, closes that.
///
/// - `rfc9440`: `Client-Cert: :<base64 DER>:` and `Client-Cert-Chain: :<base64>:, :<base64>:`
/// - `nginx`: `X-SSL-Client-Cert: $ssl_client_escaped_cert` (URL-encoded PEM)
/// - `apache`: `RequestHeader set X-SSL-Client-Cert "%{SSL_CLIENT_CERT}s"` (PEM, line breaks folded to spaces)
public enum ProxyCertificateHeader {
    /// Which header, in which form, the trusted proxy sets.
    public enum Format: String, Sendable, Hashable, CaseIterable {
        case rfc9440
        case nginx
        case apache

        /// The headers this format reads.
        public var headers: [HTTPField.Name] {
            switch self {
            case .rfc9440: [clientCert, clientCertChain]
            case .nginx, .apache: [sslClientCert]
            }
        }
    }

    public static let clientCert = HTTPField.Name("Client-Cert")!
    public static let clientCertChain = HTTPField.Name("Client-Cert-Chain")!
    public static let sslClientCert = HTTPField.Name("X-SSL-Client-Cert")!
    /// Every header some proxy or server uses to forward a client certificate. Any of them from an address that is
    /// not a trusted proxy, or any but the configured one from a trusted proxy, refuses the request.
    public static let knownHeaders: [HTTPField.Name] = [
        "Client-Cert", "Client-Cert-Chain", "X-SSL-Client-Cert", "SSL_CLIENT_CERT", "SSL-Client-Cert", "X-SSL-Client-Cert-Chain",
        "X-Client-Cert", "X-Client-Certificate", "X-SSL-Cert", "X-Forwarded-Client-Cert", "X-ARR-ClientCert", "SSL_CLIENT_CERT_CHAIN_0",
    ].map { HTTPField.Name($0)! }
    /// Longest header value read (a certificate chain is a few KB).
    public static let maximumLength = 32 * 1024

    /// Why a forwarded certificate header cannot be used.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The known certificate headers the request carries.
    public static func present(in fields: HTTPFields) -> [HTTPField.Name] {
        knownHeaders.filter { fields[$0] != nil }
    }

    /// The known certificate headers present that `format` does not read (a client's own header passed through).
    public static func unexpected(in fields: HTTPFields, format: Format) -> [HTTPField.Name] {
        present(in: fields).filter { !format.headers.contains($0) }
    }

    /// The forwarded chain (leaf first) as DER: empty when the proxy forwarded no certificate (the browser sent
    /// none), a failure when the header is malformed or repeated.
    public static func chain(from fields: HTTPFields, format: Format) throws(Failure) -> [[UInt8]] {
        switch format {
        case .rfc9440:
            guard let value = try single(clientCert, in: fields) else {
                if fields[clientCertChain] != nil { throw Failure(description: "Client-Cert-Chain without Client-Cert") }
                return []
            }
            var chain = [try byteSequence(value)]
            if let rest = try single(clientCertChain, in: fields) {
                for item in rest.split(separator: ",") { chain.append(try byteSequence(String(item))) }
            }
            return chain
        case .nginx, .apache:
            guard let value = try single(sslClientCert, in: fields), !value.isEmpty, value != "(null)" else { return [] }
            return [try pem(value, urlEncoded: format == .nginx)]
        }
    }

    /// The header's value; a header sent twice (the proxy's and the client's) is refused, never merged.
    static func single(_ name: HTTPField.Name, in fields: HTTPFields) throws(Failure) -> String? {
        let values = fields[values: name]
        guard values.count <= 1 else { throw Failure(description: "\(name) appears \(values.count) times") }
        return values.first
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
    static func pem(_ raw: String, urlEncoded: Bool) throws(Failure) -> [UInt8] {
        guard raw.count <= maximumLength else { throw Failure(description: "X-SSL-Client-Cert is longer than \(maximumLength) bytes") }
        let text: String
        if urlEncoded {
            guard let decoded = raw.removingPercentEncoding else { throw Failure(description: "X-SSL-Client-Cert is not URL-encoded PEM (nginx form)") }
            text = decoded
        } else {
            guard !raw.contains("%") else { throw Failure(description: "X-SSL-Client-Cert is URL-encoded; the gateway expects Apache's form") }
            text = raw
        }
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

/// Which header a trusted proxy names the browser's address in (`card.client_address_header`).
public enum ForwardedAddressHeader: String, Sendable, Hashable, CaseIterable {
    /// `X-Forwarded-For: client, proxy1` — the last entry is the one the trusted proxy added.
    case xForwardedFor = "x-forwarded-for"
    /// RFC 7239 `Forwarded: for=client;proto=https` — the last element is the trusted proxy's.
    case forwarded
    /// The proxy names no address: the proxy's own address is used.
    case none

    static let forwardedName = HTTPField.Name("Forwarded")!
    static let xForwardedForName = HTTPField.Name("X-Forwarded-For")!

    /// The browser's address as the trusted proxy reports it (the last hop, which that proxy wrote), or nil.
    public func clientAddress(in fields: HTTPFields) -> String? {
        switch self {
        case .none: return nil
        case .xForwardedFor:
            let joined = fields[values: Self.xForwardedForName].joined(separator: ",")
            guard let last = joined.split(separator: ",").last else { return nil }
            return Self.normalised(String(last))
        case .forwarded:
            let joined = fields[values: Self.forwardedName].joined(separator: ",")
            guard let element = joined.split(separator: ",").last else { return nil }
            for pair in element.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "for" else { continue }
                var value = parts[1].trimmingCharacters(in: .whitespaces)
                if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
                if value.hasPrefix("[") , let close = value.firstIndex(of: "]") { value = String(value[value.index(after: value.startIndex)..<close]) }
                else if value.filter({ $0 == ":" }).count == 1, let colon = value.firstIndex(of: ":") { value = String(value[..<colon]) }
                return Self.normalised(value)
            }
            return nil
        }
    }

    /// An IP address as text, or nil for anything else (obfuscated identifiers, `unknown`, garbage).
    static func normalised(_ raw: String) -> String? {
        let value = raw.trimmingCharacters(in: .whitespaces)
        guard !value.isEmpty, value.count <= 45 else { return nil }
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, value, &v4) == 1 || inet_pton(AF_INET6, value, &v6) == 1 { return value }
        return nil
    }
}

/// Where a request came from: the browser's address (from the trusted proxy's forwarding header when a trusted
/// proxy connected, else the peer), and the proxy's address beside it. Audit records and rate limits use `address`.
public struct ClientOrigin: Sendable, Hashable {
    public var address: String
    public var proxy: String?

    public init(address: String, proxy: String? = nil) {
        self.address = address
        self.proxy = proxy
    }

    /// The origin of a request from `peer` with `fields`, under `proxies`.
    public static func of(peer: String, fields: HTTPFields, proxies: ProxyPolicy) -> ClientOrigin {
        guard proxies.trusted.contains(peer) else { return ClientOrigin(address: peer) }
        return ClientOrigin(address: proxies.addressHeader.clientAddress(in: fields) ?? peer, proxy: peer)
    }

    /// `fields` with this origin's `client` (and `proxy`) added.
    public func auditFields(_ fields: [String: String]) -> [String: String] {
        var all = fields
        all["client"] = address
        if let proxy { all["proxy"] = proxy }
        return all
    }
}

/// How the gateway treats reverse proxies: which addresses it trusts, and which headers it reads from them.
public struct ProxyPolicy: Sendable, Hashable {
    public var trusted: Set<String>
    public var certificateHeader: ProxyCertificateHeader.Format
    public var addressHeader: ForwardedAddressHeader

    public init(trusted: Set<String> = [], certificateHeader: ProxyCertificateHeader.Format = .nginx, addressHeader: ForwardedAddressHeader = .xForwardedFor) {
        self.trusted = trusted
        self.certificateHeader = certificateHeader
        self.addressHeader = addressHeader
    }
}
