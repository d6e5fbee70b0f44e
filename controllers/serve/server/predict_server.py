"""Darwin's model server: MLflow's `mlflow models serve` behind a small predict endpoint.

Starts `mlflow models serve` for $DARWIN_MODEL_URI on 127.0.0.1:$DARWIN_MLFLOW_PORT and answers on
0.0.0.0:$DARWIN_PORT:
  POST /predict, /<serve>/predict, /invocations  {"features": [[...]]} or {"input": [[...]]} (Darwin's
       bodies, sent to MLflow as {"inputs": ...}) or MLflow's own bodies (inputs, instances,
       dataframe_split, dataframe_records), passed through unchanged
  GET  /health, /<serve>/health                  200 once MLflow answers /ping, else 503
Exits with MLflow's exit code when MLflow exits, so the container restarts. Standard library only.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL_URI = os.environ["DARWIN_MODEL_URI"]
SERVE = os.environ.get("DARWIN_SERVE_NAME", "")
PORT = int(os.environ.get("DARWIN_PORT", "8080"))
MLFLOW_PORT = int(os.environ.get("DARWIN_MLFLOW_PORT", "8081"))
UPSTREAM = f"http://127.0.0.1:{MLFLOW_PORT}"
DARWIN_KEYS = ("features", "input")
MLFLOW_KEYS = ("inputs", "instances", "dataframe_split", "dataframe_records")
ACCEPTED = ", ".join(DARWIN_KEYS + MLFLOW_KEYS)


def to_mlflow(body):
    """MLflow's request body for a Darwin or MLflow body; raises ValueError naming what is accepted."""
    if not isinstance(body, dict):
        raise ValueError(f"the body must be a JSON object with one of: {ACCEPTED}")
    keys = [k for k in DARWIN_KEYS + MLFLOW_KEYS if k in body]
    if len(keys) != 1:
        found = ", ".join(sorted(body)) or "no keys"
        raise ValueError(f"the body must have exactly one of: {ACCEPTED} (found {found}); "
                         'e.g. {"features": [[5.1, 3.5, 1.4, 0.2]]}')
    key = keys[0]
    if key in DARWIN_KEYS:
        rows = body[key]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise ValueError(f'"{key}" must be a list of rows, each a list of values, e.g. [[5.1, 3.5, 1.4, 0.2]]')
        return {"inputs": rows}
    return body


def route(path):
    """The endpoint a path names: predict, health or None."""
    path = path.split("?", 1)[0].rstrip("/")
    if SERVE and path.startswith(f"/{SERVE}/"):
        path = path[len(SERVE) + 1:]
    if path in ("/predict", "/invocations"):
        return "predict"
    if path in ("/health", "/ping"):
        return "health"
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, code, payload):
        data = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if route(self.path) != "health":
            return self.reply(404, {"error": f"no such endpoint {self.path}; GET /health or POST /predict"})
        try:
            with urllib.request.urlopen(f"{UPSTREAM}/ping", timeout=2):
                return self.reply(200, {"status": "ok", "model": MODEL_URI})
        except (urllib.error.URLError, OSError):
            return self.reply(503, {"status": "loading", "model": MODEL_URI})

    def do_POST(self):
        if route(self.path) != "predict":
            return self.reply(404, {"error": f"no such endpoint {self.path}; POST /predict"})
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = to_mlflow(json.loads(self.rfile.read(length) or b"null"))
        except json.JSONDecodeError as err:
            return self.reply(400, {"error": f"the body is not JSON: {err}"})
        except ValueError as err:
            return self.reply(400, {"error": str(err)})
        request = urllib.request.Request(f"{UPSTREAM}/invocations", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return self.reply(response.status, response.read())
        except urllib.error.HTTPError as err:
            # MLflow answers 400 for input the model cannot take; its message says why.
            return self.reply(err.code if err.code < 500 else 502, err.read())
        except (urllib.error.URLError, OSError) as err:
            return self.reply(503, {"error": f"the model server is not ready yet: {err}"})

    def log_message(self, format, *args):
        sys.stderr.write(json.dumps({"msg": "handled request", "request": format % args}) + "\n")


def main():
    mlflow = subprocess.Popen(["mlflow", "models", "serve", "-m", MODEL_URI, "--env-manager", "local",
                               "-h", "127.0.0.1", "-p", str(MLFLOW_PORT)])
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop(signum, frame):
        mlflow.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = mlflow.wait()
    server.shutdown()
    sys.exit(code)


if __name__ == "__main__":
    main()
