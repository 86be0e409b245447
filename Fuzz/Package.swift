// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for the parsers that read bytes an outsider controls (issue 14). A package of its own, so the
// sanitizer build (`-sanitize=fuzzer,address`) compiles only what each target needs, in its own build folder.
// Build and run through bench/fuzz.sh TARGET SECONDS; each binary serves several targets, chosen by CNSGW_FUZZ_TARGET.
let package = Package(
    name: "cnsgw-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "cnsgw", path: ".."),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
    ],
    targets: [
        // libFuzzer's driver behind the targets' main.
        .target(name: "FuzzDriver"),
        // JSON parser, base64url, JWS and JWE compact parsing.
        .executableTarget(name: "FuzzOIDC", dependencies: ["FuzzDriver", .product(name: "OIDC", package: "cnsgw"), .product(name: "Crypto", package: "swift-crypto"),
                                                           .product(name: "_CryptoExtras", package: "swift-crypto")]),
        // SAML bindings (Redirect query + DEFLATE, POST base64 + XML), xs:dateTime, SP metadata, raw DEFLATE.
        .executableTarget(name: "FuzzSAML", dependencies: ["FuzzDriver", .product(name: "SAML", package: "cnsgw")]),
        // Streaming CRL parser and revoked-serial index, certificate loading (DER/PEM), OCSP responses, trusted lists.
        .executableTarget(name: "FuzzPKI", dependencies: ["FuzzDriver", .product(name: "CNSValidation", package: "cnsgw"),
                                                          .product(name: "TrustedList", package: "cnsgw"), .product(name: "XMLSecurity", package: "cnsgw"),
                                                          .product(name: "KeyMaterial", package: "cnsgw")]),
        // Form bodies and queries, the proxy's certificate and address headers.
        .executableTarget(name: "FuzzRequest", dependencies: ["FuzzDriver", .product(name: "RequestDecoding", package: "cnsgw"),
                                                              .product(name: "KeyMaterial", package: "cnsgw"),
                                                              .product(name: "HTTPTypes", package: "swift-http-types")]),
    ]
)
