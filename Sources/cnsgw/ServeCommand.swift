import ArgumentParser
import CNSTestPKI
import CNSValidation
import Foundation
import GatewayAudit
import GatewayConfiguration
import GatewayKeys
import GatewayLogin
import GatewayServer
import GatewayStorage
import GatewayStoragePostgres
import ItalianIdentity
import KeyMaterial
import Logging
import Metrics
import OIDC
import OpenIDFederation
import OutboundHTTP
import Prometheus
import RequestDecoding
import SAML
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway: a public HTTPS listener and a card listener that asks for the TS-CNS certificate.",
        discussion: """
        With an empty data folder it sets up an embedded default: SQLite database, a self-signed server certificate, \
        and a demo test PKI with demo cards (PKCS#12 for browser import) whose CA it trusts. Stop with SIGINT/SIGTERM.
        """
    )

    @OptionGroup var data: DataDirectoryOptions
    @Option(help: "A settings file (see Config/gateway.yaml); default $CNSGW_CONFIG, else none (built-in defaults). CNSGW_* variables and these options override it.")
    var config: String?
    @Option(help: "Address of both listeners (public.host, card.host).") var host: String?
    @Option(help: "Port of the public listener (public.port).") var publicPort: Int?
    @Option(help: "Port of the card listener, which asks for the client certificate (card.port).") var cardPort: Int?
    @Option(help: "Highest TLS version on the card listener: 1.2 or 1.3; cards without RSA-PSS need 1.2 (card.max_tls_version).") var cardMaxTLS: String?
    @Flag(help: "Send the trusted CAs' names in the certificate request (card.send_ca_names).") var sendCANames = false
    @Flag(help: "Do not create the demo PKI or trust its CA (demo: false).") var noDemo = false
    @Option(help: "Days the audit log keeps records; SPID: 24 months (audit.retention).") var auditRetentionDays: Int?
    @Option(help: "Seconds between checks for CRLs due for refresh, and updates of crl-status.json (crl.refresh_interval).") var crlRefreshInterval: Double?
    @Option(help: "A folder of page templates and strings replacing the built-in ones, see Templates/README.md (templates).") var templates: String?
    @Option(name: .customLong("trusted-proxy"), help: "Address of a reverse proxy allowed to forward the client certificate in a header, repeatable (card.trusted_proxies).")
    var trustedProxies: [String] = []
    @Option(help: "The one header a trusted proxy forwards the certificate in: rfc9440, nginx or apache (card.proxy_certificate_header).")
    var proxyCertificateHeader: String?

    /// The settings: defaults, the file, `CNSGW_*` variables, then this command's options.
    func settings() throws -> GatewaySettings {
        let environment = ProcessInfo.processInfo.environment
        var s: GatewaySettings
        do { s = try SettingsLoader.load(file: config ?? environment["CNSGW_CONFIG"], environment: environment) } catch let error as SettingsError {
            throw UsageError("cnsgw serve: \(error)")
        }
        if let dir = data.dataDirOption { s.dataDirectory = dir }
        if let url = data.storageURLOption { s.storageURL = url.isEmpty ? nil : url }
        if let host { s.publicListener.host = host; s.cardListener.host = host }
        if let publicPort { s.publicListener.port = publicPort }
        if let cardPort { s.cardListener.port = cardPort }
        if let cardMaxTLS {
            guard ["1.2", "1.3"].contains(cardMaxTLS) else { throw UsageError("--card-max-tls must be 1.2 or 1.3, not '\(cardMaxTLS)'") }
            s.cardMaximumTLSVersion = cardMaxTLS
        }
        if sendCANames { s.sendCertificateAuthorityNames = true }
        if noDemo { s.demo = false }
        if let auditRetentionDays { s.auditRetention = TimeInterval(auditRetentionDays) * 86_400 }
        if let crlRefreshInterval { s.crlRefreshInterval = max(1, crlRefreshInterval) }
        if let templates { s.templates = templates }
        if !trustedProxies.isEmpty { s.trustedProxies = trustedProxies }
        if let proxyCertificateHeader {
            guard ["rfc9440", "nginx", "apache"].contains(proxyCertificateHeader) else {
                throw UsageError("--proxy-certificate-header must be rfc9440, nginx or apache, not '\(proxyCertificateHeader)'")
            }
            s.proxyCertificateHeader = proxyCertificateHeader
        }
        return s
    }

    func run() async throws {
        let settings = try settings()
        CNSGW.bootstrapLogging(format: GatewayLogHandler.Format(rawValue: settings.logFormat) ?? .text)
        var logger = Logger(label: "cnsgw.serve")
        logger.logLevel = Logger.Level(rawValue: settings.logLevel) ?? .info
        var data = self.data
        data.dataDir = settings.dataDirectory
        data.storageURL = settings.storageURL
        if let file = settings.storagePasswordFile { data.storagePasswordFile = file }
        // The process-wide metrics backend, set once here at the top: libraries only emit through swift-metrics.
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(MetricHandlerCache(PrometheusMetricsFactory(registry: registry)))
        let certificatePath = settings.inDataDirectory(settings.tlsCertificate, default: "server.pem")
        let keyPath = settings.inDataDirectory(settings.tlsPrivateKey, default: "server.key")
        let kekPath = settings.inDataDirectory(settings.keyEncryptionKeyFile, default: "keys.kek")
        // Keys and the database are the gateway's alone: an existing folder or key file others can read stops start-up
        // before anything is opened or written.
        try data.requirePrivateFiles([(keyPath, "tls.private_key"), (kekPath, "keys.encryption_key_file"),
                                      (settings.inDataDirectory(settings.auditPseudonymKeyFile, default: "audit-pseudonym.key"), "audit.pseudonym_key_file")])
        let (storage, changes) = try await data.openSharedStorage(keyFile: kekPath, key: settings.keyEncryptionKey)
        logger.info("storage", metadata: ["database": "\(settings.storageURL.map(PostgresStorageSettings.redacted) ?? data.databasePath)"])
        logger.info("allocator", metadata: ["malloc": "\(Allocator.description)"])
        if settings.tlsCertificate == nil && settings.tlsPrivateKey == nil {
            try ensureServerCertificate(certificatePath: certificatePath, keyPath: keyPath)
        } else {
            for (key, path) in [("tls.certificate", certificatePath), ("tls.private_key", keyPath)] where !FileManager.default.isReadableFile(atPath: path) {
                throw UsageError("cnsgw serve: setting \(key): cannot read \(path)")
            }
        }
        let demoDirectory = (settings.dataDirectory as NSString).appendingPathComponent("demo-pki")
        if settings.demo { try await ensureDemo(storage, demoDirectory: demoDirectory) }
        try await ensureSigningKeys(storage, logger: logger)
        let pseudonymKey = settings.auditPseudonymiseCodiceFiscale
            ? try loadOrCreateKey(settings.inDataDirectory(settings.auditPseudonymKeyFile, default: "audit-pseudonym.key"), setting: "audit.pseudonym_key_file")
            : nil

        let transport = GuardedHTTPTransport(allowPrivateAddresses: settings.outboundAllowPrivateAddresses)
        let crlStore = CRLStore(configuration: .init(cacheDirectory: (settings.dataDirectory as NSString).appendingPathComponent("crl-cache")), transport: transport)
        var configuration = GatewayServerConfiguration(
            publicHost: settings.publicListener.host, publicPort: settings.publicListener.port,
            cardHost: settings.cardListener.host, cardPort: settings.cardListener.port,
            certificatePath: certificatePath, privateKeyPath: keyPath,
            cardMaximumTLSVersion: settings.cardMaximumTLSVersion == "1.2" ? .tlsv12 : .tlsv13,
            sendCertificateAuthorityNames: settings.sendCertificateAuthorityNames,
            sessions: SessionPolicy(levels: Set(settings.ssoLevels.compactMap(SpidLevel.init(rawValue:))), lifetime: settings.ssoLifetime))
        configuration.proxies = ProxyPolicy(trusted: Set(settings.trustedProxies),
                                            certificateHeader: ProxyCertificateHeader.Format(rawValue: settings.proxyCertificateHeader) ?? .nginx,
                                            addressHeader: ForwardedAddressHeader(rawValue: settings.clientAddressHeader) ?? .xForwardedFor)
        configuration.limits = settings.limits
        configuration.metricsHost = settings.metricsHost
        configuration.metricsPort = settings.metricsPort > 0 ? settings.metricsPort : nil
        configuration.publicBaseURL = settings.publicListener.url
        configuration.cardBaseURL = settings.cardListener.url
        configuration.loginLifetime = settings.loginLifetime
        configuration.auditPseudonymKey = pseudonymKey
        configuration.certificateCacheSize = settings.certificateCacheSize
        configuration.oidcCodeLifetime = settings.oidcCodeLifetime
        configuration.oidcAccessTokenLifetime = settings.oidcAccessTokenLifetime
        configuration.oidcRefreshTokenLifetime = settings.oidcRefreshTokenLifetime
        configuration.federation = FederationSettings(
            entityID: configuration.publicURL, authorityHints: settings.federationAuthorityHints, organizationName: settings.federationOrganizationName,
            homepageURI: settings.federationHomepageURI, policyURI: settings.federationPolicyURI, logoURI: settings.federationLogoURI,
            contacts: settings.federationContacts, configurationLifetime: settings.federationConfigurationLifetime,
            limits: .init(maximumIntermediates: settings.federationMaximumIntermediates, maximumFetches: settings.federationMaximumFetches,
                          timeout: settings.federationFetchTimeout))
        configuration.federationRefusalCache = settings.federationRefusalCache
        let server = GatewayApplication(
            configuration: configuration,
            storage: storage, revocation: RevocationChecker(crlStore: crlStore, ocsp: OCSPClient(transport: transport)),
            identityMapper: CNSSubjectMapper(registry: try? BelfioreRegistry.bundled()), pages: try await PageRenderer.load(directory: settings.templates),
            metrics: registry, logger: logger, backchannel: transport)
        let refresher = CRLRefreshService(store: crlStore, revocation: server.revocation, statusPath: (settings.dataDirectory as NSString).appendingPathComponent("crl-status.json"),
                                          interval: settings.crlRefreshInterval)
        let housekeeping = HousekeepingService(storage: storage, auditRetention: settings.auditRetention, logger: logger)
        let rotation = KeyRotation(storage: storage, policy: KeyRotation.Policy(publishDelay: settings.keyPublishDelay, retention: settings.keyRetention,
                                                                               rotateEvery: settings.keyRotateEvery), generate: SigningKeyFactory.generator)
        let keyRotation = KeyRotationService(rotation: rotation, interval: min(60, max(1, settings.crlRefreshInterval)), logger: logger)
        let metadataRefresh = RegistrationRefreshService<ServiceProviderRegistration>(storage: storage, transport: transport,
                                                                                        interval: settings.crlRefreshInterval, logger: logger)
        let checkpoints = AuditCheckpointService(storage: storage, file: settings.inDataDirectory(settings.auditCheckpointFile, default: "audit-checkpoints.jsonl"),
                                                 interval: settings.auditCheckpointInterval, logger: logger)
        let clientKeys = RegistrationRefreshService<ClientRegistration>(storage: storage, transport: transport, interval: settings.oidcJWKSRefreshInterval,
                                                                        waitFirst: true, logger: logger)
        let group = ServiceGroup(configuration: .init(services: try server.services(changes: changes) + [refresher, housekeeping, metadataRefresh, clientKeys, keyRotation, checkpoints], gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger))
        say("cnsgw: public listener \(server.configuration.publicURL)  card listener \(server.configuration.cardURL)/login/card")
        if settings.demo {
            say("cnsgw: demo cards in \(demoDirectory)/cards/*.p12 (password \(TestPKI.pkcs12Password)); import one in the browser and open \(server.configuration.cardURL)/login/card")
        }
        try await group.run()
    }

    /// A 32-byte secret kept in a file readable by the gateway only; generated when missing.
    func loadOrCreateKey(_ path: String, setting: String) throws -> Data {
        if let existing = FileManager.default.contents(atPath: path) {
            guard existing.count >= 32 else { throw UsageError("cnsgw serve: setting \(setting): \(path) holds fewer than 32 bytes") }
            return existing
        }
        var random = SystemRandomNumberGenerator()
        let key = Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &random) })
        guard FileManager.default.createFile(atPath: path, contents: key, attributes: [.posixPermissions: 0o600]) else {
            throw UsageError("cnsgw serve: setting \(setting): cannot write \(path)")
        }
        return key
    }

    /// A self-signed certificate for 127.0.0.1/localhost, generated once (a development key, never committed).
    func ensureServerCertificate(certificatePath: String, keyPath: String) throws {
        guard !FileManager.default.fileExists(atPath: certificatePath) else { return }
        let made = try SigningKeyFactory.developmentServerCertificate()
        try made.certificatePEM.write(toFile: certificatePath, atomically: true, encoding: .utf8)
        guard FileManager.default.createFile(atPath: keyPath, contents: Data(made.privateKeyPEM.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw UsageError("cannot write \(keyPath)")
        }
    }

    /// The demo PKI and, when no CA is trusted yet, its CA (CRL read from the demo folder, so no server is needed).
    func ensureDemo(_ storage: any GatewayStorage, demoDirectory: String) async throws {
        if !FileManager.default.fileExists(atPath: (demoDirectory as NSString).appendingPathComponent("pki.json")) {
            var pki = try TestPKI.initialize(at: demoDirectory, crlURL: "http://127.0.0.1:18080/crl.der", ocspURL: "http://127.0.0.1:18081")
            _ = try pki.issueCard(codiceFiscale: "RCCMNL83S18D969H", givenName: "Mario", surname: "Rossi")
            _ = try pki.issueCard(codiceFiscale: "RSSMRA80A01H501U", givenName: "Maria", surname: "Verdi", revoked: true)
        }
        guard try await storage.trustedCAs().isEmpty else { return }
        let pki = try TestPKI.open(at: demoDirectory)
        let policy = AnchorPolicy(revocation: RevocationPolicy(order: .crlOnly, crlSources: [pki.path("crl.der")]))
        try await addTrustedCA(pki.ca, name: "Demo - " + (pki.ca.subjectAttribute("2.5.4.3") ?? "CA"), policy: policy, storage: storage,
                               by: "cnsgw serve (embedded default)")
    }
}

/// Keeps CRLs fresh in the background while the server runs.
struct CRLRefreshService: Service {
    let store: CRLStore
    let revocation: RevocationChecker
    /// Where the running gateway publishes its CRL sources' state for `cnsgw crl status`.
    let statusPath: String
    let interval: TimeInterval
    func run() async throws {
        await periodically(every: interval) {
            await store.refreshDue()
            let now = Date()
            let status = await store.status()
            CRLStatusFile.write(status, ocsp: await revocation.ocspStatus(), to: statusPath, at: now)
            for source in status {
                if let thisUpdate = source.thisUpdate {
                    Gauge(label: "cnsgw_crl_age_seconds", dimensions: [("source", source.source)]).record(now.timeIntervalSince(thisUpdate))
                }
                if let nextUpdate = source.nextUpdate {
                    Gauge(label: "cnsgw_crl_seconds_to_next_update", dimensions: [("source", source.source)]).record(nextUpdate.timeIntervalSince(now))
                }
            }
        }
    }
}

/// Writes a line to standard output at once (print is block-buffered when the output is a pipe or a file).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Removes expired pending logins and replay entries, and audit records past the retention, every ten minutes.
struct HousekeepingService: Service {
    let storage: any GatewayStorage
    let auditRetention: TimeInterval
    let logger: Logger

    func run() async throws {
        await periodically(every: 600) {
            do {
                let removed = try await storage.garbageCollect(now: Date(), auditRetention: auditRetention)
                if removed.total > 0 {
                    logger.info("housekeeping", metadata: ["pendingLogins": "\(removed.pendingLogins)", "replayEntries": "\(removed.replayEntries)",
                                                           "auditRecords": "\(removed.auditRecords)", "sessions": "\(removed.sessions)",
                                                           "frontEndRecords": "\(removed.frontEndRecords)", "grants": "\(removed.grants)", "signingKeys": "\(removed.signingKeys)"])
                }
            } catch {
                logger.error("housekeeping failed", metadata: ["error": "\(error)"])
            }
        }
    }
}

extension ServeCommand {
    /// The gateway's own signing keys, generated at the first start when storage has none: an RSA-2048 key with a
    /// self-signed certificate for SAML (SPID: RSA ≥ 2048, SHA-256), and RS256 (required by the SPID/CIE OIDC
    /// profile) and ES256 keys for OIDC. Rotation: `cnsgw keys rotate` and the automatic schedule (KeyRotation).
    func ensureSigningKeys(_ storage: any GatewayStorage, logger: Logger) async throws {
        let now = Date()
        if try await storage.signingKeys(use: "saml").isEmpty {
            try await storage.addSigningKey(try SigningKeyFactory.make(use: "saml", algorithm: "RS256", now: now, state: .active))
            logger.notice("generated the SAML signing key")
        }
        let oidc = try await storage.signingKeys(use: "oidc")
        for algorithm in ["RS256", "ES256"] where !oidc.contains(where: { $0.algorithm == algorithm }) {
            try await storage.addSigningKey(try SigningKeyFactory.make(use: "oidc", algorithm: algorithm, now: now, state: .active))
            logger.notice("generated an OIDC signing key", metadata: ["alg": "\(algorithm)"])
        }
        // Relying parties may encrypt their request objects to the gateway (SPID/CIE: RSA-OAEP(-256)); a key of its own.
        if try await storage.signingKeys(use: "oidc-encryption").isEmpty {
            try await storage.addSigningKey(try SigningKeyFactory.make(use: "oidc-encryption", algorithm: "RSA-OAEP", now: now, state: .active))
            logger.notice("generated the OIDC decryption key")
        }
        // OpenID Federation statements are signed with keys of their own, never with the OIDC token keys.
        if try await storage.signingKeys(use: "federation").isEmpty {
            try await storage.addSigningKey(try SigningKeyFactory.make(use: "federation", algorithm: "RS256", now: now, state: .active))
            logger.notice("generated the OpenID Federation signing key")
        }
    }
}

/// Runs the key rollover schedule: promotes published `next` keys, rotates old active ones.
struct KeyRotationService: Service {
    let rotation: KeyRotation
    let interval: TimeInterval
    let logger: Logger

    func run() async throws {
        await periodically(every: interval) {
            do {
                let changes = try await rotation.runDue(uses: SigningKeyRecord.uses, now: Date())
                for change in changes {
                    logger.notice("signing key rollover", metadata: ["change": "\(change)"])
                    try await AuditLog(storage: rotation.storage).append(kind: "admin", fields: ["action": "keys.rollover", "change": change])
                }
            } catch {
                logger.error("signing key rollover failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
