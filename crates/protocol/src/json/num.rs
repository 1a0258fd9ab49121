//! Exact conversion between decimal text and `f64`, without the standard library's float
//! parsing and formatting machinery (and its tables).
//!
//! Parsing is correctly rounded (round half to even) for any number of digits: numbers of up
//! to 15 digits with a small exponent take the exact fast path (one multiplication or
//! division by an exactly representable power of ten); the others are rounded from an exact
//! big-integer computation. Printing gives the shortest digit string that parses back to the
//! same `f64` (the closest one to the exact value when several have that length), laid out as
//! serde_json lays floats out (`0.5`, `100.0`, `1e+16`, `1.5e-7`). Both paths are small and
//! slow-ish on hard cases; the wire carries few floats (volumes, layout geometry).

use crate::prelude::*;
/// A non-negative big integer: little-endian base-2^32 limbs, no trailing zero limbs.
#[derive(Clone)]
struct Big(Vec<u32>);

impl Big {
    fn from_u64(x: u64) -> Big {
        let mut b = Big(vec![x as u32, (x >> 32) as u32]);
        b.trim();
        b
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    /// `self = self * m + a`.
    fn mul_add(&mut self, m: u32, a: u32) {
        let mut carry = u64::from(a);
        for limb in &mut self.0 {
            let x = u64::from(*limb) * u64::from(m) + carry;
            *limb = x as u32;
            carry = x >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
        self.trim();
    }

    /// `self *= 10^n`.
    fn mul_pow10(&mut self, n: u32) {
        self.mul_pow(n, 10, 1_000_000_000, 9);
    }

    /// `self *= 5^n`.
    fn mul_pow5(&mut self, n: u32) {
        self.mul_pow(n, 5, 1_220_703_125, 13);
    }

    /// `self *= base^n`, with `chunk = base^per` the largest power that fits a limb.
    fn mul_pow(&mut self, mut n: u32, base: u32, chunk: u32, per: u32) {
        while n >= per {
            self.mul_add(chunk, 0);
            n -= per;
        }
        self.mul_add(base.pow(n), 0);
    }

    /// `self /= d` (d > 0), returning the remainder.
    fn div_rem_small(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for limb in self.0.iter_mut().rev() {
            let x = (rem << 32) | u64::from(*limb);
            *limb = (x / u64::from(d)) as u32;
            rem = x % u64::from(d);
        }
        self.trim();
        rem as u32
    }

    /// `self <<= n` bits.
    fn shl(&mut self, n: u32) {
        let limbs = (n / 32) as usize;
        let bits = n % 32;
        if self.is_zero() {
            return;
        }
        if bits != 0 {
            let mut carry = 0u32;
            for limb in &mut self.0 {
                let x = *limb;
                *limb = (x << bits) | carry;
                carry = x >> (32 - bits);
            }
            if carry != 0 {
                self.0.push(carry);
            }
        }
        if limbs > 0 {
            let mut v = vec![0; limbs];
            v.append(&mut self.0);
            self.0 = v;
        }
    }

    fn bits(&self) -> u32 {
        match self.0.last() {
            None => 0,
            Some(top) => self.0.len() as u32 * 32 - top.leading_zeros(),
        }
    }

    /// The top 64 bits (the highest set bit at bit 63), the binary exponent of their lowest
    /// bit, and whether any bit below them is set.
    fn top64(&self) -> (u64, i32, bool) {
        let bits = self.bits();
        let mut m = 0u64;
        let mut sticky = false;
        for i in 0..bits {
            let bit = self
                .0
                .get((i / 32) as usize)
                .map_or(0, |l| l >> (i % 32) & 1);
            if i + 64 >= bits {
                m |= u64::from(bit) << (i + 64 - bits);
            } else if bit != 0 {
                sticky = true;
            }
        }
        (m, bits as i32 - 64, sticky)
    }
}

/// The `f64` nearest to `m * 2^e` (plus a little more when `sticky`), `m` with its top bit
/// set, ties to even; `None` when it rounds past the largest finite value.
fn assemble(m: u64, e: i32, sticky: bool) -> Option<f64> {
    let lead = e + 63; // the exponent of m's top bit
    let keep = if lead >= -1022 { 53 } else { lead + 1075 };
    if keep < 0 {
        return Some(0.0);
    }
    // Round to `keep` bits (0..=53).
    let drop = (64 - keep) as u32;
    let mut mant = if drop >= 64 { 0 } else { m >> drop };
    let rem = if drop >= 64 {
        m
    } else {
        m & ((1u64 << drop) - 1)
    };
    let half = 1u64 << (drop - 1);
    if rem > half || (rem == half && (sticky || mant & 1 == 1)) {
        mant += 1;
    }
    if keep < 53 {
        // Subnormal (a carry into bit 52 gives the smallest normal's bit pattern).
        return Some(f64::from_bits(mant));
    }
    let mut biased = lead + 1023;
    if mant == 1 << 53 {
        mant >>= 1;
        biased += 1;
    }
    if biased >= 2047 {
        return None;
    }
    Some(f64::from_bits(
        ((biased as u64) << 52) | (mant & ((1 << 52) - 1)),
    ))
}

/// Exactly representable powers of ten.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// At most this many significant digits take part exactly; further digits only count as
/// "something non-zero follows" (a tie between two `f64`s never needs more than 767).
const MAX_DIGITS: usize = 800;

/// The `f64` nearest to `digits * 10^exp10` (`digits`: ASCII decimal digits), or `None` when
/// it is too large for an `f64`.
pub(crate) fn decimal_to_f64(digits: &[u8], exp10: i64) -> Option<f64> {
    let start = digits
        .iter()
        .position(|&d| d != b'0')
        .unwrap_or(digits.len());
    let end = digits
        .iter()
        .rposition(|&d| d != b'0')
        .map_or(start, |i| i + 1);
    match digits.get(start..end) {
        Some(sig) if !sig.is_empty() => {
            decimal_to_f64_trimmed(sig, exp10.saturating_add((digits.len() - end) as i64))
        }
        _ => Some(0.0),
    }
}

/// [`decimal_to_f64`] for digits without leading or trailing zeros, the trailing zeros
/// already counted in `exp10` by the caller.
fn decimal_to_f64_trimmed(digits: &[u8], exp10: i64) -> Option<f64> {
    let n = digits.len() as i64;
    let point = n.saturating_add(exp10);
    if point > 310 {
        return None;
    }
    if point < -324 {
        return Some(0.0);
    }
    if n <= 15 && (-22..=22).contains(&exp10) {
        let mut w = 0u64;
        for &d in digits {
            w = w * 10 + u64::from(d - b'0');
        }
        let w = w as f64;
        let p = POW10[exp10.unsigned_abs() as usize];
        return Some(if exp10 >= 0 { w * p } else { w / p });
    }
    let mut exp10 = exp10;
    let mut num = Big(Vec::new());
    let kept = digits.get(..MAX_DIGITS).unwrap_or(digits);
    for &d in kept {
        num.mul_add(10, u32::from(d - b'0'));
    }
    if kept.len() < digits.len() {
        // The rest is non-zero (no trailing zeros): stand in for it with a final 1.
        exp10 += n - kept.len() as i64;
        num.mul_add(10, 1);
        exp10 -= 1;
    }
    if exp10 >= 0 {
        num.mul_pow10(exp10 as u32);
        let (m, e, sticky) = num.top64();
        return assemble(m, e, sticky);
    }
    // num / 10^k = num / 5^k * 2^-k. Scale num by 2^s so that the quotient by 5^k has at
    // least 66 bits, then divide by 5^k in limb-sized steps: the floor of successive floor
    // divisions is the floor of the whole division, and any remainder on the way is a
    // non-zero fraction below the quotient's last bit.
    let k = exp10.unsigned_abs() as u32;
    // An upper bound of 5^k's bit length (2378 / 1024 > log2(5)).
    let pow_bits = k * 2378 / 1024 + 1;
    let s = (pow_bits + 66).saturating_sub(num.bits());
    num.shl(s);
    let mut sticky = false;
    let mut left = k;
    while left > 0 {
        let step = left.min(13);
        sticky |= num.div_rem_small(5u32.pow(step)) != 0;
        left -= step;
    }
    let (m, e, rest) = num.top64();
    assemble(m, e - s as i32 - k as i32, sticky || rest)
}

/// The exact decimal digits of a finite, non-zero `|x|` and the exponent of their last
/// digit.
fn exact_digits(x: f64) -> (Vec<u8>, i64) {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1 << 52) - 1);
    let (m, e) = if biased == 0 {
        (frac, -1074)
    } else {
        (frac | 1 << 52, biased - 1075)
    };
    let mut n = Big::from_u64(m);
    let exp10 = if e >= 0 {
        n.shl(e as u32);
        0
    } else {
        // m * 2^e = m * 5^-e * 10^e
        n.mul_pow5((-e) as u32);
        i64::from(e)
    };
    let mut rev = Vec::new();
    while !n.is_zero() {
        let mut r = n.div_rem_small(1_000_000_000);
        let last = n.is_zero();
        for _ in 0..9 {
            if last && r == 0 {
                break;
            }
            rev.push(b'0' + (r % 10) as u8);
            r /= 10;
        }
    }
    rev.reverse();
    (rev, exp10)
}

/// `digits` rounded to `p` digits (half to even when `up` is `None`, else down or up):
/// the digits (as a number) and the exponent of the last one.
fn round_digits(digits: &[u8], exp10: i64, p: usize, up: Option<bool>) -> (u64, i64) {
    let mut w = 0u64;
    for &d in &digits[..p] {
        w = w * 10 + u64::from(d - b'0');
    }
    let exp = exp10 + (digits.len() - p) as i64;
    let rest = &digits[p..];
    let round_up = match up {
        Some(u) => u && rest.iter().any(|&d| d != b'0'),
        None => match rest.first() {
            Some(&d) if d > b'5' => true,
            Some(&b'5') => rest[1..].iter().any(|&d| d != b'0') || w % 2 == 1,
            _ => false,
        },
    };
    if round_up {
        w += 1;
    }
    (w, exp)
}

/// The shortest digits (as a number) and exponent of the last one that parse back to the
/// finite, non-zero `|x|`.
fn shortest(x: f64) -> (u64, i64) {
    let x = x.abs();
    let (digits, exp10) = exact_digits(x);
    let boundary = x.to_bits() & ((1 << 52) - 1) == 0 && x.to_bits() >> 52 > 1;
    let max = digits.len().min(17);
    for p in 1..=max {
        let mut tries = [Some(round_digits(&digits, exp10, p, None)), None];
        if boundary {
            tries[1] = Some(round_digits(&digits, exp10, p, Some(true)));
        }
        for (w, e) in tries.into_iter().flatten() {
            let mut buf = [0u8; 20];
            let text = write_u64(&mut buf, w);
            if decimal_to_f64(text, e) == Some(x) {
                return (w, e);
            }
        }
    }
    round_digits(&digits, exp10, max, None)
}

/// `x` in decimal into the end of `buf`; returns the digits.
pub(crate) fn write_u64(buf: &mut [u8; 20], mut x: u64) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (x % 10) as u8;
        x /= 10;
        if x == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Append a finite `x` as serde_json writes it (shortest round-trip digits; `1.0`, `0.001`,
/// `1e+16`, `1.5e-7`). Non-finite values are written as `null`, as JSON has no form for them.
pub(crate) fn write_f64(out: &mut String, x: f64) {
    if !x.is_finite() {
        out.push_str("null");
        return;
    }
    if x.is_sign_negative() {
        out.push('-');
    }
    if x == 0.0 {
        out.push_str("0.0");
        return;
    }
    let (w, e) = shortest(x);
    let mut buf = [0u8; 20];
    let digits = write_u64(&mut buf, w);
    // Trailing zeros of the digit string belong to the exponent.
    let trimmed = digits.len() - digits.iter().rev().take_while(|&&d| d == b'0').count();
    let e = e + (digits.len() - trimmed) as i64;
    let digits = &digits[..trimmed];
    let len = digits.len() as i64;
    let point = len + e; // value = 0.digits * 10^point
    let push = |out: &mut String, d: &[u8]| {
        for &c in d {
            out.push(char::from(c));
        }
    };
    if e >= 0 && point <= 16 {
        push(out, digits);
        for _ in 0..e {
            out.push('0');
        }
        out.push_str(".0");
    } else if point > 0 && point <= 16 {
        let (a, b) = digits.split_at(point as usize);
        push(out, a);
        out.push('.');
        push(out, b);
    } else if point > -5 && point <= 0 {
        out.push_str("0.");
        for _ in 0..-point {
            out.push('0');
        }
        push(out, digits);
    } else {
        push(out, &digits[..1]);
        if len > 1 {
            out.push('.');
            push(out, &digits[1..]);
        }
        out.push('e');
        let x = point - 1;
        out.push(if x < 0 { '-' } else { '+' });
        let mut ebuf = [0u8; 20];
        push(out, write_u64(&mut ebuf, x.unsigned_abs()));
    }
}
