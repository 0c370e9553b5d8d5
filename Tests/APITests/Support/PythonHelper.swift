import Foundation

/// Starts one of the tests' Python helpers (Tests/Support/*.py: a real SMTP server, a fake vision
/// endpoint) with the project's .venv Python and reads the first line it prints, which says
/// where it listens. Closing `input` stops helpers that watch their stdin.
enum PythonHelper {
    static func start(
        _ arguments: [String], errors: FileHandle? = nil, environment: [String: String]? = nil
    ) throws -> (process: Process, input: Pipe, firstLine: String) {
        let process = Process()
        process.executableURL = TestPostgres.projectRoot.appendingPathComponent(".venv/bin/python")
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = Pipe(), input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        if let errors { process.standardError = errors }
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        return (process, input, String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
