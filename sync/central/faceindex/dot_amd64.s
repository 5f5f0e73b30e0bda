#include "textflag.h"

// func dotsAVX2(q []int16, rows []int8, out []int32)
//
// out[i] = Σ_j q[j]·rows[i·d+j] with d = len(q), a multiple of 16, and
// len(rows) = d·len(out). Each step widens 16 bytes of a row to int16
// (VPMOVSXBW) and multiplies-adds them with 16 query values into 8 int32
// sums (VPMADDWD); two accumulators hide the adds' latency.
TEXT ·dotsAVX2(SB), NOSPLIT, $0-72
	MOVQ q_base+0(FP), SI
	MOVQ q_len+8(FP), CX
	MOVQ rows_base+24(FP), DI
	MOVQ out_base+48(FP), DX
	MOVQ out_len+56(FP), R8
	TESTQ R8, R8
	JE done
	MOVQ CX, R10
	ANDQ $-32, R10 // bytes done two steps at a time

row:
	VPXOR Y0, Y0, Y0
	VPXOR Y4, Y4, Y4
	XORQ AX, AX
	TESTQ R10, R10
	JE tail

pair:
	VPMOVSXBW (DI)(AX*1), Y2
	VPMOVSXBW 16(DI)(AX*1), Y5
	VPMADDWD (SI)(AX*2), Y2, Y2
	VPMADDWD 32(SI)(AX*2), Y5, Y5
	VPADDD Y2, Y0, Y0
	VPADDD Y5, Y4, Y4
	ADDQ $32, AX
	CMPQ AX, R10
	JB pair

tail:
	CMPQ AX, CX
	JAE sum
	VPMOVSXBW (DI)(AX*1), Y2
	VPMADDWD (SI)(AX*2), Y2, Y2
	VPADDD Y2, Y0, Y0

sum:
	VPADDD Y4, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD X1, X0, X0
	VPSHUFD $0x4E, X0, X1
	VPADDD X1, X0, X0
	VPSHUFD $0xB1, X0, X1
	VPADDD X1, X0, X0
	VMOVD X0, R9
	MOVL R9, (DX)
	ADDQ $4, DX
	ADDQ CX, DI
	DECQ R8
	JNE row

done:
	VZEROUPPER
	RET
