import CNSTestSupport
import Foundation
import GatewayStorage
import GatewayStoragePostgres
import StorageConformance
import Testing

/// The PostgreSQL backend against a real server started for this suite (Debian's binaries, on 127.0.0.1).
@Suite(.serialized) final class PostgresGatewayStorageTests: @unchecked Sendable {
    // @unchecked Sendable: `server` is set once in init.
    let server: PostgresServer

    init() throws { server = try PostgresServer() }
    deinit { server.destroy() }

    /// A storage on `url`; operations get 30 s unless the URL sets its own `timeout` (the whole suite runs in parallel
    /// on two cores, where a connection's TLS and SCRAM handshake alone can take seconds).
    func storage(_ url: String, passwordFile: String? = nil) async throws -> PostgresGatewayStorage {
        let url = url.contains("timeout=") ? url : url + (url.contains("?") ? "&" : "?") + "timeout=30"
        return try await PostgresGatewayStorage(settings: PostgresStorageSettings(url: url, passwordFile: passwordFile))
    }

    @Test("passes the GatewayStorage conformance suite, concurrent writers included")
    func conformance() async throws {
        let server = server
        try await StorageConformance.run { try await self.storage(try server.createDatabase()) }
    }

    @Test("two pools on one database (two instances) keep one audit chain and one winner per redemption")
    func twoInstances() async throws {
        let url = try server.createDatabase()
        let a = try await storage(url)
        let b = try await storage(url)
        try await StorageConformance.sharedDatabase(a, b)
    }

    @Test("instances starting together migrate the schema once")
    func migrationsOnce() async throws {
        let url = try server.createDatabase()
        let opened = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 { group.addTask { _ = try await self.storage(url); return 1 } }
            return try await group.reduce(0, +)
        }
        #expect(opened == 4)
        let s = try await storage(url)
        #expect(try await s.holdsNoRecords())
        try await s.addTrustedCA(TrustedCARecord(id: "a", name: "A", certificateDER: Data([1]), policyJSON: Data("{}".utf8), addedAt: Date()))
        #expect(try await !s.holdsNoRecords())
    }

    @Test("TLS: verify-full against the server's certificate works, a wrong root is refused, the password can come from a file")
    func transportSecurity() async throws {
        let url = try server.createDatabase()
        let verified = try await storage(url + "?sslmode=verify-full&sslrootcert=\(server.certificatePath)")
        #expect(try await verified.trustedCAs().isEmpty)

        let wrongRoot = NSTemporaryDirectory() + "cnsgw-wrong-root-\(UUID().uuidString).pem"
        _ = try runCommand("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=other",
                                       "-keyout", wrongRoot + ".key", "-out", wrongRoot])
        await #expect(throws: StorageError.self) { _ = try await self.storage(url + "?sslmode=verify-full&sslrootcert=\(wrongRoot)&timeout=3") }

        var components = URLComponents(string: url)!
        let passwordFile = NSTemporaryDirectory() + "cnsgw-pgpass-\(UUID().uuidString)"
        try (components.password! + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)
        components.password = "wrong"
        let fromFile = try await storage(components.string! + "?sslmode=require", passwordFile: passwordFile)
        #expect(try await fromFile.trustedCAs().isEmpty)
        await #expect(throws: StorageError.self) { _ = try await self.storage(components.string! + "?timeout=3") }
    }

    @Test("every instance hears of trust, registration and key changes at once, and again after the database restarts")
    func changeNotifications() async throws {
        let url = try server.createDatabase()
        let listener = try await storage(url + "?timeout=2")
        let writer = try await storage(url)
        var changes = listener.changedTables().makeAsyncIterator()
        #expect(await changes.next() == "*")
        let started = ContinuousClock.now
        try await writer.addTrustedCA(TrustedCARecord(id: "n", name: "N", certificateDER: Data([1]), policyJSON: Data("{}".utf8), addedAt: Date()))
        #expect(await changes.next() == "trusted_ca")
        #expect(ContinuousClock.now - started < .seconds(1))
        try await writer.addRegistration(RegistrationRecord(kind: "client", id: "c", json: Data("{}".utf8), createdAt: Date(), updatedAt: Date()))
        #expect(await changes.next() == "registration")
        try await writer.addSigningKey(SigningKeyRecord(id: "k", use: "oidc", algorithm: "ES256", privateKeyPEM: "x", state: .next, createdAt: Date()))
        #expect(await changes.next() == "signing_key")
        // Writes elsewhere are not announced (they change no snapshot).
        try await writer.createPendingLogin(StorageConformance.login("quiet"))
        try await writer.removeTrustedCA(id: "n")
        #expect(await changes.next() == "trusted_ca")

        try server.stop(mode: "immediate")
        try await Task.sleep(for: .milliseconds(500))
        try server.start()
        #expect(await changes.next() == "*")
        try await writer.removeRegistration(kind: "client", id: "c")
        #expect(await changes.next() == "registration")
    }

    @Test("settings: bad URLs are refused with the reason; the password never appears in messages")
    func settings() throws {
        #expect(throws: StorageError.self) { try PostgresStorageSettings(url: "mysql://u:p@h/db") }
        #expect(throws: StorageError.self) { try PostgresStorageSettings(url: "postgres://u:p@h:5432/") }
        #expect(throws: StorageError.self) { try PostgresStorageSettings(url: "postgres://u:p@db.example.it/db?sslmode=verify-full") }
        #expect(throws: StorageError.self) { try PostgresStorageSettings(url: "postgres://u:p@h/db?pool_size=0") }
        #expect(throws: StorageError.self) { try PostgresStorageSettings(url: "postgres://u:p@h/db?sslmod=require") }
        let remote = try PostgresStorageSettings(url: "postgres://gw:s3cret@db.example.it:6432/cnsgw?pool_size=20&timeout=2.5")
        #expect(remote.sslMode == .require && remote.port == 6432 && remote.poolSize == 20 && remote.operationTimeout == .milliseconds(2500))
        #expect(!remote.description.contains("s3cret"))
        #expect(PostgresStorageSettings.redacted("postgres://gw:s3cret@db/cnsgw") == "postgres://gw:***@db/cnsgw")
        let refusal = #expect(throws: StorageError.self) { try PostgresStorageSettings(url: "postgres://gw:s3cret@db.example.it/cnsgw?pool_size=x") }
        #expect(refusal?.detail.contains("pool_size") == true && refusal?.detail.contains("s3cret") == false)
        let unparsable = #expect(throws: StorageError.self) { try PostgresStorageSettings(url: "mysql://gw:s3cret@db/cnsgw") }
        #expect(unparsable?.detail.contains("s3cret") == false && unparsable?.detail.contains("***") == true)
    }

    @Test("a stopped database fails operations in time, and the same storage works again when it returns")
    func outageAndReconnect() async throws {
        let url = try server.createDatabase()
        let s = try await storage(url + "?timeout=2")
        try await s.createPendingLogin(StorageConformance.login("before"))
        try server.stop(mode: "immediate")
        let started = ContinuousClock.now
        await #expect(throws: StorageError(.unavailable, "")) { _ = try await s.pendingLogin(id: "before") }
        await #expect(throws: StorageError(.unavailable, "")) { _ = try await s.updatePendingLogin(id: "before") { var r = $0; r.state = .completed; return r } }
        #expect(ContinuousClock.now - started < .seconds(8))
        try server.start()
        var record: PendingLoginRecord?
        for _ in 0..<40 where record == nil {
            record = try? await s.pendingLogin(id: "before")
            if record == nil { try await Task.sleep(for: .milliseconds(250)) }
        }
        // Nothing was half-written: the failed update left the login as it was.
        #expect(record?.state == .awaitingCard && record?.version == 0)
    }

    @Test("a ten-second outage under concurrent load: every operation fails in time, and all work again soon after the database returns")
    func outageUnderLoad() async throws {
        let url = try server.createDatabase()
        let s = try await storage(url + "?timeout=2&pool_size=4")
        try await s.createPendingLogin(StorageConformance.login("busy"))
        let stop = ContinuousClock.now + .seconds(16)
        let server = server
        let outage = Task.detached {
            try await Task.sleep(for: .seconds(2))
            try server.stop(mode: "immediate")
            try await Task.sleep(for: .seconds(10))
            try server.start()
        }
        let slowest = try await withThrowingTaskGroup(of: Duration.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    var slowest = Duration.zero
                    while ContinuousClock.now < stop {
                        let started = ContinuousClock.now
                        _ = try? await s.updatePendingLogin(id: "busy") { $0 }
                        slowest = max(slowest, ContinuousClock.now - started)
                    }
                    return slowest
                }
            }
            return try await group.reduce(Duration.zero) { max($0, $1) }
        }
        try await outage.value
        #expect(slowest < .seconds(4), "an operation took \(slowest)")
        var recovered: ContinuousClock.Instant?
        let back = ContinuousClock.now
        while recovered == nil && ContinuousClock.now - back < .seconds(30) {
            if (try? await s.pendingLogin(id: "busy")) != nil { recovered = .now } else { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(recovered != nil, "the storage did not reconnect within 30 s of the database's return")
        print("outage under load: slowest operation \(slowest), back \(recovered.map { $0 - back } ?? .seconds(-1)) after the checks began")
    }

    @Test("a pool exhausted by slow statements gives a timely error, not a hang")
    func exhaustedPool() async throws {
        let url = try server.createDatabase()
        let s = try await storage(url + "?pool_size=1&timeout=1.5")
        try await s.createPendingLogin(StorageConformance.login("locked"))
        // Another client holds the row lock with a slow transaction (psql, a separate process): the updates wait for
        // it, and the deadline (with lock_timeout) ends the wait.
        let script = NSTemporaryDirectory() + "cnsgw-slow-\(UUID().uuidString).sql"
        try """
            BEGIN;
            SELECT id FROM pending_login WHERE id = 'locked' FOR UPDATE;
            SELECT 'row-lock-held';
            SELECT pg_sleep(5);
            COMMIT;
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let slow = try LocalService(["env", "PGPASSWORD=\(server.password)", "psql", "-h", "127.0.0.1", "-p", "\(server.port)", "-U", "cnsgw", "-d",
                                     URLComponents(string: url)!.path.replacingOccurrences(of: "/", with: ""), "-f", script], port: 0)
        defer { slow.stop() }
        let waitUntil = ContinuousClock.now + .seconds(30)
        while !slow.log.contains("row-lock-held") && ContinuousClock.now < waitUntil { try await Task.sleep(for: .milliseconds(50)) }
        #expect(slow.log.contains("row-lock-held"), "\(slow.log)")
        let started = ContinuousClock.now
        let failures = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    do { _ = try await s.updatePendingLogin(id: "locked") { $0 }; return false } catch let e as StorageError { return e.code == .unavailable }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(failures == 6)
        #expect(ContinuousClock.now - started < .seconds(4))
        while slow.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        // Nothing was written by the updates that gave up; one made now succeeds.
        #expect(try await s.pendingLogin(id: "locked")?.version == 0)
        #expect(try await s.updatePendingLogin(id: "locked") { $0 }.version == 1)
    }
}

