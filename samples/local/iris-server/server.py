"""The iris model server: Darwin's predict API in the standard library.

  POST /predict, /<serve>/predict  {"features": [[sepal length, sepal width, petal length, petal width], ...]}
       -> {"predictions": ["setosa", ...]}; 400 naming the expected body otherwise
  GET  /health, /<serve>/health    200
"""
import json
import os
import pickle
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

with open(os.path.join(os.path.dirname(__file__), "model.pkl"), "rb") as f:
    MODEL = pickle.load(f)
PORT = int(os.environ.get("DARWIN_PORT", "8080"))
EXAMPLE = '{"features": [[5.1, 3.5, 1.4, 0.2]]}'


class Handler(BaseHTTPRequestHandler):
    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.rstrip("/").endswith("/health"):
            return self.reply(200, {"status": "ok"})
        return self.reply(404, {"error": f"no such endpoint {self.path}; GET /health or POST /predict"})

    def do_POST(self):
        if not self.path.rstrip("/").endswith("/predict"):
            return self.reply(404, {"error": f"no such endpoint {self.path}; POST /predict"})
        try:
            rows = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")["features"]
            labels = MODEL["model"].predict(rows)
        except (ValueError, KeyError, TypeError) as err:
            return self.reply(400, {"error": f"the body must be {EXAMPLE} (four numbers a row): {err}"})
        return self.reply(200, {"predictions": [MODEL["classes"][int(i)] for i in labels]})


ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
