"""Local stand-ins for fal, Replicate and OpenAI: real HTTP on 127.0.0.1, their protocols.

Each fake runs a small WSGI app under werkzeug's server on a free port, in a thread. By
default it behaves like the real service on a good day (and checks the credential); a test
scripts the bad days per protocol step::

    fal.script("submit", Reply.json(429, {"detail": "slow down"}, retry_after="7"))
    fal.always("submit", Reply.json(500, {"detail": "boom"}))
    fal.slow_polls = 3          # the job is IN_QUEUE / IN_PROGRESS for three polls

Every request is recorded (``fal.requests``, or ``fal.calls("submit")``) with its headers
and JSON body, so tests can check the credential and the input mapping. Images are real
files made with Pillow, of the size (or aspect ratio) asked for.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from PIL import Image
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

_FORMATS = {
    "png": ("PNG", "image/png"),
    "jpg": ("JPEG", "image/jpeg"),
    "webp": ("WEBP", "image/webp"),
}
_FORMATS["jpeg"] = _FORMATS["jpg"]


def image_bytes(width: int, height: int, fmt: str = "png", seed: int = 0) -> bytes:
    """A real ``width`` x ``height`` image (a seed-coloured gradient) in ``fmt``."""
    pil_format, _ = _FORMATS[fmt]
    image = Image.new("RGB", (width, height), ((seed * 37) % 256, 90, 160))
    for x in range(0, width, max(1, width // 8)):
        image.putpixel((x, height // 2), (255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format=pil_format)
    return buffer.getvalue()


@dataclass
class Reply:
    """A canned answer: status, body and headers, optionally after a delay."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0

    @classmethod
    def json(cls, status: int, body: Any, *, retry_after: str | None = None) -> Reply:
        headers = {"Content-Type": "application/json"}
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        return cls(status, json.dumps(body).encode(), headers)

    @classmethod
    def malformed(cls) -> Reply:
        """HTTP 200 that says it is JSON but is not."""
        return cls(200, b'{"request_id": "abc", oops', {"Content-Type": "application/json"})

    @classmethod
    def slow(cls, delay_s: float) -> Reply:
        """A 504 that arrives only after ``delay_s`` (a client with a shorter timeout gives up)."""
        return cls(504, b"{}", {"Content-Type": "application/json"}, delay_s)


@dataclass
class Recorded:
    """One request the fake received."""

    step: str
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class FakeService:
    """The server, scripting and recording; subclasses speak one protocol in ``route``."""

    def __init__(self, key: str = "test-key") -> None:
        self.key = key
        self.requests: list[Recorded] = []
        self.slow_polls = 0
        self.image_format = "png"
        self._scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self._always: dict[str, Reply] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.images: dict[str, bytes] = {}
        # The API, and a "CDN" on another port for the files (as real services have).
        self._servers = [
            make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_Quiet)
            for _ in range(2)
        ]
        self.url, self.files_url = (f"http://127.0.0.1:{s.server_port}" for s in self._servers)
        self._threads = [
            threading.Thread(target=s.serve_forever, args=(0.01,), daemon=True)
            for s in self._servers
        ]
        for thread in self._threads:
            thread.start()

    # --- scripting -------------------------------------------------------------------
    def script(self, step: str, *replies: Reply) -> None:
        """The next calls of ``step`` get these replies, in order; then normal service."""
        with self._lock:
            self._scripts[step].extend(replies)

    def always(self, step: str, reply: Reply) -> None:
        """Every call of ``step`` gets ``reply``."""
        self._always[step] = reply

    def calls(self, step: str) -> list[Recorded]:
        return [r for r in self.requests if r.step == step]

    def close(self) -> None:
        for server, thread in zip(self._servers, self._threads, strict=True):
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()

    def __enter__(self) -> FakeService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing --------------------------------------------------------------------
    def new_id(self) -> str:
        return f"req{next(self._ids):04d}"

    def store_image(
        self, name: str, width: int, height: int, seed: int = 0, fmt: str | None = None
    ) -> str:
        """Make an image, serve it at ``<files_url>/files/<name>.<fmt>``, return its URL."""
        fmt = fmt or self.image_format
        path = f"/files/{name}.{fmt}"
        self.images[path] = image_bytes(width, height, fmt, seed)
        return self.files_url + path

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        step, handler = self.route(request)
        raw = request.get_data()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        headers = {k.lower(): v for k, v in request.headers.items()}
        with self._lock:
            self.requests.append(Recorded(step, request.method, request.path, headers, body))
            queued = self._scripts.get(step)
            reply = queued.popleft() if queued else self._always.get(step)
        if reply is None:
            if step == "download":
                reply = self._download(request)
            elif step != "unknown" and not self.authorized(headers.get("authorization")):
                reply = self.unauthorized()
            else:
                reply = handler(request, body)
        if reply.delay_s:
            time.sleep(reply.delay_s)
        response = Response(reply.body, status=reply.status, headers=reply.headers)
        return response(environ, start_response)

    def _download(self, request: Request) -> Reply:
        data = self.images.get(request.path)
        if data is None:
            return Reply(404, b"no such file", {"Content-Type": "text/plain"})
        _, mimetype = _FORMATS[request.path.rsplit(".", 1)[1]]
        return Reply(200, data, {"Content-Type": mimetype})

    def route(self, request: Request) -> tuple[str, Any]:
        raise NotImplementedError

    def authorized(self, header: str | None) -> bool:
        raise NotImplementedError

    def unauthorized(self) -> Reply:
        raise NotImplementedError

    @staticmethod
    def not_found(request: Request, body: Any) -> Reply:
        return Reply.json(404, {"detail": f"no route for {request.method} {request.path}"})


def _ratio_size(ratio: str, height: int = 64) -> tuple[int, int]:
    w, h = (int(p) for p in ratio.split(":"))
    return round(height * w / h), height


class FakeFal(FakeService):
    """fal's queue API: submit, status, result (and cancel); files under ``/files``.

    Status and result URLs use only the model's owner and app, as fal's do, so an adapter
    that builds them from the full model path instead of using the URLs it was given fails.
    """

    def __init__(self, key: str = "test-key") -> None:
        super().__init__(key)
        self.jobs: dict[str, dict[str, Any]] = {}

    def authorized(self, header: str | None) -> bool:
        return header == f"Key {self.key}"

    def unauthorized(self) -> Reply:
        return Reply.json(401, {"detail": "Invalid or missing API key."})

    def route(self, request: Request) -> tuple[str, Any]:
        parts = request.path.strip("/").split("/")
        if request.method == "GET" and parts[0] == "files":
            return "download", None
        if request.method == "POST" and len(parts) >= 2 and "requests" not in parts:
            return "submit", self._submit
        if len(parts) >= 4 and parts[2] == "requests":
            if request.method == "GET" and parts[-1] == "status":
                return "status", self._status
            if request.method == "PUT" and parts[-1] == "cancel":
                return "cancel", self._cancel
            if request.method == "GET" and len(parts) == 4:
                return "result", self._result
        return "unknown", self.not_found

    def _urls(self, job: dict[str, Any]) -> dict[str, str]:
        base = f"{self.url}/{job['owner']}/{job['app']}/requests/{job['id']}"
        return {
            "response_url": base,
            "status_url": base + "/status",
            "cancel_url": base + "/cancel",
        }

    def _submit(self, request: Request, body: Any) -> Reply:
        if not isinstance(body, dict) or not body.get("prompt"):
            return Reply.json(
                422, {"detail": [{"loc": ["body", "prompt"], "msg": "field required"}]}
            )
        owner, app = request.path.strip("/").split("/")[:2]
        job = {"id": self.new_id(), "owner": owner, "app": app, "input": body}
        job["polls_left"] = self.slow_polls
        self.jobs[job["id"]] = job
        return Reply.json(
            200,
            {"request_id": job["id"], "status": "IN_QUEUE", "queue_position": 0, **self._urls(job)},
        )

    def _job(self, request: Request) -> dict[str, Any] | None:
        return self.jobs.get(request.path.strip("/").split("/")[3])

    def _status(self, request: Request, body: Any) -> Reply:
        job = self._job(request)
        if job is None:
            return Reply.json(404, {"detail": "Request not found"})
        urls = self._urls(job)
        if job["polls_left"] > 0:
            first = job["polls_left"] == self.slow_polls
            job["polls_left"] -= 1
            if first:
                return Reply.json(202, {"status": "IN_QUEUE", "queue_position": 0, **urls})
            return Reply.json(202, {"status": "IN_PROGRESS", "logs": None, **urls})
        return Reply.json(
            200, {"status": "COMPLETED", "logs": None, "metrics": {"inference_time": 0.01}, **urls}
        )

    def _cancel(self, request: Request, body: Any) -> Reply:
        return Reply.json(202, {"status": "CANCELLATION_REQUESTED"})

    def _result(self, request: Request, body: Any) -> Reply:
        job = self._job(request)
        if job is None:
            return Reply.json(404, {"detail": "Request not found"})
        data = job["input"]
        if "aspect_ratio" in data:
            width, height = _ratio_size(data["aspect_ratio"])
        else:
            size = data.get("image_size") or {"width": 1024, "height": 1024}
            width, height = size["width"], size["height"]
        seed = data.get("seed", 0)
        url = self.store_image(job["id"], width, height, seed)
        _, mimetype = _FORMATS[self.image_format]
        image = {"url": url, "width": width, "height": height, "content_type": mimetype}
        return Reply.json(
            200,
            {
                "images": [image],
                "timings": {"inference": 0.01},
                "seed": seed,
                "has_nsfw_concepts": [False],
                "prompt": data["prompt"],
            },
        )


class FakeReplicate(FakeService):
    """Replicate's predictions API: create (by model or version), get, cancel; files.

    ``Prefer: wait`` gets the finished prediction at once unless ``slow_polls`` is set;
    ``fail_with`` makes predictions fail with that error; ``output_list`` answers a list.
    """

    def __init__(self, key: str = "test-key") -> None:
        super().__init__(key)
        self.image_format = "webp"
        self.fail_with: str | None = None
        self.output_list = False
        self.predictions: dict[str, dict[str, Any]] = {}

    def authorized(self, header: str | None) -> bool:
        return header == f"Bearer {self.key}"

    def unauthorized(self) -> Reply:
        return Reply.json(
            401,
            {
                "title": "Unauthenticated",
                "detail": "You did not pass a valid authentication token",
                "status": 401,
            },
        )

    def route(self, request: Request) -> tuple[str, Any]:
        parts = request.path.strip("/").split("/")
        if request.method == "GET" and parts[0] == "files":
            return "download", None
        if request.method == "POST" and (
            parts == ["predictions"] or (parts[0] == "models" and parts[-1] == "predictions")
        ):
            return "create", self._create
        if parts[0] == "predictions" and len(parts) == 2 and request.method == "GET":
            return "get", self._get
        if parts[0] == "predictions" and parts[-1] == "cancel" and request.method == "POST":
            return "cancel", self._cancel
        return "unknown", self.not_found

    def _view(self, prediction: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.url}/predictions/{prediction['id']}"
        return {
            key: prediction[key]
            for key in ("id", "model", "version", "input", "status", "output", "error", "logs")
        } | {
            "created_at": "2025-01-01T00:00:00Z",
            "urls": {"get": url, "cancel": url + "/cancel"},
        }

    def _create(self, request: Request, body: Any) -> Reply:
        if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
            return Reply.json(
                422, {"title": "Invalid input", "detail": "input is required", "status": 422}
            )
        parts = request.path.strip("/").split("/")
        model = "/".join(parts[1:3]) if parts[0] == "models" else "pinned/model"
        prediction = {
            "id": self.new_id(),
            "model": model,
            "version": body.get("version", "latest"),
            "input": body["input"],
            "status": "starting",
            "output": None,
            "error": None,
            "logs": "",
            "polls_left": self.slow_polls,
        }
        self.predictions[prediction["id"]] = prediction
        if request.headers.get("Prefer", "").startswith("wait") and not self.slow_polls:
            self._finish(prediction)
        return Reply.json(201, self._view(prediction))

    def _size(self, data: dict[str, Any]) -> tuple[int, int]:
        if "width" in data and "height" in data:
            return int(data["width"]), int(data["height"])
        if "resolution" in data:
            width, _, rest = data["resolution"].partition(" × ")
            return int(width), int(rest.split(" ")[0])
        return _ratio_size(data.get("aspect_ratio", "1:1"))

    def _finish(self, prediction: dict[str, Any]) -> None:
        if self.fail_with:
            prediction.update(status="failed", error=self.fail_with)
            return
        data = prediction["input"]
        fmt = data.get("output_format", self.image_format)
        width, height = self._size(data)
        url = self.store_image(prediction["id"], width, height, data.get("seed", 0), fmt)
        prediction.update(status="succeeded", output=[url] if self.output_list else url)

    def _get(self, request: Request, body: Any) -> Reply:
        prediction = self.predictions.get(request.path.strip("/").split("/")[1])
        if prediction is None:
            return Reply.json(404, {"title": "Not found", "detail": "Not found.", "status": 404})
        if prediction["status"] in ("starting", "processing"):
            if prediction["polls_left"] > 0:
                prediction["polls_left"] -= 1
                prediction["status"] = "processing"
            else:
                self._finish(prediction)
        return Reply.json(200, self._view(prediction))

    def _cancel(self, request: Request, body: Any) -> Reply:
        prediction = self.predictions.get(request.path.strip("/").split("/")[1])
        if prediction is None:
            return Reply.json(404, {"title": "Not found", "detail": "Not found.", "status": 404})
        prediction["status"] = "canceled"
        return Reply.json(200, self._view(prediction))


class FakeOpenAI(FakeService):
    """OpenAI's ``POST /images/generations`` (b64_json or url answers); files."""

    def authorized(self, header: str | None) -> bool:
        return header == f"Bearer {self.key}"

    def unauthorized(self) -> Reply:
        return self.error(
            401,
            "Incorrect API key provided: wrong-key.",
            "invalid_request_error",
            "invalid_api_key",
        )

    @staticmethod
    def error(status: int, message: str, type_: str, code: str | None, param: str | None = None):
        return Reply.json(
            status, {"error": {"message": message, "type": type_, "param": param, "code": code}}
        )

    def route(self, request: Request) -> tuple[str, Any]:
        parts = request.path.strip("/").split("/")
        if request.method == "GET" and parts[0] == "files":
            return "download", None
        if request.method == "POST" and parts == ["images", "generations"]:
            return "generate", self._generate
        return "unknown", self.not_found

    def _generate(self, request: Request, body: Any) -> Reply:
        if not isinstance(body, dict):
            return self.error(
                400, "We could not parse the JSON body.", "invalid_request_error", None
            )
        for param in ("model", "prompt"):
            if not body.get(param):
                return self.error(
                    400,
                    f"Missing required parameter: '{param}'.",
                    "invalid_request_error",
                    "missing_required_parameter",
                    param,
                )
        try:
            width, height = (int(p) for p in str(body.get("size", "1024x1024")).split("x"))
        except ValueError:
            return self.error(
                400, f"Invalid size {body.get('size')!r}.", "invalid_request_error", None, "size"
            )
        image_id = self.new_id()
        fmt = body.get("response_format") or (
            "b64_json" if str(body["model"]).startswith("gpt-image-") else "url"
        )
        if fmt == "b64_json":
            data = image_bytes(width, height, self.image_format, body.get("seed", 0))
            item = {"b64_json": base64.b64encode(data).decode()}
        else:
            item = {"url": self.store_image(image_id, width, height, body.get("seed", 0))}
        item["revised_prompt"] = body["prompt"]
        return Reply.json(200, {"created": int(time.time()), "data": [item]})
