import Foundation
import ItalianIdentity
import KeyMaterial
import Logging

/// The CNS certificate decision: RFC 5280 path to an admin-trusted anchor, the CNS profile (key usage, clientAuth,
/// policy), the anchor's legacy-crypto rules, the citizen's identity, then revocation of every certificate below
/// the anchor. Every decision is logged with its reason; the report says everything a caller counts or audits (the
/// library sends no metrics of its own).
public struct CNSVerifier: Sendable {
    public let trustStore: TrustStore
    public let revocation: RevocationChecker
    public let identityMapper: CNSSubjectMapper
    public let logger: Logger
    /// Replaces every anchor's accepted policies (`cnsgw verify --policy`); an empty set accepts any policy.
    public var policyOverride: Set<String>?
    /// Skip revocation entirely (`--no-revocation`); the report says so.
    public var skipRevocation = false
    public var revocationOptions = RevocationChecker.Options()
    /// What is checked beyond the path: the CNS profile and the citizen (the default), or RFC 5280 alone.
    public var profile: VerificationProfile = .cns

    public init(trustStore: TrustStore, revocation: RevocationChecker, identityMapper: CNSSubjectMapper,
                logger: Logger = Logger(label: "cnsgw.verify")) {
        self.trustStore = trustStore
        self.revocation = revocation
        self.identityMapper = identityMapper
        self.logger = logger
    }

    /// Decides about `leaf` presented with `intermediates` at `time`.
    public func verify(leaf: X509Certificate, intermediates: [X509Certificate] = [], at time: Date) async -> VerificationReport {
        let report = await decide(leaf: leaf, intermediates: intermediates, at: time)
        // Debug level: the gateway's audit log already records every decision; a log line per login at info would
        // double the record and cost a synchronous write per login.
        logger.debug("certificate decision", metadata: [
            "valid": "\(report.valid)", "reason": "\(report.reason?.rawValue ?? "-")", "detail": "\(report.detail)",
            "serial": "\(leaf.serialHex)", "issuer": "\(leaf.issuer)", "anchor": "\(report.anchor ?? "-")",
            "revocation": "\(report.revocation.map { "\($0.method.rawValue)/\($0.status.rawValue) \($0.source ?? "")" } ?? "-")",
        ])
        return report
    }

    private func decide(leaf: X509Certificate, intermediates: [X509Certificate], at time: Date) async -> VerificationReport {
        let unionPolicies = acceptablePolicies(for: trustStore.anchors.map(\.policy))
        let strict = trustStore.anchors.allSatisfy(\.policy.strictRFC5280)
        // The CNS profile requires an explicit policy whenever policies are configured.
        var options = PathValidationOptions(time: time, acceptablePolicies: unionPolicies, explicitPolicy: unionPolicies != nil, strict: strict)
        if case .rfc5280(let inputs) = profile {
            options = PathValidationOptions(time: time, acceptablePolicies: inputs.initialPolicySet.isEmpty ? nil : inputs.initialPolicySet,
                                            explicitPolicy: inputs.explicitPolicy, inhibitPolicyMapping: inputs.inhibitPolicyMapping,
                                            inhibitAnyPolicy: inputs.inhibitAnyPolicy, requiredExtendedKeyUsage: inputs.requiredExtendedKeyUsage,
                                            maximumDepth: inputs.maximumDepth, strict: strict)
        }
        var path: [X509Certificate]
        switch trustStore.validatePath(leaf: leaf, untrusted: intermediates, options: options) {
        case .invalid(let reason, let detail):
            return .refused(reason, detail, chain: [leaf.subject], at: time)
        case .valid(let p): path = p
        }
        guard let anchorCert = path.last, let anchor = trustStore.anchor(for: anchorCert) else {
            return .refused(.untrusted, "the path ends at a certificate that is not a configured anchor", chain: path.map(\.subject), at: time)
        }
        let chain = path.map(\.subject)
        func refuse(_ r: FailureReason, _ d: String, revocation: RevocationResult? = nil, legacy: [String] = []) -> VerificationReport {
            VerificationReport(valid: false, reason: r, detail: d, chain: chain, revocation: revocation, level: nil, identity: nil,
                               legacyCrypto: legacy, anchor: anchor.name, validationTime: time)
        }
        // The union of all anchors' policies was enforced; enforce this anchor's own set when it is narrower.
        let own = profile == .cns ? acceptablePolicies(for: [anchor.policy]) : options.acceptablePolicies
        if own != options.acceptablePolicies || anchor.policy.strictRFC5280 != strict {
            var narrow = options
            narrow.acceptablePolicies = own
            narrow.explicitPolicy = profile == .cns ? own != nil : options.explicitPolicy
            narrow.strict = anchor.policy.strictRFC5280
            if case .invalid(let reason, let detail) = trustStore.validatePath(leaf: leaf, untrusted: intermediates, options: narrow) {
                return refuse(reason, detail)
            }
        }
        switch profile {
        case .cns:
            if let problem = CNSProfile.problem(with: leaf) { return refuse(problem.0, problem.1) }
        case .rfc5280(let inputs):
            if let wanted = inputs.requiredKeyUsage, let ku = leaf.keyUsage, ku & wanted != wanted {
                return refuse(.keyUsage, "the certificate's key usage lacks a usage asked for (bits 0x\(String(wanted, radix: 16)))")
            }
        }

        let below = Array(path.dropLast())
        var legacy: [String] = []
        let weakKey = below.first { $0.publicKeyAlgorithm == "RSA" && $0.publicKeyBits < 2048 }
        if let weakKey { legacy.append("rsa\(weakKey.publicKeyBits)") }
        if below.contains(where: \.usesSHA1Signature) { legacy.append("sha1") }
        if anchor.policy.refuseWeakKeys, let weak = weakKey {
            return refuse(.signature, "\(weak.subject) has an RSA-\(weak.publicKeyBits) key, which the policy of anchor '\(anchor.name)' refuses", legacy: legacy)
        }
        if anchor.policy.refuseSHA1, let weak = below.first(where: \.usesSHA1Signature) {
            return refuse(.signature, "\(weak.subject) is signed with SHA-1, which the policy of anchor '\(anchor.name)' refuses", legacy: legacy)
        }

        var identity: CitizenIdentity?
        if profile == .cns {
            switch identityMapper.identity(from: leaf.subjectAttributes, referenceDate: CalendarDate(unixSeconds: Int64(time.timeIntervalSince1970))) {
            case .failure(let error): return refuse(.identity, error.detail, legacy: legacy)
            case .success(let id): identity = id
            }
        }

        var deciding: RevocationResult?
        if skipRevocation {
            deciding = RevocationResult(method: .none, status: .notChecked, source: nil, detail: "revocation checking was switched off for this call")
        } else {
            for (i, cert) in below.enumerated() {
                let result = await revocation.check(cert, issuer: path[i + 1], policy: anchor.policy.revocation,
                                                    validationTime: time, options: revocationOptions)
                if deciding == nil || result.status == .revoked || result.status == .unknown { deciding = result }
                let who = i == 0 ? "The card" : "The CA certificate \(cert.subject)"
                if result.status == .revoked {
                    let suspended = result.reason == CRLReason.certificateHold.description
                    return refuse(.revoked, "\(who) is \(suspended ? "suspended" : "revoked"): \(result.detail)", revocation: result, legacy: legacy)
                }
                if result.status == .unknown {
                    return refuse(.revocationUnknown, "\(who)'s revocation status is unknown: \(result.detail)", revocation: result, legacy: legacy)
                }
            }
        }
        guard let identity else {
            return VerificationReport(valid: true, reason: nil, detail: "a valid RFC 5280 certification path to '\(anchor.name)'", chain: chain,
                                      revocation: deciding, level: nil, identity: nil, legacyCrypto: legacy, anchor: anchor.name, validationTime: time)
        }
        return VerificationReport(valid: true, reason: nil, detail: "a valid CNS certificate of \(identity.codiceFiscale), issued under '\(anchor.name)'",
                                  chain: chain, revocation: deciding, level: anchor.policy.level, identity: .init(identity),
                                  legacyCrypto: legacy, anchor: anchor.name, validationTime: time)
    }

    /// `nil` = any policy. An anchor with no accepted policies makes the union "any".
    private func acceptablePolicies(for policies: [AnchorPolicy]) -> Set<String>? {
        if let policyOverride { return policyOverride.isEmpty ? nil : policyOverride }
        if policies.isEmpty || policies.contains(where: { $0.acceptedPolicies.isEmpty }) { return nil }
        return policies.reduce(into: Set<String>()) { $0.formUnion($1.acceptedPolicies) }
    }
}

/// The CNS end-entity profile beyond RFC 5280 (DOMAIN.md §1.2).
enum CNSProfile {
    static func problem(with leaf: X509Certificate) -> (FailureReason, String)? {
        guard let ku = leaf.keyUsage else {
            return (.keyUsage, "the certificate has no key usage extension; a CNS authentication certificate has digitalSignature")
        }
        if ku & 0x80 == 0 { return (.keyUsage, "the certificate's key usage lacks digitalSignature, so it cannot authenticate") }
        if ku & 0x40 != 0 {
            return (.keyUsage, "the certificate's key usage has nonRepudiation: it is a signature certificate, not the card's authentication certificate")
        }
        guard let eku = leaf.extendedKeyUsage, eku.contains(PathValidationOptions.clientAuth) else {
            return (.extendedKeyUsage, "the certificate's extended key usage lacks clientAuth (1.3.6.1.5.5.7.3.2)")
        }
        return nil
    }
}

/// What a verification checks beyond RFC 5280 path validation and revocation.
public enum VerificationProfile: Sendable, Hashable {
    /// A CNS card: key usage and clientAuth, the anchors' policies, the citizen's identity (the gateway's decision).
    case cns
    /// RFC 5280 alone, for conformance suites (NIST PKITS, x509-limbo) and certificates that are not cards: the
    /// §6.1.1 inputs as given, no profile, no identity.
    case rfc5280(RFC5280Inputs)
}

/// The inputs of RFC 5280 §6.1.1 path validation, and what the caller asks of the end entity.
public struct RFC5280Inputs: Sendable, Hashable {
    /// user-initial-policy-set; empty means any-policy.
    public var initialPolicySet: Set<String>
    public var explicitPolicy: Bool
    public var inhibitPolicyMapping: Bool
    public var inhibitAnyPolicy: Bool
    /// An extended key usage the end entity must allow (nil: none asked).
    public var requiredExtendedKeyUsage: String?
    /// Key usage bits the end entity must have, when it has the extension (RFC 5280 bit order, 0x80 = digitalSignature).
    public var requiredKeyUsage: UInt32?
    /// The most intermediates allowed (nil: no limit beyond pathLenConstraint).
    public var maximumDepth: Int?

    public init(initialPolicySet: Set<String> = [], explicitPolicy: Bool = false, inhibitPolicyMapping: Bool = false, inhibitAnyPolicy: Bool = false,
                requiredExtendedKeyUsage: String? = nil, requiredKeyUsage: UInt32? = nil, maximumDepth: Int? = nil) {
        self.initialPolicySet = initialPolicySet
        self.explicitPolicy = explicitPolicy
        self.inhibitPolicyMapping = inhibitPolicyMapping
        self.inhibitAnyPolicy = inhibitAnyPolicy
        self.requiredExtendedKeyUsage = requiredExtendedKeyUsage
        self.requiredKeyUsage = requiredKeyUsage
        self.maximumDepth = maximumDepth
    }
}
