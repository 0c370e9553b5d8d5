import Foundation
import Media

/// Test images made at test time (shared by MediaTests and APITests) with the `vips` and `exiftool` command-line tools, in a fresh
/// temporary folder per use; nothing binary is committed.
public final class Fixtures: @unchecked Sendable {
    public let folder: URL

    public init() throws {
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("media-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: folder)
    }

    public func path(_ name: String) -> String {
        folder.appendingPathComponent(name).path
    }

    /// Runs a tool found on PATH; throws with its output when it fails.
    @discardableResult
    public func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.currentDirectoryURL = folder
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: output, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw FixtureError.toolFailed("\(tool) \(arguments.joined(separator: " ")): \(text)")
        }
        return text
    }

    /// A 3-band sRGB image with some texture, so encoders produce realistic amounts of data.
    public func image(_ name: String, width: Int, height: Int, plain: Bool = false) throws -> String {
        let base = "base-\(UUID().uuidString).v"
        if plain {
            try run("vips", ["black", base, "\(width)", "\(height)", "--bands", "3"])
        } else {
            // Three independent noise bands, cast to 8 bits before they are labelled sRGB.
            var bands: [String] = []
            for band in 0..<3 {
                let noise = "noise-\(band)-\(UUID().uuidString).v"
                let bytes = "bytes-\(band)-\(UUID().uuidString).v"
                try run("vips", ["gaussnoise", noise, "\(width)", "\(height)", "--mean", "128", "--sigma", "30",
                                 "--seed", "\(band + 1)"])
                try run("vips", ["cast", noise, bytes, "uchar"])
                bands.append(bytes)
            }
            let joined = "joined-\(UUID().uuidString).v"
            try run("vips", ["bandjoin", bands.joined(separator: " "), joined])
            try run("vips", ["copy", joined, base, "--interpretation", "srgb"])
        }
        let target = path(name)
        try run("vips", ["copy", base, target])
        return target
    }

    /// Writes tags with exiftool in place (numeric values where `#` is used).
    public func tag(_ file: String, _ tags: [String]) throws {
        try run("exiftool", ["-q", "-q", "-overwrite_original"] + tags + [file])
    }

    public func bytes(_ file: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: file)))
    }

    public func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let target = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }
}

public enum FixtureError: Error {
    case toolFailed(String)
}

/// A source that fails once reading reaches `failAt`, as a decrypting reader might midway.
public final class FailingSource: RandomAccessSource, @unchecked Sendable {
    let bytes: [UInt8]
    let failAt: Int64

    public init(_ bytes: [UInt8], failAt: Int64) {
        self.bytes = bytes
        self.failAt = failAt
    }

    public var size: Int64 { Int64(bytes.count) }

    struct Broken: Error, CustomStringConvertible {
        var description: String { "authentication tag mismatch" }
    }

    public func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if offset + Int64(buffer.count) > failAt { throw Broken() }
        return try MemorySource(bytes).read(at: offset, into: buffer)
    }
}

/// A source that claims to have read more than it was asked for.
public final class LyingSource: RandomAccessSource, @unchecked Sendable {
    let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var size: Int64 { Int64(bytes.count) }
    public func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try MemorySource(bytes).read(at: offset, into: buffer)
        return offset < 64 ? n : buffer.count + 1
    }
}

/// CRC-32 (IEEE), for hand-made PNG chunks.
public func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 {
            crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
        }
    }
    return ~crc
}

public func bigEndian32(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
}

public func littleEndian16(_ value: UInt16) -> [UInt8] {
    [UInt8(value & 0xFF), UInt8(value >> 8)]
}

public func littleEndian32(_ value: UInt32) -> [UInt8] {
    [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs anywhere.
    public func contains(bytes needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        for start in 0...(count - needle.count) where self[start] == needle[0] {
            if Array(self[start..<start + needle.count]) == needle { return true }
        }
        return false
    }
}

/// A one-file ZIP archive with the file stored uncompressed: local header, data, central
/// directory and end record, as `unzip` expects.
public func storedZIP(name: String, contents: [UInt8]) -> [UInt8] {
    let fileName = Array(name.utf8)
    let crc = crc32(contents)
    let size = UInt32(contents.count)
    let common = littleEndian16(20) + littleEndian16(0) + littleEndian16(0)  // version, flags, stored
        + littleEndian16(0) + littleEndian16(0x21)  // time, date (1980-01-01)
        + littleEndian32(crc) + littleEndian32(size) + littleEndian32(size)
        + littleEndian16(UInt16(fileName.count)) + littleEndian16(0)
    let local = [0x50, 0x4B, 0x03, 0x04] + common + fileName + contents
    let central = [0x50, 0x4B, 0x01, 0x02] + littleEndian16(20) + common
        + littleEndian16(0) + littleEndian16(0) + littleEndian16(0) + littleEndian32(0) + littleEndian32(0)
        + fileName
    let end = [0x50, 0x4B, 0x05, 0x06] + littleEndian16(0) + littleEndian16(0) + littleEndian16(1) + littleEndian16(1)
        + littleEndian32(UInt32(central.count)) + littleEndian32(UInt32(local.count)) + littleEndian16(0)
    return local + central + end
}
