package central

// WithFaceLoadGate holds the face index's background load until gate is
// closed (tests of the searches made while it loads).
func WithFaceLoadGate(gate chan struct{}) Option {
	return func(s *Server) { s.faces.gate = gate }
}
