/*
 * The minimal embedding of focal-loss in C: one sigmoid focal loss call with u8 labels.
 *
 * From the repository root:
 *
 *   cargo build --release && cc -O2 -Iinclude examples/c/minimal.c target/release/libfocal_loss.a -lm -lpthread -ldl -o minimal && ./minimal
 *
 * (or link the shared library: ... target/release/libfocal_loss.so -Wl,-rpath,target/release)
 */

#include "focal_loss.h"

#include <stdio.h>

int main(void) {
    const float logits[4] = {4.0f, -2.0f, 0.3f, 18.0f};
    const uint8_t labels[4] = {1, 0, 1, 0};
    float loss;    /* one value: the default reduction is the mean */
    float grad[4]; /* optional: pass NULL to skip the gradient */

    focal_sigmoid_options opt = focal_sigmoid_options_default(); /* gamma 2, alpha 0.25 */
    focal_status status = focal_sigmoid_labels_f32(logits, labels, NULL, 4, &opt, &loss, grad);
    if (status != FOCAL_OK) {
        fprintf(stderr, "focal-loss: %s\n", focal_status_message(status));
        return 1;
    }
    printf("focal loss %.6f (focal-loss %s, %s)\n", loss, focal_version(), focal_simd_level());
    printf("gradient %.6f %.6f %.6f %.6f\n", grad[0], grad[1], grad[2], grad[3]);
    return 0;
}
