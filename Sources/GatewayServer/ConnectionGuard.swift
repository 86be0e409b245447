import Foundation
import HummingbirdCore
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

/// Wraps a listener's child channel (TLS + HTTP/1) with the limits a flood must not get past: at most
/// `maximumConnections` open connections on the listener and `maximumConnectionsPerAddress` from one address (trusted
/// proxies exempt: every browser behind them shares their address), and a deadline by which a new connection must
/// have finished its TLS handshake and sent its first request's headers (a slow or silent client is closed). Idle
/// keep-alive connections are closed by Hummingbird's idle timeout, set beside this.
public struct GuardedChannel<Base: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Base.Value
    let base: Base
    let limiter: ConnectionLimiter
    let headerTimeout: TimeAmount

    public init(_ base: Base, limiter: ConnectionLimiter, headerTimeout: TimeInterval) {
        self.base = base
        self.limiter = limiter
        self.headerTimeout = .milliseconds(Int64(headerTimeout * 1000))
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let address = channel.remoteAddress?.ipAddress ?? "-"
        guard limiter.open(address) else {
            Counter(label: "cnsgw_connections_refused_total", dimensions: [("listener", limiter.name)]).increment()
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
        }
        channel.closeFuture.whenComplete { _ in limiter.close(address) }
        let deadline = FirstRequestDeadline(timeout: headerTimeout, listener: limiter.name)
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            // After the TLS handler, where the bytes are the plaintext request.
            let tls = try channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
            try channel.pipeline.syncOperations.addHandler(deadline, position: .after(tls))
            return value
        }
    }

    public func handle(value: Base.Value, logger: Logger) async {
        guard let eventLoop = (value as? any ChannelCarrying)?.channel.eventLoop else {
            return await base.handle(value: value, logger: logger)
        }
        await withTaskExecutorPreference(EventLoopTaskExecutor(eventLoop)) {
            await base.handle(value: value, logger: logger)
        }
    }
}

extension GuardedChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    public var responder: HTTPChannelHandler.Responder { base.responder }
}

/// Counts open connections per listener and per address.
public final class ConnectionLimiter: Sendable {
    let name: String
    let maximum: Int
    let maximumPerAddress: Int
    let exempt: Set<String>
    private let counts = NIOLockedValueBox((total: 0, byAddress: [String: Int]()))

    /// `maximum` is lowered to fit the process's file-descriptor limit (two listeners, and room for the database,
    /// logs and outbound requests), so the limit is reached before the process runs out of descriptors.
    public init(name: String, maximum: Int, maximumPerAddress: Int, exempt: Set<String>) {
        var limit = rlimit()
        let descriptors = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Int(clamping: limit.rlim_cur) : 1024
        self.name = name
        self.maximum = max(1, min(maximum, (descriptors - 128) / 2))
        self.maximumPerAddress = max(1, maximumPerAddress)
        self.exempt = exempt
    }

    /// Counts a new connection from `address`; false when a limit is reached (the connection is then closed).
    func open(_ address: String) -> Bool {
        counts.withLockedValue { c in
            let fromAddress = c.byAddress[address, default: 0]
            guard c.total < maximum, exempt.contains(address) || fromAddress < maximumPerAddress else { return false }
            c.total += 1
            c.byAddress[address] = fromAddress + 1
            return true
        }
    }

    func close(_ address: String) {
        counts.withLockedValue { c in
            c.total -= 1
            let left = c.byAddress[address, default: 1] - 1
            c.byAddress[address] = left > 0 ? left : nil
        }
    }

    public var openConnections: Int { counts.withLockedValue { $0.total } }
}

/// Closes a connection that has not delivered its first request's headers (the end of the header block) within the
/// timeout of its opening: the TLS handshake and the headers must both come in that time.
final class FirstRequestDeadline: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let timeout: TimeAmount
    let listener: String
    private var timer: Scheduled<Void>?
    /// The last bytes seen, to find `\r\n\r\n` across reads.
    private var tail: [UInt8] = []

    init(timeout: TimeAmount, listener: String) {
        self.timeout = timeout
        self.listener = listener
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        let listener = self.listener
        timer = context.eventLoop.scheduleTask(in: timeout) {
            Counter(label: "cnsgw_connections_timed_out_total", dimensions: [("listener", listener)]).increment()
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if timer != nil {
            tail += buffer.readableBytesView.suffix(4096)
            if Self.containsHeaderEnd(tail) {
                timer?.cancel()
                timer = nil
                context.fireChannelRead(data)
                context.pipeline.syncOperations.removeHandler(self, promise: nil)
                return
            }
            tail = Array(tail.suffix(3))
        }
        context.fireChannelRead(data)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    static func containsHeaderEnd(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 4 else { return false }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 { return true }
        return false
    }
}
