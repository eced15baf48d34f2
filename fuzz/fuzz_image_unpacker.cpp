// Fuzzes unpack_layers: the input is a stack of layers, separated by the line "--layer--"
// (so a seed is tars joined by it, and the fuzzer mutates both the tars and how many there
// are), unpacked into a fresh folder by the image-spec's whiteout rules; then the sandbox is
// checked as for extract_layer: nothing written beside or above the target (a whiteout that
// deletes outside it would show here), inputs untouched, no symlink leading outside.
#include "fuzz_common.hpp"
#include "fuzz_sandbox.hpp"

#include "wbclient/image/image_unpacker.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace {

constexpr std::string_view separator = "\n--layer--\n";
constexpr std::size_t max_layers = 4;

std::vector<std::string_view> split_layers(std::string_view input) {
    std::vector<std::string_view> layers;
    while (layers.size() + 1 < max_layers) {
        const std::size_t at = input.find(separator);
        if (at == std::string_view::npos) break;
        layers.push_back(input.substr(0, at));
        input.remove_prefix(at + separator.size());
    }
    layers.push_back(input);
    return layers;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fuzz::Sandbox sandbox("fuzz_image_unpacker");
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::vector<std::string_view> layers = split_layers(input);
    const auto files = sandbox.prepare(layers);

    const wbclient::ExtractionLimits limits{.max_total_bytes = 1 << 20, .max_entries = 128};
    bool unpacked = false;
    fuzz::expect_documented_errors(input, [&] {
        const auto result = wbclient::unpack_layers(files, sandbox.target(), limits);
        if (result.bytes > limits.max_total_bytes || result.entries > limits.max_entries)
            fuzz::finding(sandbox.fuzzer, "unpacking went past its limits");
        if (result.layers != layers.size()) fuzz::finding(sandbox.fuzzer, "a layer was left out");
        unpacked = true;
    });
    sandbox.check(unpacked, layers);
    sandbox.remove_tree(sandbox.jail());
    return 0;
}
