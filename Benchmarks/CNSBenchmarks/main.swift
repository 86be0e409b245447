// cnsgw-bench — the certificate-decision benchmark (issue 2). Run through bench/run.sh, which builds it in
// release mode, pins it to one core and measures peak memory with /usr/bin/time.
//
//   cnsgw-bench make-crls DIR          test CA + CRLs of 100,000 and 2,000,000 entries in DIR
//   cnsgw-bench load-crl DIR FILE      load one CRL once (run under /usr/bin/time for time and peak memory)
//   cnsgw-bench lookups DIR FILE       revoked-serial lookups per second, against OpenSSL's X509_CRL_get0_by_serial
//   cnsgw-bench decisions DIR FILE     full verify decisions per second (warm CRL), against bare X509_verify_cert
//   cnsgw-bench rsa-sign -             RSA-2048 signatures per second, BoringSSL (as in the TLS handshake) against OpenSSL 3
import CNSTestPKI
import CNSValidation
import COpenSSL
import Foundation
import ItalianIdentity
import Logging
import OutboundHTTP
import Crypto
import OIDC
import _CryptoExtras
import KeyMaterial
import SAML
import XMLSecurity

// Decisions are logged at info level in production; the benchmark measures the decision, not stderr.
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .warning
    return handler
}

@inline(never) func blackHole<T>(_ x: T) { withExtendedLifetime(x) {} }

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("cnsgw-bench: \(message)\n".utf8))
    exit(2)
}

let args = CommandLine.arguments
guard args.count >= 3 else { fail("usage: cnsgw-bench make-crls|load-crl|lookups|decisions|parse|saml-responses|jwt-sign|rsa-sign DIR [FILE]") }
let dir = args[2]

func loadPKI() -> TestPKI {
    do { return try TestPKI.open(at: dir) } catch { fail("\(error)") }
}

switch args[1] {
case "make-crls":
    var pki = (try? TestPKI.open(at: dir)) ?? (try! TestPKI.initialize(at: dir))
    let card = try! pki.issueCard(codiceFiscale: "RCCMNL83S18D969H", givenName: "Mario", surname: "Rossi")
    let revoked = try! pki.issueCard(codiceFiscale: "RSSMRA80A01H501U", givenName: "Maria", surname: "Rossi", revoked: true)
    let now = Date()
    for n in [100_000, 2_000_000] {
        let path = "\(dir)/crl-\(n).der"
        let size = try! TestCRLBuilder(issuer: pki.ca, issuerKey: pki.caKey, thisUpdate: now - 60, nextUpdate: now + 86_400, crlNumber: UInt64(n))
            .writeSynthetic(count: n, listed: [TestCRLEntry(serial: revoked.certificate.serialNumber, revokedAt: now - 3600, reason: .keyCompromise)], to: path)
        print("\(path) \(n + 1) entries \(size) bytes")
    }
    try! card.certificate.pem.write(toFile: "\(dir)/good.pem", atomically: true, encoding: .utf8)

case "load-crl":
    let pki = loadPKI()
    let crl = try! CertificateRevocationList.load(contentsOf: args[3], issuer: pki.ca)
    print("entries=\(crl.entries.count) indexBytes=\(crl.entries.memoryFootprint)")

case "lookups":
    let pki = loadPKI()
    let crl = try! CertificateRevocationList.load(contentsOf: args[3], issuer: pki.ca)
    let listedSerials = Array(SyntheticSerials(seed: 1).prefix(500_000))
    let probes = zip(listedSerials, (0..<500_000).map { _ in TestPKI.randomSerial() }).flatMap { [$0, $1] }
    let listed = pki.state.cards.compactMap { $0.revokedAt == nil ? nil : $0.serialHex }.map { hex in
        stride(from: 0, to: hex.count, by: 2).map { UInt8(hex[hex.index(hex.startIndex, offsetBy: $0)..<hex.index(hex.startIndex, offsetBy: $0 + 2)], radix: 16)! }
    }
    guard let present = listed.first, crl.entries.entry(forSerial: present) != nil else { fail("the revoked card is not found") }
    // Half the probes are listed serials (regenerated from the CRL's seed), half random: both paths are timed.
    var hits = 0
    let ours = seconds { for p in probes { if crl.entries.entry(forSerial: p) != nil { hits += 1 } } }
    // Baseline: OpenSSL's own CRL lookup on the same file (parsed once by d2i_X509_CRL, sorted on first lookup).
    let der = [UInt8](FileManager.default.contents(atPath: args[3])!)
    let x509crl: OpaquePointer = der.withUnsafeBufferPointer { b in var p: UnsafePointer<UInt8>? = b.baseAddress; return d2i_X509_CRL(nil, &p, b.count) }
    let integers: [OpaquePointer] = probes.map { p in
        let bn = p.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), nil) }
        defer { BN_free(bn) }
        return OpaquePointer(BN_to_ASN1_INTEGER(bn, nil))!
    }
    var revokedEntry: OpaquePointer? = nil
    _ = X509_CRL_get0_by_serial(x509crl, &revokedEntry, UnsafeMutablePointer(integers[0]))   // first call sorts
    var opensslHits = 0
    let theirs = seconds { for i in integers { if X509_CRL_get0_by_serial(x509crl, &revokedEntry, UnsafeMutablePointer(i)) == 1 { opensslHits += 1 } } }
    print(String(format: "lookups: cnsgw %.0f/s, openssl %.0f/s, ratio %.2f (hits %d/%d)", Double(probes.count) / ours,
                 Double(probes.count) / theirs, theirs / ours, hits, opensslHits))

case "decisions":
    let pki = loadPKI()
    let leaf = try! CertificateLoader.certificates(atPath: "\(dir)/good.pem")[0]
    let policy = AnchorPolicy(revocation: RevocationPolicy(order: .crlOnly))
    let store = try! TrustStore(anchors: [TrustAnchor(certificate: pki.ca, policy: policy)])
    let transport = GuardedHTTPTransport(allowPrivateAddresses: true)
    var verifier = CNSVerifier(trustStore: store, revocation: RevocationChecker(crlStore: CRLStore(configuration: .init(), transport: transport),
                                                                                 ocsp: OCSPClient(transport: transport)),
                               identityMapper: CNSSubjectMapper(registry: try! BelfioreRegistry.bundled()))
    verifier.revocationOptions = .init(crlFiles: [args[3]], offline: true)
    let n = 20_000
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var decisionRate = 0.0
    Task.detached {
        let warm = await verifier.verify(leaf: leaf, at: Date())   // loads the CRL once
        guard warm.valid else { fail("warm-up decision was \(warm.reason?.rawValue ?? "?"): \(warm.detail)") }
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<n { blackHole(await verifier.verify(leaf: leaf, at: Date())) }
        decisionRate = Double(n) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        done.signal()
    }
    done.wait()
    // Baseline: OpenSSL's X509_verify_cert alone on the same leaf and anchor (what a TLS server does per handshake
    // before any revocation or identity work).
    let options = PathValidationOptions(time: Date())
    let pathOnly = seconds { for _ in 0..<n { blackHole(store.validatePath(leaf: leaf, untrusted: [], options: options)) } }
    print(String(format: "decisions: cnsgw verify %.0f/s (full decision, warm CRL), path validation alone %.0f/s, ratio %.2f",
                 decisionRate, Double(n) / pathOnly, decisionRate / (Double(n) / pathOnly)))

case "parse":
    // X509Certificate(derEncoded:) per login (the card's certificate), against OpenSSL's bare d2i_X509.
    let der = try! CertificateLoader.certificates(atPath: "\(dir)/good.pem")[0].derBytes
    let n = 20_000
    let full = seconds { for _ in 0..<n { blackHole(try! X509Certificate(derEncoded: der)) } }
    let bare = seconds {
        for _ in 0..<n {
            der.withUnsafeBufferPointer { buf in
                var p: UnsafePointer<UInt8>? = buf.baseAddress
                X509_free(d2i_X509(nil, &p, buf.count))
            }
        }
    }
    print(String(format: "parse: X509Certificate %.0f/s (%.1f µs), d2i_X509 alone %.0f/s (%.1f µs), ratio %.2f",
                 Double(n) / full, full / Double(n) * 1e6, Double(n) / bare, bare / Double(n) * 1e6, bare / full))

case "saml-responses":
    // Responses built and signed per second (one signed assertion each), with a fresh RSA-2048 key.
    let key = try! PrivateKey(.rsa2048)
    let cert = try! CertificateBuilder(subject: [("CN", "bench IdP")], serial: TestPKI.randomSerial(), notBefore: Date() - 60,
                                           notAfter: Date() + 86_400, extensions: []).build(key: key, issuer: nil, issuerKey: key)
    let builder = ResponseBuilder(idp: IdentityProviderConfiguration(baseURL: "https://idp.example.it"),
                                  key: try! XMLSigningKey(privateKeyPEM: key.pemPrivateKey, certificatePEM: cert.pem))
    let identity = VerificationReport.Identity(try! CNSSubjectMapper(registry: try? BelfioreRegistry.bundled()).identity(
        from: [SubjectAttribute(oid: "2.5.4.3", value: "RCCMNL83S18D969H/6120016461039008.abc"), SubjectAttribute(oid: "2.5.4.42", value: "MARIO"),
               SubjectAttribute(oid: "2.5.4.4", value: "ROSSI")], referenceDate: CalendarDate(year: 2026, month: 12, day: 1)!).get())
    let login = ResponseBuilder.Login(identity: identity, level: .spidL2, authenticatedAt: Date(), sessionIndex: nil,
                                      attributes: ["fiscalNumber", "name", "familyName", "dateOfBirth"], allowDerivedAttributes: true,
                                      includeOIDNames: false, signResponse: false)
    let destination = ResponseDestination(serviceProvider: "https://sp.example.it", assertionConsumerServiceURL: "https://sp.example.it/acs",
                                          inResponseTo: "_r", relayState: nil)
    let n = 3000
    let elapsed = seconds { for _ in 0..<n { blackHole(try! builder.success(login, to: destination, now: Date())) } }
    print(String(format: "saml-responses: %.0f signed Responses/s (%.0f µs each)", Double(n) / elapsed, elapsed / Double(n) * 1e6))
    // The default since issue 15: the Response signed too, also from its canonical form; against the same Response
    // signed by libxmlsec1 after parsing (how a signed Response was made before), in the same run.
    let both = ResponseBuilder.Login(identity: identity, level: .spidL2, authenticatedAt: Date(), sessionIndex: nil,
                                     attributes: ["fiscalNumber", "name", "familyName", "dateOfBirth"], allowDerivedAttributes: true,
                                     includeOIDNames: false, signResponse: true)
    let xmlsecKey = try! XMLSigningKey(privateKeyPEM: key.pemPrivateKey, certificatePEM: cert.pem)
    let canonical = seconds { for _ in 0..<n { blackHole(try! builder.success(both, to: destination, now: Date())) } }
    let parsed = seconds {
        for _ in 0..<n {
            let document = try! ParsedXML(Array(try! builder.success(login, to: destination, now: Date()).utf8), maximumSize: 1 << 20)
            try! XMLSigner.sign(document.root, after: document.root.child("Issuer", namespace: SAMLNames.assertionNS), key: xmlsecKey)
            blackHole(document.serialized())
        }
    }
    print(String(format: "saml-responses-signed: %.0f Responses/s with both signatures from the canonical form (%.0f µs each); "
                 + "%.0f/s with the Response signed by libxmlsec1 after parsing (%.0f µs); ratio canonical/libxmlsec1 %.2f; "
                 + "cost of the second signature: %.2f× the assertion-only Response",
                 Double(n) / canonical, canonical / Double(n) * 1e6, Double(n) / parsed, parsed / Double(n) * 1e6, parsed / canonical, canonical / elapsed))

case "jwt-sign":
    // Raw RS256 JWT signing with swift-crypto (what every ID token and access token costs), and an ID token + access
    // token pair as the token endpoint issues them.
    let key = try! JWSSigningKey(kid: "bench", algorithm: "RS256", privateKeyPEM: try! PrivateKey(.rsa2048).pemPrivateKey)
    let n = 3000
    let raw = seconds { for i in 0..<n { blackHole(try! key.sign(["sub": .string("s"), "n": .integer(Int64(i))], type: "JWT")) } }
    let issuer = TokenIssuer(provider: ProviderConfiguration(issuer: "https://op.example.it"))
    let grant = AuthorizationGrant(grantID: "g", clientID: "https://rp.example.it", redirectURI: "https://rp.example.it/cb", codeChallenge: "c", nonce: "n",
                                   scopes: ["openid"], level: .spidL2, authTime: Date(), subject: "sub", sessionID: nil, userinfoClaims: [],
                                   idTokenClaims: [], released: ReleasedClaims(), expiresAt: Date() + 600)
    let pairs = seconds {
        for _ in 0..<(n / 2) {
            let access = try! issuer.accessToken(grant, key: key, now: Date())
            blackHole(try! issuer.idToken(grant, accessToken: access, key: key, now: Date()))
        }
    }
    let digest = SHA256.hash(data: Data("header.payload".utf8))
    let rsa = try! _RSA.Signing.PrivateKey(pemRepresentation: try! PrivateKey(.rsa2048).pemPrivateKey)
    let bare = seconds { for _ in 0..<n { blackHole(try! rsa.signature(for: digest, padding: .insecurePKCS1v1_5)) } }
    print(String(format: "jwt-sign: swift-crypto RSA-2048 PKCS#1 signatures alone %.0f/s", Double(n) / bare))
    print(String(format: "jwt-sign: RS256 JWTs %.0f/s (%.0f µs each); access + ID token pairs %.0f/s", Double(n) / raw, raw / Double(n) * 1e6, Double(n / 2) / pairs))

case "rsa-sign":
    // The server's signature is the dearest step of a TLS handshake with an RSA certificate. The card listener signs with
    // BoringSSL (swift-nio-ssl's copy; swift-crypto's, measured here, is built from the same BoringSSL code), nginx with
    // the system's OpenSSL 3, which has an AVX-512 IFMA path for RSA-2048 on CPUs that have it. Same key, same digest,
    // alternating rounds, so the ratio holds on a noisy machine.
    let key = try! PrivateKey(.rsa2048)
    let boring = try! _RSA.Signing.PrivateKey(pemRepresentation: key.pemPrivateKey)
    let digest = SHA256.hash(data: Data("handshake transcript".utf8))
    let message = Array("handshake transcript".utf8)
    let n = 1000
    var boringTimes: [Double] = [], openSSLTimes: [Double] = []
    for _ in 0..<5 {
        boringTimes.append(seconds { for _ in 0..<n { blackHole(try! boring.signature(for: digest, padding: .insecurePKCS1v1_5)) } })
        openSSLTimes.append(seconds { for _ in 0..<n { blackHole(try! key.signSHA256(message)) } })
    }
    let b = boringTimes.sorted()[2], o = openSSLTimes.sorted()[2]
    print(String(format: "rsa-sign: RSA-2048 signatures, median of 5 rounds of %d: BoringSSL %.0f/s (%.0f µs each), ", n, Double(n) / b, b / Double(n) * 1e6)
          + String(cString: OpenSSL_version(OPENSSL_VERSION))
          + String(format: " %.0f/s (%.0f µs each); BoringSSL costs %.2f× OpenSSL's CPU per signature", Double(n) / o, o / Double(n) * 1e6, b / o))

default:
    fail("unknown benchmark \(args[1])")
}
