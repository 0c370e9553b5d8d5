import Foundation
import Inference
import Testing

/// A broken model folder is refused with a sentence naming the file and the tensor, never a crash.
@Suite struct ModelFolderErrorTests {
    /// A copy of the tiny F32 BERT in a fresh folder, for a test to break.
    func copyOfTinyBert() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pv-model-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: "\(Paths.fixtures)/tiny-bert-f32", toPath: folder)
        return folder
    }

    /// Rewrites the safetensors header with `edit` applied, keeping the data as it is.
    func editHeader(_ folder: String, _ edit: (inout [String: Any]) -> Void) throws {
        let path = "\(folder)/model.safetensors"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let length = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var header = try JSONSerialization.jsonObject(with: bytes[8..<8 + length]) as! [String: Any]
        edit(&header)
        var json = try JSONSerialization.data(withJSONObject: header)
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var out = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Data($0) }
        out.append(json)
        out.append(bytes[(8 + length)...])
        try out.write(to: URL(fileURLWithPath: path))
    }

    func loadError(_ folder: String) -> CoreError? {
        do {
            _ = try TextEmbedder(folder: folder, device: "cpu")
            return nil
        } catch {
            return error
        }
    }

    @Test func aMissingTensorIsNamedWithItsFile() throws {
        let folder = try copyOfTinyBert()
        try editHeader(folder) { $0.removeValue(forKey: "encoder.layer.1.attention.self.value.weight") }
        let error = try #require(loadError(folder))
        #expect(error == .model("\(folder)/model.safetensors: missing tensor 'encoder.layer.1.attention.self.value.weight'."))
    }

    @Test func aTensorOfTheWrongShapeIsNamedWithBothShapes() throws {
        let folder = try copyOfTinyBert()
        try editHeader(folder) { header in
            var entry = header["embeddings.word_embeddings.weight"] as! [String: Any]
            entry["shape"] = [32, 99]
            header["embeddings.word_embeddings.weight"] = entry
        }
        let error = try #require(loadError(folder))
        #expect(error == .model("\(folder)/model.safetensors: tensor 'embeddings.word_embeddings.weight' has shape [32, 99], expected [99, 32]."))
    }

    @Test func aTruncatedSafetensorsFileIsRefused() throws {
        let folder = try copyOfTinyBert()
        let path = "\(folder)/model.safetensors"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
        let error = try #require(loadError(folder))
        #expect(error.description.hasPrefix("\(path): truncated safetensors file: tensor '"))
        #expect(error.description.contains("ends at byte"))
    }

    @Test func aConfigForAnotherArchitectureIsRefused() throws {
        let folder = try copyOfTinyBert()
        let config = try String(contentsOfFile: "\(folder)/config.json", encoding: .utf8)
            .replacingOccurrences(of: "\"model_type\": \"bert\"", with: "\"model_type\": \"clip\"")
        try config.write(toFile: "\(folder)/config.json", atomically: true, encoding: .utf8)
        let error = try #require(loadError(folder))
        #expect(error == .model("\(folder)/config.json: model_type is 'clip', but this loader expects bert."))
    }

    @Test func aFolderWithoutWeightsIsRefused() throws {
        let folder = try copyOfTinyBert()
        try FileManager.default.removeItem(atPath: "\(folder)/model.safetensors")
        let error = try #require(loadError(folder))
        #expect(error.description.hasPrefix("\(folder)/model.safetensors: cannot open"))
    }
}
