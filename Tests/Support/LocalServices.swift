import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Real helper processes (openssl ocsp, python3 http.server) on 127.0.0.1, started and stopped by tests.
public final class LocalService: @unchecked Sendable {
    // @unchecked Sendable: `pid` is written once in init; stop() is idempotent.
    // posix_spawn rather than Foundation.Process: Process.waitUntilExit can hang inside swift-testing's executor.
    public private(set) var pid: pid_t = 0
    public let port: Int
    public let logPath: String

    public init(_ arguments: [String], port: Int) throws {
        self.port = port
        logPath = NSTemporaryDirectory() + "cnsgw-service-\(UUID().uuidString).log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = (["/usr/bin/env"] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let rc = posix_spawn(&pid, "/usr/bin/env", &actions, nil, argv, environ)
        guard rc == 0 else { throw ServiceError("cannot start \(arguments): \(String(cString: strerror(rc)))") }
    }

    public var isRunning: Bool {
        var status: Int32 = 0
        return pid > 0 && waitpid(pid, &status, WNOHANG) == 0
    }

    /// Waits until the port accepts connections, or until the log shows `marker` (for servers that a bare
    /// connect-and-close would upset: `openssl ocsp` then spins on the dead connection and never answers again).
    public func waitUntilListening(marker: String? = nil, timeout: TimeInterval = 15) throws {
        let deadline = Date() + timeout
        while Date() < deadline {
            if let marker { if log.contains(marker) { return } } else if Self.canConnect(port) { return }
            guard isRunning else { throw ServiceError("service exited: \(log)") }
            usleep(50_000)
        }
        throw ServiceError("nothing listens on \(port) after \(timeout) s: \(log)")
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends SIGTERM and waits up to `timeout` seconds; returns the exit status, or nil if it did not exit.
    public func terminate(timeout: TimeInterval = 15) -> Int32? {
        guard pid > 0 else { return nil }
        kill(pid, SIGTERM)
        let deadline = Date() + timeout
        var status: Int32 = 0
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { pid = 0; return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F) }
            usleep(50_000)
        }
        return nil
    }

    public func stop() {
        guard pid > 0 else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pid = 0
    }

    deinit { stop() }

    public static func openSSLOCSP(pkiDirectory d: String, port: Int, nextUpdateMinutes: Int = 5) throws -> LocalService {
        let s = try LocalService(["openssl", "ocsp", "-index", "\(d)/index.txt", "-CA", "\(d)/ca.pem", "-rsigner", "\(d)/ocsp.pem",
                                  "-rkey", "\(d)/ocsp.key", "-port", "\(port)", "-nmin", "\(nextUpdateMinutes)"], port: port)
        try s.waitUntilListening(marker: "waiting for OCSP client connections")
        return s
    }

    public static func httpServer(directory: String, port: Int) throws -> LocalService {
        let s = try LocalService(["python3", "-m", "http.server", "\(port)", "--bind", "127.0.0.1", "--directory", directory], port: port)
        try s.waitUntilListening()
        return s
    }

    /// Accepts connections and never answers.
    public static func silentServer(port: Int) throws -> LocalService {
        let script = "import socket,time\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
            + "s.bind(('127.0.0.1',\(port)));s.listen(16)\nconns=[]\nwhile True:\n  c,_=s.accept();conns.append(c)\n"
        let s = try LocalService(["python3", "-c", script], port: port)
        try s.waitUntilListening()
        return s
    }

    /// A port nothing listens on now.
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    public static func canConnect(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 } }
    }
}

public struct ServiceError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// A clock tests can move forward.
public final class TestClock: @unchecked Sendable {
    public init() {}
    // @unchecked Sendable: `offset` is guarded by `lock`.
    private let lock = NSLock()
    private var offset: TimeInterval = 0
    public func advance(_ seconds: TimeInterval) { lock.lock(); offset += seconds; lock.unlock() }
    public var now: Date { lock.lock(); defer { lock.unlock() }; return Date() + offset }
}

/// The result of running a command to completion.
public struct CommandResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// Runs a program (looked up on PATH through /usr/bin/env unless absolute) and waits for it.
public func runCommand(_ executable: String, _ arguments: [String], timeout: TimeInterval = 120) throws -> CommandResult {
    let out = NSTemporaryDirectory() + "cnsgw-cmd-\(UUID().uuidString)"
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, out + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, out + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    let program = executable.hasPrefix("/") ? executable : "/usr/bin/env"
    let args = executable.hasPrefix("/") ? [executable] + arguments : ["/usr/bin/env", executable] + arguments
    let argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, program, &actions, nil, argv, environ)
    guard rc == 0 else { throw ServiceError("cannot run \(executable): \(String(cString: strerror(rc)))") }
    let deadline = Date() + timeout
    var status: Int32 = 0
    while waitpid(pid, &status, WNOHANG) == 0 {
        if Date() > deadline { kill(pid, SIGKILL); waitpid(pid, &status, 0); throw ServiceError("\(executable) ran over \(timeout) s") }
        usleep(10_000)
    }
    defer { try? FileManager.default.removeItem(atPath: out + ".out"); try? FileManager.default.removeItem(atPath: out + ".err") }
    let exited = status & 0x7F == 0
    return CommandResult(status: exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F),
                         stdout: (try? String(contentsOfFile: out + ".out", encoding: .utf8)) ?? "",
                         stderr: (try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? "")
}
