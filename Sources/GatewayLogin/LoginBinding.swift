import CodedErrors
import Crypto
import Foundation
import HexEncoding

/// The secrets that bind a pending login to browsers: the front end's binding cookie (set in the browser that
/// started the login), the consent form's token, and the continuation secret of the consenting browser's redirect.
/// Only digests are stored.
public enum LoginBinding {
    /// The binding cookie's name for one login; its path is the front end's continuation path.
    public static func cookieName(loginID: String) -> String { "cnsgw_login_" + loginID }

    /// 256 random bits as lowercase hex (safe in cookies, URLs and form fields as it is).
    /// The bits come from swift-crypto's generator in one call; drawing them a byte at a time from
    /// `SystemRandomNumberGenerator` made 32 `getrandom` system calls per secret, 1% of a card step's CPU.
    public static func newSecret() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Hex.encode(Array($0)) }
    }

    /// Lowercase hex SHA-256 of a secret, as stored.
    public static func digest(_ secret: String) -> String {
        Hex.encode(SHA256.hash(data: Data(secret.utf8)))
    }

    /// Compares two strings in time that depends only on their lengths.
    public static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in x.indices { difference |= x[i] ^ y[i] }
        return difference == 0
    }
}
