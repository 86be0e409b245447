import Foundation

/// Every setting of `cnsgw serve`, as values. Built by ``SettingsLoader`` from the defaults, `Config/gateway.yaml`
/// (or the file given with `--config`), and `CNSGW_*` environment variables, in that order.
/// Each field's comment names its key; `Config/gateway.yaml` documents them all.
public struct GatewaySettings: Sendable, Hashable {
    /// `data_dir`: the database, generated keys and certificates, CRL cache, demo PKI.
    public var dataDirectory = "var"
    /// `storage.url`: empty for the embedded SQLite database in `data_dir` (one instance); or
    /// `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=verify-full&sslrootcert=FILE` for the PostgreSQL database
    /// several instances share (optional `pool_size`, default 10, and `timeout` in seconds per operation, default 5).
    public var storageURL: String?
    /// `storage.password_file`: the database password, first line of this file (instead of in the URL).
    public var storagePasswordFile: String?
    /// `demo`: create the demo test PKI and trust its CA when no CA is trusted yet.
    public var demo = true
    /// `templates`: a folder of page templates and strings replacing the built-in ones.
    public var templates: String?

    public struct Listener: Sendable, Hashable {
        /// `<listener>.host`, `<listener>.port`.
        public var host: String
        public var port: Int
        /// `<listener>.url`: the address browsers use, when a proxy or DNS name stands in front; default `https://host:port`.
        public var url: String?
        public var externalURL: String { url ?? "https://\(host):\(port)" }
    }

    /// `public.*`: protocol endpoints and pages.
    public var publicListener = Listener(host: "127.0.0.1", port: 8443)
    /// `card.*`: the listener that asks for the card.
    public var cardListener = Listener(host: "127.0.0.1", port: 8444)
    /// `card.max_tls_version`: `1.2` or `1.3`.
    public var cardMaximumTLSVersion = "1.3"
    /// `card.send_ca_names`: put the trusted CAs' names in the certificate request.
    public var sendCertificateAuthorityNames = false
    /// `card.trusted_proxies`: addresses allowed to forward the client certificate in a header.
    public var trustedProxies: [String] = []

    /// `card.proxy_certificate_header`: the one header (and form) a trusted proxy forwards the certificate in:
    /// `rfc9440` (Client-Cert), `nginx` (X-SSL-Client-Cert, URL-encoded PEM) or `apache` (X-SSL-Client-Cert, PEM).
    public var proxyCertificateHeader = "nginx"
    /// `card.client_address_header`: where a trusted proxy names the browser's address: `x-forwarded-for`,
    /// `forwarded` (RFC 7239) or `none`.
    public var clientAddressHeader = "x-forwarded-for"

    /// `limits.*`: timeouts, connection and request limits of both listeners.
    public var limits = ListenerLimits()

    /// `card.certificate_cache`: parsed card certificates kept for reuse (0 turns the cache off).
    public var certificateCacheSize = 4096

    /// `tls.certificate`, `tls.private_key`: PEM files; empty means a generated self-signed pair in the data folder.
    public var tlsCertificate: String?
    public var tlsPrivateKey: String?

    /// `sso.levels`: requested levels that open and reuse a single-sign-on session (SPID: SpidL1 only; `[]` turns SSO off).
    public var ssoLevels: [String] = ["SpidL1"]
    /// `sso.lifetime`: seconds.
    public var ssoLifetime: TimeInterval = 1800

    /// `login.lifetime`: seconds a pending login waits for the card and the consent.
    public var loginLifetime: TimeInterval = 600

    /// `audit.retention`: seconds the audit log keeps records (SPID: 24 months).
    public var auditRetention: TimeInterval = 730 * 86_400
    /// `audit.pseudonymise_codice_fiscale`: write a keyed hash (HMAC-SHA-256) of the codice fiscale instead of the code.
    public var auditPseudonymiseCodiceFiscale = false
    /// `audit.pseudonym_key_file`: the HMAC key; empty means `<data_dir>/audit-pseudonym.key`, generated once.
    public var auditPseudonymKeyFile: String?

    /// `audit.checkpoint_file`: signed checkpoints of the chain's head; empty means `<data_dir>/audit-checkpoints.jsonl`.
    public var auditCheckpointFile: String?
    /// `audit.checkpoint_interval`: how often the head is signed (when it moved).
    public var auditCheckpointInterval: TimeInterval = 300

    /// `crl.refresh_interval`: seconds between checks for CRLs due for refresh.
    public var crlRefreshInterval: TimeInterval = 30

    /// `keys.encryption_key_file`: the key that seals private keys in the database; empty means
    /// `<data_dir>/keys.kek`, generated (0600) at the first start.
    public var keyEncryptionKeyFile: String?
    /// `keys.encryption_key`: the same key as base64 (set it with CNSGW_KEYS_ENCRYPTION_KEY, never in a file); wins
    /// over the file.
    public var keyEncryptionKey: String?

    /// `keys.publish_delay`: seconds a new signing key is published before it signs.
    public var keyPublishDelay: TimeInterval = 86_400
    /// `keys.retired_retention`: seconds a retired key stays published (longer than anything it signed lives).
    public var keyRetention: TimeInterval = 86_400
    /// `keys.rotate_every`: an active key older than this is rotated automatically (0: only `cnsgw keys rotate`).
    public var keyRotateEvery: TimeInterval = 90 * 86_400

    /// `oidc.code_lifetime`: seconds an authorization code can be redeemed.
    public var oidcCodeLifetime: TimeInterval = 60
    /// `oidc.access_token_lifetime`: seconds access tokens, ID tokens and userinfo JWTs are valid.
    public var oidcAccessTokenLifetime: TimeInterval = 600
    /// `oidc.refresh_token_lifetime`: seconds a grant with offline_access lives (refresh tokens rotate within it).
    public var oidcRefreshTokenLifetime: TimeInterval = 30 * 86_400

    /// `oidc.jwks_refresh_interval`: how often the keys of clients registered with a JWKS URL are fetched again.
    public var oidcJWKSRefreshInterval: TimeInterval = 3600

    /// `federation.authority_hints`: the gateway's superiors in the OpenID Federation (its trust anchor).
    public var federationAuthorityHints: [String] = []
    /// `federation.organization_name`, `homepage_uri`, `policy_uri`, `logo_uri`, `contacts`: the organisation named in the
    /// gateway's Entity Configuration.
    public var federationOrganizationName = "cnsgw"
    public var federationHomepageURI: String?
    public var federationPolicyURI: String?
    public var federationLogoURI: String?
    public var federationContacts: [String] = []
    /// `federation.configuration_lifetime`: how long the gateway's Entity Configuration is valid.
    public var federationConfigurationLifetime: TimeInterval = 86_400
    /// `federation.max_intermediates`, `max_fetches`, `fetch_timeout`: bounds on resolving a relying party's trust chain.
    public var federationMaximumIntermediates = 1
    public var federationMaximumFetches = 12
    public var federationFetchTimeout: TimeInterval = 5
    /// `federation.refusal_cache`: how long a relying party whose chain failed is refused without fetching again.
    public var federationRefusalCache: TimeInterval = 30

    /// `metrics.host`, `metrics.port`: serve `/metrics` over plain HTTP on this address instead of the public
    /// listener (0: on the public listener).
    public var metricsHost = "127.0.0.1"
    public var metricsPort = 0

    /// `outbound.allow_private_addresses`: let outbound requests (CRLs, OCSP, metadata, JWKS, back-channel logout) go
    /// to loopback, link-local and private addresses (the test PKI on 127.0.0.1 needs it).
    public var outboundAllowPrivateAddresses = false

    /// `log.level`: trace, debug, info, notice, warning, error, critical.
    public var logLevel = "info"

    /// `log.format`: `text` (one line per event, `time level label : key=value [source] message`) or `json` (one JSON
    /// object per line, for log shippers).
    public var logFormat = "text"

    public init() {}

    /// A path from the settings, relative paths taken from the data folder.
    public func inDataDirectory(_ path: String?, default name: String) -> String {
        guard let path, !path.isEmpty else { return (dataDirectory as NSString).appendingPathComponent(name) }
        return path
    }
}
