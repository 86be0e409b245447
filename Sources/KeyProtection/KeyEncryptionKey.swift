import CodedErrors
import Crypto
import Foundation
import GatewayStorage

/// The key-encryption key: AES-256-GCM key that seals the private keys and secrets the database holds. It lives
/// outside the database (a 0600 file, or an environment variable), so a copy of the database or a backup alone
/// reveals no signing key.
public struct KeyEncryptionKey: Sendable {
    let key: SymmetricKey

    /// Why the key cannot be had. Start-up stops with the sentence; nothing is written.
    public struct Failure: CodedError {
        public enum Code: String, Sendable, Hashable {
            case kekLength = "kek_length", kekEncoding = "kek_encoding", kekUnreadable = "kek_unreadable", kekMissing = "kek_missing"
            case kekWrite = "kek_write", seal, sealedFormat = "sealed_format", kekWrong = "kek_wrong", permissions
        }
        public let code: Code
        public let detail: String
    }

    public init(bytes: Data) throws {
        guard bytes.count == 32 else {
            throw Failure(code: .kekLength, detail: "the key-encryption key must be 32 bytes (256 bits), not \(bytes.count)")
        }
        key = SymmetricKey(data: bytes)
    }

    /// A new random key.
    public static func generate() -> KeyEncryptionKey {
        try! KeyEncryptionKey(bytes: SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
    }

    /// The key from `base64` (an environment variable), else from `file`. A missing file is created (0600) only
    /// when `mayCreate` — that is, when the database holds nothing sealed yet; otherwise it is an error naming the
    /// file, since a new key could open nothing.
    public static func load(base64: String?, file: String, mayCreate: Bool) throws -> KeyEncryptionKey {
        if let base64, !base64.isEmpty {
            guard let data = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw Failure(code: .kekEncoding, detail: "keys.encryption_key is not base64 (32 random bytes: `openssl rand -base64 32`)")
            }
            return try KeyEncryptionKey(bytes: data)
        }
        if FileManager.default.fileExists(atPath: file) {
            try FilePermissions.requirePrivate(file, setting: "keys.encryption_key_file")
            guard let data = FileManager.default.contents(atPath: file) else {
                throw Failure(code: .kekUnreadable, detail: "keys.encryption_key_file: cannot read \(file)")
            }
            return try KeyEncryptionKey(bytes: data)
        }
        guard mayCreate else {
            throw Failure(code: .kekMissing, detail: "keys.encryption_key_file: \(file) does not exist, but the database holds private keys "
                          + "encrypted with it; restore the file (or set CNSGW_KEYS_ENCRYPTION_KEY) — a new key could not open them")
        }
        let generated = generate()
        let bytes = generated.key.withUnsafeBytes { Data($0) }
        guard FileManager.default.createFile(atPath: file, contents: bytes, attributes: [.posixPermissions: 0o600]) else {
            throw Failure(code: .kekWrite, detail: "keys.encryption_key_file: cannot write \(file)")
        }
        return generated
    }

    static let prefix = SigningKeyRecord.sealedPrefix + "v1:"

    /// Whether `text` was sealed by ``seal(_:context:)``.
    public static func isSealed(_ text: String) -> Bool { text.hasPrefix(prefix) }

    /// AES-256-GCM of `plaintext`, bound to `context` (the record it belongs to) as additional data.
    public func seal(_ plaintext: Data, context: String) throws -> String {
        let box = try AES.GCM.seal(plaintext, using: key, authenticating: Data(context.utf8))
        guard let combined = box.combined else { throw Failure(code: .seal, detail: "AES-GCM produced no combined form") }
        return Self.prefix + combined.base64EncodedString()
    }

    public func open(_ sealed: String, context: String) throws -> Data {
        guard Self.isSealed(sealed), let combined = Data(base64Encoded: String(sealed.dropFirst(Self.prefix.count))) else {
            throw Failure(code: .sealedFormat, detail: "the stored value for \(context) is not a sealed key")
        }
        do {
            return try AES.GCM.open(AES.GCM.SealedBox(combined: combined), using: key, authenticating: Data(context.utf8))
        } catch {
            throw Failure(code: .kekWrong, detail: "the key-encryption key does not open the stored key \(context): it is not the key the "
                          + "database was sealed with (keys.encryption_key_file / CNSGW_KEYS_ENCRYPTION_KEY)")
        }
    }
}

/// Checks that files holding keys and the data folder are the gateway's alone.
public enum FilePermissions {
    /// Throws when group or others have any access to `path`, naming the `chmod` that fixes it.
    public static func requirePrivate(_ path: String, setting: String, directory: Bool = false) throws {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue else { return }
        guard mode & 0o077 == 0 else {
            let fix = directory ? "chmod 700" : "chmod 600"
            throw KeyEncryptionKey.Failure(code: .permissions, detail: "\(setting): \(path) can be read by other users (mode \(String(mode & 0o777, radix: 8))); "
                                           + "run `\(fix) \(path)`")
        }
    }
}
