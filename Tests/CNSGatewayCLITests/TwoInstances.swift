import CNSTestSupport
import Foundation
import Testing

/// Two `cnsgw serve` processes on one PostgreSQL database, behind nginx (Debian's package) as the load balancer of
/// both listeners — the topology of docker/compose.yaml, with real processes on 127.0.0.1. Both publish nginx's
/// addresses; nginx connects from 127.0.0.2, the one trusted proxy, so a client on 127.0.0.1 can also reach each
/// instance directly with its card over TLS (the tests that choose the instance of each step do).
final class TwoInstances: @unchecked Sendable {
    // @unchecked Sendable: the fields are set once in init; the processes are stopped in `stop()`.
    let database: PostgresServer
    let url: String
    let kek: String
    let folder: String
    let pki: String
    let crlServer: LocalService
    private(set) var instances: [ServeCommandTests.Server] = []
    var balancer: LocalService!
    let balancerPublic: Int
    let balancerCard: Int
    static let card = "rccmnl83s18d969h"
    static let revokedCard = "rssmra80a01h501u"

    var issuer: String { "https://127.0.0.1:\(balancerPublic)" }
    var environment: [String] {
        ["CNSGW_STORAGE_URL=\(url)", "CNSGW_KEYS_ENCRYPTION_KEY=\(kek)", "CNSGW_PUBLIC_URL=https://127.0.0.1:\(balancerPublic)",
         "CNSGW_CARD_URL=https://127.0.0.1:\(balancerCard)", "CNSGW_CARD_TRUSTED_PROXIES=127.0.0.2", "CNSGW_CARD_PROXY_CERTIFICATE_HEADER=nginx",
         "CNSGW_LIMITS_REQUESTS_PER_SECOND=0", "CNSGW_LIMITS_MAX_CONNECTIONS_PER_ADDRESS=1000000", "CNSGW_OIDC_CODE_LIFETIME=900"]
    }

    /// When the served CRL stops being valid (nil: the test PKI's own, valid for a day).
    private(set) var crlNextUpdate: Date?

    /// `crlValidity`: seconds the served CRL is valid; at most a minute makes the instances fetch it again every
    /// `crl.refresh_interval` (1 s here), which the revocation fault test needs.
    /// `storageTimeout`: the instances' deadline per storage operation (a short one for the outage test; the others
    /// run beside the whole suite on two cores).
    init(extraEnvironment: [String] = [], crlValidity: TimeInterval? = nil, storageTimeout: Int = 15) throws {
        database = try PostgresServer()
        url = try database.createDatabase(query: "timeout=\(storageTimeout)")
        kek = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        folder = NSTemporaryDirectory() + "cnsgw-two-\(UUID().uuidString.prefix(8))"
        pki = folder + "/pki"
        let crlPort = LocalService.freePort()
        try Self.cnsgw(["testpki", "init", pki, "--crl-url", "http://127.0.0.1:\(crlPort)/crl.der"])
        try Self.cnsgw(["testpki", "card", pki, "--cf", "RCCMNL83S18D969H", "--given-name", "Mario", "--surname", "Rossi"])
        try Self.cnsgw(["testpki", "card", pki, "--cf", "RSSMRA80A01H501U", "--given-name", "Maria", "--surname", "Verdi", "--revoked"])
        if let crlValidity {
            try Self.cnsgw(["testpki", "big-crl", pki, "--entries", "0", "--hours", "\(crlValidity / 3600)", "--out", pki + "/crl.der"])
            crlNextUpdate = Date() + crlValidity
        }
        crlServer = try LocalService.httpServer(directory: pki, port: crlPort)
        try crlServer.waitUntilListening()
        balancerPublic = LocalService.freePort()
        balancerCard = LocalService.freePort()
        try admin(["ca", "add", pki + "/ca.pem", "--revocation", "crl-only"])
        for n in 0..<2 {
            instances.append(try ServeCommandTests.Server(["--no-demo"], data: folder + "/instance-\(n)", environment: environment + extraEnvironment))
        }
        try startBalancer()
    }

    deinit { stop() }

    func stop() {
        if let balancer { _ = balancer.terminate(timeout: 10); balancer.stop() }
        for instance in instances { instance.process.stop() }
        crlServer.stop()
        database.destroy()
    }

    /// An admin command on the shared database.
    @discardableResult
    func admin(_ arguments: [String]) throws -> CommandResult {
        let r = try runCommand("/usr/bin/env", ["CNSGW_STORAGE_URL=\(url)", "CNSGW_KEYS_ENCRYPTION_KEY=\(kek)", VerifyCommandTests.binary] + arguments
                               + ["--data-dir", folder + "/admin"])
        guard r.status == 0 else { throw ServiceError("cnsgw \(arguments.joined(separator: " ")) failed: \(r.stdout) \(r.stderr)") }
        return r
    }

    @discardableResult
    static func cnsgw(_ arguments: [String]) throws -> CommandResult {
        let r = try runCommand(VerifyCommandTests.binary, arguments)
        guard r.status == 0 else { throw ServiceError("cnsgw \(arguments.joined(separator: " ")) failed: \(r.stderr)") }
        return r
    }

    /// Restarts instance `n` (after a kill) on the same ports and data folder.
    func restart(_ n: Int) throws {
        instances[n].process.stop()
        instances[n] = try ServeCommandTests.Server(["--no-demo"], data: instances[n].data, ports: (instances[n].publicPort, instances[n].cardPort),
                                                    environment: environment)
    }

    /// A card login straight to instance `n`'s card listener: (status, body); status 0 when curl could not run.
    func cardLogin(_ n: Int, card: String = TwoInstances.card) -> (Int, String) {
        guard let r = try? runCommand("curl", ["-sk", "-o", "-", "-w", "\n%{http_code}", "--max-time", "20", "--cert", "\(pki)/cards/\(card).pem",
                                        "--key", "\(pki)/cards/\(card).key", "https://127.0.0.1:\(instances[n].cardPort)/login/card"]) else { return (0, "") }
        return (Int(r.stdout.split(separator: "\n").last ?? "") ?? 0, r.stdout)
    }

    /// The balancer: docker/nginx-balancer.conf as docker/compose.yaml mounts it, with this machine's addresses in
    /// place of the containers' (nginx connects to the instances from 127.0.0.2, their one trusted proxy).
    func startBalancer() throws {
        var site = try String(contentsOf: BrowserTests.repository.appendingPathComponent("docker/nginx-balancer.conf"), encoding: .utf8)
        let replacements = [
            ("gateway-a:8443", "127.0.0.1:\(instances[0].publicPort)"), ("gateway-b:8443", "127.0.0.1:\(instances[1].publicPort)"),
            ("gateway-a:8444", "127.0.0.1:\(instances[0].cardPort)"), ("gateway-b:8444", "127.0.0.1:\(instances[1].cardPort)"),
            ("proxy_bind 172.28.0.10;", "proxy_bind 127.0.0.2;"), ("/etc/nginx/tls/login.pem", folder + "/proxy.pem"),
            ("/etc/nginx/tls/login.key", folder + "/proxy.key"),
        ]
        for (from, to) in replacements {
            guard site.contains(from) else { throw ServiceError("docker/nginx-balancer.conf no longer has \(from)") }
            site = site.replacingOccurrences(of: from, with: to)
        }
        // The two `listen 443 ssl;`: the public server first, then the card server.
        for port in [balancerPublic, balancerCard] {
            guard let listen = site.range(of: "listen 443 ssl;") else { throw ServiceError("docker/nginx-balancer.conf lost a listen line") }
            site.replaceSubrange(listen, with: "listen 127.0.0.1:\(port) ssl;")
        }
        _ = try runCommand("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=cns.example.it",
                                       "-keyout", folder + "/proxy.key", "-out", folder + "/proxy.pem"])
        let n = folder + "/nginx"
        try FileManager.default.createDirectory(atPath: n + "/logs", withIntermediateDirectories: true)
        let conf = """
            daemon off;
            pid \(n)/nginx.pid;
            error_log \(n)/logs/error.log;
            worker_processes 1;
            events { worker_connections 4096; }
            http {
                access_log off;
                client_body_temp_path \(n)/body; proxy_temp_path \(n)/proxy; fastcgi_temp_path \(n)/fastcgi; uwsgi_temp_path \(n)/uwsgi; scgi_temp_path \(n)/scgi;
            \(site)
            }
            """
        try conf.write(toFile: n + "/nginx.conf", atomically: true, encoding: .utf8)
        balancer = try LocalService(["nginx", "-p", n, "-c", n + "/nginx.conf", "-e", n + "/logs/error.log"], port: balancerCard)
        try balancer.waitUntilListening(timeout: 20)
    }

    /// Resident memory of instance `n`, in kB.
    func residentKilobytes(_ n: Int) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(instances[n].process.pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}
