import ArgumentParser
import CNSValidation
import Foundation
import GatewayAudit
import GatewayStorage
import KeyMaterial

struct CACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "Manage the CAs whose cards the gateway accepts (stored in the data folder, audited).",
        subcommands: [Add.self, List.self, Remove.self, ImportTSL.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Trust the CA certificates in FILE... (PEM or DER) with one policy.")

        @Argument(help: "CA certificate files (PEM or DER), or folders of them.") var files: [String]
        @Option(help: "A name for logs and lists (default: the certificate's CN).") var name: String?
        @OptionGroup var policyOptions: AnchorPolicyOptions
        @Option(help: "Extra CRL URL or file for this CA (repeatable).") var crl: [String] = []
        @Option(help: "OCSP responder replacing the one in the cards.") var ocsp: String?
        @OptionGroup var data: DataDirectoryOptions

        func run() async throws {
            let policy = try policyOptions.policy(crlSources: crl, ocspResponder: ocsp)
            let certificates: [X509Certificate]
            do { certificates = try files.flatMap { try CertificateLoader.certificates(atPath: $0) } } catch {
                throw UsageError("cannot read the CA certificates: \(error)")
            }
            for cert in certificates where !cert.isCA {
                throw UsageError("\(cert.subject) is not a CA certificate (no CA basic constraint); nothing was added")
            }
            let storage = try await data.openStorage()
            for cert in certificates {
                let label = name ?? cert.subjectAttribute("2.5.4.3") ?? cert.subject
                guard try await addTrustedCA(cert, name: label, policy: policy, storage: storage, by: "cnsgw ca add") else {
                    print("already trusted: \(cert.fingerprintHex.prefix(16)) \(label)")
                    continue
                }
                let expired = cert.notAfter < Date() ? " (EXPIRED \(cert.notAfter))" : ""
                print("trusted \(cert.fingerprintHex.prefix(16)) \(label) — \(policy.level.rawValue), \(policy.revocation.order.rawValue)\(expired)")
            }
        }
    }

    struct List: RegistryListCommand {
        static let configuration = CommandConfiguration(abstract: "List the trusted CAs.")
        static let emptyHint = "no trusted CAs: add them with `cnsgw ca add FILE...`"
        @Flag(help: "Print a JSON array.") var json = false
        @OptionGroup var data: DataDirectoryOptions

        /// A trusted CA with its certificate and policy read.
        struct Entry {
            let record: TrustedCARecord
            let certificate: X509Certificate
            let policy: AnchorPolicy
            var expired: Bool { certificate.notAfter < Date() }
        }

        func entries(_ storage: any GatewayStorage) async throws -> [Entry] {
            try await storage.trustedCAs().map { r in
                Entry(record: r, certificate: try X509Certificate(derEncoded: [UInt8](r.certificateDER)),
                      policy: try JSONDecoder().decode(AnchorPolicy.self, from: r.policyJSON))
            }
        }

        func row(_ e: Entry) -> [String: Any] {
            ["id": e.record.id, "name": e.record.name, "subject": e.certificate.subject, "notAfter": ISO8601DateFormatter().string(from: e.certificate.notAfter),
             "expired": e.expired, "level": e.policy.level.rawValue, "revocation": e.policy.revocation.order.rawValue,
             "policies": e.policy.acceptedPolicies.sorted(), "softFailMaxStaleness": e.policy.revocation.softFailMaxStaleness as Any? ?? NSNull(),
             "refuseWeakKeys": e.policy.refuseWeakKeys, "refuseSHA1": e.policy.refuseSHA1]
        }

        func line(_ e: Entry) -> String {
            "\(e.record.id.prefix(16))  \(e.policy.level.rawValue)  \(e.policy.revocation.order.rawValue)\(e.expired ? " EXPIRED" : "")  \(e.record.name)"
        }
    }

    struct Remove: RegistryRemoveCommand {
        static let configuration = CommandConfiguration(abstract: "Stop trusting a CA (by id, or a unique id prefix from `ca list`).")
        @Argument(help: "The CA's id or a unique prefix of it.") var id: String
        @OptionGroup var data: DataDirectoryOptions

        func remove(from storage: any GatewayStorage) async throws -> (audit: [String: String], said: String) {
            let matches = try await storage.trustedCAs().filter { $0.id.hasPrefix(id.lowercased()) }
            guard matches.count == 1, let match = matches.first, id.count >= 8 || match.id == id else {
                throw UsageError(matches.isEmpty ? "no trusted CA has id \(id)" : "'\(id)' matches \(matches.count) CAs or is too short; give at least 8 characters")
            }
            try await storage.removeTrustedCA(id: match.id)
            return (["action": "ca.remove", "id": match.id, "name": match.name], "removed \(match.id.prefix(16)) \(match.name)")
        }
    }
}

/// The per-CA policy options shared by `ca add` and `ca import-tsl`.
struct AnchorPolicyOptions: ParsableArguments {
    @Option(help: "SPID level its cards yield: SpidL1, SpidL2 (default), SpidL3.") var level = SpidLevel.spidL2.rawValue
    @Option(name: .customLong("policy"), help: "Accepted certificate policy OID (repeatable). Default: CNS 1.3.76.16.2.1.") var policies: [String] = []
    @Option(help: "Revocation order: ocsp-then-crl (default), crl-only, ocsp-only, none.") var revocation = RevocationPolicy.Order.ocspThenCRL.rawValue
    @Option(help: "Accept CRL/OCSP answers this long past nextUpdate when no fresh one is reachable (e.g. 12h). Default: fail closed.")
    var softFailMaxAge: String?
    @Flag(help: "Do not send OCSP nonces (for responders that ignore them).") var noOCSPNonce = false
    @Flag(help: "Refuse cards with RSA keys under 2048 bits.") var refuseWeakKeys = false
    @Flag(help: "Refuse SHA-1 signatures below this CA.") var refuseSHA1 = false
    @Flag(help: "Relax OpenSSL's X.509 strict checks for this CA's paths.") var lenientRFC5280 = false

    func policy(crlSources: [String] = [], ocspResponder: String? = nil) throws -> AnchorPolicy {
        guard let level = SpidLevel(rawValue: level) else { throw UsageError("--level must be SpidL1, SpidL2 or SpidL3") }
        guard let order = RevocationPolicy.Order(rawValue: revocation) else {
            throw UsageError("--revocation must be one of \(RevocationPolicy.Order.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        for oid in policies where oid.split(separator: ".").count < 2 || oid.contains(where: { !$0.isNumber && $0 != "." }) {
            throw UsageError("--policy '\(oid)' is not a dotted OID")
        }
        return AnchorPolicy(
            acceptedPolicies: policies.isEmpty ? [AnchorPolicy.cnsPolicy] : Set(policies), level: level,
            revocation: RevocationPolicy(order: order, softFailMaxStaleness: try softFailMaxAge.map { try parseDuration($0, option: "--soft-fail-max-age") },
                                         ocspNonce: !noOCSPNonce, ocspResponder: ocspResponder, crlSources: crlSources),
            refuseWeakKeys: refuseWeakKeys, refuseSHA1: refuseSHA1, strictRFC5280: !lenientRFC5280)
    }
}
