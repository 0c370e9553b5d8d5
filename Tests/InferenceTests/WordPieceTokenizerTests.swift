import Foundation
import InferenceCore
import Testing

/// BERT WordPiece against Hugging Face's BertTokenizerFast on tricky strings (accents, CJK,
/// emoji, punctuation runs, control characters, very long text), with MiniLM's vocabulary.
@Suite struct WordPieceTokenizerTests {
    struct Case: Decodable {
        let text: String
        let max_length: Int
        let ids: [Int32]
    }
    struct File: Decodable { let cases: [Case] }

    @Test func tokenIDsMatchTheReferenceForEveryTrickyString() throws {
        let vocab = try #require(Paths.defaults.textModelDirectory, "MiniLM is installed by scripts/setup.sh") + "/vocab.txt"
        var tokenizer: OpaquePointer?
        var error = [CChar](repeating: 0, count: 512)
        #expect(pv_wordpiece_load(vocab, 1, &tokenizer, &error, error.count) == PV_OK)
        defer { pv_wordpiece_free(tokenizer) }
        let cases = try Fixtures.load("wordpiece.json", as: File.self).cases
        #expect(cases.count >= 30)
        for testCase in cases {
            var ids = [Int32](repeating: -1, count: 1024)
            let utf8 = Array(testCase.text.utf8)
            let count = utf8.withUnsafeBufferPointer { text in
                text.withMemoryRebound(to: CChar.self) {
                    pv_wordpiece_encode(tokenizer, $0.baseAddress, $0.count, Int32(testCase.max_length), &ids, Int32(ids.count))
                }
            }
            #expect(Array(ids.prefix(Int(count))) == testCase.ids, "\(testCase.text.prefix(60)) (max \(testCase.max_length))")
        }
    }

    @Test func aMegabyteOfTextIsTruncatedTo256TokensWithItsEndToken() throws {
        let vocab = try #require(Paths.defaults.textModelDirectory) + "/vocab.txt"
        var tokenizer: OpaquePointer?
        var error = [CChar](repeating: 0, count: 512)
        #expect(pv_wordpiece_load(vocab, 1, &tokenizer, &error, error.count) == PV_OK)
        defer { pv_wordpiece_free(tokenizer) }
        let text = String(repeating: "holiday photos from the lake ", count: 36_000)
        var ids = [Int32](repeating: 0, count: 256)
        let count = pv_wordpiece_encode(tokenizer, text, text.utf8.count, 256, &ids, 256)
        // [CLS], then the words from the start of the text, then [SEP].
        #expect(count == 256 && ids[0] == 101 && ids[255] == 102)
        #expect(Array(ids[1...5]) == [6209, 7760, 2013, 1996, 2697])
    }
}
