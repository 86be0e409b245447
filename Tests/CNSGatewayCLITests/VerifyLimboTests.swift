import CNSTestSupport
import Foundation
import Testing

/// The x509-limbo RFC 5280 groups through the command line, as a conformance suite would drive it:
/// `cnsgw verify --profile rfc5280` with the case's anchors, intermediates, time, end-entity usages, depth and CRLs.
@Suite struct VerifyLimboTests {
    typealias Case = LimboCase

    static var corpus: String {
        let shared = ProcessInfo.processInfo.environment["CNSGW_SHARED_DATA"]
            ?? BrowserTests.repository.deletingLastPathComponent().appendingPathComponent("shared/data").path
        return shared + "/x509-limbo/limbo-path-only.json"
    }

    /// The arguments of `cnsgw verify` for a case, its files written to `folder`.
    static func arguments(_ c: Case, folder: String) throws -> [String] {
        func write(_ name: String, _ pems: [String]) throws -> String {
            let path = folder + "/" + name
            try pems.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        var args = ["verify", try write("peer.pem", [c.peer_certificate]), "--trust", try write("anchors.pem", c.trusted_certs), "--profile", "rfc5280", "--json"]
        if !c.untrusted_intermediates.isEmpty { args += ["--chain", try write("intermediates.pem", c.untrusted_intermediates)] }
        if let time = c.validation_time { args += ["--at", time] }
        if c.extended_key_usage.contains("serverAuth") { args += ["--extended-key-usage", "serverAuth"] }
        else if c.extended_key_usage.contains("clientAuth") { args += ["--extended-key-usage", "clientAuth"] }
        for usage in c.key_usage { args += ["--key-usage", usage] }
        if let depth = c.max_chain_depth { args += ["--max-chain-depth", "\(depth)"] }
        if c.crls.isEmpty {
            args.append("--no-revocation")
        } else {
            for (i, crl) in c.crls.enumerated() { args += ["--crl", try write("crl\(i).pem", [crl])] }
            args += ["--revocation", "crl-only", "--offline"]
        }
        return args
    }

    @Test("x509-limbo RFC 5280 groups through `cnsgw verify --profile rfc5280`: every miss is a known, explained difference")
    func rfc5280GroupsThroughTheCLI() throws {
        let cases = try LimboCase.load(Self.corpus).filter { !$0.id.hasPrefix("webpki::") }
        #expect(cases.count > 100)
        var misses: [(String, String)] = []
        for c in cases {
            let folder = NSTemporaryDirectory() + "limbo-cli-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let r = try runCommand(VerifyCommandTests.binary, try Self.arguments(c, folder: folder))
            // A trust anchor that cannot be parsed is a bad invocation (exit 2), never a valid path: a FAILURE for the corpus.
            #expect(r.status == 0 || r.status == 1 || (r.status == 2 && r.stderr.contains("cannot load the trusted CAs")), "\(c.id): exit \(r.status): \(r.stderr)")
            let report = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            #expect(report?["identity"] is NSNull || report?["identity"] == nil, "\(c.id): the rfc5280 profile reports no identity")
            let verdict = r.status == 0 ? "SUCCESS" : "FAILURE"
            if verdict != c.expected_result { misses.append((c.id, "expected \(c.expected_result): \(report?["reason"] ?? "") \(report?["detail"] ?? r.stderr)")) }
        }
        print("x509-limbo RFC 5280 groups via the CLI: \(cases.count - misses.count)/\(cases.count) as expected")
        for (id, why) in misses { print("  limbo CLI miss \(id): \(why)") }
        let unexplained = misses.filter { LimboKnownDifferences.all[$0.0] == nil }
        #expect(unexplained.isEmpty, "unexplained: \(unexplained)")
    }

    @Test("--profile rfc5280: a certificate that is no CNS card is valid; the policy inputs decide; the CNS-only options are refused with cns")
    func profileOptions() throws {
        let cases = try LimboCase.load(Self.corpus)
        // A plain valid chain from the corpus: refused by the CNS profile (no codice fiscale), valid as RFC 5280.
        let plain = try #require(cases.first { $0.expected_result == "SUCCESS" && $0.crls.isEmpty && $0.id.hasPrefix("rfc5280::") && $0.extended_key_usage.isEmpty })
        let folder = NSTemporaryDirectory() + "limbo-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let args = try Self.arguments(plain, folder: folder)
        let rfc = try runCommand(VerifyCommandTests.binary, args)
        #expect(rfc.status == 0, "\(plain.id): \(rfc.stdout)")
        let cnsArgs = args.enumerated().filter { i, a in !(a == "--profile" || (i > 0 && args[i - 1] == "--profile")) }.map(\.1)
        let cns = try runCommand(VerifyCommandTests.binary, cnsArgs)
        #expect(cns.status == 1, "the CNS profile refuses a certificate that is not a card: \(cns.stdout)")
        // An initial policy set the path cannot satisfy, with explicit policy required: refused as a policy failure.
        let explicit = try runCommand(VerifyCommandTests.binary, args + ["--policy", "1.2.3.4.5.6", "--explicit-policy"])
        #expect(explicit.status == 1 && explicit.stdout.contains("\"reason\":\"policy\""), "\(explicit.stdout)")
        for option in [["--explicit-policy"], ["--inhibit-any-policy"], ["--max-chain-depth", "1"]] {
            let refused = try runCommand(VerifyCommandTests.binary, cnsArgs + option)
            #expect(refused.status == 2 && refused.stderr.contains("rfc5280"), "\(option): \(refused.stderr)")
        }
        #expect(try runCommand(VerifyCommandTests.binary, args + ["--key-usage", "sometimes"]).status == 2)
    }
}
