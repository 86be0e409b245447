import Foundation
import GatewayConfiguration
import Testing

@Suite struct SettingsLoaderTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func write(_ yaml: String) throws -> String {
        let path = NSTemporaryDirectory() + "cnsgw-settings-\(UUID().uuidString).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("Config/gateway.yaml names every setting and its values are the defaults")
    func shippedFileIsTheDefaults() throws {
        let path = Self.repository.appendingPathComponent("Config/gateway.yaml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(try SettingsLoader.load(file: path, environment: [:]) == GatewaySettings())
        for key in SettingsLoader.knownKeys {
            let leaf = String(key.split(separator: ".").last!)
            #expect(text.contains("\n" + (key.contains(".") ? "  " : "") + leaf + ":"), "Config/gateway.yaml does not document \(key)")
        }
    }

    @Test("file, then environment: typed values, lists, durations, URLs")
    func overrides() throws {
        let file = try write("""
            data_dir: /srv/cnsgw
            card:
              port: 9444
              trusted_proxies: [10.0.0.5, "::1"]
              url: https://carta.example.it/
            sso:
              levels: []
              lifetime: 15m
            audit:
              retention: 365d
            """)
        let s = try SettingsLoader.load(file: file, environment: ["CNSGW_CARD_PORT": "10444", "CNSGW_SSO_LEVELS": "SpidL1, SpidL2", "PATH": "/bin",
                                                                  "CNSGW_CONFIG": file])
        #expect(s.dataDirectory == "/srv/cnsgw" && s.cardListener.port == 10444 && s.trustedProxies == ["10.0.0.5", "::1"])
        #expect(s.cardListener.externalURL == "https://carta.example.it" && s.publicListener.externalURL == "https://127.0.0.1:8443")
        #expect(s.ssoLevels == ["SpidL1", "SpidL2"] && s.ssoLifetime == 900 && s.auditRetention == 365 * 86_400)
        #expect(try SettingsLoader.load(file: try write("sso:\n  levels: []\n"), environment: [:]).ssoLevels.isEmpty)
        #expect(try SettingsLoader.load(file: try write(""), environment: [:]) == GatewaySettings())
        // Federation: entity identifiers kept exactly as written (a trailing slash is part of one), lists from the environment.
        let federation = try SettingsLoader.load(file: try write("federation:\n  authority_hints: [\"https://ta.example.it/\"]\n  max_fetches: 6\n"),
                                                 environment: ["CNSGW_FEDERATION_CONTACTS": "a@x.it, b@x.it"])
        #expect(federation.federationAuthorityHints == ["https://ta.example.it/"] && federation.federationMaximumFetches == 6)
        #expect(federation.federationContacts == ["a@x.it", "b@x.it"])
    }

    @Test("a bad setting names itself and where it came from", arguments: [
        ("card:\n  port: 70000\n", "card.port", "not a port number"),
        ("card:\n  prot: 1\n", "card.prot", "unknown setting"),
        ("cards:\n  port: 1\n", "cards", "unknown section"),
        ("sso:\n  levels: [SpidL4]\n", "sso.levels", "not one of SpidL1, SpidL2, SpidL3"),
        ("sso:\n  lifetime: soon\n", "sso.lifetime", "not a duration"),
        ("card:\n  trusted_proxies: [proxy.example.it]\n", "card.trusted_proxies", "not an IP address"),
        ("public:\n  url: http://x.example.it\n", "public.url", "not an https URL"),
        ("demo: perhaps\n", "demo", "not true or false"),
        ("federation:\n  authority_hints: [http://ta.example.it/]\n", "federation.authority_hints", "not an entity identifier"),
        ("federation:\n  authority_hints: [\"https://ta.example.it/?x=1\"]\n", "federation.authority_hints", "not an entity identifier"),
        ("card: [1, 2\n", "", "not valid YAML"),
        ("- a\n- b\n", "", "top level must be a mapping"),
    ])
    func badSettings(yaml: String, setting: String, message: String) throws {
        let file = try write(yaml)
        do {
            _ = try SettingsLoader.load(file: file, environment: [:])
            Issue.record("\(yaml) was accepted")
        } catch let error as SettingsError {
            #expect(error.setting == (setting.isEmpty ? file : setting), "\(error)")
            #expect(error.description.contains(message), "\(error)")
            if !setting.isEmpty && message != "unknown section" { #expect(error.description.contains(file), "\(error) does not name the file") }
        }
    }

    @Test("a bad or unknown environment variable names itself")
    func badEnvironment() throws {
        #expect(throws: SettingsError.self) { try SettingsLoader.load(file: nil, environment: ["CNSGW_CARD_PROT": "1"]) }
        do {
            _ = try SettingsLoader.load(file: nil, environment: ["CNSGW_AUDIT_RETENTION": "2h"])
            Issue.record("a retention under one day was accepted")
        } catch let error as SettingsError {
            #expect(error.setting == "audit.retention" && error.description.contains("$CNSGW_AUDIT_RETENTION"), "\(error)")
        }
        #expect(SettingsLoader.environmentName("card.trusted_proxies") == "CNSGW_CARD_TRUSTED_PROXIES")
    }
}
