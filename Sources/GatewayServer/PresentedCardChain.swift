import CNSValidation
import Foundation
import GatewayAudit
import Hummingbird
import LoginOutcome
import RequestDecoding

/// The card chain a card-listener request presents: from its TLS handshake, or from a trusted proxy's one configured
/// header; or the page that refuses the request.
struct PresentedCardChain: Sendable {
    let application: GatewayApplication
    var audit: AuditLog { application.audit }

    enum ChainOutcome {
        case chain([[UInt8]], via: String)
        case refused(Response)
    }

    /// The presented chain: from the TLS handshake, or from a trusted proxy's one configured header; or the page
    /// that refuses the request. A certificate header from anyone else, or any other certificate header from a
    /// trusted proxy (a client's own header the proxy passed through), refuses the request.
    func read(_ request: Request, _ context: CardRequestContext, pages: CardLoginPages) async throws -> ChainOutcome {
        let origin = context.origin
        let present = ProxyCertificateHeader.present(in: request.headers)
        guard let proxy = origin.proxy else {
            guard present.isEmpty else {
                application.logger.warning("forwarded certificate header from an address that is not a trusted proxy", metadata: ["client": "\(origin.address)"])
                try await audit.append(kind: "login", fields: origin.auditFields(["result": "refused", "reason": "forged_proxy_header",
                                                                                          "headers": present.map(\.rawName).joined(separator: ",")]))
                return .refused(application.html(pages.proxyHeaderRefused(), status: .forbidden))
            }
            return .chain(await context.presentedChain(), via: "tls")
        }
        let format = application.configuration.proxies.certificateHeader
        let unexpected = ProxyCertificateHeader.unexpected(in: request.headers, format: format)
        guard unexpected.isEmpty else {
            application.logger.warning("certificate header the trusted proxy does not set", metadata: ["client": "\(origin.address)", "proxy": "\(proxy)"])
            try await audit.append(kind: "login", fields: origin.auditFields(["result": "refused", "reason": "unexpected_proxy_header",
                                                                                      "headers": unexpected.map(\.rawName).joined(separator: ",")]))
            return .refused(application.html(pages.proxyHeaderRefused(), status: .forbidden))
        }
        do { return .chain(try ProxyCertificateHeader.chain(from: request.headers, format: format), via: "proxy") } catch {
            try await audit.append(kind: "login", fields: origin.auditFields(["result": "refused", "reason": "malformed", "detail": "\(error)"]))
            return .refused(application.html(pages.refused(FailureReason.malformed.rawValue), status: .forbidden))
        }
    }
}
