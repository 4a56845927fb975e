extension UInt64 {
    /// `self + other`, stopping at `UInt64.max`. Every sum that involves a number read from the
    /// network goes through this (or an explicit bound first): a received value near 2^64 must
    /// never trap the daemon or wrap into a small number that passes a later check.
    @inlinable
    public func adding(saturating other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }

    @inlinable
    public func subtracting(saturating other: UInt64) -> UInt64 {
        self >= other ? self - other : 0
    }
}
