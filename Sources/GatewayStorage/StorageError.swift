import CodedErrors

/// Why a storage operation failed. `code` is stable; `detail` says what to do.
public struct StorageError: CodedError {
    public enum Code: String, Sendable, Hashable {
        case notFound = "not_found"
        case alreadyExists = "already_exists"
        /// A compare-and-swap lost against a concurrent writer; retry from a fresh read.
        case conflict
        /// The database file is not a database, or its schema is newer than this binary.
        case corrupted
        case unavailable
    }

    public let code: Code
    public let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }
}
