import ArgumentParser
import CNSTestPKI
import CNSValidation
import Foundation
import GatewayAudit
import GatewayServer
import GatewayStorage
import ItalianIdentity
import Logging
import Metrics
import Prometheus
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
    @Option(help: "Address of both listeners.") var host = "127.0.0.1"
    @Option(help: "Port of the public listener.") var publicPort = 8443
    @Option(help: "Port of the card listener (asks for the client certificate).") var cardPort = 8444
    @Option(help: "Highest TLS version on the card listener: 1.2 or 1.3 (cards without RSA-PSS need 1.2).") var cardMaxTLS = "1.3"
    @Flag(help: "Send the trusted CAs' names in the certificate request.") var sendCANames = false
    @Flag(help: "Do not create the demo PKI or trust its CA.") var noDemo = false
    @Option(help: "Days the audit log keeps records (SPID: 24 months).") var auditRetentionDays = 730
    @Option(help: "Seconds between checks for CRLs due for refresh (and updates of crl-status.json).") var crlRefreshInterval: Double = 30
    @Option(help: "A folder of page templates and strings replacing the built-in ones (see Templates/README.md).") var templates: String?
    @Option(name: .customLong("trusted-proxy"), help: "Address of a reverse proxy allowed to forward the client certificate in a header (repeatable).")
    var trustedProxies: [String] = []

    func run() async throws {
        let logger = Logger(label: "cnsgw.serve")
        // The process-wide metrics backend, set once here at the top: libraries only emit through swift-metrics.
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let storage = try data.openStorage()
        let certificatePath = (data.dataDir as NSString).appendingPathComponent("server.pem")
        let keyPath = (data.dataDir as NSString).appendingPathComponent("server.key")
        try ensureServerCertificate(certificatePath: certificatePath, keyPath: keyPath)
        if !noDemo { try await ensureDemo(storage) }

        let transport = URLSessionTransport()
        let crlStore = CRLStore(configuration: .init(cacheDirectory: (data.dataDir as NSString).appendingPathComponent("crl-cache")), transport: transport)
        let server = GatewayApplication(
            configuration: GatewayServerConfiguration(publicHost: host, publicPort: publicPort, cardHost: host, cardPort: cardPort,
                                                      certificatePath: certificatePath, privateKeyPath: keyPath,
                                                      cardMaximumTLSVersion: cardMaxTLS == "1.2" ? .tlsv12 : .tlsv13,
                                                      sendCertificateAuthorityNames: sendCANames, trustedProxies: Set(trustedProxies)),
            storage: storage, revocation: RevocationChecker(crlStore: crlStore, ocsp: OCSPClient(transport: transport)),
            identityMapper: CNSSubjectMapper(registry: try? BelfioreRegistry.bundled()), pages: try await PageRenderer.load(directory: templates),
            metrics: registry)
        let refresher = CRLRefreshService(store: crlStore, statusPath: (data.dataDir as NSString).appendingPathComponent("crl-status.json"),
                                          interval: max(1, crlRefreshInterval))
        let housekeeping = HousekeepingService(storage: storage, auditRetention: TimeInterval(auditRetentionDays) * 86_400, logger: logger)
        let group = ServiceGroup(configuration: .init(services: try server.services() + [refresher, housekeeping], gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger))
        say("cnsgw: public listener \(server.configuration.publicURL)  card listener \(server.configuration.cardURL)/login/card")
        if !noDemo {
            say("cnsgw: demo cards in \(demoDirectory)/cards/*.p12 (password \(TestPKI.pkcs12Password)); import one in the browser and open \(server.configuration.cardURL)/login/card")
        }
        try await group.run()
    }

    var demoDirectory: String { (data.dataDir as NSString).appendingPathComponent("demo-pki") }

    /// A self-signed certificate for 127.0.0.1/localhost, generated once (a development key, never committed).
    func ensureServerCertificate(certificatePath: String, keyPath: String) throws {
        guard !FileManager.default.fileExists(atPath: certificatePath) else { return }
        let key = try TestKey(.rsa2048)
        let cert = try TestCertificateBuilder(
            subject: [("CN", "cnsgw development server")], serial: TestPKI.randomSerial(), notBefore: Date() - 3600,
            notAfter: Date() + 825 * 86_400,
            extensions: [("basicConstraints", "critical,CA:FALSE"), ("keyUsage", "critical,digitalSignature,keyEncipherment"),
                         ("extendedKeyUsage", "serverAuth"), ("subjectAltName", "DNS:localhost,IP:127.0.0.1")]
        ).build(key: key, issuer: nil, issuerKey: key)
        try cert.pem.write(toFile: certificatePath, atomically: true, encoding: .utf8)
        guard FileManager.default.createFile(atPath: keyPath, contents: Data(key.pemPrivateKey.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw UsageError("cannot write \(keyPath)")
        }
    }

    /// The demo PKI and, when no CA is trusted yet, its CA (CRL read from the demo folder, so no server is needed).
    func ensureDemo(_ storage: any GatewayStorage) async throws {
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
    /// Where the running gateway publishes its CRL sources' state for `cnsgw crl status`.
    let statusPath: String
    let interval: TimeInterval
    func run() async throws {
        // The refresh loop ends when its task is cancelled, which a graceful shutdown does.
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await store.refreshDue()
                let now = Date()
                let status = await store.status()
                CRLStatusFile.write(status, to: statusPath, at: now)
                for source in status {
                    if let thisUpdate = source.thisUpdate {
                        Gauge(label: "cnsgw_crl_age_seconds", dimensions: [("source", source.source)]).record(now.timeIntervalSince(thisUpdate))
                    }
                    if let nextUpdate = source.nextUpdate {
                        Gauge(label: "cnsgw_crl_seconds_to_next_update", dimensions: [("source", source.source)]).record(nextUpdate.timeIntervalSince(now))
                    }
                }
                try? await Task.sleep(nanoseconds: UInt64(interval * 1_000_000_000))
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
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let removed = try await storage.garbageCollect(now: Date(), auditRetention: auditRetention)
                    if removed.total > 0 {
                        logger.info("housekeeping", metadata: ["pendingLogins": "\(removed.pendingLogins)", "replayEntries": "\(removed.replayEntries)",
                                                               "auditRecords": "\(removed.auditRecords)", "sessions": "\(removed.sessions)",
                                                               "oneTimeCodes": "\(removed.oneTimeCodes)", "signingKeys": "\(removed.signingKeys)"])
                    }
                } catch {
                    logger.error("housekeeping failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(nanoseconds: 600_000_000_000)
            }
        }
    }
}
