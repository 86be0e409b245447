import Foundation
import GatewayStorage
import Logging
import PostgresNIO

// Change notifications (LISTEN on the channel the schema's triggers NOTIFY, see StorageMigrations step 10).
extension PostgresGatewayStorage: StorageChangeNotifying {
    /// Listens on one pooled connection. When that connection is lost (the database restarted, a network cut), the
    /// feed sends ``StorageChanges/anyTable`` once it listens again, so nothing missed in between is kept stale,
    /// and retries every second meanwhile; the snapshots' own polling covers that gap.
    public func changedTables() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(64))
        let task = Task { [client, logger] in
            var failures = 0
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: StorageMigrations.changeChannel) { notifications in
                            failures = 0
                            continuation.yield(StorageChanges.anyTable)
                            for try await notification in notifications { continuation.yield(notification.payload) }
                        }
                    }
                } catch {
                    if Task.isCancelled { break }
                    failures += 1
                    // The first loss is worth a warning; the retries that follow are not.
                    if failures == 1 { logger.warning("storage change notifications lost; polling until they are back", metadata: ["error": "\(error)"]) }
                }
                try? await Task.sleep(for: .seconds(1))
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
