// Package orttest builds small ONNX models for tests of code that runs
// models through device/face/ort: a model of the wrong shape, a model that
// computes something known. It writes the protobuf by hand (a few fields
// of onnx.proto), so the tests need no model files.
package orttest

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// Node is one graph node. Ints are integer-list attributes (e.g. "axes"),
// Int single integer attributes (e.g. "keepdims").
type Node struct {
	Op      string
	Inputs  []string
	Outputs []string
	Ints    map[string][]int64
	Int     map[string]int64
}

// Value is a float32 graph input or output; a negative dimension is
// dynamic ("batch").
type Value struct {
	Name  string
	Shape []int64
}

// Model returns the bytes of an ONNX model (IR 8, opset 13) of nodes from
// inputs to outputs.
func Model(inputs, outputs []Value, nodes ...Node) []byte {
	var graph pb
	for _, n := range nodes {
		var node pb
		for _, in := range n.Inputs {
			node = node.bytes(1, []byte(in))
		}
		for _, out := range n.Outputs {
			node = node.bytes(2, []byte(out))
		}
		node = node.bytes(4, []byte(n.Op))
		for name, v := range n.Ints {
			a := pb{}.bytes(1, []byte(name)).varint(20, 7) // type INTS
			for _, x := range v {
				a = a.varint(8, uint64(x))
			}
			node = node.bytes(5, a)
		}
		for name, v := range n.Int {
			node = node.bytes(5, pb{}.bytes(1, []byte(name)).varint(20, 2).varint(3, uint64(v))) // type INT
		}
		graph = graph.bytes(1, node)
	}
	graph = graph.bytes(2, []byte("test"))
	for _, v := range inputs {
		graph = graph.bytes(11, valueInfo(v))
	}
	for _, v := range outputs {
		graph = graph.bytes(12, valueInfo(v))
	}
	return pb{}.varint(1, 8).bytes(8, pb{}.varint(2, 13)).bytes(7, graph)
}

// Write writes model into dir as name and returns its path and SHA-256.
func Write(t testing.TB, dir, name string, model []byte) (path, sum string) {
	t.Helper()
	path = filepath.Join(dir, name)
	if err := os.WriteFile(path, model, 0o644); err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(model)
	return path, hex.EncodeToString(s[:])
}

func valueInfo(v Value) []byte {
	var shape pb
	for _, d := range v.Shape {
		if d < 0 {
			shape = shape.bytes(1, pb{}.bytes(2, []byte("batch")))
		} else {
			shape = shape.bytes(1, pb{}.varint(1, uint64(d)))
		}
	}
	tensor := pb{}.varint(1, 1).bytes(2, shape) // elem_type FLOAT
	return pb{}.bytes(1, []byte(v.Name)).bytes(2, pb{}.bytes(1, tensor))
}

// pb is a minimal protobuf writer.
type pb []byte

func (b pb) varint(field int, v uint64) pb {
	b = appendVarint(b, uint64(field<<3))
	return appendVarint(b, v)
}

func (b pb) bytes(field int, v []byte) pb {
	b = appendVarint(b, uint64(field<<3|2))
	b = appendVarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}
