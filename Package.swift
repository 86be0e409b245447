// swift-tools-version:6.0
import Foundation
import PackageDescription

// cnsgw — TS-CNS identity-provider gateway.
// Dependency arrows point one way: pure libraries (ItalianIdentity, CNSValidation) under the thin `cnsgw` CLI.

// The `cnsgw` executable allocates through jemalloc on Linux (Debian's libjemalloc-dev to build, libjemalloc2 to run):
// a card step allocates on the event-loop threads and frees on the database writer's thread and back, and with
// jemalloc it used 0.80–0.92× of the CPU it used with glibc's malloc (README, "Allocator"). CNSGW_SYSTEM_MALLOC=1 at
// build time keeps the C library's malloc.
let gatewayAllocator: [LinkerSetting] = ProcessInfo.processInfo.environment["CNSGW_SYSTEM_MALLOC"] == "1"
    ? [] : [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]
let package = Package(
    name: "cnsgw",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cnsgw", targets: ["cnsgw"]),
        .library(name: "CNSValidation", targets: ["CNSValidation"]),
        .library(name: "ItalianIdentity", targets: ["ItalianIdentity"]),
        .library(name: "CNSTestPKI", targets: ["CNSTestPKI"]),
        // For the fuzz targets (Fuzz/Package.swift).
        .library(name: "OIDC", targets: ["OIDC"]),
        .library(name: "SAML", targets: ["SAML"]),
        .library(name: "TrustedList", targets: ["TrustedList"]),
        .library(name: "RequestDecoding", targets: ["RequestDecoding"]),
        .library(name: "XMLSecurity", targets: ["XMLSecurity"]),
        .library(name: "KeyMaterial", targets: ["KeyMaterial"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.20.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
        .package(url: "https://github.com/jpsim/Yams", "5.0.1"..<"7.0.0"),
        // The gateway's outbound requests (GuardedHTTPTransport), and in tests a second real HTTPS client beside curl.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
        // PostgreSQL for several gateway instances (GatewayStoragePostgres): the client, its pool and LISTEN/NOTIFY.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.21.0"),
    ],
    targets: [
        // System libcrypto (OpenSSL 3). Used for RFC 5280 path validation, OCSP and signatures: swift-certificates
        // cannot parse RSA-1024 card keys, has no CRLs and no policy tree (see ../shared/docs/STACK.md §6).
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // System libxml2 + libxmlsec1 (OpenSSL backend): XML signatures (STACK.md §1).
        .systemLibrary(name: "CXMLSec", pkgConfig: "xmlsec1-openssl", providers: [.apt(["libxmlsec1-dev", "libxml2-dev", "pkg-config"])]),
        // Hardened XML parsing and XML-DSig verification; owns every libxml2/libxmlsec1 resource.
        .target(name: "XMLSecurity", dependencies: ["CXMLSec", "CodedErrors"]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // The SAML 2.0 identity provider with the SPID profile: messages, rules, metadata. No HTTP, no storage.
        .target(name: "SAML", dependencies: ["HexEncoding", "XMLSecurity", "KeyMaterial", "LoginOutcome", "ItalianIdentity", "CodedErrors", "CZlib"]),
        // The OpenID Connect provider with the SPID/CIE profile: JOSE, requests, tokens. No HTTP, no storage.
        .target(name: "OIDC", dependencies: ["HexEncoding", "JSONText", "LoginOutcome", "ItalianIdentity", "CodedErrors", "COpenSSL", .product(name: "Crypto", package: "swift-crypto"),
                                             .product(name: "_CryptoExtras", package: "swift-crypto")]),
        // OpenID Federation 1.0 as the SPID/CIE OIDC profile uses it: entity statements, trust chains to pinned anchors,
        // metadata policies, trust marks, the gateway's own Entity Configuration. Fetches through OutboundHTTP's protocol.
        .target(name: "OpenIDFederation", dependencies: ["OIDC", "OutboundHTTP", "LoginOutcome", "CodedErrors", .product(name: "Crypto", package: "swift-crypto")]),
        // ETSI TS 119 612 trusted lists (the AgID TSL), signature-verified.
        .target(name: "TrustedList", dependencies: ["XMLSecurity", "CNSValidation", "KeyMaterial", "CodedErrors"]),
        // What the gateway decodes from requests an outsider writes: form bodies and queries, the certificate a trusted
        // proxy forwards, the client address it names. Pure, so the fuzz package builds it alone.
        .target(name: "RequestDecoding", dependencies: [.product(name: "HTTPTypes", package: "swift-http-types")]),
        // The error shape shared by every library (a stable code plus a sentence).
        .target(name: "CodedErrors"),
        // Hexadecimal of bytes (fingerprints, serials, hashes), without Foundation's formatter.
        .target(name: "HexEncoding"),
        // JSON strings written over bytes (JWS payloads, the audit log's canonical payloads).
        .target(name: "JSONText", dependencies: ["HexEncoding"]),
        .target(
            name: "ItalianIdentity",
            dependencies: ["CodedErrors"],
            resources: [.copy("Resources/belfiore.tsv")]
        ),
        // What a login reached or how it ended (the SPID level, the ending), shared by the login flow and both front ends.
        .target(name: "LoginOutcome", dependencies: ["ItalianIdentity"]),
        // The gateway's one outbound HTTP client (CRLs, OCSP, SAML metadata, client JWKS, back-channel logout): no redirects,
        // streamed size limits, deadlines, internal addresses refused; and the protocol the libraries fetch through.
        .target(name: "OutboundHTTP", dependencies: [.product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                     .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio")]),
        // Keys and X.509 certificates over libcrypto: parsing, signature checks, and making the gateway's own keys and
        // self-signed certificates (production code; the test PKI builds on it).
        .target(name: "KeyMaterial", dependencies: ["HexEncoding", "COpenSSL", "CodedErrors", "ItalianIdentity"]),
        .target(
            name: "CNSValidation",
            dependencies: [
                "COpenSSL", "ItalianIdentity", "CodedErrors", "LoginOutcome", "KeyMaterial", "OutboundHTTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(name: "CNSTestPKI", dependencies: ["COpenSSL", "CNSValidation", "KeyMaterial"]),
        // Everything persistent behind one protocol; backends below it, the audit chain above it.
        .target(name: "GatewayStorage", dependencies: ["CodedErrors"]),
        .target(name: "GatewayStorageSQLite", dependencies: ["GatewayStorage", .product(name: "GRDB", package: "GRDB.swift")]),
        // The same protocol on PostgreSQL, for several instances sharing one database (pool, TLS, LISTEN/NOTIFY).
        .target(name: "GatewayStoragePostgres", dependencies: ["GatewayStorage", .product(name: "PostgresNIO", package: "postgres-nio"),
                                                                .product(name: "Logging", package: "swift-log"),
                                                                .product(name: "NIOSSL", package: "swift-nio-ssl")]),
        // Private keys and secrets sealed at rest (AES-256-GCM under a key kept outside the database), as a storage decorator.
        .target(name: "KeyProtection", dependencies: ["GatewayStorage", "CodedErrors", .product(name: "Crypto", package: "swift-crypto")]),
        // The gateway's signing keys: made with KeyMaterial, rolled over by compare-and-swap in storage.
        .target(name: "GatewayKeys", dependencies: ["GatewayStorage", "KeyMaterial", "HexEncoding"]),
        // The trust store of the CAs an admin trusts, from storage (for the card listener and the admin commands).
        .target(name: "GatewayTrust", dependencies: ["CNSValidation", "GatewayStorage", "KeyMaterial"]),
        .target(name: "GatewayAudit", dependencies: ["HexEncoding", "JSONText", "GatewayStorage", "CodedErrors", .product(name: "Crypto", package: "swift-crypto")]),
        // The protocol-agnostic login (pending login, level policy, consent), shared by the SAML and OIDC front ends.
        .target(name: "GatewayLogin", dependencies: ["HexEncoding", "LoginOutcome", "ItalianIdentity", "GatewayStorage", "CodedErrors", .product(name: "Crypto", package: "swift-crypto")]),
        // `cnsgw serve`'s settings: defaults, Config/gateway.yaml, CNSGW_* environment variables.
        .target(name: "GatewayConfiguration", dependencies: [.product(name: "Yams", package: "Yams")]),
        // Turns TLS session resumption off on swift-nio-ssl's BoringSSL contexts (the card listener's), which NIOSSL cannot.
        .target(name: "CTLSResumption"),
        // HTTP, TLS and the card listener only: every rule lives in the libraries above.
        .target(
            name: "GatewayServer",
            dependencies: [
                "CNSValidation", "ItalianIdentity", "GatewayStorage", "GatewayAudit", "GatewayLogin", "CodedErrors", "SAML", "XMLSecurity", "OIDC", "OpenIDFederation",
                "GatewayConfiguration", "LoginOutcome", "KeyMaterial", "GatewayKeys", "GatewayTrust", "HexEncoding", "RequestDecoding", "CTLSResumption",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
                "OutboundHTTP",
            ],
            resources: [.copy("Templates")]
        ),
        .executableTarget(
            name: "cnsgw",
            dependencies: [
                "CNSValidation", "ItalianIdentity", "CNSTestPKI", "GatewayStorage", "GatewayStorageSQLite", "GatewayStoragePostgres", "GatewayAudit", "GatewayServer", "GatewayConfiguration", "GatewayLogin", "TrustedList", "SAML", "OIDC", "OpenIDFederation", "KeyProtection", "KeyMaterial", "LoginOutcome", "GatewayKeys", "GatewayTrust", "OutboundHTTP", "RequestDecoding",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            linkerSettings: gatewayAllocator
        ),
        .executableTarget(
            name: "cnsgw-bench",
            dependencies: ["CNSValidation", "CNSTestPKI", "KeyMaterial", "OutboundHTTP", "LoginOutcome", "ItalianIdentity", "COpenSSL", "SAML", "XMLSecurity", "OIDC", .product(name: "Logging", package: "swift-log"),
                           .product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto")],
            path: "Benchmarks/CNSBenchmarks"
        ),
        // OIDC load generator for bench/oidc.sh (a benchmark tool, not shipped; AsyncHTTPClient is otherwise tests-only).
        .executableTarget(
            name: "cnsgw-oidc-load",
            dependencies: ["OIDC", "CNSTestPKI", "KeyMaterial", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "Crypto", package: "swift-crypto")],
            path: "Benchmarks/OIDCLoad"
        ),
        // The federation benchmark for bench/federation.sh (first, cached and manual authorization requests).
        .executableTarget(
            name: "cnsgw-federation-bench",
            dependencies: ["GatewayServer", "GatewayStorage", "GatewayStorageSQLite", "GatewayAudit", "OIDC", "OpenIDFederation", "OutboundHTTP", "LoginOutcome",
                           "FederationTestSupport", .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "_CryptoExtras", package: "swift-crypto")],
            path: "Benchmarks/FederationBench"
        ),
        // Test support: real helper processes (openssl ocsp, http.server) and a command runner.
        .target(name: "CNSTestSupport", path: "Tests/Support"),
        // The shared conformance suite every GatewayStorage backend runs.
        .target(name: "StorageConformance", dependencies: ["GatewayStorage", "GatewayAudit"], path: "Tests/StorageConformance"),
        .testTarget(name: "GatewayLoginTests", dependencies: ["GatewayLogin", "LoginOutcome", "GatewayStorage", "ItalianIdentity"]),
        .testTarget(name: "GatewayStorageSQLiteTests", dependencies: ["GatewayStorageSQLite", "StorageConformance", "GatewayAudit",
                                                                  .product(name: "GRDB", package: "GRDB.swift")], resources: [.copy("Fixtures")]),
        // In-process tests of the engines over their stores and of the server's glue (no listener, no child process).
        .testTarget(name: "GatewayServerTests", dependencies: ["GatewayServer", "FederationTestSupport", "OpenIDFederation", "OutboundHTTP", "LoginOutcome", "SAML", "SAMLTestSupport", "XMLSecurity", "GatewayLogin", "GatewayStorage", "GatewayAudit", "OIDC", "CNSValidation", "ItalianIdentity",
                                                             .product(name: "Crypto", package: "swift-crypto"),
                                                             .product(name: "_CryptoExtras", package: "swift-crypto"),
                                                             .product(name: "Mustache", package: "swift-mustache"),
                                                             .product(name: "Prometheus", package: "swift-prometheus"),
                                                             .product(name: "Metrics", package: "swift-metrics")]),
        .testTarget(name: "GatewayAuditTests", dependencies: ["GatewayAudit"]),
        .testTarget(name: "HexEncodingTests", dependencies: ["HexEncoding", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "GatewayStorageTests", dependencies: ["GatewayStorage", "StorageConformance"]),
        .testTarget(name: "GatewayStoragePostgresTests", dependencies: ["GatewayStoragePostgres", "StorageConformance", "GatewayAudit", "CNSTestSupport"]),
        .testTarget(name: "KeyProtectionTests", dependencies: ["KeyProtection", "GatewayStorageSQLite", "StorageConformance"]),
        .testTarget(name: "GatewayConfigurationTests", dependencies: ["GatewayConfiguration"]),
        .testTarget(name: "TrustedListTests", dependencies: ["TrustedList", "KeyMaterial", "XMLSecurity", "CNSTestPKI", "CNSValidation", "CNSTestSupport"]),
        // A SAML service provider made at test time (key, metadata, signed messages), for the SAML and engine tests.
        .target(name: "SAMLTestSupport", dependencies: ["SAML", "XMLSecurity", "KeyMaterial"], path: "Tests/SAMLTestSupport"),
        .testTarget(name: "SAMLTests", dependencies: ["SAML", "SAMLTestSupport", "KeyMaterial", "LoginOutcome", "XMLSecurity", "CNSTestPKI", "CNSValidation", "ItalianIdentity",
                                                      "CNSTestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "OIDCTests", dependencies: ["OIDC", "CNSValidation", .product(name: "Crypto", package: "swift-crypto"),
                                                      .product(name: "_CryptoExtras", package: "swift-crypto")]),
        // A federation of statements made at test time, served over HTTP on 127.0.0.1 (Tests/Federation/statement_server.py).
        .target(name: "FederationTestSupport", dependencies: ["OpenIDFederation", "OIDC", "CNSTestSupport", .product(name: "Crypto", package: "swift-crypto")],
                path: "Tests/FederationTestSupport"),
        .testTarget(name: "OpenIDFederationTests", dependencies: ["OpenIDFederation", "OIDC", "OutboundHTTP", "FederationTestSupport"]),
        .testTarget(name: "ItalianIdentityTests", dependencies: ["ItalianIdentity"]),
        .testTarget(name: "CNSValidationTests", dependencies: ["CNSValidation", "KeyMaterial", "OutboundHTTP", "CNSTestPKI", "ItalianIdentity", "CNSTestSupport"]),
        .testTarget(name: "CNSGatewayCLITests", dependencies: [
            "CNSTestPKI", "CNSValidation", "CNSTestSupport", "GatewayLogin", "GatewayStorageSQLite", "GatewayServer", "LoginOutcome", "KeyMaterial", "OutboundHTTP",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
    ]
)
