// Fuzzes extract_layer: arbitrary bytes are extracted into a fresh folder, then the sandbox
// around it is checked: nothing written beside or above the target, no staging folder left
// behind, and no symlink in the result that leads outside it.
#include "fuzz_common.hpp"
#include "fuzz_sandbox.hpp"

#include "wbclient/image/layer_extractor.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fuzz::Sandbox sandbox("fuzz_layer_extractor");
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto files = sandbox.prepare({input});

    const wbclient::ExtractionLimits limits{.max_total_bytes = 1 << 20, .max_entries = 64};
    bool extracted = false;
    fuzz::expect_documented_errors(input, [&] {
        const auto result = wbclient::extract_layer(files.at(0), sandbox.target(), limits);
        if (result.bytes > limits.max_total_bytes || result.entries > limits.max_entries)
            fuzz::finding(sandbox.fuzzer, "extraction went past its limits");
        extracted = true;
    });
    sandbox.check(extracted, {input});
    sandbox.remove_tree(sandbox.jail());
    return 0;
}
