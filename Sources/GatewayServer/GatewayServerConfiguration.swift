import Foundation
import GatewayConfiguration
import GatewayLogin
import NIOSSL
import OpenIDFederation
import RequestDecoding

/// How `cnsgw serve` listens.
public struct GatewayServerConfiguration: Sendable {
    /// Protocol endpoints and pages; no client certificate is asked for.
    public var publicHost: String
    public var publicPort: Int
    /// The listener that asks for the card (its own host name in production).
    public var cardHost: String
    public var cardPort: Int
    /// PEM server certificate chain and key for both listeners.
    public var certificatePath: String
    public var privateKeyPath: String
    /// Highest TLS version on the card listener: many cards cannot sign RSA-PSS, which TLS 1.3 requires.
    public var cardMaximumTLSVersion: TLSVersion
    /// Put the trusted CAs' names in the CertificateRequest. Off by default: the full Italian list breaks browsers.
    public var sendCertificateAuthorityNames: Bool
    /// Reverse proxies allowed to forward the client certificate (in one configured header) and the browser's
    /// address; from anyone else a certificate header is refused and audited.
    public var proxies: ProxyPolicy
    public var trustedProxies: Set<String> { proxies.trusted }
    /// Connection and request limits of both listeners.
    public var limits = ListenerLimits()
    /// `/metrics` on its own plain-HTTP address when a port is set; nil serves it on the public listener.
    public var metricsHost = "127.0.0.1"
    public var metricsPort: Int?
    /// The addresses browsers use when a proxy or DNS name stands in front (default `https://host:port`).
    public var publicBaseURL: String?
    public var cardBaseURL: String?
    /// How long a pending login waits for the card and the consent.
    public var loginLifetime: TimeInterval = 600
    /// Parsed card certificates kept for reuse (0: none).
    public var certificateCacheSize: Int = 4096
    /// When set, the audit log gets HMAC-SHA-256(key, codice fiscale) instead of the code.
    public var auditPseudonymKey: Data?
    /// OIDC token lifetimes (seconds): authorization codes, access and ID tokens, refresh tokens (offline_access).
    public var oidcCodeLifetime: TimeInterval = 60
    public var oidcAccessTokenLifetime: TimeInterval = 600
    public var oidcRefreshTokenLifetime: TimeInterval = 30 * 86_400
    /// When single-sign-on sessions are opened and reused (default: SpidL1 requests only, 30 minutes).
    public var sessions: SessionPolicy
    /// How the gateway presents itself in an OpenID Federation (nil: a standalone entity named after `publicURL`).
    public var federation: FederationSettings?
    /// Seconds a relying party whose trust chain failed is refused without fetching again.
    public var federationRefusalCache: TimeInterval = 30
    /// The federation settings in force; the entity identifier is always the OIDC issuer (the public URL).
    public var federationSettings: FederationSettings {
        var settings = federation ?? FederationSettings(entityID: publicURL, organizationName: "cnsgw")
        settings.entityID = publicURL
        return settings
    }

    public init(publicHost: String = "127.0.0.1", publicPort: Int = 8443, cardHost: String = "127.0.0.1", cardPort: Int = 8444,
                certificatePath: String, privateKeyPath: String, cardMaximumTLSVersion: TLSVersion = .tlsv13,
                sendCertificateAuthorityNames: Bool = false, trustedProxies: Set<String> = [],
                sessions: SessionPolicy = SessionPolicy()) {
        self.publicHost = publicHost
        self.publicPort = publicPort
        self.cardHost = cardHost
        self.cardPort = cardPort
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.cardMaximumTLSVersion = cardMaximumTLSVersion
        self.sendCertificateAuthorityNames = sendCertificateAuthorityNames
        self.proxies = ProxyPolicy(trusted: trustedProxies)
        self.sessions = sessions
    }

    public var publicURL: String { publicBaseURL ?? "https://\(publicHost):\(publicPort)" }
    public var cardURL: String { cardBaseURL ?? "https://\(cardHost):\(cardPort)" }
}

