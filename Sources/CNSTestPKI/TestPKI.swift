import CNSValidation
import Foundation
import ItalianIdentity
import KeyMaterial

/// A test PKI on disk in the CNS shape: a "CA Cittadini"-style root, an OCSP signer, a CRL, an OpenSSL CA
/// database (`index.txt`) that `openssl ocsp` serves, and CNS-profile cards as PEM and PKCS#12.
///
/// For development and conformance suites only: every key here is a test key.
public struct TestPKI {
    public let directory: String
    public let ca: X509Certificate
    public let caKey: PrivateKey
    public let ocspSigner: X509Certificate
    public let ocspKey: PrivateKey
    public private(set) var state: State

    /// What the PKI remembers between commands (`pki.json`).
    public struct State: Codable, Sendable {
        public var crlURL: String
        public var ocspURL: String
        public var crlNumber: UInt64
        public var cards: [Card]
    }

    /// One issued card.
    public struct Card: Codable, Sendable, Hashable {
        public var name: String
        public var codiceFiscale: String
        public var serialHex: String
        public var notAfter: Date
        public var revokedAt: Date?
        public var subject: String
    }

    /// Files of an issued card.
    public struct IssuedCard: Sendable {
        public let certificate: X509Certificate
        public let key: PrivateKey
        public let certificatePath: String
        public let keyPath: String
        public let pkcs12Path: String
        /// Card certificate followed by the CA, for clients that send the chain.
        public let chainPath: String
    }

    public static let pkcs12Password = "cnsgw-test"

    public func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    /// Creates a new PKI in `directory` (which must not hold one already).
    public static func initialize(at directory: String, caName: String = "Regione Demo - CA Cittadini",
                                  crlURL: String = "http://127.0.0.1:8080/crl.der", ocspURL: String = "http://127.0.0.1:8081",
                                  now: Date = Date()) throws -> TestPKI {
        let fm = FileManager.default
        if fm.fileExists(atPath: (directory as NSString).appendingPathComponent("pki.json")) {
            throw TestPKIError("\(directory) already holds a test PKI (pki.json); use another folder or remove it")
        }
        try fm.createDirectory(atPath: (directory as NSString).appendingPathComponent("cards"), withIntermediateDirectories: true)
        let caKey = try PrivateKey(.rsa2048)
        let ca = try CertificateBuilder(
            subject: [("C", "IT"), ("O", "Test PKI cnsgw"), ("OU", "Servizi di Certificazione"), ("CN", caName)],
            serial: randomSerial(), notBefore: now.addingTimeInterval(-86_400), notAfter: now.addingTimeInterval(10 * 365 * 86_400),
            extensions: caProfile
        ).build(key: caKey, issuer: nil, issuerKey: caKey)
        let ocspKey = try PrivateKey(.rsa2048)
        let ocsp = try CertificateBuilder(
            subject: [("C", "IT"), ("O", "Test PKI cnsgw"), ("CN", "\(caName) OCSP Responder")],
            serial: randomSerial(), notBefore: now.addingTimeInterval(-86_400), notAfter: now.addingTimeInterval(2 * 365 * 86_400),
            extensions: [("basicConstraints", "critical,CA:FALSE"), ("keyUsage", "critical,digitalSignature"),
                         ("extendedKeyUsage", "OCSPSigning"), ("noCheck", "ignored"),
                         ("subjectKeyIdentifier", "hash"), ("authorityKeyIdentifier", "keyid")]
        ).build(key: ocspKey, issuer: ca, issuerKey: caKey)
        let pki = TestPKI(directory: directory, ca: ca, caKey: caKey, ocspSigner: ocsp, ocspKey: ocspKey,
                          state: State(crlURL: crlURL, ocspURL: ocspURL, crlNumber: 0, cards: []))
        try write(ca.pem, to: pki.path("ca.pem"))
        try write(caKey.pemPrivateKey, to: pki.path("ca.key"), secret: true)
        try write(ocsp.pem, to: pki.path("ocsp.pem"))
        try write(ocspKey.pemPrivateKey, to: pki.path("ocsp.key"), secret: true)
        var mutable = pki
        try mutable.publishRevocation(now: now)
        try write(readme(pki), to: pki.path("README.txt"))
        return mutable
    }

    /// Opens a PKI made by ``initialize(at:caName:crlURL:ocspURL:now:)``.
    public static func open(at directory: String) throws -> TestPKI {
        func read(_ name: String) throws -> String {
            let p = (directory as NSString).appendingPathComponent(name)
            guard let s = try? String(contentsOfFile: p, encoding: .utf8) else {
                throw TestPKIError("\(p) is missing: run `cnsgw testpki init \(directory)` first")
            }
            return s
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let state = try decoder.decode(State.self, from: Data(try read("pki.json").utf8))
        return TestPKI(
            directory: directory,
            ca: try CertificateLoader.certificates(from: Array(try read("ca.pem").utf8))[0], caKey: try PrivateKey(pem: try read("ca.key")),
            ocspSigner: try CertificateLoader.certificates(from: Array(try read("ocsp.pem").utf8))[0],
            ocspKey: try PrivateKey(pem: try read("ocsp.key")), state: state)
    }

    /// Issues a CNS-profile card for a citizen and writes its files under `cards/`.
    public mutating func issueCard(codiceFiscale: String, givenName: String, surname: String, key kind: PrivateKey.Kind = .rsa2048,
                                   revoked: Bool = false, expired: Bool = false, now: Date = Date(),
                                   extraExtensions: [(String, String)] = [], omitPolicy: Bool = false) throws -> IssuedCard {
        let cf = codiceFiscale.uppercased()
        let key = try PrivateKey(kind)
        let serial = Self.randomSerial()
        let (notBefore, notAfter) = expired
            ? (now.addingTimeInterval(-3 * 365 * 86_400), now.addingTimeInterval(-86_400))
            : (now.addingTimeInterval(-86_400), now.addingTimeInterval(6 * 365 * 86_400))
        var extensions = Self.cardProfile(crlURL: state.crlURL, ocspURL: state.ocspURL, policy: omitPolicy ? nil : AnchorPolicy.cnsPolicy)
        extensions += extraExtensions
        let cert = try CertificateBuilder(
            subject: [("C", "IT"), ("O", "Test PKI cnsgw"), ("OU", "Azienda Sanitaria Demo"), ("SN", surname.uppercased()),
                      ("GN", givenName.uppercased()), ("CN", Self.cardCommonName(codiceFiscale: cf))],
            serial: serial, notBefore: notBefore, notAfter: notAfter, extensions: extensions
        ).build(key: key, issuer: ca, issuerKey: caKey)

        let base = Self.fileName(for: cf, existing: state.cards.map(\.name))
        let certPath = path("cards/\(base).pem"), keyPath = path("cards/\(base).key")
        let p12Path = path("cards/\(base).p12"), chainPath = path("cards/\(base)-chain.pem")
        try Self.write(cert.pem, to: certPath)
        try Self.write(key.pemPrivateKey, to: keyPath, secret: true)
        try Self.write(cert.pem + ca.pem, to: chainPath)
        let p12 = try PKCS12Writer.make(key: key, certificate: cert, chain: [ca], password: Self.pkcs12Password, name: "\(surname) \(givenName) CNS")
        guard FileManager.default.createFile(atPath: p12Path, contents: Data(p12)) else { throw TestPKIError("cannot write \(p12Path)") }
        state.cards.append(Card(name: base, codiceFiscale: cf, serialHex: cert.serialHex, notAfter: notAfter,
                                revokedAt: revoked ? now.addingTimeInterval(-3600) : nil, subject: cert.subject))
        try publishRevocation(now: now)
        return IssuedCard(certificate: cert, key: key, certificatePath: certPath, keyPath: keyPath, pkcs12Path: p12Path, chainPath: chainPath)
    }

    /// Marks an issued card revoked (reason keyCompromise) and republishes the CRL and OCSP database.
    public mutating func revoke(serialHex: String, at date: Date = Date()) throws {
        guard let i = state.cards.firstIndex(where: { $0.serialHex == serialHex }) else { throw TestPKIError("no card with serial \(serialHex)") }
        state.cards[i].revokedAt = date
        try publishRevocation(now: date)
    }

    /// Writes a fresh CRL (valid 7 days), `index.txt` for `openssl ocsp`, and `pki.json`.
    public mutating func publishRevocation(now: Date = Date(), validity: TimeInterval = 7 * 86_400) throws {
        state.crlNumber += 1
        let entries = state.cards.compactMap { c in
            c.revokedAt.map { TestCRLEntry(serial: Self.bytes(hex: c.serialHex), revokedAt: $0, reason: .keyCompromise) }
        }
        let crl = try TestCRLBuilder(issuer: ca, issuerKey: caKey, thisUpdate: now.addingTimeInterval(-60),
                                     nextUpdate: now.addingTimeInterval(validity), crlNumber: state.crlNumber).build(entries: entries)
        guard FileManager.default.createFile(atPath: path("crl.der"), contents: Data(crl)) else { throw TestPKIError("cannot write crl.der") }
        let b64 = Data(crl).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        try Self.write("-----BEGIN X509 CRL-----\n\(b64)\n-----END X509 CRL-----\n", to: path("crl.pem"))
        let index = state.cards.map { c -> String in
            let revoked = c.revokedAt.map { Self.indexTime($0) + ",keyCompromise" } ?? ""
            let status = c.revokedAt != nil ? "R" : (c.notAfter < now ? "E" : "V")
            let dn = "/" + c.subject.split(separator: ",").reversed().joined(separator: "/")
            return [status, Self.indexTime(c.notAfter), revoked, c.serialHex, "unknown", dn].joined(separator: "\t")
        }
        try Self.write(index.map { $0 + "\n" }.joined(), to: path("index.txt"))
        try Self.write("unique_subject = no\n", to: path("index.txt.attr"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try Self.write(String(decoding: try encoder.encode(state), as: UTF8.self) + "\n", to: path("pki.json"))
    }

    /// Extensions of a TS-CNS authentication certificate (DOMAIN.md §1.2), in `x509v3_config` syntax.
    public static func cardProfile(crlURL: String?, ocspURL: String?, policy: String? = AnchorPolicy.cnsPolicy) -> [(String, String)] {
        var e: [(String, String)] = [
            ("basicConstraints", "critical,CA:FALSE"), ("keyUsage", "critical,digitalSignature,keyEncipherment"),
            ("extendedKeyUsage", "clientAuth,emailProtection"), ("subjectKeyIdentifier", "hash"), ("authorityKeyIdentifier", "keyid"),
        ]
        if let policy { e.append(("certificatePolicies", policy)) }
        if let crlURL { e.append(("crlDistributionPoints", "URI:\(crlURL)")) }
        if let ocspURL { e.append(("authorityInfoAccess", "OCSP;URI:\(ocspURL)")) }
        return e
    }

    /// Extensions of a "CA Cittadini" root: CA, path length 0, certificate and CRL signing, any policy.
    public static let caProfile: [(String, String)] = [
        ("basicConstraints", "critical,CA:TRUE,pathlen:0"), ("keyUsage", "critical,keyCertSign,cRLSign"),
        ("subjectKeyIdentifier", "hash"), ("certificatePolicies", "2.5.29.32.0"),
    ]

    /// A CN in the TS-CNS form `<CF>/<card id>.<hash>`.
    public static func cardCommonName(codiceFiscale: String) -> String {
        let cardId = "6" + String((0..<15).map { _ in "0123456789".randomElement()! })
        let hash = Data((0..<20).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        return "\(codiceFiscale)/\(cardId).\(hash)"
    }

    // MARK: helpers

    /// 16 random bytes, positive, no leading zero: the shape of real CNS serials.
    public static func randomSerial() -> [UInt8] { CertificateBuilder.randomSerial() }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var chars = Array(hex.utf8)
        if chars.count % 2 == 1 { chars.insert(UInt8(ascii: "0"), at: 0) }
        for i in stride(from: 0, to: chars.count, by: 2) { out.append(UInt8(String(decoding: chars[i..<i + 2], as: UTF8.self), radix: 16)!) }
        return out
    }

    static func indexTime(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyMMddHHmmss'Z'"
        return f.string(from: d)
    }

    static func fileName(for cf: String, existing: [String]) -> String {
        var name = cf.lowercased()
        var n = 2
        while existing.contains(name) { name = "\(cf.lowercased())-\(n)"; n += 1 }
        return name
    }

    static func write(_ text: String, to path: String, secret: Bool = false) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8),
                                             attributes: secret ? [.posixPermissions: 0o600] : nil) else {
            throw TestPKIError("cannot write \(path)")
        }
    }

    static func readme(_ pki: TestPKI) -> String {
        """
        cnsgw test PKI — FOR TESTS AND DEMOS ONLY. Every private key in this folder is a test key.

        ca.pem / ca.key        the "CA Cittadini"-style root (trust it with: cnsgw verify CARD --trust \(pki.path("ca.pem")))
        ocsp.pem / ocsp.key    delegated OCSP responder certificate (EKU OCSPSigning) and key
        crl.der / crl.pem      the current CRL, published at \(pki.state.crlURL)
        index.txt              OpenSSL CA database of issued cards, served by `openssl ocsp`
        cards/NAME.pem .key    a card's certificate and key; NAME-chain.pem adds the CA;
        cards/NAME.p12         the same as PKCS#12 for browsers (password: \(pkcs12Password))

        Issue a card:   cnsgw testpki card \(pki.directory) --cf RSSMRA80A01H501U --given-name Mario --surname Rossi
        Serve the CRL:  python3 -m http.server 8080 --bind 127.0.0.1 --directory \(pki.directory)
        Serve OCSP:     openssl ocsp -index \(pki.path("index.txt")) -CA \(pki.path("ca.pem")) \\
                          -rsigner \(pki.path("ocsp.pem")) -rkey \(pki.path("ocsp.key")) -port 8081 -nmin 5
                        (restart it after issuing or revoking cards: it reads index.txt at start)
        Verify a card:  cnsgw verify \(pki.path("cards/NAME.pem")) --trust \(pki.path("ca.pem")) --json
        Offline check:  cnsgw verify \(pki.path("cards/NAME.pem")) --trust \(pki.path("ca.pem")) --crl \(pki.path("crl.der")) --offline

        """
    }
}

/// A failure of the test PKI tooling.
public struct TestPKIError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
