import CNSTestPKI
import CNSTestSupport
import CNSValidation
import Foundation
import ItalianIdentity
import KeyMaterial
import OutboundHTTP
import Testing

/// Revocation against real servers on 127.0.0.1: `openssl ocsp` and python's http.server serving CRLs.
@Suite(.serialized) struct RevocationServiceTests {
    struct Environment {
        var pki: TestPKI
        let ocspPort: Int
        let httpPort: Int
        let folder: String
        var crlURL: String { "http://127.0.0.1:\(httpPort)/crl.der" }
        var ocspURL: String { "http://127.0.0.1:\(ocspPort)" }

        init() throws {
            folder = NSTemporaryDirectory() + "cnsgw-pki-\(UUID().uuidString)"
            ocspPort = LocalService.freePort()
            httpPort = LocalService.freePort()
            pki = try TestPKI.initialize(at: folder, crlURL: "http://127.0.0.1:\(httpPort)/crl.der", ocspURL: "http://127.0.0.1:\(ocspPort)")
        }

        func verifier(_ order: RevocationPolicy.Order, softFail: TimeInterval? = nil, clock: TestClock = TestClock(),
                      timeout: TimeInterval = 5, crlSources: [String] = [], cacheDirectory: String? = nil) throws -> CNSVerifier {
            let policy = AnchorPolicy(revocation: RevocationPolicy(order: order, softFailMaxStaleness: softFail, crlSources: crlSources, networkTimeout: timeout))
            let transport = GuardedHTTPTransport(allowPrivateAddresses: true)
            let store = CRLStore(configuration: .init(cacheDirectory: cacheDirectory), transport: transport, now: { clock.now })
            return CNSVerifier(trustStore: try TrustStore(anchors: [TrustAnchor(certificate: pki.ca, policy: policy)]),
                               revocation: RevocationChecker(crlStore: store, ocsp: OCSPClient(transport: transport), now: { clock.now }),
                               identityMapper: CNSSubjectMapper(registry: nil))
        }

        /// A card from this CA that the OCSP database does not list.
        func unlistedCard() throws -> X509Certificate {
            try CertificateBuilder(subject: [("C", "IT"), ("CN", TestPKI.cardCommonName(codiceFiscale: "RCCMNL83S18D969H"))],
                                       serial: TestPKI.randomSerial(), notBefore: Date() - 86_400, notAfter: Date() + 86_400 * 30,
                                       extensions: TestPKI.cardProfile(crlURL: crlURL, ocspURL: ocspURL))
                .build(key: try PrivateKey(.rsa2048), issuer: pki.ca, issuerKey: pki.caKey)
        }
    }

    @Test("OCSP good, revoked and unknown from openssl ocsp; unknown falls back to the CRL")
    func ocspAnswers() async throws {
        var env = try Environment()
        let good = try env.pki.issueCard(codiceFiscale: "RCCMNL83S18D969H", givenName: "Mario", surname: "Rossi").certificate
        let revoked = try env.pki.issueCard(codiceFiscale: "RSSMRA80A01H501U", givenName: "Maria", surname: "Rossi", revoked: true).certificate
        let unlisted = try env.unlistedCard()
        let ocsp = try LocalService.openSSLOCSP(pkiDirectory: env.folder, port: env.ocspPort)
        defer { ocsp.stop() }
        let v = try env.verifier(.ocspOnly)
        let g = await v.verify(leaf: good, at: Date())
        #expect(g.valid, "\(g.detail)")
        #expect(g.revocation?.method == .ocsp && g.revocation?.source == env.ocspURL)
        let r = await v.verify(leaf: revoked, at: Date())
        #expect(r.reason == .revoked && r.revocation?.method == .ocsp && r.revocation?.reason == "keyCompromise")
        #expect(await v.verify(leaf: unlisted, at: Date()).reason == .revocationUnknown)
        let http = try LocalService.httpServer(directory: env.folder, port: env.httpPort)
        defer { http.stop() }
        let fallback = try await env.verifier(.ocspThenCRL).verify(leaf: unlisted, at: Date())
        #expect(fallback.valid && fallback.revocation?.method == .crl, "\(fallback.detail)")
    }

    @Test("an OCSP response signed by a responder the CA did not authorise is refused; nonce can be switched off")
    func unauthorisedResponder() async throws {
        var env = try Environment()
        let card = try env.pki.issueCard(codiceFiscale: "RCCMNL83S18D969H", givenName: "Mario", surname: "Rossi").certificate
        // A responder certificate with id-kp-OCSPSigning, but issued by another CA.
        let otherKey = try PrivateKey(.rsa2048)
        let otherCA = try CertificateBuilder(subject: [("CN", "Other CA")], serial: TestPKI.randomSerial(), notBefore: Date() - 86_400,
                                                 notAfter: Date() + 86_400, extensions: TestPKI.caProfile)
            .build(key: otherKey, issuer: nil, issuerKey: otherKey)
        let rogueKey = try PrivateKey(.rsa2048)
        let rogue = try CertificateBuilder(subject: [("CN", "Rogue responder")], serial: TestPKI.randomSerial(), notBefore: Date() - 86_400,
                                               notAfter: Date() + 86_400, extensions: [("keyUsage", "critical,digitalSignature"), ("extendedKeyUsage", "OCSPSigning")])
            .build(key: rogueKey, issuer: otherCA, issuerKey: otherKey)
        try rogue.pem.write(toFile: env.folder + "/rogue.pem", atomically: true, encoding: .utf8)
        try rogueKey.pemPrivateKey.write(toFile: env.folder + "/rogue.key", atomically: true, encoding: .utf8)
        let d = env.folder
        let responder = try LocalService(["openssl", "ocsp", "-index", "\(d)/index.txt", "-CA", "\(d)/ca.pem", "-rsigner", "\(d)/rogue.pem",
                                          "-rkey", "\(d)/rogue.key", "-port", "\(env.ocspPort)", "-nmin", "5"], port: env.ocspPort)
        try responder.waitUntilListening(marker: "waiting for OCSP client connections")
        let refused = try await env.verifier(.ocspOnly).verify(leaf: card, at: Date())
        #expect(refused.reason == .revocationUnknown)
        #expect(refused.detail.contains("not signed by"), "\(refused.detail)")
        responder.stop()

        let genuine = try LocalService.openSSLOCSP(pkiDirectory: env.folder, port: env.ocspPort)
        defer { genuine.stop() }
        let policy = AnchorPolicy(revocation: RevocationPolicy(order: .ocspOnly, ocspNonce: false))
        let transport = GuardedHTTPTransport(allowPrivateAddresses: true)
        let noNonce = CNSVerifier(trustStore: try TrustStore(anchors: [TrustAnchor(certificate: env.pki.ca, policy: policy)]),
                                  revocation: RevocationChecker(crlStore: CRLStore(configuration: .init(), transport: transport), ocsp: OCSPClient(transport: transport)),
                                  identityMapper: CNSSubjectMapper(registry: nil))
        #expect(await noNonce.verify(leaf: card, at: Date()).valid)
    }

    @Test("responder down: fail closed; ocsp-then-crl uses the CRL; soft-fail uses a cached answer within the staleness bound")
    func responderDown() async throws {
        var env = try Environment()
        let card = try env.pki.issueCard(codiceFiscale: "RCCMNL83S18D969H", givenName: "Mario", surname: "Rossi").certificate
        #expect(try await env.verifier(.ocspOnly, timeout: 2).verify(leaf: card, at: Date()).reason == .revocationUnknown)
        let http = try LocalService.httpServer(directory: env.folder, port: env.httpPort)
        let viaCRL = try await env.verifier(.ocspThenCRL, timeout: 2).verify(leaf: card, at: Date())
        #expect(viaCRL.valid && viaCRL.revocation?.method == .crl, "\(viaCRL.detail)")
        http.stop()

        // A good answer valid one minute, then the responder goes away and two minutes pass.
        let ocsp = try LocalService.openSSLOCSP(pkiDirectory: env.folder, port: env.ocspPort, nextUpdateMinutes: 1)
        let clock = TestClock()
        let strict = try env.verifier(.ocspOnly, clock: clock, timeout: 2)
        let lenient = try env.verifier(.ocspOnly, softFail: 600, clock: clock, timeout: 2)
        #expect(await strict.verify(leaf: card, at: Date()).valid)
        #expect(await lenient.verify(leaf: card, at: Date()).valid)
        ocsp.stop()
        clock.advance(120)
        #expect(await strict.verify(leaf: card, at: Date()).reason == .revocationUnknown)
        let stale = await lenient.verify(leaf: card, at: Date())
        #expect(stale.valid && stale.revocation?.stale == true, "\(stale.detail)")
        clock.advance(3600)
        #expect(await lenient.verify(leaf: card, at: Date()).reason == .revocationUnknown)
    }

    @Test("a responder that never answers times out and fails closed")
    func slowResponder() async throws {
        var env = try Environment()
        let card = try env.pki.issueCard(codiceFiscale: "RCCMNL83S18D969H", givenName: "Mario", surname: "Rossi").certificate
        let silent = try LocalService.silentServer(port: env.ocspPort)
        defer { silent.stop() }
        let started = Date()
        let report = try await env.verifier(.ocspOnly, timeout: 1).verify(leaf: card, at: Date())
        #expect(report.reason == .revocationUnknown)
        #expect(report.detail.contains("did not answer"), "\(report.detail)")
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test("CRL over HTTP: download once, 304 on refresh, new CRL picked up, bad download keeps the last good copy, cache survives a restart")
    func crlLifecycle() async throws {
        var env = try Environment()
        let card = try env.pki.issueCard(codiceFiscale: "RCCMNL83S18D969H", givenName: "Mario", surname: "Rossi")
        let other = try env.pki.issueCard(codiceFiscale: "RSSMRA80A01H501U", givenName: "Maria", surname: "Rossi", revoked: true).certificate
        let http = try LocalService.httpServer(directory: env.folder, port: env.httpPort)
        defer { http.stop() }
        let cache = NSTemporaryDirectory() + "cnsgw-cache-\(UUID().uuidString)"
        let clock = TestClock()
        let transport = GuardedHTTPTransport(allowPrivateAddresses: true)
        let store = CRLStore(configuration: .init(cacheDirectory: cache), transport: transport, now: { clock.now })
        let first = try await store.crl(source: env.crlURL, issuer: env.pki.ca, network: true).get()
        #expect(first.entries.entry(forSerial: other.serialNumber) != nil)
        #expect(first.entries.entry(forSerial: card.certificate.serialNumber) == nil)

        // Past the refresh point: the server has nothing new (304).
        clock.advance(7 * 86_400 - 3600)
        #expect(await store.refreshDue() == 1)
        #expect(http.log.contains("\"GET /crl.der HTTP/1.1\" 304"), "\(http.log)")
        #expect(try await store.crl(source: env.crlURL, issuer: env.pki.ca, network: true).get().crlNumber == first.crlNumber)

        // A new CRL revoking the first card: the background refresh asks again at once (past the refresh point it
        // asks at every run until a new CRL comes).
        sleep(1)
        try env.pki.revoke(serialHex: card.certificate.serialHex)
        #expect(await store.refreshDue() == 1)
        let second = try await store.crl(source: env.crlURL, issuer: env.pki.ca, network: true).get()
        #expect(second.entries.entry(forSerial: card.certificate.serialNumber) != nil)

        // A CRL signed by the wrong key replaces the file: refused, the last good copy stays, the error is shown.
        sleep(1)
        let rogueKey = try PrivateKey(.rsa2048)
        let rogue = try TestCRLBuilder(issuer: env.pki.ca, issuerKey: rogueKey, thisUpdate: Date(), nextUpdate: Date() + 86_400, crlNumber: 99).build(entries: [])
        _ = FileManager.default.createFile(atPath: env.folder + "/crl.der", contents: Data(rogue))
        clock.advance(7 * 86_400)
        #expect(await store.refreshDue() == 1)
        let status = await store.status()
        #expect(status.first?.lastError?.contains("signature") == true, "\(status)")
        #expect(try await store.crl(source: env.crlURL, issuer: env.pki.ca, network: true).get().crlNumber == second.crlNumber)

        // A restart: a new store on the same cache folder, with the server gone, has the CRL at once.
        http.stop()
        let restarted = CRLStore(configuration: .init(cacheDirectory: cache), transport: transport)
        let reloaded = try await restarted.crl(source: env.crlURL, issuer: env.pki.ca, network: false).get()
        #expect(reloaded.crlNumber == second.crlNumber)
    }

    @Test("a held CRL answers logins without a download until its refresh point; past it a login with the network fetches it, one without uses the copy")
    func heldCRLUntilItsRefreshPoint() async throws {
        var env = try Environment()
        let http = try LocalService.httpServer(directory: env.folder, port: env.httpPort)
        defer { http.stop() }
        let clock = TestClock()
        let store = CRLStore(configuration: .init(), transport: GuardedHTTPTransport(allowPrivateAddresses: true), now: { clock.now })
        func gets() -> Int { http.log.components(separatedBy: "GET /crl.der").count - 1 }
        let first = try await store.crl(source: env.crlURL, issuer: env.pki.ca, network: true).get()
        for _ in 0..<5 { #expect(try await store.crl(source: env.crlURL, issuer: env.pki.ca, network: true).get().crlNumber == first.crlNumber) }
        #expect(gets() == 1, "\(http.log)")
        clock.advance(7 * 86_400 - 3600)   // past the refresh point (a fifth of the week before nextUpdate), no background refresh
        #expect(try await store.crl(source: env.crlURL, issuer: env.pki.ca, network: false).get().crlNumber == first.crlNumber)
        #expect(gets() == 1, "without the network the held copy answers")
        #expect(try await store.crl(source: env.crlURL, issuer: env.pki.ca, network: true).get().crlNumber == first.crlNumber)
        #expect(gets() == 2, "the login past the refresh point fetched it: \(http.log)")
        // The server had nothing newer (304): a login asks again only after the retry interval, not every login.
        for _ in 0..<5 { #expect(try await store.crl(source: env.crlURL, issuer: env.pki.ca, network: true).get().crlNumber == first.crlNumber) }
        #expect(gets() == 2, "the copy answers the next logins: \(http.log)")
        clock.advance(61)
        #expect(try await store.crl(source: env.crlURL, issuer: env.pki.ca, network: true).get().crlNumber == first.crlNumber)
        #expect(gets() == 3, "asked again after the retry interval: \(http.log)")
        // The background refresh is not held back by it: past the refresh point it asks at every run.
        #expect(await store.refreshDue() == 1)
        #expect(gets() == 4, "\(http.log)")
    }

    @Test("a failing CRL source is not asked again on every login, only after the retry interval")
    func failedDownloadBackOff() async throws {
        var env = try Environment()
        let card = try env.pki.issueCard(codiceFiscale: "RCCMNL83S18D969H", givenName: "Mario", surname: "Rossi").certificate
        let empty = NSTemporaryDirectory() + "cnsgw-empty-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let http = try LocalService.httpServer(directory: empty, port: env.httpPort)   // answers 404 for crl.der
        defer { http.stop() }
        let clock = TestClock()
        let v = try env.verifier(.crlOnly, clock: clock)
        func gets() -> Int { http.log.components(separatedBy: "GET /crl.der").count - 1 }
        #expect(await v.verify(leaf: card, at: Date()).reason == .revocationUnknown)
        #expect(gets() == 1)
        for _ in 0..<5 { #expect(await v.verify(leaf: card, at: Date()).reason == .revocationUnknown) }
        #expect(gets() == 1, "\(http.log)")
        clock.advance(61)
        _ = await v.verify(leaf: card, at: Date())
        #expect(gets() == 2)
    }

    @Test("a delta CRL lifts a hold (removeFromCRL) and adds a revocation on top of the base CRL")
    func deltaCRL() async throws {
        let env = try Environment()
        let held = try env.unlistedCard(), fresh = try env.unlistedCard()
        let baseURL = "http://127.0.0.1:\(env.httpPort)/base.der", deltaURL = "http://127.0.0.1:\(env.httpPort)/delta.der"
        let now = Date()
        let base = try TestCRLBuilder(issuer: env.pki.ca, issuerKey: env.pki.caKey, thisUpdate: now - 60, nextUpdate: now + 86_400, crlNumber: 10,
                                      extraExtensions: [TestCRLBuilder.freshestCRLExtension(uri: deltaURL)])
            .build(entries: [TestCRLEntry(serial: held.serialNumber, revokedAt: now - 3600, reason: .certificateHold)])
        let delta = try TestCRLBuilder(issuer: env.pki.ca, issuerKey: env.pki.caKey, thisUpdate: now - 30, nextUpdate: now + 3600, crlNumber: 11,
                                       deltaBaseCRLNumber: 10)
            .build(entries: [TestCRLEntry(serial: held.serialNumber, revokedAt: now - 60, reason: .removeFromCRL),
                             TestCRLEntry(serial: fresh.serialNumber, revokedAt: now - 60, reason: .keyCompromise)])
        _ = FileManager.default.createFile(atPath: env.folder + "/base.der", contents: Data(base))
        _ = FileManager.default.createFile(atPath: env.folder + "/delta.der", contents: Data(delta))
        let http = try LocalService.httpServer(directory: env.folder, port: env.httpPort)
        defer { http.stop() }
        let v = try env.verifier(.crlOnly, crlSources: [baseURL])
        let lifted = await v.verify(leaf: held, at: now)
        #expect(lifted.valid, "\(lifted.detail)")
        let revoked = await v.verify(leaf: fresh, at: now)
        #expect(revoked.reason == .revoked && revoked.revocation?.source == deltaURL, "\(revoked.detail)")
        // Without the delta the hold stands.
        let baseOnly = try TestCRLBuilder(issuer: env.pki.ca, issuerKey: env.pki.caKey, thisUpdate: now - 60, nextUpdate: now + 86_400, crlNumber: 10)
            .build(entries: [TestCRLEntry(serial: held.serialNumber, revokedAt: now - 3600, reason: .certificateHold)])
        let file = Fixture.temporaryFile(baseOnly)
        var offline = try env.verifier(.crlOnly)
        offline.revocationOptions = .init(crlFiles: [file], offline: true)
        let suspended = await offline.verify(leaf: held, at: now)
        #expect(suspended.reason == .revoked && suspended.detail.contains("suspended"))
    }
}
