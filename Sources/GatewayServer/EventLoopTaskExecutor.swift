import NIOCore

/// Runs a connection's request handling on the connection's own event loop instead of Swift's global executor.
///
/// Hummingbird hands each connection's requests to an async task, which by default runs on the cooperative pool: every
/// request then crosses threads twice (event loop → pool → event loop) and each crossing wakes a sleeping thread. With
/// this executor as the task's preference (SE-0417) the handler's nonisolated code and default actors run where the
/// bytes already are. Nothing on the request path blocks: SQLite reads are point lookups in WAL mode (they never wait
/// for a writer), writes and outbound fetches are asynchronous. (Neither NIO nor Hummingbird ships such an executor
/// in the versions we use, hence this one.)
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// A child channel's value that knows its NIO channel (Hummingbird's HTTP/1 value is a `NIOAsyncChannel`).
protocol ChannelCarrying {
    var channel: any Channel { get }
}

extension NIOAsyncChannel: ChannelCarrying {}
