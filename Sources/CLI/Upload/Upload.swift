import ArgumentParser
import Dispatch
import Foundation
import GRPCCore
import PhotoVaultProto
import Synchronization

/// `photovault upload PATH…`: files and folders, several at a time, through resumable sessions.
struct Upload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Upload photos: files and folders (recursively), resumable, duplicates skipped without sending.",
        discussion: """
            Non-images (by name and first bytes) are skipped and listed. Each file's SHA-256 is computed first; \
            files whose bytes your library already holds (or that another file of this run has) are not sent. \
            Each file goes through a resumable upload session whose id is kept in \
            ~/.config/photovault/uploads/ until the file is stored: after Ctrl-C, a lost connection or a crash, \
            run the same command again and every file continues where it stopped. \
            A progress bar (bytes/s, ETA) is drawn on stderr when it is a terminal; one line per file goes to stdout. \
            With --json: no lines, one summary document at the end. Exit status 9 when some files failed, \
            130 when interrupted.
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "Files and folders.") var paths: [String]
    @Option(help: "Files uploaded at the same time.") var jobs = 4
    @Option(help: "Add every photo to this album of yours.") var album: String?
    @Option(help: "Upload into this event.") var event: Int64?

    func validate() throws {
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 64.") }
    }

    func run() async throws {
        let found = PhotoFinder(paths: paths)
        let settings = Uploader.Settings(jobs: jobs, albumID: album ?? "", eventID: event, json: options.json)
        let options = self.options
        let interrupted = SignalFlag()
        let work = Task {
            try await withAPI(options) { api in
                try await Uploader(api: api, settings: settings, found: found).run()
            }
        }
        // Ctrl-C: stop, let the server keep what it has, print the summary; a second Ctrl-C quits at once.
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            if interrupted.set() { _exit(130) }
            work.cancel()
        }
        source.resume()
        let summary = try await work.value
        source.cancel()
        summary.print(json: options.json)
        if summary.interrupted || interrupted.isSet {
            Output.note("photovault: \(CLIError.interrupted)")
            throw ExitCode(CLIError.interrupted.exitCode)
        }
        if !summary.failed.isEmpty {
            let error = CLIError.partialUpload(failed: summary.failed.count, of: summary.total)
            Output.note("photovault: \(error)")
            throw ExitCode(error.exitCode)
        }
    }
}

/// What happened to each file; printed at the end.
struct UploadSummary: Sendable {
    struct File: Sendable {
        var path: String
        var result: String
        var imageID = ""
        var bytesSent: Int64 = 0
        var reason = ""
        var status = ""
    }

    var files: [File] = []
    var skipped: [PhotoFinder.Skipped] = []
    var bytesSent: Int64 = 0
    var bytesTotal: Int64 = 0
    var seconds: Double = 0
    var interrupted = false
    var total = 0

    func count(_ result: String) -> Int { files.filter { $0.result == result }.count }
    var failed: [File] { files.filter { $0.result == "failed" } }
    var resumed: Int { files.filter { $0.result == "uploaded" && $0.reason == "resumed" }.count }

    func print(json: Bool) {
        if json {
            Output.printJSON([
                "uploaded": count("uploaded"), "resumed": resumed, "already_uploaded": count("already_uploaded"),
                "duplicates": count("duplicate"), "failed": count("failed"), "interrupted_files": count("interrupted"),
                "not_started": count("not_started"),
                "skipped": skipped.map { ["path": $0.path, "reason": $0.reason] },
                "bytes_sent": bytesSent, "bytes_total": bytesTotal, "seconds": seconds, "interrupted": interrupted,
                "files": files.map { file -> [String: Any] in
                    var entry: [String: Any] = ["path": file.path, "result": file.result, "bytes_sent": file.bytesSent]
                    if !file.imageID.isEmpty { entry["image_id"] = file.imageID }
                    if !file.reason.isEmpty { entry["reason"] = file.reason }
                    if !file.status.isEmpty { entry["status"] = file.status }
                    return entry
                },
            ])
            return
        }
        var parts = ["\(count("uploaded")) uploaded" + (resumed > 0 ? " (\(resumed) resumed)" : "")]
        parts.append("\(count("already_uploaded")) already uploaded")
        parts.append("\(count("duplicate")) duplicates")
        parts.append("\(skipped.count) skipped (not images)")
        parts.append("\(failed.count) failed")
        if count("interrupted") > 0 { parts.append("\(count("interrupted")) interrupted") }
        if count("not_started") > 0 { parts.append("\(count("not_started")) not started") }
        let rate = seconds > 0 ? Format.bytes(Int64(Double(bytesSent) / seconds)) + "/s" : "-"
        Swift.print("Summary: " + parts.joined(separator: ", ") + ".")
        Swift.print("Sent \(Format.bytes(bytesSent)) of \(Format.bytes(bytesTotal)) in \(Format.duration(seconds)) (\(rate)).")
        if !failed.isEmpty {
            Swift.print("Failed:")
            for file in failed { Swift.print("  \(file.path): \(file.reason)") }
        }
    }
}

/// Runs one upload command: finds what the library already has, then uploads the rest with
/// `jobs` workers, each file through its own resumable session.
struct Uploader: Sendable {
    struct Settings: Sendable {
        var jobs: Int
        var albumID: String
        var eventID: Int64?
        var json: Bool
    }

    /// An image the library already holds.
    struct Existing: Sendable {
        var id: String
        var trashed: Bool
        var eventID: Int64?
    }

    let api: APIConnection
    let settings: Settings
    let found: PhotoFinder

    /// Shared between workers: the next file, and which digests this run has claimed.
    final class Shared: Sendable {
        struct State {
            var next = 0
            var claimed: [String: String] = [:]  // sha256 → path
            var files: [UploadSummary.File] = []
            var albumAdditions: [String] = []
        }
        let state = Mutex(State())
    }

    func run() async throws -> UploadSummary {
        let started = Date()
        UploadState.prune()
        var summary = UploadSummary()
        summary.skipped = found.skipped
        summary.total = found.candidates.count + found.missing.count
        summary.bytesTotal = found.candidates.reduce(0) { $0 + $1.size }
        let progress = UploadProgress(totalFiles: summary.total, totalBytes: summary.bytesTotal, json: settings.json)
        for skip in found.skipped { progress.say("skipped \(skip.path): \(skip.reason)") }
        let shared = Shared()
        for missing in found.missing {
            shared.state.withLock { $0.files.append(.init(path: missing.path, result: "failed", reason: missing.reason)) }
            progress.finished("failed \(missing.path): \(missing.reason)")
        }
        let library = found.candidates.isEmpty ? [:] : try await existingImages()
        let account = await api.tokens.account
        let drawing = Task {
            while !Task.isCancelled {
                progress.draw()
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<min(settings.jobs, max(1, found.candidates.count)) {
                group.addTask {
                    while !Task.isCancelled {
                        let index = shared.state.withLock { state -> Int in
                            defer { state.next += 1 }
                            return state.next
                        }
                        guard index < found.candidates.count else { return }
                        let candidate = found.candidates[index]
                        let file = await upload(candidate, account: account, library: library, shared: shared, progress: progress)
                        shared.state.withLock { $0.files.append(file) }
                        if file.result != "interrupted" { progress.finished(Self.line(file, size: candidate.size)) }
                    }
                }
            }
        }
        drawing.cancel()
        progress.clear()
        let interrupted = Task.isCancelled
        let state = shared.state.withLock { $0 }
        summary.files = state.files
        // Files never reached because of Ctrl-C.
        let reached = Set(state.files.map(\.path))
        for candidate in found.candidates where !reached.contains(candidate.path) {
            summary.files.append(.init(path: candidate.path, result: "not_started"))
        }
        if !interrupted, !settings.albumID.isEmpty, !state.albumAdditions.isEmpty {
            do {
                // AddImages takes at most 1,000 ids a call.
                for start in stride(from: 0, to: state.albumAdditions.count, by: 1000) {
                    let ids = Array(state.albumAdditions[start..<min(start + 1000, state.albumAdditions.count)])
                    _ = try await api.call { metadata in
                        try await api.albums.addImages(.with {
                            $0.albumID = settings.albumID
                            $0.imageIds = ids
                        }, metadata: metadata)
                    }
                }
            } catch {
                Output.note("photovault: the photos already uploaded could not be added to the album: \(CLIError(error))")
            }
        }
        summary.bytesSent = progress.bytesSent
        summary.seconds = Date().timeIntervalSince(started)
        summary.interrupted = interrupted
        summary.files.sort { $0.path < $1.path }
        return summary
    }

    static func line(_ file: UploadSummary.File, size: Int64) -> String {
        switch file.result {
        case "uploaded": "uploaded \(file.path) (\(Format.bytes(size))\(file.reason == "resumed" ? ", resumed" : "")) → \(file.imageID)"
        case "already_uploaded": "already uploaded \(file.path) → \(file.imageID)"
        case "duplicate": "duplicate \(file.path): \(file.reason)"
        default: "failed \(file.path): \(file.reason)"
        }
    }

    /// Every image of the caller (trashed ones too) by SHA-256, listed once: the cheapest honest
    /// way to skip duplicates before sending, as the server has no "do you have this digest?" call.
    func existingImages() async throws -> [String: Existing] {
        var images: [String: Existing] = [:]
        var token = ""
        repeat {
            let page = token
            let reply = try await api.call { metadata in
                try await api.images.listImages(.with {
                    $0.pageSize = 500
                    $0.pageToken = page
                    $0.includeTrashed = true
                }, metadata: metadata)
            }
            for image in reply.images {
                images[image.sha256] = Existing(id: image.id, trashed: image.hasDeletedAt, eventID: image.hasEventID ? image.eventID : nil)
            }
            token = reply.nextPageToken
        } while !token.isEmpty
        return images
    }

    /// One file, start to finish; never throws: failures are part of the summary.
    func upload(_ candidate: PhotoFinder.Candidate, account: String, library: [String: Existing], shared: Shared, progress: UploadProgress) async -> UploadSummary.File {
        var file = UploadSummary.File(path: candidate.path, result: "failed")
        let key = UploadState.key(server: api.server, account: account, candidate: candidate)
        var saved = UploadState.load(key: key)
        do {
            if saved == nil {
                let digest = try sha256(ofFile: candidate.absolutePath)
                saved = UploadState(path: candidate.absolutePath, size: candidate.size, modified: candidate.modified, sha256: digest, createdAt: Date())
            }
            guard var state = saved else { return file }
            if let existing = library[state.sha256], !existing.trashed, settings.eventID == nil || existing.eventID == settings.eventID {
                UploadState.remove(key: key)
                progress.skipped(candidate.size)
                file.result = "already_uploaded"
                file.imageID = existing.id
                if !settings.albumID.isEmpty { shared.state.withLock { $0.albumAdditions.append(existing.id) } }
                return file
            }
            let twin = shared.state.withLock { shared -> String? in
                if let other = shared.claimed[state.sha256] { return other }
                shared.claimed[state.sha256] = candidate.path
                return nil
            }
            if let twin {
                progress.skipped(candidate.size)
                file.result = "duplicate"
                file.reason = "same bytes as \(twin)"
                return file
            }
            let (image, duplicate, resumed) = try await send(candidate, state: &state, key: key, progress: progress, file: &file)
            UploadState.remove(key: key)
            file.imageID = image
            file.result = duplicate ? "duplicate" : "uploaded"
            if duplicate { file.reason = "the server already had these bytes" } else if resumed { file.reason = "resumed" }
            return file
        } catch {
            if Task.isCancelled || error is CancellationError {
                file.result = "interrupted"
                return file
            }
            let failure = CLIError(error)
            file.reason = failure.description
            file.status = failure.statusName ?? ""
            // A session the server refuses to continue is of no use to the next run.
            if case .server(let rpc) = failure, [.invalidArgument, .failedPrecondition, .notFound].contains(rpc.code) {
                UploadState.remove(key: key)
            }
            return file
        }
    }

    /// Creates or resumes the session, sends what the server lacks, finishes it.
    /// Returns the image id, whether the server called it a duplicate, and whether it resumed.
    func send(
        _ candidate: PhotoFinder.Candidate, state: inout UploadState, key: String, progress: UploadProgress, file: inout UploadSummary.File
    ) async throws -> (String, Bool, Bool) {
        var offset: Int64 = 0
        var resumed = false
        var chunkSize = 1 << 20
        if let sessionID = state.sessionID {
            do {
                let session = try await api.call { try await api.images.getUploadSession(.with { $0.sessionID = sessionID }, metadata: $0) }
                switch session.state {
                case .finished:
                    progress.skipped(candidate.size)
                    return (session.imageID, false, true)
                case .open, .complete:
                    offset = session.bytesReceived
                    resumed = offset > 0
                default:
                    state.sessionID = nil
                }
            } catch let error as RPCError where error.code == .notFound {
                state.sessionID = nil
            }
        }
        if state.sessionID == nil {
            let name = URL(fileURLWithPath: candidate.path).lastPathComponent
            let reply = try await api.call { metadata in
                try await api.images.createUploadSession(.with {
                    $0.fileName = name
                    $0.totalSize = candidate.size
                    $0.sha256 = state.sha256
                    $0.albumID = settings.albumID
                    if let event = settings.eventID { $0.eventID = event }
                }, metadata: metadata)
            }
            state.sessionID = reply.sessionID
            state.createdAt = Date()
            if reply.chunkSizeHint > 0 { chunkSize = Int(reply.chunkSizeHint) }
            state.save(key: key)
        }
        guard let sessionID = state.sessionID else { throw CLIError.local("No upload session.") }
        progress.skipped(offset)
        var attempt = 0
        while offset < candidate.size {
            do {
                let from = offset
                let size = chunkSize
                _ = try await api.call { metadata in
                    try await api.images.uploadChunks(metadata: metadata) { writer in
                        guard let handle = FileHandle(forReadingAtPath: candidate.absolutePath) else {
                            throw CLIError.local("Cannot read \(candidate.path).")
                        }
                        defer { try? handle.close() }
                        try handle.seek(toOffset: UInt64(from))
                        var position = from
                        while position < candidate.size {
                            try Task.checkCancellation()
                            guard let data = try handle.read(upToCount: size), !data.isEmpty else {
                                throw CLIError.local("\(candidate.path) became shorter while it was being sent.")
                            }
                            try await writer.write(.with {
                                $0.sessionID = sessionID
                                $0.offset = position
                                $0.data = data
                            })
                            position += Int64(data.count)
                            progress.sent(Int64(data.count))
                        }
                    }
                }
                file.bytesSent += candidate.size - from
                offset = candidate.size
            } catch let error as RPCError where error.code == .unavailable && attempt < 3 && !Task.isCancelled {
                // The connection broke: ask where the server stands and go on from there.
                attempt += 1
                try await Task.sleep(for: .seconds(attempt))
                let session = try await api.call { try await api.images.getUploadSession(.with { $0.sessionID = sessionID }, metadata: $0) }
                offset = session.bytesReceived
            }
        }
        let reply = try await api.call { try await api.images.finishUpload(.with { $0.sessionID = sessionID }, metadata: $0) }
        return (reply.image.id, reply.duplicate, resumed)
    }
}

/// A flag set from a signal handler.
final class SignalFlag: Sendable {
    private let value = Atomic<Bool>(false)

    /// Sets the flag; true when it was already set.
    func set() -> Bool { value.exchange(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}
