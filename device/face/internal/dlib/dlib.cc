#include <dlfcn.h>
#include <malloc.h>
#include <cstring>
#include <algorithm>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>
#include <dlib/matrix.h>
#include <dlib/pixel.h>

#include "dlib.h"

struct ekf_det {
	std::mutex mu;  // guards detector (its scanner keeps scratch state)
	dlib::frontal_face_detector detector;
	dlib::shape_predictor sp;
};

static void set_err(char* err, int errlen, const char* msg) {
	if (err == nullptr || errlen <= 0) return;
	std::strncpy(err, msg, errlen - 1);
	err[errlen - 1] = 0;
}

static void wrap(const unsigned char* rgb, int w, int h, dlib::matrix<dlib::rgb_pixel>& img) {
	img.set_size(h, w);
	const unsigned char* p = rgb;
	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++, p += 3) {
			img(y, x) = dlib::rgb_pixel(p[0], p[1], p[2]);
		}
	}
}

extern "C" {

ekf_det* ekf_det_new(const char* sp_path, char* err, int errlen) {
	try {
		ekf_det* d = new ekf_det();
		d->detector = dlib::get_frontal_face_detector();
		dlib::deserialize(sp_path) >> d->sp;
		return d;
	} catch (std::exception& e) {
		set_err(err, errlen, e.what());
	}
	return nullptr;
}

void ekf_det_free(ekf_det* d) { delete d; }

int ekf_num_parts(ekf_det* d) { return (int)d->sp.num_parts(); }

int ekf_detect(ekf_det* d, const unsigned char* rgb, int w, int h,
               double scale, int upsample, double adjust,
               int max_faces, int* rects, double* scores, int* parts,
               char* err, int errlen) {
	try {
		dlib::matrix<dlib::rgb_pixel> img;
		wrap(rgb, w, h, img);
		// Detection runs on a grey, resized copy: HOG uses gradients only.
		dlib::matrix<unsigned char> grey;
		dlib::assign_image(grey, img);
		double total = scale > 0 ? scale : 1;
		for (int i = 0; i < upsample; i++) total *= 2;
		dlib::matrix<unsigned char> small;
		if (total != 1) {
			small.set_size(std::max(1L, (long)(h * total + 0.5)), std::max(1L, (long)(w * total + 0.5)));
			dlib::resize_image(grey, small, dlib::interpolate_bilinear());
		} else {
			small.swap(grey);
		}
		std::vector<dlib::rect_detection> dets;
		{
			std::lock_guard<std::mutex> lock(d->mu);
			d->detector(small, dets, adjust);
		}
		// rect_detection is sorted by confidence, best first.
		int n = (int)dets.size();
		int np = (int)d->sp.num_parts();
		for (int i = 0; i < n && i < max_faces; i++) {
			const dlib::rectangle& r = dets[i].rect;
			dlib::rectangle orig(
				(long)(r.left() / total + 0.5), (long)(r.top() / total + 0.5),
				(long)(r.right() / total + 0.5), (long)(r.bottom() / total + 0.5));
			rects[i * 4 + 0] = (int)orig.left();
			rects[i * 4 + 1] = (int)orig.top();
			rects[i * 4 + 2] = (int)orig.right();
			rects[i * 4 + 3] = (int)orig.bottom();
			scores[i] = dets[i].detection_confidence;
			dlib::full_object_detection shape = d->sp(img, orig);
			for (int j = 0; j < np; j++) {
				parts[(i * np + j) * 2] = (int)shape.part(j).x();
				parts[(i * np + j) * 2 + 1] = (int)shape.part(j).y();
			}
		}
		return n;
	} catch (std::exception& e) {
		set_err(err, errlen, e.what());
	}
	return -1;
}

int ekf_landmarks(ekf_det* d, const unsigned char* rgb, int w, int h,
                  int l, int t, int r, int b, int* parts, char* err, int errlen) {
	try {
		dlib::matrix<dlib::rgb_pixel> img;
		wrap(rgb, w, h, img);
		dlib::full_object_detection shape = d->sp(img, dlib::rectangle(l, t, r, b));
		int np = (int)d->sp.num_parts();
		for (int j = 0; j < np; j++) {
			parts[j * 2] = (int)shape.part(j).x();
			parts[j * 2 + 1] = (int)shape.part(j).y();
		}
		return np;
	} catch (std::exception& e) {
		set_err(err, errlen, e.what());
	}
	return -1;
}

void ekf_trim(void) { malloc_trim(0); }

int ekf_set_blas_threads(int n) {
	typedef void (*setter)(int);
	void* sym = dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
	if (sym == nullptr) return 0;
	((setter)sym)(n);
	return 1;
}

}  // extern "C"
