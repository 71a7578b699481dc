/// LPC prediction kernels for orders 1...12, the orders the reference encoder uses at its
/// usual levels, written out so the last samples stay in registers.
///
/// The general loop reloads each new sample right after storing it, and compilers vectorize its
/// dot product, which makes every sample wait on a store-to-load forward. Here `s1` is the
/// newest sample, `sN` the oldest, and `c0` the coefficient of the newest. `Sum` is `Int32`
/// where 32-bit sums cannot overflow and `Int64` otherwise; arithmetic wraps (see
/// `FLACFrameDecoder+Prediction.swift`). This file is regular by construction: each case is
/// the same four lines for its order.
extension FLACFrameDecoder {
    /// Runs the kernel for `order` (1...12) and returns true, or returns false for other orders.
    @inline(__always)
    static func lpcKernel<Sum: FixedWidthInteger & SignedInteger>(
        _ out: UnsafeMutablePointer<Int32>, order: Int, blockSize n: Int, _ c: UnsafePointer<Int32>, shift: Int32, as _: Sum.Type
    ) -> Bool {
        @inline(__always) func k(_ j: Int) -> Sum { Sum(truncatingIfNeeded: c[j]) }
        @inline(__always) func s(_ i: Int) -> Sum { Sum(truncatingIfNeeded: out[i]) }
        let shift = Sum(shift)
        switch order {
        case 1:
            let c0 = k(0)
            var s1 = s(0)
            for i in 1..<n {
                let sum = c0 &* s1
                let v = out[i] &+ Int32(truncatingIfNeeded: sum &>> shift)
                out[i] = v
                s1 = Sum(v)
            }
        case 2:
            let c0 = k(0), c1 = k(1)
            var s1 = s(1), s2 = s(0)
            for i in 2..<n {
                var sum = c0 &* s1
                sum &+= c1 &* s2
                let v = out[i] &+ Int32(truncatingIfNeeded: sum &>> shift)
                out[i] = v
                s2 = s1; s1 = Sum(v)
            }
        case 3:
            let c0 = k(0), c1 = k(1), c2 = k(2)
            var s1 = s(2), s2 = s(1), s3 = s(0)
            for i in 3..<n {
                var sum = c0 &* s1
                sum &+= c1 &* s2; sum &+= c2 &* s3
                let v = out[i] &+ Int32(truncatingIfNeeded: sum &>> shift)
                out[i] = v
                s3 = s2; s2 = s1; s1 = Sum(v)
            }
        case 4:
            let c0 = k(0), c1 = k(1), c2 = k(2), c3 = k(3)
            var s1 = s(3), s2 = s(2), s3 = s(1), s4 = s(0)
            for i in 4..<n {
                var sum = c0 &* s1
                sum &+= c1 &* s2; sum &+= c2 &* s3; sum &+= c3 &* s4
                let v = out[i] &+ Int32(truncatingIfNeeded: sum &>> shift)
                out[i] = v
                s4 = s3; s3 = s2; s2 = s1; s1 = Sum(v)
            }
        case 5:
            let c0 = k(0), c1 = k(1), c2 = k(2), c3 = k(3), c4 = k(4)
            var s1 = s(4), s2 = s(3), s3 = s(2), s4 = s(1), s5 = s(0)
            for i in 5..<n {
                var sum = c0 &* s1
                sum &+= c1 &* s2; sum &+= c2 &* s3; sum &+= c3 &* s4; sum &+= c4 &* s5
                let v = out[i] &+ Int32(truncatingIfNeeded: sum &>> shift)
                out[i] = v
                s5 = s4; s4 = s3; s3 = s2; s2 = s1; s1 = Sum(v)
            }
        case 6:
            let c0 = k(0), c1 = k(1), c2 = k(2), c3 = k(3), c4 = k(4), c5 = k(5)
            var s1 = s(5), s2 = s(4), s3 = s(3), s4 = s(2), s5 = s(1), s6 = s(0)
            for i in 6..<n {
                var sum = c0 &* s1
                sum &+= c1 &* s2; sum &+= c2 &* s3; sum &+= c3 &* s4; sum &+= c4 &* s5
                sum &+= c5 &* s6
                let v = out[i] &+ Int32(truncatingIfNeeded: sum &>> shift)
                out[i] = v
                s6 = s5; s5 = s4; s4 = s3; s3 = s2; s2 = s1; s1 = Sum(v)
            }
        case 7:
            let c0 = k(0), c1 = k(1), c2 = k(2), c3 = k(3), c4 = k(4), c5 = k(5), c6 = k(6)
            var s1 = s(6), s2 = s(5), s3 = s(4), s4 = s(3), s5 = s(2), s6 = s(1), s7 = s(0)
            for i in 7..<n {
                var sum = c0 &* s1
                sum &+= c1 &* s2; sum &+= c2 &* s3; sum &+= c3 &* s4; sum &+= c4 &* s5
                sum &+= c5 &* s6; sum &+= c6 &* s7
                let v = out[i] &+ Int32(truncatingIfNeeded: sum &>> shift)
                out[i] = v
                s7 = s6; s6 = s5; s5 = s4; s4 = s3; s3 = s2; s2 = s1; s1 = Sum(v)
            }
        case 8:
            let c0 = k(0), c1 = k(1), c2 = k(2), c3 = k(3), c4 = k(4), c5 = k(5), c6 = k(6), c7 = k(7)
            var s1 = s(7), s2 = s(6), s3 = s(5), s4 = s(4), s5 = s(3), s6 = s(2), s7 = s(1), s8 = s(0)
            for i in 8..<n {
                var sum = c0 &* s1
                sum &+= c1 &* s2; sum &+= c2 &* s3; sum &+= c3 &* s4; sum &+= c4 &* s5
                sum &+= c5 &* s6; sum &+= c6 &* s7; sum &+= c7 &* s8
                let v = out[i] &+ Int32(truncatingIfNeeded: sum &>> shift)
                out[i] = v
                s8 = s7; s7 = s6; s6 = s5; s5 = s4; s4 = s3; s3 = s2; s2 = s1; s1 = Sum(v)
            }
        case 9:
            let c0 = k(0), c1 = k(1), c2 = k(2), c3 = k(3), c4 = k(4), c5 = k(5), c6 = k(6), c7 = k(7), c8 = k(8)
            var s1 = s(8), s2 = s(7), s3 = s(6), s4 = s(5), s5 = s(4), s6 = s(3), s7 = s(2), s8 = s(1), s9 = s(0)
            for i in 9..<n {
                var sum = c0 &* s1
                sum &+= c1 &* s2; sum &+= c2 &* s3; sum &+= c3 &* s4; sum &+= c4 &* s5
                sum &+= c5 &* s6; sum &+= c6 &* s7; sum &+= c7 &* s8; sum &+= c8 &* s9
                let v = out[i] &+ Int32(truncatingIfNeeded: sum &>> shift)
                out[i] = v
                s9 = s8; s8 = s7; s7 = s6; s6 = s5; s5 = s4; s4 = s3; s3 = s2; s2 = s1; s1 = Sum(v)
            }
        case 10:
            let c0 = k(0), c1 = k(1), c2 = k(2), c3 = k(3), c4 = k(4), c5 = k(5), c6 = k(6), c7 = k(7), c8 = k(8), c9 = k(9)
            var s1 = s(9), s2 = s(8), s3 = s(7), s4 = s(6), s5 = s(5), s6 = s(4), s7 = s(3), s8 = s(2), s9 = s(1), s10 = s(0)
            for i in 10..<n {
                var sum = c0 &* s1
                sum &+= c1 &* s2; sum &+= c2 &* s3; sum &+= c3 &* s4; sum &+= c4 &* s5
                sum &+= c5 &* s6; sum &+= c6 &* s7; sum &+= c7 &* s8; sum &+= c8 &* s9
                sum &+= c9 &* s10
                let v = out[i] &+ Int32(truncatingIfNeeded: sum &>> shift)
                out[i] = v
                s10 = s9; s9 = s8; s8 = s7; s7 = s6; s6 = s5; s5 = s4; s4 = s3; s3 = s2; s2 = s1; s1 = Sum(v)
            }
        case 11:
            let c0 = k(0), c1 = k(1), c2 = k(2), c3 = k(3), c4 = k(4), c5 = k(5), c6 = k(6), c7 = k(7), c8 = k(8), c9 = k(9), c10 = k(10)
            var s1 = s(10), s2 = s(9), s3 = s(8), s4 = s(7), s5 = s(6), s6 = s(5), s7 = s(4), s8 = s(3), s9 = s(2), s10 = s(1), s11 = s(0)
            for i in 11..<n {
                var sum = c0 &* s1
                sum &+= c1 &* s2; sum &+= c2 &* s3; sum &+= c3 &* s4; sum &+= c4 &* s5
                sum &+= c5 &* s6; sum &+= c6 &* s7; sum &+= c7 &* s8; sum &+= c8 &* s9
                sum &+= c9 &* s10; sum &+= c10 &* s11
                let v = out[i] &+ Int32(truncatingIfNeeded: sum &>> shift)
                out[i] = v
                s11 = s10; s10 = s9; s9 = s8; s8 = s7; s7 = s6; s6 = s5; s5 = s4; s4 = s3; s3 = s2; s2 = s1; s1 = Sum(v)
            }
        case 12:
            let c0 = k(0), c1 = k(1), c2 = k(2), c3 = k(3), c4 = k(4), c5 = k(5), c6 = k(6), c7 = k(7), c8 = k(8), c9 = k(9), c10 = k(10), c11 = k(11)
            var s1 = s(11), s2 = s(10), s3 = s(9), s4 = s(8), s5 = s(7), s6 = s(6), s7 = s(5), s8 = s(4), s9 = s(3), s10 = s(2), s11 = s(1), s12 = s(0)
            for i in 12..<n {
                var sum = c0 &* s1
                sum &+= c1 &* s2; sum &+= c2 &* s3; sum &+= c3 &* s4; sum &+= c4 &* s5
                sum &+= c5 &* s6; sum &+= c6 &* s7; sum &+= c7 &* s8; sum &+= c8 &* s9
                sum &+= c9 &* s10; sum &+= c10 &* s11; sum &+= c11 &* s12
                let v = out[i] &+ Int32(truncatingIfNeeded: sum &>> shift)
                out[i] = v
                s12 = s11; s11 = s10; s10 = s9; s9 = s8; s8 = s7; s7 = s6; s6 = s5; s5 = s4; s4 = s3; s3 = s2; s2 = s1; s1 = Sum(v)
            }
        default:
            return false
        }
        return true
    }
}
