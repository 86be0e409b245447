import CNSValidation
import Foundation
import GatewayAudit
import GatewayStorage
import GatewayTrust
import GatewayLogin
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import ItalianIdentity
import Logging
import Metrics
import NIOCore
import NIOSSL
import OIDC
import OpenIDFederation
import OutboundHTTP
import Prometheus
import SAML
import ServiceLifecycle

/// The two listeners of the gateway as services: the public one (pages, health, protocol endpoints) and the card
/// listener that asks for the client certificate and runs the CNS decision.
public final class GatewayApplication: Sendable {
    public let configuration: GatewayServerConfiguration
    public let storage: any GatewayStorage
    public let trust: TrustStoreProvider
    public let revocation: RevocationChecker
    public let identityMapper: CNSSubjectMapper
    public let audit: AuditLog
    public let logger: Logger
    /// Where `/metrics` reads from; nil serves no metrics endpoint.
    public let metrics: PrometheusCollectorRegistry?
    public let renderer: PageRenderer
    /// The card listener's SSL context (shared, session resumption off).
    let cardContexts = CardTLSContextFactory()
    /// Registered SAML service providers and the SAML signing key.
    public let serviceProviders: ServiceProviderDirectory
    let samlKeys: SAMLKeyring
    /// The hosts of requesters that have no display name (see ``RequesterHostNames``).
    let hostNames = RequesterHostNames()
    /// Parsed card certificates (see ``CertificateCache``).
    public let certificates: CertificateCache
    /// The logins the front ends just started, for their card step (see ``LoginsAwaitingCard``).
    let loginsAwaitingCard = LoginsAwaitingCard()
    /// Registered OIDC clients, the OIDC signing keys and the pairwise-subject key.
    public let oidcClients: OIDCClientDirectory
    let oidcKeys: OIDCKeyring
    let oidcSubjects: OIDCSubjectKey
    /// OpenID Federation: the gateway's federation keys, the anchors an admin pinned, and its own trust marks.
    let federationKeys: OIDCKeyring
    public let trustAnchors: RegistrationDirectory<FederationTrustAnchor>
    let trustMarks: RegistrationDirectory<InstalledTrustMark>
    /// The protocol engines, and the logout coordinator both reach through their session seams.
    let oidcEngine: OpenIDProviderEngine
    let samlEngine: IdentityProviderEngine
    let sessionEnding: SessionEnding
    /// Per-address request limits of the endpoints that create state (nil: off).
    let requestLimiter: RateLimiter?
    /// Audit records of refused unauthenticated requests, at a bounded rate.
    public let refusals: RefusalAudit

    public init(configuration: GatewayServerConfiguration, storage: any GatewayStorage, revocation: RevocationChecker,
                identityMapper: CNSSubjectMapper, pages: PageRenderer, metrics: PrometheusCollectorRegistry? = nil,
                logger: Logger = Logger(label: "cnsgw.server"), backchannel: any HTTPTransport = GuardedHTTPTransport(allowPrivateAddresses: false)) {
        self.configuration = configuration
        self.storage = storage
        let contexts = cardContexts
        self.trust = TrustStoreProvider(storage: storage) { store in contexts.updateCertificateAuthorities(store.anchors.map(\.certificate.derBytes)) }
        self.revocation = revocation
        self.identityMapper = identityMapper
        self.audit = AuditLog(storage: storage)
        self.logger = logger
        self.metrics = metrics
        self.renderer = pages
        self.certificates = CertificateCache(capacity: configuration.certificateCacheSize)
        self.serviceProviders = ServiceProviderDirectory(serviceProvidersIn: storage, logger: logger)
        self.samlKeys = SAMLKeyring(storage: storage)
        self.oidcClients = OIDCClientDirectory(clientsIn: storage, logger: logger)
        let oidcKeys = OIDCKeyring(storage: storage)
        self.oidcKeys = oidcKeys
        self.oidcSubjects = OIDCSubjectKey(storage: storage)
        self.refusals = RefusalAudit(audit: audit, perMinute: configuration.limits.refusalAuditsPerMinute)
        let clients = oidcClients, subjects = oidcSubjects, serviceProviders = serviceProviders, samlKeys = samlKeys
        let oidcStore = GatewayOIDCStore(storage: storage, audit: audit)
        self.federationKeys = OIDCKeyring(storage: storage, use: "federation")
        let anchors = RegistrationDirectory<FederationTrustAnchor>(trustAnchorsIn: storage, logger: logger)
        self.trustAnchors = anchors
        self.trustMarks = RegistrationDirectory<InstalledTrustMark>(trustMarksIn: storage, logger: logger)
        let federation = configuration.federationSettings
        let registrar = GatewayFederationRegistrar(storage: storage, anchors: anchors, transport: backchannel, limits: federation.limits,
                                                   refusalCache: configuration.federationRefusalCache, audit: audit, logger: logger) { client in
            await clients.remember(client.clientID, client)
        }
        self.oidcEngine = OpenIDProviderEngine(provider: Self.oidcProvider(configuration), store: oidcStore, clients: { try await clients.snapshot() },
                                               keys: { try await oidcKeys.current() }, federation: registrar)
        let sender = BackChannelLogoutSender(provider: Self.oidcProvider(configuration), clients: { try await clients.snapshot() },
                                             keys: { try await oidcKeys.current() }, subjects: { try await subjects.identifiers() }, store: oidcStore) { url, form, timeout in
            _ = try await backchannel.post(url: url, body: Array(form.utf8), contentType: "application/x-www-form-urlencoded", accept: "*/*",
                                           timeout: timeout, maximumBytes: 65_536)
        }
        let sessionEnding = SessionEnding(coordinator: LogoutCoordinator(storage: storage, backChannel: sender))
        self.sessionEnding = sessionEnding
        self.samlEngine = IdentityProviderEngine(idp: IdentityProviderConfiguration(baseURL: configuration.publicURL),
                                                 store: GatewaySAMLStore(storage: storage, audit: audit),
                                                 serviceProviders: { try await serviceProviders.snapshot() }, signingKey: { try await samlKeys.current().key },
                                                 sessions: sessionEnding)
        self.requestLimiter = configuration.limits.requestsPerSecond > 0
            ? RateLimiter(perSecond: configuration.limits.requestsPerSecond, burst: configuration.limits.requestBurst) : nil
    }

    /// The gateway as an OpenID Provider: issuer = the public URL.
    public var oidcProvider: ProviderConfiguration { Self.oidcProvider(configuration) }

    static func oidcProvider(_ configuration: GatewayServerConfiguration) -> ProviderConfiguration {
        ProviderConfiguration(issuer: configuration.publicURL, authorizationCodeLifetime: configuration.oidcCodeLifetime,
                              accessTokenLifetime: configuration.oidcAccessTokenLifetime, idTokenLifetime: configuration.oidcAccessTokenLifetime,
                              refreshTokenLifetime: configuration.oidcRefreshTokenLifetime)
    }

    /// Both listeners, ready to run in a `ServiceGroup`.
    /// Makes the next request read what `table` holds again (a change notification from storage).
    public func storageChanged(_ table: String) async {
        let everything = table == StorageChanges.anyTable
        if everything || table == "trusted_ca" { await trust.invalidate() }
        if everything || table == "registration" {
            await serviceProviders.invalidate()
            await oidcClients.invalidate()
            await trustAnchors.invalidate()
            await trustMarks.invalidate()
        }
        if everything || table == "signing_key" {
            await samlKeys.invalidate()
            await oidcKeys.invalidate()
            await federationKeys.invalidate()
        }
    }

    /// The listeners and watchers; `changes`, when storage is shared with other instances, makes their trust,
    /// registration and key changes reach this one at once (polling stays as the fallback).
    public func services(changes: (any StorageChangeNotifying)? = nil) throws -> [any Service] {
        let chain = try NIOSSLCertificate.fromPEMFile(configuration.certificatePath).map { NIOSSLCertificateSource.certificate($0) }
        let key = NIOSSLPrivateKeySource.privateKey(try OpenSSLServerKey(pemFile: configuration.privateKeyPath).map { NIOSSLPrivateKey(customPrivateKey: $0) }
                                                    ?? NIOSSLPrivateKey(file: configuration.privateKeyPath, format: .pem))
        var publicTLS = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: key)
        publicTLS.minimumTLSVersion = .tlsv12
        publicTLS.cipherSuites = Self.forwardSecretCipherSuites
        var cardTLS = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: key)
        cardTLS.minimumTLSVersion = .tlsv12
        cardTLS.cipherSuites = Self.forwardSecretCipherSuites
        cardTLS.maximumTLSVersion = configuration.cardMaximumTLSVersion
        cardTLS.certificateVerification = .optionalVerification
        cardTLS.sendCANameList = configuration.sendCertificateAuthorityNames
        let contexts = cardContexts
        contexts.replaceConfiguration(cardTLS)
        if (try? contexts.sharesOneContext()) == false {
            logger.warning("card listener: cnsgw cannot turn TLS session tickets off in the swift-nio-ssl it was built with, so every connection gets a TLS context of its own (logins work and are never resumed, handshakes are slower); build it with the swift-nio-ssl version it was released with")
        }

        let limits = configuration.limits
        let publicTLSConfiguration = publicTLS
        let http = HTTP1Channel.Configuration(idleTimeout: .milliseconds(Int64(limits.idleTimeout * 1000)))
        let publicLimiter = ConnectionLimiter(name: "public", maximum: limits.maximumConnections, maximumPerAddress: limits.maximumConnectionsPerAddress,
                                              exempt: configuration.proxies.trusted)
        let cardLimiter = ConnectionLimiter(name: "card", maximum: limits.maximumConnections, maximumPerAddress: limits.maximumConnectionsPerAddress,
                                            exempt: configuration.proxies.trusted)
        let publicApp = Application(
            router: publicRouter(),
            server: HTTPServerBuilder { responder in
                GuardedChannel(try TLSChannel(HTTP1Channel(responder: responder, configuration: http), tlsConfiguration: publicTLSConfiguration),
                               limiter: publicLimiter, headerTimeout: limits.headerTimeout)
            },
            configuration: .init(address: .hostname(configuration.publicHost, port: configuration.publicPort), serverName: "cnsgw"),
            logger: logger)
        let cardApp = Application(
            router: cardRouter(),
            server: HTTPServerBuilder { responder in
                GuardedChannel(try CardTLSChannel(HTTP1Channel(responder: responder, configuration: http), contexts: contexts),
                               limiter: cardLimiter, headerTimeout: limits.headerTimeout)
            },
            configuration: .init(address: .hostname(configuration.cardHost, port: configuration.cardPort), serverName: "cnsgw"),
            logger: logger)
        var services: [any Service] = [publicApp, cardApp, TrustWatcher(trust: trust, logger: logger)]
        if let changes { services.append(StorageChangeWatcher(changes: changes, application: self)) }
        if let metrics, let port = configuration.metricsPort {
            // Metrics on their own plain-HTTP address (a scraper inside the network), not on the public listener.
            let router = Router()
            router.get("/metrics") { _, _ -> Response in Self.metricsResponse(metrics) }
            services.append(Application(router: router, configuration: .init(address: .hostname(configuration.metricsHost, port: port), serverName: "cnsgw"),
                                        logger: logger))
        }
        return services
    }

    /// TLS 1.2 suites with forward secrecy and AEAD only (TLS 1.3's are all so). Card keys (RSA-1024/2048) sign the
    /// handshake whatever the suite, so every card still logs in.
    static let forwardSecretCipherSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    static func metricsResponse(_ metrics: PrometheusCollectorRegistry) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: metrics.emitToString())))
    }

    /// Paths whose requests create state (pending logins, codes, audit records): rate-limited per client address.
    static let limitedPaths: Set<String> = ["/saml/sso", "/oidc/authorize", "/oidc/token", "/login/card", "/login/consent", "/saml/slo", "/oidc/logout"]

    func publicRouter() -> Router<PublicRequestContext> {
        let router = Router(context: PublicRequestContext.self)
        router.add(middleware: RequestGuard(proxies: configuration.proxies, limiter: requestLimiter, limitedPaths: Self.limitedPaths, refusals: refusals))
        router.add(middleware: StorageOutageGuard(application: self))
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { [self] _, _ -> Response in
            do {
                let store = try await trust.trustStore()
                guard !store.anchors.isEmpty else {
                    return Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "no trusted CA configured\n")))
                }
                for use in SigningKeyRecord.uses where try await !storage.signingKeys(use: use).contains(where: { $0.state == .active }) {
                    return Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "no active \(use) signing key\n")))
                }
                let now = Date()
                let stale = await revocation.crlStore.status().filter { s in s.nextUpdate.map { $0 < now } ?? false }
                guard stale.isEmpty else {
                    let list = stale.map { "\($0.source) (nextUpdate \($0.nextUpdate!))" }.joined(separator: ", ")
                    return Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "CRLs past nextUpdate: \(list)\n")))
                }
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready: \(store.anchors.count) trusted CAs\n")))
            } catch {
                return Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "storage unavailable: \(error)\n")))
            }
        }
        if let metrics, configuration.metricsPort == nil {
            router.get("/metrics") { _, _ -> Response in Self.metricsResponse(metrics) }
        }
        router.get("/") { [self] request, _ -> Response in
            html(pages(for: request).index(cardURL: "\(configuration.cardURL)/login/card"), status: .ok)
        }
        router.get("/help") { [self] request, _ -> Response in html(pages(for: request).help(), status: .ok) }
        let saml = SAMLController(engine: samlEngine, application: self)
        router.get("/saml/metadata") { request, _ in try await saml.metadata(request) }
        router.get("/saml/sso") { request, context in try await saml.singleSignOn(request, context) }
        router.post("/saml/sso") { request, context in try await saml.singleSignOn(request, context) }
        router.get("/saml/continue") { request, context in try await saml.continueLogin(request, context) }
        router.get("/saml/slo") { request, context in try await saml.singleLogout(request, context) }
        router.post("/saml/slo") { request, context in try await saml.singleLogout(request, context) }
        let oidc = OIDCController(engine: oidcEngine, sessions: sessionEnding, application: self)
        let tokens = OIDCTokenController(engine: oidcEngine, refusals: refusals)
        router.get("/.well-known/openid-configuration") { request, _ in try await oidc.discovery(request) }
        let federation = FederationController(settings: configuration.federationSettings, provider: oidcProvider, federationKeys: federationKeys,
                                              providerKeys: oidcKeys, trustMarks: trustMarks)
        router.get("/.well-known/openid-federation") { request, _ in try await federation.entityConfiguration(request) }
        router.get("/oidc/jwks") { request, _ in try await oidc.jwks(request) }
        router.get("/oidc/authorize") { request, context in try await oidc.authorize(request, context) }
        router.post("/oidc/authorize") { request, context in try await oidc.authorize(request, context) }
        router.get("/oidc/continue") { request, context in try await oidc.continueLogin(request, context) }
        router.post("/oidc/token") { request, context in try await tokens.token(request, context) }
        router.get("/oidc/userinfo") { request, context in try await tokens.userinfo(request, context) }
        router.post("/oidc/userinfo") { request, context in try await tokens.userinfo(request, context) }
        router.post("/oidc/revoke") { request, context in try await tokens.revocation(request, context) }
        router.post("/oidc/introspect") { request, context in try await tokens.introspection(request, context) }
        router.get("/oidc/logout") { request, context in try await oidc.endSession(request, context) }
        router.post("/oidc/logout") { request, context in try await oidc.endSession(request, context) }
        return router
    }

    func cardRouter() -> Router<CardRequestContext> {
        let router = Router(context: CardRequestContext.self)
        router.add(middleware: RequestGuard(proxies: configuration.proxies, limiter: requestLimiter, limitedPaths: Self.limitedPaths, refusals: refusals))
        router.add(middleware: StorageOutageGuard(application: self))
        let controller = CardLoginController(application: self)
        router.get("/login/card") { request, context in try await controller.card(request, context) }
        let consent = ConsentController(application: self)
        router.post("/login/consent") { request, context in try await consent.consent(request, context) }
        router.get("/healthz") { _, _ in "ok\n" }
        return router
    }

    /// The pages of one request, in its language (`?lang=`, else `Accept-Language`).
    func pages(for request: Request) -> CardLoginPages {
        let params = request.uri.queryParameters
        let lang = PageRenderer.language(query: params.get("lang"), acceptLanguage: request.headers[.acceptLanguage])
        var keep: [String: String] = [:]
        if let login = params.get("login") { keep["login"] = login }
        return CardLoginPages(renderer: renderer, lang: lang, path: request.uri.path, query: keep, helpURL: configuration.publicURL + "/help")
    }

    /// The name citizens know a login's service by, in `lang`: a SAML SP's display name (the admin's, else its
    /// metadata's `mdui:DisplayName` or `OrganizationDisplayName`), an OIDC client's (the admin's, its `client_name`,
    /// else its federation organisation's); failing all, the host of its entity or client ID rather than the whole ID.
    func serviceName(of requester: String, lang: PageRenderer.Language) async -> String {
        if let (registration, metadata) = try? await serviceProviders.snapshot()[requester],
           let name = registration.displayName(language: lang.rawValue, metadata: metadata) {
            return name
        }
        if let name = try? await oidcClients.snapshot()[requester]?.serviceName { return name }
        return hostNames.name(of: requester)
    }

    /// `pages` naming the service of `record`.
    func pages(_ pages: CardLoginPages, naming record: PendingLoginRecord) async -> CardLoginPages {
        var named = pages
        named.service = await serviceName(of: record.requester, lang: pages.lang)
        return named
    }

    func html(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Reloads the trust store every second when the stored CAs changed, so an admin's change reaches the card
/// listener's CA names (and the next decision) without waiting for a login.
struct TrustWatcher: Service {
    let trust: TrustStoreProvider
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { _ = try await trust.trustStore() } catch { logger.error("cannot read the trusted CAs", metadata: ["error": "\(error)"]) }
                try? await Task.sleep(nanoseconds: 1_000_000_000)
            }
        }
    }
}

/// Applies storage change notifications to the application's snapshots.
struct StorageChangeWatcher: Service {
    let changes: any StorageChangeNotifying
    let application: GatewayApplication

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await table in changes.changedTables() {
                await application.storageChanged(table)
            }
        }
    }
}
