import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The HTTP the revocation subsystem needs: OCSP POSTs and conditional CRL GETs. The library does no other I/O,
/// so a server can plug in its own client (tests use the URLSession one against real servers on 127.0.0.1).
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

/// ``HTTPTransport`` over Foundation's URLSession (libcurl on Linux): no extra dependency for the CLI.
public struct URLSessionTransport: HTTPTransport {
    private let session: URLSession

    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpMaximumConnectionsPerHost = 8
        session = URLSession(configuration: configuration)
    }

    public func post(url: String, body: [UInt8], contentType: String, accept: String, timeout: TimeInterval, maximumBytes: Int) async throws -> [UInt8] {
        var request = try makeRequest(url, timeout: timeout)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        request.setValue(accept, forHTTPHeaderField: "Accept")
        let (data, status, _) = try await send(request, timeout: timeout)
        guard status == 200 else { throw HTTPTransportError("\(url) answered HTTP \(status)") }
        guard data.count <= maximumBytes else { throw HTTPTransportError("\(url) sent \(data.count) bytes; at most \(maximumBytes) are accepted") }
        return [UInt8](data)
    }

    public func get(url: String, ifNoneMatch: String?, ifModifiedSince: String?, timeout: TimeInterval, maximumBytes: Int) async throws -> HTTPFetch {
        var request = try makeRequest(url, timeout: timeout)
        if let ifNoneMatch { request.setValue(ifNoneMatch, forHTTPHeaderField: "If-None-Match") }
        if let ifModifiedSince { request.setValue(ifModifiedSince, forHTTPHeaderField: "If-Modified-Since") }
        let (data, status, response) = try await send(request, timeout: timeout)
        if status == 304 { return .notModified }
        guard status == 200 else { throw HTTPTransportError("\(url) answered HTTP \(status)") }
        guard data.count <= maximumBytes else { throw HTTPTransportError("\(url) sent \(data.count) bytes; at most \(maximumBytes) are accepted") }
        return .body([UInt8](data), etag: response.value(forHTTPHeaderField: "ETag"),
                     lastModified: response.value(forHTTPHeaderField: "Last-Modified"))
    }

    private func makeRequest(_ url: String, timeout: TimeInterval) throws -> URLRequest {
        guard let u = URL(string: url), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw HTTPTransportError("'\(url)' is not an http(s) URL")
        }
        var request = URLRequest(url: u, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.setValue("cnsgw", forHTTPHeaderField: "User-Agent")
        return request
    }

    /// Sends with a hard deadline: URLSession's timeout is per idle period, so a responder that trickles bytes
    /// could otherwise hold a login for ever.
    private func send(_ request: URLRequest, timeout: TimeInterval) async throws -> (Data, Int, HTTPURLResponse) {
        try await withThrowingTaskGroup(of: (Data, Int, HTTPURLResponse).self) { group in
            group.addTask {
                let (data, response): (Data, URLResponse)
                do { (data, response) = try await session.data(for: request) } catch {
                    // Foundation's errors print as NSError dumps; keep libcurl's sentence.
                    let ns = error as NSError
                    throw HTTPTransportError((ns.userInfo[NSLocalizedDescriptionKey] as? String) ?? "\(error)")
                }
                guard let http = response as? HTTPURLResponse else { throw HTTPTransportError("not an HTTP response") }
                return (data, http.statusCode, http)
            }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(timeout * 1_000_000_000))
                throw HTTPTransportError("\(request.url?.absoluteString ?? "?") did not answer within \(timeout) s")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }
}
