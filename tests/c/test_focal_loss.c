/*
 * Tests of the C API of focal-loss, compiled and run by tests/c_abi.rs against
 * include/focal_loss.h and the built library (static, then shared).
 *
 * Expected values come from formulas evaluated here in plain double (the textbook
 * definitions, gradients and Hessians by finite differences or closed forms), and for three
 * richer cases from hard-coded high-precision values (see `rich_values`). Every test runs
 * for the f32 and the f64 entry points.
 *
 * Exit status 0 when every check passes; the failures are printed on stderr.
 */

#include "focal_loss.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FOCAL_EXPECTED_VERSION
#error "compile with -DFOCAL_EXPECTED_VERSION=\"x.y.z\" (the crate version)"
#endif

/* ------------------------------------------------------------------------------------- */
/* Checks */

static int checks = 0;
static int failures = 0;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        checks++;                                                          \
        if (!(cond)) {                                                     \
            failures++;                                                    \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

/* The status of `call` is `expected`. */
#define CHECK_STATUS(call, expected)                                                    \
    do {                                                                                \
        focal_status got_ = (call);                                                     \
        CHECK(got_ == (expected), "status %d (%s), expected %d (%s) [%s]", (int)got_,   \
              focal_status_message(got_), (int)(expected),                              \
              focal_status_message(expected), precision_name);                          \
    } while (0)

static const char *precision_name = "";

static int close_to(double got, double want, double rtol, double atol) {
    if (isnan(want)) return isnan(got);
    return fabs(got - want) <= atol + rtol * fabs(want);
}

#define CHECK_CLOSE(got, want, rtol, atol)                                             \
    do {                                                                               \
        double g_ = (got), w_ = (want);                                                \
        CHECK(close_to(g_, w_, (rtol), (atol)), "got %.17g, want %.17g [%s]", g_, w_,  \
              precision_name);                                                         \
    } while (0)

#define N_OF(array) (sizeof(array) / sizeof((array)[0]))

/* A value the library never computes in these tests, exact in float and double. */
#define SENTINEL (-12345.0)

static void fill(double *values, size_t n, double value) {
    for (size_t i = 0; i < n; i++) values[i] = value;
}

static int all_equal(const double *values, size_t n, double value) {
    for (size_t i = 0; i < n; i++)
        if (!(values[i] == value)) return 0;
    return 1;
}

/* ------------------------------------------------------------------------------------- */
/* Both precisions through one interface: the tests are written in double; for f32 the
 * inputs are rounded to float (the test values are exact in float), the outputs copied
 * back (so a sentinel the library did not overwrite reads back unchanged). NULL stays
 * NULL. */

typedef enum { P32 = 0, P64 = 1 } precision;

static float *to_float(const double *src, size_t n) {
    if (src == NULL) return NULL;
    float *dst = malloc((n ? n : 1) * sizeof(float));
    if (dst == NULL) abort();
    for (size_t i = 0; i < n; i++) dst[i] = (float)src[i];
    return dst;
}

static void from_float(double *dst, float *src, size_t n) {
    if (dst == NULL) return;
    for (size_t i = 0; i < n; i++) dst[i] = (double)src[i];
    free(src);
}

/* Relative tolerance against a double-precision expectation. */
static double rtol_of(precision p) { return p == P32 ? 2e-5 : 1e-12; }
static double atol_of(precision p) { return p == P32 ? 1e-7 : 1e-15; }

static size_t loss_count(focal_reduction reduction, size_t elements) {
    return reduction == FOCAL_REDUCTION_NONE ? elements : 1;
}

static focal_status sigmoid_soft(precision p, const double *x, const double *y,
                                 const double *w, size_t n, const focal_sigmoid_options *o,
                                 double *loss, double *grad) {
    if (p == P64) return focal_sigmoid_f64(x, y, w, n, o, loss, grad);
    size_t nl = loss_count(o ? o->reduction : FOCAL_REDUCTION_MEAN, n);
    float *fx = to_float(x, n), *fy = to_float(y, n), *fw = to_float(w, n);
    float *fl = to_float(loss, nl), *fg = to_float(grad, n);
    focal_status s = focal_sigmoid_f32(fx, fy, fw, n, o, fl, fg);
    free(fx), free(fy), free(fw);
    from_float(loss, fl, nl), from_float(grad, fg, n);
    return s;
}

static focal_status sigmoid_labels(precision p, const double *x, const uint8_t *y,
                                   const double *w, size_t n, const focal_sigmoid_options *o,
                                   double *loss, double *grad) {
    if (p == P64) return focal_sigmoid_labels_f64(x, y, w, n, o, loss, grad);
    size_t nl = loss_count(o ? o->reduction : FOCAL_REDUCTION_MEAN, n);
    float *fx = to_float(x, n), *fw = to_float(w, n);
    float *fl = to_float(loss, nl), *fg = to_float(grad, n);
    focal_status s = focal_sigmoid_labels_f32(fx, y, fw, n, o, fl, fg);
    free(fx), free(fw);
    from_float(loss, fl, nl), from_float(grad, fg, n);
    return s;
}

static focal_status sigmoid_classes(precision p, const double *x, const int32_t *t,
                                    size_t rows, size_t classes,
                                    const focal_sigmoid_options *o, double *loss,
                                    double *grad) {
    if (p == P64) return focal_sigmoid_classes_f64(x, t, rows, classes, o, loss, grad);
    /* Only called with small, non-overflowing shapes. */
    size_t n = rows * classes;
    size_t nl = loss_count(o ? o->reduction : FOCAL_REDUCTION_MEAN, n);
    float *fx = to_float(x, n), *fl = to_float(loss, nl), *fg = to_float(grad, n);
    focal_status s = focal_sigmoid_classes_f32(fx, t, rows, classes, o, fl, fg);
    free(fx);
    from_float(loss, fl, nl), from_float(grad, fg, n);
    return s;
}

static focal_status softmax(precision p, const double *x, const int32_t *t, size_t batch,
                            size_t classes, size_t spatial, const double *class_alpha,
                            const focal_softmax_options *o, double *loss, double *grad) {
    if (p == P64)
        return focal_softmax_f64(x, t, batch, classes, spatial, class_alpha, o, loss, grad);
    size_t positions = batch * spatial, n = positions * classes;
    size_t nl = loss_count(o ? o->reduction : FOCAL_REDUCTION_MEAN, positions);
    float *fx = to_float(x, n), *fa = to_float(class_alpha, classes);
    float *fl = to_float(loss, nl), *fg = to_float(grad, n);
    focal_status s = focal_softmax_f32(fx, t, batch, classes, spatial, fa, o, fl, fg);
    free(fx), free(fa);
    from_float(loss, fl, nl), from_float(grad, fg, n);
    return s;
}

static focal_status grad_hess(precision p, const double *x, const double *y, size_t n,
                              const focal_sigmoid_options *o, double floor, double *grad,
                              double *hess) {
    if (p == P64) return focal_sigmoid_grad_hess_f64(x, y, n, o, floor, grad, hess);
    float *fx = to_float(x, n), *fy = to_float(y, n);
    float *fg = to_float(grad, n), *fh = to_float(hess, n);
    focal_status s = focal_sigmoid_grad_hess_f32(fx, fy, n, o, floor, fg, fh);
    free(fx), free(fy);
    from_float(grad, fg, n), from_float(hess, fh, n);
    return s;
}

static focal_status softmax_grad_hess(precision p, const double *x, const int32_t *t,
                                      size_t batch, size_t classes, size_t spatial,
                                      const double *class_alpha, const focal_softmax_options *o,
                                      double floor, double *grad, double *hess) {
    if (p == P64)
        return focal_softmax_grad_hess_f64(x, t, batch, classes, spatial, class_alpha, o, floor,
                                           grad, hess);
    size_t n = batch * spatial * classes;
    float *fx = to_float(x, n), *fa = to_float(class_alpha, classes);
    float *fg = to_float(grad, n), *fh = to_float(hess, n);
    focal_status s =
        focal_softmax_grad_hess_f32(fx, t, batch, classes, spatial, fa, o, floor, fg, fh);
    free(fx), free(fa);
    from_float(grad, fg, n), from_float(hess, fh, n);
    return s;
}

/* ------------------------------------------------------------------------------------- */
/* Independent expectations: the textbook definitions in double, for moderate logits. */

static double sigmoid_of(double x) { return 1.0 / (1.0 + exp(-x)); }

/* Sigmoid focal loss of one element, soft target y (already smoothed), torchvision's
 * definition: alpha_t * (1 - p_t)^gamma * BCE(x, y); alpha < 0: off. */
static double sigmoid_focal_ref(double x, double y, double gamma, double alpha) {
    double p = sigmoid_of(x);
    double bce = -(y * log(p) + (1.0 - y) * log1p(-p));
    double pt = p * y + (1.0 - p) * (1.0 - y);
    double at = alpha < 0.0 ? 1.0 : alpha * y + (1.0 - alpha) * (1.0 - y);
    return at * pow(1.0 - pt, gamma) * bce;
}

/* Derivatives by central differences with one Richardson step (error O(h^4) plus
 * rounding), accurate to ~1e-9 relative for these inputs. */
static double sigmoid_focal_d1(double x, double y, double g, double a, double h) {
    return (sigmoid_focal_ref(x + h, y, g, a) - sigmoid_focal_ref(x - h, y, g, a)) / (2.0 * h);
}

static double sigmoid_focal_d2(double x, double y, double g, double a, double h) {
    double up = sigmoid_focal_ref(x + h, y, g, a), down = sigmoid_focal_ref(x - h, y, g, a);
    return (up - 2.0 * sigmoid_focal_ref(x, y, g, a) + down) / (h * h);
}

static double sigmoid_focal_dx(double x, double y, double g, double a) {
    const double h = 1e-3;
    return (4.0 * sigmoid_focal_d1(x, y, g, a, h / 2) - sigmoid_focal_d1(x, y, g, a, h)) / 3.0;
}

static double sigmoid_focal_dxx(double x, double y, double g, double a) {
    const double h = 4e-3;
    return (4.0 * sigmoid_focal_d2(x, y, g, a, h / 2) - sigmoid_focal_d2(x, y, g, a, h)) / 3.0;
}

/* Softmax focal loss of one position: sum_k alpha_k y_k (1 - p_k)^gamma (-ln p_k), with
 * y = onehot(target) * (1 - ls) + ls / C; the row is given with a stride. */
static double softmax_focal_ref(const double *row, size_t stride, size_t classes,
                                int32_t target, double gamma, const double *class_alpha,
                                double alpha, double ls) {
    double z = 0.0;
    for (size_t k = 0; k < classes; k++) z += exp(row[k * stride]);
    double loss = 0.0;
    for (size_t k = 0; k < classes; k++) {
        double p = exp(row[k * stride]) / z;
        double y = ((int32_t)k == target ? 1.0 - ls : 0.0) + ls / (double)classes;
        double a = class_alpha ? class_alpha[k] : (alpha < 0.0 ? 1.0 : alpha);
        loss += a * y * pow(1.0 - p, gamma) * -log(p);
    }
    return loss;
}

/* ------------------------------------------------------------------------------------- */

static void test_strings(void) {
    precision_name = "strings";
    const char *version = focal_version();
    CHECK(version != NULL && strcmp(version, FOCAL_EXPECTED_VERSION) == 0, "version %s",
          version ? version : "(null)");
    const char *level = focal_simd_level();
    CHECK(level != NULL && (strcmp(level, "avx512") == 0 || strcmp(level, "avx2") == 0 ||
                            strcmp(level, "neon") == 0 || strcmp(level, "scalar") == 0),
          "simd level %s", level ? level : "(null)");
    const focal_status all[] = {FOCAL_OK,
                                FOCAL_ERROR_NULL_POINTER,
                                FOCAL_ERROR_INVALID_ARGUMENT,
                                FOCAL_ERROR_TARGET_OUT_OF_RANGE,
                                FOCAL_ERROR_LENGTH,
                                FOCAL_ERROR_INTERNAL};
    CHECK(FOCAL_OK == 0 && FOCAL_ERROR_INTERNAL == 5, "status values");
    for (size_t i = 0; i < N_OF(all); i++) {
        const char *m = focal_status_message(all[i]);
        CHECK(m != NULL && m[0] != '\0', "message of status %d", (int)all[i]);
        for (size_t j = 0; j < i; j++)
            CHECK(m && strcmp(m, focal_status_message(all[j])) != 0, "messages %zu, %zu equal",
                  i, j);
    }
    /* An unknown value (C can pass any int) still gets a message. */
    const char *unknown = focal_status_message((focal_status)99);
    CHECK(unknown != NULL && unknown[0] != '\0', "message of an unknown status");
    unknown = focal_status_message((focal_status)-1);
    CHECK(unknown != NULL && unknown[0] != '\0', "message of status -1");
    printf("version %s, SIMD level %s\n", version, level);
}

static void test_defaults(void) {
    precision_name = "defaults";
    focal_sigmoid_options s = focal_sigmoid_options_default();
    CHECK(s.gamma == 2.0 && s.alpha == 0.25 && s.label_smoothing == 0.0 &&
              s.reduction == FOCAL_REDUCTION_MEAN && s.normalizer == 0.0 && s.threads == 0,
          "sigmoid defaults");
    focal_softmax_options m = focal_softmax_options_default();
    CHECK(m.gamma == 2.0 && m.alpha < 0.0 && m.label_smoothing == 0.0 &&
              m.reduction == FOCAL_REDUCTION_MEAN && m.normalizer == 0.0 &&
              m.ignore_index == -100 && m.threads == 0,
          "softmax defaults");
    CHECK(FOCAL_REDUCTION_NONE == 0 && FOCAL_REDUCTION_SUM == 1 && FOCAL_REDUCTION_MEAN == 2,
          "reduction values");
}

/* gamma = 0 and alpha off is binary cross-entropy: loss -ln sigma(x) (y = 1),
 * -ln sigma(-x) (y = 0), gradient sigma(x) - y, Hessian sigma(x)(1 - sigma(x)). */
static void test_sigmoid_is_bce(precision p) {
    const double x[] = {-3.0, -0.5, 0.0, 0.75, 4.0, 2.5};
    const double y[] = {1.0, 0.0, 1.0, 1.0, 0.0, 0.5};
    const uint8_t labels[] = {1, 0, 1, 1, 0};
    enum { N = 6 };
    focal_sigmoid_options o = focal_sigmoid_options_default();
    o.gamma = 0.0, o.alpha = -1.0, o.reduction = FOCAL_REDUCTION_NONE;
    double loss[N], grad[N], hess[N];
    fill(loss, N, SENTINEL), fill(grad, N, SENTINEL);
    CHECK_STATUS(sigmoid_soft(p, x, y, NULL, N, &o, loss, grad), FOCAL_OK);
    for (int i = 0; i < N; i++) {
        double s = sigmoid_of(x[i]);
        double want = -(y[i] * log(s) + (1.0 - y[i]) * log(1.0 - s));
        CHECK_CLOSE(loss[i], want, rtol_of(p), atol_of(p));
        CHECK_CLOSE(grad[i], s - y[i], rtol_of(p), atol_of(p));
    }
    /* Hard labels: the same values from one byte per label. */
    fill(loss, N, SENTINEL), fill(grad, N, SENTINEL);
    CHECK_STATUS(sigmoid_labels(p, x, labels, NULL, 5, &o, loss, grad), FOCAL_OK);
    for (int i = 0; i < 5; i++) {
        CHECK_CLOSE(loss[i], labels[i] ? log1p(exp(-x[i])) : log1p(exp(x[i])), rtol_of(p),
                    atol_of(p));
        CHECK_CLOSE(grad[i], sigmoid_of(x[i]) - labels[i], rtol_of(p), atol_of(p));
    }
    CHECK(loss[5] == SENTINEL && grad[5] == SENTINEL, "wrote past n");
    /* The Hessian of cross-entropy. */
    fill(grad, N, SENTINEL), fill(hess, N, SENTINEL);
    CHECK_STATUS(grad_hess(p, x, y, N, &o, -HUGE_VAL, grad, hess), FOCAL_OK);
    for (int i = 0; i < N; i++) {
        double s = sigmoid_of(x[i]);
        CHECK_CLOSE(grad[i], s - y[i], rtol_of(p), atol_of(p));
        CHECK_CLOSE(hess[i], s * (1.0 - s), rtol_of(p), atol_of(p));
    }
    /* ln 2 at x = 0 for both labels, the sum and the mean. */
    const double zero[] = {0.0, 0.0};
    const uint8_t both[] = {0, 1};
    o.reduction = FOCAL_REDUCTION_SUM;
    loss[0] = SENTINEL;
    CHECK_STATUS(sigmoid_labels(p, zero, both, NULL, 2, &o, loss, NULL), FOCAL_OK);
    CHECK_CLOSE(loss[0], 2.0 * log(2.0), rtol_of(p), atol_of(p));
    o.reduction = FOCAL_REDUCTION_MEAN;
    CHECK_STATUS(sigmoid_labels(p, zero, both, NULL, 2, &o, loss, grad), FOCAL_OK);
    CHECK_CLOSE(loss[0], log(2.0), rtol_of(p), atol_of(p));
    CHECK_CLOSE(grad[0], 0.25, rtol_of(p), atol_of(p));
    CHECK_CLOSE(grad[1], -0.25, rtol_of(p), atol_of(p));
}

/* The general sigmoid loss against the textbook definition: gamma, alpha, label smoothing,
 * weights, every reduction, the normalizer; either output alone. */
static void test_sigmoid_general(precision p) {
    const double x[] = {-2.5, -0.75, 0.5, 3.0, 1.25, -4.0, 0.0};
    const double y[] = {0.0, 0.25, 1.0, 0.625, 1.0, 1.0, 0.5};
    const double w[] = {1.0, 0.5, 2.0, 1.5, 0.0, 1.0, 0.25};
    enum { N = 7 };
    const double gammas[] = {0.0, 0.5, 1.0, 1.5, 2.0, 3.0};
    const double alphas[] = {-1.0, 0.25, 0.5, 1.0, 0.0};
    const double smoothings[] = {0.0, 0.1};
    double fd_rtol = p == P32 ? 2e-5 : 1e-8, fd_atol = p == P32 ? 1e-6 : 1e-11;
    for (size_t gi = 0; gi < N_OF(gammas); gi++)
        for (size_t ai = 0; ai < N_OF(alphas); ai++)
            for (size_t li = 0; li < N_OF(smoothings); li++)
                for (int weighted = 0; weighted < 2; weighted++) {
                    focal_sigmoid_options o = focal_sigmoid_options_default();
                    o.gamma = gammas[gi], o.alpha = alphas[ai], o.label_smoothing = smoothings[li];
                    double ls = o.label_smoothing;
                    const double *wp = weighted ? w : NULL;
                    double want[N], want_grad[N], sum = 0.0;
                    for (int i = 0; i < N; i++) {
                        double ys = y[i] * (1.0 - ls) + ls / 2.0, wi = wp ? wp[i] : 1.0;
                        want[i] = wi * sigmoid_focal_ref(x[i], ys, o.gamma, o.alpha);
                        want_grad[i] = wi * sigmoid_focal_dx(x[i], ys, o.gamma, o.alpha);
                        sum += want[i];
                    }
                    double loss[N], grad[N];
                    /* NONE */
                    o.reduction = FOCAL_REDUCTION_NONE;
                    fill(loss, N, SENTINEL), fill(grad, N, SENTINEL);
                    CHECK_STATUS(sigmoid_soft(p, x, y, wp, N, &o, loss, grad), FOCAL_OK);
                    for (int i = 0; i < N; i++) {
                        CHECK_CLOSE(loss[i], want[i], rtol_of(p), atol_of(p));
                        CHECK_CLOSE(grad[i], want_grad[i], fd_rtol, fd_atol);
                    }
                    /* SUM, loss only then gradient only */
                    o.reduction = FOCAL_REDUCTION_SUM;
                    fill(loss, N, SENTINEL), fill(grad, N, SENTINEL);
                    CHECK_STATUS(sigmoid_soft(p, x, y, wp, N, &o, loss, NULL), FOCAL_OK);
                    CHECK_CLOSE(loss[0], sum, rtol_of(p), atol_of(p));
                    CHECK(loss[1] == SENTINEL, "SUM wrote a second loss");
                    CHECK_STATUS(sigmoid_soft(p, x, y, wp, N, &o, NULL, grad), FOCAL_OK);
                    for (int i = 0; i < N; i++)
                        CHECK_CLOSE(grad[i], want_grad[i], fd_rtol, fd_atol);
                    /* MEAN (divides by n, weights or not), then by a normalizer */
                    o.reduction = FOCAL_REDUCTION_MEAN;
                    CHECK_STATUS(sigmoid_soft(p, x, y, wp, N, &o, loss, grad), FOCAL_OK);
                    CHECK_CLOSE(loss[0], sum / N, rtol_of(p), atol_of(p));
                    for (int i = 0; i < N; i++)
                        CHECK_CLOSE(grad[i], want_grad[i] / N, fd_rtol, fd_atol);
                    o.normalizer = 2.5;
                    CHECK_STATUS(sigmoid_soft(p, x, y, wp, N, &o, loss, grad), FOCAL_OK);
                    CHECK_CLOSE(loss[0], sum / 2.5, rtol_of(p), atol_of(p));
                    for (int i = 0; i < N; i++)
                        CHECK_CLOSE(grad[i], want_grad[i] / 2.5, fd_rtol, fd_atol);
                }
    /* Labels and soft targets 0/1 give the same bits. */
    const uint8_t labels[] = {0, 1, 1, 0};
    const double hard[] = {0.0, 1.0, 1.0, 0.0};
    focal_sigmoid_options o = focal_sigmoid_options_default();
    o.reduction = FOCAL_REDUCTION_NONE;
    double a[4], b[4], ga[4], gb[4];
    CHECK_STATUS(sigmoid_labels(p, x, labels, w, 4, &o, a, ga), FOCAL_OK);
    CHECK_STATUS(sigmoid_soft(p, x, hard, w, 4, &o, b, gb), FOCAL_OK);
    CHECK(memcmp(a, b, sizeof a) == 0 && memcmp(ga, gb, sizeof ga) == 0,
          "labels and 0/1 soft targets differ");
}

/* Multi-label class targets: a class in [0, C) is that class positive, C is background,
 * negative ignores the row. Compared with the same head written as 0/1 labels. */
static void test_sigmoid_classes(precision p) {
    enum { ROWS = 4, C = 3, N = ROWS * C };
    const double x[N] = {0.5, -1.0, 2.0, 1.5, 0.25, -0.75, -2.0, 3.0, 0.0, 1.0, -1.5, 0.75};
    const int32_t t[ROWS] = {2, 3, -1, 0}; /* class 2, background, ignored, class 0 */
    uint8_t labels[N] = {0};
    labels[0 * C + 2] = 1, labels[3 * C + 0] = 1;
    focal_sigmoid_options o = focal_sigmoid_options_default();
    o.reduction = FOCAL_REDUCTION_NONE;
    double loss[N], grad[N], want[N], want_grad[N];
    CHECK_STATUS(sigmoid_labels(p, x, labels, NULL, N, &o, want, want_grad), FOCAL_OK);
    fill(loss, N, SENTINEL), fill(grad, N, SENTINEL);
    CHECK_STATUS(sigmoid_classes(p, x, t, ROWS, C, &o, loss, grad), FOCAL_OK);
    double sum = 0.0;
    for (int i = 0; i < N; i++) {
        int ignored = i / C == 2;
        CHECK(loss[i] == (ignored ? 0.0 : want[i]), "class loss %d: %.17g vs %.17g", i, loss[i],
              want[i]);
        CHECK(grad[i] == (ignored ? 0.0 : want_grad[i]), "class grad %d", i);
        sum += ignored ? 0.0 : want[i];
    }
    /* MEAN counts the elements of the rows that are not ignored: 3 rows x 3 classes. */
    o.reduction = FOCAL_REDUCTION_MEAN;
    fill(grad, N, SENTINEL);
    CHECK_STATUS(sigmoid_classes(p, x, t, ROWS, C, &o, loss, grad), FOCAL_OK);
    CHECK_CLOSE(loss[0], sum / 9.0, rtol_of(p), atol_of(p));
    for (int i = 0; i < N; i++)
        CHECK_CLOSE(grad[i], i / C == 2 ? 0.0 : want_grad[i] / 9.0, rtol_of(p), atol_of(p));
}

/* Softmax against the textbook definition, gradients by finite differences. */
static void test_softmax(precision p) {
    enum { B = 2, C = 3, S = 2, POS = B * S, N = B * C * S };
    /* [2, 3, 2] channels-first: class j of position s of sample b at (b*C + j)*S + s. */
    const double x[N] = {0.5, -1.0, 2.0, 0.25, -0.5, 1.5, 1.0, 0.0, -2.0, 0.75, 0.5, -0.25};
    const int32_t t[POS] = {2, 0, 1, -100}; /* the last position is ignored */
    const double class_alpha[C] = {0.25, 0.5, 1.25};
    const double gammas[] = {0.0, 1.0, 2.0, 0.5};
    double fd_rtol = p == P32 ? 3e-5 : 1e-7, fd_atol = p == P32 ? 1e-6 : 1e-10;
    for (size_t gi = 0; gi < N_OF(gammas); gi++)
        for (int alpha_mode = 0; alpha_mode < 3; alpha_mode++) /* off, scalar, per class */
            for (int smoothed = 0; smoothed < 2; smoothed++) {
                focal_softmax_options o = focal_softmax_options_default();
                o.gamma = gammas[gi];
                o.alpha = alpha_mode == 1 ? 0.25 : -1.0;
                o.label_smoothing = smoothed ? 0.1 : 0.0;
                const double *ca = alpha_mode == 2 ? class_alpha : NULL;
                double want[POS], want_grad[N], sum = 0.0;
                for (int b = 0; b < B; b++)
                    for (int s = 0; s < S; s++) {
                        int pos = b * S + s;
                        const double *row = &x[b * C * S + s];
                        if (t[pos] == o.ignore_index) {
                            want[pos] = 0.0;
                            for (int j = 0; j < C; j++) want_grad[(b * C + j) * S + s] = 0.0;
                            continue;
                        }
                        want[pos] = softmax_focal_ref(row, S, C, t[pos], o.gamma, ca, o.alpha,
                                                      o.label_smoothing);
                        sum += want[pos];
                        for (int j = 0; j < C; j++) {
                            double shifted[N];
                            const double h = 1e-5;
                            memcpy(shifted, x, sizeof shifted);
                            int at = (b * C + j) * S + s;
                            shifted[at] = x[at] + h;
                            double up = softmax_focal_ref(&shifted[b * C * S + s], S, C, t[pos],
                                                          o.gamma, ca, o.alpha, o.label_smoothing);
                            shifted[at] = x[at] - h;
                            double down = softmax_focal_ref(&shifted[b * C * S + s], S, C,
                                                            t[pos], o.gamma, ca, o.alpha,
                                                            o.label_smoothing);
                            want_grad[at] = (up - down) / (2.0 * h);
                        }
                    }
                double loss[POS], grad[N];
                o.reduction = FOCAL_REDUCTION_NONE;
                fill(loss, POS, SENTINEL), fill(grad, N, SENTINEL);
                CHECK_STATUS(softmax(p, x, t, B, C, S, ca, &o, loss, grad), FOCAL_OK);
                for (int i = 0; i < POS; i++) CHECK_CLOSE(loss[i], want[i], rtol_of(p), atol_of(p));
                for (int i = 0; i < N; i++) CHECK_CLOSE(grad[i], want_grad[i], fd_rtol, fd_atol);
                o.reduction = FOCAL_REDUCTION_SUM;
                CHECK_STATUS(softmax(p, x, t, B, C, S, ca, &o, loss, NULL), FOCAL_OK);
                CHECK_CLOSE(loss[0], sum, rtol_of(p), atol_of(p));
                /* MEAN divides by the 3 positions that are not ignored. */
                o.reduction = FOCAL_REDUCTION_MEAN;
                fill(grad, N, SENTINEL);
                CHECK_STATUS(softmax(p, x, t, B, C, S, ca, &o, loss, grad), FOCAL_OK);
                CHECK_CLOSE(loss[0], sum / 3.0, rtol_of(p), atol_of(p));
                for (int i = 0; i < N; i++)
                    CHECK_CLOSE(grad[i], want_grad[i] / 3.0, fd_rtol, fd_atol);
                o.normalizer = 4.0;
                fill(grad, N, SENTINEL);
                CHECK_STATUS(softmax(p, x, t, B, C, S, ca, &o, NULL, grad), FOCAL_OK);
                for (int i = 0; i < N; i++)
                    CHECK_CLOSE(grad[i], want_grad[i] / 4.0, fd_rtol, fd_atol);
            }
    /* Row-major [batch, classes] is spatial = 1; a custom ignore_index. */
    const double rows[6] = {2.0, 0.5, -1.0, 0.0, 0.0, 3.0};
    const int32_t rt[2] = {0, 255};
    focal_softmax_options o = focal_softmax_options_default();
    o.ignore_index = 255, o.reduction = FOCAL_REDUCTION_NONE;
    double loss[2] = {SENTINEL, SENTINEL};
    CHECK_STATUS(softmax(p, rows, rt, 2, 3, 1, NULL, &o, loss, NULL), FOCAL_OK);
    CHECK_CLOSE(loss[0], softmax_focal_ref(rows, 1, 3, 0, 2.0, NULL, -1.0, 0.0), rtol_of(p),
                atol_of(p));
    CHECK(loss[1] == 0.0, "ignored row has loss %.17g", loss[1]);
}

/* grad_hess: gradient and Hessian by finite differences, the floor, and that reduction and
 * normalizer are ignored. */
static void test_grad_hess(precision p) {
    const double x[] = {-6.0, -1.0, 0.5, 3.0, 0.0, -2.25};
    const double y[] = {1.0, 0.0, 1.0, 0.0, 0.375, 0.75};
    enum { N = 6 };
    focal_sigmoid_options o = focal_sigmoid_options_default();
    o.label_smoothing = 0.05;
    /* Ignored by grad_hess: a reduction and a normalizer that the loss functions refuse. */
    o.reduction = FOCAL_REDUCTION_SUM, o.normalizer = 3.0;
    double grad[N], hess[N];
    fill(grad, N, SENTINEL), fill(hess, N, SENTINEL);
    CHECK_STATUS(grad_hess(p, x, y, N, &o, -HUGE_VAL, grad, hess), FOCAL_OK);
    double rtol = p == P32 ? 5e-5 : 1e-6, atol = p == P32 ? 1e-6 : 1e-9;
    int negative = 0;
    for (int i = 0; i < N; i++) {
        double ys = y[i] * (1.0 - 0.05) + 0.025;
        CHECK_CLOSE(grad[i], sigmoid_focal_dx(x[i], ys, 2.0, 0.25), rtol, atol);
        CHECK_CLOSE(hess[i], sigmoid_focal_dxx(x[i], ys, 2.0, 0.25), rtol, atol);
        negative += hess[i] < 0.0;
    }
    CHECK(negative > 0, "expected a negative focal Hessian (x = -6, y = 1)");
    /* The floor raises the negative values only. */
    double floored[N], grad2[N];
    CHECK_STATUS(grad_hess(p, x, y, N, &o, 1e-3, grad2, floored), FOCAL_OK);
    for (int i = 0; i < N; i++) {
        CHECK(grad2[i] == grad[i], "the floor changed the gradient");
        CHECK(floored[i] == (hess[i] < (double)(p == P32 ? (float)1e-3 : 1e-3)
                                 ? (p == P32 ? (double)(float)1e-3 : 1e-3)
                                 : hess[i]),
              "floored hess %d: %.17g (raw %.17g)", i, floored[i], hess[i]);
    }
}

/* The softmax gradient and Hessian (one-hot targets) against central differences of the
 * textbook loss (one Richardson step), the floor, ignored positions, and the refusals. */
static void test_softmax_grad_hess(precision p) {
    enum { B = 2, C = 3, S = 2, POS = B * S, N = B * C * S };
    const double x[N] = {0.5, -1.0, 2.0, 0.25, -0.5, 1.5, 1.0, 0.0, -4.0, 0.75, 0.5, -0.25};
    const int32_t t[POS] = {2, 0, 1, -100}; /* the last position is ignored */
    const double class_alpha[C] = {0.25, 0.5, 1.25};
    const double gammas[] = {0.0, 0.5, 2.0};
    double rtol = p == P32 ? 5e-5 : 1e-6, atol = p == P32 ? 1e-6 : 1e-9;
    int negative = 0;
    for (size_t gi = 0; gi < N_OF(gammas); gi++)
        for (int alpha_mode = 0; alpha_mode < 3; alpha_mode++) {
            focal_softmax_options o = focal_softmax_options_default();
            o.gamma = gammas[gi];
            o.alpha = alpha_mode == 1 ? 0.25 : -1.0;
            /* Not used by grad_hess: a reduction value the loss functions refuse. */
            o.reduction = (focal_reduction)7;
            const double *ca = alpha_mode == 2 ? class_alpha : NULL;
            double grad[N], hess[N];
            fill(grad, N, SENTINEL), fill(hess, N, SENTINEL);
            CHECK_STATUS(softmax_grad_hess(p, x, t, B, C, S, ca, &o, -HUGE_VAL, grad, hess),
                         FOCAL_OK);
            for (int b = 0; b < B; b++)
                for (int s = 0; s < S; s++) {
                    int pos = b * S + s;
                    for (int j = 0; j < C; j++) {
                        int at = (b * C + j) * S + s;
                        if (t[pos] == o.ignore_index) {
                            CHECK(grad[at] == 0.0 && hess[at] == 0.0, "ignored position written");
                            continue;
                        }
                        /* L(x_at + d) by shifting one logit of a copy. */
                        double shifted[N], d1[2], d2[2];
                        for (int r = 0; r < 2; r++) {
                            double h = r == 0 ? 2e-3 : 1e-3, v[3];
                            for (int k = 0; k < 3; k++) {
                                memcpy(shifted, x, sizeof shifted);
                                shifted[at] = x[at] + (k - 1) * h;
                                v[k] = softmax_focal_ref(&shifted[b * C * S + s], S, C, t[pos],
                                                         o.gamma, ca, o.alpha, 0.0);
                            }
                            d1[r] = (v[2] - v[0]) / (2.0 * h);
                            d2[r] = (v[2] - 2.0 * v[1] + v[0]) / (h * h);
                        }
                        CHECK_CLOSE(grad[at], (4.0 * d1[1] - d1[0]) / 3.0, rtol, atol);
                        CHECK_CLOSE(hess[at], (4.0 * d2[1] - d2[0]) / 3.0, rtol, atol);
                        negative += hess[at] < 0.0;
                    }
                }
            /* The floor raises the values below it only, and leaves the gradient alone. */
            double floored[N], grad2[N];
            CHECK_STATUS(softmax_grad_hess(p, x, t, B, C, S, ca, &o, 1e-3, grad2, floored),
                         FOCAL_OK);
            double floor = p == P32 ? (double)(float)1e-3 : 1e-3;
            for (int i = 0; i < N; i++) {
                CHECK(grad2[i] == grad[i], "the floor changed the gradient");
                int ignored = t[(i / (C * S)) * S + i % S] == o.ignore_index;
                double want = ignored ? 0.0 : (hess[i] < floor ? floor : hess[i]);
                CHECK(floored[i] == want, "floored hess %d: %.17g (raw %.17g)", i, floored[i],
                      hess[i]);
            }
        }
    CHECK(negative > 0, "expected a negative softmax focal Hessian (x = -4 at the target)");
    /* Refusals leave both outputs untouched. */
    focal_softmax_options o = focal_softmax_options_default();
    double grad[N], hess[N];
    fill(grad, N, SENTINEL), fill(hess, N, SENTINEL);
    o.label_smoothing = 0.1; /* the Hessian is for one-hot targets */
    CHECK_STATUS(softmax_grad_hess(p, x, t, B, C, S, NULL, &o, -HUGE_VAL, grad, hess),
                 FOCAL_ERROR_INVALID_ARGUMENT);
    o.label_smoothing = 0.0;
    CHECK_STATUS(softmax_grad_hess(p, x, t, B, C, S, NULL, &o, NAN, grad, hess),
                 FOCAL_ERROR_INVALID_ARGUMENT);
    CHECK_STATUS(softmax_grad_hess(p, x, t, B, C, S, NULL, &o, 0.0, grad, NULL),
                 FOCAL_ERROR_NULL_POINTER);
    CHECK_STATUS(softmax_grad_hess(p, x, t, B, C, S, NULL, &o, 0.0, NULL, hess),
                 FOCAL_ERROR_NULL_POINTER);
    const int32_t bad[POS] = {2, 3, 1, 0};
    CHECK_STATUS(softmax_grad_hess(p, x, bad, B, C, S, NULL, &o, 0.0, grad, hess),
                 FOCAL_ERROR_TARGET_OUT_OF_RANGE);
    CHECK(all_equal(grad, N, SENTINEL) && all_equal(hess, N, SENTINEL),
          "a refused softmax grad_hess wrote its outputs");
}

/* Values of richer cases, hard-coded: printed from the Rust reference
 * (focal_loss::reference, f64) and cross-checked against an independent 50-digit mpmath
 * evaluation of the textbook definitions (derivatives by mpmath.diff): the two agree to
 * 1e-15 relative; the numbers below are the mpmath ones. */
static void test_rich_values(precision p) {
    /* (a) sigmoid, soft targets, gamma 1.5, alpha 0.3, label smoothing 0.1, weights, SUM. */
    {
        const double x[] = {-2.5, -0.75, 0.5, 3.0}, y[] = {0.0, 0.25, 1.0, 0.625};
        const double w[] = {1.0, 0.5, 2.0, 1.5};
        const double want_grad[] = {0.005227743434524295, 0.020336368024107993,
                                    -0.11427941877417942, 0.050362569225287517};
        focal_sigmoid_options o = focal_sigmoid_options_default();
        o.gamma = 1.5, o.alpha = 0.3, o.label_smoothing = 0.1, o.reduction = FOCAL_REDUCTION_SUM;
        double loss[1], grad[4];
        CHECK_STATUS(sigmoid_soft(p, x, y, w, 4, &o, loss, grad), FOCAL_OK);
        CHECK_CLOSE(loss[0], 0.33856155892680248, rtol_of(p), atol_of(p));
        for (int i = 0; i < 4; i++) CHECK_CLOSE(grad[i], want_grad[i], rtol_of(p), atol_of(p));
    }
    /* (b) softmax [1, 3, 2], targets {2, 0}, gamma 1.5, class_alpha {0.25, 0.5, 1.25},
     * label smoothing 0.1, NONE. */
    {
        const double x[] = {0.5, -1.0, 2.0, 0.25, -0.5, 1.5};
        const int32_t t[] = {2, 0};
        const double ca[] = {0.25, 0.5, 1.25};
        const double want_loss[] = {2.9394212963764217, 0.61852685479192494};
        const double want_grad[] = {0.22399376635139586, -0.2518036143034827,
                                    1.0431135536697415,  0.04426518418845975,
                                    -1.2671073200211374, 0.20753843011502295};
        focal_softmax_options o = focal_softmax_options_default();
        o.gamma = 1.5, o.label_smoothing = 0.1, o.reduction = FOCAL_REDUCTION_NONE;
        double loss[2], grad[6];
        CHECK_STATUS(softmax(p, x, t, 1, 3, 2, ca, &o, loss, grad), FOCAL_OK);
        for (int i = 0; i < 2; i++) CHECK_CLOSE(loss[i], want_loss[i], rtol_of(p), atol_of(p));
        for (int i = 0; i < 6; i++) CHECK_CLOSE(grad[i], want_grad[i], rtol_of(p), atol_of(p));
    }
    /* (c) grad_hess, default options (gamma 2, alpha 0.25), hard targets, no floor. */
    {
        const double x[] = {-6.0, -1.0, 0.5, 3.0}, y[] = {1.0, 0.0, 1.0, 0.0};
        const double want_grad[] = {-0.25553439148317675, 0.039435847483170466,
                                    -0.034484249337728605, 0.84506241047616633};
        const double want_hess[] = {-0.0042615930322814554, 0.082974453586333919,
                                    0.060112610445085056, -0.015066650018128951};
        focal_sigmoid_options o = focal_sigmoid_options_default();
        double grad[4], hess[4];
        CHECK_STATUS(grad_hess(p, x, y, 4, &o, -HUGE_VAL, grad, hess), FOCAL_OK);
        for (int i = 0; i < 4; i++) {
            CHECK_CLOSE(grad[i], want_grad[i], rtol_of(p), atol_of(p));
            CHECK_CLOSE(hess[i], want_hess[i], rtol_of(p), atol_of(p));
        }
    }
}

/* MEAN over nothing is 0 with a zero gradient: n = 0, every row / position ignored. */
static void test_mean_over_nothing(precision p) {
    focal_sigmoid_options o = focal_sigmoid_options_default();
    double dummy[1] = {0.0}, loss[1] = {SENTINEL}, grad[6];
    uint8_t no_labels[1] = {0};
    CHECK_STATUS(sigmoid_soft(p, dummy, dummy, NULL, 0, &o, loss, NULL), FOCAL_OK);
    CHECK(loss[0] == 0.0, "mean over nothing %.17g", loss[0]);
    loss[0] = SENTINEL;
    CHECK_STATUS(sigmoid_labels(p, dummy, no_labels, NULL, 0, &o, loss, grad), FOCAL_OK);
    CHECK(loss[0] == 0.0, "mean over nothing %.17g", loss[0]);
    const double x[6] = {1.0, 2.0, 3.0, -1.0, -2.0, -3.0};
    const int32_t ignored_rows[2] = {-1, -5};
    loss[0] = SENTINEL, fill(grad, 6, SENTINEL);
    CHECK_STATUS(sigmoid_classes(p, x, ignored_rows, 2, 3, &o, loss, grad), FOCAL_OK);
    CHECK(loss[0] == 0.0 && all_equal(grad, 6, 0.0), "all rows ignored");
    /* rows = 0: classes may be 0 too (no data). */
    loss[0] = SENTINEL;
    CHECK_STATUS(sigmoid_classes(p, dummy, ignored_rows, 0, 0, &o, loss, NULL), FOCAL_OK);
    CHECK(loss[0] == 0.0, "no rows");
    focal_softmax_options m = focal_softmax_options_default();
    const int32_t all_ignored[2] = {-100, -100};
    loss[0] = SENTINEL, fill(grad, 6, SENTINEL);
    CHECK_STATUS(softmax(p, x, all_ignored, 2, 3, 1, NULL, &m, loss, grad), FOCAL_OK);
    CHECK(loss[0] == 0.0 && all_equal(grad, 6, 0.0), "all positions ignored");
    loss[0] = SENTINEL;
    CHECK_STATUS(softmax(p, dummy, all_ignored, 0, 3, 1, NULL, &m, loss, NULL), FOCAL_OK);
    CHECK(loss[0] == 0.0, "batch 0");
    /* NONE over nothing writes nothing and succeeds; SUM is 0. */
    o.reduction = FOCAL_REDUCTION_NONE;
    CHECK_STATUS(sigmoid_soft(p, dummy, dummy, NULL, 0, &o, loss, grad), FOCAL_OK);
    o.reduction = FOCAL_REDUCTION_SUM;
    loss[0] = SENTINEL;
    CHECK_STATUS(sigmoid_soft(p, dummy, dummy, NULL, 0, &o, loss, NULL), FOCAL_OK);
    CHECK(loss[0] == 0.0, "sum over nothing");
    double g[1] = {SENTINEL}, h[1] = {SENTINEL};
    CHECK_STATUS(grad_hess(p, dummy, dummy, 0, &o, 0.0, g, h), FOCAL_OK);
    CHECK(g[0] == SENTINEL && h[0] == SENTINEL, "n = 0 wrote");
}

/* Every error status, with sentinel-filled outputs that must stay untouched. */
static void test_errors(precision p) {
    enum { N = 4 };
    const double x[N] = {0.5, -1.0, 2.0, 0.0}, y[N] = {1.0, 0.0, 0.25, 1.0};
    const double w[N] = {1.0, 2.0, 0.5, 1.0};
    const uint8_t labels[N] = {1, 0, 1, 0};
    const int32_t t[2] = {0, 1};
    double loss[N], grad[N], hess[N];
    focal_sigmoid_options o = focal_sigmoid_options_default();
    focal_softmax_options m = focal_softmax_options_default();
#define RESET() (fill(loss, N, SENTINEL), fill(grad, N, SENTINEL), fill(hess, N, SENTINEL))
#define UNTOUCHED()                                                                  \
    CHECK(all_equal(loss, N, SENTINEL) && all_equal(grad, N, SENTINEL) &&            \
              all_equal(hess, N, SENTINEL),                                          \
          "an output was written on error [%s]", precision_name)
#define REFUSED(call, status) \
    do {                      \
        RESET();              \
        CHECK_STATUS(call, status); \
        UNTOUCHED();          \
    } while (0)

    /* NULL required pointers, even with n = 0. */
    REFUSED(sigmoid_soft(p, NULL, y, NULL, N, &o, loss, grad), FOCAL_ERROR_NULL_POINTER);
    REFUSED(sigmoid_soft(p, x, NULL, NULL, N, &o, loss, grad), FOCAL_ERROR_NULL_POINTER);
    REFUSED(sigmoid_soft(p, x, y, NULL, N, NULL, loss, grad), FOCAL_ERROR_NULL_POINTER);
    REFUSED(sigmoid_soft(p, NULL, NULL, NULL, 0, &o, loss, grad), FOCAL_ERROR_NULL_POINTER);
    REFUSED(sigmoid_labels(p, x, NULL, NULL, N, &o, loss, grad), FOCAL_ERROR_NULL_POINTER);
    REFUSED(sigmoid_labels(p, NULL, labels, NULL, 0, &o, loss, grad), FOCAL_ERROR_NULL_POINTER);
    REFUSED(sigmoid_classes(p, x, NULL, 1, N, &o, loss, grad), FOCAL_ERROR_NULL_POINTER);
    REFUSED(sigmoid_classes(p, NULL, t, 0, 0, &o, loss, grad), FOCAL_ERROR_NULL_POINTER);
    REFUSED(softmax(p, x, NULL, 1, 2, 2, NULL, &m, loss, grad), FOCAL_ERROR_NULL_POINTER);
    REFUSED(softmax(p, NULL, t, 2, 2, 1, NULL, &m, loss, grad), FOCAL_ERROR_NULL_POINTER);
    REFUSED(softmax(p, x, t, 2, 2, 1, NULL, NULL, loss, grad), FOCAL_ERROR_NULL_POINTER);
    REFUSED(grad_hess(p, NULL, y, N, &o, 0.0, grad, hess), FOCAL_ERROR_NULL_POINTER);
    REFUSED(grad_hess(p, x, NULL, N, &o, 0.0, grad, hess), FOCAL_ERROR_NULL_POINTER);
    REFUSED(grad_hess(p, x, y, N, NULL, 0.0, grad, hess), FOCAL_ERROR_NULL_POINTER);
    REFUSED(grad_hess(p, x, y, N, &o, 0.0, NULL, hess), FOCAL_ERROR_NULL_POINTER);
    REFUSED(grad_hess(p, x, y, N, &o, 0.0, grad, NULL), FOCAL_ERROR_NULL_POINTER);
    REFUSED(grad_hess(p, x, y, 0, &o, 0.0, NULL, NULL), FOCAL_ERROR_NULL_POINTER);

    /* Both outputs NULL. */
    REFUSED(sigmoid_soft(p, x, y, NULL, N, &o, NULL, NULL), FOCAL_ERROR_INVALID_ARGUMENT);
    REFUSED(sigmoid_labels(p, x, labels, NULL, 0, &o, NULL, NULL), FOCAL_ERROR_INVALID_ARGUMENT);
    REFUSED(sigmoid_classes(p, x, t, 2, 2, &o, NULL, NULL), FOCAL_ERROR_INVALID_ARGUMENT);
    REFUSED(softmax(p, x, t, 2, 2, 1, NULL, &m, NULL, NULL), FOCAL_ERROR_INVALID_ARGUMENT);

    /* Bad sigmoid options. */
    const double bad_gamma[] = {-0.5, NAN, INFINITY};
    for (size_t i = 0; i < N_OF(bad_gamma); i++) {
        focal_sigmoid_options b = o;
        b.gamma = bad_gamma[i];
        REFUSED(sigmoid_soft(p, x, y, NULL, N, &b, loss, grad), FOCAL_ERROR_INVALID_ARGUMENT);
        REFUSED(grad_hess(p, x, y, N, &b, 0.0, grad, hess), FOCAL_ERROR_INVALID_ARGUMENT);
    }
    const double bad_alpha[] = {1.5, NAN, INFINITY};
    for (size_t i = 0; i < N_OF(bad_alpha); i++) {
        focal_sigmoid_options b = o;
        b.alpha = bad_alpha[i];
        REFUSED(sigmoid_labels(p, x, labels, NULL, N, &b, loss, grad),
                FOCAL_ERROR_INVALID_ARGUMENT);
        REFUSED(grad_hess(p, x, y, N, &b, 0.0, grad, hess), FOCAL_ERROR_INVALID_ARGUMENT);
    }
    const double bad_smoothing[] = {1.0, -0.1, NAN};
    for (size_t i = 0; i < N_OF(bad_smoothing); i++) {
        focal_sigmoid_options b = o;
        b.label_smoothing = bad_smoothing[i];
        REFUSED(sigmoid_soft(p, x, y, NULL, N, &b, loss, grad), FOCAL_ERROR_INVALID_ARGUMENT);
    }
    {
        focal_sigmoid_options b = o;
        b.normalizer = 2.0, b.reduction = FOCAL_REDUCTION_SUM;
        REFUSED(sigmoid_soft(p, x, y, NULL, N, &b, loss, grad), FOCAL_ERROR_INVALID_ARGUMENT);
        b.reduction = FOCAL_REDUCTION_NONE;
        REFUSED(sigmoid_soft(p, x, y, NULL, N, &b, loss, grad), FOCAL_ERROR_INVALID_ARGUMENT);
        const double bad_normalizer[] = {-1.0, NAN, INFINITY};
        for (size_t i = 0; i < N_OF(bad_normalizer); i++) {
            b.reduction = FOCAL_REDUCTION_MEAN, b.normalizer = bad_normalizer[i];
            REFUSED(sigmoid_soft(p, x, y, NULL, N, &b, loss, grad),
                    FOCAL_ERROR_INVALID_ARGUMENT);
        }
        /* An unknown reduction value (C can store any int in the enum). */
        b = o;
        b.reduction = (focal_reduction)3;
        REFUSED(sigmoid_soft(p, x, y, NULL, N, &b, loss, grad), FOCAL_ERROR_INVALID_ARGUMENT);
        b.reduction = (focal_reduction)-1;
        REFUSED(sigmoid_classes(p, x, t, 2, 2, &b, loss, grad), FOCAL_ERROR_INVALID_ARGUMENT);
    }

    /* Bad values. */
    const double bad_targets[][N] = {{1.0, 0.0, 1.5, 0.0}, {1.0, -0.25, 0.0, 0.0},
                                     {NAN, 0.0, 0.0, 0.0}};
    for (size_t i = 0; i < N_OF(bad_targets); i++) {
        REFUSED(sigmoid_soft(p, x, bad_targets[i], NULL, N, &o, loss, grad),
                FOCAL_ERROR_INVALID_ARGUMENT);
        REFUSED(grad_hess(p, x, bad_targets[i], N, &o, 0.0, grad, hess),
                FOCAL_ERROR_INVALID_ARGUMENT);
    }
    const double bad_weights[][N] = {{1.0, -1.0, 1.0, 1.0}, {1.0, 1.0, INFINITY, 1.0},
                                     {NAN, 1.0, 1.0, 1.0}};
    for (size_t i = 0; i < N_OF(bad_weights); i++)
        REFUSED(sigmoid_labels(p, x, labels, bad_weights[i], N, &o, loss, grad),
                FOCAL_ERROR_INVALID_ARGUMENT);
    REFUSED(grad_hess(p, x, y, N, &o, NAN, grad, hess), FOCAL_ERROR_INVALID_ARGUMENT);

    /* Out-of-range integer targets, each form. */
    const uint8_t bad_labels[N] = {1, 0, 2, 0};
    REFUSED(sigmoid_labels(p, x, bad_labels, w, N, &o, loss, grad),
            FOCAL_ERROR_TARGET_OUT_OF_RANGE);
    const int32_t above_background[2] = {0, 3}; /* classes = 2: 2 is background, 3 is out */
    REFUSED(sigmoid_classes(p, x, above_background, 2, 2, &o, loss, grad),
            FOCAL_ERROR_TARGET_OUT_OF_RANGE);
    const int32_t softmax_bad[][2] = {{0, 2}, {-1, 0}, {0, INT32_MAX}};
    for (size_t i = 0; i < N_OF(softmax_bad); i++)
        REFUSED(softmax(p, x, softmax_bad[i], 2, 2, 1, NULL, &m, loss, grad),
                FOCAL_ERROR_TARGET_OUT_OF_RANGE);

    /* Bad softmax options. */
    {
        focal_softmax_options b = m;
        b.gamma = -1.0;
        REFUSED(softmax(p, x, t, 2, 2, 1, NULL, &b, loss, grad), FOCAL_ERROR_INVALID_ARGUMENT);
        b = m, b.alpha = 2.0;
        REFUSED(softmax(p, x, t, 2, 2, 1, NULL, &b, loss, grad), FOCAL_ERROR_INVALID_ARGUMENT);
        b = m, b.alpha = NAN;
        REFUSED(softmax(p, x, t, 2, 2, 1, NULL, &b, loss, grad), FOCAL_ERROR_INVALID_ARGUMENT);
        b = m, b.label_smoothing = 1.0;
        REFUSED(softmax(p, x, t, 2, 2, 1, NULL, &b, loss, grad), FOCAL_ERROR_INVALID_ARGUMENT);
        b = m, b.normalizer = 1.0, b.reduction = FOCAL_REDUCTION_SUM;
        REFUSED(softmax(p, x, t, 2, 2, 1, NULL, &b, loss, grad), FOCAL_ERROR_INVALID_ARGUMENT);
        b = m, b.reduction = (focal_reduction)42;
        REFUSED(softmax(p, x, t, 2, 2, 1, NULL, &b, loss, grad), FOCAL_ERROR_INVALID_ARGUMENT);
        /* class_alpha together with a scalar alpha >= 0: one or the other. */
        const double ca[2] = {0.5, 0.5}, bad_ca[2] = {0.5, -0.5};
        b = m, b.alpha = 0.25;
        REFUSED(softmax(p, x, t, 2, 2, 1, ca, &b, loss, grad), FOCAL_ERROR_INVALID_ARGUMENT);
        b.alpha = 0.0;
        REFUSED(softmax(p, x, t, 2, 2, 1, ca, &b, loss, grad), FOCAL_ERROR_INVALID_ARGUMENT);
        REFUSED(softmax(p, x, t, 2, 2, 1, bad_ca, &m, loss, grad), FOCAL_ERROR_INVALID_ARGUMENT);
    }

    /* Lengths: classes or spatial 0 with data, element counts that overflow. */
    REFUSED(sigmoid_classes(p, x, t, 2, 0, &o, loss, grad), FOCAL_ERROR_LENGTH);
    REFUSED(softmax(p, x, t, 2, 0, 1, NULL, &m, loss, grad), FOCAL_ERROR_LENGTH);
    REFUSED(softmax(p, x, t, 2, 2, 0, NULL, &m, loss, grad), FOCAL_ERROR_LENGTH);
    {
        /* Overflowing shapes go straight to the library (the wrappers would copy them). */
        float fx[N] = {0}, fl[N], fg[N];
        int32_t ti[N] = {0};
        focal_status s;
        fl[0] = (float)SENTINEL;
        s = focal_sigmoid_classes_f32(fx, ti, SIZE_MAX / 2, 3, &o, fl, NULL);
        CHECK(s == FOCAL_ERROR_LENGTH && fl[0] == (float)SENTINEL, "rows*classes overflow %d", s);
        s = focal_softmax_f32(fx, ti, SIZE_MAX / 4, 3, 2, NULL, &m, fl, NULL);
        CHECK(s == FOCAL_ERROR_LENGTH && fl[0] == (float)SENTINEL, "batch*classes*spatial %d", s);
        s = focal_softmax_f32(fx, ti, SIZE_MAX / 2, 1, 3, NULL, &m, fl, NULL);
        CHECK(s == FOCAL_ERROR_LENGTH && fl[0] == (float)SENTINEL, "batch*spatial %d", s);
        /* n * sizeof(float) overflows although n does not. */
        s = focal_sigmoid_f32(fx, fx, NULL, SIZE_MAX / 2, &o, fl, fg);
        CHECK(s == FOCAL_ERROR_LENGTH && fl[0] == (float)SENTINEL, "byte size overflow %d", s);
        double dx[N] = {0}, dg[1] = {SENTINEL}, dh[1] = {SENTINEL};
        s = focal_sigmoid_grad_hess_f64(dx, dx, SIZE_MAX / 4, &o, 0.0, dg, dh);
        CHECK(s == FOCAL_ERROR_LENGTH && dg[0] == SENTINEL && dh[0] == SENTINEL,
              "byte size overflow f64 %d", s);
    }
#undef REFUSED
#undef UNTOUCHED
#undef RESET
}

/* Misaligned and overlapping pointers: FOCAL_ERROR_INVALID_ARGUMENT, nothing written. */
static void test_pointers(void) {
    precision_name = "pointers";
    /* 8-byte aligned storage; +1 byte is misaligned for every element type but uint8_t. */
    _Alignas(16) unsigned char raw[256] = {0};
    double *aligned_d = (double *)raw;
    float *aligned_f = (float *)raw;
    float *mis_f = (float *)(raw + 1);
    double *mis_d = (double *)(raw + 4);
    int32_t *mis_i = (int32_t *)(raw + 2);
    uint8_t labels[4] = {0, 1, 0, 1};
    int32_t t[2] = {0, 1};
    float fl[4] = {-1, -1, -1, -1}, fg[4] = {-1, -1, -1, -1};
    double dl[4] = {-1, -1, -1, -1}, dg[4] = {-1, -1, -1, -1};
    focal_sigmoid_options o = focal_sigmoid_options_default();
    focal_softmax_options m = focal_softmax_options_default();
    focal_status s;
#define SAME_F() (fl[0] == -1 && fl[3] == -1 && fg[0] == -1 && fg[3] == -1)
#define SAME_D() (dl[0] == -1 && dl[3] == -1 && dg[0] == -1 && dg[3] == -1)
    s = focal_sigmoid_f32(mis_f, aligned_f, NULL, 4, &o, fl, fg);
    CHECK(s == FOCAL_ERROR_INVALID_ARGUMENT && SAME_F(), "misaligned logits %d", s);
    s = focal_sigmoid_f32(aligned_f, aligned_f, mis_f, 4, &o, fl, fg);
    CHECK(s == FOCAL_ERROR_INVALID_ARGUMENT && SAME_F(), "misaligned weights %d", s);
    s = focal_sigmoid_labels_f32(aligned_f, labels, NULL, 4, &o, (float *)((char *)fl + 2), NULL);
    CHECK(s == FOCAL_ERROR_INVALID_ARGUMENT && SAME_F(), "misaligned loss %d", s);
    s = focal_sigmoid_labels_f64(mis_d, labels, NULL, 4, &o, dl, dg);
    CHECK(s == FOCAL_ERROR_INVALID_ARGUMENT && SAME_D(), "misaligned f64 logits %d", s);
    s = focal_sigmoid_classes_f64(aligned_d, mis_i, 2, 2, &o, dl, dg);
    CHECK(s == FOCAL_ERROR_INVALID_ARGUMENT && SAME_D(), "misaligned class targets %d", s);
    s = focal_softmax_f32(aligned_f, mis_i, 2, 2, 1, NULL, &m, fl, fg);
    CHECK(s == FOCAL_ERROR_INVALID_ARGUMENT && SAME_F(), "misaligned softmax targets %d", s);
    s = focal_softmax_f64(aligned_d, t, 2, 2, 1, mis_d, &m, dl, dg);
    CHECK(s == FOCAL_ERROR_INVALID_ARGUMENT && SAME_D(), "misaligned class_alpha %d", s);
    s = focal_sigmoid_grad_hess_f64(aligned_d, aligned_d, 4, &o, 0.0, dg, mis_d);
    CHECK(s == FOCAL_ERROR_INVALID_ARGUMENT && SAME_D(), "misaligned hess %d", s);
    /* A misaligned options pointer. */
    _Alignas(16) unsigned char opt_raw[sizeof(focal_sigmoid_options) + 16];
    memcpy(opt_raw + 4, &o, sizeof o);
    s = focal_sigmoid_f32(aligned_f, aligned_f, NULL, 4,
                          (const focal_sigmoid_options *)(opt_raw + 4), fl, fg);
    CHECK(s == FOCAL_ERROR_INVALID_ARGUMENT && SAME_F(), "misaligned options %d", s);
    /* Outputs overlapping an input or each other. */
    float xs[4] = {0.5f, -1.0f, 2.0f, 0.0f}, buf[8];
    s = focal_sigmoid_labels_f32(xs, labels, NULL, 4, &o, NULL, xs);
    CHECK(s == FOCAL_ERROR_INVALID_ARGUMENT && xs[0] == 0.5f && xs[3] == 0.0f,
          "grad over logits %d", s);
    o.reduction = FOCAL_REDUCTION_NONE;
    s = focal_sigmoid_labels_f32(xs, labels, NULL, 4, &o, buf, buf + 2);
    CHECK(s == FOCAL_ERROR_INVALID_ARGUMENT, "loss and grad overlap %d", s);
    s = focal_sigmoid_labels_f32(xs, labels, NULL, 4, &o, buf, buf + 4);
    CHECK(s == FOCAL_OK, "adjacent outputs are fine %d", s);
    double dx[4] = {0.5, -1.0, 2.0, 0.0}, dy[4] = {1, 0, 1, 0};
    s = focal_sigmoid_grad_hess_f64(dx, dy, 4, &o, 0.0, dg, dg);
    CHECK(s == FOCAL_ERROR_INVALID_ARGUMENT && SAME_D(), "grad and hess alias %d", s);
#undef SAME_F
#undef SAME_D
}

/* The threads knob: every value is accepted and gives the same bits, on an input large
 * enough to be split over several threads. */
static void test_threads(void) {
    precision_name = "threads";
    enum { N = 200003 };
    float *x = malloc(N * sizeof(float)), *g0 = malloc(N * sizeof(float));
    float *g = malloc(N * sizeof(float));
    uint8_t *y = malloc(N);
    if (!x || !g0 || !g || !y) abort();
    for (int i = 0; i < N; i++) {
        x[i] = (float)((i * 7919 % 2001) - 1000) / 100.0f;
        y[i] = (uint8_t)(i % 3 == 0);
    }
    focal_sigmoid_options o = focal_sigmoid_options_default();
    float l0, l;
    CHECK_STATUS(focal_sigmoid_labels_f32(x, y, NULL, N, &o, &l0, g0), FOCAL_OK);
    const uint32_t threads[] = {1, 2, 3, 64, UINT32_MAX};
    for (size_t i = 0; i < N_OF(threads); i++) {
        o.threads = threads[i];
        CHECK_STATUS(focal_sigmoid_labels_f32(x, y, NULL, N, &o, &l, g), FOCAL_OK);
        CHECK(l == l0 && memcmp(g, g0, N * sizeof(float)) == 0, "threads = %u changed the bits",
              threads[i]);
    }
    free(x), free(g0), free(g), free(y);
}

/* Re-entrancy: several C threads call the library at once and get identical results. */
typedef struct {
    const double *x;
    const double *y;
    double loss;
    double grad[64];
    focal_status status;
} worker_args;

static void *worker(void *arg) {
    worker_args *a = arg;
    focal_sigmoid_options o = focal_sigmoid_options_default();
    for (int rep = 0; rep < 200; rep++)
        a->status = focal_sigmoid_f64(a->x, a->y, NULL, 64, &o, &a->loss, a->grad);
    return NULL;
}

static void test_concurrent_callers(void) {
    precision_name = "concurrent";
    double x[64], y[64];
    for (int i = 0; i < 64; i++) x[i] = (i - 32) / 8.0, y[i] = (i % 4) / 3.0;
    enum { T = 4 };
    pthread_t th[T];
    worker_args args[T];
    for (int i = 0; i < T; i++) {
        args[i] = (worker_args){.x = x, .y = y};
        CHECK(pthread_create(&th[i], NULL, worker, &args[i]) == 0, "pthread_create");
    }
    for (int i = 0; i < T; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < T; i++) {
        CHECK(args[i].status == FOCAL_OK, "thread %d status %d", i, args[i].status);
        CHECK(args[i].loss == args[0].loss &&
                  memcmp(args[i].grad, args[0].grad, sizeof args[0].grad) == 0,
              "thread %d differs", i);
    }
}

/* The focal family through `objective` (defaults from focal_sigmoid_options_for), per-class
 * gamma and poly-1 for softmax: closed forms at x = 0 (p = 1/2) and a few other points. */
static void test_family(precision p) {
    const double ln2 = log(2.0);
    double rtol = rtol_of(p), atol = atol_of(p);
    double loss[3], grad[3];
    const double x0[2] = {0.0, 0.0};
    const uint8_t labels10[2] = {1, 0};

    focal_sigmoid_options asl = focal_sigmoid_options_for(FOCAL_OBJECTIVE_ASYMMETRIC);
    CHECK(asl.objective == FOCAL_OBJECTIVE_ASYMMETRIC && asl.gamma == 1.0 &&
              asl.gamma_negative == 4.0 && asl.margin == 0.05 && asl.class_gamma == NULL,
          "ASL defaults");
    asl.reduction = FOCAL_REDUCTION_NONE;
    CHECK_STATUS(sigmoid_labels(p, x0, labels10, NULL, 2, &asl, loss, grad), FOCAL_OK);
    /* A positive: (1/2)^1 ln 2; a negative: p_m = 0.45, 0.45^4 (-ln 0.55). */
    CHECK_CLOSE(loss[0], 0.5 * ln2, rtol, atol);
    CHECK_CLOSE(loss[1], pow(0.45, 4) * -log(0.55), rtol, atol);

    focal_sigmoid_options star = focal_sigmoid_options_for(FOCAL_OBJECTIVE_FOCAL_STAR);
    star.reduction = FOCAL_REDUCTION_NONE;
    CHECK_STATUS(sigmoid_labels(p, x0, labels10, NULL, 2, &star, loss, grad), FOCAL_OK);
    CHECK_CLOSE(loss[0], ln2, rtol, atol); /* gamma 1, beta 0: cross-entropy */
    CHECK_CLOSE(grad[0], -0.5, rtol, atol);

    focal_sigmoid_options poly = focal_sigmoid_options_for(FOCAL_OBJECTIVE_POLY1);
    poly.reduction = FOCAL_REDUCTION_NONE;
    CHECK_STATUS(sigmoid_labels(p, x0, labels10, NULL, 2, &poly, loss, grad), FOCAL_OK);
    CHECK_CLOSE(loss[0], 0.25 * 0.25 * ln2 + 0.125, rtol, atol);

    const double quality[2] = {0.8, 0.0};
    focal_sigmoid_options qfl = focal_sigmoid_options_for(FOCAL_OBJECTIVE_QUALITY_FOCAL);
    qfl.reduction = FOCAL_REDUCTION_NONE;
    CHECK_STATUS(sigmoid_soft(p, x0, quality, NULL, 2, &qfl, loss, grad), FOCAL_OK);
    CHECK_CLOSE(loss[0], 0.09 * ln2, rtol, atol);
    CHECK_CLOSE(loss[1], 0.25 * ln2, rtol, atol);

    const double iou[2] = {0.6, 0.0};
    focal_sigmoid_options vfl = focal_sigmoid_options_for(FOCAL_OBJECTIVE_VARIFOCAL);
    vfl.reduction = FOCAL_REDUCTION_NONE;
    CHECK_STATUS(sigmoid_soft(p, x0, iou, NULL, 2, &vfl, loss, grad), FOCAL_OK);
    CHECK_CLOSE(loss[0], 0.6 * ln2, rtol, atol);
    CHECK_CLOSE(loss[1], 0.75 * 0.25 * ln2, rtol, atol);

    const double x_reduced[2] = {3.0, -1.0};
    const uint8_t positives[2] = {1, 1};
    focal_sigmoid_options reduced = focal_sigmoid_options_for(FOCAL_OBJECTIVE_REDUCED_FOCAL);
    reduced.reduction = FOCAL_REDUCTION_NONE;
    CHECK_STATUS(sigmoid_labels(p, x_reduced, positives, NULL, 2, &reduced, loss, grad),
                 FOCAL_OK);
    double q3 = 1.0 - sigmoid_of(3.0);
    CHECK_CLOSE(loss[0], pow(q3 / 0.5, 2) * log1p(exp(-3.0)), rtol, atol);
    CHECK_CLOSE(loss[1], log1p(exp(1.0)), rtol, atol); /* p_t < 1/2: cross-entropy */
    /* Soft targets are refused (its threshold is decided on hard targets only). */
    CHECK_STATUS(sigmoid_soft(p, x0, quality, NULL, 2, &reduced, loss, grad),
                 FOCAL_ERROR_INVALID_ARGUMENT);

    /* Per-class gamma of a [1, 3] head, target class 2, alpha off: (1 + 1/2 + 1/4) ln 2. */
    const double x3[3] = {0.0, 0.0, 0.0};
    const int32_t target2[1] = {2};
    const double gammas[3] = {0.0, 1.0, 2.0};
    focal_sigmoid_options per_class = focal_sigmoid_options_default();
    per_class.alpha = -1.0;
    per_class.reduction = FOCAL_REDUCTION_SUM;
    per_class.class_gamma = gammas;
    CHECK_STATUS(sigmoid_classes(p, x3, target2, 1, 3, &per_class, loss, grad), FOCAL_OK);
    CHECK_CLOSE(loss[0], 1.75 * ln2, rtol, atol);
    /* class_gamma belongs to the class-index functions and the focal loss only. */
    CHECK_STATUS(sigmoid_labels(p, x0, labels10, NULL, 2, &per_class, loss, grad),
                 FOCAL_ERROR_INVALID_ARGUMENT);
    per_class.objective = FOCAL_OBJECTIVE_POLY1;
    CHECK_STATUS(sigmoid_classes(p, x3, target2, 1, 3, &per_class, loss, grad),
                 FOCAL_ERROR_INVALID_ARGUMENT);

    focal_sigmoid_options unknown = focal_sigmoid_options_default();
    unknown.objective = (focal_objective)99;
    CHECK_STATUS(sigmoid_labels(p, x0, labels10, NULL, 2, &unknown, loss, grad),
                 FOCAL_ERROR_INVALID_ARGUMENT);

    /* Softmax poly-1 with per-class gamma: a row [0, 0] of target 0, gamma_0 = 0,
     * epsilon = 1: ln 2 + (1/2)^1; the gradient at the target -1/2 - 1/4. */
    const int32_t target0[1] = {0};
    const double softmax_gammas[2] = {0.0, 3.0};
    focal_softmax_options so = focal_softmax_options_default();
    so.reduction = FOCAL_REDUCTION_SUM;
    so.epsilon = 1.0;
    so.class_gamma = softmax_gammas;
    CHECK_STATUS(softmax(p, x0, target0, 1, 2, 1, NULL, &so, loss, grad), FOCAL_OK);
    CHECK_CLOSE(loss[0], ln2 + 0.5, rtol, atol);
    CHECK_CLOSE(grad[0], -0.75, rtol, atol);
    CHECK_CLOSE(grad[1], 0.75, rtol, atol);
}

int main(void) {
    test_strings();
    test_defaults();
    for (int pi = 0; pi < 2; pi++) {
        precision p = (precision)pi;
        precision_name = p == P32 ? "f32" : "f64";
        test_sigmoid_is_bce(p);
        test_sigmoid_general(p);
        test_sigmoid_classes(p);
        test_softmax(p);
        test_grad_hess(p);
        test_softmax_grad_hess(p);
        test_rich_values(p);
        test_mean_over_nothing(p);
        test_errors(p);
        test_family(p);
    }
    test_pointers();
    test_threads();
    test_concurrent_callers();
    printf("%d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
