/// libFuzzer's driver for the targets' `main`. SwiftPM links an executable with its own `main`, so the targets cannot
/// use `-sanitize=fuzzer` (which links libFuzzer's `main` too): they are instrumented with AddressSanitizer and
/// libFuzzer's coverage flags, link `libclang_rt.fuzzer_no_main`, and hand over from the `main` SwiftPM gives them.
public func runLibFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                         _ body: @escaping @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&count, &arguments, body)
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt
