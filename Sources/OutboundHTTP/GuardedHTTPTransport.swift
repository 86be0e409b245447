import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
#if canImport(Glibc)
import Glibc
#endif

/// Every outbound HTTP request of the gateway and its command line (CRLs, OCSP, SAML metadata, client JWKS,
/// back-channel logout, an admin's trusted-list URL): never follows a
/// redirect, streams each body with a size limit, holds a hard deadline, and refuses destinations on loopback,
/// link-local, private, shared or unspecified addresses unless the admin allows them (`outbound.allow_private_addresses`,
/// needed for the test PKI's CRL and OCSP on 127.0.0.1). URLs come from outside (metadata, registrations,
/// certificates), so a redirect or an internal address would let a provider make the gateway call inside the network.
///
/// The address check resolves the host before the request; AsyncHTTPClient resolves it again when it connects, so a
/// DNS answer that changes in between (rebinding) is not caught here — network egress rules are the complete answer.
///
/// One AsyncHTTPClient (its connection pool on the shared event loops) serves every transport of the process and lives
/// as long as the process, so a command or a test makes transports freely and never shuts one down.
public struct GuardedHTTPTransport: HTTPTransport {
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(connectSeconds), read: .seconds(readSeconds))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
    /// How long connecting may take, and how long an answer may pause, whatever the caller's deadline.
    static let connectSeconds: Int64 = 5, readSeconds: Int64 = 10
    var client: HTTPClient { Self.client }
    let allowPrivateAddresses: Bool

    /// `allowPrivateAddresses`: the gateway's `outbound.allow_private_addresses`; the command line allows them (the admin
    /// runs it, and the test PKI answers on 127.0.0.1).
    public init(allowPrivateAddresses: Bool) {
        self.allowPrivateAddresses = allowPrivateAddresses
    }

    public func post(url: String, body: [UInt8], contentType: String, accept: String, timeout: TimeInterval, maximumBytes: Int) async throws -> [UInt8] {
        var request = try makeRequest(url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "Accept", value: accept)
        request.body = .bytes(ByteBuffer(bytes: body))
        let (status, _, bytes) = try await send(request, url: url, timeout: timeout, maximumBytes: maximumBytes)
        guard status == 200 else { throw HTTPTransportError("\(url) answered HTTP \(status)") }
        return bytes
    }

    public func get(url: String, ifNoneMatch: String?, ifModifiedSince: String?, timeout: TimeInterval, maximumBytes: Int) async throws -> HTTPFetch {
        var request = try makeRequest(url)
        if let ifNoneMatch { request.headers.add(name: "If-None-Match", value: ifNoneMatch) }
        if let ifModifiedSince { request.headers.add(name: "If-Modified-Since", value: ifModifiedSince) }
        let (status, headers, bytes) = try await send(request, url: url, timeout: timeout, maximumBytes: maximumBytes)
        if status == 304 { return .notModified }
        guard status == 200 else { throw HTTPTransportError("\(url) answered HTTP \(status)") }
        return .body(bytes, etag: headers.first(name: "ETag"), lastModified: headers.first(name: "Last-Modified"))
    }

    func makeRequest(_ url: String) throws -> HTTPClientRequest {
        guard let u = URL(string: url), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = u.host, !host.isEmpty else {
            throw HTTPTransportError("'\(url)' is not an http(s) URL")
        }
        if !allowPrivateAddresses {
            let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
            for address in try Self.resolve(bare) where Self.isInternal(address) {
                throw HTTPTransportError("\(url) resolves to \(address), an internal address (loopback, link-local or private); "
                                         + "set outbound.allow_private_addresses to allow it")
            }
        }
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: "cnsgw")
        return request
    }

    func send(_ request: HTTPClientRequest, url: String, timeout: TimeInterval, maximumBytes: Int) async throws -> (UInt, HTTPHeaders, [UInt8]) {
        do {
            let response = try await client.execute(request, deadline: .now() + .milliseconds(Int64(timeout * 1000)))
            if (300..<400).contains(response.status.code), response.status.code != 304 {
                throw HTTPTransportError("\(url) answered HTTP \(response.status.code) (a redirect to \(response.headers.first(name: "Location") ?? "?")); redirects are not followed")
            }
            if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > maximumBytes {
                throw HTTPTransportError("\(url) announced \(length) bytes; at most \(maximumBytes) are accepted")
            }
            var buffer: ByteBuffer
            do { buffer = try await response.body.collect(upTo: maximumBytes) } catch is NIOTooManyBytesError {
                throw HTTPTransportError("\(url) sent more than \(maximumBytes) bytes; at most \(maximumBytes) are accepted")
            }
            return (response.status.code, response.headers, buffer.readBytes(length: buffer.readableBytes) ?? [])
        } catch let error as HTTPTransportError {
            throw error
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            throw HTTPTransportError("\(url) did not answer within \(timeout) s")
        } catch let error as HTTPClientError where error == .readTimeout {
            throw HTTPTransportError("\(url) did not answer: it sent nothing for \(Self.readSeconds) s")
        } catch let error as HTTPClientError where error == .connectTimeout {
            throw HTTPTransportError("\(url) could not be reached within \(Self.connectSeconds) s")
        } catch {
            throw HTTPTransportError("\(url): \(error)")
        }
    }

    /// The host's addresses as text (the host itself when it is an address literal).
    static func resolve(_ host: String) throws -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { throw HTTPTransportError("cannot resolve \(host)") }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(info.pointee.ai_addr, info.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 {
                addresses.append(String(cString: text))
            }
            cursor = info.pointee.ai_next
        }
        return addresses
    }

    /// Loopback, link-local, private (RFC 1918, RFC 4193), shared (RFC 6598), unspecified or multicast.
    public static func isInternal(_ address: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            let b = withUnsafeBytes(of: v4.s_addr) { Array($0) }
            switch (b[0], b[1]) {
            case (0, _), (10, _), (127, _), (169, 254), (192, 168): return true
            case (172, 16...31), (100, 64...127): return true
            case (224...255, _): return true
            default: return false
            }
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, address.split(separator: "%").first.map(String.init) ?? address, &v6) == 1 else { return true }
        let b = withUnsafeBytes(of: v6) { Array($0) }
        if b.allSatisfy({ $0 == 0 }) || (b[0..<15].allSatisfy { $0 == 0 } && b[15] == 1) { return true }   // :: and ::1
        if b[0] == 0xfe && (b[1] & 0xc0) == 0x80 { return true }   // fe80::/10
        if (b[0] & 0xfe) == 0xfc { return true }                   // fc00::/7
        if b[0] == 0xff { return true }                            // multicast
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff {   // ::ffff:a.b.c.d
            return isInternal("\(b[12]).\(b[13]).\(b[14]).\(b[15])")
        }
        return false
    }
}
