// The product of sizes read from a file (shapes, element sizes), refusing overflow.

/// The product of `factors` (1 for none), or nil if it overflows Int: a declared shape whose
/// size overflows cannot match any real file, so readers refuse it instead of trapping.
public func checkedProduct(_ factors: [Int]) -> Int? {
    var product = 1
    for f in factors {
        let (p, overflow) = product.multipliedReportingOverflow(by: f)
        if overflow { return nil }
        product = p
    }
    return product
}
