import Foundation
import Glibc

/// A fresh directory made with mkdtemp under a parent directory; `remove()` deletes it with its files.
struct TempDirectory {
    let path: String

    init(in parent: String) throws {
        var template = Array("\(parent)/sluice-bench-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { mkdtemp($0) != nil } ?? false
        }
        guard made else { throw BenchError.system("mkdtemp in \(parent)") }
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    func remove() {
        do { try FileManager.default.removeItem(atPath: path) } catch {
            FileHandle.standardError.write(Data("warning: could not remove \(path): \(error)\n".utf8))
        }
    }
}
