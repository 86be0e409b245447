import Foundation
import KeyMaterial
internal import COpenSSL

/// What RFC 5280 path validation asks for, beyond the trust store.
public struct PathValidationOptions: Sendable, Hashable {
    /// The validation time.
    public var time: Date
    /// The user-initial-policy-set (RFC 5280 §6.1.1 c); `nil` means any-policy.
    public var acceptablePolicies: Set<String>?
    /// RFC 5280 §6.1.1 e–g: initial-explicit-policy (the path must carry a valid policy), initial-policy-mapping-inhibit,
    /// initial-any-policy-inhibit.
    public var explicitPolicy: Bool
    public var inhibitPolicyMapping: Bool
    public var inhibitAnyPolicy: Bool
    /// EKU the leaf must carry: `clientAuth` (`1.3.6.1.5.5.7.3.2`), `serverAuth` (`1.3.6.1.5.5.7.3.1`), or `nil` for none.
    public var requiredExtendedKeyUsage: String?
    /// Maximum number of non-self-issued intermediates; `nil` = OpenSSL's default (100).
    public var maximumDepth: Int?
    /// OpenSSL's `X509_V_FLAG_X509_STRICT`: extra RFC 5280 encoding checks on every certificate.
    public var strict: Bool

    public static let clientAuth = "1.3.6.1.5.5.7.3.2"
    public static let serverAuth = "1.3.6.1.5.5.7.3.1"

    public init(time: Date, acceptablePolicies: Set<String>? = nil, explicitPolicy: Bool = false, inhibitPolicyMapping: Bool = false,
                inhibitAnyPolicy: Bool = false, requiredExtendedKeyUsage: String? = clientAuth, maximumDepth: Int? = nil, strict: Bool = true) {
        self.time = time
        self.acceptablePolicies = acceptablePolicies
        self.explicitPolicy = explicitPolicy
        self.inhibitPolicyMapping = inhibitPolicyMapping
        self.inhibitAnyPolicy = inhibitAnyPolicy
        self.requiredExtendedKeyUsage = requiredExtendedKeyUsage
        self.maximumDepth = maximumDepth
        self.strict = strict
    }
}

/// The outcome of path validation: a path from the leaf to an anchor, or why there is none.
public enum PathValidationResult: Sendable {
    /// Leaf first, anchor last.
    case valid([X509Certificate])
    case invalid(FailureReason, detail: String)
}

/// RFC 5280 path validation over the admin's anchors, by OpenSSL's `X509_verify_cert` (the verifier nginx and
/// Apache rely on): signatures, validity, name chaining, basic constraints and path length, key usage, EKU by
/// purpose, the policy tree, name constraints and unhandled critical extensions. Revocation is *not* done here:
/// the gateway's own subsystem does it (OpenSSL re-reads whole CRLs on every verification; STACK.md §6).
/// Legacy algorithms are accepted (auth level 0 — RSA-1024 cards and SHA-1 CAs are valid CNS credentials);
/// the anchor policy decides whether to refuse them.
extension TrustStore {
    public func validatePath(leaf: X509Certificate, untrusted: [X509Certificate], options: PathValidationOptions) -> PathValidationResult {
        guard let ctx = X509_STORE_CTX_new() else { return .invalid(.malformed, detail: "cannot allocate a verification context") }
        defer { X509_STORE_CTX_free(ctx) }
        guard let stack = cnsgw_sk_X509_new() else { return .invalid(.malformed, detail: "cannot allocate a certificate stack") }
        defer { cnsgw_sk_X509_free(stack) }
        var known: [OpaquePointer: X509Certificate] = [leaf.ref: leaf]
        for cert in untrusted + intermediates {
            _ = cnsgw_sk_X509_push(stack, cert.ref)
            known[cert.ref] = cert
        }
        for anchor in anchors { known[anchor.certificate.ref] = anchor.certificate }

        guard X509_STORE_CTX_init(ctx, store.ref, leaf.ref, stack) == 1 else {
            return .invalid(.malformed, detail: "cannot start path validation: \(OpenSSLErrorQueue.drain())")
        }
        let param = X509_STORE_CTX_get0_param(ctx)
        // Anchors need not be self-signed (an admin may trust a sub-CA); their own signature is not checked.
        // Validity is checked below, inclusively at both ends as RFC 5280 §4.1.2.5 says (OpenSSL's notAfter is exclusive).
        var flags = UInt(X509_V_FLAG_PARTIAL_CHAIN) | UInt(X509_V_FLAG_NO_CHECK_TIME)
        if options.strict { flags |= UInt(X509_V_FLAG_X509_STRICT) }
        flags |= UInt(X509_V_FLAG_POLICY_CHECK)
        if options.explicitPolicy { flags |= UInt(X509_V_FLAG_EXPLICIT_POLICY) }
        if options.inhibitPolicyMapping { flags |= UInt(X509_V_FLAG_INHIBIT_MAP) }
        if options.inhibitAnyPolicy { flags |= UInt(X509_V_FLAG_INHIBIT_ANY) }
        for oid in options.acceptablePolicies ?? [] {
            guard let obj = OBJ_txt2obj(oid, 1) else { return .invalid(.policy, detail: "'\(oid)' is not an OID") }
            X509_VERIFY_PARAM_add0_policy(param, obj)
        }
        X509_VERIFY_PARAM_set_flags(param, flags)
        X509_VERIFY_PARAM_set_auth_level(param, 0)
        switch options.requiredExtendedKeyUsage {
        case PathValidationOptions.clientAuth?: X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT)
        case PathValidationOptions.serverAuth?: X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER)
        default: break
        }
        if let depth = options.maximumDepth { X509_VERIFY_PARAM_set_depth(param, Int32(depth)) }

        let ok = X509_verify_cert(ctx)
        if ok == 1 {
            guard let chain = X509_STORE_CTX_get1_chain(ctx) else { return .invalid(.malformed, detail: "no chain was built") }
            defer { cnsgw_sk_X509_pop_free(chain) }
            var path: [X509Certificate] = []
            for i in 0..<cnsgw_sk_X509_num(chain) {
                guard let p = cnsgw_sk_X509_value(chain, i), let cert = known[p] else {
                    return .invalid(.malformed, detail: "the chain holds a certificate that was not supplied")
                }
                path.append(cert)
            }
            if let eku = options.requiredExtendedKeyUsage, let leafEKU = leaf.extendedKeyUsage, !leafEKU.contains(eku),
               !leafEKU.contains("2.5.29.37.0") {
                return .invalid(.extendedKeyUsage, detail: "the certificate's extended key usage does not include \(eku)")
            }
            OpenSSLErrorQueue.clear()
            if let (reason, detail) = RFC5280Supplement.problem(path: path, at: options.time) { return .invalid(reason, detail: detail) }
            return .valid(path)
        }
        let code = X509_STORE_CTX_get_error(ctx)
        let depth = Int(X509_STORE_CTX_get_error_depth(ctx))
        let subject = X509_STORE_CTX_get_current_cert(ctx).map { X509Certificate.rfc2253(X509_get_subject_name($0)) } ?? "?"
        let text = String(cString: X509_verify_cert_error_string(Int(code)))
        OpenSSLErrorQueue.clear()
        let which = depth == 0 ? "the certificate" : "the CA certificate at depth \(depth) (\(subject))"
        return .invalid(Self.reason(forVerifyError: code, depth: depth, leaf: leaf), detail: "\(which): \(text)")
    }

    static func reason(forVerifyError code: Int32, depth: Int, leaf: X509Certificate) -> FailureReason {
        switch code {
        case X509_V_ERR_CERT_HAS_EXPIRED: return .expired
        case X509_V_ERR_CERT_NOT_YET_VALID: return .notYetValid
        case X509_V_ERR_CERT_SIGNATURE_FAILURE, X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE,
             X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY, X509_V_ERR_CA_MD_TOO_WEAK, X509_V_ERR_CA_KEY_TOO_SMALL,
             X509_V_ERR_EE_KEY_TOO_SMALL:
            return .signature
        case X509_V_ERR_INVALID_CA, X509_V_ERR_INVALID_NON_CA: return .basicConstraints
        case X509_V_ERR_PATH_LENGTH_EXCEEDED, X509_V_ERR_CERT_CHAIN_TOO_LONG: return .pathLength
        case X509_V_ERR_KEYUSAGE_NO_CERTSIGN, X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE: return .keyUsage
        case X509_V_ERR_INVALID_PURPOSE:
            if depth == 0, let ku = leaf.keyUsage, ku & UInt32(KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT) == 0 { return .keyUsage }
            return .extendedKeyUsage
        case X509_V_ERR_NO_EXPLICIT_POLICY, X509_V_ERR_INVALID_POLICY_EXTENSION: return .policy
        case X509_V_ERR_PERMITTED_VIOLATION, X509_V_ERR_EXCLUDED_VIOLATION, X509_V_ERR_SUBTREE_MINMAX,
             X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE, X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX,
             X509_V_ERR_UNSUPPORTED_NAME_SYNTAX, X509_V_ERR_PROXY_SUBJECT_NAME_VIOLATION:
            return .nameConstraints
        case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION: return .criticalExtension
        case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD, X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD,
             X509_V_ERR_INVALID_EXTENSION:
            return .malformed
        default: return .untrusted
        }
    }
}
