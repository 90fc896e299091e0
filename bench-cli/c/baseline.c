/* The fused sigmoid focal loss + gradient as a careful C programmer writes it: u8 labels,
 * f32, the stable logit form, one pass, vectorized by the compiler with glibc's vector maths
 * (libmvec). Compiled twice by build.rs with -O3 -march=native: once as it stays accurate
 * (no fast-math: a compensated log1p) and once with -ffast-math and logf(1 + e) (faster,
 * wrong at the edges). BASELINE_NAME gives each its symbol.
 *
 * Per element, with z = x for y = 1 and −x for y = 0 (so p_t = σ(z)):
 *   e = exp(−|z|), CE = −ln p_t = max(−z, 0) + ln(1 + e), q = 1 − p_t = σ(−z),
 *   loss = α_t·q^γ·CE, ∂loss/∂x = ±(−α_t·q^γ·(γ·p_t·CE + q)).
 * The mean loss is returned (a float sum per lane, as a vectorized loop keeps it); the
 * gradient (of the mean) is written to grad. */

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#ifndef BASELINE_NAME
#error "BASELINE_NAME must name the function"
#endif

#ifndef __FAST_MATH__
/* glibc declares its vector variants only under -ffast-math; the accurate build asks for
 * them here (their errors, a few ulps at most, are listed in glibc's manual). */
#pragma omp declare simd notinbranch
float expf(float);
#pragma omp declare simd notinbranch
float logf(float);
#pragma omp declare simd notinbranch
float powf(float, float);
#endif

static inline float ln_1p(float e) {
#ifdef __FAST_MATH__
    return logf(1.0f + e);
#else
    /* log1p by the compensated log: u = 1 + e rounded, ln u corrected by the part of e that
     * the rounding lost ((u − 1) − e), relative to u. */
    float u = 1.0f + e;
    return logf(u) - ((u - 1.0f) - e) / u;
#endif
}

/* The vector's float lanes at the level -march=native gives. */
#if defined(__AVX512F__)
#define BASELINE_LANES 16
#else
#define BASELINE_LANES 8
#endif
#define PRAGMA(text) _Pragma(#text)
#define SIMD_LOOP(lanes) PRAGMA(omp simd simdlen(lanes) reduction(+ : sum))

/* One loop per form of q^γ: a select inside the loop would compute both. The vector length
 * is given: with u8 labels GCC may pick more lanes than glibc's vector functions have, and
 * call the scalar ones. */
#define FOCAL_LOOP(FOCAL)                                                                \
    SIMD_LOOP(BASELINE_LANES) for (size_t i = 0; i < n; i++) {                           \
        float sign = y[i] ? 1.0f : -1.0f;                                                \
        float z = sign * x[i];                                                           \
        float e = expf(-fabsf(z));                                                       \
        float ce = (z < 0.0f ? -z : 0.0f) + ln_1p(e);                                    \
        float inv = 1.0f / (1.0f + e);                                                   \
        float p = z >= 0.0f ? inv : e * inv;                                             \
        float q = z >= 0.0f ? e * inv : inv;                                             \
        float a = y[i] ? alpha : 1.0f - alpha;                                           \
        float focal = FOCAL;                                                             \
        sum += a * focal * ce;                                                           \
        grad[i] = sign * (-a * focal * (gamma * p * ce + q)) * scale;                    \
    }

float BASELINE_NAME(const float *x, const uint8_t *y, size_t n, float gamma, float alpha,
                    float *grad) {
    float sum = 0.0f;
    const float scale = 1.0f / (float)n;
    if (gamma == 2.0f) {
        FOCAL_LOOP(q * q)
    } else {
        FOCAL_LOOP(powf(q, gamma))
    }
    return sum * scale;
}
