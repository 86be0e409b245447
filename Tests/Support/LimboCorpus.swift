import Foundation

/// One x509-limbo test case, as the corpus's JSON writes it (the fields the library's and the CLI's runs read).
public struct LimboCase: Decodable, Sendable {
    public let id: String
    public let trusted_certs: [String]
    public let untrusted_intermediates: [String]
    public let peer_certificate: String
    public let validation_time: String?
    public let key_usage: [String]
    public let extended_key_usage: [String]
    public let expected_result: String
    public let max_chain_depth: Int?
    public let crls: [String]

    struct Corpus: Decodable { let testcases: [LimboCase] }

    /// The cases of the corpus file at `path` (`../shared/data/x509-limbo/limbo-path-only.json`).
    public static func load(_ path: String) throws -> [LimboCase] {
        try JSONDecoder().decode(Corpus.self, from: Data(contentsOf: URL(fileURLWithPath: path))).testcases
    }
}
