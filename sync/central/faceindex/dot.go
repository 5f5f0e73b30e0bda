package faceindex

// dotsGo is the portable kernel: the same sums as the AVX2 one.
func dotsGo(q []int16, rows []int8, out []int32) {
	d := len(q)
	for i := range out {
		r := rows[i*d : (i+1)*d : (i+1)*d]
		var s0, s1 int32
		j := 0
		for ; j+1 < d; j += 2 {
			s0 += int32(q[j]) * int32(r[j])
			s1 += int32(q[j+1]) * int32(r[j+1])
		}
		if j < d {
			s0 += int32(q[j]) * int32(r[j])
		}
		out[i] = s0 + s1
	}
}
