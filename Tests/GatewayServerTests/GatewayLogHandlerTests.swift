import Foundation
@testable import GatewayServer
import Logging
import Synchronization
import Testing

@Suite struct GatewayLogHandlerTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    static func logger(_ format: GatewayLogHandler.Format, level: Logger.Level = .warning) -> (Logger, Lines) {
        let lines = Lines()
        let logger = Logger(label: "cnsgw.test") { label in
            GatewayLogHandler(label: label, format: format, logLevel: level, write: { lines.append($0) })
        }
        return (logger, lines)
    }

    @Test("JSON lines: one object per event with time, level, label, source, message and the metadata, nested values kept")
    func json() throws {
        var (logger, lines) = Self.logger(.json)
        logger[metadataKey: "hb.request.id"] = "42"
        let metadata: Logger.Metadata = ["ca": .string("Regione"), "ages": .array([.string("1"), .stringConvertible(2)]),
                                         "nested": .dictionary(["k": .string("v")])]
        logger.warning("CRL \"a\\b\" is stale\nrefresh it", metadata: metadata)
        logger.info("below the level")
        #expect(lines.all.count == 1)
        let line = try #require(lines.all.first)
        #expect(line.hasSuffix("}\n") && !line.dropLast().contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "warning")
        #expect(object["label"] as? String == "cnsgw.test")
        #expect(object["message"] as? String == "CRL \"a\\b\" is stale\nrefresh it")
        #expect(object["source"] as? String == "GatewayServerTests")
        let time = try #require(object["time"] as? String)
        let parsed = try Date(time, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        #expect(parsed.timeIntervalSinceNow.magnitude < 60)
        let fields = try #require(object["metadata"] as? [String: Any])
        #expect(fields["hb.request.id"] as? String == "42")
        #expect(fields["ca"] as? String == "Regione")
        let ages = fields["ages"] as? [String]
        #expect(ages == ["1", "2"])
        let nested = fields["nested"] as? [String: String]
        #expect(nested == ["k": "v"])
    }

    @Test("text lines: StreamLogHandler's layout, metadata sorted, the call's metadata over the logger's")
    func text() throws {
        var (logger, lines) = Self.logger(.text, level: .info)
        logger[metadataKey: "b"] = "logger"
        logger[metadataKey: "a"] = "1"
        logger.info("started", metadata: ["b": "call"])
        let line = try #require(lines.all.first)
        #expect(line.hasSuffix(" info cnsgw.test : a=1 b=call [GatewayServerTests] started\n"), "\(line)")
        #expect(lines.all.count == 1)
    }
}
