package ort

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// Options configures a Session.
type Options struct {
	// IntraOpThreads is the number of threads one Run may use; 0 means 1.
	IntraOpThreads int
	// InstallHint is the command that installs the model file, quoted in
	// errors about it (e.g. "make models").
	InstallHint string
}

// IO describes one model input or output.
type IO struct {
	Name string
	// Shape has -1 (or another negative value) for dynamic dimensions.
	Shape []int64
	// Float32 is true when the element type is float32, the only type Run
	// exchanges.
	Float32 bool
}

// Tensor is a float32 tensor in row-major order.
type Tensor struct {
	Shape []int64
	Data  []float32
}

// Session is one loaded model. It is safe for concurrent use.
type Session struct {
	path    string
	inputs  []IO
	outputs []IO

	mu   sync.RWMutex // read-held by Run, write-held by Close
	sess *ort.DynamicAdvancedSession
}

// Open checks the model file's SHA-256 (want, lower-case hex), then loads
// it into a session over every input and output of the model. Init must
// have succeeded before. Errors name the path and opts.InstallHint.
func Open(path, want string, opts Options) (*Session, error) {
	if opts.InstallHint == "" {
		opts.InstallHint = InstallHint
	}
	if Version() == "" {
		return nil, fmt.Errorf("onnx model %s: onnxruntime not initialised (call ort.Init)", path)
	}
	data, err := fileSHA256(path, want, opts.InstallHint)
	if err != nil {
		return nil, fmt.Errorf("onnx model: %w", err)
	}
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return nil, fmt.Errorf("onnx model %s: not a readable ONNX model (%v); reinstall it with: %s", path, err, opts.InstallHint)
	}
	s := &Session{path: path, inputs: describe(ins), outputs: describe(outs)}
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("onnx model %s: session options: %w", path, err)
	}
	defer so.Destroy()
	threads := max(opts.IntraOpThreads, 1)
	if err := errors.Join(
		so.SetIntraOpNumThreads(threads),
		so.SetInterOpNumThreads(1),
		so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"),
	); err != nil {
		return nil, fmt.Errorf("onnx model %s: session options: %w", path, err)
	}
	names := func(ios []IO) []string {
		out := make([]string, len(ios))
		for i, x := range ios {
			out[i] = x.Name
		}
		return out
	}
	s.sess, err = ort.NewDynamicAdvancedSessionWithONNXData(data, names(s.inputs), names(s.outputs), so)
	if err != nil {
		return nil, fmt.Errorf("onnx model %s: create session: %w; reinstall it with: %s", path, err, opts.InstallHint)
	}
	return s, nil
}

func describe(infos []ort.InputOutputInfo) []IO {
	out := make([]IO, len(infos))
	for i, in := range infos {
		out[i] = IO{
			Name:    in.Name,
			Shape:   slices.Clone([]int64(in.Dimensions)),
			Float32: in.OrtValueType == ort.ONNXTypeTensor && in.DataType == ort.TensorElementDataTypeFloat,
		}
	}
	return out
}

// Path is the model file the session was loaded from.
func (s *Session) Path() string { return s.path }

// Inputs describes the model's inputs, in the order Run takes them.
func (s *Session) Inputs() []IO { return s.inputs }

// Outputs describes the model's outputs, in the order Run returns them.
func (s *Session) Outputs() []IO { return s.outputs }

// ErrClosed is returned by Run after Close.
var ErrClosed = errors.New("onnx session closed")

// Run feeds one float32 tensor per model input and returns every output.
func (s *Session) Run(inputs ...Tensor) ([]Tensor, error) {
	if len(inputs) != len(s.inputs) {
		return nil, fmt.Errorf("onnx model %s: %d inputs given, the model has %d", s.path, len(inputs), len(s.inputs))
	}
	for i, o := range s.outputs {
		if !o.Float32 {
			return nil, fmt.Errorf("onnx model %s: output %d (%s) is not a float32 tensor", s.path, i, o.Name)
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.sess == nil {
		return nil, ErrClosed
	}
	in := make([]ort.Value, len(inputs))
	defer func() {
		for _, v := range in {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for i, t := range inputs {
		if !s.inputs[i].Float32 {
			return nil, fmt.Errorf("onnx model %s: input %d (%s) is not a float32 tensor", s.path, i, s.inputs[i].Name)
		}
		v, err := ort.NewTensor(ort.NewShape(t.Shape...), t.Data)
		if err != nil {
			return nil, fmt.Errorf("onnx model %s: input %s: %w", s.path, s.inputs[i].Name, err)
		}
		in[i] = v
	}
	out := make([]ort.Value, len(s.outputs))
	if err := s.sess.Run(in, out); err != nil {
		return nil, fmt.Errorf("onnx model %s: run: %w", s.path, err)
	}
	res := make([]Tensor, len(out))
	for i, v := range out {
		t, ok := v.(*ort.Tensor[float32])
		if !ok {
			for _, v := range out {
				if v != nil {
					v.Destroy()
				}
			}
			return nil, fmt.Errorf("onnx model %s: output %s is %T, want a float32 tensor", s.path, s.outputs[i].Name, v)
		}
		res[i] = Tensor{Shape: slices.Clone([]int64(t.GetShape())), Data: slices.Clone(t.GetData())}
		t.Destroy()
	}
	return res, nil
}

// Close frees the session; it waits for runs in progress. Idempotent.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sess == nil {
		return nil
	}
	err := s.sess.Destroy()
	s.sess = nil
	return err
}
