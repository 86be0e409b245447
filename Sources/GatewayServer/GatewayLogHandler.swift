import Foundation
import JSONText
import Logging

/// The gateway's log handler: one line per event on standard error, as text (`time level label : key=value [source]
/// message`, the layout of swift-log's `StreamLogHandler`) or as a JSON object per line (`CNSGW_LOG_FORMAT=json`, for
/// log shippers), with the metadata as typed fields.
///
/// Written here rather than using `StreamLogHandler` as it is: that handler renders its metadata into a string every
/// time the metadata changes, and Hummingbird sets a request id on every request's logger, so each card step paid for
/// a rendering that a log level of `warning` never prints (0.5% of the gateway's CPU in a `perf` profile of
/// bench/card-logins.sh). This one keeps the metadata as it is and renders it only for a line that is written.
public struct GatewayLogHandler: LogHandler {
    /// How a line is written.
    public enum Format: String, Sendable, CaseIterable {
        case text, json
    }

    public let label: String
    public let format: Format
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let write: @Sendable (String) -> Void

    /// A handler writing to standard error.
    public init(label: String, format: Format = .text, logLevel: Logger.Level = .info, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.init(label: label, format: format, logLevel: logLevel, metadataProvider: metadataProvider) { line in
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    /// A handler writing each finished line (newline included) to `write`.
    public init(label: String, format: Format, logLevel: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil,
                write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.format = format
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
                    file: String, function: String, line: UInt) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let explicit { all.merge(explicit) { _, new in new } }
        write(render(time: Date(), level: level, message: message.description, metadata: all, source: source))
    }

    /// One line for the event, newline included.
    func render(time: Date, level: Logger.Level, message: String, metadata: Logger.Metadata, source: String) -> String {
        let stamp = time.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        switch format {
        case .text:
            let fields = metadata.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
            return "\(stamp) \(level) \(label) :\(fields) [\(source)] \(message)\n"
        case .json:
            var out = [UInt8]()
            out.append(UInt8(ascii: "{"))
            func field(_ name: String, _ append: (inout [UInt8]) -> Void) {
                if out.count > 1 { out.append(UInt8(ascii: ",")) }
                JSONText.appendString(name, to: &out)
                out.append(UInt8(ascii: ":"))
                append(&out)
            }
            field("time") { JSONText.appendString(stamp, to: &$0) }
            field("level") { JSONText.appendString(level.rawValue, to: &$0) }
            field("label") { JSONText.appendString(label, to: &$0) }
            field("source") { JSONText.appendString(source, to: &$0) }
            field("message") { JSONText.appendString(message, to: &$0) }
            if !metadata.isEmpty { field("metadata") { Self.append(.dictionary(metadata), to: &$0) } }
            out.append(UInt8(ascii: "}"))
            out.append(UInt8(ascii: "\n"))
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// A metadata value as JSON: strings and string-convertibles as strings, arrays and dictionaries as they are.
    static func append(_ value: Logger.Metadata.Value, to out: inout [UInt8]) {
        switch value {
        case .string(let s): JSONText.appendString(s, to: &out)
        case .stringConvertible(let c): JSONText.appendString(c.description, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                append(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .dictionary(let entries):
            out.append(UInt8(ascii: "{"))
            for (index, entry) in entries.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.appendString(entry.key, to: &out)
                out.append(UInt8(ascii: ":"))
                append(entry.value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}
