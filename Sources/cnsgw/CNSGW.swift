import ArgumentParser
import Foundation
import GatewayServer
import Logging
import NIOCore
import NIOPosix

/// `cnsgw` — the TS-CNS identity-provider gateway's command line.
@main
struct CNSGW: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cnsgw",
        abstract: "Identity-provider gateway for the Italian TS-CNS smart card.",
        discussion: """
        Exit status: 0 success (a valid certificate or code), 1 a negative decision (not valid), \
        2 a bad invocation or an unreadable file.
        """,
        subcommands: [VerifyCommand.self, CodiceFiscaleCommand.self, TestPKICommand.self, CACommand.self, AuditCommand.self, CRLCommand.self, SPCommand.self, ClientCommand.self, FederationCommand.self, KeysCommand.self, StorageCommand.self, ServeCommand.self]
    )

    /// Every logger writes through ``GatewayLogHandler`` in `format`; the level of loggers that do not set their own is
    /// `CNSGW_LOG_LEVEL`, warning by default. Called once per process.
    static func bootstrapLogging(format: GatewayLogHandler.Format) {
        let level = ProcessInfo.processInfo.environment["CNSGW_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        LoggingSystem.bootstrap { label in GatewayLogHandler(label: label, format: format, logLevel: level) }
    }

    /// Runs the command and maps every outcome onto the documented exit statuses (ArgumentParser's own
    /// usage errors would otherwise exit 64).
    static func main() async {
        if CommandLine.arguments.dropFirst().first == "serve" {
            // The server's async handlers then run on SwiftNIO's event-loop threads, not on a second pool of threads
            // that every request would hop to and back from (SwiftNIO's documented take-over; main thread, first thing).
            _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        } else {
            // `serve` sets up logging itself once its settings (`log.format`) are read.
            bootstrapLogging(format: .text)
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            if let exit = error as? ExitCode, exit.rawValue == 1 { Foundation.exit(1) }
            let message = fullMessage(for: error)
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            Foundation.exit(2)
        }
    }
}

/// `--display-name`: the name citizens see, one line of plain text.
enum DisplayName {
    static func check(_ name: String) throws -> String {
        let collapsed = name.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        guard !collapsed.isEmpty, collapsed.count <= 120, !collapsed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw UsageError("--display-name must be one line of 1 to 120 characters")
        }
        return collapsed
    }
}

/// A usage or input problem: printed on stderr, exit status 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
