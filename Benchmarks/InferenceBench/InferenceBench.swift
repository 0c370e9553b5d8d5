import ArgumentParser
import Foundation
import Inference
import InferenceCore

/// `photovault-inference-bench`: the native models' speed, for BENCHMARKS.md
/// (scripts/bench-inference.sh runs it next to the Python torch baseline).
@main
struct InferenceBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "photovault-inference-bench", abstract: "Measures photovault-inference's models; prints JSON lines.")

    @Option(help: "all-MiniLM-L6-v2 folder.") var minilm: String?
    @Option(help: "CLIP folder (random ViT-B/32 weights are fine).") var clip: String?
    @Option(help: "BLIP captioning folder.") var blip: String?
    @Option(help: "face_recognition_models folder.") var dlib: String?
    @Option(help: "Photo for the face benchmark.") var image: String?
    @Option(help: "libtorch intra-op threads (0: all cores).") var threads = 0

    func run() throws {
        pv_set_threads(Int32(threads))
        if let minilm { try benchmarkMiniLM(folder: minilm) }
        if let clip { try benchmarkCLIP(folder: clip) }
        if let dlib, let image { try benchmarkFaces(folder: dlib, image: image) }
        if let blip, let image { try benchmarkBLIP(folder: blip, image: image) }
    }

    func report(_ fields: [String: Any]) {
        var fields = fields
        fields["implementation"] = "photovault"
        fields["threads"] = Int(pv_threads())
        let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    func milliseconds(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }

    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    func benchmarkMiniLM(folder: String) throws {
        let model = try TextEmbedder(folder: folder, device: "cpu")
        let query = "a dog running on the beach at sunset"
        for _ in 0..<20 { _ = try model.embed([query]) }
        let times = try (0..<200).map { _ in try milliseconds { _ = try model.embed([query]) } }
        report(["benchmark": "minilm_one_query", "p50_ms": median(times), "p90_ms": times.sorted()[179]])
        let batch = (0..<32).map { "photo number \($0) of a family picnic in the park with a red kite" }
        _ = try model.embed(batch)
        let rounds = 20
        let total = try milliseconds { for _ in 0..<rounds { _ = try model.embed(batch) } }
        report(["benchmark": "minilm_batch32", "texts_per_s": Double(32 * rounds) / (total / 1000), "ms_per_batch": total / Double(rounds)])
    }

    func benchmarkCLIP(folder: String) throws {
        let model = try ClipEmbedder(folder: folder, device: "cpu")
        let size = 224, count = 16
        // Fixed pseudo-random pixels, the same forward pass as the Python baseline times.
        var state: UInt64 = 42
        let pixels = (0..<(count * 3 * size * size)).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2000) / 1000 - 1
        }
        _ = try model.embed(pixels: pixels, count: count)
        let rounds = 5
        let total = try milliseconds { for _ in 0..<rounds { _ = try model.embed(pixels: pixels, count: count) } }
        report(["benchmark": "clip_vit_b32_images", "images_per_s": Double(count * rounds) / (total / 1000), "batch": count])
    }

    func benchmarkFaces(folder: String, image path: String) throws {
        let detector = try FaceDetector(folder: folder)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let image = try DecodedImage(bytes: bytes, maxPixels: 100_000_000)
        var faces = 0
        _ = try detector.detect(image)
        let times = try (0..<7).map { _ in try milliseconds { faces = try detector.detect(image).count } }
        report(["benchmark": "dlib_faces", "p50_ms": median(times), "width": image.width, "height": image.height, "faces": faces])
    }

    func benchmarkBLIP(folder: String, image path: String) throws {
        let captioner = try Captioner(folder: folder, device: "cpu")
        let image = try DecodedImage(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), maxPixels: 100_000_000)
        _ = try captioner.caption(image)
        var caption = ""
        let times = try (0..<3).map { _ in try milliseconds { caption = try captioner.caption(image) } }
        report(["benchmark": "blip_caption", "p50_ms": median(times), "words": caption.split(separator: " ").count])
    }
}
