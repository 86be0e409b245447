import Foundation
import GatewayAudit
import Hummingbird
import Metrics
import NIOCore
import OIDC

/// The OIDC back channel over HTTP: token, userinfo, revocation and introspection. Each handler reads the request,
/// calls one ``OpenIDProviderEngine`` entry point and writes its answer (JSON, or a JWT for SPID userinfo) with
/// `Cache-Control: no-store`; every refusal is counted and audited.
struct OIDCTokenController: Sendable {
    let engine: OpenIDProviderEngine
    let refusals: RefusalAudit

    func token(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        let form = try await OIDCHTTP.parameters(request)
        do {
            guard request.method == .post else { throw OIDCError(.invalidRequest, reason: "method", "the token endpoint takes POST") }
            let answer = try await engine.exchange(form, authorization: request.headers[.authorization], now: Date())
            Counter(label: "cnsgw_oidc_tokens_issued_total", dimensions: [("grant_type", answer.grantType)]).increment()
            return try OIDCHTTP.json(answer.body)
        } catch let error as OIDCError {
            return try await refuse(error, endpoint: "token", client: form["client_id"], request: request)
        }
    }

    func userinfo(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        do {
            var token: String?
            if let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") { token = String(header.dropFirst(7)) }
            if request.method == .post, request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true,
               let bodyToken = try await OIDCHTTP.parameters(request)["access_token"] {
                guard token == nil else { throw OIDCError(.invalidRequest, reason: "two_tokens", "the access token is sent twice") }
                token = bodyToken
            }
            guard let token else { throw OIDCError(.invalidToken, reason: "no_token", "no Bearer access token") }
            switch try await engine.userinfo(accessToken: token, now: Date()) {
            case .json(let claims): return try OIDCHTTP.json(claims)
            case .jwt(let jwt):
                return Response(status: .ok, headers: [.contentType: "application/jwt", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(string: jwt)))
            }
        } catch let error as OIDCError {
            let description = error.detail.replacingOccurrences(of: "\"", with: "'").replacingOccurrences(of: "\\", with: "")
            let challenge = "Bearer error=\"\(error.code.rawValue)\", error_description=\"\(description)\""
            return try await refuse(error, endpoint: "userinfo", client: nil, request: request, headers: [.wwwAuthenticate: challenge])
        }
    }

    func revocation(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        let form = try await OIDCHTTP.parameters(request)
        do {
            try await engine.revocation(form, authorization: request.headers[.authorization], now: Date())
            return Response(status: .ok, headers: [.cacheControl: "no-store"])
        } catch let error as OIDCError {
            return try await refuse(error, endpoint: "revocation", client: form["client_id"], request: request)
        }
    }

    func introspection(_ request: Request, _ context: PublicRequestContext) async throws -> Response {
        let form = try await OIDCHTTP.parameters(request)
        do {
            return try OIDCHTTP.json(try await engine.introspection(form, authorization: request.headers[.authorization], now: Date()))
        } catch let error as OIDCError {
            return try await refuse(error, endpoint: "introspection", client: form["client_id"], request: request)
        }
    }

    /// `client`: the client the request names, when the refusal came before it authenticated.
    func refuse(_ error: OIDCError, endpoint: String, client: String?, request: Request, headers: HTTPFields = [:]) async throws -> Response {
        Counter(label: "cnsgw_oidc_requests_refused_total", dimensions: [("reason", error.reason)]).increment()
        try await refusals.append(kind: "oidc", fields: ["result": "refused", "endpoint": endpoint, "reason": error.reason,
                                                         "error": error.code.rawValue, "detail": error.detail,
                                                         "client": error.clientID ?? client ?? ""])
        var headers = headers
        if error.code == .invalidClient, request.headers[.authorization]?.lowercased().hasPrefix("basic ") == true {
            headers[.wwwAuthenticate] = "Basic realm=\"cnsgw\""
        }
        return try OIDCHTTP.errorJSON(error, headers: headers)
    }
}
