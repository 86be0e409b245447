import Foundation

/// The HTTP the revocation subsystem needs: OCSP POSTs and conditional CRL GETs. The library does no other I/O,
/// so a caller plugs in its client (``GuardedHTTPTransport``; tests run it against real servers on 127.0.0.1).
public protocol HTTPTransport: Sendable {
    /// POSTs `body` and returns the response body; throws ``HTTPTransportError`` on anything but 200.
    func post(url: String, body: [UInt8], contentType: String, accept: String, timeout: TimeInterval, maximumBytes: Int) async throws -> [UInt8]
    /// GETs `url`, conditionally when validators are given.
    func get(url: String, ifNoneMatch: String?, ifModifiedSince: String?, timeout: TimeInterval, maximumBytes: Int) async throws -> HTTPFetch
}

/// The result of a conditional GET.
public enum HTTPFetch: Sendable {
    case notModified
    case body([UInt8], etag: String?, lastModified: String?)
}

/// Why an HTTP exchange failed.
public struct HTTPTransportError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
