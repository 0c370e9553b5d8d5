import Foundation
import Synchronization

/// Upload progress shared by the workers: a bar with bytes/s and ETA redrawn on stderr when it is
/// a terminal, and one plain line per finished file on stdout (unless --json).
final class UploadProgress: Sendable {
    private struct Counters {
        var filesDone = 0
        var bytesDone: Int64 = 0  // sent, resumed past, or skipped
        var bytesSent: Int64 = 0
        var lastDrawn = ""
    }

    let totalFiles: Int
    let totalBytes: Int64
    let started = Date()
    let bar: Bool
    let lines: Bool
    private let counters = Mutex(Counters())

    init(totalFiles: Int, totalBytes: Int64, json: Bool) {
        self.totalFiles = totalFiles
        self.totalBytes = totalBytes
        bar = !json && isatty(STDERR_FILENO) == 1
        lines = !json
    }

    var bytesSent: Int64 { counters.withLock { $0.bytesSent } }

    /// Bytes sent to the server.
    func sent(_ count: Int64) {
        counters.withLock {
            $0.bytesSent += count
            $0.bytesDone += count
        }
    }

    /// Bytes accounted for without sending (already on the server).
    func skipped(_ count: Int64) {
        counters.withLock { $0.bytesDone += count }
    }

    /// One file is done: its line, above the bar.
    func finished(_ line: String) {
        let done = counters.withLock { counters -> Int in
            counters.filesDone += 1
            return counters.filesDone
        }
        guard lines else { return }
        let width = String(totalFiles).count
        let counter = String(repeating: " ", count: max(0, width - String(done).count)) + "\(done)"
        if bar { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        FileHandle.standardOutput.write(Data("[\(counter)/\(totalFiles)] \(line)\n".utf8))
        if bar { draw(force: true) }
    }

    /// A line that is not a finished file (a skipped one, a warning).
    func say(_ line: String) {
        guard lines else { return }
        if bar { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        FileHandle.standardOutput.write(Data("\(line)\n".utf8))
        if bar { draw(force: true) }
    }

    /// Redraws the bar: `[######......] 12/30 files  45 MB/120 MB  3.1 MB/s  ETA 0:24`.
    func draw(force: Bool = false) {
        guard bar else { return }
        let text = counters.withLock { counters -> String? in
            let elapsed = max(Date().timeIntervalSince(started), 0.001)
            let rate = Double(counters.bytesSent) / elapsed
            let fraction = totalBytes > 0 ? min(1, Double(counters.bytesDone) / Double(totalBytes)) : 1
            let filled = Int(fraction * 24)
            let eta = rate > 0 ? Format.duration(Double(totalBytes - counters.bytesDone) / rate) : "--:--"
            let text = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 24 - filled) + "] "
                + "\(counters.filesDone)/\(totalFiles) files  \(Format.bytes(counters.bytesDone))/\(Format.bytes(totalBytes))  "
                + "\(Format.bytes(Int64(rate)))/s  ETA \(eta)"
            if text == counters.lastDrawn && !force { return nil }
            counters.lastDrawn = text
            return text
        }
        if let text { FileHandle.standardError.write(Data("\r\u{1B}[2K\(text)".utf8)) }
    }

    /// Removes the bar before the summary.
    func clear() {
        if bar { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
    }
}
