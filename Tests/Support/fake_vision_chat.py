#!/usr/bin/env python3
"""A fake OpenAI-compatible vision chat endpoint for tests (standard library only).

Usage:
  fake_vision_chat.py --model MODEL --log LOG.jsonl [--key KEY] [--port PORT]
                      [--mode MODE] [--served-model NAME] [--hang-seconds S]
                      [--stop-on-stdin-eof]

Listens on 127.0.0.1:PORT (0 picks a free port) and prints the port it listens on as
stdout's first line. The expected key comes from --key or FAKE_VISION_CHAT_KEY; without
one, the Authorization header is not checked.

Every POST .../chat/completions is checked the way a strict server would: JSON body,
the expected model, a positive max_tokens, one user message whose content is one text
part and one image_url part, and a data:image/jpeg;base64 URL whose bytes start with
FF D8 FF and end with FF D9. A failed check is answered 400 (401 for the key) with an
OpenAI-style error {"error": {"message": "check failed: <check>: ...", ...}}; the
message about a wrong key quotes the Authorization header received, as careless servers
do, so a client can prove it keeps keys out of its own errors.

A request that passes is answered according to the mode, chosen for the whole run with
--mode or for one request by putting "fake-mode=<mode>" in the prompt:
  ok         a chat completion whose text is '"A test caption for: <prompt>"', wrapped
             in quotes and whitespace as models like to do
  parts      the same text, as content = [{"type": "text", "text": ...}, ...]
  500, 429, 401
             that status, with an OpenAI-style error body
  hang       sleeps --hang-seconds (default 30) before answering as "ok"
  trickle    sends the status line and headers at once, then the body one byte every
             half second for --hang-seconds
  malformed  200 whose body is not JSON
  empty      200 chat completion whose text is empty
  huge       200 whose body is 2 MiB of JSON
The completion names --served-model as the model that answered (default: the model
requested; an empty name leaves the field out).

Each request received is appended to LOG as one JSON line: method, path, model, prompt,
image_bytes, auth_ok (null when no key is expected), mode, status, failed_check.
With --stop-on-stdin-eof the server exits when its stdin closes, so it dies with the
test process that started it.
"""

import argparse
import base64
import binascii
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("ok", "parts", "500", "429", "401", "hang", "trickle", "malformed", "empty", "huge")
DATA_URL_PREFIX = "data:image/jpeg;base64,"


class CheckFailed(Exception):
    def __init__(self, check, detail, status=400):
        super().__init__(f"check failed: {check}: {detail}")
        self.check = check
        self.status = status


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeVisionChat/1"

    def log_message(self, format, *args):  # the JSON-lines log is the record
        pass

    def do_GET(self):
        self.handle_request()

    def do_PUT(self):
        self.handle_request()

    def do_POST(self):
        self.handle_request()

    def handle_request(self):
        config = self.server.config
        summary = {"method": self.command, "path": self.path, "model": None, "prompt": None,
                   "image_bytes": None, "auth_ok": None, "mode": config.mode,
                   "status": None, "failed_check": None}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            mode = self.check(raw, summary)
        except CheckFailed as failure:
            summary["status"] = failure.status
            summary["failed_check"] = failure.check
            self.write_log(summary)
            error_type = "authentication_error" if failure.status == 401 else "invalid_request_error"
            self.send_error_json(failure.status, str(failure), error_type, failure.check)
            return
        summary["mode"] = mode
        summary["status"] = {"500": 500, "429": 429, "401": 401}.get(mode, 200)
        self.write_log(summary)
        self.answer(mode, summary)

    def check(self, raw, summary):
        """Runs every check in turn, filling the summary as it learns; returns the mode."""
        config = self.server.config
        if self.command != "POST":
            raise CheckFailed("method", f"expected POST, got {self.command}")
        if not self.path.split("?", 1)[0].endswith("/chat/completions"):
            raise CheckFailed("path", f"expected a path ending /chat/completions, got {self.path}")
        if config.key is not None:
            received = self.headers.get("Authorization")
            summary["auth_ok"] = received == f"Bearer {config.key}"
            if not summary["auth_ok"]:
                raise CheckFailed("authorization", f"Incorrect API key provided (received {received!r})", 401)
        content_type = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if content_type != "application/json":
            raise CheckFailed("content_type", f"expected application/json, got {content_type!r}")
        try:
            body = json.loads(raw)
        except ValueError as error:
            raise CheckFailed("body_json", f"the body is not JSON ({error})")
        if not isinstance(body, dict):
            raise CheckFailed("body_json", "the body is not a JSON object")
        summary["model"] = body.get("model")
        if body.get("model") != config.model:
            raise CheckFailed("model", f"expected model {config.model!r}, got {body.get('model')!r}")
        max_tokens = body.get("max_tokens")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens <= 0:
            raise CheckFailed("max_tokens", f"expected a positive integer, got {max_tokens!r}")
        messages = body.get("messages")
        if not isinstance(messages, list) or len(messages) != 1 or not isinstance(messages[0], dict):
            raise CheckFailed("messages", "expected exactly one message")
        if messages[0].get("role") != "user":
            raise CheckFailed("messages", f"expected role 'user', got {messages[0].get('role')!r}")
        parts = messages[0].get("content")
        if not isinstance(parts, list) or not all(isinstance(part, dict) for part in parts):
            raise CheckFailed("content", "expected content to be a list of parts")
        texts = [part for part in parts if part.get("type") == "text"]
        images = [part for part in parts if part.get("type") == "image_url"]
        if len(parts) != 2 or len(texts) != 1 or len(images) != 1:
            raise CheckFailed("content", f"expected one text part and one image_url part, got types "
                                         f"{[part.get('type') for part in parts]}")
        prompt = texts[0].get("text")
        if not isinstance(prompt, str) or not prompt.strip():
            raise CheckFailed("text", "the text part has no text")
        summary["prompt"] = prompt
        image_url = images[0].get("image_url")
        url = image_url.get("url") if isinstance(image_url, dict) else None
        if not isinstance(url, str) or not url.startswith(DATA_URL_PREFIX):
            raise CheckFailed("image_url", f"expected a URL starting {DATA_URL_PREFIX!r}")
        try:
            image = base64.b64decode(url[len(DATA_URL_PREFIX):], validate=True)
        except (binascii.Error, ValueError) as error:
            raise CheckFailed("image_base64", f"the data URL is not base64 ({error})")
        summary["image_bytes"] = len(image)
        if not (image.startswith(b"\xff\xd8\xff") and image.endswith(b"\xff\xd9")):
            raise CheckFailed("image_jpeg", f"the {len(image)} image bytes are not a whole JPEG")
        for mode in MODES:
            if f"fake-mode={mode}" in prompt:
                return mode
        return config.mode

    def answer(self, mode, summary):
        config = self.server.config
        if mode in ("500", "429", "401"):
            messages = {"500": "The server had an error while processing your request.",
                        "429": "Rate limit reached for requests.",
                        "401": "Invalid authentication."}
            self.send_error_json(int(mode), messages[mode], "fake_mode", mode)
            return
        if mode == "hang":
            time.sleep(config.hang_seconds)
        if mode == "trickle":
            self.trickle(config.hang_seconds)
            return
        if mode == "malformed":
            self.send_body(200, b"<html>this is not a chat completion</html>", "text/html")
            return
        if mode == "huge":
            self.send_body(200, json.dumps({"padding": "x" * (2 << 20)}).encode(), "application/json")
            return
        text = "" if mode == "empty" else f'A test caption for: {summary["prompt"]}'
        content = ([{"type": "text", "text": text[: len(text) // 2]}, {"type": "text", "text": text[len(text) // 2:]}]
                   if mode == "parts" else f' \n"{text}"\n ' if text else "")
        completion = {
            "id": f"chatcmpl-fake-{time.monotonic_ns()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }
        served = summary["model"] if config.served_model is None else config.served_model
        if served:
            completion["model"] = served
        self.send_body(200, json.dumps(completion).encode(), "application/json")

    def send_error_json(self, status, message, error_type, code):
        body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
        self.send_body(status, json.dumps(body).encode(), "application/json")

    def send_body(self, status, payload, content_type):
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to tell it

    def trickle(self, seconds):
        payload = b"{" + b" " * int(seconds * 2) + b"}"
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.flush()
            for byte in payload:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.5)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def write_log(self, summary):
        with self.server.log_lock, open(self.server.config.log, "a", encoding="utf-8") as log:
            log.write(json.dumps(summary) + "\n")


def stop_when_stdin_closes():
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--model", required=True, help="the model every request must name")
    parser.add_argument("--key", default=os.environ.get("FAKE_VISION_CHAT_KEY"),
                        help="the API key every request must carry as 'Bearer KEY'")
    parser.add_argument("--log", required=True, help="JSON-lines file that receives one summary per request")
    parser.add_argument("--mode", choices=MODES, default="ok")
    parser.add_argument("--served-model", default=None, help="the model named in completions")
    parser.add_argument("--hang-seconds", type=float, default=30.0)
    parser.add_argument("--stop-on-stdin-eof", action="store_true")
    config = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", config.port), Handler)
    server.daemon_threads = True  # a hanging answer must not keep the process alive
    server.config = config
    server.log_lock = threading.Lock()
    if config.stop_on_stdin_eof:
        threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
