// Plain C interface to the parts of dlib that device/face drives directly:
// the HOG frontal face detector and a shape predictor (68-point landmarks).
#ifndef EXAMKIOSK_FACE_DLIB_H
#define EXAMKIOSK_FACE_DLIB_H
#ifdef __cplusplus
extern "C" {
#endif

typedef struct ekf_det ekf_det;

// ekf_det_new loads the shape predictor at sp_path and builds a HOG
// detector. On failure it returns NULL and writes a message to err (which
// must hold errlen bytes).
ekf_det* ekf_det_new(const char* sp_path, char* err, int errlen);
void ekf_det_free(ekf_det* d);

// ekf_num_parts is the number of landmarks the loaded predictor yields.
int ekf_num_parts(ekf_det* d);

// ekf_detect runs the HOG detector on the packed RGB image rgb (w*h*3
// bytes, row-major) after resizing it by scale (<1 shrinks) and upsampling
// it upsample times, then predicts landmarks for each face on the
// full-resolution image. It writes at most max_faces faces: rects gets
// 4 ints per face (left, top, right, bottom, in input pixels), scores one
// double per face, parts 2*num_parts ints per face. It returns the total
// number of faces found (which may exceed max_faces) or -1 on error with a
// message in err.
int ekf_detect(ekf_det* d, const unsigned char* rgb, int w, int h,
               double scale, int upsample, double adjust,
               int max_faces, int* rects, double* scores, int* parts,
               char* err, int errlen);

// ekf_landmarks predicts landmarks for one given rectangle.
int ekf_landmarks(ekf_det* d, const unsigned char* rgb, int w, int h,
                  int l, int t, int r, int b, int* parts, char* err, int errlen);

// ekf_set_blas_threads sets OpenBLAS's thread count when the process uses
// OpenBLAS; it returns 1 when the setting was applied, 0 otherwise.
int ekf_set_blas_threads(int n);

// ekf_trim returns free heap memory to the system (after the CNN detector
// has allocated its large temporary buffers).
void ekf_trim(void);

#ifdef __cplusplus
}
#endif
#endif
