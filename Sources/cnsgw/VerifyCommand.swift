import ArgumentParser
import CNSValidation
import Foundation
import ItalianIdentity
import KeyMaterial
import Logging
import OutboundHTTP

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Decide whether a certificate is a valid, unrevoked CNS certificate from a trusted CA (or, with --profile rfc5280, any certificate).",
        discussion: """
        Exit status: 0 valid, 1 not valid, 2 bad invocation or unreadable file. An unparsable certificate is \
        "not valid" with reason "malformed". With --json one object is printed: valid, reason, detail, chain, \
        revocation {method, status, source}, level and, for a valid CNS, identity. --profile rfc5280 runs RFC 5280 \
        path validation and revocation only (no CNS key-usage/EKU profile, no identity, no policy unless asked), with \
        the RFC 5280 §6.1.1 inputs --policy (user-initial-policy-set), --explicit-policy, --inhibit-policy-mapping and \
        --inhibit-any-policy, and optionally --extended-key-usage, --key-usage and --max-chain-depth for the end entity.
        """
    )

    @Argument(help: "The certificate to check (PEM or DER).")
    var certificate: String

    @Option(name: .customLong("chain"), help: "Untrusted intermediate certificates (file, PEM or DER). Repeatable.")
    var chain: [String] = []

    @Option(name: .customLong("trust"), help: "Trusted CA certificates: a file or a folder of .pem/.crt/.cer/.der files. Repeatable; at least one.")
    var trust: [String] = []

    @Option(name: .customLong("crl"), help: "CRL files (DER or PEM), used before any other revocation source. Repeatable.")
    var crl: [String] = []

    @Option(name: .customLong("ocsp"), help: "OCSP responder URL replacing the one in the certificate.")
    var ocsp: String?

    @Flag(name: .customLong("offline"), help: "Never use the network: only --crl files and cached answers.")
    var offline = false

    @Flag(name: .customLong("no-revocation"), help: "Skip revocation checking.")
    var noRevocation = false

    @Option(name: .customLong("policy"), help: "Acceptable certificate policy OID (repeatable). Default: any policy. With rfc5280: the user-initial-policy-set.")
    var policy: [String] = []

    @Option(name: .customLong("profile"), help: "cns (default: the CNS card profile and the citizen's identity) or rfc5280 (path validation and revocation only).")
    var profile: String = "cns"

    @Flag(name: .customLong("explicit-policy"), help: "rfc5280: initial-explicit-policy (the path must be valid for a policy of the set).")
    var explicitPolicy = false

    @Flag(name: .customLong("inhibit-policy-mapping"), help: "rfc5280: initial-policy-mapping-inhibit.")
    var inhibitPolicyMapping = false

    @Flag(name: .customLong("inhibit-any-policy"), help: "rfc5280: initial-any-policy-inhibit.")
    var inhibitAnyPolicy = false

    @Option(name: .customLong("extended-key-usage"), help: "rfc5280: an extended key usage the end entity must allow (clientAuth, serverAuth or an OID).")
    var extendedKeyUsage: String?

    @Option(name: .customLong("key-usage"), help: "rfc5280: a key usage the end entity must have when it has the extension (digitalSignature, keyEncipherment, …). Repeatable.")
    var keyUsage: [String] = []

    @Option(name: .customLong("max-chain-depth"), help: "rfc5280: the most intermediates a path may have.")
    var maxChainDepth: Int?

    @Option(name: .customLong("at"), help: "Validation time, ISO 8601 (default: now).")
    var at: String?

    @Flag(name: .customLong("json"), help: "Print one JSON object.")
    var json = false

    @Option(name: .customLong("level"), help: "SPID level the trusted CAs yield (SpidL1, SpidL2, SpidL3). Default SpidL2.")
    var level: String = SpidLevel.spidL2.rawValue

    @Option(name: .customLong("revocation"), help: "Revocation order: ocsp-then-crl (default), crl-only, ocsp-only, none.")
    var revocationOrder: String = RevocationPolicy.Order.ocspThenCRL.rawValue

    @Option(name: .customLong("soft-fail-max-age"), help: "Seconds past nextUpdate a CRL/OCSP answer may still be used when no fresh one is reachable. Default: fail closed.")
    var softFailMaxAge: Double?

    @Flag(name: .customLong("no-ocsp-nonce"), help: "Do not send (or require) an OCSP nonce.")
    var noOCSPNonce = false

    @Option(name: .customLong("timeout"), help: "Seconds to wait for an OCSP responder or CRL server. Default 5.")
    var timeout: Double = 5

    @Option(name: .customLong("cache-dir"), help: "Folder where downloaded CRLs are kept between runs.")
    var cacheDir: String?

    @Option(name: .customLong("data-dir"), help: "Also trust the CAs added with `cnsgw ca add` to this data folder, each with its stored policy.")
    var dataDir: String?
    @Option(name: .customLong("storage-url"), help: "With --data-dir: the CAs of this shared PostgreSQL database instead (storage.url; default $CNSGW_STORAGE_URL).")
    var storageURL: String?

    func run() async throws {
        guard !trust.isEmpty || dataDir != nil else {
            throw UsageError("--trust is required: give the CA certificates you trust (a file or a folder), or --data-dir with CAs added by `cnsgw ca add`")
        }
        guard let level = SpidLevel(rawValue: level) else { throw UsageError("--level must be SpidL1, SpidL2 or SpidL3, not '\(self.level)'") }
        guard let order = RevocationPolicy.Order(rawValue: revocationOrder) else {
            throw UsageError("--revocation must be one of \(RevocationPolicy.Order.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let time = try at.map(Self.parseTime) ?? Date()
        let verificationProfile = try chosenProfile()
        for file in crl where !FileManager.default.isReadableFile(atPath: file) { throw UsageError("cannot read CRL file \(file)") }
        for oid in policy where oid.split(separator: ".").count < 2 || oid.contains(where: { !$0.isNumber && $0 != "." }) {
            throw UsageError("--policy '\(oid)' is not a dotted OID")
        }
        let anchorPolicy = AnchorPolicy(
            acceptedPolicies: Set(policy), level: level,
            revocation: RevocationPolicy(order: order, softFailMaxStaleness: softFailMaxAge, ocspNonce: !noOCSPNonce, networkTimeout: timeout))
        var trustStore: TrustStore
        do { trustStore = try TrustStore.load(anchorPaths: trust, policy: anchorPolicy) } catch {
            throw UsageError("cannot load the trusted CAs: \(error)")
        }
        if let dataDir {
            let data = DataDirectoryOptions(dataDir: dataDir, storageURL: storageURL)
            let stored = try await data.trustStore(data.openStorage())
            trustStore = try TrustStore(anchors: trustStore.anchors + stored.anchors)
        }

        // The certificate and chain: unreadable is a usage error (2), unparsable is a "malformed" decision (1).
        let report: VerificationReport
        switch try loadCertificates() {
        case .refused(let refusal): report = refusal
        case .certificates(let leaf, let intermediates):
            let transport = GuardedHTTPTransport(allowPrivateAddresses: true)
            let store = CRLStore(configuration: .init(cacheDirectory: cacheDir, timeout: timeout), transport: transport)
            var verifier = CNSVerifier(trustStore: trustStore, revocation: RevocationChecker(crlStore: store, ocsp: OCSPClient(transport: transport)),
                                       identityMapper: CNSSubjectMapper(registry: try? BelfioreRegistry.bundled()))
            verifier.policyOverride = Set(policy)
            verifier.profile = verificationProfile
            verifier.skipRevocation = noRevocation
            verifier.revocationOptions = .init(crlFiles: crl, ocspResponder: ocsp, offline: offline)
            report = await verifier.verify(leaf: leaf, intermediates: intermediates, at: time)
        }
        print(json ? ReportFormatter.json(report) : ReportFormatter.text(report))
        if !report.valid { throw ExitCode(1) }
    }

    /// `--profile` and the RFC 5280 inputs; the RFC 5280-only options are refused with the CNS profile.
    func chosenProfile() throws -> VerificationProfile {
        switch profile {
        case "cns":
            let stray = [("--explicit-policy", explicitPolicy), ("--inhibit-policy-mapping", inhibitPolicyMapping), ("--inhibit-any-policy", inhibitAnyPolicy),
                         ("--extended-key-usage", extendedKeyUsage != nil), ("--key-usage", !keyUsage.isEmpty), ("--max-chain-depth", maxChainDepth != nil)]
            if let (name, _) = stray.first(where: \.1) { throw UsageError("\(name) belongs to --profile rfc5280; the CNS profile fixes what it checks") }
            return .cns
        case "rfc5280":
            let names: [String: UInt32] = ["digitalSignature": 0x80, "nonRepudiation": 0x40, "contentCommitment": 0x40, "keyEncipherment": 0x20,
                                           "dataEncipherment": 0x10, "keyAgreement": 0x08, "keyCertSign": 0x04, "cRLSign": 0x02]
            var bits: UInt32 = 0
            for name in keyUsage {
                guard let bit = names[name] else { throw UsageError("--key-usage '\(name)' is not one of \(names.keys.sorted().joined(separator: ", "))") }
                bits |= bit
            }
            let eku: String? = try extendedKeyUsage.map { value in
                switch value {
                case "clientAuth": return PathValidationOptions.clientAuth
                case "serverAuth": return PathValidationOptions.serverAuth
                default:
                    guard value.split(separator: ".").count >= 2, value.allSatisfy({ $0.isNumber || $0 == "." }) else {
                        throw UsageError("--extended-key-usage '\(value)' is not clientAuth, serverAuth or a dotted OID")
                    }
                    return value
                }
            }
            if let depth = maxChainDepth, depth < 0 { throw UsageError("--max-chain-depth must not be negative") }
            return .rfc5280(RFC5280Inputs(initialPolicySet: Set(policy), explicitPolicy: explicitPolicy, inhibitPolicyMapping: inhibitPolicyMapping,
                                          inhibitAnyPolicy: inhibitAnyPolicy, requiredExtendedKeyUsage: eku, requiredKeyUsage: bits == 0 ? nil : bits,
                                          maximumDepth: maxChainDepth))
        default:
            throw UsageError("--profile must be cns or rfc5280, not '\(profile)'")
        }
    }

    enum Loaded {
        case certificates(X509Certificate, [X509Certificate])
        case refused(VerificationReport)
    }

    /// Reads the certificate and chain. Unreadable files throw (exit 2); unparsable ones are a "malformed" refusal.
    private func loadCertificates() throws -> Loaded {
        let now = Date()
        func read(_ path: String) throws -> [X509Certificate] {
            do { return try CertificateLoader.certificates(from: CertificateLoader.readFile(path), origin: path) } catch let e as CertificateLoadError {
                if e.code == .unreadable { throw UsageError(e.detail) }
                throw e
            }
        }
        do {
            let leafCerts = try read(certificate)
            let intermediates = try chain.flatMap(read) + leafCerts.dropFirst()
            return .certificates(leafCerts[0], Array(intermediates))
        } catch let e as CertificateLoadError {
            return .refused(.refused(.malformed, "the certificate cannot be read: \(e.detail)", at: now))
        }
    }

    static func parseTime(_ text: String) throws -> Date {
        let full = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let dateOnly = ISO8601DateFormatter()
        dateOnly.formatOptions = [.withFullDate]
        if let d = full.date(from: text) ?? fractional.date(from: text) ?? dateOnly.date(from: text) { return d }
        throw UsageError("--at '\(text)' is not an ISO 8601 time (for example 2026-11-30T12:00:00Z)")
    }
}
