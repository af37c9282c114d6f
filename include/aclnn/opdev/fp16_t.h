/*
 * aclnn/opdev/fp16_t.h -- op::fp16_t, an IEEE 754 binary16 value type (C++ only).
 *
 * Part of aclnn-py; an independent implementation. The operator documents
 * use it in their C++ samples, e.g. a vector of op::fp16_t built from an int
 * and read back through a cast to float.
 *
 * Properties: sizeof 2, trivially copyable, bit pattern in the public member
 * val. Construction from float, double and any integer type rounds to the
 * nearest value, ties to even; magnitudes from 65520 up become infinity,
 * tiny values become subnormals or signed zero, NaN stays NaN. Conversion
 * to float is exact and implicit. In C this header declares nothing.
 * Include chain as CANN's opdev/fp16_t.h: <algorithm>, <cmath>, <math.h>,
 * <stdint.h> (samples may use std::max or std::fabs without including them).
 */
#ifndef ACLNN_OPDEV_FP16_T_H
#define ACLNN_OPDEV_FP16_T_H

#ifdef __cplusplus
#include <math.h>
#include <stdint.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace op {

struct fp16_t {
    /* Raw binary16 bits: 1 sign, 5 exponent (bias 15), 10 mantissa. */
    uint16_t val;

    /* Default value is +0.0. */
    fp16_t() noexcept : val(0) {}
    fp16_t(float f) noexcept : val(FromDouble(static_cast<double>(f))) {}
    fp16_t(double d) noexcept : val(FromDouble(d)) {}
    /* Any integer type (int, unsigned, int64_t, bool, ...), by numeric value. */
    template <typename T, typename std::enable_if<std::is_integral<T>::value, int>::type = 0>
    fp16_t(T i) noexcept : val(FromDouble(static_cast<double>(i))) {}

    /* Builds a value from a raw bit pattern (no conversion). */
    static fp16_t FromBits(uint16_t bits) noexcept
    {
        fp16_t h;
        h.val = bits;
        return h;
    }

    /* Exact conversion (every binary16 value is representable as float). */
    operator float() const noexcept { return ToFloat(val); }
    float ToFloat() const noexcept { return ToFloat(val); }

    bool IsNaN() const noexcept { return (val & 0x7C00u) == 0x7C00u && (val & 0x03FFu) != 0; }
    bool IsInf() const noexcept { return (val & 0x7FFFu) == 0x7C00u; }

    /*
     * double -> binary16 bits, round to nearest, ties to even. float input is
     * widened to double first, which is exact, so there is no double rounding.
     */
    static uint16_t FromDouble(double d) noexcept
    {
        uint64_t b;
        std::memcpy(&b, &d, sizeof(b));
        const uint16_t sign = static_cast<uint16_t>((b >> 48) & 0x8000u);
        const int exp = static_cast<int>((b >> 52) & 0x7FFu);
        const uint64_t frac = b & 0x000FFFFFFFFFFFFFull;

        if (exp == 0x7FF) {
            if (frac != 0) {
                /* NaN: quiet it and keep the top payload bits. */
                return static_cast<uint16_t>(sign | 0x7E00u | static_cast<uint16_t>(frac >> 42));
            }
            return static_cast<uint16_t>(sign | 0x7C00u);
        }
        if (exp == 0) {
            /* Zero or double subnormal: far below half the smallest binary16 subnormal. */
            return sign;
        }
        const int e = exp - 1023;  /* unbiased exponent */
        if (e > 15) {
            return static_cast<uint16_t>(sign | 0x7C00u);
        }
        /* 53-bit significand with the implicit bit. */
        const uint64_t sig = frac | (static_cast<uint64_t>(1) << 52);
        /*
         * Normal results (e >= -14): keep 11 significant bits (shift 42) and
         * add the biased exponent minus one, so a carry out of the mantissa
         * bumps the exponent (and 65520 and above reach infinity 0x7C00).
         * Subnormal results: count units of 2^-24 (shift 28 - e).
         */
        int shift;
        uint32_t base;
        if (e >= -14) {
            shift = 42;
            base = static_cast<uint32_t>(e + 14) << 10;
        } else {
            shift = 28 - e;
            base = 0;
            if (shift > 54) {
                /* Below half of 2^-24: rounds to zero. */
                return sign;
            }
        }
        uint64_t q = sig >> shift;
        const uint64_t rem = sig & ((static_cast<uint64_t>(1) << shift) - 1);
        const uint64_t halfway = static_cast<uint64_t>(1) << (shift - 1);
        if (rem > halfway || (rem == halfway && (q & 1u) != 0)) {
            ++q;
        }
        uint32_t bits = base + static_cast<uint32_t>(q);
        if (bits > 0x7C00u) {
            bits = 0x7C00u;
        }
        return static_cast<uint16_t>(sign | bits);
    }

    /* binary16 bits -> float, exact. */
    static float ToFloat(uint16_t h) noexcept
    {
        const uint32_t sign = (h & 0x8000u) << 16;
        const uint32_t exp = (static_cast<uint32_t>(h) >> 10) & 0x1Fu;
        const uint32_t mant = static_cast<uint32_t>(h) & 0x3FFu;
        uint32_t bits;
        if (exp == 0x1Fu) {
            bits = sign | 0x7F800000u | (mant << 13);
        } else if (exp == 0) {
            if (mant == 0) {
                bits = sign;
            } else {
                /* Subnormal: mant * 2^-24, exact in float. */
                const float f = static_cast<float>(mant) * 5.9604644775390625e-08f;
                return sign != 0 ? -f : f;
            }
        } else {
            bits = sign | ((exp + 112u) << 23) | (mant << 13);
        }
        float f;
        std::memcpy(&f, &bits, sizeof(f));
        return f;
    }
};

static_assert(sizeof(fp16_t) == 2, "op::fp16_t must be 2 bytes");
static_assert(std::is_trivially_copyable<fp16_t>::value, "op::fp16_t must be trivially copyable");
static_assert(std::is_standard_layout<fp16_t>::value, "op::fp16_t must be standard layout");

}  // namespace op

#endif

#endif
