import COpenSSL
import Foundation

/// SHA-256 through the system's libcrypto (OpenSSL's EVP interface, which uses the CPU's SHA
/// extensions): the provenance hashes of shards, indexes and pipeline files.
public final class SHA256 {
    private let context: OpaquePointer

    public init() {
        // Allocation fails only when memory does; there is no way on without a context.
        guard let context = EVP_MD_CTX_new() else { fatalError("libcrypto: cannot allocate a digest context") }
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(bufferPointer bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    /// The 32-byte digest; the hasher is spent afterwards.
    public func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        _ = digest.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
        return digest
    }

    public static func hash(data: UnsafeRawBufferPointer) -> [UInt8] {
        let hasher = SHA256()
        hasher.update(bufferPointer: data)
        return hasher.finalize()
    }

    public static func hash(data: Data) -> [UInt8] {
        data.withUnsafeBytes { hash(data: $0) }
    }
}
