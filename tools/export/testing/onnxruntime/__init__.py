"""The slice of onnxruntime's Python API that export_core.check_with_onnxruntime uses, executed by
the repository's onnxruntime-node (the same C++ runtime), for tests where the Python wheel is not
installed (test/unit/exportGuide.test.ts puts this folder's parent on PYTHONPATH). Each run starts
one `node` process ($NODE_BINARY, else node on PATH) and passes tensors as JSON, so it only suits
tiny models. Not for real use: install onnxruntime (python3 -m pip install onnxruntime).
"""
import json
import os
import subprocess
import tempfile

import numpy as np
import onnx

__version__ = "0.0.node"
REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", ".."))

RUN_SCRIPT = r"""
const fs = require('fs');
const path = require('path');
const [requestPath, responsePath, repoRoot] = process.argv.slice(1);
const ort = require(path.join(repoRoot, 'node_modules', 'onnxruntime-node'));
(async () => {
  const request = JSON.parse(fs.readFileSync(requestPath, 'utf8'));
  const session = await ort.InferenceSession.create(request.model);
  const feeds = {};
  for (const [name, feed] of Object.entries(request.feeds)) {
    const data = feed.type === 'int64' ? BigInt64Array.from(feed.data, (x) => BigInt(x)) : Float32Array.from(feed.data);
    feeds[name] = new ort.Tensor(feed.type, data, feed.dims);
  }
  const results = await session.run(feeds, request.outputs);
  const response = {};
  for (const name of request.outputs) response[name] = { dims: results[name].dims, data: Array.from(results[name].data, Number) };
  fs.writeFileSync(responsePath, JSON.stringify(response));
})().catch((error) => { console.error(String(error && error.message || error)); process.exit(1); });
"""


class _Output:
    def __init__(self, name):
        self.name = name


class InferenceSession:
    def __init__(self, path, providers=None):
        self.path = os.path.abspath(path)
        self.output_names = [value.name for value in onnx.load(self.path, load_external_data=False).graph.output]

    def get_outputs(self):
        return [_Output(name) for name in self.output_names]

    def run(self, output_names, feeds):
        names = list(output_names or self.output_names)
        request = {"model": self.path, "outputs": names, "feeds": {
            name: {"type": "int64" if array.dtype == np.int64 else "float32", "dims": list(array.shape),
                   "data": array.reshape(-1).tolist()} for name, array in feeds.items()}}
        with tempfile.TemporaryDirectory() as scratch:
            request_path, response_path = os.path.join(scratch, "request.json"), os.path.join(scratch, "response.json")
            with open(request_path, "w", encoding="utf-8") as handle:
                json.dump(request, handle)
            done = subprocess.run([os.environ.get("NODE_BINARY", "node"), "-e", RUN_SCRIPT, request_path, response_path, REPO_ROOT],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"onnxruntime-node: {done.stderr.strip()}")
            with open(response_path, encoding="utf-8") as handle:
                response = json.load(handle)
        return [np.array(response[name]["data"], dtype=np.float32).reshape(response[name]["dims"]) for name in names]
