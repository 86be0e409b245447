import Foundation
import HTTPTypes
import Hummingbird
import Metrics
import NIOCore
import RequestDecoding

/// A request context that knows where its request came from (see ``ClientOrigin``).
public protocol OriginAwareContext: RequestContext {
    /// The TCP peer (a browser, or a trusted proxy).
    var peerAddress: String { get }
    /// Set by ``RequestGuard`` before any handler runs.
    var origin: ClientOrigin { get set }
}

/// Runs before every handler of both listeners: works out the request's ``ClientOrigin`` (the forwarding header is
/// read only from trusted proxies), applies the per-address rate limit of the endpoints that create state (429 with
/// `Retry-After`), and adds the headers every page needs: no framing (clickjacking of the consent page), no MIME
/// sniffing, no Referer (login IDs and codes are in URLs), and HSTS (both listeners are HTTPS only).
struct RequestGuard<Context: OriginAwareContext>: RouterMiddleware {
    let proxies: ProxyPolicy
    let limiter: RateLimiter?
    /// Paths whose requests create state (pending logins, codes, audit records) and are rate-limited.
    let limitedPaths: Set<String>
    let refusals: RefusalAudit

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.origin = ClientOrigin.of(peer: context.peerAddress, fields: request.headers, proxies: proxies)
        var response: Response
        if let limiter, limitedPaths.contains(request.uri.path), case .refused(let retryAfter) = limiter.take(context.origin.address) {
            Counter(label: "cnsgw_requests_rate_limited_total", dimensions: [("path", request.uri.path)]).increment()
            try await refusals.append(kind: "request", fields: context.origin.auditFields(["result": "refused", "reason": "rate_limited",
                                                                                                   "path": request.uri.path]))
            response = Response(status: .tooManyRequests, headers: [.retryAfter: "\(retryAfter)", .contentType: "text/plain; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(string: "too many requests from \(context.origin.address); retry in \(retryAfter) s\n")))
        } else {
            response = try await next(request, context)
        }
        SecurityHeaders.apply(&response.headers)
        return response
    }
}

/// The headers every response carries.
enum SecurityHeaders {
    /// Pages use inline styles and no script; nothing may frame them.
    static let contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'"

    static func apply(_ headers: inout HTTPFields) {
        headers[.xFrameOptions] = "DENY"
        if headers[.contentSecurityPolicy] == nil { headers[.contentSecurityPolicy] = contentSecurityPolicy }
        headers[.xContentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "no-referrer"
        headers[.strictTransportSecurity] = "max-age=31536000"
    }
}

extension HTTPField.Name {
    static let xFrameOptions = Self("X-Frame-Options")!
    static let secFetchSite = Self("Sec-Fetch-Site")!
    static let referrerPolicy = Self("Referrer-Policy")!
}
