#!/usr/bin/env python3
"""Checks exported ONNX models with tools independent of onnxruntime.

Usage: check_onnx.py <dir>

<dir>/manifest.json lists the models (written by test/second-runtime.test.ts):
  [{"name": ..., "file": "x.onnx",
    "inputs":  [{"name": ..., "file": "x.in0.f32",  "dims": [...]}],
    "outputs": [{"name": ..., "file": "x.out0.f32", "dims": [...]}]}]
Tensors are raw little-endian float32; outputs are onnxruntime-node's.

For each model: onnx.checker.check_model(full_check=True) (strict shape inference included),
then OpenCV DNN (cv2.dnn.readNetFromONNX, setInput, forward) on the same inputs, compared with
onnxruntime's outputs. Prints one JSON object on stdout:
  {"versions": {...}, "models": [{"name", "checker", "opencv", "maxDiff", "fusedMaxDiff"}]}
where "checker"/"opencv" are "ok" or the error text, "maxDiff" is measured with OpenCV's layer
fusion off (the plain per-operator semantics) and "fusedMaxDiff" with it on (OpenCV's default). Exit status 0 unless the script itself fails.
"""

import json
import os
import sys

import cv2
import numpy as np
import onnx


def load(directory, entry):
    data = np.fromfile(os.path.join(directory, entry["file"]), dtype="<f4")
    return data.reshape(entry["dims"]).astype(np.float32)


def first_line(error):
    text = str(error).strip()
    # OpenCV errors span several lines; the one naming the node and the reason is enough.
    lines = [line for line in text.splitlines() if line.strip()]
    return " | ".join(lines[:3])[:600]


def opencv_diff(directory, entry, path, fusion):
    """Largest |OpenCV - onnxruntime| over the outputs, with OpenCV's layer fusion on or off."""
    net = cv2.dnn.readNetFromONNX(path)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    net.enableFusion(fusion)
    for item in entry["inputs"]:
        net.setInput(load(directory, item), item["name"])
    names = [item["name"] for item in entry["outputs"]]
    outs = net.forward(names)
    diff = 0.0
    for item, got in zip(entry["outputs"], outs):
        want = load(directory, item)
        got = np.asarray(got, dtype=np.float32)
        if got.size != want.size:
            raise ValueError(
                f"output {item['name']}: OpenCV gave shape {list(got.shape)}, "
                f"onnxruntime {item['dims']}"
            )
        d = np.abs(got.reshape(-1) - want.reshape(-1))
        d = float(np.max(d)) if d.size else 0.0
        # NaN or Infinity (not JSON) reads as the largest double: a mismatch, never a pass.
        diff = max(diff, d if np.isfinite(d) else 1.0e308)
    return diff


def check(directory, entry):
    path = os.path.join(directory, entry["file"])
    result = {
        "name": entry["name"],
        "checker": "ok",
        "opencv": "ok",
        "maxDiff": None,
        "fusedMaxDiff": None,
    }
    try:
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
    except Exception as error:  # noqa: BLE001 - every failure is reported, none hidden
        result["checker"] = first_line(error)
    try:
        result["maxDiff"] = opencv_diff(directory, entry, path, fusion=False)
        result["fusedMaxDiff"] = opencv_diff(directory, entry, path, fusion=True)
    except Exception as error:  # noqa: BLE001
        result["opencv"] = first_line(error)
    return result


def main():
    if len(sys.argv) != 2:
        print("usage: check_onnx.py <dir>", file=sys.stderr)
        return 2
    directory = sys.argv[1]
    with open(os.path.join(directory, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    cv2.setLogLevel(0) if hasattr(cv2, "setLogLevel") else None
    report = {
        "versions": {"onnx": onnx.__version__, "opencv": cv2.__version__, "numpy": np.__version__},
        "models": [check(directory, entry) for entry in manifest],
    }
    json.dump(report, sys.stdout, allow_nan=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
