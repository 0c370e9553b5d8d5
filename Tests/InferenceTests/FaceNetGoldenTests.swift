import Foundation
import InferenceCore
import Testing

/// Native InceptionResnetV1 against facenet-pytorch's, at full size. Its 90 MB of weights are
/// rebuilt from the fixture's recipe (tensor k, element i = a + b·sin(0.618034·i + k)) into a
/// safetensors file, which the model then loads by name like a real checkpoint.
@Suite struct FaceNetGoldenTests {
    struct Tensor: Decodable {
        let name: String
        let shape: [Int]
        let k: Int
        let a: Double
        let b: Double
    }
    struct Reference: Decodable {
        let tensors: [Tensor]
        let vector: [Float]
    }

    func writeSafetensors(_ tensors: [Tensor], to path: String) throws {
        var header: [String: Any] = [:]
        var data = Data()
        for tensor in tensors {
            let count = tensor.shape.reduce(1, *)
            let values = (0..<count).map { Float(tensor.a + tensor.b * sin(0.618034 * Double($0) + Double(tensor.k))) }
            let start = data.count
            values.withUnsafeBytes { data.append(contentsOf: $0) }
            header[tensor.name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [start, data.count]]
        }
        var json = try JSONSerialization.data(withJSONObject: header)
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var file = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Data($0) }
        file.append(json)
        file.append(data)
        try file.write(to: URL(fileURLWithPath: path))
    }

    @Test func aFaceDescriptorMatchesFacenetPytorchWithin1e4() throws {
        let reference = try Fixtures.load("facenet.json", as: Reference.self)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pv-facenet-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try writeSafetensors(reference.tensors, to: "\(folder)/model.safetensors")

        var model: OpaquePointer?
        var error = [CChar](repeating: 0, count: 512)
        #expect(pv_facenet_load(folder, "cpu", &model, &error, error.count) == PV_OK, "\(message(error))")
        defer { pv_facenet_free(model) }
        let face = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(Paths.fixtures)/facenet-face-160.rgb")))
        #expect(face.count == 160 * 160 * 3)
        var vector = [Float](repeating: 0, count: 512)
        #expect(pv_facenet_embed(model, face, 1, &vector, &error, error.count) == PV_OK)
        #expect(Fixtures.maxDifference(vector, reference.vector) < 1e-4)
        #expect(abs(Fixtures.dot(vector, vector) - 1) < 1e-4)
    }

    @Test func aFaceNetFolderWithoutWeightsIsRefusedByName() {
        var model: OpaquePointer?
        var error = [CChar](repeating: 0, count: 512)
        #expect(pv_facenet_load("/nonexistent-facenet", "cpu", &model, &error, error.count) == PV_ERROR_MODEL)
        #expect(message(error).hasPrefix("/nonexistent-facenet/model.safetensors: cannot open"))
    }
}
