package registration

import "testing"

// TestWireCarriesTheFace: the live-face descriptor travels with its model
// and kind, for the central's duplicate search; none kept, none sent.
func TestWireCarriesTheFace(t *testing.T) {
	vec := make([]float32, 192)
	vec[3] = 1
	for _, tc := range []struct {
		model, wantModel, wantKind string
		vecs                       [][]float32
	}{
		{"mobilefacenet.onnx", "mobilefacenet.onnx", "mobilefacenet", [][]float32{vec}},
		{"", "dlib_face_recognition_resnet_model_v1.dat", "dlib", [][]float32{vec[:128]}},
		{"custom.onnx", "custom.onnx", "", [][]float32{vec}},
	} {
		r := Registration{Descriptors: tc.vecs, DescriptorModel: tc.model}
		f := r.Wire().Face
		if f == nil || f.Model != tc.wantModel || f.Kind != tc.wantKind || len(f.Vec) != len(tc.vecs[0]) || f.Vec[3] != 1 {
			t.Errorf("model %q: face %+v", tc.model, f)
		}
	}
	if f := (&Registration{}).Wire().Face; f != nil {
		t.Errorf("no descriptor kept, face %+v sent", f)
	}
}
