import Foundation
import GatewayStorage
import HTTPTypes
import Hummingbird
import Metrics
import NIOCore

/// What a request gets when the database cannot be reached (or did not answer in time): the citizen a page in
/// their language that says nothing was completed and to try again shortly, a client of the OAuth endpoints the
/// JSON error `temporarily_unavailable`; both 503 with `Retry-After`. Nothing was written half-way — every storage
/// operation is one transaction — and no card was accepted, since a decision that cannot be recorded is no login.
/// The admin reads the cause in the log (the audit log itself is in the database that failed).
struct StorageOutageGuard<Context: RequestContext>: RouterMiddleware {
    let application: GatewayApplication
    static var retryAfterSeconds: Int { 5 }
    /// Endpoints whose clients are programs that read OAuth JSON errors.
    static var protocolPaths: Set<String> { ["/oidc/token", "/oidc/userinfo", "/oidc/introspect", "/oidc/revoke"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as StorageError where error.code == .unavailable {
            Counter(label: "cnsgw_storage_unavailable_total", dimensions: [("path", request.uri.path)]).increment()
            application.logger.error("the database is unavailable: request answered 503", metadata: ["path": "\(request.uri.path)", "error": "\(error.detail)"])
            var response: Response
            if Self.protocolPaths.contains(request.uri.path) {
                let body = #"{"error":"temporarily_unavailable","error_description":"the identity provider cannot reach its database; retry shortly"}"#
                response = Response(status: .serviceUnavailable, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                                    body: .init(byteBuffer: ByteBuffer(string: body)))
            } else {
                response = application.html(application.pages(for: request).unavailable(), status: .serviceUnavailable)
            }
            response.headers[.retryAfter] = "\(Self.retryAfterSeconds)"
            return response
        }
    }
}
