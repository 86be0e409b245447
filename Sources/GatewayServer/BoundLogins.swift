import Foundation
import GatewayLogin
import GatewayStorage
import Hummingbird
import LoginOutcome
import RequestDecoding

/// The front ends' side of binding a login to browsers (see ``LoginBinding``): a login is started with a binding
/// cookie in the browser that asked for it, and finished only by a request carrying that cookie and the
/// continuation secret the card listener gave the consenting browser.
extension GatewayApplication {
    /// Starts `request` bound to this browser; the response that sends the browser to the card listener sets `cookie`.
    func startBoundLogin(_ request: LoginRequest) async throws -> (login: PendingLoginRecord, cookie: Cookie) {
        let secret = LoginBinding.newSecret()
        var bound = request
        bound.browserBinding = secret
        let login = try await LoginFlow(storage: storage, awaitingCard: loginsAwaitingCard).start(bound)
        // Secure and HttpOnly; Lax, so it comes with the top-level redirect from the card listener (another host name
        // in production) but never with a cross-site sub-request; scoped to the one continuation path.
        // The cookie outlives the login by as long as the login is kept, so a browser that comes back late is told it timed out.
        let cookie = Cookie(name: LoginBinding.cookieName(loginID: login.id), value: secret, maxAge: Int(request.lifetime + PendingLoginRecord.keptAfterExpiry),
                            path: request.returnPath, secure: true, httpOnly: true, sameSite: .lax)
        return (login, cookie)
    }

    /// Starts a front end's login bound to this browser, for its engine's `startLogin`; the cookie the response must set
    /// is left in `cookie`.
    func startBoundLogin(_ start: LoginStart, returnPath: String, cookie: inout Cookie?) async throws -> StartedLogin {
        let (login, binding) = try await startBoundLogin(LoginRequest(start, returnPath: returnPath, lifetime: configuration.loginLifetime))
        cookie = binding
        return StartedLogin(id: login.id, expiresAt: login.expiresAt, keptUntil: login.keptUntil)
    }

    /// The login this request may finish, or nil — unknown, expired, started by another browser, or without the
    /// consenting browser's continuation secret all look the same to the requester.
    func boundLogin(_ request: Request) async throws -> PendingLoginRecord? {
        guard let id = request.uri.queryParameters.get("login"), let record = try await storage.pendingLogin(id: id) else { return nil }
        let cookie = request.cookies[LoginBinding.cookieName(loginID: id)]?.value
        guard LoginFlow.mayContinue(record, bindingCookie: cookie, continuation: request.uri.queryParameters.get("continuation"), now: Date()) else {
            return nil
        }
        return record
    }

    /// The page for a continuation this browser may not make.
    func refuseContinuation(_ request: Request, kind: String, context: ClientOrigin) async throws -> Response {
        let id = request.uri.queryParameters.get("login") ?? ""
        try await refusals.append(kind: kind, fields: context.auditFields(["result": "refused", "reason": "continuation_not_bound", "login": id]))
        return html(pages(for: request).loginFailure(.unknownLogin), status: LoginRefusal.status)
    }

    /// Removes the binding cookie once the login is finished.
    static func clearBinding(_ response: inout Response, loginID: String, path: String) {
        response.setCookie(Cookie(name: LoginBinding.cookieName(loginID: loginID), value: "", maxAge: 0, path: path, secure: true, httpOnly: true,
                                  sameSite: .lax))
    }
}
