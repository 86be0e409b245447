import CNSTestPKI
import CNSTestSupport
import Foundation
import KeyMaterial
import Testing

/// `cnsgw ca import-tsl` against a running gateway: lists signed with `xmlsec1`, changes seen without a restart.
@Suite(.serialized) struct ImportTSLCommandTests {
    func cnsgw(_ args: [String]) throws -> CommandResult { try runCommand(VerifyCommandTests.binary, args) }

    @Test("dry run, --apply, a later list that withdraws a CA, a hand-added CA kept, old and tampered lists refused")
    func importTrustedList() throws {
        let root = NSTemporaryDirectory() + "cnsgw-import-tsl-\(UUID().uuidString)"
        var pkis: [String] = []
        for (i, cf) in ["RCCMNL83S18D969H", "VRDGPP70C10F205B", "BNCLRA90B68H501Z"].enumerated() {
            let dir = root + "/pki\(i)"
            #expect(try cnsgw(["testpki", "init", dir, "--ca-name", "Regione \(i) - CA Cittadini"]).status == 0)
            #expect(try cnsgw(["testpki", "card", dir, "--cf", cf, "--given-name", "Test", "--surname", "Card"]).status == 0)
            pkis.append(dir)
        }
        let signerKey = try PrivateKey(.rsa2048)
        let signer = try CertificateBuilder(subject: [("CN", "TSL signer (test)")], serial: TestPKI.randomSerial(), notBefore: Date() - 60,
                                                notAfter: Date() + 86_400, extensions: []).build(key: signerKey, issuer: nil, issuerKey: signerKey)
        try signerKey.pemPrivateKey.write(toFile: root + "/signer.key", atomically: true, encoding: .utf8)
        try signer.pem.write(toFile: root + "/signer.pem", atomically: true, encoding: .utf8)
        func caDER(_ i: Int) throws -> Data {
            let pem = try String(contentsOfFile: pkis[i] + "/ca.pem", encoding: .utf8)
            return Data(base64Encoded: pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined())!
        }
        func list(_ sequence: Int, active: [Int], withdrawn: [Int]) throws -> String {
            let services = try active.map { TrustedListFixture.Service(provider: "TSP \($0)", name: "Regione \($0) - CA Cittadini", certificatesDER: [try caDER($0)]) }
                + withdrawn.map { TrustedListFixture.Service(provider: "TSP \($0)", name: "Regione \($0) - CA Cittadini",
                                                             status: "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn", certificatesDER: [try caDER($0)]) }
            let signed = try TrustedListFixture.sign(TrustedListFixture.unsigned(sequence: sequence, services: services),
                                                     keyPEMPath: root + "/signer.key", certificatePEMPath: root + "/signer.pem")
            let path = root + "/tsl-\(sequence).xml"
            try signed.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        let server = try ServeCommandTests.Server(["--no-demo"])
        defer { server.process.stop() }
        let data = ["--data-dir", server.data]
        func login(_ i: Int) throws -> Int { try server.login(card: ["rccmnl83s18d969h", "vrdgpp70c10f205b", "bnclra90b68h501z"][i], pki: pkis[i]).0 }
        // A CA the admin trusts by hand: no import ever removes it.
        #expect(try cnsgw(["ca", "add", pkis[2] + "/ca.pem", "--revocation", "none"] + data).status == 0)
        usleep(ServeCommandTests.trustPropagation)

        let first = try list(42, active: [0], withdrawn: [1])
        let dry = try cnsgw(["ca", "import-tsl", first, "--signer-cert", root + "/signer.pem", "--revocation", "none"] + data)
        #expect(dry.status == 0 && dry.stdout.contains("+ add") && dry.stdout.contains("Regione 0") && dry.stdout.contains("run again with --apply"),
                "\(dry.stdout)\(dry.stderr)")
        #expect(try login(0) == 403)
        let applied = try cnsgw(["ca", "import-tsl", first, "--signer-cert", root + "/signer.pem", "--revocation", "none", "--apply"] + data)
        #expect(applied.status == 0 && applied.stdout.contains("applied: 1 added, 0 removed"), "\(applied.stdout)\(applied.stderr)")
        usleep(ServeCommandTests.trustPropagation)
        #expect(try login(0) == 200 && login(1) == 403 && login(2) == 200)

        // The next list withdraws Regione 0 and brings Regione 1 into force; it also lists the hand-added CA.
        let second = try list(43, active: [1, 2], withdrawn: [0])
        let json = try cnsgw(["ca", "import-tsl", second, "--signer-cert", root + "/signer.pem", "--revocation", "none", "--json"] + data)
        let plan = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((plan?["add"] as? [Any])?.count == 1 && (plan?["remove"] as? [Any])?.count == 1 && (plan?["keep"] as? [Any])?.count == 1, "\(json.stdout)")
        #expect(try cnsgw(["ca", "import-tsl", second, "--signer-cert", root + "/signer.pem", "--revocation", "none", "--apply"] + data).status == 0)
        usleep(ServeCommandTests.trustPropagation)
        #expect(try login(0) == 403 && login(1) == 200 && login(2) == 200)

        // The third list drops everything: only what imports added goes; the hand-added CA stays.
        let third = try list(44, active: [], withdrawn: [1, 2])
        #expect(try cnsgw(["ca", "import-tsl", third, "--signer-cert", root + "/signer.pem", "--apply"] + data).stdout.contains("1 removed"))
        usleep(ServeCommandTests.trustPropagation)
        #expect(try login(1) == 403 && login(2) == 200)

        let old = try cnsgw(["ca", "import-tsl", first, "--signer-cert", root + "/signer.pem", "--apply"] + data)
        #expect(old.status == 2 && old.stderr.contains("lower than the last imported one (44)"), "\(old.stderr)")
        let tampered = root + "/tampered.xml"
        try String(contentsOfFile: second, encoding: .utf8).replacingOccurrences(of: "Svcstatus/withdrawn", with: "Svcstatus/granted")
            .write(toFile: tampered, atomically: true, encoding: .utf8)
        let refused = try cnsgw(["ca", "import-tsl", tampered, "--signer-cert", root + "/signer.pem", "--apply"] + data)
        #expect(refused.status == 2 && refused.stderr.contains("(signature)") && refused.stderr.contains("nothing was changed"), "\(refused.stderr)")
        let audit = try cnsgw(["audit", "export"] + data).stdout
        #expect(audit.components(separatedBy: "\"action\":\"ca.import-tsl\"").count == 4 && audit.contains("\"by\":\"cnsgw ca import-tsl\""))
    }
}
