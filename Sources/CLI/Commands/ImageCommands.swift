import ArgumentParser
import Foundation
import GRPCCore
import PhotoVaultProto
import SwiftProtobuf

/// `photovault ls`: the library, newest first, page by page.
struct ListImages: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List your photos (ListImages).")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var paging: Paging
    @Option(help: "Taken on or after this date (2024-06-03 or 2024-06-03T10:00:00Z).") var from: String?
    @Option(help: "Taken on or before this date.") var to: String?
    @Flag(inversion: .prefixedNo, help: "Only photos with (or without) a GPS position.") var gps: Bool?
    @Option(help: "Only this format: jpeg, png, webp, heic, tiff, gif, avif.") var format: String?
    @Option(help: "Only photos of this event.") var event: Int64?
    @Flag(help: "Only photos in the trash.") var trashed = false
    @Flag(help: "Photos in the trash too.") var includeTrashed = false
    @Option(help: "taken-desc (default), taken-asc or uploaded-desc.") var order: String?

    func run() async throws {
        var request = Photovault_V1_ListImagesRequest()
        if let range = try timeRange(from: from, to: to) { request.taken = range }
        if let gps { request.hasGps_p = gps }
        if let format { request.format = try imageFormat(format) }
        if let event { request.eventID = event }
        request.onlyTrashed = trashed
        request.includeTrashed = includeTrashed
        switch order {
        case nil: break
        case "taken-desc": request.order = .takenDesc
        case "taken-asc": request.order = .takenAsc
        case "uploaded-desc": request.order = .uploadedDesc
        case let other?: throw fail(.usage("--order must be taken-desc, taken-asc or uploaded-desc, not '\(other)'."))
        }
        let (images, next) = try await withAPI(options) { api in
            try await paging.collect { size, token in
                request.pageSize = size
                request.pageToken = token
                let reply = try await api.call { try await api.images.listImages(request, metadata: $0) }
                return (reply.images, reply.nextPageToken)
            }
        }
        if options.json {
            Output.printJSON(["images": Output.objects(images), "next_page_token": next])
            return
        }
        printImageTable(images)
        if !next.isEmpty { print("More: --page-token \(next)  (or --all)") }
    }
}

/// Page size, token and "every page", shared by the list commands.
struct Paging: ParsableArguments {
    @Option(help: "Items per page (server default when omitted).") var pageSize: Int32?
    @Option(help: "Continue from a previous listing's next page token.") var pageToken: String?
    @Flag(help: "Follow every page.") var all = false

    /// Fetches one page, or every page with --all; returns the items and the next page token.
    func collect<Item: Sendable>(_ fetch: (Int32, String) async throws -> ([Item], String)) async throws -> ([Item], String) {
        var items: [Item] = []
        var token = pageToken ?? ""
        repeat {
            let (page, next) = try await fetch(pageSize ?? (all ? 500 : 0), token)
            items += page
            token = next
        } while all && !token.isEmpty
        return (items, token)
    }
}

/// The --from / --to options as a time range; nil when neither is given.
func timeRange(from: String?, to: String?) throws -> Photovault_V1_TimeRange? {
    guard from != nil || to != nil else { return nil }
    var range = Photovault_V1_TimeRange()
    if let from { range.start = try parseTimestamp(from, option: "--from") }
    if let to { range.end = try parseTimestamp(to, option: "--to", endOfDay: true) }
    return range
}

func imageFormat(_ text: String) throws -> Photovault_V1_ImageFormat {
    let formats: [String: Photovault_V1_ImageFormat] = [
        "jpeg": .jpeg, "jpg": .jpeg, "png": .png, "webp": .webp, "heic": .heic, "heif": .heic, "tiff": .tiff, "gif": .gif, "avif": .avif,
    ]
    guard let format = formats[text.lowercased()] else {
        throw fail(.usage("--format must be one of jpeg, png, webp, heic, tiff, gif, avif; not '\(text)'."))
    }
    return format
}

func printImageTable(_ images: [Photovault_V1_Image]) {
    if images.isEmpty {
        print("No photos.")
        return
    }
    Format.table(
        ["ID", "TAKEN", "SIZE", "STATE", "NAME"],
        images.map { image in
            [
                image.id, image.hasTakenAt ? Format.date(image.takenAt) : "-", Format.bytes(image.byteSize),
                image.hasDeletedAt ? "trashed" : Format.name(image.processingState), image.fileName,
            ]
        })
}

func placeText(_ place: Photovault_V1_Place) -> String {
    [place.city, place.adminRegion, place.countryName.isEmpty ? place.countryCode : place.countryName]
        .filter { !$0.isEmpty }.joined(separator: ", ")
}

/// Everything `show` prints about one image.
func printImage(_ image: Photovault_V1_Image) {
    var lines: [(String, String)] = [
        ("id", image.id), ("file", image.fileName), ("format", Format.name(image.format)),
        ("size", "\(Format.bytes(image.byteSize)), \(image.width) × \(image.height) px"), ("sha256", image.sha256),
        ("taken", image.hasTakenAt ? Format.date(image.takenAt) + (image.takenAtOverridden ? " (set by you)" : "") : "-"),
        ("uploaded", Format.date(image.uploadedAt)),
    ]
    if image.hasDeletedAt { lines.append(("trashed", Format.date(image.deletedAt))) }
    if image.hasEventID { lines.append(("event", "\(image.eventID)")) }
    let exif = image.exif
    let camera = [exif.make, exif.model].filter { !$0.isEmpty }.joined(separator: " ")
    if !camera.isEmpty { lines.append(("camera", camera + (exif.lens.isEmpty ? "" : ", \(exif.lens)"))) }
    if image.hasGps {
        lines.append(("position", String(format: "%.5f, %.5f", image.gps.point.latitude, image.gps.point.longitude)))
    }
    let place = placeText(image.place)
    lines.append(("place", place.isEmpty ? "-" : place))
    lines.append(("caption", image.caption.isEmpty ? "-" : image.caption))
    if !image.description_p.isEmpty { lines.append(("description", image.description_p)) }
    lines.append(("tags", image.tags.isEmpty ? "-" : image.tags.map { tag in
        tag.source == .user ? tag.name : "\(tag.name) (\(Format.name(tag.source)))"
    }.joined(separator: ", ")))
    lines.append(("faces", "\(image.faceCount)"))
    lines.append(("state", Format.name(image.processingState)))
    for stage in image.stages {
        lines.append(("  " + Format.name(stage.stage), Format.name(stage.state) + (stage.error.isEmpty ? "" : ": \(stage.error)")))
    }
    let width = lines.map(\.0.count).max() ?? 0
    for (label, value) in lines {
        print(label.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
    }
}

/// `photovault show ID`: one photo's metadata, place, tags, caption and processing stages.
struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show one photo (GetImage): metadata, place, tags, caption, stages.")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The photo's id.") var id: String

    func run() async throws {
        let image = try await withAPI(options) { api in
            try await api.call { try await api.images.getImage(.with { $0.imageID = id }, metadata: $0) }.image
        }
        if options.json { Output.printJSON(image) } else { printImage(image) }
    }
}

/// `photovault download ID`: streams a variant to a file, written atomically.
struct Download: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Download a photo (the original, its preview or its thumbnail).")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The photo's id.") var id: String
    @Option(help: "original (default), preview or thumbnail.") var variant = "original"
    @Option(name: [.short, .customLong("output")], help: "File or folder to write (default: the photo's file name here).") var output: String?

    func run() async throws {
        let wanted: Photovault_V1_ImageVariant
        switch variant {
        case "original": wanted = .original
        case "preview": wanted = .preview
        case "thumbnail": wanted = .thumbnail
        default: throw fail(.usage("--variant must be original, preview or thumbnail, not '\(variant)'."))
        }
        let output = self.output
        let result = try await withAPI(options) { api in
            try await api.call { metadata in
                try await api.images.download(.with {
                    $0.imageID = id
                    $0.variant = wanted
                }, metadata: metadata) { response in
                    var file: AtomicFile?
                    var header = Photovault_V1_DownloadHeader()
                    do {
                        for try await message in response.messages {
                            switch message.payload {
                            case .header(let value):
                                header = value
                                file = try AtomicFile(destination: Self.destination(output, serverName: value.fileName, id: id))
                            case .chunk(let bytes):
                                guard let file else { throw CLIError.local("The server sent bytes before saying what they are.") }
                                try file.write(bytes)
                            case nil: continue
                            }
                        }
                        guard let file else { throw CLIError.local("The server sent nothing.") }
                        guard file.written == header.length || header.length == 0 else {
                            throw CLIError.local("The download stopped after \(file.written) of \(header.length) bytes; nothing was written.")
                        }
                        try file.commit()
                        return (file.destination.path, file.written, header.contentType)
                    } catch {
                        file?.discard()
                        throw error
                    }
                }
            }
        }
        if options.json {
            Output.printJSON(["image_id": id, "path": result.0, "bytes": result.1, "content_type": result.2, "variant": variant])
        } else {
            print("Saved \(result.0) (\(Format.bytes(result.1)), \(result.2)).")
        }
    }

    /// The output path: the option as a file, or the server's file name inside the option's folder (or here).
    static func destination(_ output: String?, serverName: String, id: String) -> URL {
        let safeName = URL(fileURLWithPath: serverName.isEmpty ? id : serverName).lastPathComponent
        guard let output else { return URL(fileURLWithPath: safeName) }
        var isFolder: ObjCBool = false
        if output.hasSuffix("/") || (FileManager.default.fileExists(atPath: output, isDirectory: &isFolder) && isFolder.boolValue) {
            return URL(fileURLWithPath: output).appendingPathComponent(safeName)
        }
        return URL(fileURLWithPath: output)
    }
}

/// A file written beside its destination and renamed into place only when complete.
final class AtomicFile: @unchecked Sendable {
    let destination: URL
    let temporary: URL
    private let handle: FileHandle
    private(set) var written: Int64 = 0

    init(destination: URL) throws {
        self.destination = destination
        temporary = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).\(UUID().uuidString).part")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil, attributes: [.posixPermissions: 0o644]),
              let handle = FileHandle(forWritingAtPath: temporary.path) else {
            throw CLIError.local("Cannot write in \(destination.deletingLastPathComponent().path).")
        }
        self.handle = handle
    }

    func write(_ bytes: Data) throws {
        try handle.write(contentsOf: bytes)
        written += Int64(bytes.count)
    }

    func commit() throws {
        try handle.synchronize()
        try handle.close()
        guard rename(temporary.path, destination.path) == 0 else {
            discard()
            throw CLIError.local("Cannot write \(destination.path): \(String(cString: strerror(errno))).")
        }
    }

    func discard() {
        try? handle.close()
        try? FileManager.default.removeItem(at: temporary)
    }
}

/// `photovault edit ID`: caption, description, tags, capture time.
struct Edit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Change a photo's caption, description, tags or capture time (UpdateMetadata).")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The photo's id.") var id: String
    @Option(help: "New caption (empty to clear).") var caption: String?
    @Option(help: "New description (empty to clear).") var description: String?
    @Option(help: "Add a tag (repeatable).") var addTag: [String] = []
    @Option(help: "Remove a tag (repeatable).") var removeTag: [String] = []
    @Option(help: "Capture time with its offset, e.g. 2024-06-03T10:00:00+02:00.") var takenAt: String?
    @Flag(help: "Go back to the capture time read from the file.") var clearTakenAt = false

    func run() async throws {
        var request = Photovault_V1_UpdateMetadataRequest()
        request.imageID = id
        if let caption { request.caption = caption }
        if let description { request.description_p = description }
        request.tagsToAdd = addTag
        request.tagsToRemove = removeTag
        if let takenAt {
            request.takenAt = try parseTimestamp(takenAt, option: "--taken-at")
            if let offset = Self.offsetMinutes(takenAt) { request.takenAtOffsetMinutes = offset }
        }
        request.clearTakenAt_p = clearTakenAt
        guard caption != nil || description != nil || !addTag.isEmpty || !removeTag.isEmpty || takenAt != nil || clearTakenAt else {
            throw fail(.usage("Nothing to change: give --caption, --description, --add-tag, --remove-tag, --taken-at or --clear-taken-at."))
        }
        let image = try await withAPI(options) { api in
            try await api.call { try await api.images.updateMetadata(request, metadata: $0) }.image
        }
        if options.json { Output.printJSON(image) } else { printImage(image) }
    }

    /// The UTC offset written in an ISO 8601 date-time (`Z`, `+02:00`, `-0530`), in minutes.
    static func offsetMinutes(_ text: String) -> Int32? {
        guard text.contains("T") else { return nil }
        if text.hasSuffix("Z") { return 0 }
        let time = text.split(separator: "T").last.map(String.init) ?? ""
        guard let signIndex = time.lastIndex(where: { $0 == "+" || $0 == "-" }) else { return nil }
        let sign: Int32 = time[signIndex] == "-" ? -1 : 1
        let digits = time[time.index(after: signIndex)...].filter(\.isNumber)
        guard digits.count == 4, let hours = Int32(digits.prefix(2)), let minutes = Int32(digits.suffix(2)) else { return nil }
        return sign * (hours * 60 + minutes)
    }
}

/// Runs `body` for each id, reporting each; the first failure decides the exit status.
func forEachID(_ ids: [String], options: GlobalOptions, verb: String,
               _ body: @escaping (APIConnection, String) async throws -> (json: Any, line: String)) async throws {
    var results: [Any] = []
    var firstFailure: CLIError?
    try await withAPI(options) { api in
        for id in ids {
            do {
                let (json, line) = try await body(api, id)
                results.append(json)
                if !options.json { print(line) }
            } catch let error as CancellationError {
                throw error
            } catch {
                let failure = CLIError(error)
                firstFailure = firstFailure ?? failure
                var body: [String: Any] = ["message": failure.description, "exit_status": Int(failure.exitCode)]
                if let status = failure.statusName { body["status"] = status }
                results.append(["image_id": id, "error": body])
                if !options.json { Output.note("photovault: cannot \(verb) \(id): \(failure)") }
            }
        }
    }
    if options.json { Output.printJSON(["results": results]) }
    if let firstFailure { throw ExitCode(firstFailure.exitCode) }
}

/// `photovault rm ID…`: to the trash, or deleted for good with --permanent.
struct Remove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Move photos to the trash (or delete them for good with --permanent).")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "Photo ids.") var ids: [String]
    @Flag(help: "Delete at once and for good, not to the trash.") var permanent = false

    func run() async throws {
        let permanent = self.permanent
        try await forEachID(ids, options: options, verb: "delete") { api, id in
            let reply = try await api.call {
                try await api.images.deleteImage(.with {
                    $0.imageID = id
                    $0.permanent = permanent
                }, metadata: $0)
            }
            var json = Output.object(reply) as? [String: Any] ?? [:]
            json["image_id"] = id
            return (json, reply.permanentlyDeleted ? "Deleted \(id) for good." : "Moved \(id) to the trash.")
        }
    }
}

/// `photovault restore ID…`: back from the trash.
struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Take photos back from the trash.")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "Photo ids.") var ids: [String]

    func run() async throws {
        try await forEachID(ids, options: options, verb: "restore") { api, id in
            let image = try await api.call { try await api.images.restoreImage(.with { $0.imageID = id }, metadata: $0) }.image
            return (["image_id": id, "image": Output.object(image)], "Restored \(id) (\(image.fileName)).")
        }
    }
}

/// `photovault caption ID`: a caption from BLIP or an OpenAI-compatible vision model.
struct Caption: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Caption a photo now (AnalyzeImage), optionally saving it.")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The photo's id.") var id: String
    @Option(help: "Start of the caption, or a question for an OpenAI-compatible model.") var prompt: String?
    @Option(help: "blip or openai (default: the server's choice).") var provider: String?
    @Flag(help: "Save it as the photo's caption.") var save = false

    func run() async throws {
        var request = Photovault_V1_AnalyzeImageRequest()
        request.imageID = id
        request.prompt = prompt ?? ""
        request.save = save
        switch provider {
        case nil: request.provider = .default
        case "blip": request.provider = .blip
        case "openai": request.provider = .openaiCompatible
        case let other?: throw fail(.usage("--provider must be blip or openai, not '\(other)'."))
        }
        let reply = try await withAPI(options) { api in
            try await api.call { try await api.images.analyzeImage(request, metadata: $0) }
        }
        if options.json {
            Output.printJSON(reply)
        } else {
            print(reply.caption)
            Output.note("(\(reply.model)\(save ? ", saved" : ""))")
        }
    }
}
