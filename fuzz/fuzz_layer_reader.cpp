// Fuzzes list_layer: a layer blob is whatever bytes the registry served, read with small
// limits so a decompression bomb is refused quickly.
#include "fuzz_common.hpp"

#include "wbclient/image/layer_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const wbclient::LayerLimits limits{.max_uncompressed_bytes = 1 << 20, .max_entries = 64};
    fuzz::expect_documented_errors(input, [&] {
        const auto listing = wbclient::list_layer(input, limits);
        if (listing.uncompressed_size > limits.max_uncompressed_bytes) std::abort();
        if (listing.entries.size() > limits.max_entries) std::abort();
        for (const auto& entry : listing.entries) (void)wbclient::describe(entry);
    });
    return 0;
}
