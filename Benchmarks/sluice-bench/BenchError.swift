import Glibc

/// A failed system call or a broken stream during a benchmark run.
struct BenchError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }

    /// Describes the current `errno` after `call` failed.
    static func system(_ call: String, errno code: Int32 = errno) -> BenchError {
        BenchError("\(call): \(String(cString: strerror(code))) (errno \(code))")
    }
}
