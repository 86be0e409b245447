/// The x509-limbo cases (RFC 5280 and Web-PKI groups) whose verdict differs from the corpus's expectation, each with
/// the reason it is not fixed. One list for the library's run of the corpus and the CLI's (`cnsgw verify --profile rfc5280`).
public enum LimboKnownDifferences {
    public static let all: [String: String] = [
        // RFC 5280 groups
        "crl::issuer-no-keyusage-extension": "strict mode (the default) refuses a CA without keyUsage (RFC 5280 §4.2.1.3 MUST); an admin can relax it per anchor",
        "pathlen::max-chain-depth-1-self-issued": "OpenSSL's depth limit counts self-issued intermediates; the gateway sets no depth limit (pathLenConstraint still applies)",
        "rfc5280::aki::cross-signed-root-missing-aki": "OpenSSL does not require AKI on a certificate that is a configured trust anchor",
        "rfc5280::nc::nc-forbids-alternate-chain-ica": "OpenSSL builds one path and does not backtrack to an alternate chain when name constraints fail",
        "rfc5280::nc::nc-forbids-same-chain-ica": "as above: no backtracking path builder",
        "rfc5280::nc::invalid-dnsname-leading-period": "DNS-name syntax inside name constraints: host names play no part in citizen certificates",
        "rfc5280::nc::nc-permits-invalid-dns-san": "DNS SAN syntax: host names play no part in citizen certificates",
        "rfc5280::nc::nc-forbids-dnsname-wildcard-san": "wildcard DNS SANs: host names play no part in citizen certificates",
        "rfc5280::san::underscore-dns": "DNS SAN syntax: host names play no part in citizen certificates",
        "rfc5280::san::ip-in-dns": "DNS SAN syntax: host names play no part in citizen certificates",
        "rfc5280::ca-as-leaf-wrong-san": "peer-name matching is not part of client-certificate validation",
        // Web-PKI policy (optional per the corpus README): TLS-server rules that do not fit CNS cards
        "webpki::aki::root-with-aki-missing-keyidentifier": "Web-PKI rule on trust-anchor AKI; anchors are admin-configured as they are",
        "webpki::aki::root-with-aki-authoritycertissuer": "Web-PKI rule on trust-anchor AKI",
        "webpki::aki::root-with-aki-authoritycertserialnumber": "Web-PKI rule on trust-anchor AKI",
        "webpki::aki::root-with-aki-all-fields": "Web-PKI rule on trust-anchor AKI",
        "webpki::aki::root-with-aki-ski-mismatch": "Web-PKI rule on trust-anchor AKI",
        "webpki::eku::ee-anyeku": "anyExtendedKeyUsage is accepted as RFC 5280 allows",
        "webpki::eku::ee-critical-eku": "a critical EKU is allowed by RFC 5280",
        "webpki::eku::ee-without-eku": "for generic paths a missing EKU means any purpose (RFC 5280); the CNS profile itself requires clientAuth",
        "webpki::eku::root-has-eku": "EKU on trust anchors is not constrained by RFC 5280",
        "webpki::nc::permitted-dns-match-noncritical": "conflicts with rfc5280::nc::permitted-dns-match-noncritical; RFC 5280 §4.2.1.10 (MUST be critical) is kept",
        "webpki::nc::intermediate-permitted-excluded-subtrees-both-null": "Web-PKI encoding rule for name constraints",
        "webpki::nc::intermediate-permitted-excluded-subtrees-both-empty-sequences": "Web-PKI encoding rule for name constraints",
        "webpki::malformed-aia": "AIA is not used for path building; a malformed AIA only matters to OCSP, which then fails closed",
        "webpki::forbidden-p192-root": "Web-PKI algorithm policy; CNS anchors carry their own legacy-crypto policy",
        "webpki::forbidden-p192-leaf": "Web-PKI algorithm policy",
        "webpki::forbidden-dsa-root": "Web-PKI algorithm policy",
        "webpki::forbidden-dsa-leaf": "Web-PKI algorithm policy",
        "webpki::forbidden-weak-rsa-key-in-root": "RSA-1024 is accepted by design (CNS v1.0 cards), counted in a metric, refusable per anchor",
        "webpki::forbidden-weak-rsa-in-leaf": "RSA-1024 is accepted by design (CNS v1.0 cards), counted in a metric, refusable per anchor",
        "webpki::forbidden-rsa-not-divisible-by-8-in-root": "Web-PKI key-size rule",
        "webpki::forbidden-rsa-key-not-divisible-by-8-in-leaf": "Web-PKI key-size rule",
        "webpki::v1-cert": "v1 trust anchors are allowed by RFC 5280",
        "webpki::ee-basicconstraints-ca": "a CA:TRUE leaf is allowed by RFC 5280 path validation; the CNS verifier also requires the CNS profile",
        "webpki::ca-as-leaf": "as above",
    ]
}
