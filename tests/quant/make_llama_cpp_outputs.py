#!/usr/bin/env python3
"""Regenerate llama_cpp_outputs.json by running llama.cpp's own llama_model_quantize.

The fixtures were quantized by llama.cpp release v0.5.0 as bundled in the npm
package node-llama-cpp 3.22.1. Its Linux x64 libraries quantize the same way,
so this script loads them with ctypes and records the size and FNV-1a 64 hash
of each output file. Get the libraries with:

    npm pack @node-llama-cpp/linux-x64@3.22.1 && tar xzf node-llama-cpp-linux-x64-3.22.1.tgz

then run:

    python3 tests/quant/make_llama_cpp_outputs.py package/bins/linux-x64 ../shared/fixtures

Only the Python standard library is needed. Not run by the test suite.
"""

import ctypes
import json
import os
import sys
import tempfile

# llama.cpp's LLAMA_FTYPE values of the presets edgelm offers.
FILE_TYPES = {
    "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9, "Q2_K": 10, "Q3_K_S": 11, "Q3_K_M": 12,
    "Q3_K_L": 13, "Q4_K_S": 14, "Q4_K_M": 15, "Q5_K_S": 16, "Q5_K_M": 17, "Q6_K": 18,
}

# Presets the fixture files do not already cover for tiny-gemma2, all presets
# for stories260K (whose 64- and 172-value rows need fallback types), and bf16 input.
CASES = (
    [("tiny-gemma2-f32.gguf", p) for p in
     ["Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q5_K_S"]]
    + [("stories260K.gguf", p) for p in FILE_TYPES]
    + [("tiny-gemma2-bf16.gguf", p) for p in ["Q4_K_M", "Q8_0"]]
)


class QuantizeParams(ctypes.Structure):
    # llama_model_quantize_params of v0.5.0: int32 nthread at byte 0, int32
    # ftype at byte 4. The struct is smaller than this buffer; the library
    # fills it through the hidden return pointer.
    _fields_ = [("raw", ctypes.c_uint8 * 512)]


def load_llama(lib_dir):
    ctypes.CDLL(os.path.join(lib_dir, "libggml-base.so"), mode=ctypes.RTLD_GLOBAL)
    ctypes.CDLL(os.path.join(lib_dir, "libggml.v0.5.0.so"), mode=ctypes.RTLD_GLOBAL)
    llama = ctypes.CDLL(os.path.join(lib_dir, "libllama.v0.5.0.so"), mode=ctypes.RTLD_GLOBAL)
    llama.llama_model_quantize_default_params.restype = QuantizeParams
    llama.llama_model_quantize.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(QuantizeParams)]
    llama.llama_model_quantize.restype = ctypes.c_uint32
    llama.llama_backend_init()
    return llama


def fnv1a64(data):
    value = 0xCBF29CE484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: make_llama_cpp_outputs.py LIB_DIR FIXTURES_DIR")
    llama = load_llama(sys.argv[1])
    fixtures = sys.argv[2]

    outputs = []
    with tempfile.TemporaryDirectory() as work:
        for input_name, preset in CASES:
            params = llama.llama_model_quantize_default_params()
            ctypes.c_int32.from_buffer(params.raw, 0).value = 1
            ctypes.c_int32.from_buffer(params.raw, 4).value = FILE_TYPES[preset]
            path = os.path.join(work, "out.gguf")
            status = llama.llama_model_quantize(os.path.join(fixtures, input_name).encode(), path.encode(),
                                                ctypes.byref(params))
            if status != 0:
                sys.exit(f"llama_model_quantize failed for {input_name} {preset}")
            with open(path, "rb") as f:
                data = f.read()
            outputs.append({"input": input_name, "type": preset, "bytes": len(data), "fnv1a64": "%016x" % fnv1a64(data)})

    lines = [
        "{",
        ' "source": "llama_model_quantize of llama.cpp release v0.5.0 (the linux-x64 binaries of the npm package'
        ' @node-llama-cpp/linux-x64 3.22.1, which made the fixtures), default parameters: no importance matrix,'
        ' output tensor quantized",',
        ' "hash": "FNV-1a 64 of the whole output file",',
        ' "outputs": [',
    ]
    lines += ["  " + json.dumps(o) + ("," if i + 1 < len(outputs) else "") for i, o in enumerate(outputs)]
    lines += [" ]", "}"]
    target = os.path.join(os.path.dirname(os.path.abspath(__file__)), "llama_cpp_outputs.json")
    with open(target, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(outputs)} outputs to {target}")


if __name__ == "__main__":
    main()
